//! Exit statuses mean what the tool means: borg 1 and rsync 24 are warnings (⚠️), the
//! status is still passed through; `--warning-exit-codes` / `--ok-exit-codes` for other
//! commands; `--status rotation` (🔄) for prune runs.

use crate::cause::{borg, borg_repo, headline, run_job};
use crate::*;

fn subject_of(msg: &rsmtp_testserver::ReceivedMessage) -> String {
    parse(msg).subject().unwrap_or_default().to_string()
}

/// Real borg, a source that does not exist: the archive is made, borg exits 1.
#[test]
fn borg_exit_1_is_a_warning() {
    let Some(borg) = borg() else { return };
    let server = server();
    let env = Env::new(&server);
    let repo = borg_repo(&env, &borg);
    let archive = format!("{repo}::a1");
    let (r, text) = run_job(
        &env,
        &server,
        &[],
        &[("BORG_PASSPHRASE", "right")],
        &[
            borg.to_str().unwrap(),
            "create",
            "--stats",
            &archive,
            "data",
            "nosuch",
        ],
    );
    r.assert_code(1);
    let msg = server.messages().pop().unwrap();
    let subject = subject_of(&msg);
    assert!(subject.starts_with("\u{26a0}\u{fe0f} ["), "{subject}");
    assert!(
        subject.ends_with("nightly WARNING: exit status 1"),
        "{subject}"
    );
    assert!(text.starts_with("Problem: "), "{text}");
    assert_eq!(
        headline(&text),
        "nosuch: [Errno 2] No such file or directory: 'nosuch'"
    );
    assert_eq!(
        fact(&text, "Result"),
        "exited with status 1 (warning)",
        "{text}"
    );
    assert!(
        fact(&text, "Meaning").starts_with("borg exit status 1: the archive was made"),
        "{text}"
    );
    // a real failure of the same tool is still one
    let mut c = env.sub(&["run", "--to", TO, "--no-flood", "--name", "nightly"]);
    c.env("BORG_PASSPHRASE", "wrong").arg("--").args([
        borg.to_str().unwrap(),
        "create",
        &format!("{repo}::a2"),
        "data",
    ]);
    run(c).assert_code(2);
    let msgs = server.wait_for_messages(2, WAIT);
    assert!(subject_of(&msgs[1]).ends_with("nightly FAILED: exit status 2"));
}

/// rsync is known by its name: exit 24 (files vanished) is a warning. A stand-in script
/// named `rsync` prints rsync 3.2's own message for it.
#[test]
fn rsync_exit_24_is_a_warning() {
    let server = server();
    let env = Env::new(&server);
    let rsync = env.path("rsync");
    std::fs::write(
        &rsync,
        "#!/bin/sh\n\
         echo 'file has vanished: \"/srv/www/cache/sess_1\"' >&2\n\
         echo 'rsync warning: some files vanished before they could be transferred (code 24) at main.c(1338) [sender=3.2.7]' >&2\n\
         exit 24\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&rsync, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (r, text) = run_job(
        &env,
        &server,
        &[],
        &[],
        &[rsync.to_str().unwrap(), "-a", "/srv/www", "/backup/"],
    );
    r.assert_code(24);
    let msg = server.messages().pop().unwrap();
    assert!(
        subject_of(&msg).ends_with("nightly WARNING: exit status 24"),
        "{}",
        subject_of(&msg)
    );
    assert!(
        fact(&text, "Meaning").starts_with("rsync exit status 24"),
        "{text}"
    );
}

fn one_run(extra: &[&str], command: &[&str]) -> (Run, String, String) {
    let server = server();
    let env = Env::new(&server);
    let (r, text) = run_job(&env, &server, extra, &[], command);
    let subject = subject_of(&server.messages().pop().unwrap());
    (r, subject, text)
}

/// Any command's statuses can be named; named sets replace a tool's own.
#[test]
fn exit_codes_can_be_named() {
    let (r, subject, _) = one_run(&["--ok-exit-codes", "1"], &["sh", "-c", "exit 1"]);
    r.assert_code(1);
    assert!(subject.starts_with("\u{2705} ["), "{subject}");
    let (r, subject, text) = one_run(
        &["--warning-exit-codes", "3,100-127"],
        &["sh", "-c", "echo 'some files unreadable' >&2; exit 101"],
    );
    r.assert_code(101);
    assert!(
        subject.ends_with("nightly WARNING: exit status 101"),
        "{subject}"
    );
    assert_eq!(fact(&text, "Result"), "exited with status 101 (warning)");
    let (r, subject, _) = one_run(&["--warning-exit-codes", "3"], &["sh", "-c", "exit 2"]);
    r.assert_code(2);
    assert!(
        subject.contains("nightly FAILED: exit status 2"),
        "{subject}"
    );
    // nonsense is a usage error before anything runs
    let env = Env::bare();
    let mut c = env.cmd();
    c.args(["run", "--to", TO, "--warning-exit-codes", "x", "--", "true"]);
    let r = run(c);
    r.assert_code(64);
    assert!(
        r.stderr.contains("`x` is not an exit status"),
        "{}",
        r.stderr
    );
}

/// A prune run mailed as a rotation; a failed one is still a failure.
#[test]
fn status_rotation_marks_a_successful_run() {
    let (r, subject, text) = one_run(&["--status", "rotation"], &["true"]);
    r.assert_code(0);
    assert!(subject.starts_with("\u{1f504} ["), "{subject}");
    assert_eq!(fact(&text, "Status"), "rotation", "{text}");
    let (r, subject, _) = one_run(&["--status", "rotation"], &["false"]);
    r.assert_code(1);
    assert!(subject.starts_with("\u{274c} ["), "{subject}");
    let env = Env::bare();
    let mut c = env.cmd();
    c.args(["run", "--to", TO, "--status", "failure", "--", "true"]);
    run(c).assert_code(64);
}
