//! The socket: TCP connect (source address, timeout, TCP_NODELAY), plain or
//! TLS transport, bounded line reading, and one write per batch of commands.
//! I/O errors become [`SmtpError`]s here, so a timeout, a reset and a TLS
//! alert are told apart in one place.
//!
//! Time limits are deadlines, not per-read timeouts: a server trickling one
//! byte a second would otherwise reset a per-read timeout forever. Each reply
//! must be complete within the account `timeout` of starting to wait for it,
//! and everything (reads, writes, the TLS handshake) stops at the session
//! deadline ([`SessionSettings::session_limit`]). Before every read and
//! write the socket timeout is set to what is left.

use rsmtp_core::tr;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{ClientConfig, ClientConnection};
use socket2::{Domain, Protocol, Socket, Type};

use crate::deadline::{describe, earliest, io_error, time_left};
use crate::error::{ErrorKind, SmtpError};
use crate::reply::{Reply, ReplyParser, MAX_LINE};
use crate::settings::{SessionSettings, SESSION_MIN_THROUGHPUT, SESSION_TIMEOUTS};
use crate::socks;
use crate::stream::Stream;
use crate::tls::{self, TlsStream};
use crate::trace::Trace;
use crate::wire::Command;

/// The plain stream, or TLS over it.
enum Transport {
    Plain(Stream),
    Tls(Box<TlsStream>),
}

impl Transport {
    fn tcp(&self) -> &Stream {
        match self {
            Transport::Plain(s) => s,
            Transport::Tls(s) => &s.sock,
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.read(buf),
            Transport::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.write(buf),
            Transport::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(s) => s.flush(),
            Transport::Tls(s) => s.flush(),
        }
    }
}

/// What the first read on a fresh plain connection saw.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FirstBytes {
    /// Bytes arrived (they are buffered).
    Data,
    /// Nothing within the wait.
    Silent,
    /// The server closed the connection.
    Closed,
}

/// One connection to the server.
pub(crate) struct Conn {
    transport: Transport,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    peer: Option<SocketAddr>,
    limits: Limits,
}

/// The time limits of a connection (all `None` when `timeout` is off).
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// The longest wait for one complete reply, and for one write.
    reply_wait: Option<Duration>,
    /// Nothing is read or written after this.
    session_deadline: Option<Instant>,
    /// How long the session was given (for messages).
    session_limit: Option<Duration>,
    /// When the current read must be done (set per reply).
    read_deadline: Option<Instant>,
}

/// Which time limit stopped a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expired {
    /// The reply was not complete within the account timeout.
    Reply(Duration),
    /// The session limit passed.
    Session,
}

/// A failed lookup, split as msmtp's users need it: a name that does not exist is
/// permanent (EX_NOHOST, never queued for days), a resolver that did not answer is
/// temporary (EX_TEMPFAIL). std reports getaddrinfo's result only as
/// `gai_strerror` text (the C locale's, as Rust never calls setlocale), so the
/// temporary codes are recognised by it: `EAI_AGAIN` "Temporary failure in name
/// resolution" and `EAI_FAIL` "Non-recoverable failure in name resolution" (a
/// SERVFAIL); `EAI_NONAME`/`EAI_NODATA` and anything else mean no such host.
fn resolve_error(host: &str, e: io::Error) -> SmtpError {
    let text = e.to_string();
    let detail = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text)
        .to_string();
    let temporary = [
        "Temporary failure",
        "Non-recoverable failure",
        "System error",
    ]
    .iter()
    .any(|t| detail.starts_with(t));
    let kind = if temporary {
        ErrorKind::ResolverUnavailable
    } else {
        ErrorKind::HostNotFound
    };
    let detail = match detail.as_str() {
        "Name or service not known" => tr!("Name or service not known").into_owned(),
        "Temporary failure in name resolution" => {
            tr!("Temporary failure in name resolution").into_owned()
        }
        "No address associated with hostname" => {
            tr!("No address associated with hostname").into_owned()
        }
        _ => detail,
    };
    SmtpError::new(
        kind,
        tr!(
            "cannot locate host {host}: {reason}",
            host = host,
            reason = detail
        ),
    )
    .with_source(e)
}

impl Conn {
    /// Resolves the host and connects to the first address that answers;
    /// nothing is read or written once `session_limit` (from now) has passed.
    pub(crate) fn connect(
        settings: &SessionSettings,
        session_limit: Option<Duration>,
        trace: &mut dyn Trace,
    ) -> Result<Conn, SmtpError> {
        let session_deadline = session_limit.map(|l| Instant::now() + l);
        let limits = Limits {
            reply_wait: settings.timeout,
            session_deadline,
            session_limit,
            read_deadline: None,
        };
        if let Some(path) = &settings.socket {
            trace.note(&format!("connecting to unix socket {}", path.display()));
            let unix = UnixStream::connect(path).map_err(|e| {
                SmtpError::new(
                    ErrorKind::Connect,
                    tr!(
                        "cannot connect to {host}: {reason}",
                        host = path.display(),
                        reason = describe(&e)
                    ),
                )
                .with_source(e)
            })?;
            unix.set_read_timeout(settings.timeout)
                .and_then(|()| unix.set_write_timeout(settings.timeout))
                .map_err(|e| io_error(&e, "while setting up the socket"))?;
            return Ok(Conn::over(Stream::Unix(unix), None, limits));
        }
        let (host, port) = match &settings.proxy {
            Some(proxy) => (proxy.host.as_str(), proxy.port),
            None => (settings.host.as_str(), settings.port),
        };
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| resolve_error(host, e))?
            .filter(|a| {
                settings
                    .source_ip
                    .is_none_or(|ip| ip.is_ipv4() == a.is_ipv4())
            })
            .collect();
        if addrs.is_empty() {
            return Err(SmtpError::new(
                ErrorKind::HostNotFound,
                tr!(
                    "cannot locate host {host}: {reason}",
                    host = host,
                    reason = tr!("no usable address")
                ),
            ));
        }
        let mut last: Option<io::Error> = None;
        for addr in addrs {
            trace.note(&format!("connecting to {addr}"));
            match connect_one(addr, settings) {
                Ok(tcp) => {
                    tcp.set_nodelay(true)
                        .and_then(|()| tcp.set_read_timeout(settings.timeout))
                        .and_then(|()| tcp.set_write_timeout(settings.timeout))
                        .map_err(|e| io_error(&e, "while setting up the socket"))?;
                    let mut tcp = tcp;
                    if let Some(proxy) = &settings.proxy {
                        trace.note(&format!(
                            "asking the SOCKS5 proxy for {}, port {}",
                            settings.host, settings.port
                        ));
                        socks::connect(
                            &mut tcp,
                            proxy,
                            &settings.host,
                            settings.port,
                            settings.timeout,
                        )?;
                        return Ok(Conn::over(Stream::Tcp(tcp), None, limits));
                    }
                    return Ok(Conn::over(Stream::Tcp(tcp), Some(addr), limits));
                }
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or_else(|| io::Error::other("no address"));
        let kind = match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ErrorKind::Timeout,
            _ => ErrorKind::Connect,
        };
        let what = if settings.proxy.is_some() {
            "the SOCKS5 proxy "
        } else {
            ""
        };
        Err(SmtpError::new(
            kind,
            if what.is_empty() {
                tr!(
                    "cannot connect to {host}, port {port}: {reason}",
                    host = host,
                    port = port,
                    reason = describe(&e)
                )
            } else {
                tr!(
                    "cannot connect to the SOCKS5 proxy {host}, port {port}: {reason}",
                    host = host,
                    port = port,
                    reason = describe(&e)
                )
            },
        )
        .with_source(e))
    }

    fn over(stream: Stream, peer: Option<SocketAddr>, limits: Limits) -> Conn {
        Conn {
            transport: Transport::Plain(stream),
            buf: vec![0; 2 * MAX_LINE],
            start: 0,
            end: 0,
            peer,
            limits,
        }
    }

    /// The address we are connected to.
    pub(crate) fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The TLS session, once TLS is active.
    pub(crate) fn tls(&self) -> Option<&ClientConnection> {
        match &self.transport {
            Transport::Tls(s) => Some(&s.conn),
            Transport::Plain(_) => None,
        }
    }

    /// True if the server sent bytes we have not consumed yet.
    pub(crate) fn has_buffered(&self) -> bool {
        self.start < self.end
    }

    /// The unconsumed bytes (at most `n`).
    pub(crate) fn buffered(&self, n: usize) -> &[u8] {
        &self.buf[self.start..self.end.min(self.start + n)]
    }

    /// On a plain connection, waits up to `wait` for the first bytes.
    pub(crate) fn wait_first_bytes(&mut self, wait: Duration) -> Result<FirstBytes, SmtpError> {
        if self.has_buffered() {
            return Ok(FirstBytes::Data);
        }
        let wait = wait.max(Duration::from_millis(1));
        self.limits.read_deadline =
            earliest(Some(Instant::now() + wait), self.limits.session_deadline);
        let result = self.fill();
        match result {
            Ok(0) => Ok(FirstBytes::Closed),
            Ok(_) => Ok(FirstBytes::Data),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(FirstBytes::Silent)
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::ConnectionReset) => Ok(FirstBytes::Closed),
            Err(e) => Err(io_error(&e, "while waiting for the greeting")),
        }
    }

    /// Reads more bytes into the buffer; returns 0 at end of stream, a
    /// `TimedOut` error once the read deadline has passed.
    fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let left = time_left(self.limits.read_deadline)?;
        self.transport.tcp().set_read_timeout(left)?;
        loop {
            match self.transport.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// One line without its CRLF (or bare LF), at most [`MAX_LINE`] bytes.
    fn read_line(&mut self) -> Result<Vec<u8>, SmtpError> {
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                let mut line = pending[..pos].to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.start += pos + 1;
                return Ok(line);
            }
            if pending.len() >= MAX_LINE {
                return Err(SmtpError::new(
                    ErrorKind::Protocol,
                    format!("the server sent a reply line longer than {MAX_LINE} bytes"),
                ));
            }
            match self.fill() {
                Ok(0) => {
                    return Err(SmtpError::new(
                        ErrorKind::Io,
                        "the server closed the connection unexpectedly",
                    ))
                }
                Ok(_) => {}
                Err(e) => return Err(io_error(&e, "while waiting for the server's reply")),
            }
        }
    }

    /// Reads one complete (possibly multi-line) reply, tracing each line.
    /// The whole reply must arrive within the reply wait (and before the
    /// session deadline), however the server spreads its bytes.
    pub(crate) fn read_reply(&mut self, trace: &mut dyn Trace) -> Result<Reply, SmtpError> {
        self.limits.read_deadline = earliest(
            self.limits.reply_wait.map(|w| Instant::now() + w),
            self.limits.session_deadline,
        );
        let mut parser = ReplyParser::default();
        loop {
            let line = self.read_line()?;
            trace.received(&String::from_utf8_lossy(&line));
            match parser.push(&line) {
                Ok(Some(reply)) => return Ok(reply),
                Ok(None) => {}
                Err(e) => return Err(SmtpError::new(ErrorKind::Protocol, e.to_string())),
            }
        }
    }

    /// Sends `commands` in one write (RFC 2920 §3.1 when more than one),
    /// tracing each as shown (redacted).
    pub(crate) fn send(
        &mut self,
        commands: &[Command],
        trace: &mut dyn Trace,
    ) -> Result<(), SmtpError> {
        let mut bytes = Vec::new();
        for c in commands {
            trace.sent(c.shown());
            bytes.extend_from_slice(c.wire());
        }
        self.write_raw(&bytes)
    }

    /// Which limit a read that timed out ran into.
    pub(crate) fn expired(&self) -> Expired {
        match (self.limits.session_deadline, self.limits.reply_wait) {
            (Some(d), _) if Instant::now() >= d => Expired::Session,
            (_, Some(wait)) => Expired::Reply(wait),
            (Some(_), None) | (None, None) => Expired::Session,
        }
    }

    /// The error for `e`, met while `doing` something: past the session
    /// deadline, a sentence naming the session limit, else [`io_error`].
    pub(crate) fn limit_error(&self, e: &io::Error, doing: &str) -> SmtpError {
        let timed_out = matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        );
        if !(timed_out && self.expired() == Expired::Session) {
            return io_error(e, &format!("while {doing}"));
        }
        let limit = self.limits.session_limit.unwrap_or_default();
        SmtpError::new(
            ErrorKind::Timeout,
            format!(
                "timeout: the session took longer than its limit of {} s (timeout × \
                 {SESSION_TIMEOUTS} + the message at {} KiB/s) while {doing}",
                limit.as_secs_f64(),
                SESSION_MIN_THROUGHPUT / 1024
            ),
        )
    }

    /// Writes bytes as they are and flushes.
    pub(crate) fn write_raw(&mut self, bytes: &[u8]) -> Result<(), SmtpError> {
        let mut w = self.writer();
        let written = w.write_all(bytes).and_then(|()| w.flush());
        written.map_err(|e| self.limit_error(&e, "sending to the server"))
    }

    /// The writer for commands and the body: each write waits at most the
    /// reply wait, and none starts after the session deadline.
    pub(crate) fn writer(&mut self) -> DeadlineWriter<'_> {
        DeadlineWriter { conn: self }
    }

    /// Sets the socket's write timeout to what is left of the reply wait and
    /// the session (an error once the session deadline has passed).
    pub(crate) fn arm_write(&self) -> io::Result<()> {
        let limits = self.limits;
        let left = time_left(limits.session_deadline)?;
        let wait = match (left, limits.reply_wait) {
            (Some(l), Some(w)) => Some(l.min(w)),
            (l, w) => l.or(w),
        };
        self.transport.tcp().set_write_timeout(wait)
    }

    /// The socket itself when no TLS is between it and us (for sendfile).
    pub(crate) fn plain_socket(&self) -> Option<&Stream> {
        match &self.transport {
            Transport::Plain(s) => Some(s),
            Transport::Tls(_) => None,
        }
    }

    /// TCP_CORK on the socket under the transport (see [`Stream::cork`]).
    pub(crate) fn cork(&self, on: bool) {
        self.transport.tcp().cork(on);
    }

    /// Upgrades a plain connection to TLS (after `220` to STARTTLS, or at
    /// once for implicit TLS).
    pub(crate) fn start_tls(
        self,
        config: Arc<ClientConfig>,
        settings: &SessionSettings,
        implicit: bool,
    ) -> Result<Conn, SmtpError> {
        let Transport::Plain(tcp) = self.transport else {
            return Err(SmtpError::new(ErrorKind::Protocol, "TLS is already active"));
        };
        let deadline = earliest(
            self.limits.reply_wait.map(|w| Instant::now() + w),
            self.limits.session_deadline,
        );
        let stream = tls::handshake(tcp, config, settings, implicit, deadline)?;
        Ok(Conn {
            transport: Transport::Tls(Box::new(stream)),
            buf: self.buf,
            start: 0,
            end: 0,
            peer: self.peer,
            limits: self.limits,
        })
    }

    /// Starts a new session limit from now, for the next message of a session
    /// that sends several: each message gets the time one session would have.
    pub(crate) fn renew_session_limit(&mut self, session_limit: Option<Duration>) {
        self.limits.session_limit = session_limit;
        self.limits.session_deadline = session_limit.map(|l| Instant::now() + l);
    }

    /// Ends the connection: TLS close_notify if TLS is active, then TCP shutdown.
    pub(crate) fn close(mut self) {
        if let Transport::Tls(s) = &mut self.transport {
            s.conn.send_close_notify();
            // Best effort: the peer may already be gone.
            let _ = s.conn.complete_io(&mut s.sock);
        }
        let _ = self.transport.tcp().shutdown();
    }
}

/// See [`Conn::writer`].
pub(crate) struct DeadlineWriter<'a> {
    conn: &'a mut Conn,
}

impl DeadlineWriter<'_> {
    fn arm(&mut self) -> io::Result<()> {
        self.conn.arm_write()
    }
}

impl Write for DeadlineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        self.conn.transport.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.arm()?;
        self.conn.transport.flush()
    }
}

fn connect_one(addr: SocketAddr, settings: &SessionSettings) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if let Some(ip) = settings.source_ip {
        socket.bind(&SocketAddr::new(ip, 0).into())?;
    }
    match settings.timeout {
        Some(t) => socket.connect_timeout(&addr.into(), t)?,
        None => socket.connect(&addr.into())?,
    }
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{NoTrace, Recorded};
    use std::net::{Shutdown, TcpListener};
    use std::thread;

    /// A connection to a loopback server that writes `script` and then
    /// keeps the socket open until the returned handle is joined.
    fn conn_to(script: Vec<u8>) -> (Conn, thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            // The client may hang up before reading everything (the huge reply
            // test does): a reset here is expected, not a failure.
            let _ = s.write_all(&script);
            let _ = s.shutdown(Shutdown::Write);
            let mut got = Vec::new();
            let _ = s.read_to_end(&mut got);
            got
        });
        let mut settings = SessionSettings::new("127.0.0.1", port);
        settings.timeout = Some(Duration::from_secs(5));
        (
            Conn::connect(&settings, None, &mut NoTrace).unwrap(),
            server,
        )
    }

    #[test]
    fn reads_replies_and_traces_lines() {
        let (mut c, server) = conn_to(b"220 hi\r\n250-a\r\n250 b\r\n".to_vec());
        let mut t = Recorded::default();
        assert_eq!(c.read_reply(&mut t).unwrap().code(), 220);
        assert_eq!(c.read_reply(&mut t).unwrap().lines(), ["a", "b"]);
        assert_eq!(t.0, ["<-- 220 hi", "<-- 250-a", "<-- 250 b"]);
        let e = c.read_reply(&mut t).unwrap_err();
        assert_eq!((e.kind(), e.is_transient()), (&ErrorKind::Io, true));
        c.send(&[Command::quit()], &mut t).unwrap();
        c.close();
        assert_eq!(server.join().unwrap(), b"QUIT\r\n");
    }

    #[test]
    fn huge_reply_line_is_a_protocol_error() {
        let mut script = b"220 ".to_vec();
        script.extend(std::iter::repeat_n(b'x', 100_000));
        script.extend_from_slice(b"\r\n");
        let (mut c, server) = conn_to(script);
        let e = c.read_reply(&mut NoTrace).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Protocol);
        assert!(e.to_string().contains("longer than"), "{e}");
        c.close();
        server.join().unwrap();
    }

    #[test]
    fn refused_connection_is_transient() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut settings = SessionSettings::new("127.0.0.1", port);
        settings.timeout = Some(Duration::from_secs(5));
        let e = Conn::connect(&settings, None, &mut NoTrace).err().unwrap();
        assert_eq!(
            (e.kind(), e.exit_code().code(), e.is_transient()),
            (&ErrorKind::Connect, 75, true)
        );
        // msmtp's wording: strerror, without Rust's "(os error 111)".
        assert_eq!(
            e.to_string(),
            format!("cannot connect to 127.0.0.1, port {port}: Connection refused")
        );
    }

    #[test]
    fn unknown_host() {
        let settings = SessionSettings::new("no-such-host.invalid", 25);
        let e = Conn::connect(&settings, None, &mut NoTrace).err().unwrap();
        assert_eq!(
            (e.kind(), e.exit_code().code()),
            (&ErrorKind::HostNotFound, 68)
        );
    }
}
