//! The mail log, read: an msmtp-format log (rsmtp writes the same lines) or Postfix's
//! ([`postfix`]), summed up as what was sent, queued and failed, by reason, with the last
//! failure and its time — for `stats`, `report` and the metrics.
//!
//! A line is `<time> host=H tls=on auth=on [user=U] from=F recipients=a,b [mailsize=N]
//! [smtpstatus=NNN smtpmsg='…'] [errormsg='…'] exitcode=EX_…`. The time prefix follows the
//! account's `logfile_time_format` (msmtp's default `%b %d %H:%M:%S`, possibly in another
//! language), so it is kept as text and parsed only for `--since`: lines whose time cannot
//! be read are counted when no `--since` is given and reported as skipped otherwise.

pub(crate) mod entry;
pub(crate) mod postfix;

use rsmtp_core::{tr_in, trn_in};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Local, NaiveDate, NaiveDateTime, TimeZone};

pub(crate) use entry::LogEntry;

use crate::context::Context;
use crate::error::Error;
use crate::units::parse_duration;

/// Parse one log line; `None` when it is neither an msmtp line (no ` host=` and
/// `exitcode=`; the reader is rsmtp's own, next to the writer of the line) nor a Postfix
/// delivery or reject line ([`postfix`]). msmtp's lines through syslog
/// (`Dec  7 04:09:42 myhost msmtp: host=…`) keep only their time.
pub(crate) fn parse_line(line: &str) -> Option<LogEntry> {
    match rsmtp_deliver::log::LogLine::parse(line) {
        Some(l) if l.get("exitcode").is_some() => Some(LogEntry {
            time: strip_syslog_tag(&l.time).to_string(),
            fields: l.fields,
        }),
        _ => postfix::parse_line(line),
    }
}

/// `Dec  7 04:09:42 myhost msmtp:` → `Dec  7 04:09:42` (syslog's host and program tag
/// after the time); a plain time is returned as it is.
fn strip_syslog_tag(time: &str) -> &str {
    let time = time.trim();
    match time.rsplit_once(' ') {
        Some((head, tag)) if tag.ends_with(':') => head
            .rsplit_once(' ')
            .map_or(head, |(t, _host)| t)
            .trim_end(),
        _ => time,
    }
}

/// The month of a log time's month word, in the languages msmtp writes it in under
/// `setlocale`: English, French (`déc.`, `avril`), German (`Mär`, `Dez`), Spanish (`ene`,
/// `dic`), Japanese (`12月`), as glibc abbreviates them; full English names too.
fn month_number(word: &str) -> Option<u32> {
    let w = word.trim().trim_end_matches('.').to_lowercase();
    if let Some(n) = w.strip_suffix('月') {
        return n.trim().parse().ok().filter(|m| (1..=12).contains(m));
    }
    const MONTHS: [&[&str]; 12] = [
        &["jan", "january", "janv", "janvier", "ene", "enero"],
        &["feb", "february", "févr", "fevr", "février", "febrero"],
        &["mar", "march", "mars", "mär", "mrz", "märz", "marzo"],
        &["apr", "april", "avr", "avril", "abr", "abril"],
        &["may", "mai", "mayo"],
        &["jun", "june", "juin", "junio"],
        &["jul", "july", "juil", "juillet", "julio"],
        &["aug", "august", "août", "aout", "ago", "agosto"],
        &["sep", "sept", "september", "septembre", "septiembre"],
        &["oct", "october", "octobre", "okt", "oktober", "octubre"],
        &["nov", "november", "novembre", "noviembre"],
        &[
            "dec",
            "december",
            "déc",
            "dec",
            "décembre",
            "dez",
            "dezember",
            "dic",
            "diciembre",
        ],
    ];
    MONTHS
        .iter()
        .position(|names| names.contains(&w.as_str()))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// `[YEAR] MONTH DAY HH:MM:SS` with the month in any language [`month_number`] knows.
fn parse_month_day_time(text: &str, now: DateTime<Local>) -> Option<DateTime<Local>> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (year, words) = match words.as_slice() {
        [y, rest @ ..] if rest.len() == 3 && y.len() == 4 => (Some(y.parse::<i32>().ok()?), rest),
        rest => (None, rest),
    };
    let [month, day, time] = words else {
        return None;
    };
    let month = month_number(month)?;
    let day: u32 = day.parse().ok()?;
    let time = chrono::NaiveTime::parse_from_str(time, "%H:%M:%S").ok()?;
    let at = |y: i32| {
        NaiveDate::from_ymd_opt(y, month, day)
            .and_then(|d| Local.from_local_datetime(&d.and_time(time)).earliest())
    };
    match year {
        Some(y) => at(y),
        None => {
            let t = at(now.year())?;
            // "Dec 31" read in January belongs to last year.
            if t > now + chrono::Duration::days(1) {
                at(now.year() - 1)
            } else {
                Some(t)
            }
        }
    }
}

/// Read the time prefix: msmtp's default `%b %d %H:%M:%S` (year taken as the latest one
/// not in the future), ISO-like `%Y-%m-%d %H:%M:%S`, or `%Y %b %d %H:%M:%S`.
pub(crate) fn parse_time(text: &str, now: DateTime<Local>) -> Option<DateTime<Local>> {
    let text = strip_syslog_tag(text);
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, fmt) {
            return Local.from_local_datetime(&t).earliest();
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Local));
    }
    parse_month_day_time(text, now)
}

/// `--since`: a duration back from now (`24h`) or a date / date and time.
pub(crate) fn parse_since(text: &str, now: DateTime<Local>) -> Result<DateTime<Local>, Error> {
    if let Ok(d) = parse_duration(text) {
        let d = chrono::Duration::from_std(d)
            .map_err(|_| Error::Usage(format!("--since {text}: too far back")))?;
        return Ok(now - d);
    }
    if let Ok(day) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        if let Some(t) = day
            .and_hms_opt(0, 0, 0)
            .and_then(|t| Local.from_local_datetime(&t).earliest())
        {
            return Ok(t);
        }
    }
    for fmt in ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text.trim(), fmt) {
            if let Some(t) = Local.from_local_datetime(&t).earliest() {
                return Ok(t);
            }
        }
    }
    Err(Error::Usage(format!(
        "--since `{text}`: use a duration (24h, 7d) or a date (2026-11-20, \"2026-11-20 08:00\")"
    )))
}

/// Counts over a log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) sent: u64,
    pub(crate) failed: u64,
    /// Of the failed attempts, those rsmtp kept in its queue (`errormsg='… (queued as ID)'`):
    /// a later `rsmtp -q` may still send them.
    pub(crate) queued: u64,
    /// Failure reason → count.
    pub(crate) reasons: BTreeMap<String, u64>,
    pub(crate) last_failure: Option<LogEntry>,
    /// Lines skipped because their time could not be read (only with --since).
    pub(crate) undated: u64,
    /// Lines that were not blank, and of those the ones read as a log entry.
    pub(crate) lines: u64,
    pub(crate) recognised: u64,
}

impl Summary {
    pub(crate) fn add(&mut self, e: LogEntry) {
        if e.is_success() {
            self.sent += 1;
        } else {
            self.failed += 1;
            if e.is_queued() {
                self.queued += 1;
            }
            *self.reasons.entry(e.reason()).or_insert(0) += 1;
            self.last_failure = Some(e);
        }
    }

    /// Lines were read but none was an msmtp, rsmtp or Postfix log line: the counts
    /// would say "nothing sent, nothing failed" about a file they know nothing of.
    pub(crate) fn unrecognised(&self) -> bool {
        self.lines > 0 && self.recognised == 0
    }

    /// The note saying so, in `lang`.
    pub(crate) fn unrecognised_note(&self, source: &str, lang: crate::lang::Language) -> String {
        trn_in!(
            lang,
            "{source} is not an msmtp, rsmtp or Postfix log: none of its {n} line could be \
             read, so nothing was counted",
            "{source} is not an msmtp, rsmtp or Postfix log: none of its {n} lines could be \
             read, so nothing was counted",
            self.lines,
            source = source
        )
    }

    /// The summary in English.
    #[cfg(test)]
    pub(crate) fn render(&self, source: &str) -> String {
        self.render_in(source, crate::lang::Language::English)
    }

    /// The summary in `lang` (the counts' labels and notes; reasons stay as logged,
    /// but a control character in them is shown as `?`, as msmtp shows one: a log line
    /// must not recolour, clear or rewrite the reader's terminal).
    pub(crate) fn render_in(&self, source: &str, lang: crate::lang::Language) -> String {
        self.render_raw(source, lang)
            .split('\n')
            .map(rsmtp_core::shown)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn render_raw(&self, source: &str, lang: crate::lang::Language) -> String {
        if self.unrecognised() {
            let note = self.unrecognised_note(source, lang);
            return format!("{}\n", tr_in!(lang, "note: {note}", note = note));
        }
        let mut out = format!(
            "{source}\n{}\n{}\n",
            tr_in!(lang, "sent:   {n}", n = self.sent),
            tr_in!(lang, "failed: {n}", n = self.failed)
        );
        let mut reasons: Vec<_> = self.reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (reason, n) in reasons {
            out.push_str(&format!("  {n:>5}  {reason}\n"));
        }
        if let Some(f) = &self.last_failure {
            let time = if f.time.is_empty() {
                tr_in!(lang, "(no time)").into_owned()
            } else {
                f.time.clone()
            };
            out.push_str(&tr_in!(
                lang,
                "last failure: {time} {reason} (recipients={to})",
                time = time,
                reason = f.reason(),
                to = f.get("recipients").unwrap_or("?")
            ));
            out.push('\n');
        }
        if self.undated > 0 {
            let left_out = trn_in!(
                lang,
                "{n} line with an unreadable time was left out",
                "{n} lines with an unreadable time were left out",
                self.undated
            );
            out.push_str(&tr_in!(lang, "note: {note}", note = left_out));
            out.push('\n');
        }
        out
    }
}

/// Summarise log text (as lines), keeping entries at or after `since`.
pub(crate) fn summarise<I: Iterator<Item = String>>(
    lines: I,
    since: Option<DateTime<Local>>,
    now: DateTime<Local>,
) -> Summary {
    let mut s = Summary::default();
    for line in lines {
        if line.trim().is_empty() {
            continue;
        }
        s.lines += 1;
        let Some(e) = parse_line(&line) else { continue };
        s.recognised += 1;
        if let Some(since) = since {
            match parse_time(&e.time, now) {
                Some(t) if t < since => continue,
                Some(_) => {}
                None => {
                    s.undated += 1;
                    continue;
                }
            }
        }
        s.add(e);
    }
    s
}

/// The log to read: flag, then settings, then the msmtprc (`--config`, else the settings'
/// `msmtprc`, else the usual places), then /var/log/msmtp.log.
pub(crate) fn log_path(log: Option<&Path>, config: Option<&Path>, ctx: &Context) -> PathBuf {
    if let Some(p) = log {
        return p.to_path_buf();
    }
    if let Some(p) = &ctx.settings.logfile {
        return p.clone();
    }
    let config = config
        .map(Path::to_path_buf)
        .or_else(|| ctx.settings.msmtprc.clone());
    crate::setup::msmtprc::default_logfile(config.as_deref(), ctx.settings.account.as_deref())
        .unwrap_or_else(|| PathBuf::from("/var/log/msmtp.log"))
}

/// The lines of a log, invalid UTF-8 replaced.
pub(crate) fn read_lines(file: File) -> impl Iterator<Item = String> {
    BufReader::new(file)
        .split(b'\n')
        .map_while(Result::ok)
        .map(|l| String::from_utf8_lossy(&l).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "Nov 21 16:03:07 host=smtp.gmail.com tls=on auth=on user=me@x.example from=me@x.example recipients=a@x.example,b@x.example mailsize=1234 smtpstatus=250 smtpmsg='250 2.0.0 OK  1700000000 abc.123 - gsmtp' exitcode=EX_OK";
    const TEMP: &str = "déc. 21 18:00:15 host=smtp.gmail.com tls=on auth=on from=me@x.example recipients=me@x.example errormsg='Connection refused' exitcode=EX_TEMPFAIL";
    const AUTH: &str = "Nov 21 17:00:00 host=smtp.gmail.com tls=on auth=on user=me from=me@x.example recipients=me@x.example smtpstatus=535 smtpmsg='535-5.7.8 Username and Password not accepted. it's a 'test'' errormsg='authentication failed (method PLAIN)' exitcode=EX_NOPERM";

    #[test]
    fn parses_msmtp_lines() {
        let e = parse_line(OK).unwrap();
        assert_eq!(e.time, "Nov 21 16:03:07");
        assert_eq!(e.get("host"), Some("smtp.gmail.com"));
        assert_eq!(e.get("recipients"), Some("a@x.example,b@x.example"));
        assert_eq!(
            e.get("smtpmsg"),
            Some("250 2.0.0 OK  1700000000 abc.123 - gsmtp")
        );
        assert!(e.is_success());
        let t = parse_line(TEMP).unwrap();
        assert_eq!(t.time, "déc. 21 18:00:15");
        assert_eq!(t.reason(), "EX_TEMPFAIL errormsg='Connection refused'");
    }

    #[test]
    fn quotes_inside_messages() {
        let e = parse_line(AUTH).unwrap();
        assert_eq!(
            e.get("smtpmsg"),
            Some("535-5.7.8 Username and Password not accepted. it's a 'test'")
        );
        assert_eq!(
            e.get("errormsg"),
            Some("authentication failed (method PLAIN)")
        );
        assert_eq!(e.exitcode(), "EX_NOPERM");
    }

    #[test]
    fn other_lines_are_ignored() {
        assert!(parse_line("").is_none());
        assert!(parse_line("random text host=x").is_none());
        assert!(parse_line("Nov 21 host=x weird key=v").is_none());
    }

    #[test]
    fn summary_counts_by_reason() {
        let now = Local.with_ymd_and_hms(2026, 11, 21, 20, 0, 0).unwrap();
        let lines = [OK, TEMP, AUTH, TEMP, OK, "garbage"].map(String::from);
        let s = summarise(lines.into_iter(), None, now);
        assert_eq!((s.sent, s.failed), (2, 3));
        assert_eq!(s.reasons["EX_TEMPFAIL errormsg='Connection refused'"], 2);
        assert_eq!(s.last_failure.as_ref().unwrap().time, "déc. 21 18:00:15");
        let text = s.render("/var/log/msmtp.log");
        assert!(text.contains("sent:   2\nfailed: 3\n"), "{text}");
        assert!(
            text.contains("      2  EX_TEMPFAIL errormsg='Connection refused'"),
            "{text}"
        );
        assert!(
            text.contains("last failure: déc. 21 18:00:15 EX_TEMPFAIL"),
            "{text}"
        );
    }

    #[test]
    fn since_filters_by_time() {
        let now = Local.with_ymd_and_hms(2026, 11, 21, 20, 0, 0).unwrap();
        let since = parse_since("3h", now).unwrap();
        let lines = [OK, AUTH, TEMP].map(String::from);
        let s = summarise(lines.into_iter(), Some(since), now);
        // 16:03 is before 17:00; "déc. 21", read in November, is last December's
        assert_eq!((s.sent, s.failed, s.undated), (0, 1, 0));
        let unreadable = ["21/11 19:00 host=h exitcode=EX_OK".to_string()];
        let s = summarise(unreadable.into_iter(), Some(since), now);
        assert_eq!(s.undated, 1);
        let day = parse_since("2026-11-21", now).unwrap();
        assert_eq!(day.format("%H:%M").to_string(), "00:00");
        assert!(parse_since("yesterday", now).is_err());
    }

    #[test]
    fn times_without_a_year() {
        let jan = Local.with_ymd_and_hms(2027, 1, 2, 10, 0, 0).unwrap();
        let t = parse_time("Dec 31 23:00:00", jan).unwrap();
        assert_eq!(t.year(), 2026);
        let t = parse_time("2026-11-21 10:00:00", jan).unwrap();
        assert_eq!(t.day(), 21);
    }
}
