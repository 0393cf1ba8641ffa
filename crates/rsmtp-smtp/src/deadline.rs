//! Time limits as deadlines, and I/O errors in a session's words: what the
//! connection, the SOCKS5 handshake and the TLS handshake share.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::error::{ErrorKind, SmtpError};

/// The earlier of two optional instants.
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What is left until `deadline`, or a timeout error if nothing is.
pub(crate) fn time_left(deadline: Option<Instant>) -> io::Result<Option<Duration>> {
    match deadline {
        None => Ok(None),
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"))
            } else {
                Ok(Some(left))
            }
        }
    }
}

/// The system's description of an I/O error, worded as msmtp (strerror) words it:
/// `Connection refused`.
pub(crate) fn describe(e: &io::Error) -> String {
    rsmtp_core::strerror(e)
}

/// Maps an I/O error to a session error; `context` completes "timeout …" /
/// "connection lost …" (e.g. "while waiting for the server's reply").
pub(crate) fn io_error(e: &io::Error, context: &str) -> SmtpError {
    if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return SmtpError::new(ErrorKind::Tls, format!("TLS error {context}: {tls}"));
    }
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            SmtpError::new(ErrorKind::Timeout, format!("timeout {context}"))
        }
        io::ErrorKind::UnexpectedEof => SmtpError::new(
            ErrorKind::Io,
            format!("the server closed the connection {context}"),
        ),
        _ => SmtpError::new(
            ErrorKind::Io,
            format!("connection lost {context}: {}", describe(e)),
        ),
    }
}

/// A TCP stream whose every read and write waits at most `per_op` and never past
/// `deadline`: a peer that trickles one byte at a time keeps each operation short but
/// cannot stretch the whole exchange. The SOCKS5 handshake (one deadline, no per-op
/// bound of its own) and the listener's sessions (`--timeout` per read within
/// `--session-timeout`) both go through it.
#[derive(Debug, Clone, Copy)]
pub struct TimedStream<'a> {
    stream: &'a TcpStream,
    per_op: Option<Duration>,
    deadline: Option<Instant>,
}

impl<'a> TimedStream<'a> {
    /// `stream` with at most `per_op` per operation (`None`: no per-operation bound)
    /// and nothing after `deadline` (`None`: no deadline).
    pub fn new(
        stream: &'a TcpStream,
        per_op: Option<Duration>,
        deadline: Option<Instant>,
    ) -> TimedStream<'a> {
        TimedStream {
            stream,
            per_op,
            deadline,
        }
    }

    /// The time the next operation may take; `TimedOut` once the deadline passed.
    fn limit(&self) -> io::Result<Option<Duration>> {
        let left = time_left(self.deadline)?;
        Ok(match (left, self.per_op) {
            (Some(left), Some(per_op)) => Some(left.min(per_op)),
            (left, per_op) => left.or(per_op),
        })
    }
}

impl Read for TimedStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(self.limit()?)?;
        self.stream.read(buf)
    }
}

impl Write for TimedStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(self.limit()?)?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}
