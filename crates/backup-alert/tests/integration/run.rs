//! `run`: exit status passed through (own status, 128+signal, 124, 127), the alert's
//! content, `--only-failure`, and SIGTERM forwarded to the child.

use std::process::Stdio;
use std::time::{Duration, Instant};

use rsmtp_testserver::{Fault, ServerOptions, Step, TestServer};

use crate::*;

fn run_cmd(env: &Env, extra: &[&str], command: &[&str]) -> Run {
    let mut args = vec!["run", "--to", TO, "--no-flood"];
    args.extend_from_slice(extra);
    let mut c = env.sub(&args);
    c.arg("--").args(command);
    run(c)
}

#[test]
fn success_is_mailed_with_output_tails() {
    let server = server();
    let env = Env::new(&server);
    run_cmd(
        &env,
        &["--name", "nightly"],
        &["sh", "-c", "echo archive created; echo 'warning: <x>' >&2"],
    )
    .assert_code(0);
    let msg = one_message(&server);
    let parsed = parse(&msg);
    let subject = parsed.subject().unwrap();
    assert!(subject.starts_with("✅ ["), "{subject}");
    assert!(subject.ends_with("nightly succeeded"), "{subject}");
    let text = norm(parsed.body_text(0).unwrap());
    assert!(text.contains("archive created"), "{text}");
    assert!(text.contains("warning: <x>"));
    assert!(fact(&text, "Command").starts_with("sh -c"), "{text}");
    assert_eq!(
        fact(&text, "Result"),
        "exited with status 0 (success)",
        "{text}"
    );
    assert!(parsed.body_html(0).unwrap().contains("warning: &lt;x&gt;"));
}

#[test]
fn failure_exit_status_is_passed_through() {
    let server = server();
    let env = Env::new(&server);
    run_cmd(
        &env,
        &["--name", "db dump"],
        &[
            "sh",
            "-c",
            "echo 'pg_dump: error: connection refused' >&2; exit 3",
        ],
    )
    .assert_code(3);
    let parsed_msg = one_message(&server);
    let parsed = parse(&parsed_msg);
    let subject = parsed.subject().unwrap();
    assert!(subject.starts_with("❌ ["), "{subject}");
    assert!(
        subject.contains("db dump FAILED: exit status 3"),
        "{subject}"
    );
    assert!(norm(parsed.body_text(0).unwrap()).contains("pg_dump: error: connection refused"));
}

#[test]
fn long_output_is_cut_to_the_tail() {
    let server = server();
    let env = Env::new(&server);
    run_cmd(&env, &["--tail-lines", "5"], &["sh", "-c", "seq 1 100000"]).assert_code(0);
    let msg = one_message(&server);
    let text = text_of(&msg);
    assert!(
        text.contains("99996\n99997\n99998\n99999\n100000"),
        "{text}"
    );
    assert!(!text.contains("\n99995\n"));
    assert!(text.contains("earlier output left out"));
    assert!(msg.size < 20_000, "message is {} bytes", msg.size);
}

#[test]
fn only_failure_is_silent_on_success_but_reports_recovery() {
    let server = server();
    let env = Env::new(&server);
    let job = |cmd: &str| {
        let mut c = env.sub(&["run", "--to", TO, "--only-failure", "--name", "sync"]);
        c.arg("--").args(["sh", "-c", cmd]);
        run(c)
    };
    // `run` has exited: anything it sent has been received.
    job("true").assert_code(0);
    assert_eq!(server.connections(), 0, "a success must be silent");
    job("exit 2").assert_code(2);
    assert_eq!(server.wait_for_messages(1, WAIT).len(), 1);
    job("true").assert_code(0);
    let msgs = server.wait_for_messages(2, WAIT);
    assert_eq!(msgs.len(), 2, "the recovery is mailed");
    assert!(text_of(&msgs[1]).contains("Recovered"));
    job("true").assert_code(0);
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn timeout_is_124() {
    let server = server();
    let env = Env::new(&server);
    let t = Instant::now();
    run_cmd(
        &env,
        &["--timeout", "1s", "--kill-after", "1s"],
        &["sh", "-c", "echo started; sleep 60"],
    )
    .assert_code(124);
    assert!(t.elapsed() < Duration::from_secs(20));
    let msg = one_message(&server);
    let parsed = parse(&msg);
    assert!(
        parsed
            .subject()
            .unwrap()
            .contains("timed out after 1.0 second (exit status 124)"),
        "{:?}",
        parsed.subject()
    );
    assert!(norm(parsed.body_text(0).unwrap()).contains("started"));
}

#[test]
fn signalled_command_is_128_plus_signal() {
    let server = server();
    let env = Env::new(&server);
    run_cmd(&env, &[], &["sh", "-c", "kill -TERM $$"]).assert_code(143);
    let msg = one_message(&server);
    assert!(parse(&msg)
        .subject()
        .unwrap()
        .contains("killed by signal 15 (TERM)"));
}

#[test]
fn missing_command_is_127_and_mailed() {
    let server = server();
    let env = Env::new(&server);
    run_cmd(&env, &[], &["/nonexistent/backup.sh"]).assert_code(127);
    let msg = one_message(&server);
    assert!(parse(&msg).subject().unwrap().contains("command not found"));
}

#[test]
fn usage_error_does_not_run_the_command() {
    let server = server();
    let env = Env::new(&server);
    let marker = env.path("ran");
    let mut c = env.sub(&["run"]);
    c.arg("--").args(["touch", marker.to_str().unwrap()]);
    run(c).assert_code(64); // no recipients anywhere
    assert!(!marker.exists());
}

#[test]
fn sigterm_is_forwarded_to_the_child() {
    let server = server();
    let env = Env::new(&server);
    let mut c = env.sub(&["run", "--to", TO, "--name", "long job", "--no-flood"]);
    let started = env.path("started");
    let script = format!("echo waiting; touch {}; sleep 60", started.display());
    c.arg("--").args(["sh", "-c", &script]);
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().expect("spawn");
    // The handlers are in place before the command starts: wait for the command.
    let deadline = Instant::now() + WAIT;
    while !started.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(started.exists(), "the command never started");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let t = Instant::now();
    let out = child.wait_with_output().expect("wait");
    assert!(t.elapsed() < Duration::from_secs(15));
    assert_eq!(
        out.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let msg = one_message(&server);
    let text = text_of(&msg);
    assert!(text.contains("SIGTERM received and forwarded"), "{text}");
    assert!(text.contains("waiting"));
}

/// After the command has ended, Ctrl-C stops backup-alert (here: a delivery to a relay
/// that never answers) instead of being ignored until rsmtp's timeout.
#[test]
fn ctrl_c_after_the_command_is_not_ignored() {
    use std::os::unix::process::ExitStatusExt;
    let server = TestServer::start(ServerOptions::new().fault(Fault::Hang(Step::Greeting)));
    let env = Env::new(&server);
    let mut c = env.sub(&["run", "--to", TO, "--no-flood"]);
    let done = env.path("done");
    c.arg("--")
        .args(["sh", "-c", &format!("touch {}", done.display())]);
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().expect("spawn");
    let deadline = Instant::now() + WAIT;
    while !done.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(done.exists(), "the command never ran");
    // backup-alert has seen the command end once its delivery (which hangs) connects.
    assert_eq!(
        server.wait_for_connections(1, WAIT),
        1,
        "the delivery never started"
    );
    let t = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "SIGINT was ignored for {:?}",
        t.elapsed()
    );
    assert_eq!(out.status.signal(), Some(2), "{:?}", out.status);
}

#[test]
fn the_wrapped_command_keeps_its_core_dump_limits() {
    // backup-alert keeps its own memory (the msmtprc's password) out of core files
    // without taking the core limits of the backup it runs (rsmtp sets both to 0).
    let limits = "echo core-limits=$(ulimit -c)/$(ulimit -Hc)";
    let direct = std::process::Command::new("sh")
        .args(["-c", limits])
        .output()
        .expect("sh");
    let expected = String::from_utf8_lossy(&direct.stdout).trim().to_string();
    let server = server();
    let env = Env::new(&server);
    run_cmd(&env, &["--name", "limits"], &["sh", "-c", limits]).assert_code(0);
    let text = norm(parse(&one_message(&server)).body_text(0).unwrap());
    assert!(text.contains(&expected), "want {expected} in:\n{text}");
}
