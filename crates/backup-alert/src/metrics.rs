//! Metrics for the dashboards people already run: node_exporter's textfile collector
//! format (`--collector.textfile.directory`), written by `stats --prometheus FILE` and,
//! when the `metrics_file` setting is given, after every `run` and `check`.
//!
//! Per job (labels `host`, `backup_job`), from the state file: the last run's time and whether
//! it was good, the last success's time, and what the last run measured (duration and
//! exit status of `run`, the newest file's size of `check`). From the msmtp-format log
//! (label `log`): messages sent, queued after a temporary failure, and failed. An alert
//! rule "no successful backup for 26 h" is then
//! `time() - backup_alert_job_last_success_timestamp_seconds > 26 * 3600`.
//!
//! The file is written whole to a temporary file in the same directory and renamed over
//! the old one, so the collector never reads half a file.

use std::fmt::Write as _;
use std::path::Path;

use crate::alert::flood::{Job, StateFile};
use crate::atomic_write::write_atomically;
use crate::error::Error;
use crate::mail_log::{read_lines, summarise, Summary};

/// A label value in the exposition format: backslash, double quote and line feed escaped.
pub(crate) fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// One metric family: HELP, TYPE (always a gauge: the values are last-seen states, and
/// the log counts restart when the log is rotated) and its samples.
struct Family<'a> {
    name: &'a str,
    help: &'a str,
    samples: Vec<(String, String)>,
}

impl<'a> Family<'a> {
    fn new(name: &'a str, help: &'a str) -> Self {
        Family {
            name,
            help,
            samples: Vec::new(),
        }
    }

    fn add(&mut self, labels: &[(&str, &str)], value: impl ToString) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
            .collect();
        self.samples.push((labels.join(","), value.to_string()));
    }

    fn render(&self, out: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} gauge", self.name);
        for (labels, value) in &self.samples {
            let _ = writeln!(out, "{}{{{labels}}} {value}", self.name);
        }
    }
}

/// The whole file.
pub(crate) fn render(jobs: &[Job], log: Option<(&Path, &Summary)>) -> String {
    let mut last_run = Family::new(
        "backup_alert_job_last_run_timestamp_seconds",
        "When the job last reported (run, check or send), as a Unix time.",
    );
    let mut last_ok = Family::new(
        "backup_alert_job_last_run_ok",
        "1 when the job's last result was good (success, rotation, restore, info), 0 when it was a failure or warning.",
    );
    let mut last_success = Family::new(
        "backup_alert_job_last_success_timestamp_seconds",
        "When the job last succeeded, as a Unix time.",
    );
    let mut duration = Family::new(
        "backup_alert_job_last_duration_seconds",
        "How long the job's last run took (backup-alert run).",
    );
    let mut exit = Family::new(
        "backup_alert_job_last_exit_status",
        "The exit status of the job's last run (run: the command's; check: 0 fresh, 1 not).",
    );
    let mut size = Family::new(
        "backup_alert_job_backup_size_bytes",
        "Size of the newest backup file at the job's last check.",
    );
    for job in jobs {
        // Not `job`: Prometheus sets `job` to the scrape job's name and renames ours to
        // `exported_job` (honor_labels is off by default).
        let labels = [
            ("host", job.host.as_str()),
            ("backup_job", job.name.as_str()),
        ];
        last_run.add(&labels, job.last_run);
        last_ok.add(&labels, u8::from(!job.last_status.is_problem()));
        if let Some(t) = job.last_success {
            last_success.add(&labels, t);
        }
        let m = job.measurement;
        if let Some(ms) = m.duration_ms {
            duration.add(&labels, format!("{}.{:03}", ms / 1000, ms % 1000));
        }
        if let Some(code) = m.exit_status {
            exit.add(&labels, code);
        }
        if let Some(bytes) = m.size {
            size.add(&labels, bytes);
        }
    }
    let mut mail = Family::new(
        "backup_alert_mail_messages",
        "Messages in the msmtp-format log by result: sent, queued (a temporary failure kept in the queue) or failed (neither sent nor queued).",
    );
    // A log none of whose lines could be read has no counts to give (not zeros).
    if let Some((path, summary)) = log.filter(|(_, s)| !s.unrecognised()) {
        let path = path.display().to_string();
        let failed = summary.failed.saturating_sub(summary.queued);
        for (result, n) in [
            ("sent", summary.sent),
            ("queued", summary.queued),
            ("failed", failed),
        ] {
            mail.add(&[("log", path.as_str()), ("result", result)], n);
        }
    }
    let mut out = String::new();
    for family in [
        &last_run,
        &last_ok,
        &last_success,
        &duration,
        &exit,
        &size,
        &mail,
    ] {
        family.render(&mut out);
    }
    out
}

/// The jobs the state file in `state_dir` knows (none without one).
pub(crate) fn jobs(state_dir: Option<&Path>) -> Result<Vec<Job>, Error> {
    let Some(dir) = state_dir else {
        return Ok(Vec::new());
    };
    StateFile::read_existing(dir)
        .map(|s| s.jobs())
        .map_err(|e| Error::io(format!("cannot read the state in {}", dir.display()), e))
}

/// After a `run` or `check`: write `metrics_file` from the state and the whole mail log
/// (a log that does not exist yet leaves the mail counts out).
pub(crate) fn publish(target: &Path, state_dir: Option<&Path>, log: &Path) -> Result<(), Error> {
    let jobs = jobs(state_dir)?;
    let summary = std::fs::File::open(log)
        .ok()
        .map(|f| summarise(read_lines(f), None, chrono::Local::now()));
    let text = render(&jobs, summary.as_ref().map(|s| (log, s)));
    write_atomically(target, &text).map_err(|e| Error::cant_create(target, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Measurement, Status};

    #[test]
    fn labels_are_escaped() {
        assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label("two\nlines"), "two\\nlines");
    }

    #[test]
    fn families_have_help_and_type_and_empty_ones_are_left_out() {
        let jobs = [Job {
            host: "db01".into(),
            name: "pg \"main\"".into(),
            last_run: 1_700_000_000,
            last_status: Status::Failure,
            last_success: None,
            measurement: Measurement {
                duration_ms: Some(61_005),
                exit_status: Some(2),
                size: None,
            },
        }];
        let text = render(&jobs, None);
        assert!(text.contains(
            "# TYPE backup_alert_job_last_run_timestamp_seconds gauge\n\
             backup_alert_job_last_run_timestamp_seconds{host=\"db01\",backup_job=\"pg \\\"main\\\"\"} 1700000000\n"
        ), "{text}");
        assert!(text.contains("backup_alert_job_last_duration_seconds{host=\"db01\",backup_job=\"pg \\\"main\\\"\"} 61.005\n"), "{text}");
        assert!(text.contains(
            "backup_alert_job_last_run_ok{host=\"db01\",backup_job=\"pg \\\"main\\\"\"} 0\n"
        ));
        assert!(!text.contains("last_success"), "{text}");
        assert!(!text.contains("backup_size"), "{text}");
        assert!(!text.contains("mail_messages"), "{text}");
    }
}
