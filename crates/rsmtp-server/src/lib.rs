//! The server side of SMTP (RFC 5321), written once for every face rsmtp shows a
//! client: `sendmail -bs` on stdin/stdout, `rsmtpd --inetd` and each connection of the
//! msmtpd-compatible listener.
//!
//! [`serve`] runs one session over any reader and writer. It parses commands with a
//! bounded line length ([`Limits`]), answers them in order (a pipelining client may send
//! everything at once: replies are buffered and flushed whenever no more input is
//! waiting), spools each message body to an anonymous temporary file with dot-stuffing
//! removed and a size limit, and hands the envelope and the file to a [`Deliver`]
//! implementation — the caller decides what "delivered" means (a relay session, the
//! queue, a command). The reply [`Deliver::deliver`] returns is what the client gets
//! after the final dot, so a 250 means exactly what the deliverer says it means.
//!
//! AUTH PLAIN and LOGIN (RFC 4954, RFC 4616) are offered when an [`Authenticator`] is
//! configured; the session never sees a stored password, only asks the authenticator,
//! and never writes credentials anywhere. Each failure is answered after a delay.
//!
//! This crate never prints and never exits; how a session ended is a [`SessionEnd`] or
//! a typed [`ServerError`].

#![warn(missing_docs)]

mod anvil;
mod auth;
mod command;
mod error;
mod line;
mod session;

pub use anvil::{AuthThrottle, SpoolBudget, FORGET_AFTER, MAX_AUTH_DELAY};
pub use auth::Authenticator;
pub use command::{Command, MailParams};
pub use error::ServerError;
pub use rsmtp_core::{Envelope, Reply};
pub use session::{serve, Client, Deliver, Limits, Mail, SessionConfig, SessionEnd};

#[cfg(test)]
mod tests;
