//! The durable queue through the built binary: nothing is lost when the relay is
//! down, nothing is sent twice, permanent failures are never queued, expired messages
//! produce a failure notice, and the log keeps `exitcode=EX_OK` for real deliveries.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rsmtp_testserver::{closed_port, Extensions, Fault, ServerOptions, Step, TestServer};

use crate::support::*;

const MESSAGE: &str = "From: Backup <backup@example.org>\n\
                       To: admin@example.net\n\
                       Subject: nightly backup FAILED\n\
                       \n\
                       borg exited with status 2\n\
                       .leading dot line\n";

/// A config for a plain loopback server on `port` with the queue in `dir/queue`.
fn queue_config(dir: &Dir, port: u16, mode: &str, extra: &str) -> PathBuf {
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

/// `rsmtp -C config -t` with [`MESSAGE`] on stdin, as PHP or cron submits it.
fn submit(dir: &Dir, config: &Path) -> Run {
    dir.rsmtp()
        .args(["-C"])
        .arg(config)
        .arg("-t")
        .stdin(MESSAGE)
        .run()
}

/// The message files of every entry still queued (not failed).
fn queued_messages(queue: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(queue.join("queue")) else {
        return found;
    };
    for e in entries.flatten() {
        let m = e.path().join("message");
        if m.is_file() {
            found.push(m);
        }
    }
    found
}

/// The ids of the entries still queued (their directory names).
fn queued_ids(queue: &Path) -> Vec<String> {
    queued_messages(queue)
        .iter()
        .filter_map(|m| {
            m.parent()?
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .collect()
}

/// Make entry `id` look `by` older: its envelope's `submitted:` time moves back, the
/// file replaced by rename with its mode kept, as the queue itself writes it.
fn age_entry(queue: &Path, id: &str, by: Duration) {
    use std::os::unix::fs::PermissionsExt;
    let envelope = queue.join("queue").join(id).join("envelope");
    let text = std::fs::read_to_string(&envelope).expect("envelope");
    let mut aged = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|line| match line.strip_prefix("submitted: ") {
            Some(time) => {
                let (secs, nanos) = time.split_once('.').expect("seconds.nanoseconds");
                let secs: u64 = secs.parse().expect("seconds");
                aged += 1;
                format!("submitted: {}.{nanos}", secs - by.as_secs())
            }
            None => line.to_string(),
        })
        .collect();
    assert_eq!(aged, 1, "one submitted: line in {text}");
    let mode = std::fs::metadata(&envelope)
        .expect("mode")
        .permissions()
        .mode();
    let new = envelope.with_file_name("envelope.aged");
    std::fs::write(&new, lines.join("\n") + "\n").expect("write");
    std::fs::set_permissions(&new, std::fs::Permissions::from_mode(mode)).expect("chmod");
    std::fs::rename(&new, &envelope).expect("rename");
}

fn log_lines(dir: &Dir) -> Vec<String> {
    dir.read("rsmtp.log").lines().map(str::to_string).collect()
}

#[test]
fn relay_down_message_is_queued_then_flushed_once_with_identical_bytes() {
    let dir = Dir::new();
    let port = closed_port();
    let config = queue_config(&dir, port, "fallback", "");

    let run = submit(&dir, &config);
    run.assert_code(0);
    assert!(
        run.stderr().contains("queued as"),
        "stderr: {}",
        run.stderr()
    );

    let files = queued_messages(&dir.join("queue"));
    assert_eq!(files.len(), 1, "one complete entry on disk");
    let queued_bytes = std::fs::read(&files[0]).unwrap();

    // The queued attempt is logged as a temporary failure, never as EX_OK.
    let lines = log_lines(&dir);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("exitcode=EX_TEMPFAIL"), "{}", lines[0]);
    assert!(!lines[0].contains("EX_OK"));

    let listing = dir.rsmtp().args(["-C"]).arg(&config).arg("-bp").run();
    listing.assert_code(0);
    assert!(
        listing.stdout().contains("admin@example.net"),
        "{}",
        listing.stdout()
    );
    assert!(
        listing.stdout().contains("sender@example.org"),
        "{}",
        listing.stdout()
    );

    // The relay comes back on the same port; a flush (forced past the backoff) sends it.
    let server = TestServer::start(
        ServerOptions::new()
            .port(port)
            .extensions(Extensions::all()),
    );
    let first_retry = dir
        .rsmtp()
        .args(["-C"])
        .arg(&config)
        .args(["-q", "--queue-respect-backoff"])
        .run();
    // Not due yet: an automatic flush respects the backoff after the failed attempt.
    assert_eq!(server.messages().len(), 0, "{}", first_retry.stderr());
    let id = queued_ids(&dir.join("queue")).remove(0);
    dir.rsmtp()
        .args(["-C"])
        .arg(&config)
        .arg(format!("--queue-retry={id}"))
        .run()
        .assert_code(0);
    let got = server.wait_for_messages(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].data, queued_bytes,
        "delivered bytes equal the queued bytes"
    );
    assert_eq!(got[0].recipients(), vec!["admin@example.net"]);
    // The envelope kept the size (and would keep BODY=8BITMIME) for the later session.
    assert!(
        got[0]
            .mail_params
            .contains(&format!("SIZE={}", queued_bytes.len())),
        "{:?}",
        got[0].mail_params
    );
    assert!(got[0].data_str().contains("\r\n.leading dot line\r\n"));
    assert!(
        queued_messages(&dir.join("queue")).is_empty(),
        "entry removed"
    );

    // A second flush sends nothing more.
    dir.rsmtp()
        .args(["-C"])
        .arg(&config)
        .arg("-q")
        .run()
        .assert_code(0);
    // The flush has exited: every session it opened is over once the server is idle.
    assert!(server.wait_for_idle(Duration::from_secs(10)));
    assert_eq!(server.messages().len(), 1, "delivered exactly once");

    let lines = log_lines(&dir);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].ends_with("exitcode=EX_OK"), "{}", lines[1]);
    let empty = dir.rsmtp().args(["-C"]).arg(&config).arg("-bp").run();
    assert!(
        empty.stdout().contains("Mail queue is empty"),
        "{}",
        empty.stdout()
    );
}

#[test]
fn permanent_failure_is_never_queued() {
    let dir = Dir::new();
    let server = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        "admin@example.net",
        550,
        "5.1.1 No such user",
    )));
    let config = queue_config(&dir, server.port(), "fallback", "");
    let run = submit(&dir, &config);
    run.assert_code(65);
    assert!(
        run.stderr().contains("admin@example.net"),
        "{}",
        run.stderr()
    );
    assert!(queued_messages(&dir.join("queue")).is_empty());
    assert!(log_lines(&dir)[0].contains("exitcode=EX_DATAERR"));
}

#[test]
fn queue_off_behaves_like_msmtp_and_keeps_nothing() {
    let dir = Dir::new();
    let config = queue_config(&dir, closed_port(), "off", "");
    let run = submit(&dir, &config);
    run.assert_code(75);
    assert!(!dir.join("queue").exists() || queued_messages(&dir.join("queue")).is_empty());
}

#[test]
fn queue_always_returns_at_once_and_delivers_in_the_background() {
    let dir = Dir::new();
    let server = TestServer::start(
        ServerOptions::new().fault(Fault::Delay(Step::Greeting, Duration::from_secs(2))),
    );
    let config = queue_config(&dir, server.port(), "always", "");
    let started = Instant::now();
    let run = submit(&dir, &config);
    let elapsed = started.elapsed();
    run.assert_code(0);
    // The server greets only after 2 s: the caller must not have waited for it.
    assert!(
        elapsed < Duration::from_millis(1500),
        "caller waited {elapsed:?}"
    );
    let got = server.wait_for_messages(1, Duration::from_secs(15));
    assert_eq!(got.len(), 1, "background delivery happened");
    // Wait for the background delivery to finish: the entry removed after the 250,
    // and its log line written (the courier writes it once the session is over, which
    // may be after the entry is gone).
    let logged = || {
        log_lines(&dir)
            .iter()
            .any(|l| l.ends_with("exitcode=EX_OK"))
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while (!queued_messages(&dir.join("queue")).is_empty() || !logged())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(queued_messages(&dir.join("queue")).is_empty());
    assert!(logged(), "{:?}", log_lines(&dir));
}

#[test]
fn fifty_concurrent_submissions_and_two_flushers_deliver_each_exactly_once() {
    let dir = Dir::new();
    let port = closed_port();
    let config = queue_config(&dir, port, "fallback", "");
    std::thread::scope(|s| {
        for i in 0..50 {
            let dir = &dir;
            let config = &config;
            s.spawn(move || {
                let msg = format!("To: admin@example.net\nSubject: message {i}\n\nbody {i}\n");
                dir.rsmtp()
                    .args(["-C"])
                    .arg(config)
                    .arg("-t")
                    .stdin(msg)
                    .run()
                    .assert_code(0);
            });
        }
    });
    assert_eq!(queued_messages(&dir.join("queue")).len(), 50);

    let server = TestServer::start(ServerOptions::new().port(port));
    std::thread::scope(|s| {
        for _ in 0..2 {
            let dir = &dir;
            let config = &config;
            s.spawn(move || {
                // --queue-retry for each id would bypass the queue lock; a forced flush of
                // everything is what an admin runs: two of them at once.
                let ids = queued_ids(&dir.join("queue"));
                let mut cmd = dir.rsmtp().args(["-C"]).arg(config);
                for id in ids {
                    cmd = cmd.arg(format!("--queue-retry={id}"));
                }
                cmd.run();
            });
        }
    });
    let got = server.wait_for_messages(50, Duration::from_secs(20));
    // Both flushers have exited (the scope joined them): once every session is over,
    // a message sent twice would be recorded.
    assert!(server.wait_for_idle(Duration::from_secs(10)));
    let got_all = server.messages();
    assert_eq!(got.len(), 50);
    let mut subjects: Vec<String> = got_all.iter().filter_map(|m| m.header("Subject")).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(got_all.len(), 50, "no message sent twice");
    assert_eq!(subjects.len(), 50, "every message arrived");
    assert!(queued_messages(&dir.join("queue")).is_empty());
}

#[test]
fn expired_message_moves_to_failed_and_a_notice_reaches_the_sender() {
    let dir = Dir::new();
    // The relay keeps answering 451 for the recipient but accepts the notice.
    let server = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        "admin@example.net",
        451,
        "4.2.0 mailbox busy",
    )));
    let config = queue_config(&dir, server.port(), "fallback", "queue_expire 1h\n");
    let run = submit(&dir, &config);
    run.assert_code(0);
    assert_eq!(queued_messages(&dir.join("queue")).len(), 1);
    let ids = queued_ids(&dir.join("queue"));
    // Two hours pass: the entry says it was submitted then (as one restored from a
    // backup would), instead of the test sleeping past a one-second expiry.
    age_entry(&dir.join("queue"), &ids[0], Duration::from_secs(2 * 3600));
    let flush = dir
        .rsmtp()
        .args(["-C"])
        .arg(&config)
        .arg(format!("--queue-retry={}", ids[0]))
        .run();
    assert_ne!(
        flush.code(),
        0,
        "an expired message is a failure: {}",
        flush.stderr()
    );
    assert!(queued_messages(&dir.join("queue")).is_empty());
    let notices: Vec<_> = server
        .messages()
        .into_iter()
        .filter(|m| m.mail_from.is_empty())
        .collect();
    assert_eq!(notices.len(), 1, "one failure notice, from the null sender");
    assert_eq!(notices[0].recipients(), vec!["sender@example.org"]);
    let text = notices[0].data_str();
    assert!(text.contains("nightly backup FAILED"), "{text}");
    assert!(text.contains("admin@example.net"), "{text}");
    // Still visible as failed until purged.
    let listing = dir.rsmtp().args(["-C"]).arg(&config).arg("-bp").run();
    assert!(
        listing.stdout().contains("admin@example.net"),
        "{}",
        listing.stdout()
    );
    dir.rsmtp()
        .args(["-C"])
        .arg(&config)
        .arg("--queue-purge-failed")
        .run()
        .assert_code(0);
    let listing = dir.rsmtp().args(["-C"]).arg(&config).arg("-bp").run();
    assert!(
        listing.stdout().contains("Mail queue is empty"),
        "{}",
        listing.stdout()
    );
}

#[test]
fn delete_removes_one_entry_and_mailq_name_lists() {
    let dir = Dir::new();
    let config = queue_config(&dir, closed_port(), "fallback", "");
    submit(&dir, &config).assert_code(0);
    let id = queued_ids(&dir.join("queue")).remove(0);

    // Invoked as `mailq` it lists the queue.
    let link = dir.join("mailq");
    std::os::unix::fs::symlink(rsmtp_bin(), &link).unwrap();
    let listing = dir.command(&link).args(["-C"]).arg(&config).run();
    listing.assert_code(0);
    assert!(listing.stdout().contains(&id), "{}", listing.stdout());

    dir.rsmtp()
        .args(["-C"])
        .arg(&config)
        .arg(format!("--queue-delete={id}"))
        .run()
        .assert_code(0);
    assert!(queued_messages(&dir.join("queue")).is_empty());
    let again = dir
        .rsmtp()
        .args(["-C"])
        .arg(&config)
        .arg(format!("--queue-delete={id}"))
        .run();
    assert_ne!(again.code(), 0);
}

#[test]
fn a_relative_config_file_still_finds_the_account_when_flushed_from_elsewhere() {
    // `rsmtp -C msmtprc` run from the config's directory, flushed later by cron
    // (another working directory): the queued entry must name the file absolutely,
    // or the message can never be sent and expires.
    let dir = Dir::new();
    let port = closed_port();
    queue_config(&dir, port, "fallback", "");
    let run = dir
        .rsmtp()
        .args(["-C", "msmtprc", "-t"])
        .stdin(MESSAGE)
        .run();
    run.assert_code(0);
    let id = queued_ids(&dir.join("queue")).remove(0);

    let server = TestServer::start(ServerOptions::new().port(port));
    let mut flush = dir
        .rsmtp()
        .arg(format!("--queue-dir={}", dir.join("queue").display()))
        .arg(format!("--queue-retry={id}"));
    flush.cmd.current_dir("/");
    let flush = flush.run();
    flush.assert_code(0);
    assert_eq!(
        server.wait_for_messages(1, Duration::from_secs(5)).len(),
        1,
        "{}",
        flush.stderr()
    );
    assert!(queued_messages(&dir.join("queue")).is_empty());
}

#[test]
fn command_line_settings_are_kept_with_the_queued_message() {
    // `--host` (no configuration file at all) and `--port` must still apply when the
    // message is delivered later by a flush that has no such options.
    let dir = Dir::new();
    let port = closed_port();
    let queue = dir.join("queue");
    let run = dir
        .rsmtp()
        .arg("--host=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg("--queue=fallback")
        .arg(format!("--queue-dir={}", queue.display()))
        .args(["-f", "cli@example.org", "admin@example.net"])
        .stdin(MESSAGE)
        .run();
    run.assert_code(0);
    let id = queued_ids(&queue).remove(0);

    let server = TestServer::start(ServerOptions::new().port(port));
    dir.rsmtp()
        .arg(format!("--queue-dir={}", queue.display()))
        .arg(format!("--queue-retry={id}"))
        .run()
        .assert_code(0);
    let got = server.wait_for_messages(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].mail_from, "cli@example.org");
    assert!(queued_ids(&queue).is_empty());
}

// --- The duplicate window: the whole message sent, no answer to the final dot ---

/// `rsmtp -bp` for the queue in `queue`.
fn mailq(dir: &Dir, queue: &Path) -> String {
    let run = dir
        .rsmtp()
        .arg(format!("--queue-dir={}", queue.display()))
        .arg("-bp")
        .run();
    run.assert_code(0);
    run.stdout()
}

/// Retries entry `id` of `queue` once `server` (the one its entry names) answers
/// again: its faults cleared, on the same port (a port given up and bound again could
/// be taken meanwhile by another test's server).
fn retry_on_a_good_server(dir: &Dir, queue: &Path, id: &str, server: &TestServer) -> Run {
    server.set_faults(Vec::new());
    dir.rsmtp()
        .arg(format!("--queue-dir={}", queue.display()))
        .arg(format!("--queue-retry={id}"))
        .run()
}

#[test]
fn an_unanswered_final_dot_queues_the_message_marked_as_possibly_delivered() {
    // The server takes the body and never answers the dot: it may have the message.
    let hanging = TestServer::start(ServerOptions::new().fault(Fault::Hang(Step::EndOfData)));
    let port = hanging.port();
    let dir = Dir::new();
    let queue = dir.join("queue");
    let run = dir
        .rsmtp()
        .args(["--host=127.0.0.1", "--timeout=2", "--queue=fallback"])
        .arg(format!("--port={port}"))
        .arg(format!("--queue-dir={}", queue.display()))
        .args(["-f", "cli@example.org", "admin@example.net"])
        .stdin(MESSAGE)
        .run();
    run.assert_code(0);
    assert!(
        run.stderr().contains("may not have been delivered"),
        "{}",
        run.stderr()
    );
    assert_eq!(hanging.wait_for_bodies(1, Duration::from_secs(5)), 1);
    let listing = mailq(&dir, &queue);
    assert!(
        listing.contains("without an answer: it may arrive twice"),
        "{listing}"
    );
    let id = queued_ids(&queue).remove(0);
    let retry = retry_on_a_good_server(&dir, &queue, &id, &hanging);
    let server = hanging;
    retry.assert_code(0);
    assert!(
        retry.stderr().contains("may have arrived twice"),
        "{}",
        retry.stderr()
    );
    assert_eq!(server.wait_for_messages(1, Duration::from_secs(5)).len(), 1);
    assert!(queued_ids(&queue).is_empty());
}

#[test]
fn a_refused_attempt_leaves_no_duplicate_mark() {
    // The server answered (451 to the dot): it does not have the message.
    let refusing = TestServer::start(ServerOptions::new().fault(Fault::Reply(
        Step::EndOfData,
        rsmtp_testserver::Reply::new(451, "4.3.0 try later"),
    )));
    let port = refusing.port();
    let dir = Dir::new();
    let queue = dir.join("queue");
    dir.rsmtp()
        .args(["--host=127.0.0.1", "--queue=fallback"])
        .arg(format!("--port={port}"))
        .arg(format!("--queue-dir={}", queue.display()))
        .args(["-f", "cli@example.org", "admin@example.net"])
        .stdin(MESSAGE)
        .run()
        .assert_code(0);
    let id = queued_ids(&queue).remove(0);
    // A flush that gets the same answer keeps it unmarked too.
    dir.rsmtp()
        .arg(format!("--queue-dir={}", queue.display()))
        .arg(format!("--queue-retry={id}"))
        .run()
        .assert_code(75);
    assert!(!queue.join("queue").join(&id).join("in-flight").exists());
    let listing = mailq(&dir, &queue);
    assert!(!listing.contains("arrive twice"), "{listing}");
    let retry = retry_on_a_good_server(&dir, &queue, &id, &refusing);
    let server = refusing;
    retry.assert_code(0);
    assert!(!retry.stderr().contains("twice"), "{}", retry.stderr());
    assert_eq!(server.wait_for_messages(1, Duration::from_secs(5)).len(), 1);
}

#[test]
fn a_flush_killed_awaiting_the_final_reply_leaves_the_entry_marked() {
    let dir = Dir::new();
    // One server for the whole test, its faults changed between the steps: first it
    // refuses every session (the message is queued), then it hangs after the body.
    let hanging =
        TestServer::start(ServerOptions::new().fault(Fault::greeting(421, "4.3.2 not now")));
    let port = hanging.port();
    let queue = dir.join("queue");
    dir.rsmtp()
        .args(["--host=127.0.0.1", "--queue=fallback"])
        .arg(format!("--port={port}"))
        .arg(format!("--queue-dir={}", queue.display()))
        .args(["-f", "cli@example.org", "admin@example.net"])
        .stdin(MESSAGE)
        .run()
        .assert_code(0);
    let id = queued_ids(&queue).remove(0);

    hanging.set_faults(vec![Fault::Hang(Step::EndOfData)]);
    let mut flush = dir
        .rsmtp()
        .arg(format!("--queue-dir={}", queue.display()))
        .arg(format!("--queue-retry={id}"))
        .cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the flush");
    // The body is in, the dot is waiting for its reply: kill -9 there.
    assert_eq!(hanging.wait_for_bodies(1, Duration::from_secs(30)), 1);
    flush.kill().expect("kill the flush");
    flush.wait().expect("reap the flush");
    let listing = mailq(&dir, &queue);
    assert!(listing.contains("it may arrive twice"), "{listing}");

    let retry = retry_on_a_good_server(&dir, &queue, &id, &hanging);
    let server = hanging;
    retry.assert_code(0);
    assert!(
        retry.stderr().contains("may have arrived twice"),
        "{}",
        retry.stderr()
    );
    assert_eq!(server.wait_for_messages(1, Duration::from_secs(5)).len(), 1);
    assert!(queued_ids(&queue).is_empty());
}

// --- Trust: a queue someone else could write is never acted on (issue 10) ---

/// Creates `path` with `mode` whatever the umask.
fn mkdir_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A queue directory tree as rsmtp makes it (0700), without any entry.
fn private_queue(queue: &Path) {
    for sub in ["", "tmp", "queue", "failed"] {
        mkdir_mode(&queue.join(sub), 0o700);
    }
}

/// Root, or (outside CI) `false` with a note: giving a file away needs root, and
/// under CI=true the tests run as root, so there the case is never skipped.
fn running_as_root(what: &str) -> bool {
    require(is_root(), &format!("root (to test {what})"))
}

/// Writes an entry by hand, as someone who can write the queue would: account
/// `default` of `config`, the given `override: command=value` lines. Returns its id.
fn plant(queue: &Path, n: u32, config: &Path, overrides: &[String]) -> String {
    use std::os::unix::fs::PermissionsExt;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let id = format!("{now:010}-{n:06}-4242-0a1b2c3d");
    let entry = queue.join("queue").join(&id);
    mkdir_mode(&entry, 0o700);
    let mut envelope = format!(
        "rsmtp-queue-envelope 1\naccount: default\nconfig-file: {}\n\
         envelope-from: planter@example.org\nrecipient: loot@example.net\n\
         submitted: {now}.000000000\nattempts: 0\nnext-attempt: {now}.000000000\n",
        config.display()
    );
    for o in overrides {
        envelope.push_str(&format!("override: {o}\n"));
    }
    envelope.push_str("end\n");
    for (name, text) in [("envelope", envelope.as_str()), ("message", MESSAGE)] {
        let path = entry.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    id
}

/// A test server, a `queue fallback` config for it, and a private, empty queue tree.
fn trust_setup() -> (Dir, TestServer, PathBuf, PathBuf) {
    let dir = Dir::new();
    let server = TestServer::start(ServerOptions::new());
    let queue = dir.join("queue");
    private_queue(&queue);
    let config = queue_config(&dir, server.port(), "fallback", "");
    (dir, server, queue, config)
}

/// Gives `paths` to nobody (uid 65534); the caller is root.
fn give_to_nobody(paths: &[PathBuf]) {
    for path in paths {
        std::os::unix::fs::chown(path, Some(65534), Some(65534)).unwrap();
    }
}

/// `rsmtp -C config -q`.
fn flush_queue(dir: &Dir, config: &Path) -> Run {
    dir.rsmtp().args(["-C"]).arg(config).arg("-q").run()
}

fn failed_ids(queue: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(queue.join("failed"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

#[test]
fn a_queue_dir_others_can_write_is_refused_with_the_chmod_hint() {
    let (dir, server, queue, _) = trust_setup();
    mkdir_mode(&queue, 0o777);
    let config = queue_config(&dir, server.port(), "always", "");

    let run = submit(&dir, &config);
    run.assert_code(78);
    let hint = format!("chmod 700 {}", queue.display());
    assert!(run.stderr().contains(&hint), "{}", run.stderr());
    assert!(queued_messages(&queue).is_empty(), "nothing queued in it");

    let flush = flush_queue(&dir, &config);
    flush.assert_code(78);
    assert!(flush.stderr().contains(&hint), "{}", flush.stderr());

    // A group-writable subdirectory is refused the same way.
    mkdir_mode(&queue, 0o700);
    mkdir_mode(&queue.join("tmp"), 0o770);
    let flush = flush_queue(&dir, &config);
    flush.assert_code(78);
    let hint = format!("chmod 700 {}", queue.join("tmp").display());
    assert!(flush.stderr().contains(&hint), "{}", flush.stderr());
    assert!(server.messages().is_empty());
}

#[test]
fn a_queue_dir_owned_by_another_user_is_refused_naming_the_owner() {
    if !running_as_root("a queue directory owned by another user") {
        return;
    }
    let (dir, server, queue, config) = trust_setup();
    let id = plant(&queue, 1, &config, &[]);
    give_to_nobody(&[queue.clone(), queue.join("queue")]);
    let flush = dir
        .rsmtp()
        .args(["-C"])
        .arg(&config)
        .arg(format!("--queue-retry={id}"))
        .run();
    flush.assert_code(78);
    let stderr = flush.stderr();
    assert!(stderr.contains(&queue.display().to_string()), "{stderr}");
    assert!(stderr.contains("uid 65534"), "{stderr}");
    if let Some(name) = rsmtp_config::user_name_of(65534) {
        assert!(stderr.contains(&format!("owned by {name}")), "{stderr}");
    }
    assert!(
        stderr.contains(&format!("chown root {}", queue.display())),
        "{stderr}"
    );
    assert!(server.messages().is_empty(), "nothing delivered");
}

#[test]
fn a_linked_queue_dir_or_subdir_is_refused() {
    let (dir, server, queue, config) = trust_setup();
    let real = dir.join("real-queue");
    std::fs::rename(&queue, &real).unwrap();
    plant(&real, 1, &config, &[]);
    std::os::unix::fs::symlink(&real, &queue).unwrap();
    let flush = flush_queue(&dir, &config);
    flush.assert_code(78);
    assert!(
        flush.stderr().contains("symbolic link"),
        "{}",
        flush.stderr()
    );

    std::fs::remove_file(&queue).unwrap();
    private_queue(&queue);
    std::fs::remove_dir(queue.join("queue")).unwrap();
    std::os::unix::fs::symlink(real.join("queue"), queue.join("queue")).unwrap();
    let flush = flush_queue(&dir, &config);
    flush.assert_code(78);
    let stderr = flush.stderr();
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert!(
        stderr.contains(&queue.join("queue").display().to_string()),
        "{stderr}"
    );
    assert!(server.messages().is_empty(), "nothing delivered");
}

#[test]
fn planted_entries_with_dangerous_settings_go_to_failed_and_are_never_delivered() {
    let (dir, server, queue, config) = trust_setup();
    let marker = dir.join("passwordeval-ran");
    let planted_log = dir.join("planted.log");
    let cases = [
        (
            "passwordeval",
            vec![
                "auth=on".to_string(),
                "user=planter".to_string(),
                format!("passwordeval=touch {}; echo pw", marker.display()),
            ],
        ),
        (
            "logfile",
            vec![format!("logfile={}", planted_log.display())],
        ),
        ("tls", vec!["tls=off".to_string()]),
        ("tls_certcheck", vec!["tls_certcheck=off".to_string()]),
    ];
    let mut planted = Vec::new();
    for (n, (setting, overrides)) in cases.iter().enumerate() {
        planted.push((plant(&queue, n as u32, &config, overrides), *setting));
    }

    let flush = flush_queue(&dir, &config);
    flush.assert_code(78);
    let stderr = flush.stderr();
    for (id, setting) in &planted {
        let line = stderr
            .lines()
            .find(|l| l.contains(id.as_str()))
            .unwrap_or_else(|| panic!("no line names {id}: {stderr}"));
        assert!(line.contains(&format!("setting {setting} ")), "{line}");
        assert!(line.contains("not delivered"), "{line}");
    }
    assert!(
        !stderr.contains("echo pw"),
        "a setting's value is never shown"
    );
    // The flush has exited; once the server is idle nothing more can arrive from it.
    assert!(server.wait_for_idle(Duration::from_secs(10)));
    assert!(server.messages().is_empty(), "nothing delivered");
    assert!(!marker.exists(), "passwordeval was run");
    assert!(!planted_log.exists(), "the planted logfile was written");
    assert!(queued_ids(&queue).is_empty());
    let mut ids: Vec<String> = planted.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    assert_eq!(failed_ids(&queue), ids, "all moved to failed/");
    // The account's own log says why.
    let refused_lines = log_lines(&dir)
        .into_iter()
        .filter(|l| l.contains("refused") && l.ends_with("exitcode=EX_CONFIG"))
        .count();
    assert_eq!(refused_lines, planted.len(), "{:?}", log_lines(&dir));

    // Asking for one by id does not make it deliverable.
    let (id, _) = &planted[0];
    let retry = dir
        .rsmtp()
        .args(["-C"])
        .arg(&config)
        .arg(format!("--queue-retry={id}"))
        .run();
    assert_ne!(retry.code(), 0, "{}", retry.stderr());
    assert!(!marker.exists());
    assert!(server.messages().is_empty());
}

#[test]
fn an_entry_owned_by_another_user_is_not_delivered() {
    if !running_as_root("an entry owned by another user") {
        return;
    }
    let (dir, server, queue, config) = trust_setup();
    let id = plant(&queue, 1, &config, &[]);
    let entry = queue.join("queue").join(&id);
    give_to_nobody(&[entry.join("envelope"), entry.join("message"), entry.clone()]);
    let flush = flush_queue(&dir, &config);
    flush.assert_code(78);
    assert!(flush.stderr().contains(&id), "{}", flush.stderr());
    assert!(flush.stderr().contains("uid 65534"), "{}", flush.stderr());
    // The flush has exited; once the server is idle nothing more can arrive from it.
    assert!(server.wait_for_idle(Duration::from_secs(10)));
    assert!(server.messages().is_empty(), "nothing delivered");
    assert_eq!(failed_ids(&queue), vec![id]);
}

#[test]
fn an_entry_naming_a_config_file_of_another_user_is_not_delivered() {
    if !running_as_root("a -C file owned by another user") {
        return;
    }
    let (dir, server, queue, config) = trust_setup();
    let foreign = dir.write("foreign-msmtprc", dir.read("msmtprc"));
    give_to_nobody(std::slice::from_ref(&foreign));
    let id = plant(&queue, 1, &foreign, &[]);
    let flush = flush_queue(&dir, &config);
    flush.assert_code(78);
    let stderr = flush.stderr();
    assert!(stderr.contains(&id), "{stderr}");
    assert!(stderr.contains("configuration file"), "{stderr}");
    // The flush has exited; once the server is idle nothing more can arrive from it.
    assert!(server.wait_for_idle(Duration::from_secs(10)));
    assert!(server.messages().is_empty(), "nothing delivered");
}

#[test]
fn a_users_own_logfile_option_works_with_queue_always_but_is_not_stored() {
    let dir = Dir::new();
    // A slow greeting keeps the entry on disk long enough to look at it.
    let server = TestServer::start(
        ServerOptions::new().fault(Fault::Delay(Step::Greeting, Duration::from_secs(2))),
    );
    let config = queue_config(&dir, server.port(), "always", "");
    let own_log = dir.join("own.log");
    let run = dir
        .rsmtp()
        .args(["-C"])
        .arg(&config)
        .arg(format!("--logfile={}", own_log.display()))
        .arg("-t")
        .stdin(MESSAGE)
        .run();
    run.assert_code(0);
    assert!(
        run.stderr().is_empty(),
        "quiet without -d: {}",
        run.stderr()
    );
    // The entry on disk does not carry the option …
    let entries = queued_messages(&dir.join("queue"));
    assert_eq!(entries.len(), 1);
    for message in entries {
        let envelope =
            std::fs::read_to_string(message.with_file_name("envelope")).unwrap_or_default();
        assert!(!envelope.contains("logfile"), "{envelope}");
    }
    // … but the background delivery had it on its command line.
    assert_eq!(
        server.wait_for_messages(1, Duration::from_secs(15)).len(),
        1
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&own_log).is_ok_and(|l| l.contains("exitcode=EX_OK"))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(&own_log).unwrap_or_default();
    assert!(log.contains("exitcode=EX_OK"), "{log}");
}
