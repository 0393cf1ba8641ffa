//! A failed run: the sentence for the user and the exit code, kept together so every
//! layer's typed error reaches the sysexits mapping intact.

use crate::exit::ExitCode;

/// Why rsmtp could not do what it was asked.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub code: ExitCode,
    pub message: String,
    /// `account NAME from FILE`, for msmtp's second line "could not send mail (…)".
    pub account: Option<String>,
}

impl Failure {
    pub fn new(code: ExitCode, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            account: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(ExitCode::Usage, message)
    }

    pub fn with_account(mut self, account: Option<String>) -> Failure {
        self.account = account;
        self
    }
}

impl From<rsmtp_config::ConfigError> for Failure {
    fn from(e: rsmtp_config::ConfigError) -> Failure {
        Failure::new(e.exit_code(), e.to_string())
    }
}

impl From<rsmtp_message::MessageError> for Failure {
    fn from(e: rsmtp_message::MessageError) -> Failure {
        Failure::new(e.exit_code(), e.to_string())
    }
}

impl From<rsmtp_queue::QueueError> for Failure {
    fn from(e: rsmtp_queue::QueueError) -> Failure {
        Failure::new(e.exit_code(), e.to_string())
    }
}

impl From<&rsmtp_smtp::SmtpError> for Failure {
    fn from(e: &rsmtp_smtp::SmtpError) -> Failure {
        Failure::new(e.exit_code(), e.to_string())
    }
}
