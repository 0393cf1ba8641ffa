//! [`TokenClient`]: the access token for one account — from the store while it is
//! fresh, else from the token endpoint under the store's lock — and the one-time
//! login of the device and authcode flows.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rsmtp_core::Secret;
use serde_json::{Map, Value};

use crate::error::OAuthError;
use crate::http::{Answer, Http};
pub use crate::interaction::Interaction;
use crate::settings::{Flow, OAuthSettings};
use crate::store::{Stored, TokenStore};

/// An access token is renewed when less than this is left of it (or less than half
/// its lifetime, for short-lived ones): a message is never sent with a token that
/// runs out during the SMTP session.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Lifetime assumed when the server names none (RFC 6749 §5.1 only recommends
/// `expires_in`); short, so a wrong guess costs one extra request.
const DEFAULT_LIFETIME: u64 = 600;

/// Where an access token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obtained {
    /// From the store, still fresh: no request was made.
    Cached,
    /// From the store after waiting for another process's refresh.
    RefreshedByAnother,
    /// A request to the token endpoint (refresh, client credentials or login).
    Requested,
}

/// A usable access token.
#[derive(Debug)]
pub struct AccessToken {
    /// The token itself (`***` when printed).
    pub secret: Secret,
    /// Unix seconds when it expires.
    pub expires_at: u64,
    /// Whether a request was made for it.
    pub obtained: Obtained,
}

/// One account's OAuth 2.0 client: settings, HTTPS client and token store.
pub struct TokenClient {
    settings: OAuthSettings,
    /// Made on first use: loading the trust roots is most of a cached send's cost.
    http: std::cell::OnceCell<Http>,
    store: TokenStore,
}

impl TokenClient {
    /// Check the settings (no file is read and no request made yet).
    pub fn new(settings: OAuthSettings) -> Result<TokenClient, OAuthError> {
        settings.check()?;
        let store = TokenStore::new(
            &settings.store_dir,
            settings.user.as_deref().unwrap_or(&settings.account),
            &settings.token_url,
            &settings.client_id,
            &settings.scope,
        )
        .with_keyring(settings.keyring.clone());
        Ok(TokenClient {
            settings,
            http: std::cell::OnceCell::new(),
            store,
        })
    }

    /// The HTTPS client, set up on first use.
    fn http(&self) -> Result<&Http, OAuthError> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let http = Http::new(&self.settings.trust, self.settings.timeout)?;
        Ok(self.http.get_or_init(|| http))
    }

    /// The stored access token if it is fresh, without a lock or a request: what a
    /// send tries first, before the client secret is even looked up.
    pub fn cached_token(&self) -> Result<Option<AccessToken>, OAuthError> {
        Ok(self.fresh(self.store.load()?.as_ref(), Obtained::Cached))
    }

    /// The account's token store.
    pub fn store(&self) -> &TokenStore {
        &self.store
    }

    /// A token valid for at least [`REFRESH_MARGIN`]: the stored one, else a new one
    /// (refresh, or client credentials), asked for by one process at a time.
    pub fn access_token(&self) -> Result<AccessToken, OAuthError> {
        if let Some(token) = self.cached_token()? {
            return Ok(token);
        }
        let _lock = self.store.lock(self.settings.timeout)?;
        // Another process may have refreshed while this one waited for the lock.
        let stored = self.store.load()?;
        if let Some(token) = self.fresh(stored.as_ref(), Obtained::RefreshedByAnother) {
            return Ok(token);
        }
        let map = match self.settings.flow {
            Flow::ClientCredentials => self.client_credentials()?,
            Flow::Device | Flow::AuthCode => {
                let refresh = stored
                    .as_ref()
                    .filter(|s| self.same_client(s))
                    .and_then(|s| s.refresh_token.clone())
                    .map(Secret::new)
                    .ok_or_else(|| OAuthError::NotLoggedIn {
                        account: self.settings.account.clone(),
                    })?;
                self.refresh(&refresh)?
            }
        };
        self.keep(map, stored.as_ref())
    }

    /// `--oauth-login`: the account's flow once, with a person; the tokens are stored.
    /// For client credentials this only checks that a token can be had.
    pub fn login(&self, ui: &mut dyn Interaction) -> Result<AccessToken, OAuthError> {
        let map = match self.settings.flow {
            Flow::ClientCredentials => self.client_credentials()?,
            Flow::Device => crate::device::run(self.http()?, &self.settings, ui)?,
            Flow::AuthCode => crate::authcode::run(self.http()?, &self.settings, ui)?,
        };
        let _lock = self.store.lock(self.settings.timeout)?;
        self.keep(map, None)
    }

    /// `--oauth-logout`: forget the stored tokens, in the keyring and the file; where
    /// there were some.
    pub fn logout(&self) -> Result<Vec<crate::Location>, OAuthError> {
        let _lock = self.store.lock(self.settings.timeout)?;
        self.store.remove()
    }

    fn same_client(&self, s: &Stored) -> bool {
        s.token_url == self.settings.token_url && s.client_id == self.settings.client_id
    }

    /// The stored access token, if it belongs to this client and is fresh.
    fn fresh(&self, stored: Option<&Stored>, obtained: Obtained) -> Option<AccessToken> {
        let s = stored.filter(|s| self.same_client(s))?;
        let token = s.access_token.as_ref()?;
        let lifetime = s.expires_at.saturating_sub(s.issued_at);
        let margin = REFRESH_MARGIN.as_secs().min(lifetime / 2);
        (now() + margin < s.expires_at).then(|| AccessToken {
            secret: Secret::new(token.as_str()),
            expires_at: s.expires_at,
            obtained,
        })
    }

    fn client_credentials(&self) -> Result<Map<String, Value>, OAuthError> {
        let secret = self
            .settings
            .client_secret
            .as_ref()
            .ok_or(OAuthError::Missing {
                flow: "client_credentials",
                command: "oauth2_client_secret or oauth2_client_secret_eval",
            })?;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.settings.client_id.as_str()),
            ("client_secret", secret.expose()),
            ("scope", self.settings.scope.as_str()),
        ];
        match self.http()?.post_form(&self.settings.token_url, &form)? {
            Answer::Ok(map) => Ok(map),
            Answer::Error { error, description } => Err(OAuthError::Refused {
                url: self.settings.token_url.clone(),
                error,
                description,
            }),
        }
    }

    /// RFC 6749 §6, always with `scope` (Microsoft: AADSTS900144 without it).
    fn refresh(&self, refresh_token: &Secret) -> Result<Map<String, Value>, OAuthError> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", self.settings.client_id.as_str()),
            ("scope", self.settings.scope.as_str()),
        ];
        if let Some(secret) = &self.settings.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        match self.http()?.post_form(&self.settings.token_url, &form)? {
            Answer::Ok(map) => Ok(map),
            Answer::Error { error, description } if error == "invalid_grant" => {
                Err(OAuthError::LoginExpired {
                    account: self.settings.account.clone(),
                    error,
                    description,
                })
            }
            Answer::Error { error, description } => Err(OAuthError::Refused {
                url: self.settings.token_url.clone(),
                error,
                description,
            }),
        }
    }

    /// Store a token response (the refresh token it carries replaces the old one;
    /// without one the old one is kept) and return its access token.
    fn keep(
        &self,
        map: Map<String, Value>,
        previous: Option<&Stored>,
    ) -> Result<AccessToken, OAuthError> {
        let granted = granted(&self.settings.token_url, &map)?;
        let issued_at = now();
        let expires_at = issued_at + granted.expires_in;
        let refresh_token = granted.refresh_token.or_else(|| {
            previous
                .filter(|s| self.same_client(s))
                .and_then(|s| s.refresh_token.clone())
        });
        let stored = Stored {
            refresh_token,
            access_token: Some(granted.access_token.expose().to_string()),
            issued_at,
            expires_at,
            token_url: self.settings.token_url.clone(),
            client_id: self.settings.client_id.clone(),
        };
        self.store.save(&stored)?;
        Ok(AccessToken {
            secret: granted.access_token,
            expires_at,
            obtained: Obtained::Requested,
        })
    }
}

/// A successful token response (RFC 6749 §5.1).
pub(crate) struct Granted {
    pub(crate) access_token: Secret,
    pub(crate) refresh_token: Option<String>,
    pub(crate) expires_in: u64,
}

pub(crate) fn granted(url: &str, map: &Map<String, Value>) -> Result<Granted, OAuthError> {
    let bad = |why: &str| OAuthError::BadAnswer {
        url: url.to_string(),
        why: why.to_string(),
    };
    let access_token = map
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| bad("no usable access_token"))?;
    if let Some(kind) = map.get("token_type").and_then(Value::as_str) {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(bad("token_type is not Bearer"));
        }
    }
    // A number, or (some servers) a number in a string.
    let expires_in = match map.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => Some(DEFAULT_LIFETIME),
    }
    .ok_or_else(|| bad("expires_in is not a number of seconds"))?;
    let refresh_token = map
        .get("refresh_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    Ok(Granted {
        access_token: Secret::new(access_token),
        refresh_token,
        expires_in,
    })
}

/// Unix seconds now.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(json: &str) -> Map<String, Value> {
        match serde_json::from_str(json) {
            Ok(Value::Object(m)) => m,
            _ => panic!("object"),
        }
    }

    fn client(dir: &std::path::Path) -> TokenClient {
        TokenClient::new(OAuthSettings {
            account: "office365".into(),
            user: None,
            flow: Flow::Device,
            token_url: "https://login.example/token".into(),
            device_url: Some("https://login.example/devicecode".into()),
            auth_url: None,
            redirect_port: None,
            client_id: "id".into(),
            client_secret: None,
            scope: "s".into(),
            auth_params: Vec::new(),
            trust: crate::settings::TrustRoots::System,
            timeout: None,
            store_dir: dir.to_owned(),
            keyring: None,
        })
        .expect("client")
    }

    fn stored(issued_at: u64, expires_at: u64, client_id: &str) -> Stored {
        Stored {
            refresh_token: Some("rt".into()),
            access_token: Some("at".into()),
            issued_at,
            expires_at,
            token_url: "https://login.example/token".into(),
            client_id: client_id.into(),
        }
    }

    #[test]
    fn a_stored_token_is_used_until_shortly_before_it_expires() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = client(tmp.path());
        assert!(c.cached_token().expect("empty store").is_none());
        let t = now();
        // An hour-long token with 10 minutes left: used.
        c.store
            .save(&stored(t - 3000, t + 600, "id"))
            .expect("save");
        let token = c.cached_token().expect("read").expect("fresh");
        assert_eq!(token.secret.expose(), "at");
        assert_eq!(token.obtained, Obtained::Cached);
        // 30 s left of an hour: inside the margin, renewed.
        c.store.save(&stored(t - 3570, t + 30, "id")).expect("save");
        assert!(c.cached_token().expect("read").is_none());
        // A 60 s token 40 s from its end: the margin is half its life (30 s), used.
        c.store.save(&stored(t - 20, t + 40, "id")).expect("save");
        assert!(c.cached_token().expect("read").is_some());
        // expires_in 0: never used.
        c.store.save(&stored(t, t, "id")).expect("save");
        assert!(c.cached_token().expect("read").is_none());
        // Another client's token (the configuration changed): not used.
        c.store.save(&stored(t, t + 3600, "other")).expect("save");
        assert!(c.cached_token().expect("read").is_none());
    }

    #[test]
    fn without_a_login_the_error_names_the_command() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let e = client(tmp.path()).access_token().expect_err("no login");
        assert!(matches!(e, OAuthError::NotLoggedIn { .. }));
        assert!(
            e.to_string().contains("rsmtp --oauth-login -a office365"),
            "{e}"
        );
        assert_eq!(e.exit_code(), rsmtp_core::ExitCode::NoPerm);
    }

    #[test]
    fn token_responses() {
        let g = granted(
            "u",
            &map(r#"{"access_token":"at","token_type":"Bearer","expires_in":3599,"refresh_token":"rt"}"#),
        )
        .expect("granted");
        assert_eq!(
            (
                g.access_token.expose(),
                g.refresh_token.as_deref(),
                g.expires_in
            ),
            ("at", Some("rt"), 3599)
        );
        let g = granted("u", &map(r#"{"access_token":"at","expires_in":"60"}"#)).expect("string");
        assert_eq!(g.expires_in, 60);
        assert!(g.refresh_token.is_none());
        assert!(granted("u", &map(r#"{"token_type":"Bearer"}"#)).is_err());
        assert!(granted("u", &map(r#"{"access_token":"a b"}"#)).is_err());
        assert!(granted("u", &map(r#"{"access_token":"a","token_type":"mac"}"#)).is_err());
    }
}
