//! Completing an account for use, as msmtp does once it has chosen one:
//! refuse what rsmtp cannot honour, fill in computed defaults, expand `%`
//! patterns, and run msmtp's consistency checks (`check_account()`), plus the
//! up-front warnings rsmtp adds for likely mistakes.

use crate::account::Account;
use crate::error::{ConfigError, Source};
use crate::expand::{self, ExpandContext};
use crate::glob;
use crate::value::{Auth, AuthMethod, OAuthFlow, Protocol, TrustFile};
use rsmtp_core::tr;

impl Account {
    fn at(&self, command: &str) -> Source {
        self.source_of(command)
            .cloned()
            .unwrap_or_else(Source::command_line)
    }

    fn invalid_account(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::InvalidAccount {
            account: self.name.clone(),
            file: self.file.clone(),
            message: message.into(),
        }
    }

    /// Refuse settings rsmtp cannot honour, naming the line that set them.
    pub fn check_supported(&self) -> Result<(), ConfigError> {
        let unsupported = |command: &str, what: String, hint: &str| ConfigError::Unsupported {
            at: self.at(command),
            what,
            hint: hint.to_string(),
        };
        if let Some(p) = &self.tls_priorities {
            if let Err(e) = rsmtp_core::parse_tls_priorities(p) {
                return Err(unsupported(
                    "tls_priorities",
                    format!("tls_priorities {p}: the part '{}'", e.part),
                    &format!(" ({})", e.why),
                ));
            }
        }
        if let Auth::Method(m) = self.auth {
            if !m.is_supported() {
                return Err(unsupported(
                    "auth",
                    format!("auth {}", m.keyword()),
                    "; use auth on, plain, login, cram-md5, scram-sha-256(-plus), scram-sha-1(-plus), \
                     xoauth2, oauthbearer or external",
                ));
            }
        }
        Ok(())
    }

    /// Complete the account for use, as msmtp does after choosing it: refuse
    /// what rsmtp cannot do, fill in the default port, `tls_trust_file system`
    /// and proxy port, expand `%` patterns in `domain` and `from`, apply the
    /// obsolete `auto_from`, and run msmtp's consistency checks. Call it after
    /// all [`Account::apply_override`]s; calling it twice is harmless.
    pub fn resolve(&mut self, opts: &ResolveOptions) -> Result<(), ConfigError> {
        self.check_supported()?;
        self.fill_oauth2_defaults();
        if self.port.is_none() && self.protocol == Protocol::Smtp {
            self.port = Some(self.port());
        }
        if self.tls_trust_file.is_none() && !self.explicit.contains("tls_trust_file") {
            self.tls_trust_file = Some(TrustFile::System);
        }
        if self.proxy_host.is_some() && self.proxy_port.is_none() {
            self.proxy_port = Some(1080);
        }
        self.domain =
            expand::expand_patterns(&self.domain, false, None, &opts.expand, &self.at("domain"))?;
        if let Some(f) = &self.from {
            let at = self.at("from");
            let expanded =
                expand::expand_patterns(f, true, self.override_from.as_deref(), &opts.expand, &at)?;
            self.from = Some(expanded);
        }
        if self.auto_from {
            let user = opts.expand.user.clone().unwrap_or_else(expand::user_name);
            self.from = Some(match self.maildomain.as_deref() {
                Some(d) if !d.is_empty() => format!("{user}@{d}"),
                _ => user,
            });
        }
        self.check(opts.require_from)
    }

    /// `oauth2_provider`: the flow, endpoints and scope the account leaves unset.
    fn fill_oauth2_defaults(&mut self) {
        let Some(provider) = self.oauth2_provider else {
            return;
        };
        let flow = *self.oauth2_flow.get_or_insert(provider.default_flow());
        let tenant = match (&self.oauth2_tenant, flow) {
            (Some(t), _) => t.clone(),
            // App-only tokens are per tenant; `organizations` at least gives Microsoft's
            // own error naming the missing tenant.
            (None, OAuthFlow::ClientCredentials) => "organizations".to_string(),
            (None, _) => "common".to_string(),
        };
        if self.oauth2_token_url.is_none() {
            self.oauth2_token_url = Some(provider.token_url(&tenant));
        }
        if self.oauth2_device_url.is_none() {
            self.oauth2_device_url = Some(provider.device_url(&tenant));
        }
        if self.oauth2_auth_url.is_none() {
            self.oauth2_auth_url = Some(provider.auth_url(&tenant));
        }
        if self.oauth2_scope.is_none() {
            self.oauth2_scope = Some(provider.default_scope(flow).to_string());
        }
    }

    /// The OAuth 2.0 settings of an account with `oauth2_flow` are complete.
    fn check_oauth2(&self) -> Result<(), ConfigError> {
        let Some(flow) = self.oauth2_flow else {
            return Ok(());
        };
        let missing = |command: &str| {
            self.invalid_account(format!(
                "oauth2_flow {flow} needs {command} (or oauth2_provider microsoft|google)"
            ))
        };
        if self.oauth2_token_url.is_none() {
            return Err(missing("oauth2_token_url"));
        }
        if self.oauth2_client_id.is_none() {
            return Err(missing("oauth2_client_id"));
        }
        match flow {
            OAuthFlow::Device if self.oauth2_device_url.is_none() => {
                return Err(missing("oauth2_device_url"))
            }
            OAuthFlow::AuthCode if self.oauth2_auth_url.is_none() => {
                return Err(missing("oauth2_auth_url"))
            }
            OAuthFlow::ClientCredentials
                if self.oauth2_client_secret.is_none()
                    && self.oauth2_client_secret_eval.is_none() =>
            {
                return Err(missing("oauth2_client_secret or oauth2_client_secret_eval"))
            }
            _ => {}
        }
        if !matches!(
            self.auth,
            Auth::Method(AuthMethod::XOAuth2 | AuthMethod::OAuthBearer)
        ) {
            return Err(self.invalid_account(format!(
                "oauth2_flow {flow} needs 'auth xoauth2' or 'auth oauthbearer'"
            )));
        }
        Ok(())
    }

    /// msmtp's `check_account()`.
    fn check(&self, require_from: bool) -> Result<(), ConfigError> {
        self.check_oauth2()?;
        if self.host.is_none() && self.socket.is_none() {
            return Err(self.invalid_account(tr!("host not set")));
        }
        if self.port.is_none() && self.protocol == Protocol::Lmtp {
            return Err(self.invalid_account(tr!("port not set")));
        }
        if require_from && self.from.is_none() {
            return Err(self.invalid_account(tr!(
                "envelope-from address is missing (set 'from' in the account or use -f)"
            )));
        }
        if let Some(f) = self
            .from
            .as_deref()
            .filter(|f| require_from && glob::is_pattern(f))
        {
            // msmtp would send `MAIL FROM:<*@example.org>`; the pattern is only
            // meant for matching -f.
            return Err(self.invalid_account(format!(
                "from '{f}' is a pattern for matching -f addresses, not an address; \
                 give the envelope-from address with -f"
            )));
        }
        if self.tls && self.host.is_none() && self.tls_host_override.is_none() {
            return Err(self.invalid_account(tr!("host not set")));
        }
        if self.tls_key_file.is_some() && self.tls_cert_file.is_none() {
            return Err(self.invalid_account(tr!("tls_key_file requires tls_cert_file")));
        }
        if self.tls_key_file.is_none() && self.tls_cert_file.is_some() {
            return Err(self.invalid_account(tr!("tls_cert_file requires tls_key_file")));
        }
        if self.tls
            && self.tls_trust_file.is_none()
            && self.tls_fingerprint.is_none()
            && self.tls_certcheck
        {
            return Err(self.invalid_account(tr!(
                "tls requires either tls_trust_file (highly recommended) \
                 or tls_fingerprint or a disabled tls_certcheck"
            )));
        }
        if self.tls_crl_file.is_some() && self.tls_trust_file.is_none() {
            return Err(self.invalid_account(tr!("tls_crl_file requires tls_trust_file")));
        }
        Ok(())
    }

    /// Likely mistakes that msmtp accepts but that make a send hang or fail
    /// later (the classic: implicit-TLS port 465 with STARTTLS expected). Each
    /// message names the line to change. rsmtp reports these up front.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let port = self.port();
        let at = self
            .source_of("port")
            .map(|s| format!("{s}: "))
            .unwrap_or_default();
        let implicit_tls = self.tls && !self.tls_starttls;
        if port == 465 && !implicit_tls {
            w.push(format!(
                "{at}port 465 expects TLS from the first byte; set 'tls on' and 'tls_starttls off'"
            ));
        }
        if port == 587 && implicit_tls {
            w.push(format!(
                "{at}port 587 normally uses STARTTLS; 'tls_starttls off' is meant for port 465"
            ));
        }
        if self.auth.is_on() && !self.tls {
            let at = self
                .source_of("auth")
                .map(|s| format!("{s}: "))
                .unwrap_or_default();
            w.push(format!(
                "{at}auth without tls sends the password in clear; add 'tls on'"
            ));
        }
        w
    }
}

/// Options for [`Account::resolve`].
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// Fail with "envelope-from address is missing" when no `from` is known
    /// (msmtp does this when sending in sendmail mode, not for `--pretend`).
    pub require_from: bool,
    /// Where `%U %H %C %M` come from.
    pub expand: ExpandContext,
}
