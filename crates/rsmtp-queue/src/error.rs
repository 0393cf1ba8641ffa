//! The queue's error type. Every variant names the file or directory involved and
//! keeps the underlying cause, so a message such as "cannot create queue entry
//! /var/spool/rsmtp/tmp/new-…: No space left on device" tells the user what to fix;
//! `exit_code` maps each variant to the sysexits code the binaries exit with.

use rsmtp_core::tr;
pub(crate) use rsmtp_core::ExitCode;
use std::io;
use std::path::{Path, PathBuf};

use crate::trust::Distrust;

/// What went wrong in the queue.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A queue directory or a new entry could not be created (EX_CANTCREAT).
    #[error("cannot create {path}: {source}")]
    Create {
        /// The directory or file that could not be created.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// Reading, writing, syncing, renaming or locking an existing file failed (EX_IOERR).
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done ("read", "rename", "sync", …).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// Reading the message supplied by the caller (usually stdin) failed.
    #[error("cannot read the message to queue: {source}")]
    Input {
        /// The reader's error.
        source: io::Error,
    },
    /// An entry's envelope file exists but cannot be parsed.
    #[error("damaged queue entry {path}: {reason}")]
    Corrupt {
        /// The envelope file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The envelope cannot be stored (a time before 1970).
    #[error("cannot queue this message: {field} {reason}")]
    InvalidMeta {
        /// The envelope field.
        field: &'static str,
        /// Why it cannot be stored.
        reason: String,
    },
    /// A queue id given by the user is not a well-formed id.
    #[error("invalid queue id {id:?}: expected letters, digits and '-'")]
    InvalidId {
        /// The text given.
        id: String,
    },
    /// No entry with this id is in the queue (or among failed entries).
    #[error("{}", tr!("no queue entry {id}", id = id))]
    NoSuchEntry {
        /// The id asked for.
        id: String,
    },
    /// The queue directory (or one of its subdirectories) could have been written
    /// by another user, so nothing in it can be trusted (EX_CONFIG).
    #[error("{}", untrusted_dir_message(path, problem))]
    UntrustedDir {
        /// The directory refused.
        path: PathBuf,
        /// What is wrong with it.
        problem: Distrust,
    },
    /// A file of a queue entry is not the running user's (or is a link, or is
    /// writable by others): the entry is not acted on (EX_CONFIG).
    #[error("{path} {problem}; another user may have written it")]
    UntrustedEntry {
        /// The entry's directory or file.
        path: PathBuf,
        /// What is wrong with it.
        problem: Distrust,
    },
    /// The entry is locked by a process delivering it right now.
    #[error("queue entry {id} is being delivered by another process")]
    Busy {
        /// The locked entry.
        id: String,
    },
}

impl QueueError {
    /// The sysexits code for this error: 75 (EX_TEMPFAIL) when an entry could not be
    /// written, synced or renamed, or created for a passing reason (a full or failing
    /// disk), or is locked by another process; 73 (EX_CANTCREAT) when a directory or
    /// entry cannot be created for a lasting one (not a directory, permission denied);
    /// 74 (EX_IOERR) for unreadable input and damaged entries,
    /// 65 (EX_DATAERR)
    /// for an envelope that cannot be stored, 66 (EX_NOINPUT) for an unknown id,
    /// 64 (EX_USAGE) for a malformed id, 78 (EX_CONFIG) for a queue directory or
    /// entry another user could have written.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            // A full or failing disk while creating, writing or syncing an entry is a
            // local, temporary fault: the caller keeps the message and tries again.
            QueueError::Io { .. } => ExitCode::TempFail,
            QueueError::Create { source, .. } if rsmtp_core::is_transient_local(source) => {
                ExitCode::TempFail
            }
            QueueError::Create { .. } => ExitCode::CantCreate,
            QueueError::Input { .. } | QueueError::Corrupt { .. } => ExitCode::IoErr,
            QueueError::Busy { .. } => ExitCode::TempFail,
            QueueError::InvalidMeta { .. } => ExitCode::DataErr,
            QueueError::NoSuchEntry { .. } => ExitCode::NoInput,
            QueueError::InvalidId { .. } => ExitCode::Usage,
            QueueError::UntrustedDir { .. } | QueueError::UntrustedEntry { .. } => ExitCode::Config,
        }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        QueueError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn create(path: impl Into<PathBuf>, source: io::Error) -> Self {
        QueueError::Create {
            path: path.into(),
            source,
        }
    }
}

fn untrusted_dir_message(path: &Path, problem: &Distrust) -> String {
    format!(
        "refusing queue directory {}: it {problem}, so another user could plant \
         messages in it; fix with: {}",
        path.display(),
        problem.fix(path)
    )
}
