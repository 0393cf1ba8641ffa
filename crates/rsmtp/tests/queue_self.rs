//! The queue delivers itself (issue 12), through the built binary: the detached
//! retrier sends a queued message when the relay comes back with no `-q` run by the
//! test, the next invocation brings the waiting mail along, `-q` typed by a person
//! ignores the backoff while `--queue-respect-backoff` keeps it, a killed retrier
//! loses nothing, concurrent flushers never send twice, a flush reuses one SMTP
//! session, `-q1s` loops until SIGTERM, and `--queue-check` reports problems.
//!
//! The relay "comes back" by starting the test server late on a port picked while
//! it was closed. Every wait polls for the event with a deadline.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rsmtp_testserver::{closed_port, Extensions, ServerOptions, TestServer};

use crate::support::*;

/// Shortens the retrier's first delay (see `RSMTP_RETRY_FIRST_DELAY_MS`).
const FIRST_DELAY_ENV: &str = "RSMTP_RETRY_FIRST_DELAY_MS";
/// A first delay no test outlives: the retrier cannot be what delivers.
const NEVER: &str = "600000";

fn config(dir: &Dir, port: u16, mode: &str, extra: &str) -> PathBuf {
    let text = plain_config(
        port,
        &format!(
            "queue {mode}\nqueue_dir {}\nlogfile {}\n{extra}",
            dir.join("queue").display(),
            dir.join("rsmtp.log").display()
        ),
    );
    dir.write("msmtprc", text)
}

fn submit(dir: &Dir, config: &Path, n: usize, first_delay: &str) -> Run {
    dir.rsmtp()
        .env(FIRST_DELAY_ENV, first_delay)
        .args(["-C"])
        .arg(config)
        .arg("-t")
        .stdin(format!(
            "From: app@example.org\nTo: ops@example.net\nSubject: message {n}\n\nbody {n}\n"
        ))
        .run()
}

fn server_on(port: u16) -> TestServer {
    TestServer::start(
        ServerOptions::new()
            .port(port)
            .extensions(Extensions::all()),
    )
}

fn waiting(dir: &Dir) -> usize {
    std::fs::read_dir(dir.join("queue").join("queue"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Polls `done` every 50 ms until it holds or `timeout` passes.
fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

fn subjects(server: &TestServer) -> Vec<String> {
    let mut s: Vec<String> = server
        .messages()
        .iter()
        .filter_map(|m| {
            String::from_utf8_lossy(&m.data)
                .lines()
                .find_map(|l| l.strip_prefix("Subject: ").map(str::to_string))
        })
        .collect();
    s.sort();
    s
}

/// The pids of the retriers working on `queue`.
fn retrier_pids(queue: &Path) -> Vec<u32> {
    let mut pids = Vec::new();
    let needle = format!("--queue-dir={}", queue.display());
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.iter().any(|a| a == "--queue-retrier") && args.contains(&needle) {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn a_queued_message_retries_by_itself_when_the_relay_comes_back() {
    let dir = Dir::new();
    let port = closed_port();
    let config = config(&dir, port, "fallback", "");
    submit(&dir, &config, 1, "300").assert_code(0);
    assert_eq!(waiting(&dir), 1);
    let server = server_on(port);
    // No `-q` here: the detached retrier started by the submission delivers it.
    let got = server.wait_for_messages(1, Duration::from_secs(90));
    assert_eq!(got.len(), 1, "the retrier did not deliver");
    assert!(wait_until(Duration::from_secs(30), || waiting(&dir) == 0));
    assert!(wait_until(Duration::from_secs(30), || retrier_pids(
        &dir.join("queue")
    )
    .is_empty()));
    assert_eq!(server.messages().len(), 1, "delivered exactly once");
}

#[test]
fn a_queue_always_message_that_failed_retries_by_itself() {
    let dir = Dir::new();
    let port = closed_port();
    let config = config(&dir, port, "always", "");
    submit(&dir, &config, 1, "300").assert_code(0);
    // The background delivery fails (closed port) and stays on as the retrier.
    assert!(wait_until(Duration::from_secs(30), || {
        dir.read("rsmtp.log").contains("EX_TEMPFAIL")
    }));
    let server = server_on(port);
    assert_eq!(
        server.wait_for_messages(1, Duration::from_secs(90)).len(),
        1
    );
    assert!(wait_until(Duration::from_secs(30), || waiting(&dir) == 0));
}

#[test]
fn the_next_invocation_brings_the_waiting_mail_whatever_its_backoff() {
    let dir = Dir::new();
    let port = closed_port();
    let config = config(&dir, port, "fallback", "");
    for n in 1..=3 {
        submit(&dir, &config, n, NEVER).assert_code(0);
    }
    assert_eq!(waiting(&dir), 3);
    let server = server_on(port);
    // A new message goes out directly; the three from the outage follow at once.
    submit(&dir, &config, 4, NEVER).assert_code(0);
    let got = server.wait_for_messages(4, Duration::from_secs(60));
    assert_eq!(got.len(), 4, "{:?}", subjects(&server));
    assert!(wait_until(Duration::from_secs(30), || waiting(&dir) == 0));
    assert_eq!(
        subjects(&server),
        ["message 1", "message 2", "message 3", "message 4"]
    );
}

#[test]
fn a_person_s_q_ignores_the_backoff_and_the_timer_s_respects_it() {
    let dir = Dir::new();
    let port = closed_port();
    let config = config(&dir, port, "fallback", "");
    submit(&dir, &config, 1, NEVER).assert_code(0);
    let server = server_on(port);
    let timer = dir
        .rsmtp()
        .env(FIRST_DELAY_ENV, NEVER)
        .args(["-C"])
        .arg(&config)
        .args(["-q", "--queue-respect-backoff"])
        .run();
    timer.assert_code(0);
    assert_eq!(server.messages().len(), 0, "not due: {}", timer.stderr());
    assert_eq!(waiting(&dir), 1);
    let person = dir
        .rsmtp()
        .env(FIRST_DELAY_ENV, NEVER)
        .args(["-C"])
        .arg(&config)
        .arg("-q")
        .run();
    person.assert_code(0);
    assert_eq!(server.messages().len(), 1, "{}", person.stderr());
    assert_eq!(waiting(&dir), 0);
}

#[test]
fn a_killed_retrier_loses_nothing_and_the_next_invocation_picks_up() {
    let dir = Dir::new();
    let port = closed_port();
    let config = config(&dir, port, "fallback", "");
    submit(&dir, &config, 1, NEVER).assert_code(0);
    let queue = dir.join("queue");
    assert!(
        wait_until(Duration::from_secs(30), || !retrier_pids(&queue).is_empty()),
        "no retrier started"
    );
    for pid in retrier_pids(&queue) {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
    assert!(wait_until(Duration::from_secs(30), || retrier_pids(&queue).is_empty()));
    assert_eq!(waiting(&dir), 1, "the entry outlives its retrier");
    let server = server_on(port);
    submit(&dir, &config, 2, NEVER).assert_code(0);
    assert_eq!(
        server.wait_for_messages(2, Duration::from_secs(60)).len(),
        2
    );
    assert!(wait_until(Duration::from_secs(30), || waiting(&dir) == 0));
    assert_eq!(subjects(&server), ["message 1", "message 2"]);
}

#[test]
fn ten_flushes_at_once_send_each_message_once() {
    let dir = Dir::new();
    let port = closed_port();
    let config = config(&dir, port, "fallback", "");
    for n in 1..=5 {
        submit(&dir, &config, n, NEVER).assert_code(0);
    }
    let server = server_on(port);
    let runs: Vec<_> = (0..10)
        .map(|_| {
            let cmd = dir
                .rsmtp()
                .env(FIRST_DELAY_ENV, NEVER)
                .args(["-C"])
                .arg(&config)
                .arg("-q");
            std::thread::spawn(move || cmd.run())
        })
        .collect();
    let mut busy = 0;
    for run in runs {
        let run = run.join().expect("flusher thread");
        run.assert_code(0);
        if run.stderr().contains("another rsmtp is flushing") {
            busy += 1;
        }
    }
    assert!(wait_until(Duration::from_secs(30), || waiting(&dir) == 0));
    assert!(server.wait_for_idle(Duration::from_secs(30)));
    assert_eq!(server.messages().len(), 5, "{:?}", subjects(&server));
    assert!(
        server.connections() + busy <= 10 + 1,
        "a busy flusher opened no session"
    );
}

#[test]
fn a_flush_sends_twenty_messages_over_one_session() {
    let dir = Dir::new();
    let port = closed_port();
    let config = config(&dir, port, "fallback", "");
    for n in 1..=20 {
        submit(&dir, &config, n, NEVER).assert_code(0);
    }
    let server = server_on(port);
    // The sleeping retrier may be looking at the queue right now: a person's `-q`
    // waits for it and then flushes.
    let run = dir
        .rsmtp()
        .env(FIRST_DELAY_ENV, NEVER)
        .args(["-C"])
        .arg(&config)
        .arg("-q")
        .run();
    run.assert_code(0);
    assert!(!run.stderr().contains("another rsmtp"), "{}", run.stderr());
    assert_eq!(server.messages().len(), 20);
    assert!(server.wait_for_idle(Duration::from_secs(30)));
    assert_eq!(server.connections(), 1, "one session for 20 messages");
    let rsets = server
        .transcript()
        .entries
        .iter()
        .filter(|e| e.text == "RSET")
        .count();
    assert_eq!(rsets, 19, "RSET between messages");
}

#[test]
fn q_with_an_interval_flushes_until_sigterm() {
    let dir = Dir::new();
    let port = closed_port();
    let config = config(&dir, port, "fallback", "");
    submit(&dir, &config, 1, "200").assert_code(0);
    // Keep the retrier out of it: this test is about the foreground loop.
    let queue = dir.join("queue");
    assert!(wait_until(Duration::from_secs(30), || !retrier_pids(
        &queue
    )
    .is_empty()));
    for pid in retrier_pids(&queue) {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
    let server = server_on(port);
    let mut cmd = dir.rsmtp().env(FIRST_DELAY_ENV, "200").cmd;
    let mut child = cmd
        .args(["-C"])
        .arg(&config)
        .arg("-q1s")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn rsmtp -q1s");
    let got = server.wait_for_messages(1, Duration::from_secs(60));
    // A second message queued while it runs goes out on a later round.
    submit(&dir, &config, 2, "200").assert_code(0);
    let got2 = server.wait_for_messages(2, Duration::from_secs(60));
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let mut status = None;
    assert!(wait_until(Duration::from_secs(30), || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    }));
    assert_eq!(got.len(), 1);
    assert_eq!(got2.len(), 2);
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "SIGTERM ends it cleanly"
    );
}

#[test]
fn queue_check_reports_old_and_failed_messages() {
    let dir = Dir::new();
    let port = closed_port();
    let config = config(&dir, port, "fallback", "queue_expire 1s\n");
    let check = |age: &str| {
        dir.rsmtp()
            .args(["-C"])
            .arg(&config)
            .arg(format!("--queue-check={age}"))
            .run()
    };
    let empty = dir
        .rsmtp()
        .args(["-C"])
        .arg(&config)
        .arg("--queue-check")
        .run();
    empty.assert_code(0);
    assert_eq!(empty.stdout(), "");
    submit(&dir, &config, 1, NEVER).assert_code(0);
    check("1h").assert_code(0);
    assert!(wait_until(Duration::from_secs(20), || check("1s").code() == 1));
    let old = check("1s");
    assert!(old.stdout().contains("waiting for"), "{}", old.stdout());
    assert_eq!(old.stdout().lines().count(), 1);
    // The one attempt at submission, in the singular.
    assert!(old.stdout().contains("(1 attempt; "), "{}", old.stdout());
    // Expired (queue_expire 1s) at the next attempt: a failed entry is a problem at any age.
    dir.rsmtp()
        .env(FIRST_DELAY_ENV, NEVER)
        .args(["-C"])
        .arg(&config)
        .arg("-q")
        .run();
    let failed = check("1h");
    failed.assert_code(1);
    assert!(failed.stdout().contains("failed"), "{}", failed.stdout());
}

/// A small tmpfs mounted at `path` for the life of the value (root only).
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(path: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(path).expect("mount point");
        let status = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount a tmpfs at {}", path.display());
        SmallDisk(path.to_path_buf())
    }

    /// Writes a filler file until the disk is full.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.0.join("filler");
        let mut f = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).is_ok() {}
        // The last partial block too: nothing at all is left.
        while f.write_all(&[0]).is_ok() {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_full_disk_while_retrying_keeps_the_entry_and_says_why() {
    if !require(is_root(), "root (to mount a small tmpfs)") {
        return;
    }
    let dir = Dir::new();
    let disk = SmallDisk::mount(&dir.join("queue"), "1m");
    let port = closed_port();
    let config = config(&dir, port, "fallback", "");
    submit(&dir, &config, 1, NEVER).assert_code(0);
    assert_eq!(waiting(&dir), 1);
    let filler = disk.fill();

    // Still down, and the attempt's new envelope cannot be written.
    let flush = dir
        .rsmtp()
        .env(FIRST_DELAY_ENV, NEVER)
        .args(["-C"])
        .arg(&config)
        .arg("-q")
        .run();
    assert_ne!(flush.code(), 0, "{}", flush.stderr());
    assert!(
        flush.stderr().contains("No space left on device"),
        "{}",
        flush.stderr()
    );
    let log = std::fs::read_to_string(dir.join("rsmtp.log")).unwrap_or_default();
    assert!(
        log.contains("No space left on device"),
        "the log says why:\n{log}"
    );
    assert_eq!(waiting(&dir), 1, "the entry stays");

    // Room again, relay back: delivered once, whole.
    std::fs::remove_file(filler).expect("remove the filler");
    let server = server_on(port);
    dir.rsmtp()
        .env(FIRST_DELAY_ENV, NEVER)
        .args(["-C"])
        .arg(&config)
        .arg("-q")
        .run()
        .assert_code(0);
    assert_eq!(subjects(&server), ["message 1"]);
    assert!(String::from_utf8_lossy(&server.messages()[0].data).contains("body 1"));
    assert_eq!(waiting(&dir), 0);
}

/// One message through `rsmtp -C config -bs`, as Symfony's `sendmail -bs` transport
/// speaks it; returns the SMTP replies.
fn submit_over_bs(dir: &Dir, config: &Path, subject: &str) -> Run {
    dir.rsmtp()
        .env(FIRST_DELAY_ENV, NEVER)
        .args(["-C"])
        .arg(config)
        .arg("-bs")
        .stdin(format!(
            "EHLO app.example\r\nMAIL FROM:<app@example.org>\r\nRCPT TO:<ops@example.net>\r\n\
             DATA\r\nSubject: {subject}\r\n\r\nbody\r\n.\r\nQUIT\r\n"
        ))
        .run()
}

#[test]
fn a_message_through_bs_brings_the_waiting_mail_along() {
    let dir = Dir::new();
    let port = closed_port();
    let config = config(&dir, port, "fallback", "");
    submit(&dir, &config, 1, NEVER).assert_code(0);
    assert_eq!(waiting(&dir), 1);
    let server = server_on(port);
    let bs = submit_over_bs(&dir, &config, "message 2");
    bs.assert_code(0);
    assert!(bs.stdout().contains("250"), "{}", bs.stdout());
    // No `-q`: the -bs delivery proved the relay is back, and its detached flush
    // sends the waiting message whatever its backoff.
    assert_eq!(
        server.wait_for_messages(2, Duration::from_secs(30)).len(),
        2
    );
    assert_eq!(subjects(&server), ["message 1", "message 2"]);
    assert!(wait_until(Duration::from_secs(30), || waiting(&dir) == 0));
}

/// www-data in the PHP images: home `/var/www`, owned by root. With no `queue_dir`,
/// `queue fallback` keeps the message in `/var/tmp/rsmtp-<uid>` instead of failing
/// with 73, and a later `rsmtp -q` of the same user delivers it from there.
#[test]
fn a_user_whose_home_is_not_writable_queues_in_var_tmp() {
    if !require(is_root(), "root (to run rsmtp as nobody)") {
        return;
    }
    let nobody = 65534;
    let fallback = PathBuf::from(format!("/var/tmp/rsmtp-{nobody}"));
    let _ = std::fs::remove_dir_all(&fallback);
    let dir = Dir::new();
    let home = dir.join("www");
    std::fs::create_dir(&home).expect("home");
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod home");
    let port = closed_port();
    let config = dir.write(
        "msmtprc",
        plain_config(port, "queue fallback\nqueue_retry_for 1s"),
    );
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod config");
    let rsmtp = rsmtp_for_nobody(&dir);
    let as_nobody = |args: &[&str], input: &str| {
        dir.command("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(&rsmtp)
            .arg("-C")
            .arg(&config)
            .args(args)
            .env("HOME", &home)
            .env_remove("XDG_STATE_HOME")
            .env_remove("RSMTP_QUEUE_DIR")
            .env(FIRST_DELAY_ENV, NEVER)
            .stdin(input)
            .run()
    };
    let queued = as_nobody(
        &["ops@example.net"],
        "From: app@example.org\nSubject: from php\n\nbody\n",
    );
    queued.assert_code(0);
    assert!(
        queued.stderr().contains("message queued as"),
        "{}",
        queued.stderr()
    );
    let entries = std::fs::read_dir(fallback.join("queue"))
        .map(|d| d.count())
        .unwrap_or(0);
    let owner = std::os::unix::fs::MetadataExt::uid(
        &std::fs::metadata(&fallback).expect("the fallback queue exists"),
    );
    assert_eq!((entries, owner), (1, nobody));

    let server = server_on(port);
    as_nobody(&["-q"], "").assert_code(0);
    assert_eq!(subjects(&server), ["from php"]);
    let _ = std::fs::remove_dir_all(&fallback);
}

/// One queue, two accounts: the retrier started for a short-lived account's message
/// keeps going for the other account's message as long as that one's own
/// `queue_retry_for` says.
#[test]
fn the_retrier_keeps_each_messages_own_retry_bound() {
    let dir = Dir::new();
    let port = closed_port();
    let queue = dir.join("queue");
    let account = |name: &str, retry_for: &str| {
        format!(
            "account {name}\nhost 127.0.0.1\nport {port}\nauth off\ntls off\n\
             from {name}@example.org\nqueue fallback\nqueue_dir {}\nqueue_retry_for {retry_for}\n\n",
            queue.display()
        )
    };
    let config = dir.write(
        "msmtprc",
        format!("{}{}", account("brief", "1s"), account("patient", "1h")),
    );
    for name in ["brief", "patient"] {
        dir.rsmtp()
            .env(FIRST_DELAY_ENV, "500")
            .args(["-C"])
            .arg(&config)
            .args(["-a", name, "ops@example.net"])
            .stdin(format!("Subject: from {name}\n\nbody\n"))
            .run()
            .assert_code(0);
    }
    // Past the brief account's bound (its retrier started first, with 1 s): the
    // patient message has been retried since, so a retrier is still at work.
    let patient_retried = || {
        let mailq = dir
            .rsmtp()
            .arg(format!("--queue-dir={}", queue.display()))
            .arg("-bp")
            .run()
            .stdout();
        mailq.contains("(attempt 3,")
    };
    assert!(
        wait_until(Duration::from_secs(60), patient_retried),
        "no retries"
    );
    let server = server_on(port);
    // No `-q`: the retrier that is still running delivers both.
    assert_eq!(
        server.wait_for_messages(2, Duration::from_secs(60)).len(),
        2
    );
    assert_eq!(subjects(&server), ["from brief", "from patient"]);
}
