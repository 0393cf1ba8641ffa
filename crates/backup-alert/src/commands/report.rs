//! `report`: a digest people would rather look at than read — one message per host, every
//! job with its runs, failures, durations and sizes over a period (`--since 7d`), and the
//! mail log's sent, queued and failed counts. Mailed, or printed with `--print`.
//!
//! The runs come from the run journal ([`crate::alert::journal`]); jobs the state file knows
//! but that did not report in the period are listed too ("no run in this period"): a job
//! that silently stopped running is what a weekly digest is for. Each job gets a chart of
//! its durations (`run`) or backup sizes (`check`), bars coloured by result: a text
//! sparkline (`▁▂▃▅▇`) in the plain part and an inline SVG in the HTML part (no external
//! resources, inline styles, the same light box in dark mode as the alerts). Bars are
//! scaled from zero, so a backup half the usual size shows as half a bar.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Local, TimeZone};

use crate::alert::compose::{compose_alternative, one_line};
use crate::alert::flood::StateFile;
use crate::alert::html_page::{self as page, escape_html, MUTED, RULE, WRAP};
use crate::alert::journal::Entry;
use crate::context::Context;
use crate::error::Error;
use crate::lang::report::Noun;
use crate::lang::Language;
use crate::mail_log::Summary;
use crate::model::Status;
use crate::units::{format_duration, format_size, plural};
use rsmtp_core::{tr_in, trn_in};
use rsmtp_deliver::ui::Ui;

/// Most runs per job drawn in a chart or strip (the counts cover them all).
pub(crate) const MAX_DRAWN: usize = 60;

/// Most failures listed per job.
const MAX_LISTED: usize = 5;

#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// Period covered: a duration back from now (7d, 24h) or a date (2026-11-20,
    /// "2026-11-20 08:00") (default: 7d).
    #[arg(
        long,
        value_name = "DURATION|DATE",
        default_value = "7d",
        hide_default_value = true
    )]
    pub(crate) since: String,
    /// Print the digest (its text part) on stdout instead of mailing it.
    #[arg(long)]
    pub(crate) print: bool,
    #[command(flatten)]
    pub(crate) mail: crate::commands::MailArgs,
    /// msmtp-format mail log to count (default: as for stats).
    #[arg(long, value_name = "FILE")]
    pub(crate) log: Option<PathBuf>,
    /// Directory of the state file and run journal (default: as for send, run and check).
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
}

/// One job over the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobReport {
    pub(crate) name: String,
    /// Results in the period, oldest first.
    pub(crate) runs: Vec<Entry>,
    /// The last result before the period, for a job that did not report in it.
    pub(crate) last_seen: Option<(Status, i64)>,
    /// The last success ever recorded (state file or journal).
    pub(crate) last_success: Option<i64>,
}

impl JobReport {
    fn count(&self, status: Status) -> usize {
        self.runs.iter().filter(|r| r.status == status).count()
    }

    fn drawn(&self) -> &[Entry] {
        &self.runs[self.runs.len().saturating_sub(MAX_DRAWN)..]
    }

    /// What the chart shows: durations when the job has any, else sizes.
    fn metric(&self) -> Option<Metric> {
        if self
            .runs
            .iter()
            .any(|r| r.measurement.duration_ms.is_some())
        {
            Some(Metric::Duration)
        } else if self.runs.iter().any(|r| r.measurement.size.is_some()) {
            Some(Metric::Size)
        } else {
            None
        }
    }
}

/// The quantity a job's chart plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Duration,
    Size,
}

impl Metric {
    fn label(self) -> &'static str {
        match self {
            Metric::Duration => "Duration",
            Metric::Size => "Size",
        }
    }

    fn value(self, e: &Entry) -> Option<u64> {
        match self {
            Metric::Duration => e.measurement.duration_ms,
            Metric::Size => e.measurement.size,
        }
    }

    fn show(self, v: u64) -> String {
        match self {
            Metric::Duration => format_duration(Duration::from_millis(v)),
            Metric::Size => format_size(v),
        }
    }
}

/// One host's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostReport {
    pub(crate) host: String,
    pub(crate) jobs: Vec<JobReport>,
}

impl HostReport {
    fn runs(&self) -> usize {
        self.jobs.iter().map(|j| j.runs.len()).sum()
    }

    fn count(&self, status: Status) -> usize {
        self.jobs.iter().map(|j| j.count(status)).sum()
    }

    /// ❌ when a job's latest result is a failure; ⚠️ when one is a warning, there were
    /// problems since recovered, or a job did not report; ✅ otherwise.
    pub(crate) fn status(&self) -> Status {
        let last_bad = self
            .jobs
            .iter()
            .any(|j| j.runs.last().is_some_and(|r| r.status == Status::Failure));
        let some_bad = self
            .jobs
            .iter()
            .any(|j| j.runs.is_empty() || j.runs.iter().any(|r| r.status.is_problem()));
        if last_bad {
            Status::Failure
        } else if some_bad {
            Status::Warning
        } else {
            Status::Success
        }
    }
}

/// What the mail log said over the period.
#[derive(Debug, Clone)]
pub(crate) enum MailLog {
    Counted { path: PathBuf, summary: Summary },
    Unreadable { path: PathBuf, reason: String },
}

impl MailLog {
    /// `/var/log/msmtp.log: 30 sent, 1 queued, 0 failed`.
    pub(crate) fn line(&self, lang: Language) -> String {
        match self {
            MailLog::Counted { path, summary } => lang.mail_counts(
                &path.display().to_string(),
                summary.sent,
                summary.queued,
                summary.failed.saturating_sub(summary.queued),
            ),
            MailLog::Unreadable { path, reason } => {
                lang.mail_not_counted(&path.display().to_string(), reason)
            }
        }
    }
}

/// The period a digest covers, and how to name it.
#[derive(Debug, Clone)]
pub(crate) struct Period {
    pub(crate) since: DateTime<Local>,
    pub(crate) until: DateTime<Local>,
}

impl Period {
    /// `last 7 days`, `last 36 hours`, or `since 2026-11-20 08:00`.
    pub(crate) fn name(&self, lang: Language) -> String {
        let secs = (self.until - self.since).num_seconds().max(0);
        if secs > 0 && secs % 86_400 == 0 {
            lang.last_period((secs / 86_400) as u64, Noun::Day)
        } else if secs > 0 && secs % 3600 == 0 {
            lang.last_period((secs / 3600) as u64, Noun::Hour)
        } else {
            lang.since_time(&self.since.format("%Y-%m-%d %H:%M").to_string())
        }
    }

    fn span(&self, lang: Language) -> String {
        lang.span(
            &self.since.format("%Y-%m-%d %H:%M").to_string(),
            &self.until.format("%Y-%m-%d %H:%M").to_string(),
            &self.name(lang),
        )
    }
}

/// Sort the journal's entries in the period into hosts and jobs; add the jobs the state
/// file knows that did not report. `this_host` always gets a digest, even an empty one.
pub(crate) fn gather(
    entries: Vec<Entry>,
    known: &[crate::alert::flood::Job],
    period: &Period,
    this_host: &str,
) -> Vec<HostReport> {
    let (since, until) = (period.since.timestamp(), period.until.timestamp());
    let mut hosts: BTreeMap<String, BTreeMap<String, JobReport>> = BTreeMap::new();
    hosts
        .entry(crate::alert::flood::clean(this_host))
        .or_default();
    let mut last_success: BTreeMap<(String, String), i64> = BTreeMap::new();
    for e in entries {
        if e.status == Status::Success {
            let t = last_success
                .entry((e.host.clone(), e.job.clone()))
                .or_insert(e.at);
            *t = (*t).max(e.at);
        }
        if e.at < since || e.at > until {
            continue;
        }
        let job = hosts
            .entry(e.host.clone())
            .or_default()
            .entry(e.job.clone())
            .or_insert_with(|| JobReport {
                name: e.job.clone(),
                runs: Vec::new(),
                last_seen: None,
                last_success: None,
            });
        job.runs.push(e);
    }
    for k in known {
        let job = hosts
            .entry(k.host.clone())
            .or_default()
            .entry(k.name.clone())
            .or_insert_with(|| JobReport {
                name: k.name.clone(),
                runs: Vec::new(),
                last_seen: Some((k.last_status, k.last_run)),
                last_success: None,
            });
        job.last_success = job.last_success.max(k.last_success);
    }
    hosts
        .into_iter()
        .map(|(host, jobs)| HostReport {
            jobs: jobs
                .into_values()
                .map(|mut j| {
                    j.runs.sort_by_key(|r| r.at);
                    let journal = last_success.get(&(host.clone(), j.name.clone())).copied();
                    j.last_success = j.last_success.max(journal);
                    j
                })
                .collect(),
            host,
        })
        .collect()
}

/// `▁▂▃▄▅▆▇█`, scaled from zero to the largest value; `·` for a run without one.
pub(crate) fn sparkline(values: &[Option<u64>]) -> String {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().flatten().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|v| match v {
            None => '·',
            Some(_) if max == 0 => LEVELS[0],
            Some(v) => {
                let i = ((*v as f64 / max as f64) * (LEVELS.len() - 1) as f64).round() as usize;
                LEVELS[i.min(LEVELS.len() - 1)]
            }
        })
        .collect()
}

fn when(t: i64) -> String {
    Local
        .timestamp_opt(t, 0)
        .earliest()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// `4m 05s to 12m 00s, median 5m 00s` (or the one value).
fn range(metric: Metric, runs: &[Entry], lang: Language) -> Option<String> {
    let mut values: Vec<u64> = runs.iter().filter_map(|r| metric.value(r)).collect();
    let last = *values.last()?;
    values.sort_unstable();
    let (min, max, median) = (
        values[0],
        values[values.len() - 1],
        values[values.len() / 2],
    );
    Some(match metric {
        _ if min == max => metric.show(min),
        Metric::Duration => {
            lang.range_median(&metric.show(min), &metric.show(max), &metric.show(median))
        }
        Metric::Size => lang.range_last(&metric.show(last), &metric.show(min), &metric.show(max)),
    })
}

/// How a problem run ended: `2026-11-29 02:00 failure, exit status 2`.
fn problem_line(e: &Entry, lang: Language) -> String {
    let mut line = format!("{} {}", when(e.at), lang.status(e.status));
    if let Some(code) = e.measurement.exit_status.filter(|c| *c != 0) {
        line.push_str(&lang.exit_status_suffix(code));
    }
    line
}

/// `Label : value` lines of one job, shared by the text and HTML parts; the text part
/// has the sparkline in front of the range (the HTML part draws its chart above).
fn job_facts(j: &JobReport, sparkline_too: bool, lang: Language) -> Vec<(String, String)> {
    let mut facts: Vec<(&'static str, String)> = Vec::new();
    if j.runs.is_empty() {
        facts.push(("Runs", tr_in!(lang, "none in this period").into()));
        if let Some((status, at)) = j.last_seen {
            facts.push((
                "Last run",
                format!("{} ({})", when(at), lang.status(status)),
            ));
        }
    } else {
        let (failures, warnings) = (j.count(Status::Failure), j.count(Status::Warning));
        let mut runs = lang.count(j.runs.len() as u64, Noun::Run);
        if failures + warnings > 0 {
            let mut parts = Vec::new();
            if failures > 0 {
                parts.push(lang.count(failures as u64, Noun::Failure));
            }
            if warnings > 0 {
                parts.push(lang.count(warnings as u64, Noun::Warning));
            }
            let _ = write!(runs, " ({})", parts.join(", "));
        }
        facts.push(("Runs", runs));
        let drawn = j.drawn();
        let strip: String = drawn.iter().map(|r| r.status.mark()).collect();
        let shown = if drawn.len() < j.runs.len() {
            lang.last_of(drawn.len(), j.runs.len())
        } else {
            tr_in!(lang, "oldest first").to_string()
        };
        facts.push(("Results", format!("{strip} ({shown})")));
        if let Some(metric) = j.metric() {
            if let Some(r) = range(metric, &j.runs, lang) {
                let r = if sparkline_too {
                    let values: Vec<Option<u64>> = drawn.iter().map(|e| metric.value(e)).collect();
                    format!("{}  {r}", sparkline(&values))
                } else {
                    r
                };
                facts.push((metric.label(), r));
            }
        }
        let problems: Vec<&Entry> = j.runs.iter().filter(|r| r.status.is_problem()).collect();
        if !problems.is_empty() {
            let mut listed: Vec<String> = problems
                .iter()
                .rev()
                .take(MAX_LISTED)
                .map(|e| problem_line(e, lang))
                .collect();
            if problems.len() > MAX_LISTED {
                listed.push(lang.and_earlier(problems.len() - MAX_LISTED));
            }
            facts.push(("Problems", listed.join("; ")));
        }
    }
    facts.push((
        "Last good",
        j.last_success
            .map(when)
            .unwrap_or_else(|| tr_in!(lang, "none recorded").into()),
    ));
    facts.into_iter().map(|(k, v)| (lang.label(k), v)).collect()
}

fn totals(h: &HostReport, lang: Language) -> String {
    format!(
        "{}, {}, {}, {}",
        lang.count(h.jobs.len() as u64, Noun::Job),
        lang.count(h.runs() as u64, Noun::Run),
        lang.count(h.count(Status::Failure) as u64, Noun::Failure),
        lang.count(h.count(Status::Warning) as u64, Noun::Warning)
    )
}

/// The subject: `✅ [db01] Backup report, last 7 days: 3 jobs, 21 runs, 0 failures, 0 warnings`.
pub(crate) fn subject_line(h: &HostReport, period: &Period, lang: Language) -> String {
    let colon = if lang == Language::French {
        " : "
    } else {
        ": "
    };
    one_line(&format!(
        "{} [{}] {}, {}{colon}{}",
        h.status().mark(),
        h.host,
        lang.backup_report(),
        period.name(lang),
        totals(h, lang)
    ))
}

/// The plain-text part.
pub(crate) fn plain(h: &HostReport, period: &Period, mail: &MailLog, lang: Language) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", h.status().mark(), lang.report_for(&h.host));
    let head = [
        (lang.label("Period"), period.span(lang)),
        (lang.label("Totals"), totals(h, lang)),
        (lang.label("Mail log"), mail.line(lang)),
    ];
    padded(&mut out, &head, 8);
    if h.jobs.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            tr_in!(lang, "No job reported through backup-alert yet.")
        );
    }
    for j in &h.jobs {
        let _ = writeln!(out, "\n== {} ==", one_line(&j.name));
        padded(&mut out, &job_facts(j, true, lang), 9);
    }
    let _ = write!(out, "\n-- \nbackup-alert {}\n", env!("CARGO_PKG_VERSION"));
    out
}

/// `Label : value` lines, the labels padded to one display width, at least `min` (期間 is
/// 4 wide).
fn padded(out: &mut String, facts: &[(String, String)], min: usize) {
    let width = facts
        .iter()
        .map(|(k, _)| crate::lang::display_width(k))
        .max()
        .unwrap_or(0)
        .max(min);
    for (k, v) in facts {
        let pad = width - crate::lang::display_width(k);
        let _ = writeln!(out, "{k}{:pad$} : {}", "", one_line(v));
    }
}

/// Height of a chart in pixels.
const CHART_HEIGHT: u32 = 48;

/// The inline SVG chart of one job: a bar per run, its height the duration or size, its
/// colour the result; a hover title per bar.
pub(crate) fn svg_chart(j: &JobReport) -> Option<String> {
    let metric = j.metric()?;
    let drawn = j.drawn();
    let max = drawn
        .iter()
        .filter_map(|r| metric.value(r))
        .max()
        .unwrap_or(0);
    let (bar, gap) = (8u32, 2u32);
    let width = drawn.len() as u32 * (bar + gap);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" height=\"{CHART_HEIGHT}\" \
         viewBox=\"0 0 {width} {CHART_HEIGHT}\" preserveAspectRatio=\"none\" role=\"img\" \
         aria-label=\"{} of the last {}\" class=\"ba-chart\" style=\"display:block;\
         max-width:360px;background:#ffffff;margin:4px 0 8px 0\">",
        metric.label(),
        plural(drawn.len() as u64, "run")
    );
    let _ = write!(
        out,
        "<rect x=\"0\" y=\"{}\" width=\"{width}\" height=\"1\" fill=\"#d0d7de\"/>",
        CHART_HEIGHT - 1
    );
    for (i, r) in drawn.iter().enumerate() {
        let value = metric.value(r);
        let h = match value {
            Some(v) if max > 0 => ((v as f64 / max as f64) * f64::from(CHART_HEIGHT - 2))
                .round()
                .max(2.0) as u32,
            _ => 2,
        };
        let shown = value.map(|v| metric.show(v)).unwrap_or_else(|| "—".into());
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{bar}\" height=\"{h}\" fill=\"{}\">\
             <title>{}: {}, {}</title></rect>",
            i as u32 * (bar + gap),
            CHART_HEIGHT - 1 - h,
            r.status.colour(),
            when(r.at),
            r.status.as_str(),
            escape_html(&shown)
        );
    }
    out.push_str("</svg>");
    Some(out)
}

/// The HTML part: the same content, styled like the alerts (a light box with explicit
/// colours, so dark mode cannot turn the text into its background).
pub(crate) fn html(h: &HostReport, period: &Period, mail: &MailLog, lang: Language) -> String {
    let e = escape_html;
    let status = h.status();
    let mut out = page::open(lang.code(), &subject_line(h, period, lang));
    out.push_str(&page::heading(status, &lang.report_for(&one_line(&h.host))));
    let head = [
        (lang.label("Period"), period.span(lang)),
        (lang.label("Totals"), totals(h, lang)),
        (lang.label("Mail log"), mail.line(lang)),
    ];
    out.push_str(&page::facts(
        head.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        12,
    ));
    if h.jobs.is_empty() {
        let _ = writeln!(
            out,
            "<p>{}</p>",
            e(&tr_in!(lang, "No job reported through backup-alert yet."))
        );
    }
    for j in &h.jobs {
        let _ = writeln!(
            out,
            "<h3 class=\"ba-rule\" style=\"font-size:16px;margin:16px 0 4px 0;\
             border-top:1px solid {RULE};padding-top:8px;{WRAP}\">{}</h3>",
            e(&one_line(&j.name))
        );
        if let Some(svg) = svg_chart(j) {
            out.push_str(&svg);
            out.push('\n');
            out.push_str(&chart_dates(j));
        }
        let facts = job_facts(j, false, lang);
        out.push_str(&page::facts(
            facts.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            8,
        ));
    }
    out.push_str(&page::close());
    out
}

/// The dates under a chart: its first and last bar's, so the bars say when they were.
fn chart_dates(j: &JobReport) -> String {
    let drawn = j.drawn();
    let (Some(first), Some(last)) = (drawn.first(), drawn.last()) else {
        return String::new();
    };
    let day = |at: i64| {
        DateTime::from_timestamp(at, 0)
            .map(|t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    format!(
        "<div class=\"ba-muted\" style=\"display:flex;justify-content:space-between;\
         max-width:360px;font-size:12px;color:{MUTED};margin:-6px 0 8px 0\">\
         <span>{}</span><span>{}</span></div>\n",
        day(first.at),
        day(last.at)
    )
}

/// Count the mail log over the period; why it could not be is said in `lang`.
fn mail_log(args: &ReportArgs, ctx: &Context, period: &Period, lang: Language) -> MailLog {
    let path = crate::mail_log::log_path(args.log.as_deref(), args.mail.config.as_deref(), ctx);
    match std::fs::File::open(&path) {
        Ok(f) => {
            let summary = crate::mail_log::summarise(
                crate::mail_log::read_lines(f),
                Some(period.since),
                period.until,
            );
            // Never "0 sent, 0 failed" about a file none of whose lines could be read.
            if summary.unrecognised() {
                MailLog::Unreadable {
                    reason: trn_in!(
                        lang,
                        "not an msmtp, rsmtp or Postfix log: none of its {n} line could be read",
                        "not an msmtp, rsmtp or Postfix log: none of its {n} lines could be read",
                        summary.lines
                    ),
                    path,
                }
            } else {
                MailLog::Counted { summary, path }
            }
        }
        Err(e) => MailLog::Unreadable {
            reason: rsmtp_core::strerror_in(&e, lang.code()),
            path,
        },
    }
}

pub(crate) fn main(args: ReportArgs, ctx: &Context, ui: &mut Ui<'_>) -> Result<u8, Error> {
    let until = Local::now();
    let since = crate::mail_log::parse_since(&args.since, until)?;
    let period = Period { since, until };
    // Resolve the recipients first: a usage error is said before anything is read.
    let target = if args.print {
        None
    } else {
        Some(args.mail.target(&ctx.settings)?)
    };
    let state_dir = args
        .state_dir
        .clone()
        .or_else(|| ctx.settings.state_dir.clone())
        .or_else(crate::alert::flood::default_state_dir);
    let (entries, known) = match &state_dir {
        Some(dir) => {
            let cannot = |e| Error::io(format!("cannot read the state in {}", dir.display()), e);
            let known = StateFile::read_existing(dir).map_err(cannot)?.jobs();
            (crate::alert::journal::read(dir).map_err(cannot)?, known)
        }
        None => (Vec::new(), Vec::new()),
    };
    let hosts = gather(entries, &known, &period, &ctx.host);
    // The recipients' language, as for alerts; printed, the settings' or the locale's.
    let lang = target.as_ref().map_or_else(
        || ctx.settings.language.unwrap_or_else(Language::from_env),
        |t| t.language,
    );
    let mail = mail_log(&args, ctx, &period, lang);
    let Some(target) = target else {
        for (i, h) in hosts.iter().enumerate() {
            let sep = if i > 0 { "\n" } else { "" };
            write!(ui.out, "{sep}{}", plain(h, &period, &mail, lang))
                .map_err(|e| Error::io("cannot write to stdout", e))?;
        }
        return Ok(0);
    };
    for h in &hosts {
        let bytes = compose_alternative(
            &subject_line(h, &period, lang),
            until,
            "report",
            plain(h, &period, &mail, lang),
            html(h, &period, &mail, lang),
            &target.addresses,
        )?;
        crate::alert::deliver::submit(&target.route, &bytes, &mut *ui.err)?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Measurement;

    fn entry(at: i64, job: &str, status: Status, duration_ms: Option<u64>) -> Entry {
        Entry {
            at,
            host: "db01".into(),
            job: job.into(),
            status,
            measurement: Measurement {
                duration_ms,
                exit_status: Some(if status.is_problem() { 2 } else { 0 }),
                size: None,
            },
        }
    }

    fn period(days: i64) -> Period {
        let until = Local.with_ymd_and_hms(2026, 12, 3, 3, 0, 0).unwrap();
        Period {
            since: until - chrono::Duration::days(days),
            until,
        }
    }

    #[test]
    fn sparklines_scale_from_zero() {
        assert_eq!(sparkline(&[Some(1), Some(4), Some(8)]), "▂▅█");
        assert_eq!(sparkline(&[Some(5), None, Some(5)]), "█·█");
        assert_eq!(sparkline(&[Some(0), Some(0)]), "▁▁");
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn runs_are_sorted_into_jobs_and_silent_jobs_are_listed() {
        let p = period(7);
        let t = p.until.timestamp();
        let day = 86_400;
        let mut entries = vec![
            entry(t - 10 * day, "pg", Status::Success, Some(1000)),
            entry(t - 2 * day, "pg", Status::Failure, Some(500)),
            entry(t - day, "pg", Status::Success, Some(2000)),
            entry(t - day, "other-host-job", Status::Success, None),
        ];
        entries[3].host = "web01".into();
        let known = vec![crate::alert::flood::Job {
            host: "db01".into(),
            name: "files".into(),
            last_run: t - 20 * day,
            last_status: Status::Success,
            last_success: Some(t - 20 * day),
            measurement: Measurement::default(),
        }];
        let hosts = gather(entries, &known, &p, "db01");
        assert_eq!(hosts.len(), 2);
        let db = &hosts[0];
        assert_eq!(db.host, "db01");
        assert_eq!(db.jobs.len(), 2);
        let files = &db.jobs[0];
        assert_eq!(files.name, "files");
        assert!(files.runs.is_empty());
        let pg = &db.jobs[1];
        assert_eq!(pg.runs.len(), 2, "the run before the period is left out");
        assert_eq!(pg.last_success, Some(t - day));
        assert_eq!(db.status(), Status::Warning);
        let text = plain(
            db,
            &p,
            &MailLog::Unreadable {
                path: "/x.log".into(),
                reason: "No such file or directory".into(),
            },
            Language::English,
        );
        assert!(
            text.contains("\n== pg ==\nRuns      : 2 runs (1 failure)\n"),
            "{text}"
        );
        assert!(text.contains("Results   : ❌✅ (oldest first)\n"), "{text}");
        assert!(
            text.contains("Duration  : ▃█  500ms to 2.0s, median 2.0s\n"),
            "{text}"
        );
        assert!(
            text.contains("== files ==\nRuns      : none in this period\n"),
            "{text}"
        );
        assert!(
            text.contains("Problems  : 2026-12-01 03:00 failure, exit status 2\n"),
            "{text}"
        );
        assert!(
            text.contains("Mail log : /x.log: not counted (No such file or directory)"),
            "{text}"
        );
        let subject = subject_line(db, &p, Language::English);
        assert!(
            subject.starts_with(
                "⚠️ [db01] Backup report, last 7 days: 2 jobs, 2 runs, 1 failure, 0 warnings"
            ),
            "{subject}"
        );
        let svg = svg_chart(pg).unwrap();
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains("fill=\"#cf222e\""), "{svg}");
    }
}
