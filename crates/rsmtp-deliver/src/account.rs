//! From the command line and the msmtprc files to one resolved account, and from that
//! account to the plain settings of an SMTP session.
//!
//! The order is msmtp's: configuration files are read first (so a typo fails before
//! stdin is touched), the account is chosen by `-a`, else by the `-f` address, else
//! `default`; command-line options are applied through the config crate's own setter;
//! then the account is resolved (defaults, `%` expansion, consistency checks).

use rsmtp_core::tr;
use std::net::IpAddr;
use std::path::PathBuf;

use rsmtp_config::{Account, Auth, Config, LoadOptions, ResolveOptions, Selection, TrustFile};
use rsmtp_smtp::{Credentials, Mechanism, SessionSettings, TlsMode, Trust, Verify};

use crate::delivery::Delivery;
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::log::LogTarget;
use crate::ui::AskPassword;

/// The configuration files, read once per run; `None` with `--host`.
pub fn load_config(delivery: &Delivery) -> Result<Option<Config>, Failure> {
    if delivery.host.is_some() {
        return Ok(None);
    }
    let opts = match &delivery.config_file {
        Some(file) => LoadOptions::with_user_file(file),
        None => LoadOptions::default(),
    };
    Ok(Some(Config::load(&opts)?))
}

/// The chosen account, with the command line applied and resolved.
pub struct Chosen {
    /// The account, with `--port`-style overrides applied and msmtp's computed
    /// defaults filled in ([`Account::resolve`]).
    pub account: Account,
    /// How it was chosen (`-a`, `from` matched by `-f`, the default account), for
    /// `-d`; `None` for a command-line account (`--host`).
    pub selection: Option<Selection>,
}

impl Chosen {
    /// `account NAME from FILE`, as msmtp names it in errors.
    pub fn describe(&self) -> String {
        self.account.describe()
    }
}

/// `-P`/`-S`: the configuration and the account chosen by the command line alone
/// (no message is read, so no From header takes part and none is required).
pub fn load_and_choose(delivery: &Delivery) -> Result<(Option<Config>, Chosen), Failure> {
    let config = load_config(delivery)?;
    let from = delivery.envelope_from.as_deref();
    let chosen = choose(delivery, config.as_ref(), from, false)?;
    Ok((config, chosen))
}

/// Choose and resolve the account. `envelope_from` is `-f`/`-r` or the From header
/// (`--read-envelope-from`); `require_from` is false for `--pretend`/`--serverinfo`.
pub fn choose(
    delivery: &Delivery,
    config: Option<&Config>,
    envelope_from: Option<&str>,
    require_from: bool,
) -> Result<Chosen, Failure> {
    let overrides = delivery
        .overrides
        .iter()
        .map(|(c, v)| (c.as_str(), v.as_str()));
    let (mut account, selection) = match (config, &delivery.host) {
        (Some(config), _) => {
            let (mut account, selection) =
                config.select(delivery.account.as_deref(), envelope_from)?;
            for (command, value) in overrides {
                account.apply_override(command, value)?;
            }
            (account, Some(selection))
        }
        (None, host) => {
            let host = host.as_deref().unwrap_or_default();
            let account =
                Account::from_command_line(std::iter::once(("host", host)).chain(overrides))?;
            (account, None)
        }
    };
    if let Some(from) = envelope_from {
        account.apply_override("from", from)?;
    }
    let context = account.describe();
    account
        .resolve(&ResolveOptions {
            require_from,
            ..ResolveOptions::default()
        })
        .map_err(|e| Failure::from(e).with_account(Some(context)))?;
    Ok(Chosen { account, selection })
}

/// Which files were read or skipped and how the account was chosen, in msmtp's
/// words (`--pretend` and the start of `-d`).
pub fn describe_choice(config: Option<&Config>, chosen: &Chosen) -> String {
    let mut text = String::new();
    if let Some(config) = config {
        for (file, reason) in &config.files_ignored {
            let reason = rsmtp_core::strip_os_error(reason.clone());
            text.push_str(&format!(
                "ignoring configuration file {}: {reason}\n",
                file.display()
            ));
        }
        for file in &config.files_read {
            text.push_str(&format!("loaded configuration file {}\n", file.display()));
        }
    }
    match &chosen.selection {
        Some(Selection::Default) => text.push_str("falling back to default account\n"),
        Some(Selection::ByEnvelopeFrom) => {
            text.push_str("account chosen by envelope-from address\n")
        }
        _ => {}
    }
    text
}

/// Where this account's log lines go.
pub fn log_target(account: &Account) -> LogTarget {
    LogTarget {
        logfile: account.logfile.clone(),
        time_format: account.logfile_time_format.clone(),
        syslog: account.syslog,
    }
}

/// Whether a password nothing else supplies may be asked for, and who asks.
#[derive(Clone, Copy)]
pub enum PasswordPrompt<'a> {
    /// A person's run (sendmail mode): the [`AskPassword`] the program handed in
    /// (`rsmtp`'s prompt on the controlling terminal), if any.
    Ask(Option<&'a dyn AskPassword>),
    /// The queue, its retrier and failure notices, `-S`: nobody is there to answer.
    Never,
}

/// The SMTP session settings for a resolved account (the password is looked up here:
/// `password`, `passwordeval`, netrc, the keyring, then the terminal when `prompt`
/// allows, as msmtp does).
pub fn session_settings(
    account: &Account,
    prompt: PasswordPrompt<'_>,
) -> Result<SessionSettings, Failure> {
    // Over a unix socket `host` only names the server (for TLS, where the
    // config check requires it as msmtp does); without TLS it may be absent.
    let host = match (&account.host, &account.socket) {
        (Some(host), _) => host.clone(),
        (None, Some(_)) => "localhost".to_owned(),
        (None, None) => return Err(Failure::new(ExitCode::Config, tr!("host not set"))),
    };
    let mut s = SessionSettings::new(host, account.port());
    s.socket = account.socket.clone();
    s.lmtp = account.protocol == rsmtp_config::Protocol::Lmtp;
    s.proxy = account.proxy_host.as_ref().map(|host| rsmtp_smtp::Proxy {
        host: host.clone(),
        port: account.proxy_port.unwrap_or(1080),
    });
    s.tls = match (account.tls, account.tls_starttls) {
        (false, _) => TlsMode::Off,
        (true, true) => TlsMode::StartTls,
        (true, false) => TlsMode::Implicit,
    };
    s.verify = Verify {
        trust: match &account.tls_trust_file {
            Some(TrustFile::System) | None => Trust::default(),
            Some(TrustFile::File(p)) => Trust::File(p.clone()),
        },
        certcheck: account.tls_certcheck,
        fingerprint: account.tls_fingerprint,
        host_override: account.tls_host_override.clone(),
        crl_file: account.tls_crl_file.clone(),
    };
    if let Some(p) = &account.tls_priorities {
        // Checked when the account was resolved; a failure here names it again.
        s.tls_versions = rsmtp_core::parse_tls_priorities(p).map_err(|e| {
            Failure::new(
                ExitCode::Config,
                format!(
                    "tls_priorities: the part '{}' cannot be honoured: {}",
                    e.part, e.why
                ),
            )
        })?;
    }
    s.client_cert = match (&account.tls_cert_file, &account.tls_key_file) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        _ => None,
    };
    s.helo_domain = account.domain.clone();
    s.timeout = account.timeout.duration();
    if let Some(ip) = &account.source_ip {
        let ip: IpAddr = ip.parse().map_err(|_| {
            Failure::new(
                ExitCode::Config,
                format!("source_ip '{ip}' is not an IP address"),
            )
        })?;
        s.source_ip = Some(ip);
    }
    s.auth = match account.auth {
        Auth::Off => rsmtp_smtp::Auth::Off,
        Auth::Auto => rsmtp_smtp::Auth::Auto,
        Auth::Method(m) => rsmtp_smtp::Auth::Method(mechanism(m)?),
    };
    if account.oauth2_flow.is_some() && account.auth.is_on() {
        // The account gets its bearer token itself: cached, else refreshed under the
        // store's lock. No password, keyring or prompt is involved.
        let user = account.user.clone().unwrap_or_default();
        let token = crate::oauth::access_token(account)?;
        let origin = crate::oauth::token_origin(token.obtained, token.expires_at);
        s.credentials = Some(Credentials::new(user, token.secret).with_origin(origin));
    } else if account.auth == Auth::Method(rsmtp_config::AuthMethod::External) {
        // The TLS client certificate is the credential: no password to look up.
        let user = account.user.clone().unwrap_or_default();
        s.credentials = Some(Credentials::new(user, ""));
    } else if account.auth.is_on() {
        let user = account.user.clone().unwrap_or_default();
        let host = account.host.as_deref().unwrap_or_default();
        let mut password = account.password()?;
        if password.is_none() && account.user.is_some() {
            password = crate::keyring::lookup(host, &user);
        }
        if let (None, Some(_), PasswordPrompt::Ask(Some(ask))) = (&password, &account.user, prompt)
        {
            password = ask.ask(&user, host).map_err(|e| {
                Failure::new(
                    ExitCode::IoErr,
                    format!("cannot read the password from the terminal: {e}"),
                )
            })?;
        }
        if let Some(secret) = password {
            // The same Secret, moved: no unzeroed copy of the text on the way.
            s.credentials = Some(Credentials::new(user, secret));
        } else if account.user.is_some() {
            return Err(Failure::new(
                ExitCode::Config,
                tr!(
                    "no password for user {user} on {host}: set password or passwordeval \
                     in the account, add it to ~/.netrc, or store it in the keyring \
                     (secret-tool store --label=msmtp host {host} service smtp user {user})",
                    user = user,
                    host = account.host.as_deref().unwrap_or_default()
                ),
            ));
        }
    }
    Ok(s)
}

fn mechanism(m: rsmtp_config::AuthMethod) -> Result<Mechanism, Failure> {
    use rsmtp_config::AuthMethod as A;
    Ok(match m {
        A::Plain => Mechanism::Plain,
        A::Login => Mechanism::Login,
        A::CramMd5 => Mechanism::CramMd5,
        A::XOAuth2 => Mechanism::XOAuth2,
        A::OAuthBearer => Mechanism::OAuthBearer,
        A::External => Mechanism::External,
        A::ScramSha1 => Mechanism::ScramSha1,
        A::ScramSha256 => Mechanism::ScramSha256,
        A::ScramSha1Plus => Mechanism::ScramSha1Plus,
        A::ScramSha256Plus => Mechanism::ScramSha256Plus,
        other => {
            return Err(Failure::new(
                ExitCode::Config,
                format!("auth {} is not supported by rsmtp", other.keyword()),
            ))
        }
    })
}

/// The queue directory of an account.
pub fn queue_dir(account: &Account) -> PathBuf {
    account.queue_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(settings: &[(&str, &str)]) -> Account {
        let mut a = Account::from_command_line(settings.iter().copied()).expect("account");
        a.resolve(&ResolveOptions::default()).expect("resolves");
        a
    }

    #[test]
    fn auth_external_uses_the_client_certificate_without_a_password() {
        let a = resolved(&[
            ("host", "smtp.example.org"),
            ("tls", "on"),
            ("auth", "external"),
            ("user", "alice"),
            ("from", "alice@example.org"),
        ]);
        let s =
            session_settings(&a, PasswordPrompt::Never).expect("no password needed for EXTERNAL");
        assert_eq!(s.auth, rsmtp_smtp::Auth::Method(Mechanism::External));
        assert_eq!(s.credentials.map(|c| c.user), Some("alice".to_string()));
    }
}
