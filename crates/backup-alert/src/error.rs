//! The one error type of backup-alert and its exit code.
//!
//! Cron, PHP and backup scripts act on the exit status, so every failure carries the
//! sysexits(3) code it leaves with: usage errors are 64, a configuration problem 78, and a
//! delivery failure keeps the code rsmtp chose for it (75 for "try again later", 77 for a
//! rejected login, …).

use std::io;
use std::path::Path;

use rsmtp_deliver::ExitCode;

/// Everything that can stop a backup-alert command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command line or contradictory options (exit 64).
    #[error("{0}")]
    Usage(String),
    /// A settings or msmtprc file that cannot be used (exit 78).
    #[error("{0}")]
    Config(String),
    /// An input file (body, attachment, log) that cannot be read (exit 66).
    #[error("{path}: {}", rsmtp_core::strerror(source))]
    NoInput {
        /// The file as it was named.
        path: String,
        /// Why it could not be read.
        source: io::Error,
    },
    /// Any other I/O failure, with what we were doing (exit 74, or 73 when creating).
    #[error("{context}: {}", rsmtp_core::strerror(source))]
    Io {
        /// What we were doing ("cannot write the state file …").
        context: String,
        /// The system's error.
        source: io::Error,
        /// The exit code it leads to.
        code: ExitCode,
    },
    /// The message could not be built (an address or header lettre refuses; exit 65).
    #[error("{0}")]
    Compose(String),
    /// The delivery path failed; its exit code is kept.
    #[error("{}", .0.sentence())]
    Delivery(#[from] rsmtp_deliver::Failure),
}

impl Error {
    /// The sysexits code to leave with.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) => ExitCode::Usage,
            Error::Config(_) => ExitCode::Config,
            Error::NoInput { .. } => ExitCode::NoInput,
            Error::Io { code, .. } => *code,
            Error::Compose(_) => ExitCode::DataErr,
            Error::Delivery(e) => e.code,
        }
    }

    /// An input file that could not be read.
    pub fn no_input(path: &Path, source: io::Error) -> Self {
        Error::NoInput {
            path: path.display().to_string(),
            source,
        }
    }

    /// A failed I/O operation, described by what we were doing.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
            code: ExitCode::IoErr,
        }
    }

    /// A file or directory we could not create.
    pub fn cant_create(path: &Path, source: io::Error) -> Self {
        Error::Io {
            context: format!("cannot create {}", path.display()),
            source,
            code: ExitCode::CantCreate,
        }
    }
}
