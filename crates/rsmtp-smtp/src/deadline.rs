//! Time limits as deadlines, and I/O errors in a session's words: what the
//! connection, the SOCKS5 handshake and the TLS handshake share.

use std::io;
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
