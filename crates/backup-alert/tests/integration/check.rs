//! `check`: fresh (exit 0), stale / too small / missing (exit 1, warning mailed),
//! `--quiet-ok`.

use std::fs::File;
use std::time::{Duration, SystemTime};

use crate::*;

fn backup(env: &Env, name: &str, bytes: usize, age: Duration) -> std::path::PathBuf {
    let dir = env.path("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, vec![b'x'; bytes]).unwrap();
    File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(SystemTime::now() - age)
        .unwrap();
    p
}

fn check(env: &Env, path: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "check",
        "--path",
        path,
        "--max-age",
        "26h",
        "--to",
        TO,
        "--no-flood",
    ];
    args.extend_from_slice(extra);
    run(env.sub(&args))
}

#[test]
fn fresh_backup_exits_0_and_quiet_ok_sends_nothing() {
    let server = server();
    let env = Env::new(&server);
    backup(
        &env,
        "postfix-config-20251221.tar.gz",
        4096,
        Duration::from_secs(3600),
    );
    let dir = env.path("backups");
    // check has exited: anything it sent has been received.
    check(&env, dir.to_str().unwrap(), &["--quiet-ok"]).assert_code(0);
    assert_eq!(server.connections(), 0);
    check(&env, dir.to_str().unwrap(), &[]).assert_code(0);
    let msg = one_message(&server);
    let parsed = parse(&msg);
    assert!(parsed.subject().unwrap().starts_with("✅ ["));
    assert!(norm(parsed.body_text(0).unwrap()).contains("postfix-config-20251221.tar.gz"));
}

#[test]
fn stale_backup_exits_1_with_a_warning() {
    let server = server();
    let env = Env::new(&server);
    backup(
        &env,
        "postfix-config-old.tar.gz",
        4096,
        Duration::from_secs(30 * 3600),
    );
    backup(&env, "unrelated.txt", 10, Duration::from_secs(60));
    let pattern = env.path("backups/postfix-config-*.tar.gz");
    check(
        &env,
        pattern.to_str().unwrap(),
        &["--name", "postfix config"],
    )
    .assert_code(1);
    let msg = one_message(&server);
    let parsed = parse(&msg);
    let subject = parsed.subject().unwrap();
    assert!(subject.starts_with("⚠️ ["), "{subject}");
    assert!(
        subject.ends_with("Backup too old: postfix config"),
        "{subject}"
    );
    let text = norm(parsed.body_text(0).unwrap());
    assert!(text.contains("1d 06h old (limit 1d 02h)"), "{text}");
    assert!(text.contains("postfix-config-old.tar.gz"));
}

#[test]
fn too_small_backup_exits_1() {
    let server = server();
    let env = Env::new(&server);
    let p = backup(&env, "db.sql.gz", 100, Duration::from_secs(60));
    check(&env, p.to_str().unwrap(), &["--min-size", "1M"]).assert_code(1);
    let msg = one_message(&server);
    assert!(parse(&msg).subject().unwrap().contains("Backup too small"));
}

#[test]
fn missing_backup_exits_1_and_recovery_is_mailed() {
    let server = server();
    let env = Env::new(&server);
    let pattern = env.path("backups/*.tar.gz");
    let pattern = pattern.to_str().unwrap();
    check(&env, pattern, &["--quiet-ok", "--name", "nightly"]).assert_code(1);
    let msgs = server.wait_for_messages(1, WAIT);
    assert_eq!(msgs.len(), 1);
    assert!(parse(&msgs[0])
        .subject()
        .unwrap()
        .contains("No backup found: nightly"));
    backup(&env, "new.tar.gz", 10, Duration::from_secs(5));
    // fresh again: --quiet-ok, but a recovery is still reported
    check(&env, pattern, &["--quiet-ok", "--name", "nightly"]).assert_code(0);
    let msgs = server.wait_for_messages(2, WAIT);
    assert_eq!(msgs.len(), 2);
    assert!(text_of(&msgs[1]).contains("Recovered"));
}

#[test]
fn bad_durations_and_sizes_are_usage_errors() {
    let server = server();
    let env = Env::new(&server);
    run(env.sub(&["check", "--path", "/x", "--max-age", "1 day", "--to", TO])).assert_code(64);
    run(env.sub(&[
        "check",
        "--path",
        "/x",
        "--max-age",
        "1d",
        "--min-size",
        "big",
        "--to",
        TO,
    ]))
    .assert_code(64);
}

#[test]
fn too_few_files_is_a_warning() {
    let server = server();
    let env = Env::new(&server);
    for n in 0..3 {
        backup(
            &env,
            &format!("night-{n}.tar.gz"),
            10,
            Duration::from_secs(60),
        );
    }
    let dir = env.path("backups");
    check(&env, dir.to_str().unwrap(), &["--min-files", "3"]).assert_code(0);
    check(
        &env,
        dir.to_str().unwrap(),
        &["--min-files", "7", "--name", "nightly"],
    )
    .assert_code(1);
    let msgs = server.wait_for_messages(2, WAIT);
    assert_eq!(msgs.len(), 2);
    let parsed = parse(&msgs[1]);
    assert!(
        parsed
            .subject()
            .unwrap()
            .ends_with("Too few backup files: nightly"),
        "{:?}",
        parsed.subject()
    );
    let text = text_of(&msgs[1]);
    assert_eq!(fact(&text, "Files"), "3 (minimum 7: too few)", "{text}");
    assert!(text.contains("only 3 files found (minimum 7)"), "{text}");
}

/// A `.sha256` written just after its archive, an `.sfv` and a `SHA256SUMS` list are
/// never the newest backup, without --verify too: no "too small" false alarm about them.
#[test]
fn a_checksum_file_is_never_the_newest_backup() {
    let server = server();
    let env = Env::new(&server);
    let archive = backup(
        &env,
        "site-2026-12-02.tar.gz",
        4096,
        Duration::from_secs(60),
    );
    let dir = archive.parent().unwrap().to_path_buf();
    for name in [
        "site-2026-12-02.tar.gz.sha256",
        "site-2026-12-02.tar.gz.sfv",
        "SHA256SUMS",
    ] {
        backup(&env, name, 80, Duration::ZERO);
    }
    let r = check(&env, dir.to_str().unwrap(), &["--min-size", "1K"]);
    r.assert_code(0);
    let text = text_of(&one_message(&server));
    assert_eq!(
        fact(&text, "Newest file"),
        archive.display().to_string(),
        "{text}"
    );
}
