//! `forget JOB` removes a retired job from the state, the metrics and the digest;
//! `history JOB` lists its results.

use crate::*;

fn job_run(env: &Env, name: &str, script: &str) -> Run {
    let mut c = env.sub(&[
        "run",
        "--to",
        TO,
        "--no-flood",
        "--only-failure",
        "--name",
        name,
    ]);
    c.args(["--", "sh", "-c", script]);
    run(c)
}

#[test]
fn forget_removes_a_retired_job_from_state_metrics_and_digest() {
    let server = server();
    let env = Env::new(&server);
    let prom = env.path("backup_alert.prom");
    std::fs::create_dir_all(env.home.join(".config/backup-alert")).unwrap();
    std::fs::write(
        env.home.join(".config/backup-alert/config"),
        format!("[default]\nmetrics_file = {}\n", prom.display()),
    )
    .unwrap();
    job_run(&env, "old-server", "true").assert_code(0);
    job_run(&env, "nightly", "true").assert_code(0);
    let metrics = std::fs::read_to_string(&prom).unwrap();
    assert!(metrics.contains("backup_job=\"old-server\""), "{metrics}");

    let r = run({
        let mut c = env.cmd();
        c.args(["forget", "old-server"]);
        c
    });
    r.assert_code(0);
    assert!(r.stderr.contains("forgot `old-server`"), "{}", r.stderr);
    let metrics = std::fs::read_to_string(&prom).unwrap();
    assert!(!metrics.contains("old-server"), "{metrics}");
    assert!(metrics.contains("backup_job=\"nightly\""), "{metrics}");
    let digest = run({
        let mut c = env.cmd();
        c.args(["report", "--print", "--since", "7d", "--to", TO]);
        c
    });
    digest.assert_code(0);
    assert!(!digest.stdout.contains("old-server"), "{}", digest.stdout);
    assert!(digest.stdout.contains("nightly"), "{}", digest.stdout);
    // gone from the history too; forgetting it again says what is recorded
    let mut c = env.cmd();
    c.args(["history", "old-server"]);
    run(c).assert_code(1);
    let mut c = env.cmd();
    c.args(["forget", "old-server"]);
    let r = run(c);
    r.assert_code(1);
    assert!(r.stderr.contains("(recorded: nightly)"), "{}", r.stderr);
}

#[test]
fn history_lists_a_jobs_results_oldest_first() {
    let server = server();
    let env = Env::new(&server);
    job_run(&env, "nightly", "true").assert_code(0);
    job_run(&env, "nightly", "exit 2").assert_code(2);
    job_run(&env, "nightly", "true").assert_code(0);
    let mut c = env.cmd();
    c.args(["history", "nightly"]);
    let r = run(c);
    r.assert_code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    assert!(lines[0].starts_with("nightly on "), "{}", r.stdout);
    assert!(
        lines[1].contains("\u{2705} success") && lines[1].contains("exit 0"),
        "{}",
        r.stdout
    );
    assert!(
        lines[2].contains("\u{274c} failure") && lines[2].contains("exit 2"),
        "{}",
        r.stdout
    );
    assert!(lines[3].contains("\u{2705} success"), "{}", r.stdout);
    let mut c = env.cmd();
    c.args(["history", "nightly", "--last", "1"]);
    let r = run(c);
    assert_eq!(r.stdout.lines().count(), 2, "{}", r.stdout);
}
