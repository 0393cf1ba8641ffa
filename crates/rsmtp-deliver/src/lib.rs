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

use rsmtp_core::tr;
use std::io::{Read, Write};
use std::path::PathBuf;

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
/// The SMTP layer, for callers that look at a [`SubmitError`]'s typed cause.
pub use rsmtp_smtp as smtp;

use ui::Ui;

/// One message to send, as a caller of the delivery path describes it
/// (the same information a sendmail command line carries).
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// `-C FILE`: replaces the user configuration file.
    pub config_file: Option<PathBuf>,
    /// `-a NAME`: the account to use; `None` means `default` (or the one matched by `-f`).
    pub account: Option<String>,
    /// `-f ADDR`: envelope sender.
    pub envelope_from: Option<String>,
    /// `-F NAME`: full name for an added From header.
    pub full_name: Option<String>,
    /// Recipients given on the command line.
    pub recipients: Vec<String>,
    /// `-t`: also take recipients from To/Cc/Bcc.
    pub read_recipients: bool,
    /// Keep the message in the account's queue after a temporary failure even when
    /// the account says `queue off` (what `queue fallback` does), so it is sent by the
    /// next `rsmtp -q` instead of being lost.
    pub queue_on_tempfail: bool,
}

/// What happened to a submitted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server accepted it.
    Delivered,
    /// Kept in the durable queue (fallback after a temporary failure, or `queue always`).
    Queued { id: String },
}

/// A failed submission: the text to show, the exit code to leave with, and the typed
/// error behind them (its `source`).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SubmitError {
    pub code: ExitCode,
    pub message: String,
    #[source]
    pub cause: Option<Box<failure::Cause>>,
}

impl SubmitError {
    pub fn exit_code(&self) -> ExitCode {
        self.code
    }

    /// The SMTP session's error, when that is what failed (a refused certificate,
    /// a refused login …).
    pub fn smtp_error(&self) -> Option<&rsmtp_smtp::SmtpError> {
        match self.cause.as_deref() {
            Some(failure::Cause::Smtp(e)) => Some(e),
            _ => None,
        }
    }
}

impl From<Failure> for SubmitError {
    fn from(f: Failure) -> SubmitError {
        let message = match &f.account {
            Some(account) => tr!(
                "{message} (could not send mail: {account})",
                message = f.message,
                account = account
            ),
            None => f.message,
        };
        SubmitError {
            code: f.code,
            message,
            cause: f.cause,
        }
    }
}

/// Deliver one message read from `message` (raw, LF or CRLF lines).
/// Warnings meant for the user (queued, log not writable) go to `warnings`.
pub fn submit(
    submission: &Submission,
    message: &mut dyn Read,
    warnings: &mut dyn Write,
) -> Result<Outcome, SubmitError> {
    let mut overrides = Vec::new();
    if let Some(name) = &submission.full_name {
        overrides.push(("from_full_name".to_string(), name.clone()));
    }
    let delivery = Delivery {
        config_file: submission.config_file.clone(),
        account: submission.account.clone(),
        envelope_from: submission
            .envelope_from
            .as_deref()
            .map(rsmtp_message::envelope_address),
        full_name: submission.full_name.clone(),
        read_recipients: submission.read_recipients,
        overrides,
        recipients: submission.recipients.clone(),
        queue_on_tempfail: submission.queue_on_tempfail,
        ..Delivery::default()
    };
    // Without -d nothing of the send path reaches stdout but a `logfile -` line, which
    // goes where msmtp would write it.
    let mut out = std::io::stdout();
    let mut ui = Ui::new(&mut out, warnings, false);
    Ok(send::run(&delivery, message, &mut ui)?)
}
