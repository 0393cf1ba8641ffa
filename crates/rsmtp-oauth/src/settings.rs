//! What a token request needs to know about the account: a plain value the caller
//! builds from its configuration (this crate reads no msmtprc), checked once by
//! [`OAuthSettings::check`] before any request.

use std::path::PathBuf;
use std::time::Duration;

use rsmtp_core::Secret;

use crate::error::OAuthError;

/// The grant that gets the account its tokens (msmtprc `oauth2_flow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// RFC 6749 §4.4: the application's own identity; no login, no refresh token.
    ClientCredentials,
    /// RFC 8628: a code entered on another device, then refresh tokens.
    Device,
    /// RFC 6749 §4.1 + RFC 7636 PKCE with a loopback redirect, then refresh tokens.
    AuthCode,
}

impl Flow {
    /// The msmtprc spelling.
    pub fn keyword(self) -> &'static str {
        match self {
            Flow::ClientCredentials => "client_credentials",
            Flow::Device => "device",
            Flow::AuthCode => "authcode",
        }
    }
}

/// Which certificate authorities the HTTPS client trusts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TrustRoots {
    /// The system bundle (`/etc/ssl/certs/ca-certificates.crt`); the compiled-in
    /// Mozilla roots when it does not exist (msmtp's `tls_trust_file system`).
    #[default]
    System,
    /// Exactly the PEM certificates in this file (`tls_trust_file FILE`).
    File(PathBuf),
}

/// One account's OAuth 2.0 client.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// The account name: in the store's file name and in every hint
    /// (`rsmtp --oauth-login -a NAME`).
    pub account: String,
    /// The mailbox the tokens are for (`user`); with the endpoint, client and scope
    /// it names the store, so an account and its alias (`account default : backup`)
    /// share one login. `None`: the account name does.
    pub user: Option<String>,
    /// The grant.
    pub flow: Flow,
    /// The token endpoint (`oauth2_token_url`).
    pub token_url: String,
    /// The device authorization endpoint (`oauth2_device_url`), for [`Flow::Device`].
    pub device_url: Option<String>,
    /// The authorization endpoint (`oauth2_auth_url`), for [`Flow::AuthCode`].
    pub auth_url: Option<String>,
    /// The loopback port of the redirect (`None`: any free port).
    pub redirect_port: Option<u16>,
    /// `oauth2_client_id`.
    pub client_id: String,
    /// `oauth2_client_secret(_eval)`; `None` for a public client.
    pub client_secret: Option<Secret>,
    /// Space-separated scopes (`oauth2_scope`), sent with every grant and refresh.
    pub scope: String,
    /// Extra query parameters of the authorization URL (Google's
    /// `access_type=offline`, `prompt=consent`: without them no refresh token).
    pub auth_params: Vec<(String, String)>,
    /// Trusted roots for the endpoints (`tls_trust_file`).
    pub trust: TrustRoots,
    /// The longest any one request may take (`timeout`); `None`: no limit.
    pub timeout: Option<Duration>,
    /// Where the tokens are kept (see [`crate::default_store_dir`]): the file there,
    /// and the lock that serialises refreshes.
    pub store_dir: PathBuf,
    /// The keyring tried before the file (`None`: the file only).
    pub keyring: Option<std::sync::Arc<dyn crate::Keyring>>,
}

impl OAuthSettings {
    /// Refuses endpoints that are not HTTPS (or loopback HTTP) and a flow without the
    /// endpoint it needs, before anything is sent. (The client secret of client
    /// credentials is checked when a request needs it: a cached token does not.)
    pub fn check(&self) -> Result<(), OAuthError> {
        check_url("oauth2_token_url", &self.token_url)?;
        let missing = |command| OAuthError::Missing {
            flow: self.flow.keyword(),
            command,
        };
        match self.flow {
            Flow::ClientCredentials => {}
            Flow::Device => {
                let url = self
                    .device_url
                    .as_deref()
                    .ok_or_else(|| missing("oauth2_device_url"))?;
                check_url("oauth2_device_url", url)?;
            }
            Flow::AuthCode => {
                let url = self
                    .auth_url
                    .as_deref()
                    .ok_or_else(|| missing("oauth2_auth_url"))?;
                check_url("oauth2_auth_url", url)?;
            }
        }
        Ok(())
    }
}

/// `https://…`, or `http://` to the loopback (`127.0.0.0/8`, `[::1]`, `localhost`):
/// nothing secret crosses a network in clear.
pub fn check_url(command: &'static str, url: &str) -> Result<(), OAuthError> {
    let insecure = || OAuthError::InsecureUrl {
        command,
        url: url.to_string(),
    };
    let lower = url.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("https://") {
        return if host_of(rest).is_empty() {
            Err(insecure())
        } else {
            Ok(())
        };
    }
    let rest = lower.strip_prefix("http://").ok_or_else(insecure)?;
    let host = host_of(rest);
    let loopback = host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(insecure())
    }
}

/// The host of `rest` (a URL after its `scheme://`), without user info or port.
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    if host_port.starts_with('[') {
        return host_port
            .find(']')
            .map_or(host_port, |end| &host_port[..=end]);
    }
    host_port.split(':').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        for ok in [
            "https://login.microsoftonline.com/t/oauth2/v2.0/token",
            "http://127.0.0.1:8080/token",
            "http://127.0.0.2/token",
            "http://localhost/token",
            "HTTP://LOCALHOST:9/token",
            "http://[::1]:8080/token",
        ] {
            assert!(check_url("oauth2_token_url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://login.example/token",
            "http://127.0.0.1.evil.example/token",
            "http://localhost@evil.example/token",
            "ftp://127.0.0.1/token",
            "login.example/token",
            "https:///token",
            "http://10.0.0.1/token",
        ] {
            let e = check_url("oauth2_token_url", bad).expect_err(bad);
            assert_eq!(e.exit_code(), rsmtp_core::ExitCode::Config);
        }
    }
}
