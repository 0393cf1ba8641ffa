//! One SMTP session for rsmtp: connect, (STARTTLS or implicit) TLS, AUTH,
//! pipelined envelope, streamed body, QUIT — with a redacted protocol trace and
//! errors that know their sysexits code.
//!
//! The crate never reads configuration files: the caller resolves an account
//! into a plain [`SessionSettings`] and an [`Envelope`], and hands over the
//! message as final CRLF bytes (not dot-stuffed; this crate dot-stuffs while
//! streaming, RFC 5321 §4.5.2, and sends any bare CR or LF as CRLF, §2.3.8).
//!
//! ```no_run
//! use rsmtp_smtp::{send, Envelope, NoTrace, SessionSettings, TlsMode};
//!
//! let mut settings = SessionSettings::new("mail.example.org", 587);
//! settings.tls = TlsMode::StartTls;
//! let envelope = Envelope::new("me@example.org", vec!["you@example.org".into()]);
//! let mut message: &[u8] = b"Subject: hi\r\n\r\nhello\r\n";
//! match send(&settings, &envelope, &mut message, &mut NoTrace) {
//!     Ok(delivered) => eprintln!("sent: {}", delivered.final_reply),
//!     Err(e) => eprintln!("rsmtp: {e} (exit {})", e.exit_code()),
//! }
//! ```
//!
//! Public API:
//! - [`send`]`(&SessionSettings, &Envelope, &mut dyn Read, &mut dyn Trace) -> Result<Delivered, SmtpError>`
//! - [`send_wire`]`(&SessionSettings, &Envelope, &WireMessage, &mut dyn Trace)`: the
//!   same for a body file already in wire form, copied with sendfile(2).
//! - [`server_info`]`(&SessionSettings, &mut dyn Trace) -> Result<ServerInfo, SmtpError>`
//!   (`-S/--serverinfo`; its `Display` prints like msmtp's).
//! - [`Trace`]: every line sent and received, AUTH payloads already redacted.
//! - [`SmtpError`]: [`SmtpError::kind`], [`SmtpError::exit_code`] (sysexits,
//!   following msmtp, with any 4xx → 75), [`SmtpError::is_transient`] (the queue
//!   keeps the message), [`SmtpError::smtp_status`] (for the log line).
//!
//! Exit codes ([`SmtpError::exit_code`], sysexits; checked against Debian's
//! msmtp 1.8.23 where noted):
//!
//! | error | code | transient | msmtp |
//! |---|---|---|---|
//! | any 4xx reply, 421 included (greeting … end of data, AUTH) | 75 EX_TEMPFAIL | yes | 69 (rsmtp's deliberate change) |
//! | cannot connect, timeout, connection lost (also mid-DATA); a reply not complete within `timeout`; the session limit passed | 75 EX_TEMPFAIL | yes | 75 / 74 |
//! | host name does not resolve | 68 EX_NOHOST | yes | 68 |
//! | 5xx to MAIL, RCPT, DATA; message over SIZE; bad address | 65 EX_DATAERR | no | 65 |
//! | 5xx after the body (end of data) | 69 EX_UNAVAILABLE | no | 69 |
//! | 5xx greeting, EHLO+HELO, STARTTLS; TLS or protocol error; port/TLS mismatch; a 2xx/3xx other than the step's success code (`221` to MAIL FROM) | 76 EX_PROTOCOL | no | 76 |
//! | certificate rejected, STARTTLS not offered, no usable AUTH method, DSN not offered | 69 EX_UNAVAILABLE | no | 69 |
//! | AUTH refused (any 5xx) | 77 EX_NOPERM | no | 77 |
//! | trust/CRL/client certificate/key file unreadable | 66 EX_NOINPUT | no | 66 |
//! | reading the message failed | 74 EX_IOERR | no | — |
//! | CR, LF or NUL in `domain`, `user`, `dsn_notify`, `dsn_return` (checked before connecting) | 78 EX_CONFIG | no | — (msmtp sends them, injecting commands) |
//!
//! Why our own socket loop and not lettre's transport: lettre supplies the
//! vocabulary (command wire forms, MAIL/RCPT parameters), this crate owns the I/O
//! (pipelining, streaming, TCP_NODELAY, certificate errors that say which check
//! failed, and a trace that never shows a secret). lettre's own connection writes the
//! final dot as a separate small write with Nagle on (msmtp's 40 ms per message),
//! cannot stream a body or pipeline, and its `tracing` feature logs AUTH in clear.
//! (`unsafe_code` is forbidden for the whole workspace in Cargo.toml.)

#![warn(missing_docs)]

mod auth;
mod body;
mod capabilities;
mod certinfo;
mod conn;
mod deadline;
mod error;
mod info;
mod mechanism;
mod reply;
mod scram;
mod session;
mod settings;
mod socks;
mod stream;
mod tls;
mod trace;
mod wire;

pub use body::WireMessage;
pub use capabilities::Capabilities;
pub use certinfo::CertInfo;
pub use deadline::TimedStream;
pub use error::{ErrorKind, SmtpError, Stage};
pub use info::{ServerInfo, TlsInfo};
pub use mechanism::Mechanism;
pub use reply::{to_response, Reply};
pub use session::{send, send_wire, server_info, Client};
pub use settings::{
    Auth, Credentials, Delivered, Envelope, Fingerprint, Proxy, Secret, SessionSettings, TlsMode,
    Trust, Verify, DEFAULT_GREETING_WAIT, SESSION_MIN_THROUGHPUT, SESSION_TIMEOUTS,
    SYSTEM_TRUST_FILE,
};
pub use trace::{NoTrace, Trace};
