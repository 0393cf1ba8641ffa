//! The AUTH mechanisms rsmtp can run, by their SASL names (RFC 4422): what an
//! account's `auth` names, what the server offers, what the session chooses.

use std::fmt;
use std::str::FromStr;

use crate::scram::ScramHash;

/// An AUTH mechanism rsmtp can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616): user name and password in one base64 line, in the
    /// clear inside it; safe only over TLS.
    Plain,
    /// `LOGIN` (draft-murchison-sasl-login): user name and password as two
    /// base64 answers to 334 prompts; as exposed as PLAIN, for old servers.
    Login,
    /// `CRAM-MD5` (RFC 2195): an HMAC-MD5 of the server's challenge keyed
    /// with the password, so the password itself never crosses the wire.
    CramMd5,
    /// `XOAUTH2` (Google's, also Microsoft's): user name and an OAuth2
    /// access token instead of a password.
    XOAuth2,
    /// `OAUTHBEARER` (RFC 7628): the standard form of XOAUTH2, an OAuth2
    /// bearer token with the server's host and port.
    OAuthBearer,
    /// `EXTERNAL` (RFC 4422 appendix A): the identity the TLS client
    /// certificate already proved; no password.
    External,
    /// `SCRAM-SHA-1` (RFC 5802): salted challenge-response that proves the
    /// password without sending it, and lets the client check the server too.
    ScramSha1,
    /// `SCRAM-SHA-256` (RFC 7677): SCRAM with SHA-256.
    ScramSha256,
    /// `SCRAM-SHA-1-PLUS`: SCRAM-SHA-1 bound to the TLS session (channel
    /// binding, RFC 5802 §6), so a man in the middle cannot relay it.
    ScramSha1Plus,
    /// `SCRAM-SHA-256-PLUS`: SCRAM-SHA-256 with channel binding; needs TLS
    /// (`tls-exporter` on TLS 1.3, `tls-server-end-point` on TLS 1.2).
    ScramSha256Plus,
}

impl Mechanism {
    /// The SASL name as the server announces it.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::External => "EXTERNAL",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Mechanism::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
        }
    }

    /// Every mechanism, for lists in help text and messages.
    pub const ALL: [Mechanism; 10] = [
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::CramMd5,
        Mechanism::XOAuth2,
        Mechanism::OAuthBearer,
        Mechanism::External,
        Mechanism::ScramSha1,
        Mechanism::ScramSha256,
        Mechanism::ScramSha1Plus,
        Mechanism::ScramSha256Plus,
    ];

    /// The hash of a SCRAM mechanism and whether it is channel-bound.
    pub(crate) fn scram(self) -> Option<(ScramHash, bool)> {
        match self {
            Mechanism::ScramSha1 => Some((ScramHash::Sha1, false)),
            Mechanism::ScramSha256 => Some((ScramHash::Sha256, false)),
            Mechanism::ScramSha1Plus => Some((ScramHash::Sha1, true)),
            Mechanism::ScramSha256Plus => Some((ScramHash::Sha256, true)),
            _ => None,
        }
    }

    /// Whether the exchange binds to the TLS session (the `-PLUS` variants).
    pub fn is_channel_bound(self) -> bool {
        self.scram().is_some_and(|(_, plus)| plus)
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mechanism {
    type Err = String;

    /// Case-insensitive SASL name (`plain`, `cram-md5`, `xoauth2`, …).
    fn from_str(s: &str) -> Result<Mechanism, String> {
        Mechanism::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unsupported authentication method {s:?}"))
    }
}
