//! rsmtp as a library: turn a command line (or a [`Submission`]) plus the msmtprc files
//! into a delivered — or durably queued — message, with msmtp's log line and exit codes.
//!
//! The `rsmtp` binary and `backup-alert` both go through [`submit`], so an alert uses the
//! same config files, accounts, queue and log as any other message.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;

pub mod cli;
pub mod exit;
pub mod log;

pub use exit::ExitCode;

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
}

/// What happened to a submitted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server accepted it.
    Delivered,
    /// Kept in the durable queue (fallback after a temporary failure, or `queue always`).
    Queued { id: String },
}

/// Deliver one message read from `message` (raw, LF or CRLF lines).
/// Warnings meant for the user (queued, log not writable) go to `warnings`.
pub fn submit(
    _submission: &Submission,
    _message: &mut dyn Read,
    _warnings: &mut dyn Write,
) -> Result<Outcome, SubmitError> {
    Err(SubmitError {
        code: ExitCode::Software,
        message: "not implemented yet".into(),
    })
}

/// A failed submission: the text to show and the exit code to leave with.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SubmitError {
    pub code: ExitCode,
    pub message: String,
}

impl SubmitError {
    pub fn exit_code(&self) -> ExitCode {
        self.code
    }
}

/// Run the `rsmtp` command line (sendmail mode, `-q`, `-bp`, …) with these arguments
/// (argv[0] included: it selects `sendmail`/`mailq`/`newaliases` behaviour).
pub fn run_cli(_args: Vec<OsString>) -> ExitCode {
    ExitCode::Software
}
