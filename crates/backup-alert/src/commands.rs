//! The alerting subcommands — `send`, `run`, `check` — turned into an [`Alert`] and handed
//! to [`send_alert`]. Each returns the exit status to leave with.

use std::ffi::OsString;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Local};
use clap::Args;

use crate::advice;
use crate::alert::{send_alert, FloodPolicy, Sent, Target};
use crate::args::DeliveryArgs;
use crate::check::{self, Finding, Requirement};
use crate::compose::{Alert, Section};
use crate::context::Context;
use crate::error::Error;
use crate::error_line;
use crate::exit_codes::{tool_of, ExitMeaning, Judgement};
use crate::file_count::FileCount;
use crate::input;
use crate::integrity::Integrity;
use crate::model::{Measurement, Status};
use crate::repository;
use crate::run::{self, display_command, RunSpec};
use crate::tail::{tail_file, tail_file_since, Tail, TailLimits};
use crate::units::{format_duration, format_duration_words, format_size, plural};
use rsmtp::ui::Ui;

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
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration)]
    pub timeout: Option<Duration>,
    /// Grace period between the timeout's TERM and KILL (default: 10s).
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "10s", hide_default_value = true)]
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
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration)]
    pub max_age: Duration,
    /// Minimum size of the newest file, e.g. 1M (binary units).
    #[arg(long, value_name = "SIZE", value_parser = crate::units::parse_size)]
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

/// Lines of `--log` included by default.
pub const DEFAULT_LOG_LINES: usize = 50;

/// Lines of a command's stdout and of its stderr that `run` includes by default.
pub const DEFAULT_OUTPUT_LINES: usize = 100;

/// Most of a message body read from stdin or a file (10 MiB).
const MAX_BODY: u64 = 10 << 20;

fn target_and_policy(d: &DeliveryArgs, ctx: &Context) -> Result<(Target, FloodPolicy), Error> {
    let target = d.mail.target(&ctx.settings)?;
    let policy = FloodPolicy::resolve(
        d.flood_window,
        d.no_flood,
        d.state_dir.clone(),
        &ctx.settings,
    );
    Ok((target, policy))
}

/// Say what became of an alert. A held alert is only mentioned on a terminal: under cron,
/// any output becomes a mail, which would defeat flood control.
fn report(sent: &Sent, ui: &mut Ui<'_>) {
    if matches!(sent, Sent::Held { .. }) && !std::io::stderr().is_terminal() {
        return;
    }
    if let Some(text) = sent.describe() {
        ui.warn(&text);
    }
}

/// The message of `send`: `--body`, else `--body-file`, else `stdin` unless it is a
/// terminal. Past [`MAX_BODY`] the input is still read to its end (a job piping into us
/// must not die of SIGPIPE) and a note at the end says how much was left out.
fn read_body(
    args: &SendArgs,
    stdin: &mut dyn Read,
    stdin_is_terminal: bool,
) -> Result<String, Error> {
    if let Some(b) = &args.body {
        return Ok(b.clone());
    }
    let head = match &args.body_file {
        Some(p) if p.as_os_str() != "-" => {
            let f = std::fs::File::open(p).map_err(|e| Error::no_input(p, e))?;
            input::read_file(f, MAX_BODY).map_err(|e| Error::no_input(p, e))?
        }
        None if stdin_is_terminal => input::Head::default(),
        _ => input::read_stream(stdin, MAX_BODY).map_err(|e| Error::io("cannot read stdin", e))?,
    };
    Ok(String::from_utf8_lossy(&head.into_bytes_with_note()).into_owned())
}

fn tail_title(what: &str, t: &Tail, lang: crate::lang::Language) -> String {
    lang.tail_title(what, t.lines, t.truncated)
}

/// `send`: one alert, body from a flag, a file or stdin, optionally with a log's tail.
pub fn send(args: SendArgs, ctx: &Context, ui: &mut Ui<'_>) -> Result<u8, Error> {
    let (target, policy) = target_and_policy(&args.delivery, ctx)?;
    let mut alert = Alert::new(args.status, args.subject.clone(), ctx.host.clone());
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    alert.message = read_body(&args, &mut stdin.lock(), terminal)?;
    if let Some(name) = &args.name {
        alert.fact("Name", name.clone());
    }
    if let Some(log) = &args.log {
        add_log(
            &mut alert,
            log,
            args.log_lines.or(ctx.settings.log_lines),
            target.language,
        );
    }
    if alert.status.is_problem() {
        // What failed, first: the log's last line stating a cause (else naming a
        // failure), else the message's; a known kind of failure says what to do.
        let cause = alert
            .sections
            .iter()
            .rev()
            .find_map(|s| error_line::last_cause(&s.text))
            .or_else(|| error_line::last_cause(&alert.message));
        if let Some(class) = cause.as_ref().and_then(|c| c.class) {
            let line = cause.as_ref().map_or("", |c| c.line.as_str());
            alert.fact(
                "What to do",
                advice::advice(class, line, &advice::Where::default(), target.language),
            );
        }
        alert.summary = cause.map(|c| c.line);
    }
    let name = args.name.clone().unwrap_or_else(|| args.subject.clone());
    let sent = send_alert(alert, &name, &target, &policy, false, &mut *ui.err)?;
    report(&sent, ui);
    Ok(0)
}

/// Name the log and include its last lines; an unreadable log is mentioned, never fatal:
/// the alert matters more than its attachment.
fn add_log(alert: &mut Alert, log: &Path, lines: Option<usize>, lang: crate::lang::Language) {
    // A relative path means nothing to whoever reads the mail.
    let shown = std::path::absolute(log).unwrap_or_else(|_| log.to_path_buf());
    alert.fact("Log", shown.display().to_string());
    let lines = lines.unwrap_or(DEFAULT_LOG_LINES);
    if lines == 0 {
        return;
    }
    match tail_file(log, TailLimits::lines(lines)) {
        Ok(t) => alert.sections.push(Section {
            title: tail_title(&shown.display().to_string(), &t, lang),
            text: t.text,
        }),
        // strerror: msmtp's words, no "(os error 2)".
        Err(e) => alert.fact("Log unreadable", rsmtp_core::strerror(&e)),
    }
}

fn local(t: SystemTime) -> String {
    DateTime::<Local>::from(t)
        .format("%Y-%m-%d %H:%M:%S %z")
        .to_string()
}

/// `run`: wrap a command; exit with its status whatever happens to the alert.
pub fn run(args: RunArgs, ctx: &Context, ui: &mut Ui<'_>) -> Result<u8, Error> {
    // Resolve the recipients first: a usage error must not run the backup.
    let (target, policy) = target_and_policy(&args.delivery, ctx)?;
    let lines = args
        .log_lines
        .or(ctx.settings.log_lines)
        .unwrap_or(DEFAULT_OUTPUT_LINES);
    let spec = RunSpec {
        command: args.command.clone(),
        timeout: args.timeout,
        kill_after: args.kill_after,
        limits: TailLimits {
            lines,
            bytes: TailLimits::OUTPUT.bytes,
        },
        copies: copies(&args, ui),
    };
    // Where the job's own log ends now: what it writes from here on is this run's.
    let log_start = args
        .log
        .as_deref()
        .and_then(|l| std::fs::metadata(l).ok())
        .map_or(0, |m| m.len());
    let started = SystemTime::now();
    let report_ = run::run(&spec);
    let command_line = display_command(&args.command);
    let name = args.name.clone().unwrap_or_else(|| command_line.clone());
    let outcome = report_.describe(args.timeout);
    let exited = match report_.ending {
        run::Ending::Exited(c) => Some(c),
        _ => None,
    };
    let meaning = ExitMeaning::new(
        &args.command,
        args.ok_exit_codes.clone(),
        args.warning_exit_codes.clone(),
    );
    let judgement = exited.map_or(Judgement::Failure, |c| meaning.judge(c));
    let (status, default_subject) = match judgement {
        Judgement::Ok => (
            args.status.unwrap_or(Status::Success),
            target.language.succeeded(&name),
        ),
        Judgement::Warning => (
            Status::Warning,
            target.language.warned(&name, exited.unwrap_or_default()),
        ),
        Judgement::Failure => (
            Status::Failure,
            target.language.failed(&name, &outcome, exited),
        ),
    };
    let mut alert = Alert::new(
        status,
        args.subject.clone().unwrap_or(default_subject),
        ctx.host.clone(),
    );
    alert.fact("Name", name.clone());
    alert.fact("Command", command_line);
    let result = match (exited, judgement) {
        (Some(c), Judgement::Warning) => format!("exited with status {c} (warning)"),
        (Some(c), Judgement::Ok) => format!("exited with status {c} (success)"),
        _ => report_.describe_in_words(args.timeout),
    };
    alert.fact("Result", result);
    alert.fact("Exit status", report_.exit_code().to_string());
    let tool_meaning = match (meaning.tool, exited, judgement) {
        (Some(tool), Some(c), Judgement::Warning) => Some(tool.warning_meaning(c)),
        _ => None,
    };
    if let Some(m) = &tool_meaning {
        alert.fact("Meaning", m.clone());
    }
    if let run::Ending::Signalled(sig) = report_.ending {
        alert.fact("Signal", run::signal_in_words(sig));
    }
    alert.fact("Started", local(started));
    alert.fact("Duration", format_duration_words(report_.duration));
    let log = args
        .log
        .as_deref()
        .and_then(|l| run_log(&mut alert, l, log_start, lines));
    if judgement != Judgement::Ok {
        // The output states the cause; else this run's part of the job's own log.
        let cause = error_line::first_cause(&[&report_.stderr.text, &report_.stdout.text])
            .or_else(|| {
                log.as_ref()
                    .and_then(|t| error_line::first_cause(&[&t.text]))
            })
            .or_else(|| error_line::of_run(&report_.stderr.text, &report_.stdout.text));
        if let Some(c) = &cause {
            if let Some(class) = c.class {
                let place = advice::Where::of_command(
                    &args.command,
                    meaning.tool.or(tool_of(&args.command)),
                );
                alert.fact(
                    "What to do",
                    advice::advice(class, &c.line, &place, target.language),
                );
            }
        }
        alert.summary = cause
            .map(|c| c.line)
            .or(tool_meaning)
            .or_else(|| Some(format!("{name}: {outcome}")));
    }
    if let Some(sig) = report_.forwarded {
        alert.fact(
            "Interrupted",
            format!("SIG{} received and forwarded", run::signal_name(sig)),
        );
    }
    for (what, t) in [("stderr", &report_.stderr), ("stdout", &report_.stdout)] {
        if !t.is_empty() {
            alert.sections.push(Section {
                title: tail_title(what, t, target.language),
                text: t.text.clone(),
            });
        }
    }
    if let (Some(path), Some(t)) = (&args.log, log) {
        if !t.is_empty() {
            let shown = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            alert.sections.push(Section {
                title: tail_title(&shown.display().to_string(), &t, target.language),
                text: t.text,
            });
        }
    }
    let code = report_.exit_code();
    alert.measured = Measurement {
        duration_ms: Some(u64::try_from(report_.duration.as_millis()).unwrap_or(u64::MAX)),
        exit_status: Some(i32::from(code)),
        size: None,
    };
    match send_alert(
        alert,
        &name,
        &target,
        &policy,
        args.only_failure,
        &mut *ui.err,
    ) {
        Ok(sent) => report(&sent, ui),
        Err(e) => {
            // The wrapper must stay transparent: report, but keep the command's status.
            ui.warn(&format!("alert not sent: {e}"));
        }
    }
    publish_metrics(&args.delivery, &policy, ctx, ui);
    Ok(code)
}

/// Where `run` copies the command's output: `--echo` (auto: where our own stdout and
/// stderr are a file or a terminal) and `--tee`. A `--tee` file that cannot be opened is
/// said, and the backup runs all the same.
fn copies(args: &RunArgs, ui: &mut Ui<'_>) -> run::Copies {
    let (stdout, stderr) = match args.echo.unwrap_or(Echo::Auto) {
        Echo::Always => (true, true),
        Echo::Never => (false, false),
        Echo::Auto => (
            run::is_file_or_terminal(std::io::stdout()),
            run::is_file_or_terminal(std::io::stderr()),
        ),
    };
    let tee = args.tee.as_deref().and_then(|path| {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| {
                ui.warn(&format!(
                    "--tee: cannot open {}: {}",
                    path.display(),
                    rsmtp_core::strerror(&e)
                ))
            })
            .ok()
    });
    run::Copies {
        stdout,
        stderr,
        tee: tee.map(|f| std::sync::Arc::new(std::sync::Mutex::new(f))),
    }
}

/// `run --log`: name the job's own log and keep this run's part of it (its last lines);
/// `None` when it cannot be read, which the alert says.
fn run_log(alert: &mut Alert, log: &Path, since: u64, lines: usize) -> Option<Tail> {
    let shown = std::path::absolute(log).unwrap_or_else(|_| log.to_path_buf());
    alert.fact("Log", shown.display().to_string());
    match tail_file_since(log, since, TailLimits::lines(lines)) {
        Ok(t) => Some(t),
        Err(e) => {
            alert.fact("Log unreadable", rsmtp_core::strerror(&e));
            None
        }
    }
}

/// `check`: 0 when the newest file is fresh, 1 when stale, small or missing; a delivery
/// failure leaves with its own code.
pub fn check(args: CheckArgs, ctx: &Context, ui: &mut Ui<'_>) -> Result<u8, Error> {
    let (target, policy) = target_and_policy(&args.delivery, ctx)?;
    if let Some(job) = &args.job {
        return check_job(&args, job, &target, &policy, ctx, ui);
    }
    let req = Requirement {
        max_age: args.max_age,
        min_size: args.min_size,
        min_files: args.min_files,
    };
    let integrity_asked = args.verify || args.manifest.is_some();
    let repository = match (&args.borg, &args.restic) {
        (Some(r), _) => Some((repository::Tool::Borg, r.clone())),
        (_, Some(r)) => Some((repository::Tool::Restic, r.clone())),
        _ => None,
    };
    let location = match (&repository, &args.path) {
        (Some((_, r)), _) => r.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => {
            return Err(Error::Usage(
                "check needs --path, --borg or --restic".into(),
            ))
        }
    };
    if args.deep && repository.is_none() {
        return Err(Error::Usage(
            "--deep checks a repository: use it with --borg or --restic".into(),
        ));
    }
    let (found, searched) = match &repository {
        Some((tool, repo)) => match repository::newest(*tool, repo) {
            Ok(found) => {
                let n = usize::from(found.is_some());
                (found, n)
            }
            Err(e) => {
                return repository_failure(&args, &location, e, false, &target, &policy, ctx, ui)
            }
        },
        // A checksum file is written just after the archive it describes: it is never
        // the newest backup (unless the pattern asks for checksum files themselves).
        None if crate::manifest::is_sidecar(Path::new(&location)) => check::newest(&location),
        None => check::newest_where(&location, &|p| !crate::manifest::is_sidecar(p)),
    };
    // --deep: the tool's own check, once the listing worked.
    let deep = match &repository {
        Some((tool, repo)) if args.deep => {
            match repository::deep_check(*tool, repo, args.read_data_subset.as_deref()) {
                Ok(passed) => Some(passed),
                Err(e) => {
                    return repository_failure(&args, &location, e, true, &target, &policy, ctx, ui)
                }
            }
        }
        _ => None,
    };
    let integrity = found
        .as_ref()
        .filter(|_| integrity_asked)
        .map(|f| Integrity::check(&f.path, args.verify, args.manifest.as_deref()));
    // --expect-files: the newest backup's file count against the previous one's.
    let file_count = found
        .as_ref()
        .zip(args.expect_files)
        .map(|(f, tolerance)| FileCount::check(&location, f, tolerance));
    let finding = check::judge(found, searched, &req, SystemTime::now());
    // Damage or an integrity check that could not be made comes first among the
    // problems; too few files after the others.
    let finding = finding.with_problems(
        integrity
            .as_ref()
            .map(Integrity::problems)
            .unwrap_or_default(),
        true,
    );
    let fewer_files = file_count.as_ref().and_then(FileCount::problem);
    let finding = finding.with_problems(fewer_files.iter().cloned().collect(), false);
    let corrupt = integrity.as_ref().is_some_and(Integrity::is_corrupt);
    let name = args.name.clone().unwrap_or_else(|| location.clone());
    // A relative path means nothing to whoever reads the mail (a repository is shown as
    // given: it may be a URL).
    let shown_path = match &repository {
        Some(_) => location.clone(),
        None => std::path::absolute(&location)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| location.clone()),
    };
    let mut alert = Alert::new(Status::Success, String::new(), ctx.host.clone());
    if let Some(passed) = &deep {
        alert.fact("Repository check", format!("passed ({passed})"));
    }
    if repository.is_some() {
        // The newest archive is a backup the tool vouches for: on the first check, before
        // any success is recorded, it is the last good backup.
        if let Finding::Fresh { file, .. } | Finding::Stale { file, .. } = &finding {
            alert.good_backup_at = Some(DateTime::<Local>::from(file.modified));
        }
    }
    alert.fact("Backup", name.clone());
    match &repository {
        Some((tool, _)) => alert.fact("Repository", format!("{shown_path} ({})", tool.program())),
        None => alert.fact("Path", shown_path.clone()),
    }
    let limits = Limits {
        max_age: args.max_age,
        min_size: args.min_size,
        repository: repository.is_some(),
    };
    let summary = match &finding {
        Finding::Fresh { file, age } => {
            alert.subject = target.language.check_subject("Backup fresh", &name);
            alert.message = target
                .language
                .newest_backup_age(&format_duration_words(*age));
            describe_file(&mut alert, file, *age, &limits);
            if repository.is_none() {
                alert.fact("Files", files_fact(searched, args.min_files));
            }
            for (label, value) in integrity.iter().flat_map(Integrity::facts) {
                alert.fact(label, value);
            }
            for (label, value) in file_count.iter().flat_map(FileCount::facts) {
                alert.fact(label, value);
            }
            format!(
                "fresh: {} ({} old)",
                file.path.display(),
                format_duration(*age)
            )
        }
        Finding::Stale {
            file,
            age,
            problems,
        } => {
            alert.status = if corrupt {
                Status::Failure
            } else {
                Status::Warning
            };
            let too_small = args.min_size.is_some_and(|min| file.size < min);
            alert.subject = if corrupt {
                target.language.check_subject("Backup corrupt", &name)
            } else if age > &args.max_age {
                target.language.check_subject("Backup too old", &name)
            } else if too_small {
                target.language.check_subject("Backup too small", &name)
            } else if args.min_files.is_some_and(|min| searched < min) {
                target.language.check_subject("Too few backup files", &name)
            } else if crate::check::dated_in_future(file, SystemTime::now()).is_some() {
                target
                    .language
                    .check_subject("Backup dated in the future", &name)
            } else if let Some(FileCount::Uncountable(_)) = &file_count {
                target
                    .language
                    .check_subject("Backup files not counted", &name)
            } else if fewer_files.is_some() {
                target
                    .language
                    .check_subject("Backup holds fewer files", &name)
            } else {
                target.language.check_subject("Backup not verified", &name)
            };
            // The problems are the summary line that opens the alert; a message saying
            // them again was the same line twice.
            let class = if corrupt {
                Some(error_line::FailureClass::Corrupt)
            } else if age > &args.max_age {
                Some(error_line::FailureClass::Stale)
            } else {
                None
            };
            let shown = std::path::absolute(&file.path).unwrap_or_else(|_| file.path.clone());
            // Too few files is about two backups, which its line names: not about the
            // newest file (for snapshot directories, any file in the newest one).
            alert.summary = Some(match &fewer_files {
                Some(p) if problems.len() == 1 => p.clone(),
                _ => format!("{}: {}", shown.display(), problems.join("; ")),
            });
            describe_file(&mut alert, file, *age, &limits);
            if repository.is_none() {
                alert.fact("Files", files_fact(searched, args.min_files));
            }
            for (label, value) in integrity.iter().flat_map(Integrity::facts) {
                alert.fact(label, value);
            }
            for (label, value) in file_count.iter().flat_map(FileCount::facts) {
                alert.fact(label, value);
            }
            if let Some(class) = class {
                let place = advice::Where::of_repository(
                    repository.as_ref().map(|(t, _)| (*t).into()),
                    repository.as_ref().map(|(_, r)| r.clone()),
                );
                alert.fact(
                    "What to do",
                    advice::advice(class, "", &place, target.language),
                );
            }
            format!("stale: {}: {}", file.path.display(), problems.join("; "))
        }
        Finding::Missing { searched } => {
            alert.status = Status::Warning;
            alert.subject = target.language.check_subject("No backup found", &name);
            if repository.is_some() {
                alert.message = format!("The repository {shown_path} has no archives.");
                alert.summary = Some(format!("{shown_path}: no archives"));
            } else {
                alert.message = format!(
                    "No backup file matches {shown_path} ({} looked at).",
                    plural(*searched as u64, "file")
                );
                alert.summary = Some(format!("no backup file matches {shown_path}"));
            }
            alert.fact("Maximum age", format_duration_words(args.max_age));
            if let Some(min) = args.min_size {
                alert.fact("Minimum size", format_size(min));
            }
            alert.fact(
                "What to do",
                advice::advice(
                    error_line::FailureClass::Stale,
                    "",
                    &advice::Where::default(),
                    target.language,
                ),
            );
            format!("missing: nothing matches {location}")
        }
    };
    alert.measured = Measurement {
        duration_ms: None,
        exit_status: Some(if finding.is_fresh() { 0 } else { 1 }),
        size: match &finding {
            Finding::Fresh { file, .. } | Finding::Stale { file, .. } => Some(file.size),
            Finding::Missing { .. } => None,
        },
    };
    let sent = send_alert(alert, &name, &target, &policy, args.quiet_ok, &mut *ui.err);
    // The metrics say what happened even when the alert could not be delivered.
    publish_metrics(&args.delivery, &policy, ctx, ui);
    let sent = sent?;
    report(&sent, ui);
    if std::io::stdout().is_terminal() {
        ui.print(&format!("{summary}\n"));
    }
    Ok(if finding.is_fresh() { 0 } else { 1 })
}

/// `check --job`: has the job `run` or `send` records succeeded within `--max-age`? The
/// state file says; the answer is mailed as a check of its own, recorded under
/// "NAME (check)" so that it never counts as a run of the job. Exit 0 when it has, 1 when
/// not (or never recorded).
fn check_job(
    args: &CheckArgs,
    job: &str,
    target: &Target,
    policy: &FloodPolicy,
    ctx: &Context,
    ui: &mut Ui<'_>,
) -> Result<u8, Error> {
    let Some(dir) = &policy.state_dir else {
        return Err(Error::Usage(
            "check --job reads the state file: set --state-dir or `state_dir`".into(),
        ));
    };
    let state = crate::flood::StateFile::read_existing(dir)
        .map_err(|e| Error::io(format!("cannot read the state in {}", dir.display()), e))?;
    let now = chrono::Utc::now().timestamp();
    let recorded = state
        .jobs()
        .into_iter()
        .find(|j| j.host == crate::flood::clean(&ctx.host) && j.name == crate::flood::clean(job));
    // A run marked rotation, restore or info that ended well counts as a success too.
    let last_ok = recorded.as_ref().and_then(|j| {
        let last_run_ok = (!j.last_status.is_problem()).then_some(j.last_run);
        j.last_success.max(last_run_ok)
    });
    let age = last_ok.map(|t| Duration::from_secs(u64::try_from(now - t).unwrap_or(0)));
    let fresh = age.is_some_and(|a| a <= args.max_age);
    let name = args.name.clone().unwrap_or_else(|| job.to_string());
    let when = |t: i64| {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0));
        let ago = Duration::from_secs(u64::try_from(now - t).unwrap_or(0));
        format!("{} ({} ago)", local(at), format_duration_words(ago))
    };
    let mut alert = Alert::new(Status::Success, String::new(), ctx.host.clone());
    alert.fact("Backup", name.clone());
    alert.fact("Job", job.to_string());
    match (&recorded, age) {
        (_, Some(age)) if fresh => {
            alert.subject = target.language.check_subject("Backup fresh", &name);
            alert.message = format!("The job last succeeded {} ago.", format_duration_words(age));
        }
        (None, _) => {
            alert.status = Status::Warning;
            alert.subject = target.language.check_subject("No backup found", &name);
            alert.message = format!(
                "No run of {job} is recorded on {}: it never ran under this name, or ran \
                 with another state directory.",
                ctx.host
            );
            alert.summary = Some(format!("{job}: no run recorded"));
        }
        (Some(_), age) => {
            alert.status = Status::Warning;
            alert.subject = target.language.check_subject("Backup too old", &name);
            let said = match age {
                Some(a) => format!(
                    "{job} last succeeded {} ago (limit {})",
                    format_duration_words(a),
                    format_duration_words(args.max_age)
                ),
                None => format!("{job} has no success recorded"),
            };
            alert.message = format!("Problem: {said}.");
            alert.summary = Some(said);
        }
    }
    alert.fact(
        "Last success",
        last_ok.map_or_else(|| "none recorded".to_string(), when),
    );
    if let Some(j) = &recorded {
        alert.fact(
            "Last run",
            format!("{}: {}", when(j.last_run), j.last_status.as_str()),
        );
    }
    alert.fact("Maximum age", format_duration_words(args.max_age));
    if !fresh {
        alert.fact(
            "What to do",
            advice::advice(
                error_line::FailureClass::Stale,
                "",
                &advice::Where::default(),
                target.language,
            ),
        );
    }
    alert.measured = Measurement {
        exit_status: Some(i32::from(!fresh)),
        ..Measurement::default()
    };
    let record_as = format!("{name} (check)");
    let sent = send_alert(
        alert,
        &record_as,
        target,
        policy,
        args.quiet_ok,
        &mut *ui.err,
    );
    publish_metrics(&args.delivery, policy, ctx, ui);
    report(&sent?, ui);
    Ok(u8::from(!fresh))
}

/// The tool could not say what the repository holds (locked, wrong passphrase, not
/// installed): a failure alert with the tool's own last line first; exit 1.
#[allow(
    clippy::too_many_arguments,
    reason = "one alert's inputs; a struct for them would only be built here"
)]
fn repository_failure(
    args: &CheckArgs,
    repo: &str,
    error: repository::RepoError,
    deep_check: bool,
    target: &Target,
    policy: &FloodPolicy,
    ctx: &Context,
    ui: &mut Ui<'_>,
) -> Result<u8, Error> {
    let name = args.name.clone().unwrap_or_else(|| repo.to_string());
    let class = match &error {
        repository::RepoError::Failed { line, .. } => error_line::classify(line),
        _ => None,
    };
    // A check that ran and found damage says so; a lock or a passphrase is not damage.
    let subject = match (deep_check, class) {
        (true, Some(error_line::FailureClass::Corrupt) | None) => "Backup repository damaged",
        _ => "Backup repository unreadable",
    };
    let mut alert = Alert::new(
        Status::Failure,
        target.language.check_subject(subject, &name),
        ctx.host.clone(),
    );
    alert.message = if deep_check {
        format!("The consistency check of {repo} failed: {error}.")
    } else {
        format!("Cannot list the archives of {repo}: {error}.")
    };
    alert.summary = Some(format!("{repo}: {error}"));
    alert.fact("Backup", name.clone());
    alert.fact("Repository", repo.to_string());
    alert.fact("Maximum age", format_duration_words(args.max_age));
    if let repository::RepoError::Failed { line, .. } = &error {
        // A deep check that failed without a known line still means damage.
        if let Some(class) = class.or(deep_check.then_some(error_line::FailureClass::Corrupt)) {
            let tool = if args.borg.is_some() {
                repository::Tool::Borg
            } else {
                repository::Tool::Restic
            };
            let place = advice::Where::of_repository(Some(tool.into()), Some(repo.to_string()));
            alert.fact(
                "What to do",
                advice::advice(class, line, &place, target.language),
            );
        }
    }
    alert.measured = Measurement {
        exit_status: Some(1),
        ..Measurement::default()
    };
    let sent = send_alert(alert, &name, target, policy, false, &mut *ui.err);
    publish_metrics(&args.delivery, policy, ctx, ui);
    report(&sent?, ui);
    Ok(1)
}

/// Rewrite the `metrics_file` of the settings, if there is one. A failure is said on
/// stderr and changes nothing else: the metrics must not cost the alert or the exit status.
fn publish_metrics(delivery: &DeliveryArgs, policy: &FloodPolicy, ctx: &Context, ui: &mut Ui<'_>) {
    let Some(target) = &ctx.settings.metrics_file else {
        return;
    };
    let log = crate::mail_log::log_path(None, delivery.mail.config.as_deref(), ctx);
    if let Err(e) = crate::metrics::publish(target, policy.state_dir.as_deref(), &log) {
        ui.warn(&format!("metrics not written: {e}"));
    }
}

/// `12 (minimum 7: ok)`.
fn files_fact(count: usize, min: Option<usize>) -> String {
    match min {
        Some(m) if count < m => format!("{count} (minimum {m}: too few)"),
        Some(m) => format!("{count} (minimum {m}: ok)"),
        None => count.to_string(),
    }
}

/// The limits a checked file is judged against, shown next to its values.
struct Limits {
    max_age: Duration,
    min_size: Option<u64>,
    /// The "file" is a borg archive or restic snapshot.
    repository: bool,
}

fn describe_file(alert: &mut Alert, file: &check::Found, age: Duration, limits: &Limits) {
    if limits.repository {
        alert.fact("Newest archive", file.path.display().to_string());
        alert.fact("Created", local(file.modified));
        alert.fact(
            "Age",
            format!(
                "{} (limit {}: {})",
                format_duration_words(age),
                format_duration_words(limits.max_age),
                if age > limits.max_age {
                    "too old"
                } else {
                    "ok"
                }
            ),
        );
        if file.size > 0 {
            alert.fact("Size", format_size(file.size));
        }
        return;
    }
    let path = std::path::absolute(&file.path).unwrap_or_else(|_| file.path.clone());
    alert.fact("Newest file", path.display().to_string());
    alert.fact("Modified", local(file.modified));
    let verdict = if age > limits.max_age {
        "too old"
    } else {
        "ok"
    };
    alert.fact(
        "Age",
        format!(
            "{} (limit {}: {verdict})",
            format_duration_words(age),
            format_duration_words(limits.max_age)
        ),
    );
    let size = format!("{} ({} bytes)", format_size(file.size), file.size);
    alert.fact(
        "Size",
        match limits.min_size {
            Some(min) if file.size < min => {
                format!("{size} (minimum {}: too small)", format_size(min))
            }
            Some(min) => format!("{size} (minimum {}: ok)", format_size(min)),
            None => format!("{size} (no minimum set)"),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::io::Write;

    fn send_args(extra: &[&str]) -> SendArgs {
        let mut argv = vec![
            "backup-alert",
            "send",
            "--status",
            "failure",
            "--subject",
            "s",
        ];
        argv.extend_from_slice(extra);
        #[derive(clap::Parser)]
        struct Line {
            #[command(subcommand)]
            send: Subcommand,
        }
        #[derive(clap::Subcommand)]
        enum Subcommand {
            Send(SendArgs),
        }
        let Subcommand::Send(a) = Line::parse_from(argv).send;
        a
    }

    #[test]
    fn oversized_stdin_is_read_to_its_end_and_the_cut_is_said() {
        let size = MAX_BODY as usize + 5000;
        let data = vec![b'x'; size];
        let mut reader: &[u8] = &data;
        let body = read_body(&send_args(&[]), &mut reader, false).unwrap();
        // Everything consumed: the job writing into the pipe never gets SIGPIPE.
        assert!(reader.is_empty(), "{} bytes left unread", reader.len());
        assert!(
            body.ends_with(
                "x\n[backup-alert: the input was cut after 10.0 MiB; 5000 more byte(s) left out]\n"
            ),
            "no note about the cut"
        );
    }

    #[test]
    fn oversized_body_file_is_cut_with_a_note() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.as_file().set_len(MAX_BODY + 10).unwrap();
        f.flush().unwrap();
        let path = f.path().to_str().unwrap().to_string();
        let body = read_body(&send_args(&["--body-file", &path]), &mut &b""[..], false).unwrap();
        assert!(
            body.ends_with("; 10 more byte(s) left out]\n"),
            "no note about the cut"
        );
    }

    #[test]
    fn terminal_stdin_is_not_read() {
        let mut reader: &[u8] = b"typed";
        assert_eq!(read_body(&send_args(&[]), &mut reader, true).unwrap(), "");
        assert_eq!(reader, b"typed");
    }
}
