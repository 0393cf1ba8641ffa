//! Command lines as they go on the wire (RFC 5321 §4.1), each paired with the
//! text the trace may show. lettre's `commands` types give EHLO, STARTTLS,
//! DATA, RSET and QUIT, and its `MailParameter`/`RcptParameter` give the ESMTP
//! parameters (SIZE, BODY, SMTPUTF8, xtext-encoded RET/NOTIFY). MAIL and RCPT
//! themselves are written here because lettre's take a validated `Address`,
//! and sendmail callers legitimately use bare local names (`root`) that a
//! smarthost qualifies.

use lettre::transport::smtp::commands::{Data, Ehlo, Quit, Rset, Starttls};
use lettre::transport::smtp::extension::{ClientId, MailParameter, RcptParameter};

use zeroize::Zeroize;

use crate::error::{ErrorKind, SmtpError};
use crate::trace::REDACTED;

/// One command: the exact bytes to send and the line the trace sees.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Command {
    /// The wire form, CRLF included.
    wire: String,
    /// What the trace shows (no CRLF); differs from `wire` only when redacted.
    shown: String,
}

impl std::fmt::Debug for Command {
    /// Shows the redacted form only, so a `{:?}` can never leak a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Command").field(&self.shown).finish()
    }
}

/// AUTH payloads travel in commands: overwritten when the command goes.
impl Drop for Command {
    fn drop(&mut self) {
        self.wire.zeroize();
    }
}

impl Command {
    /// A command from its wire form (with CRLF), shown as is.
    fn plain(wire: String) -> Command {
        let shown = wire.trim_end_matches("\r\n").to_owned();
        Command { wire, shown }
    }

    /// A command whose text is secret; the trace shows `shown` instead. `line` is
    /// copied once into a buffer of the exact size and overwritten, so no copy of
    /// the secret is left in freed memory (the command's own text is overwritten
    /// when it is dropped).
    pub(crate) fn secret(mut line: String, shown: String) -> Command {
        let mut wire = String::with_capacity(line.len() + 2);
        wire.push_str(&line);
        wire.push_str("\r\n");
        line.zeroize();
        Command { wire, shown }
    }

    /// A secret line shown as `[redacted]`.
    pub(crate) fn redacted(line: String) -> Command {
        Command::secret(line, REDACTED.to_owned())
    }

    /// A public line (no CRLF) — used for AUTH verbs without payload.
    pub(crate) fn line(line: String) -> Command {
        Command::plain(format!("{line}\r\n"))
    }

    pub(crate) fn wire(&self) -> &[u8] {
        self.wire.as_bytes()
    }

    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// The words of a redacted command that the trace does not show (the
    /// base64 payloads), so that a server quoting them back can be redacted.
    pub(crate) fn secret_words(&self) -> Vec<String> {
        let wire = self.wire.trim_end_matches("\r\n");
        if wire == self.shown {
            return Vec::new();
        }
        let shown: Vec<&str> = self.shown.split_whitespace().collect();
        wire.split_whitespace()
            .filter(|w| !shown.contains(w))
            .map(str::to_owned)
            .collect()
    }

    /// `EHLO domain` (RFC 5321 §4.1.1.1).
    pub(crate) fn ehlo(domain: &str) -> Result<Command, SmtpError> {
        let domain = check_setting(domain, "domain")?;
        Ok(Command::plain(
            Ehlo::new(ClientId::Domain(domain.to_owned())).to_string(),
        ))
    }

    /// `LHLO domain` (RFC 2033 §4.1), LMTP's EHLO.
    pub(crate) fn lhlo(domain: &str) -> Result<Command, SmtpError> {
        let domain = check_setting(domain, "domain")?;
        Ok(Command::line(format!("LHLO {domain}")))
    }

    /// `HELO domain`, for servers that refuse EHLO.
    pub(crate) fn helo(domain: &str) -> Result<Command, SmtpError> {
        let domain = check_setting(domain, "domain")?;
        Ok(Command::line(format!("HELO {domain}")))
    }

    /// `STARTTLS` (RFC 3207 §4).
    pub(crate) fn starttls() -> Command {
        Command::plain(Starttls.to_string())
    }

    /// `DATA` (RFC 5321 §4.1.1.4).
    pub(crate) fn data() -> Command {
        Command::plain(Data.to_string())
    }

    /// `RSET` (RFC 5321 §4.1.1.5), between two messages of one session.
    pub(crate) fn rset() -> Command {
        Command::plain(Rset.to_string())
    }

    pub(crate) fn quit() -> Command {
        Command::plain(Quit.to_string())
    }

    /// `MAIL FROM:<from> params` (RFC 5321 §4.1.1.2). An empty sender or
    /// `MAILER-DAEMON` sends the null reverse path, as msmtp does.
    pub(crate) fn mail(from: &str, params: &[MailParameter]) -> Result<Command, SmtpError> {
        let path = if from.is_empty() || from.eq_ignore_ascii_case("MAILER-DAEMON") {
            ""
        } else {
            check_address(from, "envelope from")?
        };
        let mut line = format!("MAIL FROM:<{path}>");
        for p in params {
            line.push_str(&format!(" {p}"));
        }
        Ok(Command::line(line))
    }

    /// `RCPT TO:<to> params` (RFC 5321 §4.1.1.3).
    pub(crate) fn rcpt(to: &str, params: &[RcptParameter]) -> Result<Command, SmtpError> {
        let to = check_address(to, "recipient")?;
        let mut line = format!("RCPT TO:<{to}>");
        for p in params {
            line.push_str(&format!(" {p}"));
        }
        Ok(Command::line(line))
    }
}

/// Refuses an account setting that would break the command line it goes
/// into: a CR or LF ends the line early (RFC 5321 §2.3.8: CR and LF travel
/// only as the CRLF that ends a command), so `domain x\r\nRCPT TO:<…>` would
/// inject a command; a NUL is a field separator inside AUTH PLAIN (RFC 4616).
/// `setting` names the msmtprc command, so the user knows what to fix.
pub(crate) fn check_setting<'a>(value: &'a str, setting: &str) -> Result<&'a str, SmtpError> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(SmtpError::new(
            ErrorKind::InvalidSetting,
            format!(
                "invalid {setting} {value:?}: it contains a line break or NUL character, \
                 which would end the SMTP command early"
            ),
        ));
    }
    Ok(value)
}

/// Refuses addresses that would break the command line: empty, control characters
/// (a CR/LF would inject commands), and angle brackets or whitespace outside a
/// quoted local part (`"john doe"@example.org` is a valid RFC 5321 mailbox).
fn check_address<'a>(address: &'a str, role: &str) -> Result<&'a str, SmtpError> {
    let bad = address.is_empty()
        || address.chars().any(char::is_control)
        || rsmtp_core::quoting::unquoted(address)
            .any(|(_, c)| c.is_whitespace() || c == '<' || c == '>');
    if bad {
        return Err(SmtpError::new(
            ErrorKind::InvalidAddress,
            format!("invalid {role} address {address:?}"),
        ));
    }
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::transport::smtp::extension::MailBodyParameter;

    #[test]
    fn wire_forms() {
        assert_eq!(
            Command::ehlo("host.example").unwrap().wire(),
            b"EHLO host.example\r\n"
        );
        assert_eq!(
            Command::ehlo("host.example").unwrap().shown(),
            "EHLO host.example"
        );
        assert_eq!(Command::helo("h").unwrap().wire(), b"HELO h\r\n");
        assert_eq!(Command::starttls().wire(), b"STARTTLS\r\n");
        assert_eq!(Command::data().wire(), b"DATA\r\n");
        assert_eq!(Command::quit().wire(), b"QUIT\r\n");
    }

    #[test]
    fn mail_with_parameters() {
        let params = [
            MailParameter::Size(1234),
            MailParameter::Body(MailBodyParameter::EightBitMime),
            MailParameter::SmtpUtfEight,
            MailParameter::Other {
                keyword: "RET".into(),
                value: Some("HDRS".into()),
            },
        ];
        let c = Command::mail("a@example.org", &params).unwrap();
        assert_eq!(
            c.shown(),
            "MAIL FROM:<a@example.org> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS"
        );
        assert_eq!(Command::mail("", &[]).unwrap().shown(), "MAIL FROM:<>");
        assert_eq!(
            Command::mail("mailer-daemon", &[]).unwrap().shown(),
            "MAIL FROM:<>"
        );
        assert_eq!(
            Command::mail("root", &[]).unwrap().shown(),
            "MAIL FROM:<root>"
        );
    }

    #[test]
    fn rcpt_with_notify() {
        let p = [RcptParameter::Other {
            keyword: "NOTIFY".into(),
            value: Some("SUCCESS,FAILURE".into()),
        }];
        let c = Command::rcpt("b@example.org", &p).unwrap();
        assert_eq!(
            c.wire(),
            b"RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE\r\n"
        );
    }

    #[test]
    fn injection_refused() {
        for bad in ["a@b\r\nRSET", "<a@b>", "a b@c", "", "a@b\0"] {
            let e = Command::rcpt(bad, &[]).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::InvalidAddress, "{bad:?}");
        }
        assert!(Command::mail("a@b\nDATA", &[]).is_err());
    }

    #[test]
    fn line_breaks_and_nul_in_settings_refused() {
        for bad in ["x\r\nRCPT TO:<evil@x.org>", "x\rMAIL", "x\nQUIT", "x\0y"] {
            for e in [
                Command::ehlo(bad).unwrap_err(),
                Command::helo(bad).unwrap_err(),
            ] {
                assert_eq!(
                    (e.kind(), e.exit_code().code()),
                    (&ErrorKind::InvalidSetting, 78)
                );
                assert!(e.to_string().starts_with("invalid domain \""), "{e}");
                assert!(
                    !e.to_string().contains('\n'),
                    "quoted, not printed raw: {e}"
                );
            }
        }
        assert!(check_setting("mail.example.org", "domain").is_ok());
    }

    #[test]
    fn redacted_commands_hide_the_payload() {
        let c = Command::secret(
            "AUTH PLAIN AGFsaWNlAHNlY3JldA==".into(),
            "AUTH PLAIN [redacted]".into(),
        );
        assert_eq!(c.wire(), b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
        assert_eq!(c.shown(), "AUTH PLAIN [redacted]");
        assert!(!format!("{c:?}").contains("AGFsaWNl"));
        assert_eq!(Command::redacted("c2VjcmV0".into()).shown(), "[redacted]");
        assert_eq!(c.secret_words(), ["AGFsaWNlAHNlY3JldA=="]);
        assert_eq!(
            Command::redacted("c2VjcmV0".into()).secret_words(),
            ["c2VjcmV0"]
        );
        assert!(Command::line("AUTH LOGIN".into()).secret_words().is_empty());
    }
}
