//! rsmtp's delivery path as a library: one [`Delivery`] (what to send, with which
//! account settings) plus the msmtprc files → a delivered, or durably queued, message,
//! with msmtp's log line and exit codes. The `rsmtp` binary (sendmail mode, `-bs`, the
//! listener, the queue commands) and `backup-alert` both go through it, so an alert
//! uses the same config files, accounts, queue and log as any other message. It knows
//! nothing of clap, the terminal or the listener: a password prompt is handed in
//! through the [`Ui`](ui::Ui) ([`ui::AskPassword`]).
//!
//! The way of one message, top to bottom (each room imports only those below it):
//! [`send`] (sendmail mode's decisions) → [`prepare`] (stdin → spool → the resolved
//! account, the envelope and the final bytes) → [`attempt`] (one SMTP session and its
//! log record) or [`queued`] (kept in the queue) and [`background`] (the retrier
//! started); [`flush`] delivers queued entries through a [`courier`]. Underneath:
//! [`account`] (msmtprc → account → session settings), [`oauth`] (tokens),
//! [`keyring`], [`log`] (msmtp's log line), [`ui`] (the one place output goes),
//! [`failure`] (a message and an [`ExitCode`]).

#![warn(missing_docs)]

use std::io::{Read, Write};

pub mod account;
pub mod attempt;
pub mod background;
pub mod courier;
pub mod delivery;
pub mod exit;
pub mod failure;
pub mod flush;
pub mod keyring;
pub mod locale;
pub mod log;
pub mod oauth;
pub mod prepare;
pub mod queued;
pub mod send;
pub mod ui;

pub use delivery::Delivery;
pub use exit::ExitCode;
pub use failure::Failure;
/// The SMTP layer, for callers that look at a [`Failure`]'s typed cause.
pub use rsmtp_smtp as smtp;

use ui::Ui;

/// What happened to a submitted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server accepted it.
    Delivered,
    /// Kept in the durable queue (fallback after a temporary failure, or `queue always`).
    Queued {
        /// The queue entry's id (`rsmtp --queue-retry=ID`).
        id: String,
    },
}

/// Deliver one message read from `message` (raw, LF or CRLF lines), as a library
/// caller (backup-alert) asks: `delivery` names the msmtprc, account, envelope and
/// recipients as the sendmail command line would. Warnings meant for the user
/// (queued, log not writable) go to `warnings`; a failure says what went wrong in
/// [`Failure::sentence`] and carries its exit code and typed cause.
pub fn submit(
    delivery: &Delivery,
    message: &mut dyn Read,
    warnings: &mut dyn Write,
) -> Result<Outcome, Failure> {
    // `-f 'Name <a@x.org>'` names a@x.org, as on the command line.
    let delivery = Delivery {
        envelope_from: delivery
            .envelope_from
            .as_deref()
            .map(rsmtp_message::envelope_address),
        ..delivery.clone()
    };
    // Without -d nothing of the send path reaches stdout but a `logfile -` line, which
    // goes where msmtp would write it.
    let mut out = std::io::stdout();
    let mut ui = Ui::new(&mut out, warnings, false);
    send::run(&delivery, message, &mut ui)
}
