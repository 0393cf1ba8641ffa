//! The words of `report`'s digest in the reader's language (the alerts' are in
//! [`crate::lang`] and [`crate::lang::details`]): counts with their nouns, the period, the
//! mail log's line, the job lines. The English is the msgid of the catalogs.

use rsmtp_core::{tr_in, trn_in};

use crate::lang::Language;

/// The nouns the digest counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Noun {
    Job,
    Run,
    Failure,
    Warning,
    Day,
    Hour,
}

impl Language {
    /// `3 jobs` / `3 tâches` / `ジョブ 3 件`.
    pub(crate) fn count(self, n: u64, noun: Noun) -> String {
        match noun {
            Noun::Job => trn_in!(self, "{n} job", "{n} jobs", n),
            Noun::Run => trn_in!(self, "{n} run", "{n} runs", n),
            Noun::Failure => trn_in!(self, "{n} failure", "{n} failures", n),
            Noun::Warning => trn_in!(self, "{n} warning", "{n} warnings", n),
            Noun::Day => trn_in!(self, "{n} day", "{n} days", n),
            Noun::Hour => trn_in!(self, "{n} hour", "{n} hours", n),
        }
    }

    /// `Backup report` / `Rapport de sauvegarde` / `バックアップレポート`.
    pub(crate) fn backup_report(self) -> String {
        tr_in!(self, "Backup report").into_owned()
    }

    /// `Backup report for db01`.
    pub(crate) fn report_for(self, host: &str) -> String {
        tr_in!(self, "Backup report for {host}", host = host)
    }

    /// `last 7 days`, `les 36 dernières heures`, `過去 7 日` (`noun`: Day or Hour).
    pub(crate) fn last_period(self, n: u64, noun: Noun) -> String {
        match noun {
            Noun::Hour => trn_in!(self, "last {n} hour", "last {n} hours", n),
            _ => trn_in!(self, "last {n} day", "last {n} days", n),
        }
    }

    /// `since 2026-11-20 08:00`.
    pub(crate) fn since_time(self, at: &str) -> String {
        tr_in!(self, "since {time}", time = at)
    }

    /// `2026-11-20 08:00 to 2026-11-27 08:00 (last 7 days)`.
    pub(crate) fn span(self, from: &str, to: &str, name: &str) -> String {
        tr_in!(
            self,
            "{from} to {to} ({period})",
            from = from,
            to = to,
            period = name
        )
    }

    /// `/var/log/msmtp.log: 30 sent, 1 queued, 0 failed`.
    pub(crate) fn mail_counts(self, path: &str, sent: u64, queued: u64, failed: u64) -> String {
        tr_in!(
            self,
            "{path}: {sent} sent, {queued} queued, {failed} failed",
            path = path,
            sent = sent,
            queued = queued,
            failed = failed
        )
    }

    /// `/var/log/msmtp.log: not counted (reason)`.
    pub(crate) fn mail_not_counted(self, path: &str, reason: &str) -> String {
        tr_in!(
            self,
            "{path}: not counted ({reason})",
            path = path,
            reason = reason
        )
    }

    /// `last 20 of 31, oldest first`.
    pub(crate) fn last_of(self, drawn: usize, total: usize) -> String {
        tr_in!(
            self,
            "last {drawn} of {total}, oldest first",
            drawn = drawn,
            total = total
        )
    }

    /// `4m 05s to 12m 00s, median 5m 00s`.
    pub(crate) fn range_median(self, min: &str, max: &str, median: &str) -> String {
        tr_in!(
            self,
            "{min} to {max}, median {median}",
            min = min,
            max = max,
            median = median
        )
    }

    /// `last 3.0 MiB, 2.9 MiB to 3.1 MiB`.
    pub(crate) fn range_last(self, last: &str, min: &str, max: &str) -> String {
        tr_in!(
            self,
            "last {last}, {min} to {max}",
            last = last,
            min = min,
            max = max
        )
    }

    /// `, exit status 2` after a problem's time and status.
    pub(crate) fn exit_status_suffix(self, code: i32) -> String {
        tr_in!(self, ", exit status {code}", code = code)
    }

    /// `and 3 earlier`.
    pub(crate) fn and_earlier(self, n: usize) -> String {
        trn_in!(self, "and {n} earlier", "and {n} earlier", n as u64)
    }
}
