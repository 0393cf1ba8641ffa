//! sysexits(3) codes, the contract with every caller: cron mails on non-zero, PHP's
//! `mail()` returns false, the queue keeps a message on `TempFail`, and scripts grep the
//! `exitcode=EX_…` names in the log.

/// The exit codes msmtp (and so rsmtp) leaves with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// 0: sent, or durably queued.
    Ok = 0,
    /// `--queue-check` found a problem. Not a sysexits code: 1 is what Docker's
    /// `HEALTHCHECK` reads as unhealthy and Nagios as WARNING; never logged.
    QueueProblem = 1,
    /// 64 EX_USAGE: the command line is wrong, or no recipients.
    Usage = 64,
    /// 65 EX_DATAERR: the server refused the message or an address with 5xx; malformed input.
    DataErr = 65,
    /// 66 EX_NOINPUT: an input file (a queue entry, a certificate) is missing.
    NoInput = 66,
    /// 67 EX_NOUSER.
    NoUser = 67,
    /// 68 EX_NOHOST: the host name does not exist (never queued).
    NoHost = 68,
    /// 69 EX_UNAVAILABLE: no STARTTLS, certificate rejected, body refused.
    Unavailable = 69,
    /// 70 EX_SOFTWARE: an internal error.
    Software = 70,
    /// 71 EX_OSERR: the system refused (fork, a socket, a signal handler).
    OsErr = 71,
    /// 72 EX_OSFILE.
    OsFile = 72,
    /// 73 EX_CANTCREAT: nothing can be created where it must (permission denied).
    CantCreate = 73,
    /// 74 EX_IOERR: reading the input or a configuration file failed.
    IoErr = 74,
    /// 75 EX_TEMPFAIL: try again later (cannot connect, timeout, 4xx, a full disk).
    TempFail = 75,
    /// 76 EX_PROTOCOL: TLS or SMTP protocol error.
    Protocol = 76,
    /// 77 EX_NOPERM: authentication failed.
    NoPerm = 77,
    /// 78 EX_CONFIG: the configuration is wrong; the message names file and line.
    Config = 78,
}

impl ExitCode {
    /// The code for a raw sysexits number; anything unknown is `Software` (70).
    pub fn from_code(code: u8) -> ExitCode {
        match code {
            0 => ExitCode::Ok,
            64 => ExitCode::Usage,
            65 => ExitCode::DataErr,
            66 => ExitCode::NoInput,
            67 => ExitCode::NoUser,
            68 => ExitCode::NoHost,
            69 => ExitCode::Unavailable,
            71 => ExitCode::OsErr,
            72 => ExitCode::OsFile,
            73 => ExitCode::CantCreate,
            74 => ExitCode::IoErr,
            75 => ExitCode::TempFail,
            76 => ExitCode::Protocol,
            77 => ExitCode::NoPerm,
            78 => ExitCode::Config,
            _ => ExitCode::Software,
        }
    }

    /// The number the process exits with.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The name msmtp writes in its log line (`exitcode=EX_TEMPFAIL`).
    pub fn name(self) -> &'static str {
        match self {
            ExitCode::Ok => "EX_OK",
            ExitCode::QueueProblem => "QUEUE_PROBLEM",
            ExitCode::Usage => "EX_USAGE",
            ExitCode::DataErr => "EX_DATAERR",
            ExitCode::NoInput => "EX_NOINPUT",
            ExitCode::NoUser => "EX_NOUSER",
            ExitCode::NoHost => "EX_NOHOST",
            ExitCode::Unavailable => "EX_UNAVAILABLE",
            ExitCode::Software => "EX_SOFTWARE",
            ExitCode::OsErr => "EX_OSERR",
            ExitCode::OsFile => "EX_OSFILE",
            ExitCode::CantCreate => "EX_CANTCREAT",
            ExitCode::IoErr => "EX_IOERR",
            ExitCode::TempFail => "EX_TEMPFAIL",
            ExitCode::Protocol => "EX_PROTOCOL",
            ExitCode::NoPerm => "EX_NOPERM",
            ExitCode::Config => "EX_CONFIG",
        }
    }
}

impl ExitCode {
    /// Every code, for [`ExitCode::from_name`] and tests.
    pub const ALL: [ExitCode; 17] = [
        ExitCode::Ok,
        ExitCode::QueueProblem,
        ExitCode::Usage,
        ExitCode::DataErr,
        ExitCode::NoInput,
        ExitCode::NoUser,
        ExitCode::NoHost,
        ExitCode::Unavailable,
        ExitCode::Software,
        ExitCode::OsErr,
        ExitCode::OsFile,
        ExitCode::CantCreate,
        ExitCode::IoErr,
        ExitCode::TempFail,
        ExitCode::Protocol,
        ExitCode::NoPerm,
        ExitCode::Config,
    ];

    /// The code a log line names (`EX_TEMPFAIL`), the inverse of [`ExitCode::name`].
    pub fn from_name(name: &str) -> Option<ExitCode> {
        ExitCode::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether trying again later may work (`EX_TEMPFAIL`): what the queue keeps.
    pub fn is_temporary(self) -> bool {
        self == ExitCode::TempFail
    }
}

impl std::fmt::Display for ExitCode {
    /// `75 (EX_TEMPFAIL)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code(), self.name())
    }
}

/// Comparing with a raw sysexits number (`e.exit_code() == 75`), as callers and
/// tests that speak in numbers do.
impl PartialEq<i32> for ExitCode {
    fn eq(&self, other: &i32) -> bool {
        i32::from(self.code()) == *other
    }
}

impl From<ExitCode> for i32 {
    fn from(code: ExitCode) -> i32 {
        i32::from(code.code())
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_names_match_sysexits() {
        for code in [
            0u8, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78,
        ] {
            assert_eq!(ExitCode::from_code(code).code(), code);
        }
        assert_eq!(ExitCode::TempFail.name(), "EX_TEMPFAIL");
        assert_eq!(ExitCode::CantCreate.name(), "EX_CANTCREAT");
        assert_eq!(ExitCode::from_code(1), ExitCode::Software);
        for code in ExitCode::ALL {
            assert_eq!(ExitCode::from_name(code.name()), Some(code));
        }
        assert_eq!(ExitCode::from_name("EX_NOSUCH"), None);
        assert!(ExitCode::TempFail == 75);
    }
}
