//! `check`'s own detail lines in the alert's language: what `--verify` and the manifest
//! found, the `--expect-files` counts, a repository the tool cannot reach and what to do
//! about each; with `language` in the settings and no locale, as under cron.

use std::time::Duration;

use crate::cause::{borg, closed_port};
use crate::expect_files::{age, tar_of};
use crate::language::{installed, received, settings, without_locale};
use crate::repository::{borg_repo_of_incompressible_data, flip_a_byte_of_borg_data};
use crate::verify::{noise, tar_gz};
use crate::*;

/// The English of the lines converted here, none of which may be left in a French or
/// Japanese alert.
fn english_left(text: &str) -> Vec<&'static str> {
    [
        "damaged",
        "DAMAGED",
        "member",
        "does not match",
        "expected",
        "MISMATCH",
        "stream",
        "matches",
        "holds",
        "fewer",
        "tolerance",
        "previous one",
        " files (",
        "Keep the previous",
        "Cannot list",
        "exited with",
        "Check the network",
        "What to do",
    ]
    .into_iter()
    .filter(|english| text.contains(english))
    .collect()
}

/// A damaged archive whose checksum file does not match either (`check --verify`), and a
/// newer archive holding half the files of the one before (`--expect-files`): the two
/// alerts' texts, in `language`.
fn damaged_and_fewer(language: &str) -> (String, String, String, String) {
    let server = server();
    let env = Env::new(&server);
    settings(&env, &format!("[default]\nlanguage = {language}\n"));
    let dir = env.path("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let whole = tar_gz(&[
        ("etc/postfix/main.cf", b"myhostname = mx\n".to_vec()),
        ("var/mail/vmail.db", noise(200_000, 7)),
    ]);
    let damaged = dir.join("mail-20261201.tar.gz");
    std::fs::write(&damaged, &whole[..whole.len() / 2]).unwrap();
    std::fs::write(
        dir.join("mail-20261201.tar.gz.sha256"),
        format!("{}  mail-20261201.tar.gz\n", "0".repeat(64)),
    )
    .unwrap();
    let c = env.sub(&[
        "check",
        "--path",
        damaged.to_str().unwrap(),
        "--max-age",
        "26h",
        "--verify",
        "--to",
        TO,
        "--no-flood",
    ]);
    run(without_locale(c)).assert_code(1);
    let corrupt = text_of(&received(&server));

    let server = self::server();
    let env = Env::new(&server);
    settings(&env, &format!("[default]\nlanguage = {language}\n"));
    let (old, old_n) = tar_of(&env, "site-2026-12-01.tar.gz", 40);
    age(&old, Duration::from_secs(86_400));
    let (new, new_n) = tar_of(&env, "site-2026-12-02.tar.gz", 20);
    let dir = env.path("backups");
    let c = env.sub(&[
        "check",
        "--path",
        dir.to_str().unwrap(),
        "--max-age",
        "26h",
        "--expect-files",
        "--to",
        TO,
        "--no-flood",
    ]);
    run(without_locale(c)).assert_code(1);
    let fewer = text_of(&received(&server));
    let counts = format!(
        "{}|{new_n}|{}|{old_n}|{}",
        new.display(),
        old.display(),
        old_n - new_n
    );
    (corrupt, fewer, counts, damaged.display().to_string())
}

#[test]
fn integrity_and_file_count_lines_in_french() {
    let (corrupt, fewer, counts, damaged) = damaged_and_fewer("fr");
    let first = corrupt.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    assert!(
        first.contains(&format!(
            "{damaged} : corrompue : tar.gz : membre « var/mail/vmail.db » : "
        )),
        "{corrupt}"
    );
    assert!(
        first.contains("SHA-256 ne correspond pas à ") && first.contains("(attendu 0000"),
        "{corrupt}"
    );
    assert!(
        fact(&corrupt, "Intégrité")
            .starts_with("CORROMPUE : tar.gz : membre « var/mail/vmail.db »"),
        "{corrupt}"
    );
    assert!(
        fact(&corrupt, "Intégrité").ends_with(" : flux deflate incomplet"),
        "{corrupt}"
    );
    assert!(
        fact(&corrupt, "Somme de contrôle").starts_with("SHA-256 NE CORRESPOND PAS à "),
        "{corrupt}"
    );
    assert!(
        fact(&corrupt, "À faire").starts_with("Gardez la sauvegarde saine précédente"),
        "{corrupt}"
    );
    let [new, new_n, old, old_n, lost]: [&str; 5] =
        counts.split('|').collect::<Vec<_>>().try_into().unwrap();
    assert!(
        fewer.contains(&format!(
            "la sauvegarde la plus récente, {new}, contient {new_n} fichiers ; la précédente, \
             {old}, {old_n} ({lost} de moins, "
        )),
        "{fewer}"
    );
    assert!(fewer.contains("; tolérance 10%)"), "{fewer}");
    assert_eq!(
        fact(&fewer, "Sauvegarde précédente"),
        format!("{old_n} fichiers ({old})"),
        "{fewer}"
    );
    for text in [&corrupt, &fewer] {
        assert_eq!(english_left(text), Vec::<&str>::new(), "{text}");
    }
}

#[test]
fn integrity_and_file_count_lines_in_japanese() {
    let (corrupt, fewer, counts, damaged) = damaged_and_fewer("ja");
    let first = corrupt.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    assert!(
        first.contains(&format!(
            "{damaged}: 破損: tar.gz: エントリ「var/mail/vmail.db」: "
        )),
        "{corrupt}"
    );
    assert!(
        first.contains("SHA-256 が ") && first.contains(" と一致しません（期待値 0000"),
        "{corrupt}"
    );
    assert!(
        fact(&corrupt, "整合性").starts_with("破損: tar.gz: エントリ「var/mail/vmail.db」"),
        "{corrupt}"
    );
    assert!(
        fact(&corrupt, "整合性").ends_with(": deflate ストリームが途中で終わっています"),
        "{corrupt}"
    );
    assert!(
        fact(&corrupt, "チェックサム").starts_with("SHA-256 が "),
        "{corrupt}"
    );
    assert!(
        fact(&corrupt, "対処").starts_with("前の正常なバックアップを残してください"),
        "{corrupt}"
    );
    let [new, new_n, old, old_n, lost]: [&str; 5] =
        counts.split('|').collect::<Vec<_>>().try_into().unwrap();
    assert!(
        fewer.contains(&format!(
            "最新のバックアップ {new} のファイルは {new_n} 個、前回のバックアップ {old} は \
             {old_n} 個です（{lost} 個減少、"
        )),
        "{fewer}"
    );
    assert!(fewer.contains("、許容 10%）"), "{fewer}");
    assert_eq!(
        fact(&fewer, "前回のバックアップ"),
        format!("{old_n} 個のファイル（{old}）"),
        "{fewer}"
    );
    for text in [&corrupt, &fewer] {
        assert_eq!(english_left(text), Vec::<&str>::new(), "{text}");
    }
}

/// `check --borg` on an ssh repository that refuses the connection (real borg and
/// ssh), in `language`: the alert's text and the repository.
fn unreachable_repository(language: &str) -> Option<(String, String, u16)> {
    let borg = borg()?;
    rsmtp_testserver::peer::require_peer("/usr/bin/ssh", "ssh (openssh-client)")?;
    let server = server();
    let env = Env::new(&server);
    settings(&env, &format!("[default]\nlanguage = {language}\n"));
    let port = closed_port();
    let repo = format!("ssh://backup@127.0.0.1:{port}/./repo");
    let mut c = env.sub(&[
        "check",
        "--borg",
        &repo,
        "--max-age",
        "26h",
        "--to",
        TO,
        "--no-flood",
    ]);
    c.env("BORG_RSH", "ssh -o BatchMode=yes")
        .env("BORG_PASSPHRASE", "right")
        .env("BORG_REMOTE_PATH", &borg);
    run(without_locale(c)).assert_code(1);
    Some((text_of(&received(&server)), repo, port))
}

#[test]
fn an_unreachable_repository_in_french() {
    let Some((text, repo, port)) = unreachable_repository("fr") else {
        return;
    };
    assert!(
        text.contains(&format!(
            "Impossible de lister les archives de {repo} : borg a terminé avec le code "
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("Erreur: {repo} : borg a terminé avec le code ")),
        "{text}"
    );
    assert_eq!(
        fact(&text, "À faire"),
        format!(
            "Vérifiez le réseau et la clé ssh de l'utilisateur qui lance la tâche : \
             `ssh -o BatchMode=yes -p {port} backup@127.0.0.1 true` doit se terminer sans \
             rien demander."
        ),
        "{text}"
    );
    assert_eq!(english_left(&text), Vec::<&str>::new(), "{text}");
}

#[test]
fn an_unreachable_repository_in_japanese() {
    let Some((text, repo, port)) = unreachable_repository("ja") else {
        return;
    };
    assert!(
        text.contains(&format!(
            "{repo} のアーカイブを一覧できません: borg が終了ステータス "
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("エラー: {repo}: borg が終了ステータス ")),
        "{text}"
    );
    assert_eq!(
        fact(&text, "対処"),
        format!(
            "ネットワークと、ジョブを実行するユーザーの ssh 鍵を確認してください。\
             `ssh -o BatchMode=yes -p {port} backup@127.0.0.1 true` が何も聞かずに終了すれば正常です。"
        ),
        "{text}"
    );
    assert_eq!(english_left(&text), Vec::<&str>::new(), "{text}");
}

/// A bad `language` setting or `--language` is said in the language of whoever runs
/// the command (the locale: there is no alert yet whose language could be used).
#[test]
fn a_bad_language_is_said_in_the_locales_language() {
    for (locale, said) in [
        (
            "fr_FR.UTF-8",
            "langue `klingon` inconnue (langues connues : en, fr, ja)",
        ),
        (
            "ja_JP.UTF-8",
            "不明な言語 `klingon`（使用できる言語: en, fr, ja）",
        ),
    ] {
        if !rsmtp_testserver::peer::require(
            installed(locale),
            "the fr_FR.UTF-8 and ja_JP.UTF-8 locales (Debian package locales-all)",
        ) {
            return;
        }
        let env = Env::bare();
        settings(&env, "[default]\nlanguage = klingon\n");
        let mut c = env.sub(&["send", "--status", "info", "--subject", "x", "--to", TO]);
        c.env("LC_ALL", locale);
        let r = run(c);
        assert_ne!(r.code, 0);
        assert!(r.stderr.contains(said), "{locale}: {}", r.stderr);
        let mut c = env.sub(&[
            "--language",
            "klingon",
            "send",
            "--status",
            "info",
            "--subject",
            "x",
        ]);
        c.env("LC_ALL", locale);
        let r = run(c);
        assert_ne!(r.code, 0);
        assert!(r.stderr.contains(said), "{locale}: {}", r.stderr);
    }
}

/// The digest's note on a log it cannot count, in the `language` setting without a
/// locale: a file that is no mail log, and one that does not exist (the OS error in
/// words of that language too).
#[test]
fn the_digest_says_why_a_log_was_not_counted_in_french_and_japanese() {
    for (language, no_log, missing) in [
        (
            "fr",
            "non compté (ce n'est pas un journal msmtp, rsmtp ou Postfix : aucune ligne \
             lisible sur 2)",
            "non compté (Aucun fichier ou dossier de ce type)",
        ),
        (
            "ja",
            "集計なし（msmtp、rsmtp、Postfix のログではありません: 2 行のうち読み取れた行はありません）",
            "集計なし（そのようなファイルやディレクトリはありません）",
        ),
    ] {
        let env = Env::bare();
        settings(&env, &format!("[default]\nlanguage = {language}\n"));
        let log = env.path("not-a-log.txt");
        std::fs::write(
            &log,
            "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\n",
        )
        .unwrap();
        for (path, said) in [(log, no_log), (env.path("no-such.log"), missing)] {
            let c = env.sub(&["report", "--print", "--log", path.to_str().unwrap()]);
            let r = run(without_locale(c));
            r.assert_code(0);
            assert!(r.stdout.contains(said), "{language}: {}", r.stdout);
            assert!(!r.stdout.contains("not an msmtp"), "{}", r.stdout);
        }
    }
}

/// `check --borg --deep` (real borg) with `language` set and no locale: the passed
/// check's fact in French, then, the repository damaged, the failed check's sentence
/// and what to do in Japanese.
#[test]
fn the_deep_check_in_french_and_japanese() {
    let Some(borg) = borg() else { return };
    let server = server();
    let env = Env::new(&server);
    let repo = borg_repo_of_incompressible_data(&env, &borg);
    let deep = |language: &str| {
        settings(&env, &format!("[default]\nlanguage = {language}\n"));
        let c = env.sub(&[
            "check",
            "--borg",
            &repo,
            "--deep",
            "--max-age",
            "1h",
            "--to",
            TO,
            "--no-flood",
        ]);
        run(without_locale(c))
    };
    deep("fr").assert_code(0);
    let text = text_of(&server.wait_for_messages(1, WAIT)[0]);
    assert_eq!(
        fact(&text, "Vérification du dépôt"),
        format!("réussie (borg check {repo})"),
        "{text}"
    );
    flip_a_byte_of_borg_data(&env);
    deep("ja").assert_code(1);
    let text = text_of(&server.wait_for_messages(2, WAIT)[1]);
    assert!(
        text.contains(&format!(
            "{repo} の整合性検査に失敗しました: borg が終了ステータス "
        )),
        "{text}"
    );
    assert!(
        fact(&text, "対処").starts_with(&format!("`borg check {repo}` を実行してください。")),
        "{text}"
    );
    assert_eq!(english_left(&text), Vec::<&str>::new(), "{text}");
}
