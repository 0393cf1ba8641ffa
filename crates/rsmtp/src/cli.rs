//! The command line, stage one: what was typed, parsed exactly like sendmail and msmtp
//! parse it (cronie's `-FCronDaemon -i -odi -oem -oi -t -f root`, busybox's `-ti`,
//! mdadm's `-fraid@host`, PHP's `-t -i`, msmtp's long options).
//!
//! `-h` and `-V` are sendmail's (hop count, envelope id), so clap's own help and version
//! flags are disabled and `--help`/`--version` are defined by hand. Every error maps to
//! exit 64 with a one-line hint, as cron and PHP only look at the code.
//!
//! Long options that mirror msmtprc commands (`--tls-starttls=off`) are listed once in
//! [`account_options`] (from the one table of commands); the resolved values are handed to the config crate as
//! `(command, value)` pairs so a file line and a flag go through the same setter.

pub use crate::delivery::Delivery;
pub use rsmtp_config::long_options::{account_options, override_args, AccountOption};
pub use rsmtp_core::cli::{clap_error_line, completion_script};
use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches, Parser};

mod fast;

/// The options with a short sendmail/msmtp form and the modes.
#[derive(Debug, Parser)]
#[command(
    name = "rsmtp",
    disable_help_flag = true,
    disable_version_flag = true,
    override_usage = "rsmtp [option...] [--] recipient...\n       rsmtp [option...] -t [--] [recipient...]",
    about = "A sendmail-compatible SMTP client that reads msmtp configuration files"
)]
pub struct RawArgs {
    /// Print help and exit.
    #[arg(long)]
    pub help: bool,
    /// Print version and exit.
    #[arg(long)]
    pub version: bool,
    /// Print the configuration (password shown as *) and exit without sending.
    #[arg(short = 'P', long)]
    pub pretend: bool,
    /// Print the SMTP dialogue (secrets redacted); -d0.1 prints the version.
    #[arg(short = 'd', long = "debug", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub debug: Option<String>,
    /// Same as -d (sendmail's verbose flag).
    #[arg(short = 'v', action = ArgAction::Count)]
    pub verbose: u8,
    /// Print information about the server (capabilities, certificate) and exit.
    #[arg(short = 'S', long)]
    pub serverinfo: bool,
    /// Use this file instead of the user configuration file.
    #[arg(short = 'C', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Use this account instead of "default".
    #[arg(short = 'a', long = "account", value_name = "ID")]
    pub account: Option<String>,
    /// Use only command-line settings with this server; ignore the configuration files.
    #[arg(long, value_name = "HOSTNAME")]
    pub host: Option<String>,
    /// Envelope sender address (also selects the account whose `from` matches).
    #[arg(
        short = 'f',
        long = "from",
        value_name = "ADDRESS",
        overrides_with = "from_r"
    )]
    pub from: Option<String>,
    /// Same as -f (sendmail's obsolete spelling, used by mailx -r).
    #[arg(short = 'r', value_name = "ADDRESS", overrides_with = "from")]
    pub from_r: Option<String>,
    /// Full name for an added From header.
    #[arg(short = 'F', value_name = "NAME")]
    pub full_name: Option<String>,
    /// DSN conditions: off, or a list of never, failure, delay, success.
    #[arg(short = 'N', long = "dsn-notify", value_name = "COND")]
    pub dsn_notify: Option<String>,
    /// DSN amount: off, headers or full.
    #[arg(short = 'R', long = "dsn-return", value_name = "RET")]
    pub dsn_return: Option<String>,
    /// Log file (- for stdout); empty to unset.
    #[arg(short = 'X', long = "logfile", value_name = "FILE")]
    pub logfile: Option<String>,
    /// Read additional recipients from To, Cc and Bcc.
    #[arg(short = 't', long = "read-recipients")]
    pub read_recipients: bool,
    /// Take the envelope sender from the From header.
    #[arg(long)]
    pub read_envelope_from: bool,
    /// Deliver every queued message now, ignoring the backoff (sendmail -q); -q15m (s, m, h, d) flushes every interval, respecting the backoff, until SIGTERM.
    #[arg(short = 'q', long = "flush", num_args = 0..=1, require_equals = false, default_missing_value = "", value_name = "INTERVAL")]
    pub flush: Option<String>,
    /// With -q: deliver only the messages whose retry time has come (what the timer runs).
    #[arg(long = "queue-respect-backoff")]
    pub queue_respect_backoff: bool,
    /// Exit 1, one line per problem, when a message older than AGE (default 1h) waits or the failed area is not empty.
    #[arg(long = "queue-check", num_args = 0..=1, require_equals = true, default_missing_value = "1h", value_name = "AGE")]
    pub queue_check: Option<String>,
    /// Internal: the detached retrier of one queue (started when a message is queued).
    #[arg(long = "queue-retrier", hide = true)]
    pub queue_retrier: bool,
    /// Internal: with --queue-retrier, a server (HOST:PORT) that just accepted a message.
    #[arg(long = "queue-server-up", hide = true, value_name = "HOST:PORT")]
    pub queue_server_up: Vec<String>,
    /// Operation mode: -bm sends (default), -bp lists the queue, -bi does nothing.
    #[arg(short = 'b', value_name = "MODE")]
    pub mode: Option<String>,
    /// List the queue (same as -bp and mailq).
    #[arg(long = "queue-list")]
    pub queue_list: bool,
    /// Delete one queued message.
    #[arg(long = "queue-delete", value_name = "ID")]
    pub queue_delete: Vec<String>,
    /// Deliver one queued message now, ignoring its retry time.
    #[arg(long = "queue-retry", value_name = "ID")]
    pub queue_retry: Vec<String>,
    /// Remove every message in the failed area of the queue.
    #[arg(long = "queue-purge-failed")]
    pub queue_purge_failed: bool,
    /// Print a shell completion script (bash, zsh, fish) and exit.
    #[arg(long = "completions", value_name = "SHELL", value_parser = ["bash", "zsh", "fish"])]
    pub completions: Option<String>,
    /// OAuth 2.0: sign in once for the account (device code or browser) and store its tokens.
    #[arg(long = "oauth-login")]
    pub oauth_login: bool,
    /// OAuth 2.0: print a valid access token and nothing else (for msmtp's passwordeval).
    #[arg(long = "oauth-token")]
    pub oauth_token: bool,
    /// OAuth 2.0: forget the account's stored tokens.
    #[arg(long = "oauth-logout")]
    pub oauth_logout: bool,
    /// Internal: deliver one queued entry in the background (used by `queue always`).
    #[arg(long = "deliver-queued", hide = true, value_name = "ID")]
    pub deliver_queued: Option<String>,

    // Accepted and ignored, as msmtp and sendmail callers pass them.
    #[arg(short = 'i', hide = true, action = ArgAction::Count)]
    pub ignore_dots: u8,
    #[arg(short = 'o', hide = true, action = ArgAction::Append)]
    pub sendmail_option: Vec<String>,
    #[arg(short = 'O', hide = true, action = ArgAction::Append)]
    pub sendmail_long_option: Vec<String>,
    #[arg(short = 'B', hide = true)]
    pub body_type: Option<String>,
    #[arg(short = 'A', hide = true)]
    pub submission_mode: Option<String>,
    #[arg(short = 'h', hide = true)]
    pub hop_count: Option<String>,
    #[arg(short = 'L', hide = true)]
    pub syslog_tag: Option<String>,
    #[arg(short = 'V', hide = true)]
    pub envelope_id: Option<String>,
    #[arg(short = 'G', hide = true, action = ArgAction::Count)]
    pub gateway: u8,
    #[arg(short = 'm', hide = true, action = ArgAction::Count)]
    pub me_too: u8,
    #[arg(short = 'n', hide = true, action = ArgAction::Count)]
    pub no_alias: u8,
    #[arg(short = 'U', hide = true, action = ArgAction::Count)]
    pub initial_submission: u8,

    /// Recipients.
    #[arg(value_name = "RECIPIENT", trailing_var_arg = false)]
    pub recipients: Vec<String>,
}

/// The whole command line as clap sees it (derive part + [`account_options`]).
pub fn command() -> clap::Command {
    // getopt semantics, as msmtp has them: a repeated option overrides the earlier one.
    // PHPMailer's `isSendmail()` runs `sendmail -t -i -oi -fFROM -t`, mutt's
    // `use_envelope_from` adds a second `-f`; refusing them loses the mail.
    let mut cmd = RawArgs::augment_args(clap::Command::new("rsmtp"))
        .disable_help_flag(true)
        .disable_version_flag(true)
        .args_override_self(true);
    for o in account_options() {
        let mut arg = Arg::new(o.long)
            .long(o.long)
            .value_name("VALUE")
            .help(o.help)
            .action(ArgAction::Set)
            .require_equals(o.bare.is_some())
            .allow_hyphen_values(false);
        if let Some(bare) = o.bare {
            arg = arg.num_args(0..=1).default_missing_value(bare);
        }
        cmd = cmd.arg(arg.hide(o.hidden));
    }
    cmd
}

/// What the user asked for, before any file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Send,
    Pretend,
    ServerInfo,
    Help,
    Version,
    /// `-q`, `-bp`/`mailq` and the other queue modes.
    Queue(QueueMode),
    /// `--completions SHELL`.
    Completions(String),
    /// `newaliases` / `-bi`: nothing to do (there is no aliases database).
    NoOp,
    /// `-bs`: an SMTP session on stdin/stdout (Symfony Mailer, Laravel).
    SmtpSession,
    /// Called as `rsmtpd`/`msmtpd`: the listener, with its own options (argv kept).
    Daemon(Vec<OsString>),
    /// `--oauth-login`.
    OAuthLogin,
    /// `--oauth-token`.
    OAuthToken,
    /// `--oauth-logout`.
    OAuthLogout,
}

/// What to do with the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueMode {
    /// `-bp`/`mailq`.
    List,
    /// `-q`: one pass over every queued message, ignoring the backoff.
    Flush,
    /// `-q --queue-respect-backoff`: one pass over the messages that are due.
    FlushDue,
    /// `-q15m`: flush what is due every interval until SIGTERM/SIGINT.
    Run(std::time::Duration),
    /// `--queue-check[=AGE]`.
    Check(std::time::Duration),
    /// `--queue-retrier` (internal), with the servers known to be back.
    Retrier(Vec<String>),
    /// `--queue-delete=ID…`.
    Delete(Vec<String>),
    /// `--queue-retry=ID…`.
    Retry(Vec<String>),
    /// `--queue-purge-failed`.
    PurgeFailed,
    /// `--deliver-queued=ID` (internal): the background delivery of `queue always`.
    DeliverQueued(String),
}

/// Stage two: the checked command line: what to do, and the delivery it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub mode: Mode,
    pub debug: bool,
    pub delivery: Delivery,
}

/// A command line that cannot be used; always exit 64.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The program name decides the personality, like sendmail's multi-call links.
pub fn personality(argv0: &std::ffi::OsStr) -> &'static str {
    let name = std::path::Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("rsmtp");
    match name {
        "mailq" => "mailq",
        "newaliases" => "newaliases",
        "rsmtpd" | "msmtpd" => "rsmtpd",
        _ => "sendmail",
    }
}

/// The name to start messages with: argv[0]'s file name (`sendmail`, `mailq`,
/// `rsmtp`), or `rsmtp` when it has none.
pub fn program_name(argv0: Option<&std::ffi::OsStr>) -> String {
    argv0
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "rsmtp".to_string())
}

/// Whether the options (before any `--`) ask for one listener session on
/// stdin/stdout: `--inetd`, which only rsmtpd has.
fn inetd_requested(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--inetd")
}

/// Parse argv (argv[0] included).
pub fn parse(args: Vec<OsString>) -> Result<Invocation, UsageError> {
    let argv0 = args.first().cloned().unwrap_or_else(|| "rsmtp".into());
    match personality(&argv0) {
        "newaliases" => return Ok(Invocation::empty(Mode::NoOp)),
        "rsmtpd" => return Ok(Invocation::empty(Mode::Daemon(args))),
        // `rsmtp --inetd …` is `rsmtpd --inetd …` (inetd.conf and socket units name
        // the binary they run; the README spells it this way).
        _ if inetd_requested(&args) => return Ok(Invocation::empty(Mode::Daemon(args))),
        "mailq" => {
            let mut inv = Invocation::empty(Mode::Queue(QueueMode::List));
            // mailq accepts -C/-a/-v like sendmail -bp; parse them for the queue location.
            if let Some(fast) = fast::parse(&args) {
                inv.delivery.config_file = fast.delivery.config_file;
                inv.delivery.account = fast.delivery.account;
            } else if let Ok(m) = command().try_get_matches_from(&args) {
                if let Ok(raw) = RawArgs::from_arg_matches(&m) {
                    inv.delivery.config_file = raw.file;
                    inv.delivery.account = raw.account;
                }
            }
            return Ok(inv);
        }
        _ => {}
    }
    // cron's, PHP's and the other common lines, without building clap's command tree.
    if let Some(inv) = fast::parse(&args) {
        return Ok(inv);
    }
    parse_with_clap(args)
}

/// [`parse`] for a sendmail-personality line, through clap.
fn parse_with_clap(args: Vec<OsString>) -> Result<Invocation, UsageError> {
    // sendmail's only documented debug argument, `-d0.1`, prints the version; clap
    // cannot glue an optional value to a short flag, so spell it out first (an
    // option only: after `--` it is a recipient).
    let options_end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let args: Vec<OsString> = args
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            if a == "-d0.1" && i < options_end {
                OsString::from("--debug=0.1")
            } else {
                a
            }
        })
        .collect();
    if let Some(e) = unsupported_option(&args) {
        return Err(e);
    }
    let matches = match command().try_get_matches_from(&args) {
        // msmtp takes its arguments as bytes: a Latin-1 `-F "Système"` from an old
        // script still sends. Retry with the invalid sequences replaced rather than
        // refuse the mail (paths stay exact unless they are themselves invalid).
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            let lossy: Vec<OsString> = args
                .iter()
                .map(|a| OsString::from(a.to_string_lossy().into_owned()))
                .collect();
            command().try_get_matches_from(&lossy)
        }
        other => other,
    }
    .map_err(|e| UsageError(clap_error_line(&e)))?;
    let raw = RawArgs::from_arg_matches(&matches).map_err(|e| UsageError(clap_error_line(&e)))?;
    resolve(raw, &matches)
}

/// msmtp options rsmtp knowingly does not have: a clear refusal, not "unexpected
/// argument".
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "--configure",
        "write the account in ~/.msmtprc by hand (see rsmtprc(5)) or run `backup-alert setup`",
    ),
    (
        "--rmqs",
        "rsmtp has no ETRN; use `rsmtp -q` for its own queue",
    ),
];

fn unsupported_option(args: &[OsString]) -> Option<UsageError> {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .find_map(|a| {
            let a = a.to_str()?;
            let name = a.split_once('=').map_or(a, |(n, _)| n);
            UNSUPPORTED
                .iter()
                .find(|(o, _)| *o == name)
                .map(|(o, hint)| {
                    UsageError(format!("option {o} is not supported by rsmtp: {hint}"))
                })
        })
}

impl Invocation {
    fn empty(mode: Mode) -> Invocation {
        Invocation {
            mode,
            debug: false,
            delivery: Delivery::default(),
        }
    }
}

fn resolve(raw: RawArgs, matches: &ArgMatches) -> Result<Invocation, UsageError> {
    if raw.account.is_some() && raw.host.is_some() {
        return Err(UsageError("cannot use both --host and --account".into()));
    }
    if raw.from.is_some() && raw.read_envelope_from {
        return Err(UsageError(
            "cannot use both --from and --read-envelope-from".into(),
        ));
    }
    let debug_version = raw.debug.as_deref() == Some("0.1");
    let mut mode = Mode::Send;
    if let Some(b) = raw.mode.as_deref() {
        mode = match b {
            "m" => Mode::Send,
            "p" => Mode::Queue(QueueMode::List),
            "i" => Mode::NoOp,
            "s" => Mode::SmtpSession,
            other => return Err(UsageError(format!("unsupported operation mode b{other}"))),
        };
    }
    if raw.queue_list {
        mode = Mode::Queue(QueueMode::List);
    }
    if let Some(interval) = raw.flush.as_deref() {
        mode = match (interval, raw.queue_respect_backoff) {
            ("", false) => Mode::Queue(QueueMode::Flush),
            ("", true) => Mode::Queue(QueueMode::FlushDue),
            (every, _) => Mode::Queue(QueueMode::Run(
                rsmtp_config::parse_duration(every).ok_or_else(|| {
                    UsageError(format!(
                        "invalid queue interval -q{every}: use a number with s, m, h or d (-q15m)"
                    ))
                })?,
            )),
        };
    }
    if let Some(age) = raw.queue_check.as_deref() {
        mode = Mode::Queue(QueueMode::Check(
            rsmtp_config::parse_duration(age).ok_or_else(|| {
                UsageError(format!(
                    "invalid age --queue-check={age}: use a number with s, m, h or d (1h)"
                ))
            })?,
        ));
    }
    if raw.queue_retrier {
        mode = Mode::Queue(QueueMode::Retrier(raw.queue_server_up.clone()));
    }
    if !raw.queue_delete.is_empty() {
        mode = Mode::Queue(QueueMode::Delete(raw.queue_delete.clone()));
    }
    if !raw.queue_retry.is_empty() {
        mode = Mode::Queue(QueueMode::Retry(raw.queue_retry.clone()));
    }
    if raw.queue_purge_failed {
        mode = Mode::Queue(QueueMode::PurgeFailed);
    }
    if let Some(id) = &raw.deliver_queued {
        mode = Mode::Queue(QueueMode::DeliverQueued(id.clone()));
    }
    if let Some(shell) = &raw.completions {
        mode = Mode::Completions(shell.clone());
    }
    if raw.oauth_login {
        mode = Mode::OAuthLogin;
    }
    if raw.oauth_token {
        mode = Mode::OAuthToken;
    }
    if raw.oauth_logout {
        mode = Mode::OAuthLogout;
    }
    if raw.serverinfo {
        mode = Mode::ServerInfo;
    }
    if raw.pretend {
        mode = Mode::Pretend;
    }
    if raw.version || debug_version {
        mode = Mode::Version;
    }
    if raw.help {
        mode = Mode::Help;
    }

    let mut overrides = Vec::new();
    for o in account_options() {
        if let Some(v) = matches.get_one::<String>(o.long) {
            check_option_value(&o, v)?;
            overrides.push((o.command.to_string(), v.clone()));
        }
    }
    for (command, value) in [
        ("dsn_notify", &raw.dsn_notify),
        ("dsn_return", &raw.dsn_return),
        ("logfile", &raw.logfile),
    ] {
        if let Some(v) = value {
            overrides.push((command.to_string(), v.clone()));
        }
    }
    if let Some(name) = &raw.full_name {
        overrides.push(("from_full_name".to_string(), name.clone()));
    }

    // The queue commands' own settings, read once (they go to the account too, as
    // overrides: `--queue-dir` also says where a queued message is kept).
    let setting = |name: &str| {
        overrides
            .iter()
            .rev()
            .find(|(c, _)| c == name)
            .map(|(_, v)| v.clone())
    };
    let queue_dir = setting("queue_dir").map(|d| rsmtp_config::expand_tilde(&d));
    let queue_retry_for = setting("queue_retry_for").and_then(|v| rsmtp_config::parse_duration(&v));

    Ok(Invocation {
        mode,
        debug: raw.debug.is_some() || raw.verbose > 0,
        delivery: Delivery {
            queue_dir,
            queue_retry_for,
            config_file: raw.file,
            account: raw.account,
            host: raw.host,
            // `-f 'a@x.org (comment)'` and `-f 'Name <a@x.org>'` name a@x.org.
            envelope_from: raw
                .from
                .or(raw.from_r)
                .map(|f| rsmtp_message::envelope_address(&f)),
            full_name: raw.full_name,
            read_recipients: raw.read_recipients,
            read_envelope_from: raw.read_envelope_from,
            overrides,
            recipients: raw.recipients,
            queue_on_tempfail: false,
        },
    })
}

/// A bad value is a usage error naming the option as typed, before any file is read
/// (msmtp: `invalid argument 99999 for --port`), through the config crate's own
/// setter so a flag and a file line accept the same values.
fn check_option_value(o: &AccountOption, value: &str) -> Result<(), UsageError> {
    match rsmtp_config::Account::from_command_line([(o.command, value)]) {
        Ok(_) => Ok(()),
        Err(e) => {
            let text = e.to_string();
            let text = text.strip_prefix("command line: ").unwrap_or(&text);
            Err(UsageError(text.replace(
                &format!("for command {}", o.command),
                &format!("for --{}", o.long),
            )))
        }
    }
}

/// rsmtp's completion script for `shell` (bash, zsh, fish).
pub fn completions(shell: &str) -> String {
    completion_script(shell, &mut command(), "rsmtp")
}

/// `--help` text.
pub fn help() -> String {
    command()
        .override_usage("rsmtp [option...] [--] recipient...\n       rsmtp [option...] -t [--] [recipient...]")
        .about("Read a mail from standard input and transmit it to an SMTP server, like msmtp/sendmail.")
        .after_help(
            "Accepted but ignored: -A, -B, -bm, -G, -h, -i, -L, -m, -n, -O, -o, -U, -V\n\
             Queue: -q/--flush delivers queued mail, -bp/--queue-list (or mailq) lists it.",
        )
        .render_help()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Invocation, UsageError> {
        parse(line.split_whitespace().map(OsString::from).collect())
    }

    #[test]
    fn cronie_arguments() {
        let inv = parse_line("sendmail -FCronDaemon -i -odi -oem -oi -t -f root").unwrap();
        assert_eq!(inv.mode, Mode::Send);
        assert!(inv.delivery.read_recipients);
        assert_eq!(inv.delivery.envelope_from.as_deref(), Some("root"));
        assert_eq!(inv.delivery.full_name.as_deref(), Some("CronDaemon"));
        assert!(inv.delivery.recipients.is_empty());
    }

    #[test]
    fn debian_cron_systemd_cron_anacron_atd() {
        let inv = parse_line("sendmail -FCronDaemon -i -B8BITMIME -oem root").unwrap();
        assert_eq!(inv.delivery.recipients, vec!["root"]);
        let inv = parse_line("sendmail -i -B 8BITMIME user").unwrap();
        assert_eq!(inv.delivery.recipients, vec!["user"]);
        let inv = parse_line("sendmail -FAnacron -odi root").unwrap();
        assert_eq!(inv.delivery.recipients, vec!["root"]);
        let inv = parse_line("sendmail -i alice").unwrap();
        assert_eq!(inv.delivery.recipients, vec!["alice"]);
    }

    #[test]
    fn busybox_mdadm_snail_php() {
        let inv = parse_line("sendmail -ti").unwrap();
        assert!(inv.delivery.read_recipients);
        let inv = parse_line("sendmail -t -fraid@host").unwrap();
        assert_eq!(inv.delivery.envelope_from.as_deref(), Some("raid@host"));
        let inv = parse_line("sendmail -i -- rcpt@example.org").unwrap();
        assert_eq!(inv.delivery.recipients, vec!["rcpt@example.org"]);
        let inv = parse_line("sendmail -t -i").unwrap();
        assert!(inv.delivery.read_recipients);
    }

    #[test]
    fn a_latin1_full_name_does_not_refuse_the_mail() {
        use std::os::unix::ffi::OsStringExt;
        let args = vec![
            OsString::from("sendmail"),
            OsString::from_vec(b"-FRen\xe9 Syst\xe8me".to_vec()),
            OsString::from("-C"),
            OsString::from_vec(b"/etc/rc-\xe9".to_vec()),
            OsString::from("x@example.org"),
        ];
        let inv = parse(args).expect("msmtp accepts non-UTF-8 arguments");
        assert_eq!(
            inv.delivery.full_name.as_deref(),
            Some("Ren\u{fffd} Syst\u{fffd}me")
        );
        assert_eq!(inv.delivery.recipients, vec!["x@example.org"]);
    }

    #[test]
    fn long_options_become_overrides() {
        let inv = parse_line("rsmtp --tls-starttls=off --port=465 --auth --tls x@y.z").unwrap();
        assert!(inv
            .delivery
            .overrides
            .contains(&("tls_starttls".into(), "off".into())));
        assert!(inv
            .delivery
            .overrides
            .contains(&("port".into(), "465".into())));
        assert!(inv
            .delivery
            .overrides
            .contains(&("auth".into(), "on".into())));
        assert!(inv
            .delivery
            .overrides
            .contains(&("tls".into(), "on".into())));
        assert_eq!(inv.delivery.recipients, vec!["x@y.z"]);
    }

    #[test]
    fn override_args_give_a_child_the_same_settings() {
        let inv = parse_line(
            "rsmtp --passwordeval=pass-mail --logfile=/home/a/log --tls=off --connect-timeout=9 \
             -N failure -R hdrs -F Cron --queue-dir=/q --port=2525 x@y.z",
        )
        .unwrap();
        let mut args: Vec<OsString> = vec!["rsmtp".into(), "--deliver-queued=1".into()];
        args.extend(
            override_args(&inv.delivery.overrides)
                .into_iter()
                .map(OsString::from),
        );
        let child = parse(args).unwrap();
        let without_queue_dir: Vec<_> = inv
            .delivery
            .overrides
            .iter()
            .filter(|(c, _)| c != "queue_dir")
            .cloned()
            .collect();
        assert_eq!(child.delivery.overrides, without_queue_dir);
    }

    #[test]
    fn sendmail_h_and_v_are_not_help_and_version() {
        let inv = parse_line("sendmail -h 5 -V envid x@y.z").unwrap();
        assert_eq!(inv.mode, Mode::Send);
        assert_eq!(inv.delivery.recipients, vec!["x@y.z"]);
        assert_eq!(parse_line("rsmtp --help").unwrap().mode, Mode::Help);
        assert_eq!(parse_line("rsmtp --version").unwrap().mode, Mode::Version);
    }

    #[test]
    fn unknown_options_are_usage_errors_with_one_line() {
        let err = parse_line("rsmtp --foo x@y.z").unwrap_err();
        assert!(err.0.contains("--foo"), "{}", err.0);
        assert!(!err.0.contains('\n'));
        assert!(parse_line("rsmtp -Z").is_err());
        assert!(parse_line("rsmtp -bx").is_err());
        assert_eq!(parse_line("rsmtp -bs -i").unwrap().mode, Mode::SmtpSession);
        assert!(matches!(
            parse_line("/usr/sbin/msmtpd --port=2500").unwrap().mode,
            Mode::Daemon(_)
        ));
    }

    #[test]
    fn queue_modes_and_personalities() {
        assert_eq!(
            parse_line("sendmail -bp").unwrap().mode,
            Mode::Queue(QueueMode::List)
        );
        assert_eq!(
            parse_line("sendmail -q").unwrap().mode,
            Mode::Queue(QueueMode::Flush)
        );
        assert_eq!(
            parse_line("sendmail -q15m").unwrap().mode,
            Mode::Queue(QueueMode::Run(std::time::Duration::from_secs(900)))
        );
        assert_eq!(
            parse_line("rsmtp -q --queue-respect-backoff").unwrap().mode,
            Mode::Queue(QueueMode::FlushDue)
        );
        assert_eq!(
            parse_line("rsmtp --queue-check").unwrap().mode,
            Mode::Queue(QueueMode::Check(std::time::Duration::from_secs(3600)))
        );
        assert!(parse_line("sendmail -q15x").is_err());
        assert_eq!(
            parse_line("rsmtp --flush").unwrap().mode,
            Mode::Queue(QueueMode::Flush)
        );
        assert_eq!(
            parse_line("/usr/bin/mailq").unwrap().mode,
            Mode::Queue(QueueMode::List)
        );
        assert_eq!(parse_line("newaliases").unwrap().mode, Mode::NoOp);
        assert_eq!(parse_line("sendmail -bi").unwrap().mode, Mode::NoOp);
    }

    #[test]
    fn a_repeated_option_is_accepted_and_the_last_one_wins() {
        // PHPMailer isSendmail() on PHP's compiled-in sendmail_path.
        let inv = parse_line("sendmail -t -i -oi -fpm@example.com -t").unwrap();
        assert!(inv.delivery.read_recipients);
        assert_eq!(
            inv.delivery.envelope_from.as_deref(),
            Some("pm@example.com")
        );
        // PHPMailer isMail() with sendmail_path = "... -t -i -f noreply@x".
        let inv = parse_line("sendmail -t -i -f noreply@x -fpm@example.com").unwrap();
        assert_eq!(
            inv.delivery.envelope_from.as_deref(),
            Some("pm@example.com")
        );
        // mutt with use_envelope_from.
        let inv = parse_line("sendmail -f me@x -f mutt@x -- a@y").unwrap();
        assert_eq!(inv.delivery.envelope_from.as_deref(), Some("mutt@x"));
        assert_eq!(inv.delivery.recipients, vec!["a@y"]);
        // -f and -r are one option.
        let inv = parse_line("sendmail -f b@x -r a@x z@y").unwrap();
        assert_eq!(inv.delivery.envelope_from.as_deref(), Some("a@x"));
        let inv = parse_line("sendmail -r a@x -f b@x z@y").unwrap();
        assert_eq!(inv.delivery.envelope_from.as_deref(), Some("b@x"));
        let inv = parse_line(
            "sendmail -F A -F B -C /a -C /b -a x -a y -X /l1 -X /l2 -N never -N failure \
             -R hdrs -R full --read-envelope-from --read-envelope-from --port=1 --port=2 \
             --tls --tls=off z@y",
        )
        .unwrap();
        assert_eq!(inv.delivery.full_name.as_deref(), Some("B"));
        assert_eq!(
            inv.delivery.config_file.as_deref(),
            Some(std::path::Path::new("/b"))
        );
        assert_eq!(inv.delivery.account.as_deref(), Some("y"));
        assert!(inv.delivery.read_envelope_from);
        let value = |c: &str| {
            let found: Vec<_> = inv
                .delivery
                .overrides
                .iter()
                .filter(|(k, _)| k == c)
                .collect();
            assert_eq!(found.len(), 1, "{c}: {found:?}");
            found[0].1.clone()
        };
        assert_eq!(value("port"), "2");
        assert_eq!(value("tls"), "off");
        assert_eq!(value("logfile"), "/l2");
        assert_eq!(value("dsn_notify"), "failure");
        assert_eq!(value("dsn_return"), "full");
        assert_eq!(value("from_full_name"), "B");
    }

    #[test]
    fn host_and_account_conflict() {
        assert!(parse_line("rsmtp --host=x -a y z@z.z").is_err());
    }

    #[test]
    fn debug_flags() {
        assert!(parse_line("rsmtp -d x@y.z").unwrap().debug);
        assert!(parse_line("rsmtp -v x@y.z").unwrap().debug);
        assert!(parse_line("rsmtp --debug x@y.z").unwrap().debug);
        assert_eq!(parse_line("rsmtp -d0.1").unwrap().mode, Mode::Version);
    }

    /// Every flag clap knows must be documented in man/rsmtp.1 (roff escapes `-` as `\-`).
    #[test]
    fn every_flag_is_in_the_man_page() {
        let man =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../man/rsmtp.1"))
                .expect("man/rsmtp.1")
                .replace("\\-", "-");
        let mut missing = Vec::new();
        for arg in command().get_arguments() {
            if let Some(long) = arg.get_long() {
                if long != "deliver-queued" && !man.contains(&format!("--{long}")) {
                    missing.push(format!("--{long}"));
                }
            }
            if let Some(short) = arg.get_short() {
                // `-X` on its own, not inside `--xyz` or `-Xfoo`.
                let documented = man.match_indices(&format!("-{short}")).any(|(i, m)| {
                    let before = man[..i].chars().next_back();
                    let after = man[i + m.len()..].chars().next();
                    before != Some('-') && !after.is_some_and(|c| c.is_ascii_alphanumeric())
                });
                if !documented {
                    missing.push(format!("-{short}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "flags missing from man/rsmtp.1: {missing:?}"
        );
    }
}
