//! `stats`: count what an msmtp-format log says was sent, queued and failed (by reason,
//! with the last failure and its time), or write the jobs' and the log's figures for
//! node_exporter's textfile collector (`--prometheus`).

use std::fs::File;
use std::path::PathBuf;

use chrono::Local;
use clap::Args;

use crate::context::Context;
use crate::error::Error;
use crate::mail_log::{log_path, parse_since, read_lines, summarise};
use rsmtp_deliver::ui::Ui;

#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    /// msmtp-format log (default: `logfile` of the settings, else of the msmtprc default
    /// account, else /var/log/msmtp.log).
    #[arg(long, value_name = "FILE")]
    pub(crate) log: Option<PathBuf>,
    /// Only lines newer than this: a duration (24h) or a date (2026-11-20, "2026-11-20 08:00").
    #[arg(long, value_name = "DURATION|DATE")]
    pub(crate) since: Option<String>,
    /// msmtprc to look for `logfile` in.
    #[arg(long, value_name = "MSMTPRC")]
    pub(crate) config: Option<PathBuf>,
    /// Write node_exporter's textfile format to FILE (atomically; `-` for stdout) instead
    /// of the summary: each job's last run, last success, duration, exit status and backup
    /// size from the state file, and the log's sent, queued and failed counts.
    #[arg(long, value_name = "FILE")]
    pub(crate) prometheus: Option<PathBuf>,
    /// Directory of the state file the jobs are read from (default: as for send, run and
    /// check).
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
}

pub(crate) fn main(args: StatsArgs, ctx: &Context, ui: &mut Ui<'_>) -> Result<u8, Error> {
    let now = Local::now();
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, now))
        .transpose()?;
    let path = log_path(args.log.as_deref(), args.config.as_deref(), ctx);
    let file = File::open(&path).map_err(|e| Error::no_input(&path, e))?;
    let summary = summarise(read_lines(file), since, now);
    // The reader's language: --language, the settings', else the locale's.
    let lang = ctx
        .settings
        .language
        .unwrap_or_else(crate::lang::Language::from_env);
    if let Some(target) = &args.prometheus {
        if summary.unrecognised() {
            // The metrics leave the mail counts out; say why.
            ui.warn(&summary.unrecognised_note(&path.display().to_string(), lang));
        }
        let state_dir = args
            .state_dir
            .clone()
            .or_else(|| ctx.settings.state_dir.clone())
            .or_else(crate::alert::flood::default_state_dir);
        let text = crate::metrics::render(
            &crate::metrics::jobs(state_dir.as_deref())?,
            Some((&path, &summary)),
        );
        return if target.as_os_str() == "-" {
            ui.out
                .write_all(text.as_bytes())
                .map_err(|e| Error::io("cannot write to stdout", e))
                .map(|_| 0)
        } else {
            crate::atomic_write::write_atomically(target, &text)
                .map_err(|e| Error::cant_create(target, e))
                .map(|_| 0)
        };
    }
    let source = match since {
        Some(t) => format!(
            "{} {}",
            path.display(),
            lang.since_time(&t.format("%Y-%m-%d %H:%M:%S").to_string())
        ),
        None => path.display().to_string(),
    };
    if summary.unrecognised() {
        ui.warn(&summary.unrecognised_note(&path.display().to_string(), lang));
        return Ok(rsmtp_deliver::ExitCode::DataErr as u8);
    }
    ui.out
        .write_all(summary.render_in(&source, lang).as_bytes())
        .map_err(|e| Error::io("cannot write to stdout", e))?;
    Ok(0)
}
