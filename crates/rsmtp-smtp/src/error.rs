//! Session errors, classified the way callers act on them: a sysexits code
//! for cron, PHP and scripts ([`SmtpError::exit_code`], following msmtp), a
//! transient/permanent verdict for the queue ([`SmtpError::is_transient`]),
//! and the server reply for the log line ([`SmtpError::smtp_status`]).
//!
//! rsmtp's one deliberate departure from msmtp: every 4xx reply (RFC 5321
//! §4.2.1 "transient negative completion"), 421 included, exits 75
//! EX_TEMPFAIL, as sysexits means it. Error text never contains a secret: it
//! is built from server replies and our own words, never from what we sent.

use std::fmt;

use rsmtp_core::ExitCode;

use crate::reply::Reply;

/// Where in the session a server reply refused us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The initial 220 (RFC 5321 §4.3.1).
    Greeting,
    /// EHLO (RFC 5321 §4.1.1.1), or LHLO for LMTP (RFC 2033 §4.1): both
    /// answer with the capability list.
    Ehlo,
    /// HELO, the fallback after a 5xx to EHLO (RFC 5321 §4.1.4): no
    /// extensions, so no STARTTLS, AUTH or PIPELINING.
    Helo,
    /// The STARTTLS command (RFC 3207 §4).
    StartTls,
    /// AUTH (RFC 4954 §4).
    Auth,
    /// MAIL FROM, which opens the transaction with the envelope sender
    /// (RFC 5321 §4.1.1.2); a 5xx here exits 65 EX_DATAERR.
    Mail,
    /// One RCPT TO per recipient (RFC 5321 §4.1.1.3); refusals are collected
    /// in [`ErrorKind::RecipientsRefused`].
    Rcpt,
    /// The DATA command itself, answered by 354 before the body is sent
    /// (RFC 5321 §4.1.1.4).
    Data,
    /// The reply after the end-of-data dot.
    Body,
    /// RSET between two messages of one session (RFC 5321 §4.1.1.5).
    Rset,
}

impl Stage {
    /// The reply codes that mean success at this step, where SMTP defines
    /// exactly which: 220 greeting (RFC 5321 §4.3.1) and STARTTLS (RFC 3207
    /// §4), 250 EHLO/HELO/MAIL/end of data, 250/251/252 RCPT (RFC 5321
    /// §4.3.2, §3.4–3.5), 354 DATA, 235 AUTH (RFC 4954 §6; 334 continuations
    /// are checked by the AUTH exchange itself). Any other 2xx or 3xx is not a
    /// success but a server out of step: [`ErrorKind::Protocol`].
    pub fn expected_codes(self) -> &'static [u16] {
        match self {
            Stage::Greeting | Stage::StartTls => &[220],
            Stage::Ehlo | Stage::Helo | Stage::Mail | Stage::Body | Stage::Rset => &[250],
            Stage::Rcpt => &[250, 251, 252],
            Stage::Data => &[354],
            Stage::Auth => &[235],
        }
    }

    /// Whether `code` is a success reply at this step.
    pub fn expects(self, code: u16) -> bool {
        self.expected_codes().contains(&code)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Greeting => "greeting",
            Stage::Ehlo => "EHLO",
            Stage::Helo => "HELO",
            Stage::StartTls => "STARTTLS",
            Stage::Auth => "AUTH",
            Stage::Mail => "MAIL FROM",
            Stage::Rcpt => "RCPT TO",
            Stage::Data => "DATA",
            Stage::Body => "end of data",
            Stage::Rset => "RSET",
        })
    }
}

/// What went wrong, in terms a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The host name does not exist (NXDOMAIN, no address): permanent, as a typo
    /// such as `smtp.gmial.com` will not fix itself.
    HostNotFound,
    /// The resolver did not answer (or failed temporarily): try again later.
    ResolverUnavailable,
    /// TCP connect failed (refused, unreachable), also when a SOCKS5 proxy
    /// reports so for the server.
    Connect,
    /// A SOCKS5 proxy refused for a reason a retry will not change (its
    /// ruleset, the command or the address type: RFC 1928 replies 2, 7, 8).
    ProxyRefused,
    /// No answer within the configured timeout.
    Timeout,
    /// The connection broke (reset, closed by the server) mid-session.
    Io,
    /// TLS handshake or record-layer failure that is not about the certificate.
    Tls,
    /// The server certificate failed verification (chain, name, dates,
    /// fingerprint); the message says which check.
    CertificateRejected,
    /// STARTTLS was required but the server does not offer it.
    StartTlsUnavailable,
    /// Plain SMTP spoken to an implicit-TLS port, or the reverse.
    PortTlsMismatch,
    /// The server broke the protocol (invalid or oversized reply, unexpected code).
    Protocol,
    /// The server refused our credentials (RFC 4954 §6, 535 and friends).
    AuthFailed,
    /// No usable AUTH method, or credentials missing.
    AuthUnavailable,
    /// A requested extension (DSN) is not offered.
    ExtensionUnavailable,
    /// A reply refused a step of the session.
    Rejected {
        /// The step that was refused; it decides the exit code of a 5xx
        /// (see [`SmtpError::exit_code`]).
        stage: Stage,
        /// The server's 4xx or 5xx reply (a 4xx always exits 75).
        reply: Reply,
    },
    /// One or more recipients were refused; the message was not sent to anyone.
    RecipientsRefused(Vec<(String, Reply)>),
    /// LMTP (RFC 2033 §4.2): after the end of data the server delivered the
    /// message to `delivered` and refused it for `failed`, each with its own
    /// reply. Transient when every refusal is a 4xx, so that only `failed`
    /// is tried again.
    PartlyDelivered {
        /// Recipients whose reply after the end of data was 250: they have
        /// the message, a retry must leave them out.
        delivered: Vec<String>,
        /// Recipients refused after the end of data, each with its reply
        /// (4xx: try again; 5xx: give up on that recipient). When the
        /// connection broke between two replies, the recipients not yet
        /// answered get a made-up `421 4.4.2` reply.
        failed: Vec<(String, Reply)>,
    },
    /// The message is larger than the server's SIZE limit (RFC 1870 §4).
    TooLarge {
        /// The message size the caller declared in the envelope, in bytes.
        size: u64,
        /// The server's `SIZE` limit from EHLO, in bytes.
        limit: u64,
    },
    /// An address cannot be put on the wire (control characters, `<`, `>`).
    InvalidAddress,
    /// An account setting that goes on the wire (`domain`, `user`,
    /// `dsn_notify`, `dsn_return`) holds a CR, LF or NUL, which would end the
    /// command line early and let the rest pass for another command.
    /// EX_CONFIG (78): this crate cannot tell an msmtprc line from its
    /// `--domain=` mirror on the command line, and either way the fix is in
    /// the account's settings, as for any invalid msmtprc value in msmtp.
    /// (msmtp itself checks none of these and sends the line break.) An
    /// envelope address stays [`ErrorKind::InvalidAddress`], 65, like a
    /// refused address.
    InvalidSetting,
    /// A local file (trust file, CRL, client certificate or key) is missing or invalid.
    LocalFile,
    /// Reading the message from the caller's reader failed.
    Input,
}

/// An SMTP session error. Its `Display` is a sentence for the user, naming
/// the server's reply and refused recipients where there are some.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SmtpError {
    kind: ErrorKind,
    message: String,
    /// Boxed: keeps `Result<_, SmtpError>` small on every call of the session.
    reply: Option<Box<Reply>>,
    /// The whole message went out, final dot included, and no reply came.
    unanswered: bool,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl SmtpError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> SmtpError {
        let reply = match &kind {
            ErrorKind::Rejected { reply, .. } => Some(reply.clone()),
            ErrorKind::RecipientsRefused(refused) => refused.first().map(|(_, r)| r.clone()),
            ErrorKind::PartlyDelivered { failed, .. } => failed.first().map(|(_, r)| r.clone()),
            _ => None,
        }
        .map(Box::new);
        SmtpError {
            kind,
            message: message.into(),
            reply,
            unanswered: false,
            source: None,
        }
    }

    /// The connection broke or timed out after the final dot was sent and before
    /// the server's reply to it: the server may have accepted the message, and
    /// sending it again may deliver it twice (RFC 5321 §6.1's window).
    pub fn is_unanswered(&self) -> bool {
        self.unanswered
    }

    pub(crate) fn unanswered(mut self) -> SmtpError {
        self.unanswered = true;
        self
    }

    /// A step refused by `reply`: `what` says what was refused.
    pub(crate) fn rejected(stage: Stage, what: impl fmt::Display, reply: Reply) -> SmtpError {
        let message = format!("{what}: {reply}");
        SmtpError::new(ErrorKind::Rejected { stage, reply }, message)
    }

    /// A reply that is neither the success code SMTP defines for `stage` nor
    /// a 4xx/5xx refusal (`221` to MAIL FROM): the server is out of step.
    pub(crate) fn unexpected(stage: Stage, reply: Reply) -> SmtpError {
        let expected = stage
            .expected_codes()
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        let message = format!(
            "protocol error: unexpected reply to {stage}: \"{reply}\" (expected {expected})"
        );
        SmtpError::new(ErrorKind::Protocol, message).with_reply(reply)
    }

    /// Judges the reply to `stage`: the expected success code passes, a
    /// 4xx/5xx is a refusal described by `what`, anything else is
    /// [`SmtpError::unexpected`].
    pub(crate) fn check(
        stage: Stage,
        what: impl fmt::Display,
        reply: Reply,
    ) -> Result<Reply, SmtpError> {
        if stage.expects(reply.code()) {
            Ok(reply)
        } else if reply.is_transient() || reply.is_permanent() {
            Err(SmtpError::rejected(stage, what, reply))
        } else {
            Err(SmtpError::unexpected(stage, reply))
        }
    }

    /// Attaches the server reply that caused this error.
    pub(crate) fn with_reply(mut self, reply: Reply) -> SmtpError {
        self.reply = Some(Box::new(reply));
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> SmtpError {
        self.source = Some(Box::new(source));
        self
    }

    /// What went wrong, for callers that act on the cause rather than on
    /// [`SmtpError::exit_code`] or [`SmtpError::is_transient`].
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The server reply behind this error, if any (`smtpstatus=`/`smtpmsg=`).
    pub fn reply(&self) -> Option<&Reply> {
        self.reply.as_deref()
    }

    /// `(code, text)` of the last server reply that caused the error.
    pub fn smtp_status(&self) -> Option<(u16, String)> {
        self.reply.as_deref().map(|r| (r.code(), r.text()))
    }

    /// The sysexits code for this error (see the crate docs for the table).
    pub fn exit_code(&self) -> ExitCode {
        let refused = matches!(
            self.kind,
            ErrorKind::RecipientsRefused(_) | ErrorKind::PartlyDelivered { .. }
        );
        if !refused && self.reply.as_deref().is_some_and(Reply::is_transient) {
            return ExitCode::TempFail;
        }
        match &self.kind {
            ErrorKind::HostNotFound => ExitCode::NoHost,
            ErrorKind::ResolverUnavailable
            | ErrorKind::Connect
            | ErrorKind::Timeout
            | ErrorKind::Io => ExitCode::TempFail,
            ErrorKind::Tls | ErrorKind::PortTlsMismatch | ErrorKind::Protocol => ExitCode::Protocol,
            ErrorKind::CertificateRejected
            | ErrorKind::StartTlsUnavailable
            | ErrorKind::AuthUnavailable
            | ErrorKind::ProxyRefused
            | ErrorKind::ExtensionUnavailable => ExitCode::Unavailable,
            ErrorKind::AuthFailed => ExitCode::NoPerm,
            ErrorKind::Rejected { stage, reply } => {
                if reply.is_transient() {
                    ExitCode::TempFail
                } else {
                    match stage {
                        // msmtp: "cannot get initial OK message from server".
                        Stage::Greeting
                        | Stage::Ehlo
                        | Stage::Helo
                        | Stage::StartTls
                        | Stage::Rset => ExitCode::Protocol,
                        Stage::Auth => ExitCode::NoPerm,
                        Stage::Mail | Stage::Rcpt | Stage::Data => ExitCode::DataErr,
                        // msmtp: "the server did not accept the mail" → EX_UNAVAILABLE.
                        Stage::Body => ExitCode::Unavailable,
                    }
                }
            }
            ErrorKind::RecipientsRefused(refused) => {
                if refused.iter().all(|(_, r)| r.is_transient()) {
                    ExitCode::TempFail
                } else {
                    ExitCode::DataErr
                }
            }
            // msmtp: "delivery to one or more recipients failed" is EX_UNAVAILABLE;
            // rsmtp: 75 when every refusal is temporary (it is queued then).
            ErrorKind::PartlyDelivered { failed, .. } => {
                if failed.iter().all(|(_, r)| r.is_transient()) {
                    ExitCode::TempFail
                } else {
                    ExitCode::Unavailable
                }
            }
            ErrorKind::TooLarge { .. } | ErrorKind::InvalidAddress => ExitCode::DataErr,
            ErrorKind::LocalFile => ExitCode::NoInput,
            ErrorKind::Input => ExitCode::IoErr,
            ErrorKind::InvalidSetting => ExitCode::Config,
        }
    }

    /// After a partly delivered LMTP message: the recipients that already have
    /// it (a retry must leave them out), and those refused only for now (4xx),
    /// the ones worth trying again.
    pub fn partly_delivered(&self) -> Option<(&[String], Vec<&str>)> {
        match &self.kind {
            ErrorKind::PartlyDelivered { delivered, failed } => Some((
                delivered,
                failed
                    .iter()
                    .filter(|(_, r)| r.is_transient())
                    .map(|(rcpt, _)| rcpt.as_str())
                    .collect(),
            )),
            _ => None,
        }
    }

    /// True when trying again later may succeed: the network (connect,
    /// timeout, broken connection) or a 4xx reply. Permanent refusals,
    /// authentication failures and certificate problems are never transient.
    pub fn is_transient(&self) -> bool {
        match &self.kind {
            ErrorKind::ResolverUnavailable
            | ErrorKind::Connect
            | ErrorKind::Timeout
            | ErrorKind::Io => true,
            ErrorKind::Rejected { reply, .. } => reply.is_transient(),
            ErrorKind::RecipientsRefused(refused) => refused.iter().all(|(_, r)| r.is_transient()),
            ErrorKind::PartlyDelivered { failed, .. } => {
                failed.iter().all(|(_, r)| r.is_transient())
            }
            _ => self.reply.as_deref().is_some_and(Reply::is_transient),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16) -> Reply {
        Reply::new(code, vec!["text".into()])
    }

    fn rejected(stage: Stage, code: u16) -> SmtpError {
        SmtpError::rejected(stage, "refused", reply(code))
    }

    #[test]
    fn any_4xx_is_tempfail_and_transient() {
        for stage in [
            Stage::Greeting,
            Stage::Ehlo,
            Stage::StartTls,
            Stage::Auth,
            Stage::Mail,
            Stage::Rcpt,
            Stage::Data,
            Stage::Body,
        ] {
            for code in [421, 450, 451, 452, 454] {
                let e = rejected(stage, code);
                assert_eq!(e.exit_code(), ExitCode::TempFail, "{stage} {code}");
                assert!(e.is_transient(), "{stage} {code}");
            }
        }
    }

    #[test]
    fn permanent_replies() {
        for stage in [Stage::Mail, Stage::Rcpt, Stage::Data] {
            let e = rejected(stage, 550);
            assert_eq!(e.exit_code(), ExitCode::DataErr);
            assert!(!e.is_transient());
        }
        let e = rejected(Stage::Body, 554);
        assert_eq!(e.exit_code(), ExitCode::Unavailable, "as msmtp");
        assert!(!e.is_transient());
        assert_eq!(
            rejected(Stage::Greeting, 554).exit_code(),
            ExitCode::Protocol
        );
        assert_eq!(rejected(Stage::Ehlo, 502).exit_code(), ExitCode::Protocol);
        assert_eq!(
            rejected(Stage::StartTls, 502).exit_code(),
            ExitCode::Protocol
        );
    }

    #[test]
    fn kinds_without_reply() {
        let cases = [
            (ErrorKind::HostNotFound, ExitCode::NoHost, false),
            (ErrorKind::ResolverUnavailable, ExitCode::TempFail, true),
            (ErrorKind::Connect, ExitCode::TempFail, true),
            (ErrorKind::Timeout, ExitCode::TempFail, true),
            (ErrorKind::Io, ExitCode::TempFail, true),
            (ErrorKind::Tls, ExitCode::Protocol, false),
            (ErrorKind::CertificateRejected, ExitCode::Unavailable, false),
            (ErrorKind::StartTlsUnavailable, ExitCode::Unavailable, false),
            (ErrorKind::PortTlsMismatch, ExitCode::Protocol, false),
            (ErrorKind::Protocol, ExitCode::Protocol, false),
            (ErrorKind::AuthFailed, ExitCode::NoPerm, false),
            (ErrorKind::AuthUnavailable, ExitCode::Unavailable, false),
            (
                ErrorKind::ExtensionUnavailable,
                ExitCode::Unavailable,
                false,
            ),
            (
                ErrorKind::TooLarge { size: 2, limit: 1 },
                ExitCode::DataErr,
                false,
            ),
            (ErrorKind::InvalidAddress, ExitCode::DataErr, false),
            (ErrorKind::LocalFile, ExitCode::NoInput, false),
            (ErrorKind::Input, ExitCode::IoErr, false),
            (ErrorKind::InvalidSetting, ExitCode::Config, false),
        ];
        for (kind, code, transient) in cases {
            let e = SmtpError::new(kind.clone(), "x");
            assert_eq!(e.exit_code(), code, "{kind:?}");
            assert_eq!(e.is_transient(), transient, "{kind:?}");
            assert_eq!(e.smtp_status(), None);
        }
    }

    #[test]
    fn auth_failure_with_reply() {
        let e =
            SmtpError::new(ErrorKind::AuthFailed, "authentication failed").with_reply(reply(535));
        assert_eq!(e.exit_code(), ExitCode::NoPerm);
        assert!(!e.is_transient());
        assert_eq!(e.smtp_status(), Some((535, "text".into())));
        let e =
            SmtpError::new(ErrorKind::AuthFailed, "authentication failed").with_reply(reply(454));
        assert_eq!(e.exit_code(), ExitCode::TempFail);
        assert!(e.is_transient());
    }

    #[test]
    fn recipients_refused() {
        let all_temp = ErrorKind::RecipientsRefused(vec![("a@x".into(), reply(450))]);
        let e = SmtpError::new(all_temp, "recipient a@x refused");
        assert_eq!(e.exit_code(), ExitCode::TempFail);
        assert!(e.is_transient());
        assert_eq!(e.smtp_status(), Some((450, "text".into())));
        let mixed = ErrorKind::RecipientsRefused(vec![
            ("a@x".into(), reply(450)),
            ("b@x".into(), reply(550)),
        ]);
        let e = SmtpError::new(mixed, "refused");
        assert_eq!(e.exit_code(), ExitCode::DataErr);
        assert!(!e.is_transient());
    }

    #[test]
    fn only_the_defined_success_code_passes() {
        let check = |stage, code| SmtpError::check(stage, "refused", reply(code));
        assert!(check(Stage::Mail, 250).is_ok());
        assert!(check(Stage::Rcpt, 251).is_ok() && check(Stage::Rcpt, 252).is_ok());
        assert!(check(Stage::Data, 354).is_ok());
        for (stage, code) in [
            (Stage::Mail, 221),
            (Stage::Mail, 251),
            (Stage::Rcpt, 220),
            (Stage::Data, 250),
            (Stage::Body, 354),
            (Stage::StartTls, 250),
            (Stage::Ehlo, 220),
        ] {
            let e = check(stage, code).unwrap_err();
            assert_eq!((e.kind(), e.exit_code().code()), (&ErrorKind::Protocol, 76));
            assert!(!e.is_transient());
            let prefix = format!("protocol error: unexpected reply to {stage}: \"{code} text\"");
            assert!(e.to_string().starts_with(&prefix), "{e}");
        }
        assert!(check(Stage::Rcpt, 220)
            .unwrap_err()
            .to_string()
            .ends_with("(expected 250 or 251 or 252)"));
        let e = check(Stage::Mail, 550).unwrap_err();
        assert_eq!(
            e.exit_code(),
            ExitCode::DataErr,
            "a refusal stays a refusal"
        );
    }

    #[test]
    fn display_is_the_message() {
        let e = rejected(Stage::Mail, 553);
        assert_eq!(e.to_string(), "refused: 553 text");
        assert_eq!(e.smtp_status(), Some((553, "text".into())));
    }
}
