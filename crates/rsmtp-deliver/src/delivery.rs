//! What to deliver and how, as every caller describes it: the command line (through
//! `cli`), backup-alert's [`crate::submit`], a message received by `-bs` or the listener.
//! A domain value, not a parsed command line: nothing here knows clap.

use std::path::PathBuf;
use std::time::Duration;

/// What to deliver and how: everything a delivery takes from its caller, whether the
/// command line, backup-alert's [`crate::submit`] or the `-bs` server, and nothing of
/// clap (ripgrep's HiArgs never reaches its searcher).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// `-C FILE`: replaces the user msmtprc (the system one is still read).
    pub config_file: Option<PathBuf>,
    /// `-a NAME`; `None`: the account `from` matches with `-f`, else `default`.
    pub account: Option<String>,
    /// `--host`: use only command-line settings.
    pub host: Option<String>,
    /// `-f ADDR`, already an envelope address (`Name <a@x.org>` gives `a@x.org`);
    /// `None`: the account's `from`.
    pub envelope_from: Option<String>,
    /// `-F NAME`: the display name of a From header rsmtp adds (before the account's
    /// `from_full_name`).
    pub full_name: Option<String>,
    /// `-t`: recipients also come from To, Cc and Bcc (Bcc then removed).
    pub read_recipients: bool,
    /// `--read-envelope-from`: the envelope sender comes from the From header.
    pub read_envelope_from: bool,
    /// `(msmtprc command, value)` in the order of the table; applied on top of the account.
    pub overrides: Vec<(String, String)>,
    /// Recipients named by the caller (command-line arguments, RCPT TO).
    pub recipients: Vec<String>,
    /// Keep the message in the queue after a temporary failure even when the
    /// account's `queue` is off (backup-alert: an alert must outlive a network blip).
    pub queue_on_tempfail: bool,
    /// `--queue-dir`: the one queue the queue commands act on (else every account's).
    pub queue_dir: Option<PathBuf>,
    /// `--queue-retry-for`: how long the retrier keeps going (else the default expiry).
    pub queue_retry_for: Option<Duration>,
}
