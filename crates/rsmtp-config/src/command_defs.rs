//! The one table of msmtprc commands ([`COMMAND_DEFS`]): every spelling an msmtprc
//! line may use, the setting it changes ([`Command`]), the long option that sets it
//! from rsmtp's command line, its `--help` line, its `--pretend` label, and whether
//! a queued message may carry it ([`QueuePolicy`]). The parser's list of commands,
//! the legacy spellings, the long options, the queue's allow-list and the argv of a
//! background delivery are all read from here, so a command added to the table is
//! added everywhere; [`Command`] is an enum so that the setter, the inheritance copy
//! and `--pretend` each match it exhaustively and the compiler names a forgotten arm.
//!
//! The table's order is `--pretend`'s: msmtp 1.8.23's `msmtp_print_conf()` order
//! first, then what msmtp does not print, then rsmtp's own commands.

/// One msmtprc setting (a field of [`Account`](crate::Account)). Legacy spellings
/// (`connect_timeout`, `keepbcc`) set one of these too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)] // each variant is the msmtprc command of the same name
pub enum Command {
    Host,
    Port,
    SourceIp,
    ProxyHost,
    ProxyPort,
    Socket,
    Timeout,
    Protocol,
    Domain,
    Auth,
    User,
    Password,
    Passwordeval,
    Ntlmdomain,
    Tls,
    TlsStarttls,
    TlsTrustFile,
    TlsCrlFile,
    TlsFingerprint,
    TlsKeyFile,
    TlsCertFile,
    TlsCertcheck,
    TlsMinDhPrimeBits,
    TlsPriorities,
    TlsHostOverride,
    AutoFrom,
    Maildomain,
    From,
    AllowFromOverride,
    SetFromHeader,
    SetDateHeader,
    RemoveBccHeaders,
    DsnNotify,
    DsnReturn,
    Logfile,
    LogfileTimeFormat,
    Syslog,
    Aliases,
    FromFullName,
    SetMsgidHeader,
    SetToHeader,
    Queue,
    QueueDir,
    QueueExpire,
    QueueRetryFor,
    QueueNotify,
    Oauth2Flow,
    Oauth2Provider,
    Oauth2Tenant,
    Oauth2TokenUrl,
    Oauth2DeviceUrl,
    Oauth2AuthUrl,
    Oauth2RedirectPort,
    Oauth2ClientId,
    Oauth2ClientSecret,
    Oauth2ClientSecretEval,
    Oauth2Scope,
}

impl Command {
    /// The canonical msmtprc spelling (`tls_starttls`), under which
    /// [`Account::source_of`](crate::Account::source_of) records it.
    pub fn name(self) -> &'static str {
        COMMAND_DEFS
            .iter()
            .find(|d| d.sets == Some(self) && !d.legacy)
            .map_or("", |d| d.name)
    }

    /// An `oauth2_*` command (shown by `--pretend` for an OAuth account only).
    pub fn is_oauth(self) -> bool {
        self.name().starts_with("oauth2_")
    }

    /// The command a canonical spelling names (legacy spellings: see [`lookup`]).
    pub fn from_name(name: &str) -> Option<Command> {
        lookup(name).filter(|d| !d.legacy).and_then(|d| d.sets)
    }
}

/// How rsmtp's command line sets a command, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cli {
    /// Only in a file.
    None,
    /// A long option from this table (`--tls-starttls[=VALUE]`).
    Long(LongOption),
    /// An msmtp option the binary declares itself with its short letter
    /// (`-N`/`--dsn-notify`, `-F`); how to say it again on a child's argv.
    Declared(Replay),
}

/// A long option that sets an account command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongOption {
    /// `tls-starttls` (without the dashes).
    pub long: &'static str,
    /// `Some(v)`: the argument is optional and `v` is what a bare `--opt` means.
    pub bare: Option<&'static str>,
    /// The line in `--help` and the completions.
    pub help: &'static str,
    /// Left out of `--help` (an old spelling).
    pub hidden: bool,
}

/// How a child process is given an option the binary declares itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// `--NAME=VALUE`.
    Long(&'static str),
    /// `-C VALUE` (two arguments).
    Short(char),
}

/// Whether a queued message may carry a command-line setting to a later flush
/// (`rsmtp-queue`'s second wall; see its `overrides` module for the reasoning).
/// The default, for anything not marked, is [`QueuePolicy::NotCarried`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueuePolicy {
    /// Taken from an entry whatever its value. Header and queue settings are carried
    /// although they were applied when the message was queued, so that replaying a
    /// command line never refuses an entry for them.
    Carried,
    /// Taken only when it turns a check on (`on` or empty): off is a downgrade.
    OnlyOn,
    /// Runs a command.
    RunsCommand,
    /// Is a secret.
    Secret,
    /// Names a file the flusher would open with its rights.
    NamesFile,
    /// Changes how the server is trusted.
    Trust,
    /// Not one a queued message may carry.
    NotCarried,
}

impl QueuePolicy {
    /// Why a setting under this policy is refused (`None`: it is not refused).
    pub fn refusal(self, value: &str) -> Option<&'static str> {
        match self {
            QueuePolicy::Carried => None,
            QueuePolicy::OnlyOn if matches!(value, "" | "on") => None,
            QueuePolicy::OnlyOn => Some("off is never taken from a queued message (a downgrade)"),
            QueuePolicy::RunsCommand => {
                Some("runs a command and is never taken from a queued message")
            }
            QueuePolicy::Secret => Some("is a secret and is never stored in a queued message"),
            QueuePolicy::NamesFile => Some("names a file and is never taken from a queued message"),
            QueuePolicy::Trust => {
                Some("changes how the server is trusted and is never taken from a queued message")
            }
            QueuePolicy::NotCarried => Some("is not one a queued message may carry"),
        }
    }
}

/// One spelling an msmtprc line may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandDef {
    /// The spelling (`tls_starttls`, `keepbcc`).
    pub name: &'static str,
    /// The setting it changes; `None` for `tls_force_sslv3`, accepted and ignored
    /// as by msmtp.
    pub sets: Option<Command>,
    /// An older spelling msmtp still accepts (its argument may mean something else:
    /// `keepbcc on` is `remove_bcc_headers off`).
    pub legacy: bool,
    /// The `--pretend` label, when it is not the name (msmtp prints `source ip`); a
    /// legacy spelling is shown only when it has one.
    pub label: Option<&'static str>,
    /// How the command line sets it.
    pub cli: Cli,
    /// Whether a queued message may carry it.
    pub queue: QueuePolicy,
}

impl CommandDef {
    /// The `--pretend` label.
    pub fn label(&self) -> &'static str {
        self.label.unwrap_or(self.name)
    }

    /// The long option, if the table gives this command one.
    pub fn long_option(&self) -> Option<&LongOption> {
        match &self.cli {
            Cli::Long(o) => Some(o),
            _ => None,
        }
    }

    const fn label_(mut self, label: &'static str) -> Self {
        self.label = Some(label);
        self
    }
    const fn long(mut self, long: &'static str, help: &'static str) -> Self {
        self.cli = Cli::Long(LongOption {
            long,
            bare: None,
            help,
            hidden: false,
        });
        self
    }
    /// A long option whose argument may be left out (`--tls` means `--tls=on`).
    const fn flag(mut self, long: &'static str, bare: &'static str, help: &'static str) -> Self {
        self.cli = Cli::Long(LongOption {
            long,
            bare: Some(bare),
            help,
            hidden: false,
        });
        self
    }
    const fn hidden(mut self) -> Self {
        if let Cli::Long(o) = &mut self.cli {
            o.hidden = true;
        }
        self
    }
    const fn declared(mut self, replay: Replay) -> Self {
        self.cli = Cli::Declared(replay);
        self
    }
    const fn queue(mut self, policy: QueuePolicy) -> Self {
        self.queue = policy;
        self
    }
    const fn carried(self) -> Self {
        self.queue(QueuePolicy::Carried)
    }
}

const fn def(name: &'static str, sets: Command) -> CommandDef {
    CommandDef {
        name,
        sets: Some(sets),
        legacy: false,
        label: None,
        cli: Cli::None,
        queue: QueuePolicy::NotCarried,
    }
}

const fn legacy(name: &'static str, sets: Command) -> CommandDef {
    CommandDef {
        legacy: true,
        ..def(name, sets)
    }
}

use Command as C;
use QueuePolicy as Q;

/// Every msmtprc spelling, canonical and legacy, in `--pretend`'s order.
pub const COMMAND_DEFS: &[CommandDef] = &[
    def("host", C::Host).carried(),
    def("port", C::Port)
        .long("port", "set port number")
        .carried(),
    def("source_ip", C::SourceIp)
        .label_("source ip")
        .long(
            "source-ip",
            "set/unset source ip address to bind the socket to",
        )
        .carried(),
    def("proxy_host", C::ProxyHost)
        .label_("proxy host")
        .long("proxy-host", "set/unset SOCKS proxy host")
        .carried(),
    def("proxy_port", C::ProxyPort)
        .label_("proxy port")
        .long("proxy-port", "set/unset SOCKS proxy port")
        .carried(),
    def("socket", C::Socket)
        .long("socket", "set/unset local socket to connect to")
        .queue(Q::NamesFile),
    def("timeout", C::Timeout)
        .long("timeout", "set network timeout in seconds, or off")
        .carried(),
    legacy("connect_timeout", C::Timeout)
        .long("connect-timeout", "old name of --timeout")
        .hidden()
        .carried(),
    def("protocol", C::Protocol)
        .long("protocol", "use the given sub protocol (smtp|lmtp)")
        .carried(),
    def("domain", C::Domain)
        .long("domain", "set the argument of the EHLO command")
        .carried(),
    def("auth", C::Auth)
        .flag(
            "auth",
            "on",
            "enable/disable authentication and optionally choose the method",
        )
        .carried(),
    def("user", C::User)
        .long("user", "set/unset user name for authentication")
        .carried(),
    def("password", C::Password).queue(Q::Secret),
    def("passwordeval", C::Passwordeval)
        .long("passwordeval", "evaluate password for authentication")
        .queue(Q::RunsCommand),
    def("ntlmdomain", C::Ntlmdomain),
    def("tls", C::Tls)
        .flag("tls", "on", "enable/disable TLS encryption")
        .queue(Q::OnlyOn),
    def("tls_starttls", C::TlsStarttls)
        .flag("tls-starttls", "on", "enable/disable STARTTLS for TLS")
        .carried(),
    legacy("tls_nostarttls", C::TlsStarttls).queue(Q::Trust),
    def("tls_trust_file", C::TlsTrustFile)
        .long("tls-trust-file", "set/unset trust file for TLS")
        .queue(Q::Trust),
    def("tls_crl_file", C::TlsCrlFile)
        .long("tls-crl-file", "set/unset revocation file for TLS")
        .queue(Q::Trust),
    def("tls_fingerprint", C::TlsFingerprint)
        .long(
            "tls-fingerprint",
            "set/unset trusted certificate fingerprint",
        )
        .queue(Q::Trust),
    def("tls_key_file", C::TlsKeyFile)
        .long("tls-key-file", "set/unset private key file for TLS")
        .queue(Q::NamesFile),
    def("tls_cert_file", C::TlsCertFile)
        .long("tls-cert-file", "set/unset private cert file for TLS")
        .queue(Q::NamesFile),
    def("tls_certcheck", C::TlsCertcheck)
        .flag(
            "tls-certcheck",
            "on",
            "enable/disable server certificate checks",
        )
        .queue(Q::OnlyOn),
    legacy("tls_nocertcheck", C::TlsCertcheck).queue(Q::Trust),
    CommandDef {
        name: "tls_force_sslv3",
        sets: None,
        legacy: true,
        label: None,
        cli: Cli::None,
        queue: Q::Trust,
    }
    .flag("tls-force-sslv3", "on", "obsolete; ignored")
    .hidden(),
    def("tls_min_dh_prime_bits", C::TlsMinDhPrimeBits)
        .long(
            "tls-min-dh-prime-bits",
            "set/unset minimum bit size of DH prime",
        )
        .queue(Q::Trust),
    def("tls_priorities", C::TlsPriorities)
        .long("tls-priorities", "set/unset TLS priorities")
        .queue(Q::Trust),
    def("tls_host_override", C::TlsHostOverride)
        .long(
            "tls-host-override",
            "set/unset override for TLS host verification",
        )
        .queue(Q::Trust),
    def("auto_from", C::AutoFrom)
        .flag(
            "auto-from",
            "on",
            "enable/disable automatic envelope-from addresses",
        )
        .carried(),
    def("maildomain", C::Maildomain)
        .long(
            "maildomain",
            "set the domain for automatic envelope from addresses",
        )
        .carried(),
    def("from", C::From).carried(),
    def("allow_from_override", C::AllowFromOverride),
    def("set_from_header", C::SetFromHeader)
        .flag(
            "set-from-header",
            "on",
            "set From header handling (auto|on|off)",
        )
        .carried(),
    legacy("add_missing_from_header", C::SetFromHeader)
        .flag(
            "add-missing-from-header",
            "on",
            "old name of --set-from-header",
        )
        .hidden()
        .carried(),
    def("set_date_header", C::SetDateHeader)
        .flag(
            "set-date-header",
            "auto",
            "set Date header handling (auto|off)",
        )
        .carried(),
    legacy("add_missing_date_header", C::SetDateHeader)
        .flag(
            "add-missing-date-header",
            "on",
            "old name of --set-date-header",
        )
        .hidden()
        .carried(),
    def("remove_bcc_headers", C::RemoveBccHeaders)
        .flag(
            "remove-bcc-headers",
            "on",
            "enable/disable removal of Bcc headers",
        )
        .carried(),
    legacy("keepbcc", C::RemoveBccHeaders)
        .flag("keepbcc", "on", "old inverse of --remove-bcc-headers")
        .hidden()
        .carried(),
    // The one legacy spelling msmtp's --pretend prints.
    legacy("undisclosed_recipients", C::SetToHeader)
        .label_("undisclosed_recipients")
        .flag(
            "undisclosed-recipients",
            "on",
            "replace To/Cc/Bcc with To: undisclosed-recipients:;",
        )
        .carried(),
    def("dsn_notify", C::DsnNotify)
        .declared(Replay::Long("dsn-notify"))
        .carried(),
    def("dsn_return", C::DsnReturn)
        .declared(Replay::Long("dsn-return"))
        .carried(),
    def("logfile", C::Logfile)
        .declared(Replay::Long("logfile"))
        .queue(Q::NamesFile),
    def("logfile_time_format", C::LogfileTimeFormat)
        .long(
            "logfile-time-format",
            "set/unset log file time format for strftime()",
        )
        .carried(),
    def("syslog", C::Syslog)
        .flag("syslog", "on", "enable/disable/configure syslog logging")
        .carried(),
    def("aliases", C::Aliases)
        .long("aliases", "set/unset aliases file")
        .queue(Q::NamesFile),
    // Not printed by msmtp 1.8.23's --pretend.
    def("from_full_name", C::FromFullName)
        .declared(Replay::Short('F'))
        .carried(),
    def("set_msgid_header", C::SetMsgidHeader)
        .flag(
            "set-msgid-header",
            "auto",
            "set Message-ID header handling (auto|off)",
        )
        .carried(),
    def("set_to_header", C::SetToHeader)
        .flag("set-to-header", "on", "set To header handling")
        .carried(),
    // rsmtp's own.
    def("queue", C::Queue)
        .flag(
            "queue",
            "fallback",
            "rsmtp: queue mode (off|fallback|always)",
        )
        .carried(),
    def("queue_dir", C::QueueDir)
        .long("queue-dir", "rsmtp: queue directory")
        .carried(),
    def("queue_expire", C::QueueExpire)
        .long(
            "queue-expire",
            "rsmtp: give up on a queued message after this long",
        )
        .carried(),
    def("queue_retry_for", C::QueueRetryFor)
        .long(
            "queue-retry-for",
            "rsmtp: how long the background retrier keeps trying a queued message",
        )
        .carried(),
    def("queue_notify", C::QueueNotify)
        .long(
            "queue-notify",
            "rsmtp: who gets the failure notice for an expired message",
        )
        .carried(),
    def("oauth2_flow", C::Oauth2Flow),
    def("oauth2_provider", C::Oauth2Provider),
    def("oauth2_tenant", C::Oauth2Tenant),
    def("oauth2_token_url", C::Oauth2TokenUrl),
    def("oauth2_device_url", C::Oauth2DeviceUrl),
    def("oauth2_auth_url", C::Oauth2AuthUrl),
    def("oauth2_redirect_port", C::Oauth2RedirectPort),
    def("oauth2_client_id", C::Oauth2ClientId),
    def("oauth2_client_secret", C::Oauth2ClientSecret).queue(Q::Secret),
    def("oauth2_client_secret_eval", C::Oauth2ClientSecretEval).queue(Q::RunsCommand),
    def("oauth2_scope", C::Oauth2Scope),
];

/// The row of a spelling (`-` and `_` are not folded here).
pub fn lookup(name: &str) -> Option<&'static CommandDef> {
    COMMAND_DEFS.iter().find(|d| d.name == name)
}

/// The canonical rows, one per [`Command`], in `--pretend`'s order.
pub fn canonical() -> impl Iterator<Item = (&'static CommandDef, Command)> {
    COMMAND_DEFS
        .iter()
        .filter(|d| !d.legacy)
        .filter_map(|d| Some((d, d.sets?)))
}

/// The rows with a long option of their own, in table order (the order of `--help`).
pub fn long_options() -> impl Iterator<Item = (&'static CommandDef, &'static LongOption)> {
    COMMAND_DEFS
        .iter()
        .filter_map(|d| Some((d, d.long_option()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_one_canonical_row_and_every_spelling_one_row() {
        let mut seen = std::collections::BTreeSet::new();
        for (d, c) in canonical() {
            assert!(seen.insert(c), "{c:?} has two canonical rows");
            assert_eq!(c.name(), d.name);
            assert_eq!(Command::from_name(d.name), Some(c));
        }
        // The last variant: every variant before it is counted by `seen`.
        assert_eq!(seen.len(), Command::Oauth2Scope as usize + 1);
        let mut names = std::collections::BTreeSet::new();
        let mut longs = std::collections::BTreeSet::new();
        for d in COMMAND_DEFS {
            assert!(names.insert(d.name), "{} has two rows", d.name);
            if let Some(o) = d.long_option() {
                assert!(longs.insert(o.long), "--{} has two rows", o.long);
                assert_eq!(o.long, d.name.replace('_', "-"), "{}", d.name);
            }
        }
    }
}
