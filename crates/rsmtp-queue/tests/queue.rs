//! Behaviour of one queue used from one process: enqueue, list, flush outcomes,
//! backoff, expiry and notices, removal, locks, tmp sweeping, damaged entries,
//! and many threads at once.

#![allow(
    clippy::unwrap_used,
    reason = "a test that meets an unexpected error should stop there, loudly"
)]

mod support;

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rsmtp_queue::{
    retry_delay, DeliveryResult, EntryId, EntryMessage, EntryMeta, FlushOptions, Mailq, Queue,
    QueueError, Step, STALE_TMP_AGE,
};
use support::{message, meta, read_all, seq_of};

fn forced() -> FlushOptions {
    FlushOptions {
        force: true,
        ..FlushOptions::default()
    }
}

fn secs_from_now(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::now())
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[test]
fn enqueued_message_is_listed_then_delivered_once_with_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let mut m = meta(7);
    m.config_file = Some(PathBuf::from("/home/alice/.msmtprc"));
    m.dsn_notify = Some("FAILURE".into());
    let id = queue.enqueue(&m, &mut &message(7)[..]).unwrap();

    let list = queue.list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, id);
    assert_eq!(list[0].size, message(7).len() as u64);
    assert_eq!(list[0].sender, "seq-7@example.org");
    assert_eq!(list[0].recipients, m.recipients);
    assert_eq!((list[0].attempts, list[0].failed), (0, false));
    let table = Mailq(&list).to_string();
    assert!(
        table.contains(id.as_str()) && table.contains("rcpt-7@example.org"),
        "{table}"
    );

    let mut calls = Vec::new();
    let report = queue
        .flush(&FlushOptions::default(), &mut |meta, msg| {
            calls.push((meta.clone(), read_all(msg)));
            DeliveryResult::Delivered
        })
        .unwrap();
    assert_eq!(report.delivered, vec![id]);
    assert!(report.all_ok());
    // Its files are deleted (off the delivery path) before the flush returns.
    assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, m, "envelope must come back exactly");
    assert!(
        calls[0].1 == message(7),
        "message bytes changed in the queue"
    );

    let report = queue
        .flush(&forced(), &mut |_, _| panic!("delivered twice"))
        .unwrap();
    assert!(report.delivered.is_empty());
    assert!(queue.list().unwrap().is_empty());
    assert_eq!(
        Mailq(&queue.list().unwrap()).to_string(),
        "Mail queue is empty\n"
    );
    assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
}

/// The seconds a retry may be scheduled after for a nominal `delay`: ±20 % jitter,
/// and a second of slack for the time the test itself takes.
fn jittered(delay: std::time::Duration) -> std::ops::RangeInclusive<f64> {
    let d = delay.as_secs_f64();
    (d * 0.8 - 1.0)..=(d * 1.2 + 1.0)
}

#[test]
fn temporary_failure_backs_off_and_force_ignores_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let id = queue.enqueue(&meta(1), &mut &message(1)[..]).unwrap();

    let report = queue
        .flush(&FlushOptions::default(), &mut |_, _| {
            DeliveryResult::TempFail("421 4.7.0 Try again later".into())
        })
        .unwrap();
    assert_eq!(report.deferred.len(), 1);
    assert_eq!(report.deferred[0].attempts, 1);
    let delay = secs_from_now(report.deferred[0].next_attempt);
    assert!(
        jittered(retry_delay(1)).contains(&delay),
        "first retry after {delay} s"
    );
    let listed = &queue.list().unwrap()[0];
    assert_eq!(listed.attempts, 1);
    assert_eq!(
        listed.last_error.as_deref(),
        Some("421 4.7.0 Try again later")
    );
    assert!(Mailq(&queue.list().unwrap())
        .to_string()
        .contains("(attempt 1, next "));

    // Not due: an ordinary flush leaves it alone.
    let report = queue
        .flush(&FlushOptions::default(), &mut |_, _| panic!("not due yet"))
        .unwrap();
    assert_eq!(report.not_due, vec![id.clone()]);

    // Forced: attempted again; the delay doubles.
    let report = queue
        .flush(&forced(), &mut |_, _| {
            DeliveryResult::TempFail("timeout".into())
        })
        .unwrap();
    assert_eq!(report.deferred[0].attempts, 2);
    let delay = secs_from_now(report.deferred[0].next_attempt);
    assert!(
        jittered(retry_delay(2)).contains(&delay),
        "second retry after {delay} s"
    );

    // A retry time no backoff could produce means the clock went back: due now.
    let mut skewed = meta(9);
    skewed.next_attempt = SystemTime::now() + Duration::from_secs(30 * 86400);
    let skewed_id = queue.enqueue(&skewed, &mut &message(9)[..]).unwrap();
    let report = queue
        .flush(&FlushOptions::default(), &mut |m, _| {
            assert_eq!(seq_of(m), 9, "only the skewed entry is due");
            DeliveryResult::Delivered
        })
        .unwrap();
    assert_eq!(report.delivered, vec![skewed_id]);
    assert_eq!(report.not_due, vec![id.clone()]);

    // retry_now makes it due for an ordinary flush.
    queue.retry_now(&id).unwrap();
    let mut delivered = 0;
    let report = queue
        .flush(&FlushOptions::default(), &mut |meta, _| {
            assert_eq!(meta.attempts, 2);
            delivered += 1;
            DeliveryResult::Delivered
        })
        .unwrap();
    assert_eq!((delivered, report.delivered.len()), (1, 1));
}

#[test]
fn permanent_failure_moves_to_failed_and_is_never_retried() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let id = queue.enqueue(&meta(2), &mut &message(2)[..]).unwrap();
    let report = queue
        .flush(&FlushOptions::default(), &mut |_, _| {
            DeliveryResult::PermFail("550 5.1.1 <rcpt-2@example.org>: no such user".into())
        })
        .unwrap();
    assert_eq!(report.failed.len(), 1);
    assert!(!report.all_ok());
    let failed = &report.failed[0];
    assert_eq!(failed.id, id);
    assert!(failed.path.starts_with(dir.path().join("failed")));
    assert!(fs::read(failed.message_path()).unwrap() == message(2));

    assert!(
        queue.contains(&id),
        "a failed entry is still in the queue directory"
    );
    let other = tempfile::tempdir().unwrap();
    assert!(!Queue::open(other.path()).unwrap().contains(&id));

    let listed = queue.list().unwrap();
    assert!(listed[0].failed);
    assert!(listed[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("no such user"));
    assert!(Mailq(&listed).to_string().contains(&format!("{id}!")));

    let report = queue
        .flush(&forced(), &mut |_, _| {
            panic!("failed entries are not retried")
        })
        .unwrap();
    assert!(report.delivered.is_empty() && report.failed.is_empty());

    let notice = String::from_utf8_lossy(&queue.failure_notice(failed).unwrap()).into_owned();
    assert!(notice.contains("To: seq-2@example.org\r\n"), "{notice}");
    assert!(
        notice.contains("Subject: Undelivered mail: message 2\r\n"),
        "{notice}"
    );
    assert!(notice.contains("no such user"));

    // Put back by hand, then delivered.
    queue.retry_now(&id).unwrap();
    let report = queue
        .flush(&FlushOptions::default(), &mut |_, m| {
            assert!(read_all(m) == message(2));
            DeliveryResult::Delivered
        })
        .unwrap();
    assert_eq!(report.delivered, vec![id]);
}

#[test]
fn an_entrys_own_expiry_wins_over_the_flush_default() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let mut short = meta(6);
    short.submitted = SystemTime::now() - Duration::from_secs(7200);
    short.expire_after = Some(Duration::from_secs(3600));
    let short_id = queue.enqueue(&short, &mut &message(6)[..]).unwrap();
    let mut long = meta(7);
    long.submitted = SystemTime::now() - Duration::from_secs(7200);
    let long_id = queue.enqueue(&long, &mut &message(7)[..]).unwrap();
    let report = queue
        .flush(&forced(), &mut |_, _| {
            DeliveryResult::TempFail("Connection refused".into())
        })
        .unwrap();
    let expired: Vec<_> = report.expired.iter().map(|e| e.id.clone()).collect();
    assert_eq!(expired, vec![short_id], "1 h expiry after 2 h queued");
    assert_eq!(report.deferred.len(), 1);
    assert_eq!(
        report.deferred[0].id, long_id,
        "default 5 days still applies"
    );
}

#[test]
fn expired_message_fails_with_a_notice_naming_subject_and_recipients() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let six_days = Duration::from_secs(6 * 86400);
    let mut old = meta(3);
    old.submitted = SystemTime::now() - six_days;
    old.notify = Some("postmaster@example.org".into());
    let expiring = queue.enqueue(&old, &mut &message(3)[..]).unwrap();
    let mut old_but_deliverable = meta(4);
    old_but_deliverable.submitted = SystemTime::now() - six_days;
    let delivered = queue
        .enqueue(&old_but_deliverable, &mut &message(4)[..])
        .unwrap();
    let young = queue.enqueue(&meta(5), &mut &message(5)[..]).unwrap();

    let report = queue
        .flush(
            &FlushOptions::default(),
            &mut |meta, _| match seq_of(meta) {
                4 => DeliveryResult::Delivered,
                _ => DeliveryResult::TempFail("Connection refused".into()),
            },
        )
        .unwrap();
    assert_eq!(report.delivered, vec![delivered]);
    assert_eq!(report.deferred.len(), 1);
    assert_eq!(report.deferred[0].id, young);
    assert_eq!(report.expired.len(), 1);
    let expired = &report.expired[0];
    assert_eq!(expired.id, expiring);
    assert!(expired.reason.contains("6 days") && expired.reason.contains("Connection refused"));
    assert_eq!(queue.list().unwrap().iter().filter(|e| e.failed).count(), 1);

    let notice = queue.failure_notice(expired).unwrap();
    let text = String::from_utf8_lossy(&notice);
    assert!(text.contains("To: postmaster@example.org\r\n"), "{text}");
    assert!(
        text.contains("Subject: Undelivered mail: message 3\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\nSubject: message 3\r\n"),
        "original headers quoted"
    );
    assert!(text.contains("<rcpt-3@example.org>") && text.contains("<second@example.net>"));
    assert!(text.contains("From: Mail Delivery System <MAILER-DAEMON@"));

    // A shorter expiry applies to the young one.
    let report = queue
        .flush(
            &FlushOptions {
                force: true,
                only: None,
                expire_after: Duration::ZERO,
                ..FlushOptions::default()
            },
            &mut |_, _| DeliveryResult::TempFail("still down".into()),
        )
        .unwrap();
    assert_eq!(report.expired.len(), 1);
    assert_eq!(queue.purge_failed().unwrap(), 2);
    assert!(queue.list().unwrap().is_empty());
}

#[test]
fn a_waiting_flush_tries_again_what_another_flusher_held() {
    // The background retrier is looking at the entry when a person asks for it
    // (by id: the entry lock; the whole queue: the queue lock): the person's
    // flush waits for it to let go, then delivers.
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    for by_id in [true, false] {
        let a = queue.enqueue(&meta(1), &mut &message(1)[..]).unwrap();
        let (holding_tx, holding_rx) = std::sync::mpsc::channel();
        let path = dir.path().to_path_buf();
        let retrier = std::thread::spawn(move || {
            let queue = Queue::open(&path).unwrap();
            queue
                .flush(&forced(), &mut |_, _| {
                    holding_tx.send(()).unwrap();
                    std::thread::sleep(Duration::from_millis(300));
                    DeliveryResult::TempFail("server down".into())
                })
                .unwrap()
        });
        holding_rx.recv().unwrap();
        let waiting = FlushOptions {
            only: by_id.then(|| a.clone()),
            wait_busy: Duration::from_secs(30),
            ..forced()
        };
        let report = queue
            .flush(&waiting, &mut |_, _| DeliveryResult::Delivered)
            .unwrap();
        assert!(report.busy.is_empty() && !report.lock_busy, "{report:?}");
        assert_eq!(report.delivered, vec![a]);
        assert_eq!(retrier.join().unwrap().deferred.len(), 1);
        assert!(queue.list().unwrap().is_empty());
    }

    // Without waiting (the default), the same overlap is skipped at once.
    let b = queue.enqueue(&meta(2), &mut &message(2)[..]).unwrap();
    let mut inner = None;
    queue
        .flush(&forced(), &mut |_, _| {
            let only = FlushOptions {
                only: Some(b.clone()),
                ..forced()
            };
            inner = Some(
                queue
                    .flush(&only, &mut |_, _| panic!("sent twice"))
                    .unwrap(),
            );
            DeliveryResult::Delivered
        })
        .unwrap();
    assert_eq!(inner.unwrap().busy, vec![b]);
}

#[test]
fn remove_and_locks_exclude_a_second_actor_while_delivering() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let a = queue.enqueue(&meta(1), &mut &message(1)[..]).unwrap();
    let b = queue.enqueue(&meta(2), &mut &message(2)[..]).unwrap();

    let mut inner = None;
    let report = queue
        .flush(&FlushOptions::default(), &mut |m, _| {
            if seq_of(m) == 1 {
                // While `a` is being delivered: it cannot be removed, a second
                // flush finds the queue lock taken, a flush of `a` alone finds it busy.
                let busy = queue.remove(&a).unwrap_err();
                assert!(matches!(busy, QueueError::Busy { .. }), "{busy}");
                assert_eq!(busy.exit_code(), 75);
                let second = queue
                    .flush(&forced(), &mut |_, _| panic!("second flusher delivered"))
                    .unwrap();
                assert!(second.lock_busy);
                let only = FlushOptions {
                    only: Some(a.clone()),
                    ..forced()
                };
                inner = Some(
                    queue
                        .flush(&only, &mut |_, _| panic!("sent twice at once"))
                        .unwrap(),
                );
            }
            DeliveryResult::TempFail("later".into())
        })
        .unwrap();
    assert_eq!(inner.unwrap().busy, vec![a.clone()]);
    assert_eq!(report.deferred.len(), 2);

    queue.remove(&a).unwrap();
    let err = queue.remove(&a).unwrap_err();
    assert!(matches!(err, QueueError::NoSuchEntry { .. }));
    assert_eq!(err.exit_code(), 66);
    let listed: Vec<EntryId> = queue.list().unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(listed, vec![b]);
    let only_gone = FlushOptions {
        only: Some(a),
        ..forced()
    };
    assert!(matches!(
        queue.flush(&only_gone, &mut |_, _| DeliveryResult::Delivered),
        Err(QueueError::NoSuchEntry { .. })
    ));
    assert!(EntryId::parse("../etc").is_err());
}

#[test]
fn open_creates_private_directories() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("state/rsmtp/queue");
    let queue = Queue::open(&root).unwrap();
    assert_eq!(queue.dir(), root);
    for sub in ["", "tmp", "queue", "failed"] {
        let mode = fs::metadata(root.join(sub)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{sub}");
    }
    Queue::open(&root).expect("opening twice is fine");

    let blocked = dir.path().join("file");
    fs::write(&blocked, "").unwrap();
    let err = Queue::open(&blocked.join("q")).unwrap_err();
    assert_eq!(err.exit_code(), 73, "{err}");
    assert!(err.to_string().contains("file/q"), "{err}");
}

#[test]
fn failed_input_leaves_nothing_behind() {
    struct Broken(usize);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("stdin went away"));
            }
            self.0 -= 1;
            buf[..10].copy_from_slice(b"Subject: x");
            Ok(10)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let err = queue.enqueue(&meta(1), &mut Broken(3)).unwrap_err();
    assert!(matches!(err, QueueError::Input { .. }), "{err}");
    assert_eq!(err.exit_code(), 74);
    assert!(queue.list().unwrap().is_empty());
    assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);

    let mut before_1970 = meta(1);
    before_1970.submitted = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
    let err = queue.enqueue(&before_1970, &mut &b""[..]).unwrap_err();
    assert_eq!(err.exit_code(), 65, "{err}");
}

#[test]
fn abandoned_tmp_entries_are_swept_but_live_writers_are_not() {
    let dir = tempfile::tempdir().unwrap();
    Queue::open(dir.path()).unwrap();
    let tmp = dir.path().join("tmp");
    let make = |name: &str, age: Duration| {
        let d = tmp.join(name);
        fs::create_dir(&d).unwrap();
        fs::write(d.join("message"), "partial").unwrap();
        let old = SystemTime::now() - age;
        fs::File::open(d.join("message"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        fs::File::open(&d).unwrap().set_modified(old).unwrap();
        d
    };
    let hour = STALE_TMP_AGE + Duration::from_secs(60);
    let stale = make("new-stale", hour);
    let fresh = make("new-fresh", Duration::ZERO);
    let held = make("new-held", hour);
    let deleting = make("del-x", Duration::ZERO);
    let holder = fs::File::open(&held).unwrap();
    rustix::fs::flock(&holder, rustix::fs::FlockOperation::LockExclusive).unwrap();
    // Body copies an older rsmtp left when it was killed: three days old, and one
    // being written now.
    let old_body = tmp.join("rsmtp-body-AbC123");
    fs::write(&old_body, "To: a@x\r\n\r\nsecret\r\n").unwrap();
    fs::File::options()
        .write(true)
        .open(&old_body)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3 * 86400))
        .unwrap();
    let new_body = tmp.join("rsmtp-body-XyZ789");
    fs::write(&new_body, "in progress").unwrap();

    Queue::open(dir.path()).unwrap();
    assert!(
        !old_body.exists(),
        "a 3-day-old body copy survived the sweep"
    );
    assert!(new_body.exists(), "a body being written was removed");
    assert!(!stale.exists(), "stale tmp entry kept");
    assert!(!deleting.exists(), "interrupted deletion kept");
    assert!(fresh.exists(), "entry being written was removed");
    assert!(held.exists(), "locked entry was removed");
}

#[test]
fn damaged_entry_is_reported_and_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let bad = queue.enqueue(&meta(1), &mut &message(1)[..]).unwrap();
    let good = queue.enqueue(&meta(2), &mut &message(2)[..]).unwrap();
    let envelope = dir.path().join("queue").join(bad.as_str()).join("envelope");
    fs::write(&envelope, "rsmtp-queue-envelope 1\naccount: x\n").unwrap();
    fs::create_dir(dir.path().join("queue/not-an-id.txt")).unwrap();

    let listed = queue.list().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].damaged.as_deref().unwrap().contains("truncated"));
    assert!(Mailq(&listed).to_string().contains("(damaged: "));

    let report = queue
        .flush(&FlushOptions::default(), &mut |_, _| {
            DeliveryResult::Delivered
        })
        .unwrap();
    assert_eq!(report.delivered, vec![good]);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].0, bad);
    assert!(matches!(report.errors[0].1, QueueError::Corrupt { .. }));
    assert!(report.errors[0].1.to_string().contains("envelope"));
    queue.remove(&bad).unwrap();
    assert!(queue.list().unwrap().is_empty());
}

#[test]
fn fifty_concurrent_enqueuers_make_fifty_complete_entries() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let ids: Vec<EntryId> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50u64)
            .map(|n| {
                let queue = &queue;
                s.spawn(move || queue.enqueue(&meta(n), &mut &message(n)[..]).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 50);
    let found = support::check_all_complete(dir.path());
    let mut seqs: Vec<u64> = found.iter().map(|(_, n)| *n).collect();
    seqs.sort();
    assert_eq!(seqs, (0..50).collect::<Vec<_>>());
}

#[test]
fn concurrent_flusher_threads_deliver_each_message_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let ids: Vec<EntryId> = (0..50)
        .map(|n| queue.enqueue(&meta(n), &mut &message(n)[..]).unwrap())
        .collect();
    let counts: Arc<Mutex<HashMap<u64, u32>>> = Arc::default();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (queue, counts, ids) = (&queue, counts.clone(), &ids);
            s.spawn(move || {
                let mut deliver = |m: &EntryMeta, msg: &mut dyn Read| {
                    assert!(read_all(msg) == message(seq_of(m)));
                    std::thread::sleep(Duration::from_millis(1));
                    *counts.lock().unwrap().entry(seq_of(m)).or_default() += 1;
                    DeliveryResult::Delivered
                };
                while !queue.list().unwrap().is_empty() {
                    if t % 2 == 0 {
                        let report = queue.flush(&FlushOptions::default(), &mut deliver).unwrap();
                        assert!(report.errors.is_empty(), "{:?}", report.errors);
                    } else {
                        // Bypass the queue lock: only the entry locks protect us.
                        for id in ids.iter().rev() {
                            let only = FlushOptions {
                                only: Some(id.clone()),
                                ..FlushOptions::default()
                            };
                            match queue.flush(&only, &mut deliver) {
                                Ok(report) => {
                                    assert!(report.errors.is_empty(), "{:?}", report.errors)
                                }
                                Err(QueueError::NoSuchEntry { .. }) => {}
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                }
            });
        }
    });
    let counts = counts.lock().unwrap();
    assert_eq!(counts.len(), 50);
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}

static OPENED: AtomicBool = AtomicBool::new(false);
static RELEASED: AtomicBool = AtomicBool::new(false);

/// Stops a flusher between opening an entry and locking it.
fn stall_after_open(step: Step) {
    if step == Step::EntryOpened {
        OPENED.store(true, Ordering::SeqCst);
        while !RELEASED.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

#[test]
fn a_flusher_that_locks_an_entry_delivered_meanwhile_does_not_send_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let id = queue.enqueue(&meta(1), &mut &message(1)[..]).unwrap();
    let mut slow = queue.clone();
    slow.set_step_hook(stall_after_open);
    let sent = AtomicUsize::new(0);
    let mut deliver = |_: &EntryMeta, _: &mut dyn Read| {
        sent.fetch_add(1, Ordering::SeqCst);
        DeliveryResult::Delivered
    };
    let slow_report = std::thread::scope(|s| {
        let only = FlushOptions {
            only: Some(id.clone()),
            ..forced()
        };
        let sent = &sent;
        let slow = s.spawn(move || {
            slow.flush(&only, &mut |_, _| {
                sent.fetch_add(1, Ordering::SeqCst);
                DeliveryResult::Delivered
            })
            .unwrap()
        });
        while !OPENED.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        // The slow flusher holds the file open but no lock: we deliver and remove.
        let report = queue.flush(&forced(), &mut deliver).unwrap();
        assert_eq!(report.delivered, vec![id.clone()]);
        RELEASED.store(true, Ordering::SeqCst);
        slow.join().unwrap()
    });
    assert_eq!(sent.load(Ordering::SeqCst), 1);
    assert!(slow_report.delivered.is_empty());
    assert!(slow_report.errors.is_empty(), "{:?}", slow_report.errors);
}

/// Delivers everything; with `back`, a server is back once it took a message.
struct Relay {
    back: bool,
    order: Vec<String>,
}

impl rsmtp_queue::Courier for Relay {
    fn deliver(&mut self, meta: &EntryMeta, _message: &mut EntryMessage<'_>) -> DeliveryResult {
        self.order.push(meta.recipients.join(","));
        DeliveryResult::Delivered
    }
    fn server_is_back(&mut self, _meta: &EntryMeta) -> bool {
        self.back && !self.order.is_empty()
    }
}

#[test]
fn a_delivery_brings_the_waiting_entries_of_a_server_that_is_back() {
    for back in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::open(dir.path()).unwrap();
        let mut waiting = EntryMeta::new("a", "s@x.org", vec!["old@x.org".into()]);
        waiting.record_temp_failure("451 down", SystemTime::now());
        queue.enqueue(&waiting, &mut &b"old\r\n"[..]).unwrap();
        let due = EntryMeta::new("a", "s@x.org", vec!["new@x.org".into()]);
        queue.enqueue(&due, &mut &b"new\r\n"[..]).unwrap();
        let mut relay = Relay {
            back,
            order: Vec::new(),
        };
        let report = queue
            .flush_with(&FlushOptions::default(), &mut relay)
            .unwrap();
        if back {
            assert_eq!(relay.order, ["new@x.org", "old@x.org"]);
            assert!(report.not_due.is_empty());
        } else {
            assert_eq!(relay.order, ["new@x.org"]);
            assert_eq!(report.not_due.len(), 1);
        }
    }
}

#[test]
fn a_second_retrier_is_refused_while_the_first_lives() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    assert!(!queue.retrier_running());
    let held = queue.try_lock_retrier().unwrap();
    assert!(held.is_some());
    assert!(queue.try_lock_retrier().unwrap().is_none());
    assert!(queue.retrier_running());
    drop(held);
    assert!(!queue.retrier_running());
    assert!(!queue.has_waiting());
    queue
        .enqueue(
            &EntryMeta::new("a", "s@x.org", vec!["r@x.org".into()]),
            &mut &b"m\r\n"[..],
        )
        .unwrap();
    assert!(queue.has_waiting());
}

#[test]
fn only_a_body_sent_without_an_answer_marks_the_entry_as_possibly_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let id = queue.enqueue(&meta(1), &mut &message(1)[..]).unwrap();
    let in_flight = dir.path().join("queue").join(id.as_str()).join("in-flight");
    let marked = |queue: &Queue| queue.list().unwrap()[0].unanswered_since.is_some();

    // Refused before the body (nothing read), or answered after it: no mark.
    for read_body in [false, true] {
        let report = queue
            .flush(&forced(), &mut |_: &EntryMeta, m: &mut dyn Read| {
                if read_body {
                    read_all(m);
                }
                DeliveryResult::TempFail("451 later".into())
            })
            .unwrap();
        assert_eq!(report.deferred.len(), 1);
        assert!(!marked(&queue) && !in_flight.exists());
    }

    // Sent in full, no answer: marked, and the journal file is gone.
    queue
        .flush(&forced(), &mut |_: &EntryMeta, m: &mut dyn Read| {
            read_all(m);
            DeliveryResult::Unanswered("timeout after the message was sent".into())
        })
        .unwrap();
    assert!(marked(&queue) && !in_flight.exists());
    assert!(Mailq(&queue.list().unwrap())
        .to_string()
        .contains("may arrive twice"));

    // Delivered later: the report says it may have arrived twice.
    let report = queue
        .flush(&forced(), &mut |_: &EntryMeta, _: &mut dyn Read| {
            DeliveryResult::Delivered
        })
        .unwrap();
    assert_eq!(report.maybe_twice.len(), 1);
    assert_eq!(report.maybe_twice[0].0, id);

    // A process killed while sending leaves only the journal file: the next flush
    // marks the entry from it.
    let id = queue.enqueue(&meta(2), &mut &message(2)[..]).unwrap();
    let in_flight = dir.path().join("queue").join(id.as_str()).join("in-flight");
    let killed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        queue.flush(&forced(), &mut |_: &EntryMeta, m: &mut dyn Read| {
            read_all(m);
            panic!("killed while awaiting the reply")
        })
    }));
    assert!(killed.is_err() && in_flight.exists());
    assert!(
        marked(&queue),
        "mailq shows a journal left by a dead sender"
    );
    let report = queue
        .flush(&forced(), &mut |_: &EntryMeta, _: &mut dyn Read| {
            DeliveryResult::Delivered
        })
        .unwrap();
    assert_eq!(report.maybe_twice.len(), 1);
}

#[test]
fn a_failed_sync_after_publishing_leaves_nothing_to_deliver_later() {
    fn failing_sync(step: Step) -> Option<io::Error> {
        (step == Step::Published).then(|| io::Error::from_raw_os_error(5)) // EIO
    }
    let dir = tempfile::tempdir().unwrap();
    let mut queue = Queue::open(dir.path()).unwrap();
    queue.set_fault_hook(failing_sync);
    let err = queue
        .enqueue(&meta(1), &mut &message(1)[..])
        .expect_err("the sync failed, so enqueue fails");
    assert_eq!(err.exit_code(), rsmtp_core::ExitCode::TempFail, "{err}");
    // The caller was told "not queued": no flush may deliver it afterwards.
    let queue = Queue::open(dir.path()).unwrap();
    assert!(queue.list().unwrap().is_empty());
    let mut delivered = 0;
    queue
        .flush(&forced(), &mut |_, _| {
            delivered += 1;
            DeliveryResult::Delivered
        })
        .unwrap();
    assert_eq!(delivered, 0);
    assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
}

/// A queue too large to read on one thread (10,000 entries is what `mailq` is
/// measured on): every entry is listed once, in order, with its own envelope.
#[test]
fn a_large_queue_lists_every_entry_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let n = 1500u64;
    // Enqueued for real in small numbers, then copied under new (older) ids: 1500
    // enqueues would cost 6,000 fsyncs.
    let mut sources = Vec::new();
    for i in 0..4 {
        let id = queue.enqueue(&meta(i), &mut &message(i)[..]).unwrap();
        sources.push(dir.path().join("queue").join(id.as_str()));
    }
    for i in 4..n {
        let copy = dir
            .path()
            .join("queue")
            .join(format!("{:010}-000000-1-{i:08x}", 1_600_000_000 + i));
        fs::create_dir(&copy).unwrap();
        let source = &sources[(i % 4) as usize];
        for name in ["message", "envelope"] {
            fs::copy(source.join(name), copy.join(name)).unwrap();
        }
    }
    let listed = queue.list().unwrap();
    assert_eq!(listed.len() as u64, n);
    let ids: Vec<_> = listed.iter().map(|e| e.id.clone()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "listed once each, oldest first");
    for (i, e) in listed
        .iter()
        .enumerate()
        .filter(|(_, e)| e.id.as_str().starts_with("16"))
    {
        let seq =
            e.id.as_str()
                .rsplit('-')
                .next()
                .map(|h| u64::from_str_radix(h, 16).unwrap());
        assert_eq!(
            e.sender,
            format!("seq-{}@example.org", seq.unwrap() % 4),
            "entry {i}"
        );
        assert!(e.damaged.is_none());
    }
}
