//! The alert in its reader's language: the subject words (`succeeded` / `réussi` /
//! `成功`), the labels (`Host` / `Serveur` / `ホスト`), the status and duration words
//! and the date (`dim. 21 déc. 2025 16:03`, `2025年12月21日(日) 16:03`). English is the
//! source and the default; French and Japanese are the languages of the people this
//! tool comes from.
//!
//! The language is the `language` setting (also per `[host:NAME]`), or `--language`,
//! else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`), else English: one alert's, not
//! the process's, so the words come from rsmtp's gettext catalogs (`po/fr.po`,
//! `po/ja.po`) through [`rsmtp_core::tr_in!`] with this language, and the English at
//! the call site is the msgid. A label this file does not list stays in English, so a
//! new fact never breaks an alert.
//!
//! French typography puts a space before `:` (`Serveur : db01`): the plain body already
//! writes `Label : value`, and the subjects here do the same.
//!
//! The detail lines of `run` and `check` alerts are in [`details`], the words of
//! `report`'s digest in [`report`].

pub(crate) mod details;
pub(crate) mod report;

use std::time::Duration;

use chrono::{DateTime, Datelike, Local};
use rsmtp_core::{tr, tr_in, tr_noop, trn_in};

use crate::model::{History, Status};

/// A language an alert can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Language {
    #[default]
    English,
    French,
    Japanese,
}

impl Language {
    /// Every language, for messages listing them.
    pub(crate) const ALL: [Language; 3] = [Language::English, Language::French, Language::Japanese];

    /// `en`, `fr`, `ja`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::French => "fr",
            Language::Japanese => "ja",
        }
    }

    /// `fr`, `fr_FR.UTF-8`, `French`, `français`, `ja_JP`, `日本語`, `C` (English)…
    pub(crate) fn parse(name: &str) -> Option<Language> {
        let name = name.trim();
        let base = name.split(['.', '@']).next().unwrap_or(name);
        let language = base.split(['_', '-']).next().unwrap_or(base).to_lowercase();
        match language.as_str() {
            "en" | "english" | "c" | "posix" => Some(Language::English),
            "fr" | "french" | "français" | "francais" => Some(Language::French),
            "ja" | "japanese" | "日本語" => Some(Language::Japanese),
            _ => None,
        }
    }

    /// A `language` setting or `--language` value; the error lists the languages.
    pub(crate) fn parse_setting(value: &str) -> Result<Language, String> {
        Language::parse(value).ok_or_else(|| {
            let known: Vec<&str> = Language::ALL.iter().map(|l| l.code()).collect();
            tr!(
                "unknown language `{value}` (known: {known})",
                value = value,
                known = known.join(", ")
            )
        })
    }

    /// The language of the locale (`LC_ALL`, else `LC_MESSAGES`, else `LANG`), English
    /// when unset or not one of ours.
    pub(crate) fn from_env() -> Language {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .and_then(|v| Language::parse(&v))
            .unwrap_or_default()
    }

    /// The date of the alert: `Sun, 2025-12-21 16:03:03 +0100`, `dim. 21 déc. 2025
    /// 16:03`, `2025年12月21日(日) 16:03`. The French and Japanese names are glibc's
    /// fr_FR and ja_JP abbreviations, written here rather than taken from chrono's
    /// `unstable-locales`, which compiles every locale's names into every binary of
    /// the build (rsmtp's too, where the loader relocates them on each start).
    pub(crate) fn date(self, date: DateTime<Local>) -> String {
        const FR_DAYS: [&str; 7] = ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."];
        const FR_MONTHS: [&str; 12] = [
            "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
            "nov.", "déc.",
        ];
        const JA_DAYS: [&str; 7] = ["日", "月", "火", "水", "木", "金", "土"];
        let day = date.weekday().num_days_from_sunday() as usize;
        match self {
            Language::English => date.format("%a, %Y-%m-%d %H:%M:%S %z").to_string(),
            Language::French => format!(
                "{} {} {} {}",
                FR_DAYS[day],
                date.day(),
                FR_MONTHS[date.month0() as usize],
                date.format("%Y %H:%M")
            ),
            Language::Japanese => format!(
                "{}({}) {}",
                date.format("%Y年%-m月%-d日"),
                JA_DAYS[day],
                date.format("%H:%M")
            ),
        }
    }

    /// A fact's label (`Host`, `Exit status`, …) in this language; one not in
    /// [`LABELS`] as given.
    pub(crate) fn label(self, english: &str) -> String {
        self.marked(LABELS, english).to_string()
    }

    /// `english` in this language when it is one of `marked` (msgids marked with
    /// `tr_noop!`) and the catalog has it; as given otherwise.
    pub(crate) fn marked<'a>(self, marked: &[&str], english: &'a str) -> &'a str {
        marked
            .contains(&english)
            .then(|| rsmtp_core::i18n::lookup(self.code(), english))
            .flatten()
            .unwrap_or(english)
    }

    /// The status as a word: `failure` / `échec` / `失敗`.
    pub(crate) fn status(self, status: Status) -> String {
        match status {
            Status::Success => tr_in!(self, "success"),
            Status::Failure => tr_in!(self, "failure"),
            Status::Warning => tr_in!(self, "warning"),
            Status::Rotation => tr_in!(self, "rotation"),
            Status::Restore => tr_in!(self, "restore"),
            Status::Info => tr_in!(self, "info"),
        }
        .into_owned()
    }

    /// `db-backup succeeded` / `db-backup réussi` / `db-backup 成功`.
    pub(crate) fn succeeded(self, name: &str) -> String {
        tr_in!(self, "{name} succeeded", name = name)
    }

    /// `db-backup FAILED: exit status 2` / `db-backup ÉCHEC : code de sortie 2` /
    /// `db-backup 失敗: 終了ステータス 2`. `exit_status` is the exit status when the
    /// command exited by itself; other outcomes (`killed by signal 9 (KILL)`) as given.
    pub(crate) fn failed(self, name: &str, outcome: &str, exit_status: Option<i32>) -> String {
        let outcome = match exit_status {
            Some(c) => tr_in!(self, "exit status {code}", code = c),
            None => outcome.to_string(),
        };
        tr_in!(
            self,
            "{name} FAILED: {outcome}",
            name = name,
            outcome = outcome
        )
    }

    /// `borg WARNING: exit status 1` / `borg AVERTISSEMENT : code de sortie 1` /
    /// `borg 警告: 終了ステータス 1`: the tool's warning status (see `diagnosis::exit_codes`).
    pub(crate) fn warned(self, name: &str, exit_status: i32) -> String {
        tr_in!(
            self,
            "{name} WARNING: exit status {code}",
            name = name,
            code = exit_status
        )
    }

    /// A `check` subject: `Backup too old: db` / `Sauvegarde trop ancienne : db` /
    /// `バックアップが古すぎます: db`; a phrase not in [`CHECK_SUBJECTS`] in English.
    pub(crate) fn check_subject(self, english: &str, name: &str) -> String {
        let what = self.marked(CHECK_SUBJECTS, english);
        tr_in!(self, "{what}: {name}", what = what, name = name)
    }

    /// The subject of the first success after a problem.
    pub(crate) fn recovered(self, subject: &str) -> String {
        tr_in!(self, "Recovered: {subject}", subject = subject)
    }

    /// The note of the first success after a problem: `Recovered: nightly had 3 bad runs
    /// since 2026-12-01 02:00; the previous result was failure.`
    pub(crate) fn recovery_note(
        self,
        name: &str,
        streak: usize,
        since: Option<DateTime<Local>>,
        previous: Status,
    ) -> String {
        let prev = self.status(previous);
        if streak == 0 {
            return tr_in!(
                self,
                "Recovered: the previous result for {name} was {previous}.",
                name = name,
                previous = prev
            );
        }
        let n = streak as u64;
        match since.map(|t| t.format("%Y-%m-%d %H:%M").to_string()) {
            Some(since) => trn_in!(
                self,
                "Recovered: {name} had {n} bad run since {since}; the previous result was {previous}.",
                "Recovered: {name} had {n} bad runs since {since}; the previous result was {previous}.",
                n,
                name = name,
                since = since,
                previous = prev
            ),
            None => trn_in!(
                self,
                "Recovered: {name} had {n} bad run; the previous result was {previous}.",
                "Recovered: {name} had {n} bad runs; the previous result was {previous}.",
                n,
                name = name,
                previous = prev
            ),
        }
    }

    /// A duration in words (`2 minutes 5 seconds`, `under 0.1 seconds`): `2 minutes 5
    /// secondes`, `2分5秒`.
    pub(crate) fn duration(self, d: Duration) -> String {
        crate::units::duration_words_in(self.code(), d)
    }

    /// How a command that exited ended (the `Result` fact): `exited with status 3
    /// (failure)`, `terminé avec le code 3 (échec)`, `終了ステータス 3 で終了（失敗）`.
    pub(crate) fn exited_with(self, code: i32, status: Status) -> String {
        tr_in!(
            self,
            "exited with status {code} ({status})",
            code = code,
            status = self.status(status)
        )
    }

    /// The history strip: `✅❌ (2 runs, oldest first)`.
    pub(crate) fn runs(self, strip: &str, n: usize) -> String {
        trn_in!(
            self,
            "{strip} ({n} run, oldest first)",
            "{strip} ({n} runs, oldest first)",
            n as u64,
            strip = strip
        )
    }

    /// When the job last succeeded: `this run` / `cette exécution` / `今回`, or how long
    /// ago with the local date.
    pub(crate) fn last_good(self, history: &History, now: DateTime<Local>) -> String {
        if history.runs.last() == Some(&Status::Success) {
            return tr_in!(self, "this run").into_owned();
        }
        match history.last_success {
            None => tr_in!(self, "none recorded").into_owned(),
            Some(t) => self.ago(
                (now - t).to_std().unwrap_or_default(),
                &t.format("%Y-%m-%d %H:%M").to_string(),
            ),
        }
    }

    /// `3 days ago (2026-12-01 02:00)` / `il y a 3 jours (…)` / `3日前（…）`.
    pub(crate) fn ago(self, ago: Duration, when: &str) -> String {
        tr_in!(
            self,
            "{duration} ago ({when})",
            duration = self.duration(ago),
            when = when
        )
    }
}

impl AsRef<str> for Language {
    /// The catalog's language code: `en`, `fr`, `ja`.
    fn as_ref(&self) -> &str {
        self.code()
    }
}

/// The fact labels an alert, a digest or `stats` shows, marked for the catalogs; each is
/// looked up in the reader's language when the alert is written.
pub(crate) const LABELS: &[&str] = &[
    tr_noop!("Host"),
    tr_noop!("Date"),
    tr_noop!("Status"),
    tr_noop!("Last runs"),
    tr_noop!("Last good backup"),
    tr_noop!("Name"),
    tr_noop!("Command"),
    tr_noop!("Result"),
    tr_noop!("Exit status"),
    tr_noop!("Signal"),
    tr_noop!("Started"),
    tr_noop!("Duration"),
    tr_noop!("Interrupted"),
    tr_noop!("Meaning"),
    tr_noop!("Age"),
    tr_noop!("Period"),
    tr_noop!("Server"),
    tr_noop!("Totals"),
    tr_noop!("Mail log"),
    tr_noop!("Runs"),
    tr_noop!("Results"),
    tr_noop!("Problems"),
    tr_noop!("Last good"),
    tr_noop!("Files in backup"),
    tr_noop!("Previous backup"),
    tr_noop!("Integrity"),
    tr_noop!("Checksum"),
    tr_noop!("Repository check"),
    tr_noop!("Job"),
    tr_noop!("Last success"),
    tr_noop!("Last run"),
    tr_noop!("What to do"),
    tr_noop!("Log"),
    tr_noop!("Log unreadable"),
    tr_noop!("Backup"),
    tr_noop!("Repository"),
    tr_noop!("Path"),
    tr_noop!("Files"),
    tr_noop!("Maximum age"),
    tr_noop!("Minimum size"),
    tr_noop!("Newest archive"),
    tr_noop!("Created"),
    tr_noop!("Size"),
    tr_noop!("Newest file"),
    tr_noop!("Modified"),
    tr_noop!("Account"),
    tr_noop!("Configuration"),
    tr_noop!("Error"),
    tr_noop!("Problem"),
    tr_noop!("Summary"),
    tr_noop!("(empty)"),
];

/// The phrases of `check`'s subjects, marked for the catalogs.
pub(crate) const CHECK_SUBJECTS: &[&str] = &[
    tr_noop!("Backup fresh"),
    tr_noop!("Backup repository damaged"),
    tr_noop!("Backup corrupt"),
    tr_noop!("Backup too old"),
    tr_noop!("Backup too small"),
    tr_noop!("Too few backup files"),
    tr_noop!("Backup dated in the future"),
    tr_noop!("Backup not verified"),
    tr_noop!("Backup files not counted"),
    tr_noop!("Backup holds fewer files"),
    tr_noop!("No backup found"),
    tr_noop!("Backup repository unreadable"),
];

/// Columns `s` takes in a monospace font: East Asian wide and full-width characters
/// (kana, kanji, hangul, full-width forms) take two.
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let wide = matches!(u32::from(c),
                0x1100..=0x115F
                | 0x2E80..=0x303E
                | 0x3041..=0x33FF
                | 0x3400..=0x4DBF
                | 0x4E00..=0x9FFF
                | 0xA000..=0xA4CF
                | 0xAC00..=0xD7A3
                | 0xF900..=0xFAFF
                | 0xFE30..=0xFE4F
                | 0xFF00..=0xFF60
                | 0xFFE0..=0xFFE6
                | 0x20000..=0x3FFFD);
            if wide {
                2
            } else {
                1
            }
        })
        .sum()
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sunday() -> DateTime<Local> {
        Local
            .with_ymd_and_hms(2025, 12, 21, 16, 3, 3)
            .single()
            .expect("a local time")
    }

    #[test]
    fn names_and_locales_are_understood() {
        assert_eq!(Language::parse("fr_FR.UTF-8"), Some(Language::French));
        assert_eq!(Language::parse("Français"), Some(Language::French));
        assert_eq!(Language::parse("ja_JP.eucJP"), Some(Language::Japanese));
        assert_eq!(Language::parse("日本語"), Some(Language::Japanese));
        assert_eq!(Language::parse("C.UTF-8"), Some(Language::English));
        assert_eq!(Language::parse("en-GB"), Some(Language::English));
        assert_eq!(Language::parse("de_DE"), None);
        assert_eq!(Language::parse(""), None);
    }

    #[test]
    fn dates_in_the_locale() {
        assert_eq!(Language::French.date(sunday()), "dim. 21 déc. 2025 16:03");
        assert_eq!(
            Language::Japanese.date(sunday()),
            "2025年12月21日(日) 16:03"
        );
        assert!(Language::English
            .date(sunday())
            .starts_with("Sun, 2025-12-21 16:03:03 "));
    }

    #[test]
    fn durations_in_words() {
        let d = Duration::from_secs(125);
        assert_eq!(Language::English.duration(d), "2 minutes 5 seconds");
        assert_eq!(Language::French.duration(d), "2 minutes 5 secondes");
        assert_eq!(Language::Japanese.duration(d), "2分5秒");
        let h = Duration::from_secs(3600 + 60);
        assert_eq!(Language::French.duration(h), "1 heure 1 minute");
        assert_eq!(Language::Japanese.duration(h), "1時間1分");
        let tiny = Duration::from_millis(10);
        assert_eq!(Language::French.duration(tiny), "moins de 0.1 secondes");
        assert_eq!(Language::Japanese.duration(tiny), "0.1秒未満");
    }

    #[test]
    fn subjects_and_labels() {
        assert_eq!(Language::French.succeeded("borg"), "borg réussi");
        assert_eq!(
            Language::French.failed("borg", "exit status 2", Some(2)),
            "borg ÉCHEC : code de sortie 2"
        );
        assert_eq!(
            Language::Japanese.failed("borg", "killed by signal 9 (KILL)", None),
            "borg 失敗: killed by signal 9 (KILL)"
        );
        assert_eq!(Language::Japanese.recovered("x"), "復旧: x");
        assert_eq!(
            Language::French.check_subject("Backup too old", "db"),
            "Sauvegarde trop ancienne : db"
        );
        assert_eq!(
            Language::English.check_subject("Backup too old", "db"),
            "Backup too old: db"
        );
        assert_eq!(Language::French.label("Host"), "Serveur");
        assert_eq!(Language::Japanese.label("Host"), "ホスト");
        assert_eq!(Language::French.label("Something new"), "Something new");
        assert_eq!(Language::English.label("Host"), "Host");
        assert_eq!(Language::Japanese.status(Status::Failure), "失敗");
    }

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(display_width("Host"), 4);
        assert_eq!(display_width("ホスト"), 6);
        assert_eq!(display_width("日時"), 4);
        assert_eq!(display_width("Durée"), 5);
        assert_eq!(display_width("（空）"), 6);
    }

    #[test]
    fn recovery_notes() {
        let since = Some(sunday());
        assert_eq!(
            Language::English.recovery_note("borg", 2, since, Status::Failure),
            "Recovered: borg had 2 bad runs since 2025-12-21 16:03; the previous result was failure."
        );
        assert_eq!(
            Language::French.recovery_note("borg", 1, None, Status::Warning),
            "Rétabli : borg a connu 1 exécution en échec ; le résultat précédent était : avertissement."
        );
        assert_eq!(
            Language::Japanese.recovery_note("borg", 0, None, Status::Failure),
            "復旧: borg の前回の結果は「失敗」でした。"
        );
    }
}
