//! SOCKS5 (RFC 1928) without authentication, as msmtp speaks it: the proxy
//! is asked for the server by *name* (ATYP 3, "domain name"), so nothing is
//! resolved locally and `.onion` relays through Tor work. TLS and the
//! certificate check then happen end to end with the real host name.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::deadline::{io_error, TimedStream};
use crate::error::{ErrorKind, SmtpError};
use crate::settings::Proxy;

const VERSION: u8 = 5;
const NO_AUTHENTICATION: u8 = 0;
const NO_ACCEPTABLE_METHOD: u8 = 0xFF;
const CONNECT: u8 = 1;
const ATYP_IPV4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_IPV6: u8 = 4;

/// RFC 1928 §6: the reply field in words.
pub(crate) fn reply_text(code: u8) -> &'static str {
    match code {
        0 => "succeeded",
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unassigned reply code",
    }
}

/// Asks the proxy on `stream` to connect to `host`:`port`, the whole exchange within
/// `limit`; on success the stream carries the SMTP session (its timeouts are set
/// back to `limit` per operation, which the session then manages).
pub(crate) fn connect(
    stream: &mut TcpStream,
    proxy: &Proxy,
    host: &str,
    port: u16,
    limit: Option<Duration>,
) -> Result<(), SmtpError> {
    // One deadline for the whole handshake: a proxy that trickles a byte every few
    // seconds keeps each read short, never the handshake.
    let mut handshake = TimedStream::new(stream, None, limit.map(|l| Instant::now() + l));
    handshake_with(&mut handshake, proxy, host, port)?;
    stream
        .set_read_timeout(limit)
        .and_then(|()| stream.set_write_timeout(limit))
        .map_err(|e| io_error(&e, "while setting up the socket"))
}

fn handshake_with(
    stream: &mut TimedStream<'_>,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<(), SmtpError> {
    let at = format!("SOCKS5 proxy {}, port {}", proxy.host, proxy.port);
    let name = host.as_bytes();
    let len = u8::try_from(name.len())
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            SmtpError::new(
                ErrorKind::InvalidSetting,
                format!("host name {host:?} cannot be sent to a SOCKS5 proxy (1 to 255 bytes)"),
            )
        })?;
    let io = |e: io::Error| io_error(&e, &format!("while talking to the {at}"));
    let not_socks = || {
        SmtpError::new(
            ErrorKind::Protocol,
            format!("the {at} does not speak SOCKS5"),
        )
    };
    stream
        .write_all(&[VERSION, 1, NO_AUTHENTICATION])
        .map_err(io)?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).map_err(io)?;
    match choice {
        [VERSION, NO_AUTHENTICATION] => {}
        [VERSION, NO_ACCEPTABLE_METHOD] | [VERSION, _] => {
            return Err(SmtpError::new(
                ErrorKind::Connect,
                format!("the {at} requires authentication, which rsmtp does not support"),
            ))
        }
        _ => return Err(not_socks()),
    }
    let mut request = vec![VERSION, CONNECT, 0, ATYP_DOMAIN, len];
    request.extend_from_slice(name);
    request.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&request).map_err(io)?;
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).map_err(io)?;
    if head[0] != VERSION {
        return Err(not_socks());
    }
    if head[1] != 0 {
        // Refusals a retry may cure are temporary; a ruleset, an unsupported
        // command or address type will say the same next time.
        let kind = match head[1] {
            2 | 7 | 8 => ErrorKind::ProxyRefused,
            _ => ErrorKind::Connect,
        };
        return Err(SmtpError::new(
            kind,
            format!(
                "the {at} cannot connect to {host}, port {port}: {} (SOCKS reply {})",
                reply_text(head[1]),
                head[1]
            ),
        ));
    }
    // The bound address, which we do not need: skip it.
    let rest = match head[3] {
        ATYP_IPV4 => 4 + 2,
        ATYP_IPV6 => 16 + 2,
        ATYP_DOMAIN => {
            let mut n = [0u8; 1];
            stream.read_exact(&mut n).map_err(io)?;
            usize::from(n[0]) + 2
        }
        _ => return Err(not_socks()),
    };
    let mut skip = vec![0u8; rest];
    stream.read_exact(&mut skip).map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// A one-shot proxy that answers with `reply` and returns what it was asked.
    fn proxy(reply: Vec<u8>) -> (u16, thread::JoinHandle<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut hello = [0u8; 3];
            s.read_exact(&mut hello).unwrap();
            s.write_all(&[5, 0]).unwrap();
            let mut req = [0u8; 5];
            s.read_exact(&mut req).unwrap();
            let mut rest = vec![0u8; usize::from(req[4]) + 2];
            s.read_exact(&mut rest).unwrap();
            s.write_all(&reply).unwrap();
            let mut all = req.to_vec();
            all.extend(rest);
            all
        });
        (port, h)
    }

    fn run(reply: Vec<u8>) -> (Result<(), SmtpError>, Vec<u8>) {
        let (port, h) = proxy(reply);
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let p = Proxy {
            host: "127.0.0.1".into(),
            port,
        };
        let r = connect(
            &mut s,
            &p,
            "mail.example.onion",
            587,
            Some(Duration::from_secs(10)),
        );
        (r, h.join().unwrap())
    }

    #[test]
    fn asks_for_the_name_and_skips_the_bound_address() {
        let (r, asked) = run(vec![5, 0, 0, 1, 10, 0, 0, 1, 0, 25]);
        r.unwrap();
        let mut want = vec![5, 1, 0, 3, 18];
        want.extend_from_slice(b"mail.example.onion");
        want.extend_from_slice(&587u16.to_be_bytes());
        assert_eq!(asked, want);
    }

    #[test]
    fn refusals_are_named() {
        let (r, _) = run(vec![5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
        let e = r.unwrap_err();
        assert_eq!((e.kind(), e.exit_code().code()), (&ErrorKind::Connect, 75));
        assert!(
            e.to_string().contains("connection refused (SOCKS reply 5)"),
            "{e}"
        );
        let (r, _) = run(vec![5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
        let e = r.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::ProxyRefused);
        assert!(e.to_string().contains("not allowed by ruleset"), "{e}");
        assert!(e.to_string().contains("SOCKS5 proxy 127.0.0.1"), "{e}");
    }
}
