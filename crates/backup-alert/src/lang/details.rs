//! The detail lines of `run` and `check` alerts in the reader's language (see
//! [`crate::lang`] for the subjects and labels): the titles of the output tails, the
//! fresh backup's age sentence, a value against its limit (`Age`, `Size`, `Files`), how a
//! command ended (timed out, a signal and what it usually means, not found). English is
//! the source; what this file does not know stays in English.

use crate::lang::Language;

impl Language {
    fn choose<'a>(self, en: &'a str, fr: &'a str, ja: &'a str) -> &'a str {
        match self {
            Language::English => en,
            Language::French => fr,
            Language::Japanese => ja,
        }
    }

    /// `stderr (2 lines)` / `stderr (2 lignes)` / `stderr（2 行）`, or the last lines of a
    /// longer output: `stderr (last 100 lines; earlier output left out)`.
    pub(crate) fn tail_title(self, what: &str, lines: usize, truncated: bool) -> String {
        let n = lines;
        match (self, truncated) {
            (Language::English, false) => {
                format!("{what} ({})", crate::units::plural(n as u64, "line"))
            }
            (Language::English, true) => format!(
                "{what} (last {}; earlier output left out)",
                crate::units::plural(n as u64, "line")
            ),
            (Language::French, false) => {
                format!("{what} ({n} ligne{})", if n > 1 { "s" } else { "" })
            }
            (Language::French, true) => format!(
                "{what} ({n} dernière{s} ligne{s} ; le début est omis)",
                s = if n > 1 { "s" } else { "" }
            ),
            (Language::Japanese, false) => format!("{what}（{n} 行）"),
            (Language::Japanese, true) => format!("{what}（最後の {n} 行、それより前は省略）"),
        }
    }

    /// `The newest backup is 3 hours old.` (`age` in English words).
    pub(crate) fn newest_backup_age(self, age: &str) -> String {
        let age = self.duration_words(age);
        match self {
            Language::English => format!("The newest backup is {age} old."),
            Language::French => format!("La sauvegarde la plus récente date de {age}."),
            Language::Japanese => format!("最新のバックアップは {age} 前のものです。"),
        }
    }

    fn verdict(self, english: &str) -> String {
        let (fr, ja) = match english {
            "ok" => ("ok", "正常"),
            "too old" => ("trop ancienne", "古すぎます"),
            "too small" => ("trop petite", "小さすぎます"),
            "too few" => ("trop peu", "少なすぎます"),
            _ => return english.to_string(),
        };
        self.choose(english, fr, ja).to_string()
    }

    /// A `check` value against its limit, written in English by `check`:
    /// `1 day 6 hours (limit 1 day 2 hours: too old)`, `100 B (100 bytes) (minimum 1.0
    /// KiB: too small)`, `120 B (120 bytes) (no minimum set)`, `12 (minimum 7: ok)`.
    pub(crate) fn limit_words(self, english: &str) -> String {
        if self == Language::English {
            return english.to_string();
        }
        let Some((value, rest)) = english.split_once(" (") else {
            return self.duration_words(english);
        };
        let mut out = self.duration_words(value);
        for part in rest.split(" (") {
            let inner = part.strip_suffix(')').unwrap_or(part);
            let said = if let Some(bytes) = inner.strip_suffix(" bytes") {
                format!("{bytes} {}", self.choose("bytes", "octets", "バイト"))
            } else if inner == "no minimum set" {
                self.choose(inner, "pas de minimum", "下限なし").to_string()
            } else if let Some((limit, verdict)) = inner.rsplit_once(": ") {
                let (word, amount) = if let Some(l) = limit.strip_prefix("limit ") {
                    (
                        self.choose("limit", "limite", "上限"),
                        self.duration_words(l),
                    )
                } else if let Some(m) = limit.strip_prefix("minimum ") {
                    (self.choose("minimum", "minimum", "下限"), m.to_string())
                } else {
                    return english.to_string();
                };
                let colon = self.choose(": ", " : ", ": ");
                format!("{word} {amount}{colon}{}", self.verdict(verdict))
            } else {
                return english.to_string();
            };
            match self {
                Language::Japanese => out.push_str(&format!("（{said}）")),
                _ => out.push_str(&format!(" ({said})")),
            }
        }
        out
    }

    /// How a command ended, beyond an exit status ([`Language::result_words`] does
    /// those): timed out, stopped by a signal, not found, not executable.
    pub(crate) fn ending_words(self, english: &str) -> Option<String> {
        if self == Language::English {
            return None;
        }
        if let Some(rest) = english.strip_prefix("timed out after ") {
            let after = rest.strip_suffix(" (exit status 124)")?;
            let after = self.duration_words(
                &crate::units::parse_duration(after)
                    .map_or_else(|_| after.to_string(), crate::units::format_duration_words),
            );
            return Some(match self {
                Language::French => {
                    format!("arrêtée au bout de {after} (délai dépassé, code de sortie 124)")
                }
                _ => format!("{after}でタイムアウト（終了ステータス 124）"),
            });
        }
        if english == "timed out (exit status 124)" {
            return Some(
                self.choose(
                    "",
                    "délai dépassé (code de sortie 124)",
                    "タイムアウト（終了ステータス 124）",
                )
                .to_string(),
            );
        }
        if let Some(rest) = english.strip_prefix("stopped by signal ") {
            let (n, name) = rest.split_once(' ')?;
            return Some(match self {
                Language::French => format!("arrêtée par le signal {n} {name}"),
                _ => format!("シグナル {n} {name} で停止"),
            });
        }
        if let Some(rest) = english.strip_prefix("command not found: ") {
            let what = rest.strip_suffix(" (exit status 127)")?;
            return Some(match self {
                Language::French => format!("commande introuvable : {what} (code de sortie 127)"),
                _ => format!("コマンドが見つかりません: {what}（終了ステータス 127）"),
            });
        }
        if let Some(rest) = english.strip_prefix("cannot execute: ") {
            let what = rest.strip_suffix(" (exit status 126)")?;
            return Some(match self {
                Language::French => {
                    format!("exécution impossible : {what} (code de sortie 126)")
                }
                _ => format!("実行できません: {what}（終了ステータス 126）"),
            });
        }
        None
    }

    /// `signal 9 (SIGKILL: killed; often the kernel's out-of-memory killer …)` with its
    /// meaning in this language.
    pub(crate) fn signal_words(self, english: &str) -> String {
        if self == Language::English {
            return english.to_string();
        }
        let Some((head, meaning)) = english.strip_suffix(')').and_then(|s| s.split_once(": "))
        else {
            return english.to_string();
        };
        let (fr, ja) = match meaning {
            "hangup: its terminal or session went away" => (
                "raccroché : son terminal ou sa session a disparu",
                "ハングアップ: 端末またはセッションが切れました",
            ),
            "interrupted, as by Ctrl-C" => {
                ("interrompue, comme par Ctrl-C", "Ctrl-C などによる割り込み")
            }
            "quit, as by Ctrl-\\" => ("quittée, comme par Ctrl-\\", "Ctrl-\\ などによる終了"),
            "aborted: the program gave up (assertion or abort())" => (
                "abandon : le programme a renoncé (assertion ou abort())",
                "中止: プログラムが処理をあきらめました（assertion または abort()）",
            ),
            "killed; often the kernel's out-of-memory killer or a forced stop" => (
                "tuée ; souvent par le noyau faute de mémoire, ou un arrêt forcé",
                "強制終了。多くはカーネルのメモリ不足 (OOM) による停止か、強制停止です",
            ),
            "segmentation fault: the program crashed" => (
                "erreur de segmentation : le programme a planté",
                "セグメンテーション違反: プログラムがクラッシュしました",
            ),
            "broken pipe: the reader of its output went away" => (
                "tube cassé : le lecteur de sa sortie a disparu",
                "パイプ切断: 出力の読み手がいなくなりました",
            ),
            "alarm clock: a timer of its own ran out" => (
                "alarme : une de ses minuteries a expiré",
                "アラーム: 自身のタイマーが切れました",
            ),
            "terminated: asked to stop (shutdown, kill, a timeout)" => (
                "terminée : arrêt demandé (extinction, kill, délai dépassé)",
                "終了要求: 停止を求められました（シャットダウン、kill、タイムアウト）",
            ),
            "a user-defined signal nobody handled" => (
                "un signal utilisateur que personne n'a traité",
                "誰も処理しなかったユーザー定義シグナル",
            ),
            "bus error: the program crashed (bad memory access)" => (
                "erreur de bus : le programme a planté (accès mémoire invalide)",
                "バスエラー: プログラムがクラッシュしました（不正なメモリアクセス）",
            ),
            "arithmetic error: the program crashed" => (
                "erreur arithmétique : le programme a planté",
                "算術エラー: プログラムがクラッシュしました",
            ),
            "illegal instruction: the program crashed" => (
                "instruction illégale : le programme a planté",
                "不正な命令: プログラムがクラッシュしました",
            ),
            "an unusual signal" => ("un signal inhabituel", "珍しいシグナル"),
            _ => return english.to_string(),
        };
        let colon = self.choose(": ", " : ", ": ");
        format!("{head}{colon}{})", self.choose(meaning, fr, ja))
    }
}

impl Language {
    /// The subject and message of setup's test alert.
    pub(crate) fn setup_test_alert(self, host: &str) -> (String, String) {
        match self {
            Language::English => (
                "backup-alert configured".into(),
                format!(
                    "Mail alerts from {host} work.\n\nYou will receive backup results here: \
                     successes, failures and warnings."
                ),
            ),
            Language::French => (
                "backup-alert configuré".into(),
                format!(
                    "Les alertes par mail de {host} fonctionnent.\n\nVous recevrez ici les \
                     résultats des sauvegardes : réussites, échecs et avertissements."
                ),
            ),
            Language::Japanese => (
                "backup-alert の設定完了".into(),
                format!(
                    "{host} からのメール通知は正常に動作しています。\n\nバックアップの結果\
                     （成功・失敗・警告）はこのアドレスに届きます。"
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_in_french_and_japanese() {
        let fr = Language::French;
        assert_eq!(
            fr.limit_words("1 day 6 hours (limit 1 day 2 hours: too old)"),
            "1 jour 6 heures (limite 1 jour 2 heures : trop ancienne)"
        );
        assert_eq!(
            fr.limit_words("100 B (100 bytes) (minimum 1.0 KiB: too small)"),
            "100 B (100 octets) (minimum 1.0 KiB : trop petite)"
        );
        let ja = Language::Japanese;
        assert_eq!(ja.limit_words("12 (minimum 7: ok)"), "12（下限 7: 正常）");
        assert_eq!(
            Language::English.limit_words("12 (minimum 7: ok)"),
            "12 (minimum 7: ok)"
        );
    }

    #[test]
    fn endings_and_signals() {
        let fr = Language::French;
        assert_eq!(
            fr.ending_words("timed out after 4h (exit status 124)")
                .as_deref(),
            Some("arrêtée au bout de 4 heures (délai dépassé, code de sortie 124)")
        );
        assert_eq!(
            fr.ending_words("stopped by signal 9 (SIGKILL)").as_deref(),
            Some("arrêtée par le signal 9 (SIGKILL)")
        );
        assert!(Language::Japanese
            .signal_words("signal 9 (SIGKILL: killed; often the kernel's out-of-memory killer or a forced stop)")
            .starts_with("signal 9 (SIGKILL: 強制終了"));
        assert_eq!(fr.tail_title("stderr", 1, false), "stderr (1 ligne)");
    }
}
