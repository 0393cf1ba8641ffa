//! The byte stream of one connection: plain TCP or rustls over it, a read buffer that
//! hands out lines (so pipelined commands are taken one at a time, in order), and an
//! output buffer flushed before every read — the way RFC 2920 §3.2 lets a server batch
//! its replies to a pipelined group.
//!
//! Pipelining is detected by *batch*: the number of reply flushes before the read that
//! completed a line. Two commands in the same batch were both sent before the server
//! answered either, which only a pipelining client does.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::certs::subject_of;

enum Transport {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
    Closed,
}

/// One line as read, terminator included.
pub(crate) struct Line {
    pub bytes: Vec<u8>,
    /// Replies flushed before this line arrived (see the module docs).
    pub batch: u64,
}

impl Line {
    /// The line without its CRLF or LF.
    pub(crate) fn content(&self) -> &[u8] {
        let b = self.bytes.strip_suffix(b"\n").unwrap_or(&self.bytes);
        b.strip_suffix(b"\r").unwrap_or(b)
    }

    pub(crate) fn has_bare_lf(&self) -> bool {
        self.bytes.ends_with(b"\n") && !self.bytes.ends_with(b"\r\n")
    }
}

/// What the TLS handshake established.
pub(crate) struct TlsInfo {
    pub version: Option<String>,
    pub sni: Option<String>,
    pub client_subject: Option<String>,
}

pub(crate) struct Connection {
    transport: Transport,
    tcp: TcpStream,
    buf: Vec<u8>,
    start: usize,
    out: Vec<u8>,
    /// Non-empty flushes so far.
    flushes: u64,
    /// `flushes` at the latest read.
    batch: u64,
    /// Before the next flush, wait this long for more input first (see [`Connection::hold`]).
    hold: Option<std::time::Duration>,
    idle_timeout: Option<std::time::Duration>,
}

const READ_CHUNK: usize = 16 * 1024;

impl Connection {
    pub(crate) fn new(tcp: TcpStream) -> io::Result<Connection> {
        let handle = tcp.try_clone()?;
        Ok(Connection {
            idle_timeout: tcp.read_timeout()?,
            transport: Transport::Plain(tcp),
            tcp: handle,
            buf: Vec::new(),
            start: 0,
            out: Vec::new(),
            flushes: 0,
            batch: 0,
            hold: None,
        })
    }

    /// The raw socket (for timeouts and for discarding input while hanging).
    pub(crate) fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Queue bytes for the client.
    pub(crate) fn queue(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Send everything queued.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        self.flushes += 1;
        match &mut self.transport {
            Transport::Plain(s) => {
                s.write_all(&out)?;
                s.flush()
            }
            Transport::Tls(s) => {
                s.write_all(&out)?;
                s.flush()
            }
            Transport::Closed => Err(io::Error::new(io::ErrorKind::NotConnected, "closed")),
        }
    }

    /// Write raw bytes to the socket, bypassing TLS (for the broken-handshake fault).
    pub(crate) fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.flush()?;
        self.tcp.write_all(bytes)?;
        self.tcp.flush()
    }

    /// The next line, at most `max` bytes (a longer run without LF is returned in
    /// `max`-byte pieces). `None` at end of stream.
    ///
    /// Reads only happen when no complete line is buffered, so every line handed out was
    /// completed by the latest read and carries that read's batch number.
    pub(crate) fn read_line(&mut self, max: usize) -> io::Result<Option<Line>> {
        loop {
            let pending = &self.buf[self.start..];
            let cut = pending
                .iter()
                .position(|&b| b == b'\n')
                .map(|i| i + 1)
                .filter(|&n| n <= max)
                .or((pending.len() >= max).then_some(max));
            if let Some(n) = cut {
                let bytes = pending[..n].to_vec();
                self.start += n;
                if self.start == self.buf.len() {
                    self.buf.clear();
                    self.start = 0;
                }
                return Ok(Some(Line {
                    bytes,
                    batch: self.batch,
                }));
            }
            if self.fill()? == 0 {
                if self.start < self.buf.len() {
                    // A last line without LF: hand it out as is.
                    let bytes = self.buf[self.start..].to_vec();
                    self.buf.clear();
                    self.start = 0;
                    return Ok(Some(Line {
                        bytes,
                        batch: self.batch,
                    }));
                }
                return Ok(None);
            }
        }
    }

    /// Before the next flush, give the client `window` to send more commands: a client
    /// that pipelines sends them without waiting for the queued reply, so they land in the
    /// same batch even when it writes each command separately.
    pub(crate) fn hold(&mut self, window: std::time::Duration) {
        self.hold = Some(window);
    }

    /// Flush the replies, then one read from the socket into the buffer.
    fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if let Some(window) = self.hold.take().filter(|_| !self.out.is_empty()) {
            self.tcp.set_read_timeout(Some(window))?;
            let probe = self.read_chunk();
            self.tcp.set_read_timeout(self.idle_timeout)?;
            match probe {
                Ok(n) if n > 0 => return Ok(n),
                Ok(_) => {}
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut => {}
                Err(e) => return Err(e),
            }
        }
        self.flush()?;
        self.batch = self.flushes;
        self.read_chunk()
    }

    /// One read into the buffer.
    fn read_chunk(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; READ_CHUNK];
        let n = match &mut self.transport {
            Transport::Plain(s) => s.read(&mut chunk)?,
            Transport::Tls(s) => match s.read(&mut chunk) {
                // A client that closes without close_notify is common; treat as EOF.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
                other => other?,
            },
            Transport::Closed => 0,
        };
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Drop whatever the client sent that has not been read as a line yet; returns how many bytes.
    pub(crate) fn discard_buffered(&mut self) -> usize {
        let n = self.buf.len() - self.start;
        self.buf.clear();
        self.start = 0;
        n
    }

    /// Run the TLS handshake as the server on the plain socket.
    pub(crate) fn start_tls(&mut self, config: Arc<ServerConfig>) -> Result<TlsInfo, String> {
        if let Err(e) = self.flush() {
            return Err(format!("write before handshake failed: {e}"));
        }
        let Transport::Plain(mut tcp) = std::mem::replace(&mut self.transport, Transport::Closed)
        else {
            return Err("TLS is already active".to_string());
        };
        self.discard_buffered();
        let mut conn = ServerConnection::new(config).map_err(|e| e.to_string())?;
        while conn.is_handshaking() {
            match conn.complete_io(&mut tcp) {
                Ok((0, 0)) => return Err("connection closed during the TLS handshake".into()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        let info = TlsInfo {
            version: conn.protocol_version().map(|v| format!("{v:?}")),
            sni: conn.server_name().map(str::to_string),
            client_subject: conn
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(|c| subject_of(c.as_ref())),
        };
        self.transport = Transport::Tls(Box::new(StreamOwned::new(conn, tcp)));
        Ok(info)
    }

    /// The TLS version in use, if TLS is active.
    pub(crate) fn tls_version(&self) -> Option<rustls::ProtocolVersion> {
        match &self.transport {
            Transport::Tls(s) => s.conn.protocol_version(),
            _ => None,
        }
    }

    /// RFC 9266 `tls-exporter` channel binding of this TLS 1.3 session.
    pub(crate) fn tls_exporter(&self) -> Option<Vec<u8>> {
        let Transport::Tls(s) = &self.transport else {
            return None;
        };
        if s.conn.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
            return None;
        }
        let mut out = vec![0u8; 32];
        s.conn
            .export_keying_material(&mut out, b"EXPORTER-Channel-Binding", Some(b""))
            .ok()?;
        Some(out)
    }

    /// Send close_notify when in TLS (best effort).
    pub(crate) fn close(&mut self) {
        let _ = self.flush();
        if let Transport::Tls(s) = &mut self.transport {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
        self.transport = Transport::Closed;
    }
}
