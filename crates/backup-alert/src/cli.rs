//! The subcommand command line (clap derive; doc comments are the help text), and the one
//! place that prints errors: `backup-alert: <message>` on stderr, exit status from the
//! error. A usage error is 64, as for sendmail.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::compose::Status;
use crate::error::Error;
use crate::settings::{self, Settings};
use rsmtp::ui::Ui;

/// Mail the result of a backup: send an alert, wrap a command, check a backup's age,
/// configure msmtp, count sent mail. Also a drop-in for `mail -s` and for sendmail.
///
/// Defaults are given in each option's text as "(default: …)".
#[derive(Debug, Parser)]
#[command(
    name = "backup-alert",
    version,
    override_usage = "backup-alert [--settings FILE] <COMMAND> [OPTIONS]\n       \
                      backup-alert -s SUBJECT [mail options] ADDRESS...   (mail mode, as mail/mailx)\n       \
                      backup-alert -t [sendmail options]                  (sendmail mode)"
)]
pub struct Cli {
    /// backup-alert settings file, instead of ~/.config/backup-alert/config
    /// (/etc/backup-alert.conf is still read first).
    #[arg(long, global = true, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Language of the alerts: en, fr or ja (default: `language` from the settings, else
    /// the locale, LC_ALL / LC_MESSAGES / LANG, else English).
    #[arg(long, global = true, value_name = "LANG", value_parser = crate::lang::Language::parse_setting)]
    pub language: Option<crate::lang::Language>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send one alert.
    Send(SendArgs),
    /// Run a command and mail how it ended.
    Run(RunArgs),
    /// Mail a warning when the newest backup file (or borg/restic archive) is too old, too
    /// small or missing (and, with --verify, a failure when it is damaged).
    Check(CheckArgs),
    /// Write an msmtprc for Gmail, Outlook, Yahoo or another server, and send a test alert.
    Setup(SetupArgs),
    /// Count sent and failed mail in an msmtp-format log.
    Stats(StatsArgs),
    /// Mail (or print) a digest per host: every job's runs, failures, durations and sizes
    /// over a period, with a chart, and the mail log's counts.
    Report(crate::report::ReportArgs),
    /// Remove a retired job from the state file, the run journal, the metrics and the
    /// digest.
    Forget(crate::jobs::JobArgs),
    /// List a job's recorded results (time, status, exit status, duration, size).
    History(crate::jobs::HistoryArgs),
    /// Print a shell completion script (bash, zsh or fish) generated from these options.
    Completions {
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
}

/// Who gets a mail and through which account (shared by send, run, check and report).
#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// Recipient, repeatable or comma-separated (default: `to` from the settings).
    #[arg(long, value_name = "ADDRESS")]
    pub to: Vec<String>,
    /// Sender, for the From header and the envelope (default: `from` from the settings,
    /// else the msmtprc account's `from`).
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<String>,
    /// msmtprc account to send through (default: `default`).
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// msmtprc file, instead of ~/.msmtprc (like msmtp -C); its `logfile` is the mail
    /// log that stats and report count.
    #[arg(long, value_name = "MSMTPRC")]
    pub config: Option<PathBuf>,
}

impl MailArgs {
    /// The recipients, sender and route these options and the settings give.
    pub fn target(
        &self,
        settings: &crate::settings::Settings,
    ) -> Result<crate::alert::Target, Error> {
        crate::alert::Target::resolve(
            &self.to,
            self.from.as_deref(),
            self.account.as_deref(),
            self.config.clone(),
            settings,
        )
    }
}

/// Where alerts go and how repeats are held back (shared by send, run and check).
#[derive(Debug, Clone, Args)]
pub struct DeliveryArgs {
    #[command(flatten)]
    pub mail: MailArgs,
    /// Hold identical alerts repeated within this window; 0 disables (default: 1h).
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub flood_window: Option<Duration>,
    /// Never hold an alert back.
    #[arg(long)]
    pub no_flood: bool,
    /// Directory of the flood-control state file (default: /var/lib/backup-alert as root,
    /// else ~/.local/state/backup-alert).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// What happened; sets the subject mark (✅ ❌ ⚠️ 🔄 ♻️ ℹ️).
    #[arg(long, value_enum)]
    pub status: Status,
    /// Subject text (the mark and host name are added in front).
    #[arg(long)]
    pub subject: String,
    /// Name of the job, for flood control and recovery detection (default: the subject).
    #[arg(long)]
    pub name: Option<String>,
    /// Message text (default: --body-file, else stdin when it is not a terminal).
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,
    /// Read the message text from FILE (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// Log file to name in the alert, with its last lines.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Lines of --log to include; 0 for none (default: `log_lines` from the settings,
    /// else 50).
    #[arg(long, value_name = "N", alias = "tail-lines")]
    pub log_lines: Option<usize>,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Name of the job (default: the command line).
    #[arg(long)]
    pub name: Option<String>,
    /// Subject text instead of "NAME succeeded" / "NAME FAILED: <how it ended>" (the mark
    /// and host name are still added in front, "Recovered: " on a recovery).
    #[arg(long)]
    pub subject: Option<String>,
    /// Mail only when the command fails (and when it recovers), like chronic.
    #[arg(long)]
    pub only_failure: bool,
    /// Stop the command after this long (TERM, then KILL); exit status 124.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub timeout: Option<Duration>,
    /// Grace period between the timeout's TERM and KILL (default: 10s).
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "10s", hide_default_value = true)]
    pub kill_after: Duration,
    /// Lines of stdout and of stderr to include, each also capped at 64 KiB (default:
    /// `log_lines` from the settings, else 100). `--tail-lines` is the old name.
    #[arg(long, value_name = "N", alias = "tail-lines")]
    pub log_lines: Option<usize>,
    /// Exit statuses that are a warning (⚠️), e.g. 1,24 or 100-127 (default: the tool's
    /// own: borg 1 and 100-127, restic 3, rsync 24, tar 1; none for other commands).
    #[arg(long, value_name = "CODES", value_parser = crate::exit_codes::CodeSet::parse)]
    pub warning_exit_codes: Option<crate::exit_codes::CodeSet>,
    /// Exit statuses that are a success besides 0, e.g. 1.
    #[arg(long, value_name = "CODES", value_parser = crate::exit_codes::CodeSet::parse)]
    pub ok_exit_codes: Option<crate::exit_codes::CodeSet>,
    /// The mark of a successful run: success, rotation (🔄, for prune runs), restore or
    /// info (default: success).
    #[arg(long, value_name = "STATUS", value_parser = success_status)]
    pub status: Option<Status>,
    /// The job's own log file: named in the alert, its last lines (those around the
    /// error) included, its error lines searched for the cause.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Append the command's stdout and stderr to FILE as they come (as tee -a).
    #[arg(long, value_name = "FILE")]
    pub tee: Option<PathBuf>,
    /// Copy the command's output to backup-alert's stdout and stderr: `auto` when they are
    /// a file or a terminal (a `>> log 2>&1` line, someone watching), not into a pipe,
    /// which under cron would become a second mail; `always`; `never` (default: auto).
    #[arg(long, value_name = "WHEN", value_enum)]
    pub echo: Option<Echo>,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// The command and its arguments (after `--`, or from the first word that is not an
    /// option). An unknown option before it is a usage error, never the command.
    // No `allow_hyphen_values`: with it a mistyped option (`--only-failures`) became the
    // command to run. `trailing_var_arg` still gives the command every word after its
    // first, options included.
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Backup file, directory (searched recursively) or pattern with `*` and `?`.
    #[arg(
        long,
        value_name = "DIR_OR_GLOB",
        required_unless_present_any = ["borg", "restic", "job"],
        conflicts_with_all = ["borg", "restic", "job"]
    )]
    pub path: Option<String>,
    /// A job `run` or `send --name` records on this host: warn when it has not succeeded
    /// within --max-age (a dead man's switch for the host that is up while cron, or the
    /// script, is not). Its alerts are recorded as "NAME (check)".
    #[arg(long, value_name = "NAME", conflicts_with_all = ["borg", "restic", "verify", "manifest", "min_files", "min_size", "expect_files"])]
    pub job: Option<String>,
    /// Borg repository: its newest archive's time from `borg list --last 1 --json`
    /// (the passphrase from BORG_PASSPHRASE or BORG_PASSCOMMAND, as borg reads it).
    #[arg(long, value_name = "REPO", conflicts_with_all = ["restic", "verify", "manifest", "min_files", "min_size", "expect_files"])]
    pub borg: Option<String>,
    /// restic repository: its newest snapshot's time from `restic snapshots --latest 1
    /// --json` (the password from RESTIC_PASSWORD or RESTIC_PASSWORD_FILE).
    #[arg(long, value_name = "REPO", conflicts_with_all = ["verify", "manifest", "min_files", "min_size", "expect_files"])]
    pub restic: Option<String>,
    /// With --borg or --restic: also run the tool's own consistency check (`borg check`,
    /// `restic check`); a damaged repository is a failure alert.
    #[arg(long)]
    pub deep: bool,
    /// With --restic --deep: read back this part of the data (`restic check
    /// --read-data-subset`, e.g. 10% or 1/7), the restore test.
    #[arg(long, value_name = "SUBSET", requires = "deep", requires = "restic")]
    pub read_data_subset: Option<String>,
    /// Maximum age of the newest file, e.g. 26h.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub max_age: Duration,
    /// Minimum size of the newest file, e.g. 1M (binary units).
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub min_size: Option<u64>,
    /// Fewest files the path must hold (counted recursively), e.g. one per night kept.
    #[arg(long, value_name = "N")]
    pub min_files: Option<usize>,
    /// Compare the newest backup's file count (an archive's members, or the files of a
    /// backup directory) with the previous backup's; fewer by more than TOLERANCE — a
    /// percentage (10%) or a number of files (0) — is a warning (default: 10%).
    #[arg(
        long,
        value_name = "TOLERANCE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "10%",
        value_parser = crate::file_count::Tolerance::parse
    )]
    pub expect_files: Option<crate::file_count::Tolerance>,
    /// Read the newest file to its end as a restore would: gzip, zstd and xz streams
    /// with their checksums, every tar member, every zip member's CRC32. A damaged archive
    /// is a failure alert naming the file and the first bad member. Checksum files
    /// (NAME.sha256, .md5, .sfv, SHA256SUMS, …) are never taken for the newest backup,
    /// with or without --verify.
    #[arg(long)]
    pub verify: bool,
    /// Checksum file in sha256sum, sha512sum or md5sum format, or a CRC32 list (8 hex
    /// digits, or SFV), with a line for the newest file (default: with --verify,
    /// NAME.sha256, NAME.md5, NAME.sfv, … next to it, when there is one).
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Name of the backup in the alert (default: the path or repository).
    #[arg(long)]
    pub name: Option<String>,
    /// Send nothing when the backup is fresh (a recovery is still mailed).
    #[arg(long)]
    pub quiet_ok: bool,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

/// Mail providers the wizard knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Provider {
    Gmail,
    Outlook,
    Yahoo,
    Other,
}

/// TLS modes of an SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS (a relay on the local network only).
    Off,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Mail provider (asked when missing and stdin is a terminal).
    #[arg(long, value_enum)]
    pub provider: Option<Provider>,
    /// SMTP server (provider `other`).
    #[arg(long)]
    pub host: Option<String>,
    /// SMTP port, provider `other` (default: 587, 465 with --tls tls, 25 with --tls off).
    #[arg(long)]
    pub port: Option<u16>,
    /// TLS mode, provider `other` (default: starttls).
    #[arg(long, value_enum)]
    pub tls: Option<TlsMode>,
    /// Login name (usually the mail address).
    #[arg(long)]
    pub user: Option<String>,
    /// The server takes mail without a login (a relay on the local network): `auth off`,
    /// no password; the sender comes from --from.
    #[arg(long, conflicts_with_all = ["user", "password_file", "password_stdin"])]
    pub no_auth: bool,
    /// Sender address (default: the login name).
    #[arg(long)]
    pub from: Option<String>,
    /// Recipient of the alerts.
    #[arg(long)]
    pub to: Option<String>,
    /// Read the password from the first line of FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
    pub password_file: Option<PathBuf>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
    /// msmtprc to write (default: /etc/msmtprc as root, else ~/.msmtprc).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Update an account of the same name in an existing file without asking (the
    /// previous version is kept as FILE.bak.TIME; other accounts are never touched).
    #[arg(long)]
    pub force: bool,
    /// Group that may read a new system msmtprc (0640 root:GROUP, e.g. www-data for PHP);
    /// an existing file keeps its owner, group and mode.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Do not send a test alert.
    #[arg(long)]
    pub no_test: bool,
    /// Account name in the msmtprc (default: backup).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "backup",
        hide_default_value = true
    )]
    pub account: String,
    /// CA bundle, `tls_trust_file` (default: the system bundle).
    #[arg(long, value_name = "FILE")]
    pub tls_trust_file: Option<PathBuf>,
    /// `logfile` of the account (default: /var/log/msmtp.log as root, else ~/.msmtp.log).
    #[arg(long, value_name = "FILE")]
    pub logfile: Option<PathBuf>,
    /// Do not record the recipient in backup-alert's settings file.
    #[arg(long)]
    pub no_settings: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// msmtp-format log (default: `logfile` of the settings, else of the msmtprc default
    /// account, else /var/log/msmtp.log).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Only lines newer than this: a duration (24h) or a date (2026-11-20, "2026-11-20 08:00").
    #[arg(long, value_name = "DURATION|DATE")]
    pub since: Option<String>,
    /// msmtprc to look for `logfile` in.
    #[arg(long, value_name = "MSMTPRC")]
    pub config: Option<PathBuf>,
    /// Write node_exporter's textfile format to FILE (atomically; `-` for stdout) instead
    /// of the summary: each job's last run, last success, duration, exit status and backup
    /// size from the state file, and the log's sent, queued and failed counts.
    #[arg(long, value_name = "FILE")]
    pub prometheus: Option<PathBuf>,
    /// Directory of the state file the jobs are read from (default: as for send, run and
    /// check).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

/// When `run` copies the command's output to its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Echo {
    Auto,
    Always,
    Never,
}

/// `run --status`: the mark of a success; failure and warning come from the exit status.
fn success_status(s: &str) -> Result<Status, String> {
    match Status::parse(s) {
        Some(st) if !st.is_problem() => Ok(st),
        _ => Err(format!(
            "`{s}` is not the mark of a successful run (success, rotation, restore, info); \
             failures and warnings come from the exit status"
        )),
    }
}

fn duration(s: &str) -> Result<Duration, String> {
    crate::units::parse_duration(s)
}

fn size(s: &str) -> Result<u64, String> {
    crate::units::parse_size(s)
}

/// What every subcommand needs: the settings and this machine's name.
#[derive(Debug, Clone)]
pub struct Context {
    pub settings: Settings,
    pub host: String,
}

impl Context {
    pub fn load(explicit: Option<&std::path::Path>) -> Result<Context, Error> {
        let nodename = host_name();
        let settings = settings::load(explicit, &nodename)?;
        let host = settings.hostname.clone().unwrap_or(nodename);
        Ok(Context { settings, host })
    }
}

/// This machine's host name (uname nodename).
pub use rsmtp_core::os::node_name as host_name;

/// Parse and run the subcommand line, talking to the user through `ui`.
pub fn main(args: Vec<OsString>, ui: &mut Ui<'_>) -> u8 {
    let subcommand = subcommand_of(&args);
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            return 0;
        }
        Err(e) => {
            let mut line = rsmtp::cli::clap_error_line(&e);
            if let Some(s) = other_spelling(&e, subcommand.as_deref()) {
                line = format!("{line} (did you mean '{s}'?)");
            }
            ui.warn(&format!("{line} (see backup-alert --help)"));
            return rsmtp::ExitCode::Usage as u8;
        }
    };
    let result = dispatch(cli, ui);
    finish(result, ui)
}

/// Options one subcommand has under another's name: the same wish typed on the wrong
/// subcommand, which clap's similarity search cannot suggest. (subcommand, typed, meant)
const OTHER_SPELLINGS: &[(&str, &str, &str)] = &[
    ("run", "--quiet-ok", "--only-failure"),
    ("run", "--quiet", "--only-failure"),
    ("check", "--only-failure", "--quiet-ok"),
    ("check", "--only-failures", "--quiet-ok"),
    ("send", "--log-file", "--log"),
];

/// The subcommand word of a command line (the first known subcommand name), if any.
fn subcommand_of(args: &[OsString]) -> Option<String> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .filter_map(|a| a.to_str())
        .find(|a| cmd.find_subcommand(a).is_some())
        .map(str::to_string)
}

/// The suggestion for an unknown option clap found nothing similar to.
fn other_spelling(e: &clap::Error, subcommand: Option<&str>) -> Option<&'static str> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument || e.get(ContextKind::SuggestedArg).is_some() {
        return None;
    }
    let Some(ContextValue::String(typed)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let typed = typed.split('=').next().unwrap_or(typed);
    OTHER_SPELLINGS
        .iter()
        .find(|(sub, t, _)| Some(*sub) == subcommand && *t == typed)
        .map(|(_, _, meant)| *meant)
}

fn dispatch(cli: Cli, ui: &mut Ui<'_>) -> Result<u8, Error> {
    if let Command::Completions { shell } = &cli.command {
        print_completions(shell, ui);
        return Ok(0);
    }
    // `setup` may be the one creating the --settings file.
    let read_settings = match (&cli.command, &cli.settings) {
        (Command::Setup(_), Some(p)) if !p.exists() => None,
        (_, s) => s.as_deref(),
    };
    let mut ctx = Context::load(read_settings)?;
    if let Some(language) = cli.language {
        ctx.settings.language = Some(language);
    }
    match cli.command {
        Command::Send(a) => crate::commands::send(a, &ctx, ui),
        Command::Run(a) => crate::commands::run(a, &ctx, ui),
        Command::Check(a) => crate::commands::check(a, &ctx, ui),
        Command::Setup(a) => crate::setup::main(a, &ctx, cli.settings.as_deref(), ui),
        Command::Stats(a) => crate::stats::main(a, &ctx, ui),
        Command::Report(a) => crate::report::main(a, &ctx, ui),
        Command::Forget(a) => crate::jobs::forget(a, &ctx, ui),
        Command::History(a) => crate::jobs::history(a, &ctx, ui),
        Command::Completions { .. } => Ok(0),
    }
}

fn print_completions(shell: &str, ui: &mut Ui<'_>) {
    use clap::CommandFactory;
    let script = rsmtp::cli::completion_script(shell, &mut Cli::command(), "backup-alert");
    ui.print(&script);
}

/// Print an error the house way and turn the result into an exit status.
pub fn finish(result: Result<u8, Error>, ui: &mut Ui<'_>) -> u8 {
    match result {
        Ok(code) => code,
        Err(e) => {
            ui.warn(&e.to_string());
            e.exit_code().code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(args)
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn run_takes_the_command_after_double_dash() {
        let c = parse(&[
            "backup-alert",
            "run",
            "--name",
            "db",
            "--timeout",
            "2h",
            "--",
            "pg_dump",
            "-Fc",
            "db",
        ])
        .unwrap();
        let Command::Run(r) = c.command else { panic!() };
        assert_eq!(r.command, vec!["pg_dump", "-Fc", "db"]);
        assert_eq!(r.timeout, Some(Duration::from_secs(7200)));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        assert!(parse(&[
            "backup-alert",
            "send",
            "--status",
            "great",
            "--subject",
            "s"
        ])
        .is_err());
        assert!(parse(&["backup-alert", "check", "--path", "/b", "--max-age", "soon"]).is_err());
        assert!(parse(&[
            "backup-alert",
            "send",
            "--status",
            "success",
            "--subject",
            "s",
            "--body",
            "b",
            "--body-file",
            "f"
        ])
        .is_err());
        assert!(parse(&[
            "backup-alert",
            "setup",
            "--password-stdin",
            "--password-file",
            "f"
        ])
        .is_err());
    }

    /// Every option of every subcommand must be in man/backup-alert.1 (roff writes `-`
    /// as `\-`).
    #[test]
    fn every_flag_is_in_the_man_page() {
        use clap::CommandFactory;
        let man = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../man/backup-alert.1"
        ))
        .expect("man/backup-alert.1")
        .replace("\\-", "-");
        let root = Cli::command();
        let mut missing = Vec::new();
        let mut commands = vec![root.clone()];
        commands.extend(root.get_subcommands().cloned());
        for cmd in &commands {
            let name = cmd.get_name().to_string();
            if !man.contains(&name) {
                missing.push(format!("subcommand {name}"));
            }
            for arg in cmd.get_arguments() {
                if let Some(long) = arg.get_long() {
                    if !["help", "version"].contains(&long) && !man.contains(&format!("--{long}")) {
                        missing.push(format!("{name} --{long}"));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "missing from man/backup-alert.1: {missing:?}"
        );
    }
}
