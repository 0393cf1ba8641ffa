//! What `--pretend` prints for an account: msmtp 1.8.23's `msmtp_print_conf()`
//! output line for line (sendmail mode), followed by the settings msmtp 1.8.23
//! does not print and rsmtp's own settings, in the order of the command table.
//! The password is shown as `*`.

use std::fmt::Write as _;

use crate::account::Account;
use crate::command_defs::{Command, COMMAND_DEFS};
use crate::value::{Auth, HeaderPolicy, SetToHeader, Timeout};

const NOT_SET: &str = "(not set)";

fn or_not_set(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string())
        .unwrap_or_else(|| NOT_SET.to_string())
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

impl Account {
    /// The `--pretend` description, one `name = value` per line, ending in a
    /// newline. Call it on a resolved account ([`Account::resolve`]) to see
    /// the computed port and trust file, as msmtp does. The lines are the command
    /// table's rows, in its order ([`COMMAND_DEFS`]).
    pub fn describe_for_pretend(&self) -> String {
        let mut s = match (&self.file, self.name.is_empty()) {
            (Some(f), false) => format!("using account {} from {}\n", self.name, f.display()),
            _ => String::new(),
        };
        for def in COMMAND_DEFS {
            let Some(command) = def.sets else { continue };
            // msmtp prints one legacy spelling, `undisclosed_recipients`.
            if def.legacy && def.label.is_none() {
                continue;
            }
            if let Some(value) = self.pretend_value(command, def.legacy) {
                let _ = writeln!(s, "{} = {value}", def.label());
            }
        }
        s
    }

    /// How `--pretend` shows one command (`None`: not shown, the OAuth lines of an
    /// account without `oauth2_flow`); `legacy` asks for the legacy spelling's view.
    fn pretend_value(&self, command: Command, legacy: bool) -> Option<String> {
        // The OAuth lines are shown for an OAuth account (one with a flow) only.
        if command.is_oauth() && self.oauth2_flow.is_none() {
            return None;
        }
        let path = |p: &Option<std::path::PathBuf>| or_not_set(p.as_ref().map(|p| p.display()));
        let value = match command {
            Command::Host => or_not_set(self.host.as_ref()),
            Command::Port => self.port().to_string(),
            Command::SourceIp => or_not_set(self.source_ip.as_ref()),
            Command::ProxyHost => or_not_set(self.proxy_host.as_ref()),
            Command::ProxyPort => self.proxy_port.unwrap_or(0).to_string(),
            Command::Socket => path(&self.socket),
            Command::Timeout => match self.timeout {
                Timeout::Off => "off".to_string(),
                Timeout::Seconds(1) => "1 second".to_string(),
                Timeout::Seconds(n) => format!("{n} seconds"),
            },
            Command::Protocol => match self.protocol {
                crate::value::Protocol::Smtp => "smtp",
                crate::value::Protocol::Lmtp => "lmtp",
            }
            .to_string(),
            Command::Domain => self.domain.clone(),
            Command::Auth => match self.auth {
                Auth::Off => "none".to_string(),
                Auth::Auto => "choose".to_string(),
                Auth::Method(m) => m.sasl_name(),
            },
            Command::User => or_not_set(self.user.as_ref()),
            // msmtp runs passwordeval before printing when auth is on, then shows
            // `*`; we show the same without running the command.
            Command::Password => {
                let has_password =
                    self.password.is_some() || (self.auth.is_on() && self.passwordeval.is_some());
                (if has_password { "*" } else { NOT_SET }).to_string()
            }
            Command::Passwordeval => or_not_set(self.passwordeval.as_ref()),
            Command::Ntlmdomain => or_not_set(self.ntlmdomain.as_ref()),
            Command::Tls => on_off(self.tls).to_string(),
            Command::TlsStarttls => on_off(self.tls_starttls).to_string(),
            Command::TlsTrustFile => or_not_set(self.tls_trust_file.as_ref()),
            Command::TlsCrlFile => path(&self.tls_crl_file),
            Command::TlsFingerprint => or_not_set(self.tls_fingerprint.as_ref()),
            Command::TlsKeyFile => path(&self.tls_key_file),
            Command::TlsCertFile => path(&self.tls_cert_file),
            Command::TlsCertcheck => on_off(self.tls_certcheck).to_string(),
            Command::TlsMinDhPrimeBits => or_not_set(self.tls_min_dh_prime_bits),
            Command::TlsPriorities => or_not_set(self.tls_priorities.as_ref()),
            Command::TlsHostOverride => or_not_set(self.tls_host_override.as_ref()),
            Command::AutoFrom => on_off(self.auto_from).to_string(),
            Command::Maildomain => or_not_set(self.maildomain.as_ref()),
            Command::From => or_not_set(self.from.as_ref()),
            Command::AllowFromOverride => on_off(self.allow_from_override).to_string(),
            Command::SetFromHeader => self.set_from_header.to_string(),
            Command::SetDateHeader if self.set_date_header == HeaderPolicy::Off => "off".into(),
            Command::SetDateHeader => "auto".to_string(),
            Command::RemoveBccHeaders => on_off(self.remove_bcc_headers).to_string(),
            Command::DsnNotify => or_not_set(self.dsn_notify.as_ref()),
            Command::DsnReturn => or_not_set(self.dsn_return.map(|d| d.keyword())),
            Command::Logfile => or_not_set(self.logfile.as_ref()),
            Command::LogfileTimeFormat => or_not_set(self.logfile_time_format.as_ref()),
            Command::Syslog => or_not_set(self.syslog),
            Command::Aliases => path(&self.aliases),
            Command::FromFullName => or_not_set(self.from_full_name.as_ref()),
            Command::SetMsgidHeader => self.set_msgid_header.to_string(),
            Command::SetToHeader if legacy => {
                on_off(self.set_to_header == SetToHeader::UndisclosedRecipients).to_string()
            }
            Command::SetToHeader => match self.set_to_header {
                SetToHeader::Off => "off",
                SetToHeader::On => "on",
                SetToHeader::UndisclosedRecipients => "undisclosed_recipients",
            }
            .to_string(),
            Command::Queue => self.queue.to_string(),
            Command::QueueDir => self.queue_dir().display().to_string(),
            Command::QueueExpire => crate::value::format_duration(self.queue_expire),
            Command::QueueRetryFor => crate::value::format_duration(self.queue_retry_for()),
            Command::QueueNotify => self
                .queue_notify
                .as_deref()
                .unwrap_or("(envelope sender)")
                .to_string(),
            Command::Oauth2Flow => or_not_set(self.oauth2_flow.map(|f| f.keyword())),
            Command::Oauth2Provider => or_not_set(self.oauth2_provider.map(|p| p.keyword())),
            Command::Oauth2Tenant => or_not_set(self.oauth2_tenant.as_ref()),
            Command::Oauth2TokenUrl => or_not_set(self.oauth2_token_url.as_ref()),
            Command::Oauth2DeviceUrl => or_not_set(self.oauth2_device_url.as_ref()),
            Command::Oauth2AuthUrl => or_not_set(self.oauth2_auth_url.as_ref()),
            Command::Oauth2RedirectPort => self
                .oauth2_redirect_port
                .map_or_else(|| "(any free port)".to_string(), |p| p.to_string()),
            Command::Oauth2ClientId => or_not_set(self.oauth2_client_id.as_ref()),
            // Shown as `*` like the password; the eval command is shown, not run.
            Command::Oauth2ClientSecret => {
                let set =
                    self.oauth2_client_secret.is_some() || self.oauth2_client_secret_eval.is_some();
                (if set { "*" } else { NOT_SET }).to_string()
            }
            Command::Oauth2ClientSecretEval => or_not_set(self.oauth2_client_secret_eval.as_ref()),
            Command::Oauth2Scope => or_not_set(self.oauth2_scope.as_ref()),
        };
        Some(value)
    }
}
