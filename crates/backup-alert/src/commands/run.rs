//! `run`: wrap a backup command ([`child`] runs it), exit with its status
//! whatever happens to the alert, and mail how it ended: the exit status judged by the
//! tool's own rules, the cause line, what to do, and the tails of its output and log.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::Args;

use super::child::{self, display_command, RunSpec};
use super::{
    local, publish_metrics, report_sent, tail_title, target_and_policy, DeliveryArgs, PingArgs,
};
use crate::alert::compose::{Alert, Section};
use crate::alert::ping::Ping;
use crate::alert::send_alert;
use crate::context::Context;
use crate::diagnosis::advice;
use crate::diagnosis::error_line;
use crate::diagnosis::exit_codes::{tool_of, ExitMeaning, Judgement};
use crate::error::Error;
use crate::model::{Measurement, Status};
use crate::tail::{tail_file_since, Tail, TailLimits};
use rsmtp_deliver::ui::Ui;

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Name of the job (default: the command line).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Subject text instead of "NAME succeeded" / "NAME FAILED: <how it ended>" (the mark
    /// and host name are still added in front, "Recovered: " on a recovery).
    #[arg(long)]
    pub(crate) subject: Option<String>,
    /// Mail only when the command fails (and when it recovers), like chronic.
    #[arg(long)]
    pub(crate) only_failure: bool,
    /// Stop the command after this long (TERM, then KILL); exit status 124.
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration)]
    pub(crate) timeout: Option<Duration>,
    /// Grace period between the timeout's TERM and KILL (default: 10s).
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration, default_value = "10s", hide_default_value = true)]
    pub(crate) kill_after: Duration,
    /// Lines of stdout and of stderr to include, each also capped at 64 KiB (default:
    /// `log_lines` from the settings, else 100). `--tail-lines` is the old name.
    #[arg(long, value_name = "N", alias = "tail-lines")]
    pub(crate) log_lines: Option<usize>,
    /// Exit statuses that are a warning (⚠️), e.g. 1,24 or 100-127 (default: the tool's
    /// own: borg 1 and 100-127, restic 3, rsync 24, tar 1; none for other commands).
    #[arg(long, value_name = "CODES", value_parser = crate::diagnosis::exit_codes::CodeSet::parse)]
    pub(crate) warning_exit_codes: Option<crate::diagnosis::exit_codes::CodeSet>,
    /// Exit statuses that are a success besides 0, e.g. 1.
    #[arg(long, value_name = "CODES", value_parser = crate::diagnosis::exit_codes::CodeSet::parse)]
    pub(crate) ok_exit_codes: Option<crate::diagnosis::exit_codes::CodeSet>,
    /// The mark of a successful run: success, rotation (🔄, for prune runs), restore or
    /// info (default: success).
    #[arg(long, value_name = "STATUS", value_parser = success_status)]
    pub(crate) status: Option<Status>,
    /// The job's own log file: named in the alert, its last lines (those around the
    /// error) included, its error lines searched for the cause.
    #[arg(long, value_name = "FILE")]
    pub(crate) log: Option<PathBuf>,
    /// Append the command's stdout and stderr to FILE as they come (as tee -a).
    #[arg(long, value_name = "FILE")]
    pub(crate) tee: Option<PathBuf>,
    /// Copy the command's output to backup-alert's stdout and stderr: `auto` when they are
    /// a file or a terminal (a `>> log 2>&1` line, someone watching), not into a pipe,
    /// which under cron would become a second mail; `always`; `never` (default: auto).
    #[arg(long, value_name = "WHEN", value_enum)]
    pub(crate) echo: Option<Echo>,
    #[command(flatten)]
    pub(crate) ping: PingArgs,
    #[command(flatten)]
    pub(crate) delivery: DeliveryArgs,
    /// The command and its arguments (after `--`, or from the first word that is not an
    /// option). An unknown option before it is a usage error, never the command.
    // No `allow_hyphen_values`: with it a mistyped option (`--only-failures`) became the
    // command to run. `trailing_var_arg` still gives the command every word after its
    // first, options included.
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    pub(crate) command: Vec<OsString>,
}

/// When `run` copies the command's output to its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Echo {
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

/// Lines of a command's stdout and of its stderr that `run` includes by default.
pub(crate) const DEFAULT_OUTPUT_LINES: usize = 100;

/// `run`: wrap a command; exit with its status whatever happens to the alert.
pub(crate) fn run(args: RunArgs, ctx: &Context, ui: &mut Ui<'_>) -> Result<u8, Error> {
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
    args.ping.ping(Ping::Start, "", ui);
    let report_ = child::run(&spec);
    let command_line = display_command(&args.command);
    let name = args.name.clone().unwrap_or_else(|| command_line.clone());
    let outcome = report_.describe(args.timeout, target.language);
    let exited = match report_.ending {
        child::Ending::Exited(c) => Some(c),
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
    let lang = target.language;
    let result = match (exited, judgement) {
        (Some(c), Judgement::Warning) => lang.exited_with(c, Status::Warning),
        (Some(c), Judgement::Ok) => lang.exited_with(c, Status::Success),
        _ => report_.describe_in_words(args.timeout, lang),
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
    if let child::Ending::Signalled(sig) = report_.ending {
        alert.fact("Signal", child::signal_in_words(sig, lang));
    }
    alert.fact("Started", local(started));
    alert.fact("Duration", lang.duration(report_.duration));
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
            format!("SIG{} received and forwarded", child::signal_name(sig)),
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
    let body = format!("{}{}", report_.stderr.text, report_.stdout.text);
    args.ping
        .outcome(judgement == Judgement::Failure, &body, ui);
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
        Ok(sent) => report_sent(&sent, ui),
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
fn copies(args: &RunArgs, ui: &mut Ui<'_>) -> child::Copies {
    let (stdout, stderr) = match args.echo.unwrap_or(Echo::Auto) {
        Echo::Always => (true, true),
        Echo::Never => (false, false),
        Echo::Auto => (
            child::is_file_or_terminal(std::io::stdout()),
            child::is_file_or_terminal(std::io::stderr()),
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
    child::Copies {
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
