//! `forget JOB` and `history JOB`: one job's record in the state directory.
//!
//! A retired job (a server decommissioned, a backup renamed) otherwise stays in the state
//! file for 90 days, in the metrics (where a "no success for 26 h" rule fires on it) and in
//! every digest as "did not report". `forget` removes it from the state file and the run
//! journal under the state's lock, then rewrites `metrics_file` when there is one.
//! `history` prints the job's results from the journal, oldest first.

use std::path::PathBuf;

use chrono::{DateTime, Local};

use crate::alert::flood::StateFile;
use crate::alert::journal::{self, Entry};
use crate::context::Context;
use crate::error::Error;
use crate::units::{format_duration, format_size};
use rsmtp_deliver::ui::Ui;

/// Where the job is recorded (shared by forget and history).
#[derive(Debug, clap::Args)]
pub(crate) struct JobArgs {
    /// The job's name, as given to --name (or the subject or command line it defaulted to).
    pub(crate) job: String,
    /// The host the job ran on (default: this one, or `hostname` from the settings).
    #[arg(long, value_name = "NAME")]
    pub(crate) host: Option<String>,
    /// Directory of the state file and run journal (default: as for send, run and check).
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct HistoryArgs {
    #[command(flatten)]
    pub(crate) job: JobArgs,
    /// Show only the last N results (default: all the journal keeps).
    #[arg(long, value_name = "N")]
    pub(crate) last: Option<usize>,
}

impl JobArgs {
    fn state_dir(&self, ctx: &Context) -> Result<PathBuf, Error> {
        self.state_dir
            .clone()
            .or_else(|| ctx.settings.state_dir.clone())
            .or_else(crate::alert::flood::default_state_dir)
            .ok_or_else(|| Error::Usage("no state directory: pass --state-dir".into()))
    }

    fn host(&self, ctx: &Context) -> String {
        self.host.clone().unwrap_or_else(|| ctx.host.clone())
    }
}

/// The names of the jobs recorded for `host`, for a "not found" message.
fn known_jobs(state: &crate::alert::flood::FloodState, host: &str) -> String {
    let names: Vec<String> = state
        .jobs()
        .into_iter()
        .filter(|j| j.host == crate::alert::flood::clean(host))
        .map(|j| j.name)
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// `forget JOB`: exit 0 when something was removed, 1 when the job was not recorded.
pub(crate) fn forget(args: JobArgs, ctx: &Context, ui: &mut Ui<'_>) -> Result<u8, Error> {
    let dir = args.state_dir(ctx)?;
    let host = args.host(ctx);
    let cannot = |e| Error::io(format!("cannot use the state in {}", dir.display()), e);
    let mut file = StateFile::open_locked(&dir).map_err(cannot)?;
    let mut state = file.read().map_err(cannot)?;
    let known = known_jobs(&state, &host);
    let in_state = state.forget(&host, &args.job);
    if in_state {
        file.write(&state).map_err(cannot)?;
    }
    // Still under the state's lock, as every writer of the journal is.
    let runs = journal::forget(&dir, &host, &args.job).map_err(cannot)?;
    drop(file);
    if !in_state && runs == 0 {
        ui.warn(&format!(
            "no job `{}` is recorded for {host} in {} (recorded: {known})",
            args.job,
            dir.display()
        ));
        return Ok(1);
    }
    ui.warn(&format!(
        "forgot `{}` on {host}: its state and {} in the journal removed",
        args.job,
        crate::units::plural(runs as u64, "run")
    ));
    if let Some(target) = &ctx.settings.metrics_file {
        let log = crate::mail_log::log_path(None, None, ctx);
        if let Err(e) = crate::metrics::publish(target, Some(&dir), &log) {
            ui.warn(&format!("metrics not written: {e}"));
        }
    }
    Ok(0)
}

/// `history JOB`: the job's results, oldest first; exit 1 when none is recorded.
pub(crate) fn history(args: HistoryArgs, ctx: &Context, ui: &mut Ui<'_>) -> Result<u8, Error> {
    let dir = args.job.state_dir(ctx)?;
    let host = args.job.host(ctx);
    let entries = journal::read(&dir)
        .map_err(|e| Error::io(format!("cannot read the journal in {}", dir.display()), e))?;
    let (h, n) = (
        crate::alert::flood::clean(&host),
        crate::alert::flood::clean(&args.job.job),
    );
    let mut runs: Vec<Entry> = entries
        .into_iter()
        .filter(|e| e.host == h && e.job == n)
        .collect();
    if runs.is_empty() {
        ui.warn(&format!(
            "no results of `{}` for {host} in {}",
            args.job.job,
            dir.join(journal::FILE_NAME).display()
        ));
        return Ok(1);
    }
    if let Some(last) = args.last {
        runs.drain(..runs.len().saturating_sub(last));
    }
    let mut out = format!("{} on {host}:\n", args.job.job);
    for e in &runs {
        out.push_str(&line(e));
        out.push('\n');
    }
    ui.print(&out);
    Ok(0)
}

/// `2026-12-07 02:00  ❌ failure  exit 2  3m 12s  1.2 MiB`.
fn line(e: &Entry) -> String {
    let at = DateTime::from_timestamp(e.at, 0)
        .map(|t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| e.at.to_string());
    let mut fields = vec![at, format!("{} {:<8}", e.status.mark(), e.status.as_str())];
    let m = e.measurement;
    if let Some(code) = m.exit_status {
        fields.push(format!("exit {code}"));
    }
    if let Some(ms) = m.duration_ms {
        fields.push(format_duration(std::time::Duration::from_millis(ms)));
    }
    if let Some(bytes) = m.size {
        fields.push(format_size(bytes));
    }
    fields.join("  ").trim_end().to_string()
}
