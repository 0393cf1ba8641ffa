//! Alerts in the recipient's language: French and Japanese subjects, labels, status
//! and duration words, and the date as glibc writes it in that locale (`date` under
//! LC_ALL=fr_FR.UTF-8 is the oracle), chosen by the `language` setting, its
//! `[host:NAME]` section, `--language`, or the locale.

use std::process::Command;

use rsmtp_testserver::peer::require;
use rsmtp_testserver::ReceivedMessage;

use crate::*;

/// Whether glibc has `locale` (Debian's locales-all), for the `date` oracle.
pub(crate) fn installed(locale: &str) -> bool {
    std::path::Path::new("/usr/lib/locale")
        .join(locale.replace("UTF-8", "utf8"))
        .exists()
}

/// `date +FORMAT` in `locale`, with the environment the alert was made in.
fn glibc_date(locale: &str, format: &str) -> String {
    let out = Command::new("date")
        .env_clear()
        .env("LC_ALL", locale)
        .arg(format!("+{format}"))
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The one message the server received, without waiting longer than it takes.
pub(crate) fn received(server: &rsmtp_testserver::TestServer) -> ReceivedMessage {
    let msgs = server.wait_for_messages(1, WAIT);
    assert_eq!(msgs.len(), 1, "one alert");
    msgs.into_iter().next().expect("one message")
}

/// The raw Subject header: RFC 2047 encoded-words, never raw UTF-8.
fn raw_subject(msg: &ReceivedMessage) -> String {
    msg.headers()
        .lines()
        .skip_while(|l| !l.to_ascii_lowercase().starts_with("subject:"))
        .take_while(|l| {
            l.to_ascii_lowercase().starts_with("subject:") || l.starts_with([' ', '\t'])
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn settings(env: &Env, text: &str) {
    let dir = env.home.join(".config/backup-alert");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("config"), text).expect("write settings");
}

/// `language = fr` in this host's section (English in [default]): a failed run reads
/// `❌ [host] db dump ÉCHEC : code de sortie 3`, with `Serveur`, `Date` in French as
/// glibc writes it, `Statut : échec`, `Code de sortie : 3`, `Durée` in French words.
#[test]
fn a_failed_run_in_french_from_the_host_section() {
    if !require(
        installed("fr_FR.UTF-8"),
        "the fr_FR.UTF-8 locale (Debian package locales-all)",
    ) {
        return;
    }
    let server = server();
    let env = Env::new(&server);
    settings(
        &env,
        &format!(
            "[default]\nlanguage = en\n\n[host:{}]\nlanguage = fr\n",
            host()
        ),
    );
    let format = "%a %-d %b %Y %H:%M";
    let before = glibc_date("fr_FR.UTF-8", format);
    run(env.sub(&[
        "run",
        "--to",
        TO,
        "--no-flood",
        "--name",
        "db dump",
        "--",
        "sh",
        "-c",
        "echo 'pg_dump: error: connection refused' >&2; exit 3",
    ]))
    .assert_code(3);
    let after = glibc_date("fr_FR.UTF-8", format);
    let msg = received(&server);
    let raw = raw_subject(&msg);
    assert!(
        raw.contains("=?utf-8?") && !raw.contains('É'),
        "RFC 2047: {raw}"
    );
    let parsed = parse(&msg);
    let subject = parsed.subject().expect("subject");
    assert_eq!(
        subject,
        format!("❌ [{}] db dump ÉCHEC : code de sortie 3", host())
    );
    let text = text_of(&msg);
    assert_eq!(fact(&text, "Serveur"), host(), "{text}");
    let date = fact(&text, "Date");
    assert!(
        date == before || date == after,
        "{date:?} vs glibc {before:?}/{after:?}"
    );
    assert!(date.contains('.'), "abbreviated French names: {date}");
    assert_eq!(fact(&text, "Statut"), "échec", "{text}");
    assert_eq!(fact(&text, "Code de sortie"), "3", "{text}");
    assert_eq!(
        fact(&text, "Résultat"),
        "terminé avec le code 3 (échec)",
        "{text}"
    );
    assert!(
        fact(&text, "Durée").ends_with("secondes") || fact(&text, "Durée").ends_with("seconde"),
        "{text}"
    );
    assert!(
        text.starts_with("Erreur: pg_dump: error: connection refused"),
        "{text}"
    );
    let html = parsed.body_html(0).expect("html");
    assert!(
        html.contains("<html lang=\"fr\">") && html.contains("Serveur"),
        "{html}"
    );
}

/// `--language ja` over a French setting: a successful run reads `nightly 成功`,
/// with ホスト, 日時 as glibc writes it in ja_JP, ステータス 成功, 所要時間.
#[test]
fn a_run_in_japanese_by_flag() {
    if !require(
        installed("ja_JP.UTF-8"),
        "the ja_JP.UTF-8 locale (Debian package locales-all)",
    ) {
        return;
    }
    let server = server();
    let env = Env::new(&server);
    settings(&env, "[default]\nlanguage = fr\n");
    let format = "%Y年%-m月%-d日(%a) %H:%M";
    let before = glibc_date("ja_JP.UTF-8", format);
    let mut c = env.cmd();
    c.args([
        "--language",
        "ja",
        "run",
        "--to",
        TO,
        "--no-flood",
        "--name",
        "nightly",
    ])
    .arg("--config")
    .arg(&env.rc)
    .args(["--", "true"]);
    run(c).assert_code(0);
    let after = glibc_date("ja_JP.UTF-8", format);
    let msg = received(&server);
    assert!(
        raw_subject(&msg).contains("=?utf-8?"),
        "{}",
        raw_subject(&msg)
    );
    let parsed = parse(&msg);
    assert_eq!(
        parsed.subject().expect("subject"),
        format!("✅ [{}] nightly 成功", host())
    );
    let text = text_of(&msg);
    assert_eq!(fact(&text, "ホスト"), host(), "{text}");
    let date = fact(&text, "日時");
    assert!(
        date == before || date == after,
        "{date:?} vs glibc {before:?}/{after:?}"
    );
    assert_eq!(fact(&text, "ステータス"), "成功", "{text}");
    assert_eq!(fact(&text, "終了ステータス"), "0", "{text}");
    assert!(fact(&text, "所要時間").contains('秒'), "{text}");
    assert_eq!(
        fact(&text, "結果"),
        "終了ステータス 0 で終了（成功）",
        "{text}"
    );
    assert_eq!(fact(&text, "最後の正常なバックアップ"), "今回", "{text}");
    // The labels line up in a monospace font, kana and kanji being two columns wide.
    let columns: std::collections::BTreeSet<usize> = text
        .lines()
        .filter_map(|l| l.split_once(" : "))
        .map(|(label, _)| backup_alert::lang::display_width(label))
        .collect();
    assert_eq!(columns.len(), 1, "{text}");
}

/// Without a setting the locale chooses (LC_ALL, then LC_MESSAGES, then LANG), a
/// language we do not have is English, and a bad `language` names the choices.
#[test]
fn the_locale_chooses_when_nothing_is_set() {
    let server = server();
    let env = Env::new(&server);
    for (vars, label) in [
        (vec![("LC_ALL", "fr_FR.UTF-8")], "Serveur"),
        (
            vec![
                ("LC_ALL", ""),
                ("LC_MESSAGES", "ja_JP.UTF-8"),
                ("LANG", "fr_FR.UTF-8"),
            ],
            "ホスト",
        ),
        (vec![("LC_ALL", ""), ("LANG", "de_DE.UTF-8")], "Host"),
    ] {
        let before = server.messages().len();
        let mut c = env.sub(&[
            "send",
            "--status",
            "info",
            "--subject",
            "hello",
            "--to",
            TO,
            "--no-flood",
        ]);
        for (k, v) in &vars {
            c.env(k, v);
        }
        run(c).assert_code(0);
        let msgs = server.wait_for_messages(before + 1, WAIT);
        let text = norm(
            parse(msgs.last().expect("a message"))
                .body_text(0)
                .expect("text"),
        );
        assert_eq!(fact(&text, label), host(), "{vars:?}: {text}");
    }
    settings(&env, "[default]\nlanguage = klingon\n");
    let r = run(env.sub(&["send", "--status", "info", "--subject", "x", "--to", TO]));
    assert_ne!(r.code, 0);
    assert!(
        r.stderr
            .contains("unknown language `klingon` (known: en, fr, ja)"),
        "{}",
        r.stderr
    );
}

/// `check` in French: a missing backup is `Aucune sauvegarde trouvée : NAME`, its
/// maximum age in French words.
#[test]
fn a_missing_backup_in_french() {
    let server = server();
    let env = Env::new(&server);
    let missing = env.path("nothing-here");
    let missing = missing.display().to_string();
    let r = run(env.sub(&[
        "--language",
        "fr",
        "check",
        "--path",
        &missing,
        "--name",
        "postfix",
        "--max-age",
        "26h",
        "--to",
        TO,
        "--no-flood",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let msg = received(&server);
    assert_eq!(
        parse(&msg).subject().expect("subject"),
        format!("⚠️ [{}] Aucune sauvegarde trouvée : postfix", host())
    );
    let text = text_of(&msg);
    assert_eq!(fact(&text, "Âge maximal"), "1 jour 2 heures", "{text}");
    assert_eq!(fact(&text, "Statut"), "avertissement", "{text}");
}

/// The detail lines too: how a command ended and what its signal means, the tails'
/// titles, the fresh backup's age sentence and the values against their limits.
#[test]
fn detail_lines_are_in_french_and_japanese() {
    let server = server();
    let env = Env::new(&server);
    let mut c = env.sub(&[
        "run",
        "--to",
        TO,
        "--no-flood",
        "--name",
        "dump",
        "--language",
        "fr",
    ]);
    c.args(["--", "sh", "-c", "echo 'pg_dump: début' >&2; kill -9 $$"]);
    run(c).assert_code(137);
    let text = text_of(&received(&server));
    assert_eq!(
        fact(&text, "Résultat"),
        "arrêtée par le signal 9 (SIGKILL)",
        "{text}"
    );
    assert!(
        fact(&text, "Signal").starts_with("signal 9 (SIGKILL : tuée ; souvent par le noyau"),
        "{text}"
    );
    assert!(text.contains("--- stderr (1 ligne) ---"), "{text}");

    let server = self::server();
    let env = Env::new(&server);
    let dir = env.path("backups");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("db.tar.gz"), vec![b'x'; 2048]).unwrap();
    let mut c = env.sub(&[
        "check",
        "--path",
        dir.to_str().unwrap(),
        "--max-age",
        "26h",
        "--min-size",
        "1K",
        "--min-files",
        "1",
        "--to",
        TO,
        "--no-flood",
        "--language",
        "ja",
    ]);
    c.env("LC_ALL", "C");
    run(c).assert_code(0);
    let text = text_of(&received(&server));
    assert!(text.contains("最新のバックアップは"), "{text}");
    assert!(
        fact(&text, "サイズ").ends_with("（2048 バイト）（下限 1.0 KiB: 正常）"),
        "{text}"
    );
    assert!(
        fact(&text, "経過時間").contains("（上限 1日2時間: 正常）"),
        "{text}"
    );
    assert_eq!(fact(&text, "ファイル"), "1（下限 1: 正常）", "{text}");
}

/// The weekly digest in French and Japanese: subject, heading, labels, period, counts.
#[test]
fn the_digest_is_in_french_and_japanese() {
    let server = server();
    let env = Env::new(&server);
    let mut c = env.sub(&["run", "--to", TO, "--no-flood", "--name", "nightly"]);
    c.args(["--", "sh", "-c", "exit 2"]);
    run(c).assert_code(2);
    let _ = received(&server);
    let print = |language: &str| {
        let mut c = env.cmd();
        c.args(["report", "--print", "--since", "7d", "--language", language]);
        let r = run(c);
        r.assert_code(0);
        r.stdout
    };
    let fr = print("fr");
    assert!(
        fr.contains(&format!("Rapport de sauvegarde de {}", host())),
        "{fr}"
    );
    let period = fact(&fr, "Période");
    assert!(
        period.starts_with("du ") && period.ends_with("(les 7 derniers jours)"),
        "{fr}"
    );
    assert_eq!(
        fact(&fr, "Totaux"),
        "1 tâche, 1 exécution, 1 échec, 0 avertissement"
    );
    assert_eq!(fact(&fr, "Exécutions"), "1 exécution (1 échec)");
    assert!(
        fact(&fr, "Problèmes").ends_with(" échec, code de sortie 2"),
        "{fr}"
    );
    assert_eq!(fact(&fr, "Dernière réussite"), "aucune enregistrée");
    let ja = print("ja");
    for expected in [
        &format!("{} のバックアップレポート", host()),
        "（過去 7 日）",
        "ジョブ 1 件, 実行 1 回, 失敗 1 件, 警告 0 件",
        "失敗、終了ステータス 2",
    ] {
        assert!(ja.contains(expected), "{expected:?} in\n{ja}");
    }
    // mailed: the subject too
    let server = self::server();
    let env2 = Env::new(&server);
    std::fs::create_dir_all(env2.dir.path().join("state")).unwrap();
    let mut c = env2.sub(&["report", "--to", TO, "--language", "fr"]);
    c.env("BACKUP_ALERT_STATE_DIR", env.dir.path().join("state"));
    run(c).assert_code(0);
    let subject = parse(&received(&server))
        .subject()
        .unwrap_or_default()
        .to_string();
    assert!(
        subject.contains("Rapport de sauvegarde, les 7 derniers jours : 1 tâche"),
        "{subject}"
    );
}

/// Rust's "(os error 2)" never reaches an alert: a missing command, a missing manifest.
#[test]
fn no_rust_error_noise_in_alerts() {
    let server = server();
    let env = Env::new(&server);
    let mut c = env.sub(&["run", "--to", TO, "--no-flood", "--name", "t"]);
    c.args(["--", "/nonexistent/backup-tool"]);
    run(c).assert_code(127);
    let text = text_of(&received(&server));
    assert_eq!(
        fact(&text, "Result"),
        "command not found: /nonexistent/backup-tool: No such file or directory (exit status 127)",
        "{text}"
    );
    let server = self::server();
    let env = Env::new(&server);
    let backup = env.path("db.tar.gz");
    std::fs::write(&backup, b"x").unwrap();
    let r = run(env.sub(&[
        "check",
        "--path",
        backup.to_str().unwrap(),
        "--max-age",
        "1h",
        "--manifest",
        "/nonexistent/SHA256SUMS",
        "--to",
        TO,
        "--no-flood",
    ]));
    let text = text_of(&received(&server));
    assert!(
        text.contains("No such file or directory"),
        "{}\n{text}",
        r.stderr
    );
    assert!(!text.contains("os error"), "{text}");
}

/// `stats` in the reader's language (the reasons stay as msmtp logged them).
#[test]
fn stats_in_french_and_japanese() {
    let env = Env::bare();
    let log = env.path("msmtp.log");
    std::fs::write(
        &log,
        "Dec 21 16:03:07 host=smtp.example.com tls=on auth=on from=a@x.example recipients=b@x.example exitcode=EX_OK\n\
         Dec 21 18:00:15 host=smtp.example.com tls=on auth=on from=a@x.example recipients=b@x.example errormsg='Connection refused' exitcode=EX_TEMPFAIL\n",
    )
    .unwrap();
    let stats = |language: &str| {
        let mut c = env.cmd();
        c.args([
            "stats",
            "--log",
            log.to_str().unwrap(),
            "--language",
            language,
        ]);
        let r = run(c);
        r.assert_code(0);
        r.stdout
    };
    let fr = stats("fr");
    assert!(fr.contains("envoyés : 1\néchecs  : 1\n"), "{fr}");
    assert!(
        fr.contains("dernier échec : Dec 21 18:00:15 EX_TEMPFAIL"),
        "{fr}"
    );
    let ja = stats("ja");
    assert!(ja.contains("送信: 1\n失敗: 1\n"), "{ja}");
    assert!(ja.contains("最後の失敗: Dec 21 18:00:15"), "{ja}");
}

/// What cron gives: no LANG, no LC_*; the language comes from the settings alone.
pub(crate) fn without_locale(mut c: std::process::Command) -> std::process::Command {
    c.env_remove("LC_ALL");
    c
}

/// The alerts of a failing run, a stale backup file and a silent job, each with
/// `language` in the settings and no locale (as under cron), in `language`.
fn failing_and_stale_alerts(language: &str) -> [String; 3] {
    let mut texts = Vec::new();
    let server = server();
    let env = Env::new(&server);
    settings(&env, &format!("[default]\nlanguage = {language}\n"));
    let mut c = env.sub(&["run", "--to", TO, "--no-flood", "--name", "dump"]);
    c.args([
        "--",
        "sh",
        "-c",
        "echo 'tar: /srv/db: Cannot open: No such file or directory' >&2; exit 2",
    ]);
    run(without_locale(c)).assert_code(2);
    texts.push(text_of(&received(&server)));

    let server = self::server();
    let env = Env::new(&server);
    settings(&env, &format!("[default]\nlanguage = {language}\n"));
    let dir = env.path("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("db.tar.gz");
    std::fs::write(&file, vec![b'x'; 2048]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 3600))
        .unwrap();
    let c = env.sub(&[
        "check",
        "--path",
        dir.to_str().unwrap(),
        "--max-age",
        "26h",
        "--to",
        TO,
        "--no-flood",
    ]);
    run(without_locale(c)).assert_code(1);
    texts.push(text_of(&received(&server)));

    let server = self::server();
    let env = Env::new(&server);
    settings(&env, &format!("[default]\nlanguage = {language}\n"));
    let mut c = env.sub(&["run", "--to", TO, "--only-failure", "--name", "nightly"]);
    c.args(["--", "false"]);
    run(without_locale(c)).assert_code(1);
    let _ = received(&server);
    let c = env.sub(&[
        "check",
        "--job",
        "nightly",
        "--max-age",
        "26h",
        "--to",
        TO,
        "--no-flood",
    ]);
    run(without_locale(c)).assert_code(1);
    let msgs = server.wait_for_messages(2, WAIT);
    texts.push(text_of(&msgs[1]));
    [texts.remove(0), texts.remove(0), texts.remove(0)]
}

/// The English detail lines that must not be left in a French or Japanese alert.
fn english_left(text: &str) -> Vec<&'static str> {
    [
        "exit status",
        "exited with",
        "The newest backup",
        "newest file is",
        " old",
        "(limit ",
        " ago",
        "line)",
        "lines)",
        "(os error",
        "last succeeded",
        "none recorded",
        "no run recorded",
        "Problem",
        "Host",
        "Duration",
        "seconds",
        "hours",
    ]
    .into_iter()
    .filter(|english| text.contains(english))
    .collect()
}

/// A failing run, a stale backup and a silent job with `language = fr` and no locale:
/// the result, the tail's title, the age against its limit, the problem and the job's
/// last success are French; no English detail line is left.
#[test]
fn failing_and_stale_alerts_in_french_without_a_locale() {
    let [run_, stale, job] = failing_and_stale_alerts("fr");
    assert_eq!(
        fact(&run_, "Résultat"),
        "terminé avec le code 2 (échec)",
        "{run_}"
    );
    assert!(run_.contains("--- stderr (1 ligne) ---"), "{run_}");
    assert_eq!(fact(&run_, "Code de sortie"), "2", "{run_}");
    assert_eq!(
        fact(&stale, "Âge"),
        "1 jour 6 heures (limite 1 jour 2 heures : trop ancienne)",
        "{stale}"
    );
    assert!(
        stale.contains("le fichier le plus récent a 1d 06h (limite 1d 02h)"),
        "{stale}"
    );
    assert!(
        fact(&job, "Dernier succès").starts_with("aucune enregistrée"),
        "{job}"
    );
    for text in [&run_, &stale, &job] {
        assert_eq!(english_left(text), Vec::<&str>::new(), "{text}");
    }
}

/// The same in Japanese.
#[test]
fn failing_and_stale_alerts_in_japanese_without_a_locale() {
    let [run_, stale, job] = failing_and_stale_alerts("ja");
    assert_eq!(
        fact(&run_, "結果"),
        "終了ステータス 2 で終了（失敗）",
        "{run_}"
    );
    assert!(run_.contains("--- stderr（1 行） ---"), "{run_}");
    assert_eq!(
        fact(&stale, "経過時間"),
        "1日6時間（上限 1日2時間: 古すぎます）",
        "{stale}"
    );
    assert!(
        stale.contains("最新のファイルは 1d 06h 前のものです（上限 1d 02h）"),
        "{stale}"
    );
    assert!(fact(&job, "最後の成功").starts_with("記録なし"), "{job}");
    for text in [&run_, &stale, &job] {
        assert_eq!(english_left(text), Vec::<&str>::new(), "{text}");
    }
}
