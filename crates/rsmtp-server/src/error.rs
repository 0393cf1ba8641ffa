//! How a session can end badly. Each variant is a condition the listener logs and the
//! `-bs` caller turns into an exit code; none carries what the client sent.

/// A session that ended without QUIT.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Reading from or writing to the client failed.
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    /// The client sent nothing for the per-command timeout.
    #[error("the client sent nothing for too long; connection closed")]
    Timeout,
    /// The client closed the connection in the middle of a message.
    #[error("the client closed the connection during DATA; message discarded")]
    EofInData,
    /// A command line longer than [`Limits::max_command_line`](crate::Limits).
    #[error("command line longer than {limit} bytes; connection closed")]
    LineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A message larger than [`Limits::max_message_size`](crate::Limits).
    #[error("message larger than {limit} bytes; connection closed")]
    MessageTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Too many unknown or out-of-sequence commands.
    #[error("too many bad commands; connection closed")]
    TooManyErrors,
    /// Too many failed AUTH attempts.
    #[error("too many failed authentication attempts; connection closed")]
    TooManyAuthFailures,
    /// An HTTP request or a header line arrived as a command: another protocol is
    /// talking to the port (a browser's cross-protocol POST); the session was ended.
    #[error("the client spoke another protocol (HTTP or header lines); connection closed")]
    ForeignProtocol,
    /// The spool file for a message could not be created or written.
    #[error("cannot spool the message: {0}")]
    Spool(#[source] std::io::Error),
}
