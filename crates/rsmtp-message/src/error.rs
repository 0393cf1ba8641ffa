//! The one error type of this crate, with the sysexits code msmtp uses for each case.
//!
//! The binaries map errors to exit codes in one place; cron, PHP and the queue act on
//! that code, so every variant says which `sysexits.h` value it stands for.

use rsmtp_core::tr;
pub(crate) use rsmtp_core::ExitCode;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong between stdin and the SMTP session.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// Reading the message from the input failed.
    #[error("{}", tr!("input error while reading the mail: {reason}", reason = rsmtp_core::strerror(.0)))]
    Input(#[source] io::Error),

    /// The temporary spool file could not be created, written or reopened.
    #[error("cannot write the mail to a temporary file in {}: {source}", dir.display())]
    Spool {
        /// The directory the spool file lives (or was to live) in.
        dir: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// No directory among the candidates could hold the spool file (`$TMPDIR`
    /// missing or read-only, and `/tmp` too).
    #[error("cannot create a temporary file for the mail in {}", tried_list(tried))]
    NoSpoolDir {
        /// Every directory tried, with what the operating system said.
        tried: Vec<(PathBuf, io::Error)>,
    },

    /// A NUL byte occurs in the header block.
    #[error("{}", tr!("NUL byte in the mail header (line {line})", line = line))]
    NulInHeader {
        /// 1-based line number in the input.
        line: usize,
    },

    /// A header value supplied by the caller (full name, date, domain…) cannot be
    /// written safely; CR or LF would let it inject further header fields.
    #[error("invalid value for the {name} header: {reason}")]
    InvalidHeaderValue {
        /// The header field the value was meant for.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// An address does not have the syntax of a mailbox or a local name.
    #[error("{}", tr!("invalid address '{address}': {reason}", address = address, reason = reason))]
    InvalidAddress {
        /// The address, with control characters escaped.
        address: String,
        /// Why it was refused.
        reason: String,
    },

    /// An address in a To/Cc/Bcc header (read with `-t`) is invalid.
    #[error("{}", tr!(
        "invalid address '{address}' in the {header} header: {reason}",
        address = address,
        header = header,
        reason = reason
    ))]
    InvalidHeaderAddress {
        /// The header field name as written in the mail.
        header: String,
        /// The address, with control characters escaped.
        address: String,
        /// Why it was refused.
        reason: String,
    },

    /// No recipient on the command line nor (with `-t`) in the headers.
    #[error("{}", tr!("no recipients found"))]
    NoRecipients,

    /// The aliases file could not be read.
    #[error("{}: {source}", path.display())]
    AliasesRead {
        /// The aliases file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// A syntax error in the aliases file.
    #[error("{}line {line}: {reason}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    AliasesSyntax {
        /// The aliases file, when it was read from one.
        path: Option<PathBuf>,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },

    /// Alias expansion went deeper than msmtp allows (a loop such as `a: b` / `b: a`),
    /// or fanned out to more than 10 000 recipients.
    #[error("{}", tr!("too many redirects when expanding alias {alias}", alias = alias))]
    AliasLoop {
        /// The recipient whose expansion looped.
        alias: String,
    },
}

impl MessageError {
    /// The `sysexits.h` code msmtp exits with for this error.
    ///
    /// msmtp returns `EX_IOERR` for input and temporary-file failures; rsmtp returns
    /// `EX_TEMPFAIL` when the temporary file meets a passing fault (a full disk, EIO:
    /// see [`rsmtp_core::is_transient_local`]), `EX_USAGE`
    /// for "no recipients found" and `EX_CONFIG` for every aliases problem. msmtp
    /// has no NUL, size or header-injection checks; those are data errors.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            MessageError::Input(_) => ExitCode::IoErr,
            // A full or failing disk is a local, temporary fault: the caller keeps the
            // message and tries again (sendmail's and Postfix's rule), never a refusal.
            MessageError::Spool { source, .. } if rsmtp_core::is_transient_local(source) => {
                ExitCode::TempFail
            }
            MessageError::Spool { .. } => ExitCode::IoErr,
            MessageError::NoSpoolDir { tried }
                if tried.iter().any(|(_, e)| rsmtp_core::is_transient_local(e)) =>
            {
                ExitCode::TempFail
            }
            MessageError::NoSpoolDir { .. } => ExitCode::CantCreate,
            MessageError::NulInHeader { .. }
            | MessageError::InvalidHeaderValue { .. }
            | MessageError::InvalidAddress { .. }
            | MessageError::InvalidHeaderAddress { .. } => ExitCode::DataErr,
            MessageError::NoRecipients => ExitCode::Usage,
            MessageError::AliasesRead { .. }
            | MessageError::AliasesSyntax { .. }
            | MessageError::AliasLoop { .. } => ExitCode::Config,
        }
    }
}

/// `/a (No such file or directory) nor /tmp (Read-only file system)`.
fn tried_list(tried: &[(PathBuf, io::Error)]) -> String {
    let parts: Vec<String> = tried
        .iter()
        .map(|(dir, e)| format!("{} ({})", dir.display(), rsmtp_core::strerror(e)))
        .collect();
    parts.join(" nor ")
}

/// Escapes control characters so an error message never spans lines or hides bytes.
pub(crate) fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
