//! A failed run: the sentence for the user and the exit code, kept together with the
//! layer's typed error (as the `source`), so every caller — the sysexits mapping, the
//! queue's temporary-or-not decision, backup-alert's advice after a failed test alert —
//! asks the error itself instead of reading its text.

use crate::exit::ExitCode;

/// The typed error behind a [`Failure`], from the layer that found it.
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    /// The msmtprc: syntax, permissions, an account that does not exist.
    #[error(transparent)]
    Config(#[from] rsmtp_config::ConfigError),
    /// The message on stdin: no recipients, a header that cannot be read.
    #[error(transparent)]
    Message(#[from] rsmtp_message::MessageError),
    /// The durable queue: its directory, an entry, a lock.
    #[error(transparent)]
    Queue(#[from] rsmtp_queue::QueueError),
    /// The SMTP session: connection, TLS, a refusal by the server.
    #[error(transparent)]
    Smtp(#[from] rsmtp_smtp::SmtpError),
    /// Getting an OAuth 2.0 access token.
    #[error(transparent)]
    OAuth(#[from] rsmtp_oauth::OAuthError),
}

/// Why rsmtp could not do what it was asked.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// The exit code (sysexits: 75 for anything worth trying again later).
    pub code: ExitCode,
    /// What went wrong, in the user's language, with what to do when known.
    pub message: String,
    /// `account NAME from FILE`, for msmtp's second line "could not send mail (…)".
    pub account: Option<String>,
    /// The typed error, when a layer below reported one (boxed: a `Result` of
    /// this type stays small on the success path).
    #[source]
    pub cause: Option<Box<Cause>>,
}

impl Failure {
    /// A failure with no typed cause below it.
    pub fn new(code: ExitCode, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            account: None,
            cause: None,
        }
    }

    /// A command-line mistake (exit 64).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(ExitCode::Usage, message)
    }

    /// The same failure, naming the account it happened with.
    pub fn with_account(mut self, account: Option<String>) -> Failure {
        self.account = account;
        self
    }

    /// msmtp's second line after a failed send: "could not send mail (account NAME
    /// from FILE)", when the account is known.
    pub fn could_not_send(&self) -> Option<String> {
        let account = self.account.as_ref()?;
        Some(rsmtp_core::tr!(
            "could not send mail ({account})",
            account = account
        ))
    }

    /// The same for `--serverinfo`: "could not get server information (account …)".
    pub fn could_not_get_server_information(&self) -> Option<String> {
        let account = self.account.as_ref()?;
        Some(rsmtp_core::tr!(
            "could not get server information ({account})",
            account = account
        ))
    }

    /// The failure in one sentence, the account named when it is known: what a
    /// listener answers its client and what backup-alert reports
    /// (`… (could not send mail: account NAME from FILE)`).
    pub fn sentence(&self) -> String {
        match &self.account {
            Some(account) => rsmtp_core::tr!(
                "{message} (could not send mail: {account})",
                message = self.message,
                account = account
            ),
            None => self.message.clone(),
        }
    }

    /// The SMTP session's error, when that is what failed.
    pub fn smtp_error(&self) -> Option<&rsmtp_smtp::SmtpError> {
        match self.cause.as_deref() {
            Some(Cause::Smtp(e)) => Some(e),
            _ => None,
        }
    }
}

impl<E: Into<Cause>> From<E> for Failure {
    fn from(e: E) -> Failure {
        let cause = e.into();
        let (code, message) = match &cause {
            Cause::Config(e) => (e.exit_code(), e.to_string()),
            Cause::Message(e) => (e.exit_code(), e.to_string()),
            Cause::Queue(e) => (e.exit_code(), e.to_string()),
            Cause::Smtp(e) => (e.exit_code(), smtp_message(e)),
            Cause::OAuth(e) => (e.exit_code(), e.to_string()),
        };
        Failure {
            code,
            message,
            account: None,
            cause: Some(Box::new(cause)),
        }
    }
}

/// An SMTP error in msmtp's words: the error, then each line of the server's reply
/// on a line of its own, `server message: 550 5.1.1 …`, so what scripts and people
/// read after `sendmail:` is what msmtp prints.
fn smtp_message(e: &rsmtp_smtp::SmtpError) -> String {
    let text = e.to_string();
    let Some(reply) = e.reply() else {
        return text;
    };
    let Some(error) = text.strip_suffix(&format!(": {reply}")) else {
        return text;
    };
    let mut message = error.to_string();
    for line in crate::log::reply_lines(reply.code(), reply.lines()) {
        // Control characters from the server never reach a terminal (msmtp: `?`).
        let line = rsmtp_core::shown(&line);
        message.push('\n');
        message.push_str(&rsmtp_core::tr!("server message: {reply}", reply = line));
    }
    message
}
