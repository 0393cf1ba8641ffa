//! OAuth 2.0 for an account with `oauth2_flow`: its settings for `rsmtp-oauth`, the
//! `--oauth-login`, `--oauth-token` and `--oauth-logout` modes, the person's side of a
//! login on the terminal, and what to tell a user whom a server refuses for want of
//! OAuth.

use std::path::PathBuf;

use rsmtp_config::{Account, OAuthFlow, OAuthProvider, TrustFile};
use rsmtp_oauth::{Flow, OAuthSettings, TokenClient, TrustRoots};

use crate::exit::ExitCode;
use crate::failure::Failure;

/// The `rsmtp-oauth` settings of an account that has `oauth2_flow`; the client secret
/// is looked up (`oauth2_client_secret_eval` run) only `with_secret`.
pub fn settings(account: &Account, with_secret: bool) -> Result<Option<OAuthSettings>, Failure> {
    let Some(flow) = account.oauth2_flow else {
        return Ok(None);
    };
    let missing = |command: &str| {
        Failure::new(
            ExitCode::Config,
            format!("oauth2_flow {flow} needs {command}"),
        )
    };
    let google = account.oauth2_provider == Some(OAuthProvider::Google)
        || account
            .oauth2_auth_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://accounts.google.com/"));
    let auth_params = if google && flow == OAuthFlow::AuthCode {
        // Without these Google grants no refresh token (or only the first time).
        vec![
            ("access_type".to_string(), "offline".to_string()),
            ("prompt".to_string(), "consent".to_string()),
        ]
    } else {
        Vec::new()
    };
    Ok(Some(OAuthSettings {
        account: if account.name.is_empty() {
            "default".to_string()
        } else {
            account.name.clone()
        },
        user: account.user.clone(),
        flow: match flow {
            OAuthFlow::ClientCredentials => Flow::ClientCredentials,
            OAuthFlow::Device => Flow::Device,
            OAuthFlow::AuthCode => Flow::AuthCode,
        },
        token_url: account
            .oauth2_token_url
            .clone()
            .ok_or_else(|| missing("oauth2_token_url"))?,
        device_url: account.oauth2_device_url.clone(),
        auth_url: account.oauth2_auth_url.clone(),
        redirect_port: account.oauth2_redirect_port,
        client_id: account
            .oauth2_client_id
            .clone()
            .ok_or_else(|| missing("oauth2_client_id"))?,
        client_secret: if with_secret {
            account.oauth2_client_secret()?
        } else {
            None
        },
        scope: account.oauth2_scope.clone().unwrap_or_default(),
        auth_params,
        trust: match &account.tls_trust_file {
            Some(TrustFile::File(path)) => TrustRoots::File(path.clone()),
            Some(TrustFile::System) | None => TrustRoots::System,
        },
        timeout: account.timeout.duration(),
        store_dir: store_dir(),
        keyring: Some(std::sync::Arc::new(crate::keyring::SecretService)),
    }))
}

/// The token store directory for the user running rsmtp: see
/// [`rsmtp_oauth::default_store_dir`]; as for the queue, a user whose home cannot hold
/// it (www-data in the PHP images, home `/var/www` owned by root) gets
/// `/var/tmp/rsmtp-<uid>/oauth` instead of a send that fails.
fn store_dir() -> PathBuf {
    let root = rustix::process::geteuid().is_root();
    let dir = rsmtp_oauth::default_store_dir(
        root,
        std::env::var_os("XDG_STATE_HOME").map(PathBuf::from),
        &rsmtp_config::home_dir(),
    );
    let named = std::env::var_os(rsmtp_oauth::STORE_DIR_ENV).is_some_and(|d| !d.is_empty());
    if root || named || dir.is_dir() || creatable(&dir) {
        dir
    } else {
        rsmtp_config::queue_fallback_dir().join("oauth")
    }
}

/// Whether `dir` could be made: the deepest directory on its path that exists is
/// writable by us.
fn creatable(dir: &std::path::Path) -> bool {
    dir.ancestors()
        .find(|a| a.is_dir())
        .is_some_and(|a| rustix::fs::access(a, rustix::fs::Access::WRITE_OK).is_ok())
}

/// The access token a send authenticates with: the cached one (no secret looked up,
/// no trust roots loaded, no lock), else one from the token endpoint.
pub fn access_token(account: &Account) -> Result<rsmtp_oauth::AccessToken, Failure> {
    if let Some(settings) = settings(account, false)? {
        if let Some(token) = TokenClient::new(settings)?.cached_token()? {
            return Ok(token);
        }
    }
    Ok(client(account)?.access_token()?)
}

/// What `-d` says about the access token a session authenticates with: where it came
/// from and until when it is valid — never the token.
pub fn token_origin(obtained: rsmtp_oauth::Obtained, expires_at: u64) -> String {
    let from = match obtained {
        rsmtp_oauth::Obtained::Cached => "from the cache (no request)",
        rsmtp_oauth::Obtained::RefreshedByAnother => {
            "from the cache, refreshed by another rsmtp process while this one waited"
        }
        rsmtp_oauth::Obtained::Requested => "new from the token endpoint (refresh or grant)",
    };
    let left = expires_at.saturating_sub(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    format!("OAuth 2.0 access token: {from}, valid for {left} s more")
}

/// The token client of an account with `oauth2_flow`.
pub fn client(account: &Account) -> Result<TokenClient, Failure> {
    let settings = settings(account, true)?.ok_or_else(|| {
        Failure::new(
            ExitCode::Config,
            format!(
                "{} has no oauth2_flow: add `oauth2_flow device` (or client_credentials, \
                 authcode) and the oauth2_* lines (see rsmtprc(5))",
                account.describe()
            ),
        )
    })?;
    Ok(TokenClient::new(settings)?)
}

/// What to add when a server refuses a password login because basic authentication
/// is off (`550 5.7.30`, Microsoft 365 from the end of 2026): the lines of an OAuth
/// account.
pub fn basic_auth_off_hint(account: &Account) -> String {
    let name = if account.name.is_empty() {
        "default"
    } else {
        &account.name
    };
    format!(
        "this server has basic authentication (a password) switched off: use OAuth 2.0. \
         Add to the account (then run `rsmtp --oauth-login -a {name}` once):\n\
         \x20   auth            xoauth2\n\
         \x20   oauth2_provider microsoft\n\
         \x20   oauth2_tenant   YOUR-TENANT.onmicrosoft.com\n\
         \x20   oauth2_client_id  APPLICATION-ID-OF-YOUR-APP-REGISTRATION\n\
         \x20   oauth2_flow     device        # or client_credentials with oauth2_client_secret_eval\n\
         (man 5 rsmtprc, \"Microsoft 365\")"
    )
}

/// What usually causes `535 5.7.3` to an XOAUTH2/OAUTHBEARER login.
pub const XOAUTH2_REFUSED_HINT: &str = "the server refused the OAuth 2.0 token. Usual causes: \
     SMTP AUTH is disabled for the mailbox (Exchange admin center → the mailbox → Email apps → \
     Authenticated SMTP, or Set-CASMailbox -SmtpClientAuthenticationDisabled $false); the app \
     registration lacks the SMTP.Send (delegated) or SMTP.SendAsApp (application) permission \
     or its admin consent; for client credentials, no Exchange service principal with \
     FullAccess to the mailbox (New-ServicePrincipal, Add-MailboxPermission); `user` is not \
     the mailbox the token was issued for";
