//! The words of `report`'s digest in the reader's language (the alerts' are in
//! [`crate::lang`] and [`crate::lang::details`]): counts with their nouns, the period, the
//! mail log's line, the job lines. English is the source.

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
        let s = if n > 1 { "s" } else { "" };
        match self {
            Language::English => {
                let word = match noun {
                    Noun::Job => "job",
                    Noun::Run => "run",
                    Noun::Failure => "failure",
                    Noun::Warning => "warning",
                    Noun::Day => "day",
                    Noun::Hour => "hour",
                };
                crate::units::plural(n, word)
            }
            Language::French => {
                let word = match noun {
                    Noun::Job => "tâche",
                    Noun::Run => "exécution",
                    Noun::Failure => "échec",
                    Noun::Warning => "avertissement",
                    Noun::Day => "jour",
                    Noun::Hour => "heure",
                };
                format!("{n} {word}{s}")
            }
            Language::Japanese => match noun {
                Noun::Job => format!("ジョブ {n} 件"),
                Noun::Run => format!("実行 {n} 回"),
                Noun::Failure => format!("失敗 {n} 件"),
                Noun::Warning => format!("警告 {n} 件"),
                Noun::Day => format!("{n} 日"),
                Noun::Hour => format!("{n} 時間"),
            },
        }
    }

    /// `Backup report` / `Rapport de sauvegarde` / `バックアップレポート`.
    pub(crate) fn backup_report(self) -> &'static str {
        match self {
            Language::English => "Backup report",
            Language::French => "Rapport de sauvegarde",
            Language::Japanese => "バックアップレポート",
        }
    }

    /// `Backup report for db01`.
    pub(crate) fn report_for(self, host: &str) -> String {
        match self {
            Language::English => format!("Backup report for {host}"),
            Language::French => format!("Rapport de sauvegarde de {host}"),
            Language::Japanese => format!("{host} のバックアップレポート"),
        }
    }

    /// `last 7 days`, `les 36 dernières heures`, `過去 7 日` (`noun`: Day or Hour).
    pub(crate) fn last_period(self, n: u64, noun: Noun) -> String {
        match (self, noun) {
            (Language::French, Noun::Hour) if n > 1 => format!("les {n} dernières heures"),
            (Language::French, Noun::Hour) => "la dernière heure".to_string(),
            (Language::French, _) if n > 1 => format!("les {n} derniers jours"),
            (Language::French, _) => "le dernier jour".to_string(),
            (Language::Japanese, _) => format!("過去 {}", self.count(n, noun)),
            (Language::English, _) => format!("last {}", self.count(n, noun)),
        }
    }

    /// `since 2026-11-20 08:00`.
    pub(crate) fn since_time(self, at: &str) -> String {
        match self {
            Language::English => format!("since {at}"),
            Language::French => format!("depuis le {at}"),
            Language::Japanese => format!("{at} 以降"),
        }
    }

    /// `2026-11-20 08:00 to 2026-11-27 08:00 (last 7 days)`.
    pub(crate) fn span(self, from: &str, to: &str, name: &str) -> String {
        match self {
            Language::English => format!("{from} to {to} ({name})"),
            Language::French => format!("du {from} au {to} ({name})"),
            Language::Japanese => format!("{from} 〜 {to}（{name}）"),
        }
    }

    /// `/var/log/msmtp.log: 30 sent, 1 queued, 0 failed`.
    pub(crate) fn mail_counts(self, path: &str, sent: u64, queued: u64, failed: u64) -> String {
        match self {
            Language::English => {
                format!("{path}: {sent} sent, {queued} queued, {failed} failed")
            }
            Language::French => {
                format!("{path} : {sent} envoyé(s), {queued} en file d'attente, {failed} en échec")
            }
            Language::Japanese => {
                format!("{path}: 送信 {sent}、キュー {queued}、失敗 {failed}")
            }
        }
    }

    /// `/var/log/msmtp.log: not counted (reason)`.
    pub(crate) fn mail_not_counted(self, path: &str, reason: &str) -> String {
        match self {
            Language::English => format!("{path}: not counted ({reason})"),
            Language::French => format!("{path} : non compté ({reason})"),
            Language::Japanese => format!("{path}: 集計なし（{reason}）"),
        }
    }

    /// A phrase of the digest's job lines; an unknown one stays in English.
    pub(crate) fn digest_phrase(self, english: &'static str) -> &'static str {
        let (fr, ja) = match english {
            "none in this period" => ("aucune sur la période", "この期間はなし"),
            "oldest first" => ("de la plus ancienne à la plus récente", "古い順"),
            "none recorded" => ("aucune enregistrée", "記録なし"),
            "No job reported through backup-alert yet." => (
                "Aucune tâche n'a encore rendu compte par backup-alert.",
                "backup-alert で報告したジョブはまだありません。",
            ),
            _ => return english,
        };
        match self {
            Language::English => english,
            Language::French => fr,
            Language::Japanese => ja,
        }
    }

    /// `last 20 of 31, oldest first`.
    pub(crate) fn last_of(self, drawn: usize, total: usize) -> String {
        match self {
            Language::English => format!("last {drawn} of {total}, oldest first"),
            Language::French => {
                format!("les {drawn} dernières sur {total}, de la plus ancienne à la plus récente")
            }
            Language::Japanese => format!("{total} 回中最後の {drawn} 回、古い順"),
        }
    }

    /// `4m 05s to 12m 00s, median 5m 00s`.
    pub(crate) fn range_median(self, min: &str, max: &str, median: &str) -> String {
        match self {
            Language::English => format!("{min} to {max}, median {median}"),
            Language::French => format!("de {min} à {max}, médiane {median}"),
            Language::Japanese => format!("{min}〜{max}、中央値 {median}"),
        }
    }

    /// `last 3.0 MiB, 2.9 MiB to 3.1 MiB`.
    pub(crate) fn range_last(self, last: &str, min: &str, max: &str) -> String {
        match self {
            Language::English => format!("last {last}, {min} to {max}"),
            Language::French => format!("dernière {last}, de {min} à {max}"),
            Language::Japanese => format!("最新 {last}、{min}〜{max}"),
        }
    }

    /// `, exit status 2` after a problem's time and status.
    pub(crate) fn exit_status_suffix(self, code: i32) -> String {
        match self {
            Language::English => format!(", exit status {code}"),
            Language::French => format!(", code de sortie {code}"),
            Language::Japanese => format!("、終了ステータス {code}"),
        }
    }

    /// `and 3 earlier`.
    pub(crate) fn and_earlier(self, n: usize) -> String {
        match self {
            Language::English => format!("and {n} earlier"),
            Language::French => format!("et {n} plus ancien(s)"),
            Language::Japanese => format!("ほか {n} 件"),
        }
    }
}
