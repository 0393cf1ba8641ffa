//! Silence is noticed: `check --job NAME --max-age` mails when a job that `run` records
//! has not succeeded in time (the host is up, cron or the script is not).

use crate::*;

fn check_job(env: &Env, job: &str, max_age: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "check",
        "--job",
        job,
        "--max-age",
        max_age,
        "--to",
        TO,
        "--no-flood",
    ];
    args.extend_from_slice(extra);
    run(env.sub(&args))
}

fn subject_of(msg: &rsmtp_testserver::ReceivedMessage) -> String {
    parse(msg).subject().unwrap_or_default().to_string()
}

/// A job never recorded: a warning that says so, with the cron advice.
#[test]
fn a_job_never_recorded_is_a_warning() {
    let server = server();
    let env = Env::new(&server);
    check_job(&env, "nightly", "26h", &[]).assert_code(1);
    let msg = one_message(&server);
    assert!(
        subject_of(&msg).ends_with("No backup found: nightly"),
        "{}",
        subject_of(&msg)
    );
    let text = text_of(&msg);
    assert_eq!(fact(&text, "Last success"), "none recorded", "{text}");
    assert!(fact(&text, "What to do").contains("`grep CRON "), "{text}");
}

/// A silent success of `run --only-failure` counts; the check's own fresh result does not
/// become a run of the job; a job that only failed has not succeeded.
#[test]
fn a_recorded_success_is_fresh_and_failures_are_not() {
    let server = server();
    let env = Env::new(&server);
    let job = |cmd: &str| {
        let mut c = env.sub(&["run", "--to", TO, "--only-failure", "--name", "nightly"]);
        c.args(["--", "sh", "-c", cmd]);
        run(c)
    };
    job("true").assert_code(0);
    check_job(&env, "nightly", "26h", &["--quiet-ok"]).assert_code(0);
    assert_eq!(
        server.connections(),
        0,
        "fresh and --quiet-ok: nothing sent"
    );
    check_job(&env, "nightly", "26h", &[]).assert_code(0);
    assert!(subject_of(&one_message(&server)).ends_with("Backup fresh: nightly"));

    let other = crate::server();
    let env = Env::new(&other);
    let mut c = env.sub(&["run", "--to", TO, "--no-flood", "--name", "nightly"]);
    c.args(["--", "false"]);
    run(c).assert_code(1);
    check_job(&env, "nightly", "26h", &[]).assert_code(1);
    let msgs = other.wait_for_messages(2, WAIT);
    let text = text_of(&msgs[1]);
    assert!(
        subject_of(&msgs[1]).ends_with("Backup too old: nightly"),
        "{text}"
    );
    assert!(text.contains("nightly has no success recorded"), "{text}");
    assert!(fact(&text, "Last run").ends_with(": failure"), "{text}");
}

/// A success three days old (the state file as `run` left it then) is too old for 26h.
#[test]
fn an_old_success_is_too_old() {
    let server = server();
    let env = Env::new(&server);
    let state = env.path("state");
    std::fs::create_dir_all(&state).unwrap();
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3 * 86_400;
    std::fs::write(
        state.join("alerts.state"),
        format!("history\t{}\tnightly\t{t}\tsuccess:{t}\n", host()),
    )
    .unwrap();
    check_job(&env, "nightly", "26h", &[]).assert_code(1);
    let text = text_of(&one_message(&server));
    assert!(
        text.contains("nightly last succeeded 3 days ago (limit 1 day 2 hours)"),
        "{text}"
    );
    assert!(
        fact(&text, "Last success").ends_with("(3 days ago)"),
        "{text}"
    );
}
