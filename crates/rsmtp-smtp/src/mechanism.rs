//! The AUTH mechanisms rsmtp can run, by their SASL names (RFC 4422): what an
//! account's `auth` names, what the server offers, what the session chooses.

use std::fmt;
use std::str::FromStr;

use crate::scram::ScramHash;

/// An AUTH mechanism rsmtp can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    Plain,
    Login,
    CramMd5,
    XOAuth2,
    OAuthBearer,
    External,
    ScramSha1,
    ScramSha256,
    ScramSha1Plus,
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
