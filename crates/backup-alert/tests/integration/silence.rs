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

/// A healthchecks.io-style watcher on 127.0.0.1: each request as `METHOD PATH BODY`,
/// answered 200 (or `status`).
struct Watcher {
    url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Watcher {
    fn start(status: u16) -> Watcher {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://127.0.0.1:{}/ping/uuid-1",
            listener.local_addr().unwrap().port()
        );
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let words: Vec<&str> = first.split_whitespace().collect();
                seen.lock().unwrap().push(format!(
                    "{} {} {}",
                    words.first().unwrap_or(&""),
                    words.get(1).unwrap_or(&""),
                    String::from_utf8_lossy(&body).trim()
                ));
                let _ = write!(
                    &stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK"
                );
            }
        });
        Watcher { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// `run --ping-url`: start before the command, success or fail after it, with the
/// output as the body; the backup's own status is untouched.
#[test]
fn run_pings_a_watcher_before_and_after_the_command() {
    let server = server();
    let env = Env::new(&server);
    let watcher = Watcher::start(200);
    let ok = run(env.sub(&[
        "run",
        "--name",
        "nightly",
        "--to",
        TO,
        "--ping-url",
        &watcher.url,
        "--",
        "sh",
        "-c",
        "echo copied 3 files",
    ]));
    ok.assert_code(0);
    let bad = run(env.sub(&[
        "run",
        "--name",
        "nightly",
        "--to",
        TO,
        "--ping-url",
        &watcher.url,
        "--",
        "sh",
        "-c",
        "echo disk full >&2; exit 2",
    ]));
    bad.assert_code(2);
    assert_eq!(
        watcher.requests(),
        [
            "POST /ping/uuid-1/start ",
            "POST /ping/uuid-1 copied 3 files",
            "POST /ping/uuid-1/start ",
            "POST /ping/uuid-1/fail disk full",
        ]
    );
}

/// `send --ping-url` and `check --ping-url`: the same watcher protocol as `run` (no
/// start ping: nothing runs): URL on success, URL/fail on a failure or a stale backup,
/// the message or the problem as the body.
#[test]
fn send_and_check_ping_a_watcher() {
    let server = server();
    let env = Env::new(&server);
    let watcher = Watcher::start(200);
    let send = |status: &str, body: &str| {
        run(env.sub(&[
            "send",
            "--status",
            status,
            "--subject",
            "nightly",
            "--body",
            body,
            "--to",
            TO,
            "--no-flood",
            "--ping-url",
            &watcher.url,
        ]))
        .assert_code(0);
    };
    send("success", "copied 3 files");
    send("failure", "disk full");
    let dir = env.path("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("db.tar");
    std::fs::write(&file, "x").unwrap();
    let check = |code: i32| {
        run(env.sub(&[
            "check",
            "--path",
            dir.to_str().unwrap(),
            "--max-age",
            "26h",
            "--to",
            TO,
            "--no-flood",
            "--ping-url",
            &watcher.url,
        ]))
        .assert_code(code);
    };
    check(0);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 3600))
        .unwrap();
    check(1);
    check_job(&env, "weekly", "26h", &["--ping-url", &watcher.url]).assert_code(1);
    let seen = watcher.requests();
    assert_eq!(
        seen[..2],
        [
            "POST /ping/uuid-1 copied 3 files",
            "POST /ping/uuid-1/fail disk full",
        ],
        "{seen:?}"
    );
    assert!(
        seen[2].starts_with("POST /ping/uuid-1 The newest backup is "),
        "{seen:?}"
    );
    assert!(
        seen[3].starts_with("POST /ping/uuid-1/fail ")
            && seen[3].contains("db.tar: newest file is"),
        "{seen:?}"
    );
    assert!(
        seen[4] == "POST /ping/uuid-1/fail weekly: no run recorded",
        "{seen:?}"
    );
    assert_eq!(seen.len(), 5, "{seen:?}");
}

/// A watcher that is down or refuses is a warning; the backup still runs and keeps its
/// status. A plain-HTTP URL to another host is refused before anything runs.
#[test]
fn a_ping_that_fails_never_changes_the_backup() {
    let server = server();
    let env = Env::new(&server);
    let refusing = Watcher::start(500);
    let r = run(env.sub(&[
        "run",
        "--name",
        "nightly",
        "--to",
        TO,
        "--ping-url",
        &refusing.url,
        "--",
        "true",
    ]));
    r.assert_code(0);
    assert!(
        r.stderr.contains("ping not sent:") && r.stderr.contains("HTTP 500"),
        "{}",
        r.stderr
    );
    let down = format!("http://127.0.0.1:{}/x", rsmtp_testserver::closed_port());
    let r = run(env.sub(&[
        "run",
        "--name",
        "nightly",
        "--to",
        TO,
        "--ping-url",
        &down,
        "--",
        "true",
    ]));
    r.assert_code(0);
    assert!(r.stderr.contains("ping not sent:"), "{}", r.stderr);
    let r = run(env.sub(&[
        "run",
        "--name",
        "nightly",
        "--to",
        TO,
        "--ping-url",
        "http://hc.example.org/x",
        "--",
        "touch",
        "ran",
    ]));
    r.assert_code(64);
    assert!(
        !env.path("ran").exists(),
        "the backup must not run with a bad option"
    );
}
