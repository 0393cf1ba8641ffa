//! The [`Account`]: every msmtp command as a typed field with msmtp's
//! defaults, the record of which file and line set each one, command-line
//! overrides, and msmtp's inheritance rules (`account a : b, c`). The syntax
//! of each command lives in `commands.rs`, completion before use in
//! `resolve.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::command_defs::Command;
use crate::error::{ConfigError, Source};
use crate::expand;
use crate::value::{
    Auth, DsnReturn, Fingerprint, HeaderPolicy, LogFile, OAuthFlow, OAuthProvider, Protocol,
    QueueMode, SetToHeader, SyslogFacility, Timeout, TrustFile, DEFAULT_QUEUE_EXPIRE,
};
use rsmtp_core::Secret;

/// Environment variable naming the default queue directory (before the root / XDG
/// defaults); an account's `queue_dir` still wins. Containers and tests use it.
pub(crate) const QUEUE_DIR_ENV: &str = "RSMTP_QUEUE_DIR";

/// Every command an account (or `defaults`) accepts, in the canonical spelling
/// under which its [`Source`] is recorded (from the one table,
/// [`COMMAND_DEFS`](crate::command_defs::COMMAND_DEFS)).
pub fn commands() -> impl Iterator<Item = &'static str> {
    crate::command_defs::canonical().map(|(d, _)| d.name)
}

/// The canonical command a (possibly legacy) spelling sets, if it is known.
/// `tls_force_sslv3`, which sets nothing, has none.
pub fn canonical_command(command: &str) -> Option<&'static str> {
    crate::command_defs::lookup(command)
        .and_then(|d| d.sets)
        .map(Command::name)
}

/// One account: the settings msmtp would use to send a mail.
///
/// Fields hold the value as configured; call [`Account::resolve`] after any
/// command-line overrides to fill in msmtp's computed defaults (port 465/25,
/// `tls_trust_file system`, proxy port 1080), expand `%` patterns and check
/// consistency. [`Account::source_of`] tells which file and line set a command.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Account {
    /// The account name (`account NAME`); empty for a command-line account.
    pub name: String,
    /// The file the account was defined in (`None`: command line).
    pub file: Option<PathBuf>,
    /// `host`: the SMTP server.
    pub host: Option<String>,
    /// `port`; `None` until resolved (see [`Account::port`]).
    pub port: Option<u16>,
    /// `source_ip`: local address to bind to.
    pub source_ip: Option<String>,
    /// `proxy_host` (SOCKS5 proxy; the host name is sent to it unresolved).
    pub proxy_host: Option<String>,
    /// `proxy_port` (1080 when a proxy host is set).
    pub proxy_port: Option<u16>,
    /// `socket` (SMTP over a local unix socket).
    pub socket: Option<PathBuf>,
    /// `timeout`; rsmtp's default is 60 s (msmtp's is off).
    pub timeout: Timeout,
    /// `protocol`.
    pub protocol: Protocol,
    /// `domain`: the EHLO argument (default `localhost`; `%H %C %M` expanded on resolve).
    pub domain: String,
    /// `auth`.
    pub auth: Auth,
    /// `user`.
    pub user: Option<String>,
    /// `password` (a literal from the file or `eval`).
    pub password: Option<Secret>,
    /// `passwordeval`: a shell command printing the password.
    pub passwordeval: Option<String>,
    /// `ntlmdomain` (obsolete; only meaningful for `auth ntlm`).
    pub ntlmdomain: Option<String>,
    /// `tls`.
    pub tls: bool,
    /// `tls_starttls`: STARTTLS (true, default) or TLS from the first byte (false).
    pub tls_starttls: bool,
    /// `tls_trust_file`; `None` = trust no CA (empty argument).
    pub tls_trust_file: Option<TrustFile>,
    /// `tls_crl_file`.
    pub tls_crl_file: Option<PathBuf>,
    /// `tls_fingerprint`.
    pub tls_fingerprint: Option<Fingerprint>,
    /// `tls_key_file`.
    pub tls_key_file: Option<PathBuf>,
    /// `tls_cert_file`.
    pub tls_cert_file: Option<PathBuf>,
    /// `tls_certcheck` (also `tls_nocertcheck`).
    pub tls_certcheck: bool,
    /// `tls_min_dh_prime_bits` (deprecated; rustls offers no finite-field DH, so
    /// there is nothing for it to restrict).
    pub tls_min_dh_prime_bits: Option<u32>,
    /// `tls_priorities` (GnuTLS syntax, read for the TLS versions; see
    /// `rsmtp_core::parse_tls_priorities`).
    pub tls_priorities: Option<String>,
    /// `tls_host_override`: name to verify the certificate against.
    pub tls_host_override: Option<String>,
    /// `from`: envelope-from address, or a wildcard pattern for `-f` matching.
    pub from: Option<String>,
    /// `from_full_name` (msmtp ≥ 1.8.29; what `-F` sets).
    pub from_full_name: Option<String>,
    /// `allow_from_override`: whether `-f` replaces `from`.
    pub allow_from_override: bool,
    /// `auto_from` (obsolete): envelope-from becomes `user@maildomain`.
    pub auto_from: bool,
    /// `maildomain` (obsolete, for `auto_from`).
    pub maildomain: Option<String>,
    /// `dsn_notify`: the upper-cased `NOTIFY=` value (`FAILURE,DELAY`, `NEVER`).
    pub dsn_notify: Option<String>,
    /// `dsn_return`.
    pub dsn_return: Option<DsnReturn>,
    /// `set_from_header` (also `add_missing_from_header`).
    pub set_from_header: HeaderPolicy,
    /// `set_date_header` (auto|off; also `add_missing_date_header`).
    pub set_date_header: HeaderPolicy,
    /// `set_msgid_header` (auto|off).
    pub set_msgid_header: HeaderPolicy,
    /// `set_to_header` (also `undisclosed_recipients`).
    pub set_to_header: SetToHeader,
    /// `remove_bcc_headers` (also `keepbcc`, inverted).
    pub remove_bcc_headers: bool,
    /// `logfile` (`-` = standard output).
    pub logfile: Option<LogFile>,
    /// `logfile_time_format` (strftime; default `%b %d %H:%M:%S`).
    pub logfile_time_format: Option<String>,
    /// `syslog`.
    pub syslog: Option<SyslogFacility>,
    /// `aliases`: an aliases(5)-style file.
    pub aliases: Option<PathBuf>,
    /// rsmtp `queue (off|fallback|always)`, default off.
    pub queue: QueueMode,
    /// rsmtp `queue_dir`; `None` → [`Account::queue_dir`]'s default.
    pub queue_dir: Option<PathBuf>,
    /// rsmtp `queue_expire`: how long a queued message is retried (default 5 days).
    pub queue_expire: Duration,
    /// rsmtp `queue_retry_for`: how long the background retrier keeps trying
    /// after a message is queued; `None` → as long as `queue_expire`.
    pub queue_retry_for: Option<Duration>,
    /// rsmtp `queue_notify`: who gets the failure notice (`None`: the envelope sender).
    pub queue_notify: Option<String>,
    /// rsmtp `oauth2_flow`: the account gets its XOAUTH2/OAUTHBEARER token itself.
    pub oauth2_flow: Option<OAuthFlow>,
    /// rsmtp `oauth2_provider`: fills the endpoints and scope left unset (on resolve).
    pub oauth2_provider: Option<OAuthProvider>,
    /// rsmtp `oauth2_tenant`: Microsoft's tenant (a domain or an id) in the endpoints.
    pub oauth2_tenant: Option<String>,
    /// rsmtp `oauth2_token_url`: the token endpoint (RFC 6749 §3.2).
    pub oauth2_token_url: Option<String>,
    /// rsmtp `oauth2_device_url`: the device authorization endpoint (RFC 8628 §3.1).
    pub oauth2_device_url: Option<String>,
    /// rsmtp `oauth2_auth_url`: the authorization endpoint (RFC 6749 §3.1).
    pub oauth2_auth_url: Option<String>,
    /// rsmtp `oauth2_redirect_port`: the loopback port of the authcode redirect
    /// (`None`: any free port, RFC 8252 §7.3).
    pub oauth2_redirect_port: Option<u16>,
    /// rsmtp `oauth2_client_id`.
    pub oauth2_client_id: Option<String>,
    /// rsmtp `oauth2_client_secret` (a literal: the file must be private, as for `password`).
    pub oauth2_client_secret: Option<Secret>,
    /// rsmtp `oauth2_client_secret_eval`: a shell command printing the client secret.
    pub oauth2_client_secret_eval: Option<String>,
    /// rsmtp `oauth2_scope`: space-separated scopes.
    pub oauth2_scope: Option<String>,
    /// Where each command was last set (canonical spelling → file:line).
    pub(crate) sources: BTreeMap<&'static str, Source>,
    /// Commands set explicitly in this account or inherited from a named parent
    /// (msmtp's `mask`); values copied from `defaults` are not in it.
    pub(crate) explicit: BTreeSet<&'static str>,
    /// `-f` given while `allow_from_override` is off: used for `%F`.
    pub(crate) override_from: Option<String>,
}

impl Account {
    /// The account as messages name it: `account NAME from FILE` (msmtp's words in
    /// "could not send mail (account NAME from FILE)"), or `command line account`.
    pub fn describe(&self) -> String {
        match &self.file {
            Some(file) => rsmtp_core::tr!(
                "account {account} from {file}",
                account = self.name,
                file = file.display()
            ),
            None if self.name.is_empty() => rsmtp_core::tr!("command line account").into_owned(),
            None => rsmtp_core::tr!("account {account}", account = self.name),
        }
    }

    /// An account with msmtp's built-in defaults (and rsmtp's finite timeout).
    pub fn new(name: impl Into<String>, file: Option<PathBuf>) -> Self {
        Account {
            name: name.into(),
            file,
            host: None,
            port: None,
            source_ip: None,
            proxy_host: None,
            proxy_port: None,
            socket: None,
            timeout: Timeout::default(),
            protocol: Protocol::Smtp,
            domain: "localhost".to_string(),
            auth: Auth::Off,
            user: None,
            password: None,
            passwordeval: None,
            ntlmdomain: None,
            tls: false,
            tls_starttls: true,
            tls_trust_file: None,
            tls_crl_file: None,
            tls_fingerprint: None,
            tls_key_file: None,
            tls_cert_file: None,
            tls_certcheck: true,
            tls_min_dh_prime_bits: None,
            tls_priorities: None,
            tls_host_override: None,
            from: None,
            from_full_name: None,
            allow_from_override: true,
            auto_from: false,
            maildomain: None,
            dsn_notify: None,
            dsn_return: None,
            set_from_header: HeaderPolicy::Auto,
            set_date_header: HeaderPolicy::Auto,
            set_msgid_header: HeaderPolicy::Auto,
            set_to_header: SetToHeader::Off,
            remove_bcc_headers: true,
            logfile: None,
            logfile_time_format: None,
            syslog: None,
            aliases: None,
            queue: QueueMode::Off,
            queue_dir: None,
            queue_expire: DEFAULT_QUEUE_EXPIRE,
            queue_retry_for: None,
            queue_notify: None,
            oauth2_flow: None,
            oauth2_provider: None,
            oauth2_tenant: None,
            oauth2_token_url: None,
            oauth2_device_url: None,
            oauth2_auth_url: None,
            oauth2_redirect_port: None,
            oauth2_client_id: None,
            oauth2_client_secret: None,
            oauth2_client_secret_eval: None,
            oauth2_scope: None,
            sources: BTreeMap::new(),
            explicit: BTreeSet::new(),
            override_from: None,
        }
    }

    /// msmtp with `--host` and no configuration: an account built only from
    /// command-line options (config files are not read at all in that case;
    /// `defaults` do not apply). `overrides` are `(command, value)` pairs as for
    /// [`Account::apply_override`].
    pub fn from_command_line<'a>(
        overrides: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Account, ConfigError> {
        let mut acc = Account::new("", None);
        for (c, v) in overrides {
            acc.apply_override(c, v)?;
        }
        Ok(acc)
    }

    /// Which file and line (or the command line) last set `command` (any
    /// spelling msmtp accepts), if it was set at all.
    pub fn source_of(&self, command: &str) -> Option<&Source> {
        canonical_command(command).and_then(|c| self.sources.get(c))
    }

    /// Whether `command` was set in this account itself or inherited from a
    /// named parent (not merely copied from `defaults`).
    pub fn is_explicit(&self, command: &str) -> bool {
        canonical_command(command).is_some_and(|c| self.explicit.contains(c))
    }

    /// The port to connect to: the configured one, else msmtp's default
    /// (465 for `tls on` + `tls_starttls off`, otherwise 25).
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.tls && !self.tls_starttls {
            465
        } else {
            25
        })
    }

    /// How long the background retrier keeps trying a queued message:
    /// `queue_retry_for`, else `queue_expire`.
    pub fn queue_retry_for(&self) -> Duration {
        self.queue_retry_for.unwrap_or(self.queue_expire)
    }

    /// The queue directory: `queue_dir`, else `$RSMTP_QUEUE_DIR`, else
    /// `/var/spool/rsmtp` for root, else `$XDG_STATE_HOME/rsmtp/queue`, else
    /// `~/.local/state/rsmtp/queue` — unless that one does not exist and cannot
    /// be made because the home directory is not writable (www-data in the PHP
    /// images, home `/var/www` owned by root): then `/var/tmp/rsmtp-<uid>`, kept
    /// across reboots (FHS) and trusted only if it is the user's own with no
    /// group/other write, as every queue directory (see [`queue_fallback_dir`]).
    pub fn queue_dir(&self) -> PathBuf {
        if let Some(d) = &self.queue_dir {
            return d.clone();
        }
        if let Some(d) = std::env::var_os(QUEUE_DIR_ENV).filter(|d| !d.is_empty()) {
            return PathBuf::from(d);
        }
        let root = rustix::process::geteuid().is_root();
        let xdg_state = std::env::var_os("XDG_STATE_HOME").map(PathBuf::from);
        let under_home = !root && !xdg_state.as_ref().is_some_and(|x| x.is_absolute());
        let home = expand::home_dir();
        let dir = default_queue_dir(root, xdg_state, &home);
        if under_home && !dir.is_dir() && !creatable_under(&home) {
            queue_fallback_dir()
        } else {
            dir
        }
    }

    /// Apply one command-line option (`--host=h` → `("host", "h")`), through
    /// the same setter as the configuration file, recorded as coming from the
    /// "command line". `-` and `_` spellings are both accepted. As in msmtp,
    /// `from` is ignored when the account has `allow_from_override off` (the
    /// value is kept for `%F` in `from`), and `dsn_return` also accepts `hdrs`.
    pub fn apply_override(&mut self, command: &str, value: &str) -> Result<(), ConfigError> {
        let command = command.replace('-', "_");
        let at = Source::command_line();
        match command.as_str() {
            "from" => {
                let v = if value == "<>" { "" } else { value };
                if !self.allow_from_override {
                    self.override_from = Some(v.to_string());
                    return Ok(());
                }
                self.set("from", v, &at)
            }
            "dsn_return" if value == "hdrs" => self.set("dsn_return", "headers", &at),
            "tls_force_sslv3" => Ok(()),
            _ => self.set(&command, value, &at),
        }
    }

    /// A new account that starts as a copy of `defaults` (msmtp's
    /// `account_copy(defaults)` with an empty mask).
    pub(crate) fn from_defaults(defaults: &Account, name: &str, file: PathBuf) -> Account {
        let mut a = defaults.clone();
        a.name = name.to_string();
        a.file = Some(file);
        a.explicit.clear();
        a
    }

    /// msmtp's `override_account()`: copy every setting `parent` set
    /// explicitly (or itself inherited from a named parent).
    pub(crate) fn inherit_from(&mut self, parent: &Account) {
        for &key in &parent.explicit {
            if let Some(command) = Command::from_name(key) {
                self.copy_setting(parent, command);
            }
            if let Some(s) = parent.sources.get(key) {
                self.sources.insert(key, s.clone());
            }
            self.explicit.insert(key);
        }
    }

    fn copy_setting(&mut self, p: &Account, key: Command) {
        match key {
            Command::Host => self.host.clone_from(&p.host),
            Command::Port => self.port = p.port,
            Command::SourceIp => self.source_ip.clone_from(&p.source_ip),
            Command::ProxyHost => self.proxy_host.clone_from(&p.proxy_host),
            Command::ProxyPort => self.proxy_port = p.proxy_port,
            Command::Socket => self.socket.clone_from(&p.socket),
            Command::Timeout => self.timeout = p.timeout,
            Command::Protocol => self.protocol = p.protocol,
            Command::Domain => self.domain.clone_from(&p.domain),
            Command::Auth => self.auth = p.auth,
            Command::User => self.user.clone_from(&p.user),
            Command::Password => self.password.clone_from(&p.password),
            Command::Passwordeval => self.passwordeval.clone_from(&p.passwordeval),
            Command::Ntlmdomain => self.ntlmdomain.clone_from(&p.ntlmdomain),
            Command::Tls => self.tls = p.tls,
            Command::TlsStarttls => self.tls_starttls = p.tls_starttls,
            Command::TlsTrustFile => self.tls_trust_file.clone_from(&p.tls_trust_file),
            Command::TlsCrlFile => self.tls_crl_file.clone_from(&p.tls_crl_file),
            Command::TlsFingerprint => self.tls_fingerprint = p.tls_fingerprint,
            Command::TlsKeyFile => self.tls_key_file.clone_from(&p.tls_key_file),
            Command::TlsCertFile => self.tls_cert_file.clone_from(&p.tls_cert_file),
            Command::TlsCertcheck => self.tls_certcheck = p.tls_certcheck,
            Command::TlsMinDhPrimeBits => self.tls_min_dh_prime_bits = p.tls_min_dh_prime_bits,
            Command::TlsPriorities => self.tls_priorities.clone_from(&p.tls_priorities),
            Command::TlsHostOverride => self.tls_host_override.clone_from(&p.tls_host_override),
            Command::From => self.from.clone_from(&p.from),
            Command::FromFullName => self.from_full_name.clone_from(&p.from_full_name),
            Command::AllowFromOverride => self.allow_from_override = p.allow_from_override,
            Command::AutoFrom => self.auto_from = p.auto_from,
            Command::Maildomain => self.maildomain.clone_from(&p.maildomain),
            Command::DsnNotify => self.dsn_notify.clone_from(&p.dsn_notify),
            Command::DsnReturn => self.dsn_return = p.dsn_return,
            Command::SetFromHeader => self.set_from_header = p.set_from_header,
            Command::SetDateHeader => self.set_date_header = p.set_date_header,
            Command::SetMsgidHeader => self.set_msgid_header = p.set_msgid_header,
            Command::SetToHeader => self.set_to_header = p.set_to_header,
            Command::RemoveBccHeaders => self.remove_bcc_headers = p.remove_bcc_headers,
            Command::Logfile => self.logfile.clone_from(&p.logfile),
            Command::LogfileTimeFormat => {
                self.logfile_time_format.clone_from(&p.logfile_time_format)
            }
            Command::Syslog => self.syslog = p.syslog,
            Command::Aliases => self.aliases.clone_from(&p.aliases),
            Command::Queue => self.queue = p.queue,
            Command::QueueDir => self.queue_dir.clone_from(&p.queue_dir),
            Command::QueueExpire => self.queue_expire = p.queue_expire,
            Command::QueueRetryFor => self.queue_retry_for = p.queue_retry_for,
            Command::QueueNotify => self.queue_notify.clone_from(&p.queue_notify),
            Command::Oauth2Flow => self.oauth2_flow = p.oauth2_flow,
            Command::Oauth2Provider => self.oauth2_provider = p.oauth2_provider,
            Command::Oauth2Tenant => self.oauth2_tenant.clone_from(&p.oauth2_tenant),
            Command::Oauth2TokenUrl => self.oauth2_token_url.clone_from(&p.oauth2_token_url),
            Command::Oauth2DeviceUrl => self.oauth2_device_url.clone_from(&p.oauth2_device_url),
            Command::Oauth2AuthUrl => self.oauth2_auth_url.clone_from(&p.oauth2_auth_url),
            Command::Oauth2RedirectPort => self.oauth2_redirect_port = p.oauth2_redirect_port,
            Command::Oauth2ClientId => self.oauth2_client_id.clone_from(&p.oauth2_client_id),
            Command::Oauth2ClientSecret => self
                .oauth2_client_secret
                .clone_from(&p.oauth2_client_secret),
            Command::Oauth2ClientSecretEval => self
                .oauth2_client_secret_eval
                .clone_from(&p.oauth2_client_secret_eval),
            Command::Oauth2Scope => self.oauth2_scope.clone_from(&p.oauth2_scope),
        }
    }
}

/// The queue directory of a non-root user whose home cannot hold one:
/// `/var/tmp/rsmtp-<uid>`. Someone else may create that name first; the queue
/// then refuses it (not the user's own) and the error names `queue_dir`.
pub fn queue_fallback_dir() -> PathBuf {
    PathBuf::from(format!(
        "/var/tmp/rsmtp-{}",
        rustix::process::geteuid().as_raw()
    ))
}

/// Whether `~/.local/state/rsmtp/queue` could be made: the deepest existing
/// directory on that path is writable by us.
fn creatable_under(home: &std::path::Path) -> bool {
    let mut dir = home.join(".local/state/rsmtp");
    loop {
        if dir.is_dir() {
            return rustix::fs::access(&dir, rustix::fs::Access::WRITE_OK).is_ok();
        }
        if !dir.pop() || dir.as_os_str().is_empty() {
            return false;
        }
    }
}

/// The queue directory when neither `queue_dir` nor `$RSMTP_QUEUE_DIR` names one:
/// `/var/spool/rsmtp` for root, else `$XDG_STATE_HOME/rsmtp/queue` when that is
/// absolute, else `~/.local/state/rsmtp/queue`. The one definition (the queue crate
/// had a second, unused copy).
pub fn default_queue_dir(root: bool, xdg_state: Option<PathBuf>, home: &Path) -> PathBuf {
    if root {
        return PathBuf::from("/var/spool/rsmtp");
    }
    match xdg_state {
        Some(x) if x.is_absolute() => x.join("rsmtp").join("queue"),
        _ => home.join(".local/state/rsmtp/queue"),
    }
}
