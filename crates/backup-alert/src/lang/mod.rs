//! The alert in its reader's language: the subject words (`succeeded` / `réussi` /
//! `成功`), the labels (`Host` / `Serveur` / `ホスト`), the status and duration words
//! and the date (`dim. 21 déc. 2025 16:03`, `2025年12月21日(日) 16:03`). English is the
//! source and the default; French and Japanese are the languages of the people this
//! tool comes from.
//!
//! The language is the `language` setting (also per `[host:NAME]`), or `--language`,
//! else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`), else English. A label, status
//! word or unit this file does not know stays in English, so a new fact never breaks
//! an alert; adding a language is one more arm in each table below.
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
            format!("unknown language `{value}` (known: {})", known.join(", "))
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

    /// A fact's label (`Host`, `Exit status`, …) in this language; an unknown one as given.
    pub(crate) fn label(self, english: &str) -> String {
        let (fr, ja) = match english {
            "Host" => ("Serveur", "ホスト"),
            "Date" => ("Date", "日時"),
            "Status" => ("Statut", "ステータス"),
            "Last runs" => ("Dernières exécutions", "最近の実行"),
            "Last good backup" => ("Dernière sauvegarde réussie", "最後の正常なバックアップ"),
            "Name" => ("Nom", "名前"),
            "Command" => ("Commande", "コマンド"),
            "Result" => ("Résultat", "結果"),
            "Exit status" => ("Code de sortie", "終了ステータス"),
            "Signal" => ("Signal", "シグナル"),
            "Started" => ("Début", "開始"),
            "Duration" => ("Durée", "所要時間"),
            "Interrupted" => ("Interrompu", "中断"),
            "Meaning" => ("Signification", "意味"),
            "Age" => ("Âge", "経過時間"),
            "Period" => ("Période", "期間"),
            "Server" => ("Serveur SMTP", "SMTP サーバー"),
            "Totals" => ("Totaux", "合計"),
            "Mail log" => ("Journal des mails", "メールログ"),
            "Runs" => ("Exécutions", "実行"),
            "Results" => ("Résultats", "結果一覧"),
            "Problems" => ("Problèmes", "問題"),
            "Last good" => ("Dernière réussite", "最後の成功"),
            "Files in backup" => ("Fichiers dans la sauvegarde", "バックアップ内のファイル"),
            "Previous backup" => ("Sauvegarde précédente", "前回のバックアップ"),
            "Integrity" => ("Intégrité", "整合性"),
            "Checksum" => ("Somme de contrôle", "チェックサム"),
            "Repository check" => ("Vérification du dépôt", "リポジトリの検査"),
            "Job" => ("Tâche", "ジョブ"),
            "Last success" => ("Dernier succès", "最後の成功"),
            "Last run" => ("Dernière exécution", "最後の実行"),
            "What to do" => ("À faire", "対処"),
            "Log" => ("Logs", "ログ"),
            "Log unreadable" => ("Logs illisibles", "ログを読めません"),
            "Backup" => ("Sauvegarde", "バックアップ"),
            "Repository" => ("Dépôt", "リポジトリ"),
            "Path" => ("Chemin", "パス"),
            "Files" => ("Fichiers", "ファイル"),
            "Maximum age" => ("Âge maximal", "最大経過時間"),
            "Minimum size" => ("Taille minimale", "最小サイズ"),
            "Newest archive" => ("Archive la plus récente", "最新のアーカイブ"),
            "Created" => ("Créée", "作成日時"),
            "Size" => ("Taille", "サイズ"),
            "Newest file" => ("Fichier le plus récent", "最新のファイル"),
            "Modified" => ("Modifié", "更新日時"),
            "Account" => ("Compte", "アカウント"),
            "Configuration" => ("Configuration", "設定"),
            "Error" => ("Erreur", "エラー"),
            "Problem" => ("Problème", "問題"),
            "Summary" => ("Résumé", "概要"),
            "(empty)" => ("(vide)", "（空）"),
            _ => return english.to_string(),
        };
        self.pick(english, fr, ja).to_string()
    }

    fn pick<'a>(self, en: &'a str, fr: &'a str, ja: &'a str) -> &'a str {
        match self {
            Language::English => en,
            Language::French => fr,
            Language::Japanese => ja,
        }
    }

    /// The status as a word: `failure` / `échec` / `失敗`.
    pub(crate) fn status(self, status: Status) -> &'static str {
        let (en, fr, ja) = match status {
            Status::Success => ("success", "réussite", "成功"),
            Status::Failure => ("failure", "échec", "失敗"),
            Status::Warning => ("warning", "avertissement", "警告"),
            Status::Rotation => ("rotation", "rotation", "ローテーション"),
            Status::Restore => ("restore", "restauration", "復元"),
            Status::Info => ("info", "information", "情報"),
        };
        self.pick(en, fr, ja)
    }

    /// `db-backup succeeded` / `db-backup réussi` / `db-backup 成功`.
    pub(crate) fn succeeded(self, name: &str) -> String {
        match self {
            Language::English => format!("{name} succeeded"),
            Language::French => format!("{name} réussi"),
            Language::Japanese => format!("{name} 成功"),
        }
    }

    /// `db-backup FAILED: exit status 2` / `db-backup ÉCHEC : code de sortie 2` /
    /// `db-backup 失敗: 終了ステータス 2`. `exit_status` is the exit status when the
    /// command exited by itself; other outcomes (`killed by signal 9 (KILL)`) stay as given.
    pub(crate) fn failed(self, name: &str, outcome: &str, exit_status: Option<i32>) -> String {
        let outcome = match exit_status {
            Some(c) => match self {
                Language::English => format!("exit status {c}"),
                Language::French => format!("code de sortie {c}"),
                Language::Japanese => format!("終了ステータス {c}"),
            },
            None => outcome.to_string(),
        };
        match self {
            Language::English => format!("{name} FAILED: {outcome}"),
            Language::French => format!("{name} ÉCHEC : {outcome}"),
            Language::Japanese => format!("{name} 失敗: {outcome}"),
        }
    }

    /// `borg WARNING: exit status 1` / `borg AVERTISSEMENT : code de sortie 1` /
    /// `borg 警告: 終了ステータス 1`: the tool's warning status (see `diagnosis::exit_codes`).
    pub(crate) fn warned(self, name: &str, exit_status: i32) -> String {
        match self {
            Language::English => format!("{name} WARNING: exit status {exit_status}"),
            Language::French => format!("{name} AVERTISSEMENT : code de sortie {exit_status}"),
            Language::Japanese => format!("{name} 警告: 終了ステータス {exit_status}"),
        }
    }

    /// A `check` subject: `Backup too old: db` / `Sauvegarde trop ancienne : db` /
    /// `バックアップが古すぎます: db`; an unknown phrase in English.
    pub(crate) fn check_subject(self, english: &str, name: &str) -> String {
        let (fr, ja) = match english {
            "Backup fresh" => ("Sauvegarde à jour", "バックアップは最新です"),
            "Backup repository damaged" => (
                "Dépôt de sauvegarde endommagé",
                "バックアップリポジトリが破損しています",
            ),
            "Backup corrupt" => ("Sauvegarde corrompue", "バックアップが破損しています"),
            "Backup too old" => ("Sauvegarde trop ancienne", "バックアップが古すぎます"),
            "Backup too small" => ("Sauvegarde trop petite", "バックアップが小さすぎます"),
            "Too few backup files" => (
                "Trop peu de fichiers de sauvegarde",
                "バックアップファイルが少なすぎます",
            ),
            "Backup dated in the future" => (
                "Sauvegarde datée dans le futur",
                "バックアップの日付が未来です",
            ),
            "Backup not verified" => ("Sauvegarde non vérifiée", "バックアップを検証できません"),
            "Backup files not counted" => (
                "Fichiers de sauvegarde non comptés",
                "バックアップのファイルを数えられません",
            ),
            "Backup holds fewer files" => (
                "La sauvegarde contient moins de fichiers",
                "バックアップのファイルが減っています",
            ),
            "No backup found" => ("Aucune sauvegarde trouvée", "バックアップが見つかりません"),
            "Backup repository unreadable" => (
                "Dépôt de sauvegarde illisible",
                "バックアップリポジトリを読めません",
            ),
            _ => (english, english),
        };
        match self {
            Language::English => format!("{english}: {name}"),
            Language::French => format!("{fr} : {name}"),
            Language::Japanese => format!("{ja}: {name}"),
        }
    }

    /// The subject of the first success after a problem.
    pub(crate) fn recovered(self, subject: &str) -> String {
        match self {
            Language::English => format!("Recovered: {subject}"),
            Language::French => format!("Rétabli : {subject}"),
            Language::Japanese => format!("復旧: {subject}"),
        }
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
        let since = since.map(|t| t.format("%Y-%m-%d %H:%M").to_string());
        match (self, streak) {
            (Language::English, 0) => {
                format!("Recovered: the previous result for {name} was {prev}.")
            }
            (Language::English, n) => format!(
                "Recovered: {name} had {}{}; the previous result was {prev}.",
                crate::units::plural(n as u64, "bad run"),
                since.map(|s| format!(" since {s}")).unwrap_or_default()
            ),
            (Language::French, 0) => {
                format!("Rétabli : le résultat précédent de {name} était : {prev}.")
            }
            (Language::French, n) => format!(
                "Rétabli : {name} a connu {n} exécution{} en échec{} ; le résultat précédent \
                 était : {prev}.",
                if n > 1 { "s" } else { "" },
                since.map(|s| format!(" depuis le {s}")).unwrap_or_default()
            ),
            (Language::Japanese, 0) => format!("復旧: {name} の前回の結果は「{prev}」でした。"),
            (Language::Japanese, n) => format!(
                "復旧: {name} は{}{n} 回失敗していました。前回の結果は「{prev}」でした。",
                since.map(|s| format!("{s} から")).unwrap_or_default()
            ),
        }
    }

    /// A duration in words, as `units::format_duration_words` writes it in English
    /// (`2 minutes 5 seconds`, `under 0.1 seconds`): `2 minutes 5 secondes`, `2分5秒`.
    pub(crate) fn duration(self, d: Duration) -> String {
        self.duration_words(&crate::units::format_duration_words(d))
    }

    /// [`Language::duration`] of an English text already written.
    pub(crate) fn duration_words(self, english: &str) -> String {
        if self == Language::English {
            return english.to_string();
        }
        let mut out = String::new();
        for word in english.split(' ') {
            let unit = |fr: &'static str, ja: &'static str| Some(self.pick("", fr, ja));
            let translated = match word {
                "under" => Some(self.pick("", "moins de", "")),
                "second" | "seconds" => unit(
                    if word == "second" {
                        "seconde"
                    } else {
                        "secondes"
                    },
                    "秒",
                ),
                "minute" | "minutes" => unit(
                    if word == "minute" {
                        "minute"
                    } else {
                        "minutes"
                    },
                    "分",
                ),
                "hour" | "hours" => unit(if word == "hour" { "heure" } else { "heures" }, "時間"),
                "day" | "days" => unit(if word == "day" { "jour" } else { "jours" }, "日"),
                _ => None,
            };
            let piece = translated.unwrap_or(word);
            // Japanese writes number and unit together (2分5秒), and "under" as 未満 after.
            if self == Language::Japanese {
                out.push_str(piece);
            } else if !piece.is_empty() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(piece);
            }
        }
        if self == Language::Japanese && english.starts_with("under ") {
            out.push_str("未満");
        }
        out
    }
}

impl Language {
    /// `exited with status 3 (failure)` (the `Result` fact) in this language; other
    /// results (signals, time-outs) as given.
    pub(crate) fn result_words(self, english: &str) -> String {
        let parsed = english
            .strip_prefix("exited with status ")
            .and_then(|rest| rest.split_once(' '))
            .and_then(|(code, how)| Some((code.parse::<i32>().ok()?, how)));
        let Some((code, how)) = parsed else {
            return english.to_string();
        };
        let (fr, ja) = match how {
            "(success)" => ("succès", "成功"),
            "(warning)" => ("avertissement", "警告"),
            _ => ("échec", "失敗"),
        };
        match self {
            Language::English => english.to_string(),
            Language::French => format!("terminé avec le code {code} ({fr})"),
            Language::Japanese => format!("終了ステータス {code} で終了（{ja}）"),
        }
    }

    /// The history strip: `✅❌ (2 runs, oldest first)`.
    pub(crate) fn runs(self, strip: &str, n: usize) -> String {
        match self {
            Language::English => format!(
                "{strip} ({}, oldest first)",
                crate::units::plural(n as u64, "run")
            ),
            Language::French => format!(
                "{strip} ({n} exécution{}, de la plus ancienne à la plus récente)",
                if n > 1 { "s" } else { "" }
            ),
            Language::Japanese => format!("{strip}（{n} 回、古い順）"),
        }
    }

    /// When the job last succeeded: `this run` / `cette exécution` / `今回`, or how long
    /// ago with the local date.
    pub(crate) fn last_good(self, history: &History, now: DateTime<Local>) -> String {
        if self == Language::English {
            return history.last_good(now);
        }
        if history.runs.last() == Some(&Status::Success) {
            return self.pick("", "cette exécution", "今回").to_string();
        }
        match history.last_success {
            None => self.pick("", "aucune enregistrée", "記録なし").to_string(),
            Some(t) => {
                let ago = self.duration((now - t).to_std().unwrap_or_default());
                let when = t.format("%Y-%m-%d %H:%M");
                match self {
                    Language::Japanese => format!("{ago}前（{when}）"),
                    _ => format!("il y a {ago} ({when})"),
                }
            }
        }
    }
}

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
