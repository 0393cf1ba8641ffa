//! Where a setting came from ([`Source`]) and everything that can go wrong while
//! reading msmtprc files ([`ConfigError`]), each error mapped to the sysexits code
//! msmtp uses for it so the binaries can exit the way cron, PHP and scripts expect.

use rsmtp_core::tr;
pub(crate) use rsmtp_core::ExitCode;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The environment variable that sets the time limit of `eval` and
/// `passwordeval` commands in seconds, overriding the rules of [`eval_limit`].
pub const EVAL_TIMEOUT_ENV: &str = "RSMTP_EVAL_TIMEOUT";

/// Where a setting comes from: a configuration file or the command line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A configuration file (as named when it was opened).
    File(PathBuf),
    /// A command-line option such as `--host=…`.
    CommandLine,
}

/// The file and line (or the command line) a value was set on, so that every
/// error can point at the line to fix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    /// File or command line.
    pub origin: Origin,
    /// 1-based line number; 0 for the command line.
    pub line: usize,
}

impl Source {
    /// A line of a configuration file.
    pub fn file(path: impl Into<PathBuf>, line: usize) -> Self {
        Source {
            origin: Origin::File(path.into()),
            line,
        }
    }

    /// A command-line option.
    pub fn command_line() -> Self {
        Source {
            origin: Origin::CommandLine,
            line: 0,
        }
    }

    /// The file, if the value came from one.
    pub fn path(&self) -> Option<&Path> {
        match &self.origin {
            Origin::File(p) => Some(p),
            Origin::CommandLine => None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File(p) => write!(f, "{}:{}", p.display(), self.line),
            Origin::CommandLine => f.write_str(&tr!("command line")),
        }
    }
}

/// Why a configuration file with secrets was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsecureReason {
    /// Owned by another user.
    NotOwned {
        /// The file's owner.
        owner: u32,
        /// The user running rsmtp.
        uid: u32,
    },
    /// Group or other permission bits (or the user execute bit) are set.
    Permissions {
        /// The file's permission bits.
        mode: u32,
    },
}

/// Everything that can go wrong while reading or resolving the configuration.
///
/// `Display` is a complete message for the user (file and line first, as a
/// compiler would print it); no variant ever contains a password or the output
/// of `passwordeval`/`eval`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A line msmtp itself would refuse: unknown command, invalid argument, …
    #[error("{at}: {message}")]
    Syntax {
        /// Where.
        at: Source,
        /// What is wrong, in msmtp's words where it has them.
        message: String,
    },
    /// A valid msmtp setting that rsmtp cannot honour.
    #[error("{}", tr!("{at}: {what} is not supported by rsmtp{hint}", at = at, what = what, hint = hint))]
    Unsupported {
        /// Where it was set.
        at: Source,
        /// The setting, e.g. `auth ntlm`.
        what: String,
        /// Advice, starting with "; " (may be empty).
        hint: String,
    },
    /// A configuration file could not be read.
    #[error("{}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: io::Error,
    },
    /// The permission rule: a user file containing `password` must be private.
    #[error("{}", insecure_message(path, reason))]
    Insecure {
        /// The file.
        path: PathBuf,
        /// Owner or mode problem.
        reason: InsecureReason,
    },
    /// `-a NAME` (or the implicit `default`) does not exist.
    #[error(
        "{}{}{}",
        not_found(name, files),
        known_accounts(name, known),
        unreadable_files(unreadable)
    )]
    AccountNotFound {
        /// The account asked for.
        name: String,
        /// The configuration files that were read.
        files: Vec<PathBuf>,
        /// The accounts those files define, for "did you mean" and the list.
        known: Vec<String>,
        /// Default files that exist but this user may not read.
        unreadable: Vec<PathBuf>,
    },
    /// The selected account is incomplete or inconsistent (msmtp's `check_account`).
    #[error("{}{message}", account_prefix(account, file.as_deref()))]
    InvalidAccount {
        /// Account name (empty for an account built from the command line).
        account: String,
        /// File it was defined in.
        file: Option<PathBuf>,
        /// What is wrong.
        message: String,
    },
    /// An `eval` command could not be run or printed nothing.
    #[error("{}", tr!("{at}: cannot evaluate '{command}': {reason}", at = at, command = command, reason = reason))]
    Eval {
        /// The `eval` line.
        at: Source,
        /// The command.
        command: String,
        /// Why.
        reason: String,
    },
    /// A `passwordeval` command could not be run or printed nothing.
    #[error("{}", tr!("{at}: passwordeval '{command}' failed: {reason}", at = at, command = command, reason = reason))]
    PasswordEval {
        /// The `passwordeval` line.
        at: Source,
        /// The command (not the password).
        command: String,
        /// Why.
        reason: String,
    },
    /// An `eval` or `passwordeval` command was still running at its time limit
    /// (see `eval_limit`); its process group was killed. Exit 75
    /// (`EX_TEMPFAIL`): the command did not fail, it did not answer in time (a
    /// pinentry nobody saw, a password store on a hung mount), so callers retry.
    #[error(
        "{at}: {directive} '{command}' did not finish within {limit:?} and was killed \
         (a prompt nobody can answer? {} sets the limit in seconds)",
        EVAL_TIMEOUT_ENV
    )]
    EvalTimedOut {
        /// The `eval` or `passwordeval` line.
        at: Source,
        /// `eval` or `passwordeval`.
        directive: &'static str,
        /// The command (never its output).
        command: String,
        /// The limit it ran into.
        limit: std::time::Duration,
    },
    /// A `%M` substitution needs /etc/mailname, which is missing or empty.
    #[error("{at}: cannot substitute %M: {}: {reason}", path.display())]
    Mailname {
        /// The `from` or `domain` line.
        at: Source,
        /// The mailname file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl ConfigError {
    /// The sysexits code msmtp exits with for this error: 74 (`EX_IOERR`) when a
    /// file named with `-C` cannot be read or an `eval` fails, 64 (`EX_USAGE`)
    /// for an invalid argument to a command-line option (msmtp's "invalid
    /// argument abc for --timeout"), 78 (`EX_CONFIG`) for everything else.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            ConfigError::Read { .. } | ConfigError::Eval { .. } => ExitCode::IoErr,
            ConfigError::EvalTimedOut { .. } => ExitCode::TempFail,
            ConfigError::Syntax {
                at:
                    Source {
                        origin: Origin::CommandLine,
                        ..
                    },
                ..
            } => ExitCode::Usage,
            _ => ExitCode::Config,
        }
    }

    /// The file and line the error points at, when there is one.
    pub fn source_location(&self) -> Option<&Source> {
        match self {
            ConfigError::Syntax { at, .. }
            | ConfigError::Unsupported { at, .. }
            | ConfigError::Eval { at, .. }
            | ConfigError::PasswordEval { at, .. }
            | ConfigError::EvalTimedOut { at, .. }
            | ConfigError::Mailname { at, .. } => Some(at),
            _ => None,
        }
    }

    pub(crate) fn syntax(at: &Source, message: impl Into<String>) -> Self {
        ConfigError::Syntax {
            at: at.clone(),
            message: message.into(),
        }
    }
}

use rsmtp_core::os::owner_name as user_name;

fn insecure_message(path: &Path, reason: &InsecureReason) -> String {
    let p = path.display();
    match reason {
        InsecureReason::NotOwned { owner, uid } => {
            let (owner, you) = (user_name(*owner), user_name(*uid));
            tr!(
                "{file}: contains secrets and therefore must be owned by you \
                 (it is owned by {owner}, you are {user}); \
                 fix with: chown {user} {file} && chmod 600 {file}",
                file = p,
                owner = owner,
                user = you
            )
        }
        InsecureReason::Permissions { mode } => tr!(
            "{file}: contains secrets and therefore must have no more than user \
             read/write permissions (mode is {mode}); fix with: chmod 600 {file}",
            file = p,
            mode = format!("{:04o}", mode & 0o7777)
        ),
    }
}

fn not_found(name: &str, files: &[PathBuf]) -> String {
    match files {
        [] => tr!(
            "account {name} not found: no configuration file available",
            name = name
        ),
        [one] => tr!(
            "account {name} not found in {file}",
            name = name,
            file = one.display()
        ),
        [first, rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|p| p.display().to_string()).collect();
            tr!(
                "account {name} not found in {file} and {other}",
                name = name,
                file = first.display(),
                other = rest.join(" and ")
            )
        }
    }
}

/// `; /etc/msmtprc exists but www-data may not read it (Permission denied): …`.
fn unreadable_files(files: &[PathBuf]) -> String {
    let you = user_name(rsmtp_core::os::current_uid());
    files
        .iter()
        .map(|f| {
            let f = f.display();
            tr!(
                "; {file} exists but user {user} cannot read it (Permission denied): let \
                 {user}'s group read it (chgrp GROUP {file} && chmod 640 {file}; the \
                 permission rule only applies to user files) or give {user} a \
                 configuration file of its own",
                file = f,
                user = you
            )
        })
        .collect()
}

/// ` (did you mean 'gmail'? accounts: default, gmail)`.
fn known_accounts(name: &str, known: &[String]) -> String {
    if known.is_empty() {
        return String::new();
    }
    let list = known.join(", ");
    match crate::suggest::closest(name, known.iter().map(String::as_str)) {
        Some(c) => tr!(
            " (did you mean '{suggestion}'? accounts: {list})",
            suggestion = c,
            list = list
        ),
        None => tr!(" (accounts: {list})", list = list),
    }
}

fn account_prefix(account: &str, file: Option<&Path>) -> String {
    match file {
        Some(f) if !account.is_empty() => tr!(
            "account {account} from {file}: ",
            account = account,
            file = f.display()
        ),
        _ => String::new(),
    }
}
