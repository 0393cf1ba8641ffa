//! What `--pretend` prints for an account: msmtp 1.8.23's `msmtp_print_conf()`
//! output line for line (sendmail mode), followed by the settings msmtp 1.8.23
//! does not print and rsmtp's own queue settings. The password is shown as `*`.

use std::fmt::Write as _;

use crate::account::Account;
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
    /// the computed port and trust file, as msmtp does.
    pub fn describe_for_pretend(&self) -> String {
        let mut s = String::new();
        let mut line = |k: &str, v: &str| {
            let _ = writeln!(s, "{k} = {v}");
        };
        let path = |p: &Option<std::path::PathBuf>| or_not_set(p.as_ref().map(|p| p.display()));
        line("host", &or_not_set(self.host.as_ref()));
        line("port", &self.port().to_string());
        line("source ip", &or_not_set(self.source_ip.as_ref()));
        line("proxy host", &or_not_set(self.proxy_host.as_ref()));
        line("proxy port", &self.proxy_port.unwrap_or(0).to_string());
        line("socket", &path(&self.socket));
        line(
            "timeout",
            &match self.timeout {
                Timeout::Off => "off".to_string(),
                Timeout::Seconds(1) => "1 second".to_string(),
                Timeout::Seconds(n) => format!("{n} seconds"),
            },
        );
        line(
            "protocol",
            match self.protocol {
                crate::value::Protocol::Smtp => "smtp",
                crate::value::Protocol::Lmtp => "lmtp",
            },
        );
        line("domain", &self.domain);
        line(
            "auth",
            &match self.auth {
                Auth::Off => "none".to_string(),
                Auth::Auto => "choose".to_string(),
                Auth::Method(m) => m.sasl_name(),
            },
        );
        line("user", &or_not_set(self.user.as_ref()));
        // msmtp runs passwordeval before printing when auth is on, then shows
        // `*`; we show the same without running the command.
        let has_password =
            self.password.is_some() || (self.auth.is_on() && self.passwordeval.is_some());
        line("password", if has_password { "*" } else { NOT_SET });
        line("passwordeval", &or_not_set(self.passwordeval.as_ref()));
        line("ntlmdomain", &or_not_set(self.ntlmdomain.as_ref()));
        line("tls", on_off(self.tls));
        line("tls_starttls", on_off(self.tls_starttls));
        line("tls_trust_file", &or_not_set(self.tls_trust_file.as_ref()));
        line("tls_crl_file", &path(&self.tls_crl_file));
        line(
            "tls_fingerprint",
            &or_not_set(self.tls_fingerprint.as_ref()),
        );
        line("tls_key_file", &path(&self.tls_key_file));
        line("tls_cert_file", &path(&self.tls_cert_file));
        line("tls_certcheck", on_off(self.tls_certcheck));
        line(
            "tls_min_dh_prime_bits",
            &or_not_set(self.tls_min_dh_prime_bits),
        );
        line("tls_priorities", &or_not_set(self.tls_priorities.as_ref()));
        line(
            "tls_host_override",
            &or_not_set(self.tls_host_override.as_ref()),
        );
        line("auto_from", on_off(self.auto_from));
        line("maildomain", &or_not_set(self.maildomain.as_ref()));
        line("from", &or_not_set(self.from.as_ref()));
        line("allow_from_override", on_off(self.allow_from_override));
        line("set_from_header", &self.set_from_header.to_string());
        line(
            "set_date_header",
            if self.set_date_header == HeaderPolicy::Off {
                "off"
            } else {
                "auto"
            },
        );
        line("remove_bcc_headers", on_off(self.remove_bcc_headers));
        line(
            "undisclosed_recipients",
            on_off(self.set_to_header == SetToHeader::UndisclosedRecipients),
        );
        line("dsn_notify", &or_not_set(self.dsn_notify.as_ref()));
        line(
            "dsn_return",
            &or_not_set(self.dsn_return.map(|d| d.keyword())),
        );
        line("logfile", &or_not_set(self.logfile.as_ref()));
        line(
            "logfile_time_format",
            &or_not_set(self.logfile_time_format.as_ref()),
        );
        line("syslog", &or_not_set(self.syslog));
        line("aliases", &path(&self.aliases));
        // Not printed by msmtp 1.8.23.
        line("from_full_name", &or_not_set(self.from_full_name.as_ref()));
        line("set_msgid_header", &self.set_msgid_header.to_string());
        line(
            "set_to_header",
            match self.set_to_header {
                SetToHeader::Off => "off",
                SetToHeader::On => "on",
                SetToHeader::UndisclosedRecipients => "undisclosed_recipients",
            },
        );
        // rsmtp's own settings.
        line("queue", &self.queue.to_string());
        line("queue_dir", &self.queue_dir().display().to_string());
        line(
            "queue_expire",
            &crate::value::format_duration(self.queue_expire),
        );
        line(
            "queue_retry_for",
            &crate::value::format_duration(self.queue_retry_for()),
        );
        line(
            "queue_notify",
            self.queue_notify.as_deref().unwrap_or("(envelope sender)"),
        );
        if let Some(flow) = self.oauth2_flow {
            line("oauth2_flow", flow.keyword());
            line(
                "oauth2_provider",
                &or_not_set(self.oauth2_provider.map(|p| p.keyword())),
            );
            line("oauth2_tenant", &or_not_set(self.oauth2_tenant.as_ref()));
            line(
                "oauth2_token_url",
                &or_not_set(self.oauth2_token_url.as_ref()),
            );
            line(
                "oauth2_device_url",
                &or_not_set(self.oauth2_device_url.as_ref()),
            );
            line(
                "oauth2_auth_url",
                &or_not_set(self.oauth2_auth_url.as_ref()),
            );
            line(
                "oauth2_redirect_port",
                &self
                    .oauth2_redirect_port
                    .map_or_else(|| "(any free port)".to_string(), |p| p.to_string()),
            );
            line(
                "oauth2_client_id",
                &or_not_set(self.oauth2_client_id.as_ref()),
            );
            // Shown as `*` like the password; the eval command is shown, not run.
            line(
                "oauth2_client_secret",
                if self.oauth2_client_secret.is_some() || self.oauth2_client_secret_eval.is_some() {
                    "*"
                } else {
                    NOT_SET
                },
            );
            line(
                "oauth2_client_secret_eval",
                &or_not_set(self.oauth2_client_secret_eval.as_ref()),
            );
            line("oauth2_scope", &or_not_set(self.oauth2_scope.as_ref()));
        }
        let header = match (&self.file, self.name.is_empty()) {
            (Some(f), false) => format!("using account {} from {}\n", self.name, f.display()),
            _ => String::new(),
        };
        header + &s
    }
}
