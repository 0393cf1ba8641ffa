//! What can go wrong getting a token, each with the sysexits code its callers act on
//! (cron, PHP and the queue read the code) and a sentence that says what to do.
//! No variant holds a token or a client secret; text from the server (its
//! `error_description`) is cut to one short line.

use std::io;
use std::path::PathBuf;

use rsmtp_core::ExitCode;

/// Why no access token could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// A device or authcode account that never logged in (or logged out).
    #[error("no OAuth 2.0 login is stored for account {account}: run `rsmtp --oauth-login -a {account}` once")]
    NotLoggedIn {
        /// The account name.
        account: String,
    },
    /// The token endpoint refused the refresh token (`invalid_grant`: expired after
    /// 90 days unused, revoked, password changed): a person must log in again.
    #[error("the OAuth 2.0 login of account {account} is no longer valid ({error}{description}): run `rsmtp --oauth-login -a {account}`")]
    LoginExpired {
        /// The account name.
        account: String,
        /// The OAuth `error` code.
        error: String,
        /// `: ` and the server's description, or empty.
        description: String,
    },
    /// The token endpoint refused the request for another reason (`invalid_client`: a
    /// wrong secret; `invalid_scope`; `unauthorized_client`).
    #[error("the token endpoint {url} refused the request: {error}{description}")]
    Refused {
        /// The endpoint.
        url: String,
        /// The OAuth `error` code.
        error: String,
        /// `: ` and the server's description, or empty.
        description: String,
    },
    /// The person declined the sign-in (RFC 8628 `access_denied`, or an `error` in
    /// the authorization redirect).
    #[error("the sign-in was declined ({error}{description})")]
    Declined {
        /// The OAuth `error` code.
        error: String,
        /// `: ` and the server's description, or empty.
        description: String,
    },
    /// The device code expired before the person finished signing in.
    #[error("the device code expired before the sign-in was completed: run `rsmtp --oauth-login -a {account}` again and sign in within the time shown")]
    DeviceCodeExpired {
        /// The account name.
        account: String,
    },
    /// The endpoint could not be reached, or did not answer in time: temporary.
    #[error("cannot reach the OAuth 2.0 endpoint {url}: {reason}")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// What the network said.
        reason: String,
    },
    /// HTTP 5xx or 429 from the endpoint: temporary.
    #[error("the OAuth 2.0 endpoint {url} answered HTTP {status} (a temporary failure; rsmtp tries again later)")]
    ServerTrouble {
        /// The endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// TLS with the endpoint failed (an unknown certificate authority, a wrong name).
    #[error("TLS with the OAuth 2.0 endpoint {url} failed: {reason} (tls_trust_file names the trusted authorities)")]
    Tls {
        /// The endpoint.
        url: String,
        /// What rustls said.
        reason: String,
    },
    /// An answer that is not what RFC 6749 or RFC 8628 describes.
    #[error("the OAuth 2.0 endpoint {url} sent an answer rsmtp cannot use: {why}")]
    BadAnswer {
        /// The endpoint.
        url: String,
        /// What was wrong with it.
        why: String,
    },
    /// An endpoint URL that is neither `https://` nor `http://` on the loopback.
    #[error("{command} {url}: only https:// URLs are allowed (http:// only to 127.0.0.1, [::1] or localhost)")]
    InsecureUrl {
        /// The msmtprc command that set it.
        command: &'static str,
        /// The URL.
        url: String,
    },
    /// A setting the chosen flow needs is missing.
    #[error("oauth2_flow {flow} needs {command}")]
    Missing {
        /// The flow.
        flow: &'static str,
        /// The missing command.
        command: &'static str,
    },
    /// The trust file could not be used.
    #[error("cannot use the trust file {path}: {reason}")]
    TrustFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The token store (or its directory) could be written by someone else, is a
    /// symbolic link, or can be read by others.
    #[error("the OAuth 2.0 token store {path} {problem}; fix: {fix}")]
    UntrustedStore {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong (`is a symbolic link`, `can be read by group or others …`).
        problem: String,
        /// The command that fixes it.
        fix: String,
    },
    /// Another process held the store's lock (it refreshes the token) for longer
    /// than the account's `timeout`: temporary.
    #[error("another rsmtp process held the OAuth 2.0 token lock {path} for more than {waited} s (the account's timeout); a temporary failure, tried again later")]
    LockBusy {
        /// The lock file.
        path: PathBuf,
        /// How long this process waited, in seconds.
        waited: u64,
    },
    /// Reading or writing the token store failed.
    #[error("cannot {action} the OAuth 2.0 token store {path}: {reason}")]
    Store {
        /// `read`, `write`, `lock`, `create`, `remove`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// strerror text.
        reason: String,
    },
    /// The authorization redirect was missing, malformed, or for another login.
    #[error("authorization redirect: {0}")]
    Redirect(String),
    /// The person's side of a login could not be shown or read.
    #[error("{0}")]
    Interaction(String),
}

impl OAuthError {
    /// The sysexits code: 77 when a person or the configuration must act on the
    /// identity provider's side (log in again, fix the secret), 75 when trying later
    /// may work, 76 for a garbled answer, 78 for a local configuration problem.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            OAuthError::NotLoggedIn { .. }
            | OAuthError::LoginExpired { .. }
            | OAuthError::Refused { .. }
            | OAuthError::Declined { .. }
            | OAuthError::DeviceCodeExpired { .. }
            | OAuthError::Redirect(_) => ExitCode::NoPerm,
            OAuthError::Unreachable { .. }
            | OAuthError::ServerTrouble { .. }
            | OAuthError::LockBusy { .. } => ExitCode::TempFail,
            OAuthError::Tls { .. } => ExitCode::Unavailable,
            OAuthError::BadAnswer { .. } => ExitCode::Protocol,
            OAuthError::InsecureUrl { .. }
            | OAuthError::Missing { .. }
            | OAuthError::TrustFile { .. }
            | OAuthError::UntrustedStore { .. } => ExitCode::Config,
            OAuthError::Store { .. } | OAuthError::Interaction(_) => ExitCode::IoErr,
        }
    }

    /// Whether trying again later may succeed (the queue keeps the message).
    pub fn is_transient(&self) -> bool {
        self.exit_code() == ExitCode::TempFail
    }

    pub(crate) fn store(action: &'static str, path: &std::path::Path, e: io::Error) -> Self {
        OAuthError::Store {
            action,
            path: path.to_owned(),
            reason: rsmtp_core::strerror(&e),
        }
    }
}

/// `: description` for an error message, from text the server sent: one line, no
/// control characters, at most 300 characters; empty when there is none.
pub(crate) fn describe(description: Option<&str>) -> String {
    let Some(d) = description.map(str::trim).filter(|d| !d.is_empty()) else {
        return String::new();
    };
    let mut clean: String = d
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if d.chars().count() > 300 {
        clean.push('…');
    }
    format!(": {clean}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_one_short_line() {
        assert_eq!(describe(None), "");
        assert_eq!(describe(Some("  ")), "");
        assert_eq!(
            describe(Some("AADSTS70008: expired\r\nTrace ID: x")),
            ": AADSTS70008: expired  Trace ID: x"
        );
        assert_eq!(
            describe(Some(&"x".repeat(400))).chars().count(),
            2 + 300 + 1
        );
    }

    #[test]
    fn exit_codes_follow_what_the_caller_must_do() {
        let login = OAuthError::LoginExpired {
            account: "office365".into(),
            error: "invalid_grant".into(),
            description: String::new(),
        };
        assert_eq!(login.exit_code(), ExitCode::NoPerm);
        assert!(login
            .to_string()
            .contains("run `rsmtp --oauth-login -a office365`"));
        let down = OAuthError::Unreachable {
            url: "https://login.example/token".into(),
            reason: "Connection refused".into(),
        };
        assert_eq!(down.exit_code(), ExitCode::TempFail);
        assert!(down.is_transient());
    }
}
