//! What the queue's work costs as it grows: a flush syncs `queue/` once per
//! batch of deliveries, concurrent enqueuers share the sync of `queue/`, and a
//! flush that keeps a schedule opens only the entries that are new or due.
//! Each count comes from the [`Step`] hooks, one hook and counter per test.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

use rsmtp_queue::{
    DeliveryResult, EntryMeta, FlushOptions, Queue, Schedule, Step, REMOVALS_PER_SYNC,
};
use support::{message, meta, read_all, seq_of};

fn due_only(schedule: &Schedule) -> FlushOptions {
    FlushOptions {
        first_retry: Duration::from_secs(3600),
        schedule: Some(schedule.clone()),
        ..FlushOptions::default()
    }
}

#[test]
fn a_flush_syncs_the_queue_directory_once_per_batch_of_deliveries() {
    static SYNCS: AtomicUsize = AtomicUsize::new(0);
    static TAKEN_OUT: AtomicUsize = AtomicUsize::new(0);
    fn count(step: Step) {
        match step {
            Step::RemovalsSynced => SYNCS.fetch_add(1, Ordering::SeqCst),
            Step::Discarded => TAKEN_OUT.fetch_add(1, Ordering::SeqCst),
            _ => 0,
        };
    }
    let dir = tempfile::tempdir().unwrap();
    let mut queue = Queue::open(dir.path()).unwrap();
    let n = REMOVALS_PER_SYNC as u64 + 6;
    for i in 0..n {
        queue.enqueue(&meta(i), &mut &message(i)[..]).unwrap();
    }
    queue.set_step_hook(count);
    let mut sent = Vec::new();
    let report = queue
        .flush(&FlushOptions::default(), &mut |m, msg| {
            assert!(read_all(msg) == message(seq_of(m)));
            sent.push(seq_of(m));
            DeliveryResult::Delivered
        })
        .unwrap();
    assert!(report.all_ok(), "{report:?}");
    assert_eq!(sent, (0..n).collect::<Vec<_>>());
    assert_eq!(TAKEN_OUT.load(Ordering::SeqCst), n as usize);
    // One sync for the first full batch, one for the rest before the flush returns
    // (one more if a batch took longer than a second on a loaded machine).
    let syncs = SYNCS.load(Ordering::SeqCst);
    assert!((2..=4).contains(&syncs), "{syncs} syncs for {n} deliveries");
    assert!(queue.list().unwrap().is_empty());
    // Gone for good: a second flush finds nothing.
    let again = queue
        .flush(&FlushOptions::default(), &mut |_, _| {
            panic!("delivered twice")
        })
        .unwrap();
    assert!(again.delivered.is_empty());
}

#[test]
fn concurrent_enqueuers_share_the_sync_of_the_queue_directory() {
    static SYNCS: AtomicUsize = AtomicUsize::new(0);
    fn slow_sync(step: Step) {
        if step == Step::QueueSyncing {
            SYNCS.fetch_add(1, Ordering::SeqCst);
            // A slow disk: the others arrive while this sync runs.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut queue = Queue::open(dir.path()).unwrap();
    queue.set_step_hook(slow_sync);
    let (threads, each) = (8u64, 5u64);
    let start = Arc::new(Barrier::new(threads as usize));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (queue, start) = (queue.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                for i in 0..each {
                    let n = t * 100 + i;
                    queue.enqueue(&meta(n), &mut &message(n)[..]).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let total = (threads * each) as usize;
    assert_eq!(queue.list().unwrap().len(), total);
    let syncs = SYNCS.load(Ordering::SeqCst);
    assert!(
        syncs <= total / 2,
        "{syncs} syncs of queue/ for {total} concurrent enqueues"
    );
}

#[test]
fn a_failed_shared_sync_fails_every_enqueue_it_covered_and_leaves_nothing() {
    fn failing_slow_sync(step: Step) -> Option<std::io::Error> {
        (step == Step::Published).then(|| {
            std::thread::sleep(Duration::from_millis(20));
            std::io::Error::from_raw_os_error(5) // EIO
        })
    }
    let dir = tempfile::tempdir().unwrap();
    let mut queue = Queue::open(dir.path()).unwrap();
    queue.set_fault_hook(failing_slow_sync);
    let start = Arc::new(Barrier::new(6));
    let workers: Vec<_> = (0..6u64)
        .map(|t| {
            let (queue, start) = (queue.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                (0..3u64)
                    .map(|i| queue.enqueue(&meta(t * 10 + i), &mut &message(i)[..]))
                    .filter(|r| r.is_ok())
                    .count()
            })
        })
        .collect();
    let ok: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(ok, 0, "an enqueue returned Ok although its sync failed");
    assert!(queue.list().unwrap().is_empty());
    let report = queue
        .flush(&FlushOptions::default(), &mut |_, _| {
            panic!("delivered a message whose enqueue failed")
        })
        .unwrap();
    assert!(report.delivered.is_empty());
}

#[test]
fn a_scheduled_flush_opens_only_the_entries_that_are_new_or_due() {
    static OPENED: AtomicUsize = AtomicUsize::new(0);
    fn count(step: Step) {
        if step == Step::EntryOpened {
            OPENED.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut queue = Queue::open(dir.path()).unwrap();
    queue.set_step_hook(count);
    for n in 0..20 {
        queue.enqueue(&meta(n), &mut &message(n)[..]).unwrap();
    }
    let schedule = Schedule::new();
    let relay_down =
        &mut |_: &EntryMeta, _: &mut dyn std::io::Read| DeliveryResult::TempFail("421 down".into());
    let first = queue.flush(&due_only(&schedule), relay_down).unwrap();
    assert_eq!(first.deferred.len(), 20);
    assert_eq!(OPENED.swap(0, Ordering::SeqCst), 20);

    // One more message arrives while the relay is down: the pass opens it alone.
    queue.enqueue(&meta(20), &mut &message(20)[..]).unwrap();
    let second = queue.flush(&due_only(&schedule), relay_down).unwrap();
    assert_eq!(second.deferred.len(), 1);
    assert!(second.not_due.is_empty(), "skipped unopened, not looked at");
    assert_eq!(OPENED.swap(0, Ordering::SeqCst), 1);
    let waiting = schedule.waiting();
    assert_eq!(waiting.len(), 1, "one account");
    assert_eq!(waiting[0].entries, 21);
    assert!(waiting[0].next_attempt > SystemTime::now());

    // A pass with nothing new and nothing due opens nothing.
    let third = queue.flush(&due_only(&schedule), relay_down).unwrap();
    assert!(third.deferred.is_empty());
    assert_eq!(OPENED.load(Ordering::SeqCst), 0);

    // Another process removes one: the next pass knows, without opening any.
    let gone = queue.list().unwrap()[3].id.clone();
    Queue::open(dir.path()).unwrap().remove(&gone).unwrap();
    OPENED.store(0, Ordering::SeqCst);
    queue.flush(&due_only(&schedule), relay_down).unwrap();
    assert_eq!(schedule.waiting()[0].entries, 20);
    assert_eq!(OPENED.load(Ordering::SeqCst), 0);

    // Without a schedule, every entry is opened, as before.
    queue.flush(&FlushOptions::default(), relay_down).unwrap();
    assert_eq!(OPENED.load(Ordering::SeqCst), 20);
}

#[test]
fn a_schedule_follows_what_another_process_did_to_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    let ids: Vec<_> = (0..3)
        .map(|n| queue.enqueue(&meta(n), &mut &message(n)[..]).unwrap())
        .collect();
    let schedule = Schedule::new().recheck_every(Duration::ZERO);
    let tried = Arc::new(AtomicBool::new(false));
    queue
        .flush(&due_only(&schedule), &mut |_, _| {
            DeliveryResult::TempFail("421 down".into())
        })
        .unwrap();
    assert_eq!(schedule.waiting()[0].entries, 3);

    // Someone else: `--queue-retry` on one (due now), `--queue-delete` on another.
    let other = Queue::open(dir.path()).unwrap();
    other.retry_now(&ids[1]).unwrap();
    other.remove(&ids[2]).unwrap();

    let seen = Arc::clone(&tried);
    let report = queue
        .flush(&due_only(&schedule), &mut |m, msg| {
            assert!(read_all(msg) == message(seq_of(m)));
            assert_eq!(seq_of(m), 1, "only the entry made due was tried");
            seen.store(true, Ordering::SeqCst);
            DeliveryResult::Delivered
        })
        .unwrap();
    assert!(tried.load(Ordering::SeqCst));
    assert_eq!(report.delivered, vec![ids[1].clone()]);
    let waiting = schedule.waiting();
    assert_eq!((waiting[0].entries, &waiting[0].id), (1, &ids[0]));
}
