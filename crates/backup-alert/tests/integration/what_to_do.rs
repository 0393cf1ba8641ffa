//! Each known failure class carries one line of advice ("What to do"), filled in with the
//! job's repository and host, from the real tools' output; `run --log` names the job's
//! own log and attaches this run's part of it; the output still reaches a `>> log 2>&1`
//! redirection, and `--tee FILE`.

use std::process::Stdio;

use crate::cause::{borg, borg_repo, closed_port, headline, restic, run_job};
use crate::*;

/// An ssh repository that refuses: the ssh command to test it, with its user and port.
#[test]
fn unreachable_repository_says_how_to_test_it() {
    let Some(borg) = borg() else { return };
    if rsmtp_testserver::peer::require_peer("/usr/bin/ssh", "ssh (openssh-client)").is_none() {
        return;
    }
    let server = server();
    let env = Env::new(&server);
    std::fs::create_dir_all(env.path("data")).unwrap();
    let port = closed_port();
    let archive = format!("ssh://backup@127.0.0.1:{port}/./repo::a1");
    let (_, text) = run_job(
        &env,
        &server,
        &[],
        &[
            ("BORG_PASSPHRASE", "right"),
            ("BORG_RSH", "ssh -o BatchMode=yes"),
        ],
        &[borg.to_str().unwrap(), "create", &archive, "data"],
    );
    let advice = fact(&text, "What to do");
    assert!(
        advice.contains(&format!(
            "`ssh -o BatchMode=yes -p {port} backup@127.0.0.1 true`"
        )),
        "{text}"
    );
}

/// Wrong passphrase: BORG_PASSCOMMAND for borg, RESTIC_PASSWORD_FILE for restic.
#[test]
fn passphrase_points_at_the_pass_command() {
    let Some(borg) = borg() else { return };
    let server = server();
    let env = Env::new(&server);
    let repo = borg_repo(&env, &borg);
    let (_, text) = run_job(
        &env,
        &server,
        &[],
        &[("BORG_PASSPHRASE", "wrong")],
        &[
            borg.to_str().unwrap(),
            "create",
            &format!("{repo}::a1"),
            "data",
        ],
    );
    assert!(
        fact(&text, "What to do").contains("BORG_PASSCOMMAND"),
        "{text}"
    );
    let Some(restic) = restic() else { return };
    let server = crate::server();
    let env = Env::new(&server);
    std::fs::write(env.path("data.txt"), b"payload").unwrap();
    let rrepo = env.path("rrepo").to_str().unwrap().to_string();
    crate::cause::prepare(
        &env,
        &restic,
        &["init", "--repo", &rrepo],
        &[("RESTIC_PASSWORD", "right")],
    );
    let (_, text) = run_job(
        &env,
        &server,
        &[],
        &[("RESTIC_PASSWORD", "wrong")],
        &[restic.to_str().unwrap(), "-r", &rrepo, "backup", "data.txt"],
    );
    assert!(
        fact(&text, "What to do").contains("RESTIC_PASSWORD_FILE"),
        "{text}"
    );
}

/// A repository locked by another borg (held by `borg with-lock` while the job runs):
/// break-lock, after checking that no borg runs.
#[test]
fn lock_says_break_lock_after_checking() {
    let Some(borg) = borg() else { return };
    let server = server();
    let env = Env::new(&server);
    let repo = borg_repo(&env, &borg);
    let b = borg.to_str().unwrap();
    let (r, text) = run_job(
        &env,
        &server,
        &[],
        &[("BORG_PASSPHRASE", "right")],
        &[
            b,
            "with-lock",
            &repo,
            b,
            "create",
            "--lock-wait",
            "0",
            &format!("{repo}::a1"),
            "data",
        ],
    );
    r.assert_code(2);
    assert!(
        headline(&text).starts_with("Failed to create/acquire the lock"),
        "{text}"
    );
    let advice = fact(&text, "What to do");
    assert!(advice.contains("`pgrep -a borg`"), "{advice}");
    assert!(
        advice.contains(&format!("`borg break-lock {repo}`")),
        "{advice}"
    );
}

/// A damaged segment (one byte flipped): `borg check`, and the previous good archive.
#[test]
fn corrupt_repository_says_check_and_previous_archive() {
    let Some(borg) = borg() else { return };
    let server = server();
    let env = Env::new(&server);
    let repo = borg_repo(&env, &borg);
    let pw = [("BORG_PASSPHRASE", "right")];
    crate::cause::prepare(
        &env,
        &borg,
        &["create", &format!("{repo}::a1"), "data"],
        &pw,
    );
    // The biggest segment holds the archive's data: damage its middle.
    let segment = std::fs::read_dir(env.path("repo/data/0"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&segment, bytes).unwrap();
    let (r, text) = run_job(
        &env,
        &server,
        &[],
        &pw,
        &[
            borg.to_str().unwrap(),
            "extract",
            "--dry-run",
            &format!("{repo}::a1"),
        ],
    );
    r.assert_code(2);
    assert!(
        headline(&text).starts_with("Data integrity error"),
        "{text}"
    );
    let advice = fact(&text, "What to do");
    assert!(advice.contains(&format!("`borg check {repo}`")), "{advice}");
    assert!(advice.contains("previous good archive"), "{advice}");
}

/// A full disk (tar writing to /dev/full): df.
#[test]
fn disk_full_says_where_to_look() {
    let server = server();
    let env = Env::new(&server);
    std::fs::create_dir_all(env.path("data")).unwrap();
    std::fs::write(env.path("data/f"), vec![b'x'; 100_000]).unwrap();
    let (r, text) = run_job(&env, &server, &[], &[], &["tar", "cf", "/dev/full", "data"]);
    r.assert_code(2);
    assert!(
        headline(&text).contains("No space left on device"),
        "{text}"
    );
    assert!(fact(&text, "What to do").contains("`df -h`"), "{text}");
}

/// `run --log`: the log is named, this run's lines are attached (not last night's), and
/// the cause comes from it when the command printed nothing.
#[test]
fn run_log_names_the_log_and_attaches_this_runs_part() {
    let server = server();
    let env = Env::new(&server);
    let log = env.path("backup.log");
    std::fs::write(&log, "yesterday: ERROR: old failure\nyesterday: done\n").unwrap();
    let script = format!(
        "echo 'starting dump' >> {l}; echo 'pg_dump: error: connection to server failed: Connection refused' >> {l}; exit 1",
        l = log.display()
    );
    let (r, text) = run_job(
        &env,
        &server,
        &["--log", log.to_str().unwrap()],
        &[],
        &["sh", "-c", &script],
    );
    r.assert_code(1);
    assert_eq!(fact(&text, "Log"), log.display().to_string(), "{text}");
    assert_eq!(
        headline(&text),
        "pg_dump: error: connection to server failed: Connection refused"
    );
    assert!(text.contains("starting dump"), "{text}");
    assert!(!text.contains("old failure"), "last night's lines\n{text}");
}

/// The output still reaches a `>> cron-backup.log 2>&1` file (seed 000's cron line), not
/// a pipe (cron would mail it), and always a `--tee` file.
#[test]
fn output_reaches_a_redirected_log_and_tee() {
    let server = server();
    let env = Env::new(&server);
    let cron_log = env.path("cron-backup.log");
    let tee = env.path("tee.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&cron_log)
        .unwrap();
    let mut c = env.sub(&[
        "run",
        "--to",
        TO,
        "--no-flood",
        "--tee",
        tee.to_str().unwrap(),
    ]);
    c.args([
        "--",
        "sh",
        "-c",
        "echo archive created; echo 'warning: x' >&2",
    ])
    .stdin(Stdio::null())
    .stdout(file.try_clone().unwrap())
    .stderr(file);
    let status = c.status().expect("run");
    assert!(status.success());
    let logged = std::fs::read_to_string(&cron_log).unwrap();
    assert!(logged.contains("archive created"), "{logged}");
    assert!(logged.contains("warning: x"), "{logged}");
    let teed = std::fs::read_to_string(&tee).unwrap();
    assert!(
        teed.contains("archive created") && teed.contains("warning: x"),
        "{teed}"
    );
    // into a pipe (the harness's, as cron's): nothing, unless --echo always
    let r = run({
        let mut c = env.sub(&["run", "--to", TO, "--no-flood"]);
        c.args(["--", "echo", "archive created"]);
        c
    });
    r.assert_code(0);
    assert!(!r.stdout.contains("archive created"), "{}", r.stdout);
    let r = run({
        let mut c = env.sub(&["run", "--to", TO, "--no-flood", "--echo", "always"]);
        c.args(["--", "echo", "archive created"]);
        c
    });
    assert!(r.stdout.contains("archive created"), "{}", r.stdout);
}

/// A backup older than --max-age: is the job still scheduled, is cron running.
#[test]
fn a_stale_backup_asks_whether_cron_runs() {
    let server = server();
    let env = Env::new(&server);
    let dir = env.path("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("db-2026-12-01.sql.gz");
    std::fs::write(&file, b"x").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(3 * 86400))
        .unwrap();
    let mut c = env.sub(&["check", "--path", dir.to_str().unwrap(), "--max-age", "26h"]);
    c.args(["--to", TO, "--no-flood"]);
    run(c).assert_code(1);
    let text = text_of(&one_message(&server));
    assert!(fact(&text, "What to do").contains("`grep CRON "), "{text}");
}

/// `check --borg` on a repository another borg holds locked (real `borg with-lock`):
/// borg's lock line, and break-lock with the repository filled in.
#[test]
fn check_of_a_locked_repository_says_break_lock() {
    let Some(borg) = borg() else { return };
    let server = server();
    let env = Env::new(&server);
    let repo = borg_repo(&env, &borg);
    // borg with-lock runs backup-alert with the harness's environment, lock held.
    let mut c = std::process::Command::new(&borg);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("BORG_PASSPHRASE", "right")
        .args([
            "with-lock",
            &repo,
            BIN,
            "check",
            "--borg",
            &repo,
            "--max-age",
            "26h",
        ])
        .args(["--to", TO, "--no-flood", "--config"])
        .arg(&env.rc)
        .env("XDG_CONFIG_HOME", env.home.join(".config"))
        .env("RSMTP_SYSCONFIG", "/nonexistent")
        .env("RSMTP_QUEUE_DIR", env.path("queue"))
        .env(
            "BACKUP_ALERT_SYSCONFIG",
            env.path("system-backup-alert.conf"),
        )
        .env("BACKUP_ALERT_STATE_DIR", env.path("state"))
        .env("LC_ALL", "C")
        .current_dir(env.dir.path());
    run(c).assert_code(1);
    let text = text_of(&one_message(&server));
    assert!(
        headline(&text).contains("Failed to create/acquire the lock"),
        "{text}"
    );
    assert!(
        fact(&text, "What to do").contains(&format!("`borg break-lock {repo}`")),
        "{text}"
    );
}

/// `send --log` (seed 000's wrapper mails its own log): the headline is borg's line
/// stating the cause, not the wrapper's generic last line, and it says what to do.
#[test]
fn send_with_a_log_names_its_cause_and_what_to_do() {
    let Some(borg) = borg() else { return };
    let server = server();
    let env = Env::new(&server);
    let repo = borg_repo(&env, &borg);
    let log = env.path("borg.log");
    // last night's run, then tonight's, as the wrapper appends them
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{{ echo '=== nightly ==='; {borg} create {repo}::a1 data 2>&1; echo 'borg create a échoué'; }} >> {log}",
            borg = borg.display(),
            log = log.display()
        ))
        .env("HOME", &env.home)
        .env("BORG_PASSPHRASE", "wrong")
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let r = run(env.sub(&[
        "send",
        "--status",
        "failure",
        "--subject",
        "Sauvegarde échouée",
        "--body",
        "voir le log",
        "--log",
        log.to_str().unwrap(),
        "--to",
        TO,
        "--no-flood",
    ]));
    r.assert_code(0);
    let text = text_of(&one_message(&server));
    assert_eq!(
        headline(&text),
        "passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND or via BORG_PASSPHRASE_FD is incorrect.",
        "{text}"
    );
    assert!(
        fact(&text, "What to do").contains("BORG_PASSCOMMAND"),
        "{text}"
    );
}
