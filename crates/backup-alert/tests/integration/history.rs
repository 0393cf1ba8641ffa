//! The history strip: each job's last results from the state file (✅✅❌✅), the date of
//! the last success, and a recovery's subject saying it recovered.

use crate::*;

fn job(env: &Env, command: &str) -> Run {
    let mut c = env.sub(&["run", "--to", TO, "--no-flood", "--name", "nightly"]);
    c.arg("--").args(["sh", "-c", command]);
    run(c)
}

#[test]
fn each_alert_shows_the_last_runs_and_a_recovery_says_so() {
    let server = server();
    let env = Env::new(&server);
    job(&env, "true").assert_code(0);
    job(&env, "true").assert_code(0);
    job(&env, "echo 'borg: error: repository locked' >&2; exit 2").assert_code(2);
    job(&env, "true").assert_code(0);
    let msgs = server.wait_for_messages(4, WAIT);
    assert_eq!(msgs.len(), 4);
    let failure = text_of(&msgs[2]);
    assert!(
        fact(&failure, "Last runs").starts_with("\u{2705}\u{2705}\u{274c} (3 runs"),
        "{failure}"
    );
    assert!(
        fact(&failure, "Last good backup").contains(" ago ("),
        "{failure}"
    );
    let recovery = text_of(&msgs[3]);
    assert!(
        fact(&recovery, "Last runs").starts_with("\u{2705}\u{2705}\u{274c}\u{2705} (4 runs"),
        "{recovery}"
    );
    assert_eq!(fact(&recovery, "Last good backup"), "this run");
    assert!(
        recovery.contains("Recovered: nightly had 1 bad run since "),
        "{recovery}"
    );
    let subject = parse(&msgs[3]).subject().unwrap_or_default().to_string();
    assert!(
        subject.ends_with("Recovered: nightly succeeded"),
        "{subject}"
    );
    let html = parse(&msgs[3])
        .body_html(0)
        .unwrap_or_default()
        .into_owned();
    assert!(html.contains("\u{2705}\u{2705}\u{274c}\u{2705}"), "{html}");
}

#[test]
fn the_last_good_backup_is_dated_from_the_state_file() {
    let server = server();
    let env = Env::new(&server);
    let now = chrono::Utc::now().timestamp();
    let day = 86_400;
    let state = env.path("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("alerts.state"),
        format!(
            "history\t{h}\tnightly\t{ok}\tsuccess:{ok},failure:{f1},failure:{f2}\n",
            h = host(),
            ok = now - 3 * day,
            f1 = now - 2 * day,
            f2 = now - day,
        ),
    )
    .unwrap();
    job(&env, "echo 'rsync: connection refused' >&2; exit 10").assert_code(10);
    let text = text_of(&one_message(&server));
    assert!(
        fact(&text, "Last runs").starts_with("\u{2705}\u{274c}\u{274c}\u{274c} (4 runs"),
        "{text}"
    );
    assert!(
        fact(&text, "Last good backup").starts_with("3 days ago ("),
        "{text}"
    );
}
