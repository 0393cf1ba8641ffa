//! What the server offers in its EHLO reply (RFC 5321 §4.1.1.1): one keyword
//! per line after the first. We parse it ourselves because lettre's
//! `extension::ServerInfo` only knows 8BITMIME, SMTPUTF8, STARTTLS and three
//! AUTH methods, and we also need PIPELINING (RFC 2920), SIZE (RFC 1870),
//! DSN (RFC 3461), CRAM-MD5 and OAUTHBEARER.

use crate::reply::Reply;

/// The ESMTP extensions a server announced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The server's name from the first EHLO line.
    pub name: String,
    /// `SIZE n`: `Some(0)` means no fixed limit (RFC 1870 §4).
    pub size: Option<u64>,
    /// `PIPELINING` (RFC 2920): MAIL, RCPT… and DATA may go out in one write
    /// and their replies be read afterwards, in order; the session then also
    /// sends QUIT right behind the final dot when it may. Without it each
    /// command waits for its reply (one round trip per command).
    pub pipelining: bool,
    /// `STARTTLS` (RFC 3207): the server can turn this plain connection into
    /// TLS. With [`TlsMode::StartTls`](crate::TlsMode::StartTls) its absence is
    /// [`ErrorKind::StartTlsUnavailable`](crate::ErrorKind::StartTlsUnavailable)
    /// (exit 69), never a silent fallback to plain text.
    pub starttls: bool,
    /// `8BITMIME` (RFC 6152): the server takes bodies with bytes above 127;
    /// MAIL FROM then carries `BODY=8BITMIME` when the envelope says the body
    /// is 8-bit.
    pub eight_bit_mime: bool,
    /// `SMTPUTF8` (RFC 6531): the server takes UTF-8 in addresses and headers;
    /// MAIL FROM then carries `SMTPUTF8` when asked or when an envelope address
    /// is not ASCII.
    pub smtputf8: bool,
    /// `DSN` (RFC 3461): MAIL FROM may carry `RET=` and RCPT TO `NOTIFY=`
    /// (the account's `dsn_return` / `dsn_notify`). Asking for either without
    /// this is [`ErrorKind::ExtensionUnavailable`](crate::ErrorKind::ExtensionUnavailable)
    /// (exit 69).
    pub dsn: bool,
    /// `ETRN` (RFC 1985): the server can be asked to flush its queue for a
    /// domain. rsmtp never sends it; `--serverinfo` lists it, as msmtp does.
    pub etrn: bool,
    /// `CHUNKING` (RFC 3030, BDAT): recorded only; rsmtp always sends the body
    /// with DATA.
    pub chunking: bool,
    /// AUTH mechanisms, upper case, in the server's order (`AUTH=` accepted too).
    pub auth: Vec<String>,
    /// True when the reply came from HELO (no extensions at all).
    pub helo_only: bool,
}

impl Capabilities {
    /// Reads the capabilities from an EHLO reply.
    pub fn from_ehlo(reply: &Reply) -> Capabilities {
        let mut caps = Capabilities {
            name: reply
                .lines()
                .first()
                .and_then(|l| l.split_whitespace().next())
                .unwrap_or_default()
                .to_owned(),
            ..Capabilities::default()
        };
        for line in reply.lines().iter().skip(1) {
            let upper = line.trim().to_ascii_uppercase();
            let mut words = upper.split([' ', '=']).filter(|w| !w.is_empty());
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword {
                "PIPELINING" => caps.pipelining = true,
                "STARTTLS" => caps.starttls = true,
                "8BITMIME" => caps.eight_bit_mime = true,
                "SMTPUTF8" => caps.smtputf8 = true,
                "DSN" => caps.dsn = true,
                "ETRN" => caps.etrn = true,
                "CHUNKING" => caps.chunking = true,
                "SIZE" => caps.size = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0)),
                "AUTH" => {
                    for m in words {
                        if !caps.auth.iter().any(|a| a == m) {
                            caps.auth.push(m.to_owned());
                        }
                    }
                }
                _ => {}
            }
        }
        caps
    }

    /// Capabilities of a server that only answered HELO.
    pub(crate) fn helo(reply: &Reply) -> Capabilities {
        let first = reply.lines().iter().take(1).cloned().collect();
        let mut caps = Capabilities::from_ehlo(&Reply::new(reply.code(), first));
        caps.helo_only = true;
        caps
    }

    /// Whether AUTH `mechanism` is offered.
    pub fn offers_auth(&self, mechanism: &str) -> bool {
        self.auth.iter().any(|m| m.eq_ignore_ascii_case(mechanism))
    }

    /// True if the server announced nothing we know about.
    pub fn is_empty(&self) -> bool {
        self.size.is_none()
            && !self.pipelining
            && !self.starttls
            && !self.eight_bit_mime
            && !self.smtputf8
            && !self.dsn
            && !self.etrn
            && self.auth.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ehlo(lines: &[&str]) -> Capabilities {
        Capabilities::from_ehlo(&Reply::new(
            250,
            lines.iter().map(|s| s.to_string()).collect(),
        ))
    }

    #[test]
    fn postfix_like_reply() {
        let c = ehlo(&[
            "mail.example.org Hello",
            "PIPELINING",
            "SIZE 10240000",
            "STARTTLS",
            "AUTH PLAIN LOGIN CRAM-MD5",
            "AUTH=PLAIN LOGIN",
            "ENHANCEDSTATUSCODES",
            "8BITMIME",
            "DSN",
            "SMTPUTF8",
            "CHUNKING",
        ]);
        assert_eq!(c.name, "mail.example.org");
        assert!(
            c.pipelining && c.starttls && c.eight_bit_mime && c.dsn && c.smtputf8 && c.chunking
        );
        assert_eq!(c.size, Some(10_240_000));
        assert_eq!(c.auth, ["PLAIN", "LOGIN", "CRAM-MD5"]);
        assert!(c.offers_auth("cram-md5"));
        assert!(!c.offers_auth("XOAUTH2"));
        assert!(!c.is_empty());
    }

    #[test]
    fn size_without_number_means_unlimited() {
        assert_eq!(ehlo(&["h", "SIZE"]).size, Some(0));
        assert_eq!(ehlo(&["h", "size 12"]).size, Some(12));
        assert_eq!(ehlo(&["h"]).size, None);
    }

    #[test]
    fn nothing_offered() {
        let c = ehlo(&["h"]);
        assert!(c.is_empty());
        assert!(!c.pipelining);
    }

    #[test]
    fn keyword_prefixes_do_not_match() {
        let c = ehlo(&["h", "STARTTLSX", "PIPELININGS", "DSNX"]);
        assert!(c.is_empty());
    }
}
