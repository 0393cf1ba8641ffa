//! A sink for the bulk rows of benches/bulk.py: an SMTP server that reads message
//! data as fast as the machine lets it (1 MiB reads, the terminator found with
//! memmem), over plain TCP or implicit TLS (rustls, the test CA), so neither the
//! Python sink's TLS nor Postfix's smtp-sink (about 120 MB/s) is what is measured.
//!
//!     cargo run --release -p rsmtp-testserver --example bench_sink -- PORT [--tls DIR]
//!
//! With `--tls DIR` the test CA and certificate are written to DIR (the client's
//! trust file is DIR/ca.pem) and every connection is TLS from its first byte. It
//! offers PIPELINING, 8BITMIME and AUTH PLAIN LOGIN (anything is accepted),
//! answers pipelined commands in order, and prints "ready" once listening.
//! A benchmark tool, not a test peer: no limits, no record of what it received.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line benchmark peer: \"ready\" and its errors are its interface"
)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;

use rsmtp_testserver::{LeafKind, TestCa};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

const CHUNK: usize = 1 << 20;

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args
        .first()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| io::Error::other("usage: bench_sink PORT [--tls DIR]"))?;
    let tls = match args.get(1).map(String::as_str) {
        Some("--tls") => {
            let dir = PathBuf::from(args.get(2).ok_or_else(|| io::Error::other("--tls DIR"))?);
            let ca = TestCa::new_in(&dir)?;
            let leaf = ca.leaf(LeafKind::Valid);
            let config = ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![leaf.cert_der().clone()], leaf.key_der())
            .map_err(io::Error::other)?;
            Some(Arc::new(config))
        }
        _ => None,
    };
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!("ready");
    io::stdout().flush()?;
    for conn in listener.incoming() {
        let conn = conn?;
        let tls = tls.clone();
        std::thread::spawn(move || {
            // A client that goes away mid-session is the client's business.
            let _ = serve(conn, tls);
        });
    }
    Ok(())
}

fn serve(conn: TcpStream, tls: Option<Arc<ServerConfig>>) -> io::Result<()> {
    conn.set_nodelay(true)?;
    match tls {
        None => session(conn),
        Some(config) => {
            let server = ServerConnection::new(config).map_err(io::Error::other)?;
            session(StreamOwned::new(server, conn))
        }
    }
}

fn session<S: Read + Write>(stream: S) -> io::Result<()> {
    let mut io = BufReader::with_capacity(CHUNK, stream);
    reply(&mut io, "220 bench sink ESMTP\r\n")?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if io.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
        match &verb[..] {
            b"EHLO" => reply(
                &mut io,
                "250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n",
            )?,
            b"AUTH" => {
                let words = line
                    .split(|b| b.is_ascii_whitespace())
                    .filter(|w| !w.is_empty());
                if words.count() < 3 {
                    reply(&mut io, "334 \r\n")?;
                    io.read_until(b'\n', &mut Vec::new())?;
                    if line.to_ascii_uppercase().starts_with(b"AUTH LOGIN") {
                        reply(&mut io, "334 UGFzc3dvcmQ6\r\n")?;
                        io.read_until(b'\n', &mut Vec::new())?;
                    }
                }
                reply(&mut io, "235 2.7.0 ok\r\n")?;
            }
            b"DATA" => {
                reply(&mut io, "354 go\r\n")?;
                data(&mut io)?;
                reply(&mut io, "250 2.0.0 ok\r\n")?;
            }
            b"QUIT" => return reply(&mut io, "221 bye\r\n"),
            _ => reply(&mut io, "250 ok\r\n")?,
        }
    }
}

/// Reads and drops message data up to and including the `.` line.
fn data<S: Read>(io: &mut BufReader<S>) -> io::Result<()> {
    let finder = memchr::memmem::Finder::new(b"\r\n.\r\n");
    // The last bytes seen, so a terminator split between reads is found; it starts
    // as a line end because the data itself starts a line.
    let mut carry = b"\r\n".to_vec();
    loop {
        let buf = io.fill_buf()?;
        if buf.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let mut joined = std::mem::take(&mut carry);
        let seam = joined.len();
        joined.extend_from_slice(&buf[..buf.len().min(4)]);
        if let Some(i) = finder.find(&joined) {
            io.consume(i + 5 - seam);
            return Ok(());
        }
        if let Some(i) = finder.find(buf) {
            io.consume(i + 5);
            return Ok(());
        }
        let n = buf.len();
        carry = if n >= 4 {
            buf[n - 4..].to_vec()
        } else {
            // All of `buf` is in `joined` already.
            joined[joined.len().saturating_sub(4)..].to_vec()
        };
        io.consume(n);
    }
}

fn reply<S: Read + Write>(io: &mut BufReader<S>, text: &str) -> io::Result<()> {
    let stream = io.get_mut();
    stream.write_all(text.as_bytes())?;
    stream.flush()
}
