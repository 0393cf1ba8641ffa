//! Several processes on one queue, and processes killed (SIGKILL) in the middle
//! of an enqueue or a flush. The child processes are this test binary itself,
//! re-run with `RSMTP_QUEUE_HELPER` set so that only [`helper_process`] acts.
//!
//! A SIGKILL loses nothing that was written to the page cache, so these tests
//! check atomicity and ordering (what is visible, what is complete, what was
//! promised by an `Ok`), not the fsyncs that protect against a power cut.

#![allow(
    clippy::unwrap_used,
    reason = "a test that meets an unexpected error should stop there, loudly"
)]

mod support;

use std::collections::{HashMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rsmtp_queue::{DeliveryResult, EntryId, EntryMeta, FlushOptions, Queue, QueueError, Step};
use support::{check_all_complete, message, meta, read_all, seq_of};

const HELPER: &str = "RSMTP_QUEUE_HELPER";

/// The child side. Does nothing in a normal test run. Modes:
/// `enqueue` (`COUNT` messages from number `SEQ` on, printing `OK <id> <n>` after
/// each), `flush` (flush until the queue is empty, appending each delivered
/// sequence number to `LOG`; `ONLY_EACH=1` bypasses the queue lock, `ONCE=1`
/// flushes once). `PAUSE_AT`
/// names a [`Step`] where the child prints `PAUSED` and waits to be killed;
/// `RESULT=tempfail` makes deliveries fail temporarily; `DELAY_MS` slows them.
#[test]
fn helper_process() {
    let Ok(mode) = std::env::var(HELPER) else {
        return;
    };
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let num = |k: &str| env(k).parse::<u64>().unwrap_or(0);
    let mut queue = Queue::open(Path::new(&env("QUEUE"))).unwrap();
    queue.set_step_hook(pause_hook);
    let out = std::io::stdout();
    // libtest has printed "test helper_process ... " without a newline.
    writeln!(out.lock()).unwrap();
    match mode.as_str() {
        "enqueue" => {
            for n in num("SEQ")..num("SEQ") + num("COUNT") {
                let id = queue.enqueue(&meta(n), &mut &message(n)[..]).unwrap();
                writeln!(out.lock(), "OK {id} {n}").unwrap();
            }
        }
        "flush" => {
            let delay = Duration::from_millis(num("DELAY_MS"));
            let tempfail = env("RESULT") == "tempfail";
            let mut log = OpenOptions::new()
                .append(true)
                .create(true)
                .open(env("LOG"))
                .unwrap();
            let mut deliver = |m: &EntryMeta, msg: &mut dyn Read| {
                let n = seq_of(m);
                assert!(read_all(msg) == message(n), "bytes of {n} changed");
                std::thread::sleep(delay);
                if tempfail {
                    return DeliveryResult::TempFail("451 later".into());
                }
                // One write per line: O_APPEND keeps lines from two processes whole.
                log.write_all(format!("{n}\n").as_bytes()).unwrap();
                DeliveryResult::Delivered
            };
            let opts = FlushOptions {
                force: true,
                ..FlushOptions::default()
            };
            loop {
                let ids: Vec<EntryId> = queue.list().unwrap().into_iter().map(|e| e.id).collect();
                if ids.is_empty() {
                    break;
                }
                if env("ONCE") == "1" {
                    queue.flush(&opts, &mut deliver).unwrap();
                    break;
                }
                if env("ONLY_EACH") == "1" {
                    for id in ids {
                        let only = FlushOptions {
                            only: Some(id),
                            ..opts.clone()
                        };
                        match queue.flush(&only, &mut deliver) {
                            Ok(report) => assert!(report.errors.is_empty(), "{:?}", report.errors),
                            Err(QueueError::NoSuchEntry { .. }) => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                } else {
                    let report = queue.flush(&opts, &mut deliver).unwrap();
                    assert!(report.errors.is_empty(), "{:?}", report.errors);
                }
            }
        }
        other => panic!("unknown helper mode {other}"),
    }
}

fn pause_hook(step: Step) {
    if std::env::var("PAUSE_AT").as_deref() == Ok(step.name()) {
        let mut out = std::io::stdout().lock();
        writeln!(out, "PAUSED").unwrap();
        out.flush().unwrap();
        // The parent kills us now; if it never does, fail rather than hang.
        std::thread::sleep(Duration::from_secs(120));
        panic!("helper paused at {step:?} was never killed");
    }
}

fn helper(mode: &str, queue: &Path, vars: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "helper_process",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(HELPER, mode)
    .env("QUEUE", queue)
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Reads the child's output until `PAUSED`, then kills it. Returns the `OK` lines.
fn kill_when_paused(mut child: Child) -> Vec<String> {
    let mut lines = Vec::new();
    let stdout = child.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line == "PAUSED" {
            child.kill().unwrap();
            child.wait().unwrap();
            return lines;
        }
        if line.starts_with("OK ") {
            lines.push(line);
        }
    }
    panic!("helper ended without pausing: {:?}", child.wait());
}

fn delivered_log(path: &Path) -> HashMap<u64, usize> {
    let mut counts = HashMap::new();
    for line in fs::read_to_string(path).unwrap_or_default().lines() {
        *counts.entry(line.parse().unwrap()).or_default() += 1;
    }
    counts
}

fn flush_rest(dir: &Path, log: &Path) {
    let queue = Queue::open(dir).unwrap();
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(log)
        .unwrap();
    let force = FlushOptions {
        force: true,
        ..FlushOptions::default()
    };
    let report = queue
        .flush(&force, &mut |m, msg| {
            let n = seq_of(m);
            assert!(read_all(msg) == message(n));
            file.write_all(format!("{n}\n").as_bytes()).unwrap();
            DeliveryResult::Delivered
        })
        .unwrap();
    assert!(report.all_ok(), "{report:?}");
    assert!(queue.list().unwrap().is_empty());
}

#[test]
fn two_flusher_processes_deliver_fifty_messages_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    for n in 0..50 {
        queue.enqueue(&meta(n), &mut &message(n)[..]).unwrap();
    }
    let log = dir.path().join("delivered.log");
    let vars = |only_each: &str| {
        vec![
            ("LOG", log.display().to_string()),
            ("DELAY_MS", "2".into()),
            ("ONLY_EACH", only_each.into()),
        ]
    };
    // One takes the queue lock, two go entry by entry around it.
    let children = [
        helper("flush", dir.path(), &vars("0")),
        helper("flush", dir.path(), &vars("1")),
        helper("flush", dir.path(), &vars("1")),
    ];
    for mut child in children {
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert!(child.wait().unwrap().success(), "{out}");
    }
    let counts = delivered_log(&log);
    assert_eq!(counts.len(), 50, "{counts:?}");
    assert!(counts.values().all(|&c| c == 1), "duplicates: {counts:?}");
    assert!(queue.list().unwrap().is_empty());
}

#[test]
fn enqueue_killed_at_any_step_leaves_nothing_or_a_complete_entry() {
    let steps = [
        (Step::EntryCreated, false),
        (Step::MessagePartlyWritten, false),
        (Step::MessageSynced, false),
        (Step::EnvelopeSynced, false),
        (Step::EntrySynced, false),
        (Step::Published, true),
        (Step::Durable, true),
    ];
    for (step, visible) in steps {
        let dir = tempfile::tempdir().unwrap();
        let child = helper(
            "enqueue",
            dir.path(),
            &[
                ("SEQ", "11".into()),
                ("COUNT", "1".into()),
                ("PAUSE_AT", step.name().into()),
            ],
        );
        kill_when_paused(child);
        let found = check_all_complete(dir.path());
        assert_eq!(
            found.len(),
            usize::from(visible),
            "after a kill at {step:?}"
        );
        // Whatever is left is deliverable, and only once.
        let log = dir.path().join("log");
        flush_rest(dir.path(), &log);
        assert_eq!(
            delivered_log(&log).get(&11).copied().unwrap_or(0),
            usize::from(visible)
        );
    }
}

#[test]
fn enqueuers_killed_at_random_times_never_lose_an_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut acknowledged = HashSet::new();
    for round in 0..100u64 {
        let seq = round * 1000;
        let mut child = helper(
            "enqueue",
            dir.path(),
            &[("SEQ", seq.to_string()), ("COUNT", "1000".into())],
        );
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter(|l| l.starts_with("OK "))
                .collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_micros(fastrand::u64(0..60_000)));
        child.kill().unwrap();
        child.wait().unwrap();
        for line in reader.join().unwrap() {
            let mut parts = line.split(' ').skip(1);
            let id = parts.next().unwrap().to_owned();
            let n: u64 = parts.next().unwrap().parse().unwrap();
            acknowledged.insert((id, n));
        }
    }
    let found = check_all_complete(dir.path());
    let visible: HashSet<(String, u64)> =
        found.iter().map(|(e, n)| (e.id.to_string(), *n)).collect();
    for ack in &acknowledged {
        assert!(visible.contains(ack), "acknowledged entry {ack:?} lost");
    }
    // At most one unacknowledged entry per kill (published, killed before printing).
    assert!(visible.len() <= acknowledged.len() + 100);
    assert!(
        !acknowledged.is_empty(),
        "no enqueue finished in 100 rounds"
    );
    let leftovers = fs::read_dir(dir.path().join("tmp")).unwrap().count();
    // The test means something only if some kills landed inside an enqueue.
    assert!(
        leftovers + visible.len() > acknowledged.len(),
        "no kill interrupted an enqueue"
    );
}

#[test]
fn flusher_killed_at_any_step_keeps_or_delivers_the_message() {
    // (step, delivery result, still queued afterwards, already logged as delivered)
    let cases = [
        (Step::BeforeDelivery, "ok", true, false),
        (Step::Delivered, "ok", true, true), // the documented duplicate window
        (Step::Discarded, "ok", false, true), // renamed away, queue/ not yet synced
        (Step::RemovalsSynced, "ok", false, true),
        (Step::EnvelopeRewriting, "tempfail", true, false),
    ];
    for (step, result, queued, logged) in cases {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::open(dir.path()).unwrap();
        queue.enqueue(&meta(5), &mut &message(5)[..]).unwrap();
        let log = dir.path().join("log");
        let child = helper(
            "flush",
            dir.path(),
            &[
                ("LOG", log.display().to_string()),
                ("PAUSE_AT", step.name().into()),
                ("RESULT", result.into()),
                ("ONCE", "1".into()),
            ],
        );
        kill_when_paused(child);
        let found = check_all_complete(dir.path());
        assert_eq!(found.len(), usize::from(queued), "after a kill at {step:?}");
        if let Some((entry, _)) = found.first() {
            assert_eq!(
                entry.attempts, 0,
                "the old envelope stays until replaced whole"
            );
        }
        assert_eq!(delivered_log(&log).len(), usize::from(logged), "{step:?}");
        flush_rest(dir.path(), &log);
        let expected = if step == Step::Delivered { 2 } else { 1 };
        assert_eq!(delivered_log(&log)[&5], expected, "{step:?}");
        assert_eq!(
            fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0,
            "{step:?}"
        );
    }
}

#[test]
fn flushers_killed_at_random_times_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    for n in 0..30 {
        queue.enqueue(&meta(n), &mut &message(n)[..]).unwrap();
    }
    let log = dir.path().join("log");
    let mut kills = 0;
    for _ in 0..60 {
        if queue.list().unwrap().is_empty() {
            break;
        }
        let mut child = helper(
            "flush",
            dir.path(),
            &[("LOG", log.display().to_string()), ("DELAY_MS", "3".into())],
        );
        std::thread::sleep(Duration::from_micros(fastrand::u64(0..40_000)));
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        check_all_complete(dir.path());
    }
    flush_rest(dir.path(), &log);
    let counts = delivered_log(&log);
    assert_eq!(counts.len(), 30, "{counts:?}");
    let duplicates: usize = counts.values().map(|c| c - 1).sum();
    assert!(
        duplicates <= kills,
        "{duplicates} duplicates from {kills} kills"
    );
}
