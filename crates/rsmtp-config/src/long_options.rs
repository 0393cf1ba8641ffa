//! The long options of rsmtp's command line that set an account command
//! (`--tls-starttls=off` sets `tls_starttls`): one table for the parser, the help, the
//! completions, and the argv a background delivery is started with.

/// A long option that sets an account command, and how its argument behaves.
pub struct AccountOption {
    /// `--tls-starttls`
    pub long: &'static str,
    /// The msmtprc command it sets (`tls_starttls`).
    pub command: &'static str,
    /// `Some(v)`: the argument is optional and `v` is what a bare `--opt` means.
    pub bare: Option<&'static str>,
    /// The line in `--help` and the completions.
    pub help: &'static str,
}

const fn opt(long: &'static str, command: &'static str, help: &'static str) -> AccountOption {
    AccountOption {
        long,
        command,
        bare: None,
        help,
    }
}

const fn flag(
    long: &'static str,
    command: &'static str,
    bare: &'static str,
    help: &'static str,
) -> AccountOption {
    AccountOption {
        long,
        command,
        bare: Some(bare),
        help,
    }
}

/// msmtp's long options that change the account (`--host` is handled apart: it means
/// "use only command-line settings").
pub const ACCOUNT_OPTIONS: &[AccountOption] = &[
    opt("port", "port", "set port number"),
    opt(
        "source-ip",
        "source_ip",
        "set/unset source ip address to bind the socket to",
    ),
    opt("proxy-host", "proxy_host", "set/unset SOCKS proxy host"),
    opt("proxy-port", "proxy_port", "set/unset SOCKS proxy port"),
    opt("socket", "socket", "set/unset local socket to connect to"),
    opt(
        "timeout",
        "timeout",
        "set network timeout in seconds, or off",
    ),
    opt("connect-timeout", "timeout", "old name of --timeout"),
    opt(
        "protocol",
        "protocol",
        "use the given sub protocol (smtp|lmtp)",
    ),
    opt("domain", "domain", "set the argument of the EHLO command"),
    flag(
        "auth",
        "auth",
        "on",
        "enable/disable authentication and optionally choose the method",
    ),
    opt("user", "user", "set/unset user name for authentication"),
    opt(
        "passwordeval",
        "passwordeval",
        "evaluate password for authentication",
    ),
    flag("tls", "tls", "on", "enable/disable TLS encryption"),
    flag(
        "tls-starttls",
        "tls_starttls",
        "on",
        "enable/disable STARTTLS for TLS",
    ),
    opt(
        "tls-trust-file",
        "tls_trust_file",
        "set/unset trust file for TLS",
    ),
    opt(
        "tls-crl-file",
        "tls_crl_file",
        "set/unset revocation file for TLS",
    ),
    opt(
        "tls-fingerprint",
        "tls_fingerprint",
        "set/unset trusted certificate fingerprint",
    ),
    opt(
        "tls-key-file",
        "tls_key_file",
        "set/unset private key file for TLS",
    ),
    opt(
        "tls-cert-file",
        "tls_cert_file",
        "set/unset private cert file for TLS",
    ),
    flag(
        "tls-certcheck",
        "tls_certcheck",
        "on",
        "enable/disable server certificate checks",
    ),
    flag(
        "tls-force-sslv3",
        "tls_force_sslv3",
        "on",
        "obsolete; rejected",
    ),
    opt(
        "tls-min-dh-prime-bits",
        "tls_min_dh_prime_bits",
        "set/unset minimum bit size of DH prime",
    ),
    opt(
        "tls-priorities",
        "tls_priorities",
        "set/unset TLS priorities",
    ),
    opt(
        "tls-host-override",
        "tls_host_override",
        "set/unset override for TLS host verification",
    ),
    flag(
        "auto-from",
        "auto_from",
        "on",
        "enable/disable automatic envelope-from addresses",
    ),
    opt(
        "maildomain",
        "maildomain",
        "set the domain for automatic envelope from addresses",
    ),
    opt(
        "logfile-time-format",
        "logfile_time_format",
        "set/unset log file time format for strftime()",
    ),
    flag(
        "syslog",
        "syslog",
        "on",
        "enable/disable/configure syslog logging",
    ),
    opt("aliases", "aliases", "set/unset aliases file"),
    flag(
        "set-from-header",
        "set_from_header",
        "on",
        "set From header handling (auto|on|off)",
    ),
    flag(
        "add-missing-from-header",
        "add_missing_from_header",
        "on",
        "old name of --set-from-header",
    ),
    flag(
        "set-date-header",
        "set_date_header",
        "auto",
        "set Date header handling (auto|off)",
    ),
    flag(
        "add-missing-date-header",
        "add_missing_date_header",
        "on",
        "old name of --set-date-header",
    ),
    flag(
        "set-msgid-header",
        "set_msgid_header",
        "auto",
        "set Message-ID header handling (auto|off)",
    ),
    flag(
        "set-to-header",
        "set_to_header",
        "on",
        "set To header handling",
    ),
    flag(
        "remove-bcc-headers",
        "remove_bcc_headers",
        "on",
        "enable/disable removal of Bcc headers",
    ),
    flag(
        "undisclosed-recipients",
        "undisclosed_recipients",
        "on",
        "replace To/Cc/Bcc with To: undisclosed-recipients:;",
    ),
    flag(
        "keepbcc",
        "keepbcc",
        "on",
        "old inverse of --remove-bcc-headers",
    ),
    flag(
        "queue",
        "queue",
        "fallback",
        "rsmtp: queue mode (off|fallback|always)",
    ),
    opt("queue-dir", "queue_dir", "rsmtp: queue directory"),
    opt(
        "queue-expire",
        "queue_expire",
        "rsmtp: give up on a queued message after this long",
    ),
    opt(
        "queue-retry-for",
        "queue_retry_for",
        "rsmtp: how long the background retrier keeps trying a queued message",
    ),
    opt(
        "queue-notify",
        "queue_notify",
        "rsmtp: who gets the failure notice for an expired message",
    ),
];

/// The command line that reproduces `overrides` (as [`parse`] builds them), for a
/// child rsmtp that must deliver with the same settings: each account command as
/// its first long option in [`ACCOUNT_OPTIONS`], the others as their own options.
/// `queue_dir` is left out: the caller names the queue directory itself.
pub fn override_args(overrides: &[(String, String)]) -> Vec<String> {
    let mut args = Vec::with_capacity(overrides.len());
    for (command, value) in overrides {
        let long = match command.as_str() {
            "queue_dir" => continue,
            "dsn_notify" => "dsn-notify",
            "dsn_return" => "dsn-return",
            "logfile" => "logfile",
            "from_full_name" => {
                args.extend(["-F".to_string(), value.clone()]);
                continue;
            }
            c => match ACCOUNT_OPTIONS.iter().find(|o| o.command == c) {
                Some(o) => o.long,
                None => continue,
            },
        };
        args.push(format!("--{long}={value}"));
    }
    args
}
