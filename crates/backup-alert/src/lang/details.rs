//! The detail lines of `run` and `check` alerts in the reader's language (see
//! [`crate::lang`] for the subjects and labels): the titles of the output tails, the
//! fresh backup's age sentence, a value against its limit (`Age`, `Size`, `Files`), how a
//! command ended (timed out, a signal and what it usually means, not found). The English
//! is the msgid of the catalogs; each line is written in the alert's language where the
//! value is known, never parsed back from English.

use std::time::Duration;

use rsmtp_core::{tr_in, trn_in};

use crate::lang::Language;

impl Language {
    /// `stderr (2 lines)` / `stderr (2 lignes)` / `stderr（2 行）`, or the last lines of a
    /// longer output: `stderr (last 100 lines; earlier output left out)`.
    pub(crate) fn tail_title(self, what: &str, lines: usize, truncated: bool) -> String {
        let n = lines as u64;
        if truncated {
            trn_in!(
                self,
                "{what} (last {n} line; earlier output left out)",
                "{what} (last {n} lines; earlier output left out)",
                n,
                what = what
            )
        } else {
            trn_in!(
                self,
                "{what} ({n} line)",
                "{what} ({n} lines)",
                n,
                what = what
            )
        }
    }

    /// `The newest backup is 3 hours old.`
    pub(crate) fn newest_backup_age(self, age: Duration) -> String {
        tr_in!(
            self,
            "The newest backup is {age} old.",
            age = self.duration(age)
        )
    }

    /// The `Age` fact: `1 day 6 hours (limit 1 day 2 hours: too old)`.
    pub(crate) fn age_against(self, age: Duration, limit: Duration) -> String {
        let (age_, limit_) = (self.duration(age), self.duration(limit));
        if age > limit {
            tr_in!(
                self,
                "{age} (limit {limit}: too old)",
                age = age_,
                limit = limit_
            )
        } else {
            tr_in!(
                self,
                "{age} (limit {limit}: ok)",
                age = age_,
                limit = limit_
            )
        }
    }

    /// The `Size` fact: `100 B (100 bytes) (minimum 1.0 KiB: too small)`, `120 B (120
    /// bytes) (no minimum set)`; `size` and `min` already written (`1.0 KiB`).
    pub(crate) fn size_against(self, size: &str, bytes: u64, min: Option<(&str, bool)>) -> String {
        let size = trn_in!(
            self,
            "{size} ({n} byte)",
            "{size} ({n} bytes)",
            bytes,
            size = size
        );
        match min {
            Some((m, true)) => tr_in!(self, "{size} (minimum {min}: ok)", size = size, min = m),
            Some((m, false)) => tr_in!(
                self,
                "{size} (minimum {min}: too small)",
                size = size,
                min = m
            ),
            None => tr_in!(self, "{size} (no minimum set)", size = size),
        }
    }

    /// The `Files` fact: `12 (minimum 7: ok)`, `3 (minimum 7: too few)`.
    pub(crate) fn files_against(self, count: usize, min: Option<usize>) -> String {
        match min {
            Some(m) if count < m => {
                tr_in!(
                    self,
                    "{count} (minimum {min}: too few)",
                    count = count,
                    min = m
                )
            }
            Some(m) => tr_in!(self, "{count} (minimum {min}: ok)", count = count, min = m),
            None => count.to_string(),
        }
    }

    /// How a command that did not exit by itself ended: timed out, killed by a signal,
    /// not found, not executable (`what` is the operating system's reason).
    pub(crate) fn timed_out(self, after: Option<Duration>) -> String {
        match after {
            Some(t) => tr_in!(
                self,
                "timed out after {duration} (exit status 124)",
                duration = self.duration(t)
            ),
            None => tr_in!(self, "timed out (exit status 124)").into_owned(),
        }
    }

    /// `stopped by signal 9 (SIGKILL)`.
    pub(crate) fn stopped_by_signal(self, sig: i32, name: &str) -> String {
        tr_in!(
            self,
            "stopped by signal {number} (SIG{name})",
            number = sig,
            name = name
        )
    }

    /// `command not found: NAME (exit status 127)`.
    pub(crate) fn not_found(self, what: &str) -> String {
        tr_in!(
            self,
            "command not found: {what} (exit status 127)",
            what = what
        )
    }

    /// `cannot execute: NAME (exit status 126)`.
    pub(crate) fn cannot_execute(self, what: &str) -> String {
        tr_in!(
            self,
            "cannot execute: {what} (exit status 126)",
            what = what
        )
    }

    /// `signal 9 (SIGKILL: killed; often the kernel's out-of-memory killer …)`;
    /// `meaning` is one of the meanings `child::signal_in_words` marks.
    pub(crate) fn signal_meaning(self, sig: i32, name: &str, meaning: &str) -> String {
        let meaning = rsmtp_core::i18n::lookup(self.code(), meaning).unwrap_or(meaning);
        tr_in!(
            self,
            "signal {number} (SIG{name}: {meaning})",
            number = sig,
            name = name,
            meaning = meaning
        )
    }

    /// The subject and message of setup's test alert.
    pub(crate) fn setup_test_alert(self, host: &str) -> (String, String) {
        (
            tr_in!(self, "backup-alert configured").into_owned(),
            tr_in!(
                self,
                "Mail alerts from {host} work.\n\nYou will receive backup results here: \
                 successes, failures and warnings.",
                host = host
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_in_french_and_japanese() {
        let fr = Language::French;
        let day = 86_400;
        assert_eq!(
            fr.age_against(
                Duration::from_secs(day + 6 * 3600),
                Duration::from_secs(day + 2 * 3600)
            ),
            "1 jour 6 heures (limite 1 jour 2 heures : trop ancienne)"
        );
        assert_eq!(
            fr.size_against("100 B", 100, Some(("1.0 KiB", false))),
            "100 B (100 octets) (minimum 1.0 KiB : trop petite)"
        );
        let ja = Language::Japanese;
        assert_eq!(ja.files_against(12, Some(7)), "12（下限 7: 正常）");
        assert_eq!(
            Language::English.files_against(12, Some(7)),
            "12 (minimum 7: ok)"
        );
    }

    #[test]
    fn endings_and_signals() {
        let fr = Language::French;
        assert_eq!(
            fr.timed_out(Some(Duration::from_secs(4 * 3600))),
            "arrêtée au bout de 4 heures (délai dépassé, code de sortie 124)"
        );
        assert_eq!(
            fr.stopped_by_signal(9, "KILL"),
            "arrêtée par le signal 9 (SIGKILL)"
        );
        assert!(Language::Japanese
            .signal_meaning(
                9,
                "KILL",
                "killed; often the kernel's out-of-memory killer or a forced stop"
            )
            .starts_with("シグナル 9（SIGKILL: 強制終了"));
        assert_eq!(fr.tail_title("stderr", 1, false), "stderr (1 ligne)");
        assert_eq!(
            Language::Japanese.tail_title("stderr", 1, false),
            "stderr（1 行）"
        );
    }
}
