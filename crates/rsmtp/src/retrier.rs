//! The queue delivers itself, without cron or a timer:
//!
//! * **the retrier**: when a message is queued, a detached `rsmtp --queue-retrier`
//!   (one per queue: it holds `<queue>/retrier.lock`) flushes what is due, sleeps
//!   until the next retry time (first retry within a minute, doubling, ±20 %
//!   jitter, at most an hour), and stops when the queue is empty or its newest
//!   message has waited `queue_retry_for` (default: `queue_expire`). Expiry and the
//!   failure notice happen in its flushes. Killed, it loses nothing: the entries
//!   stay, and the next invocation starts another;
//! * **the next invocation**: a run that delivers a message notices the messages
//!   waiting in that account's queue and starts the retrier with
//!   `--queue-server-up=HOST:PORT`: the server is back, so its waiting messages go at
//!   once, whatever their backoff. A run that queues one starts the retrier unless
//!   one runs. Neither waits for anything: one directory read, one spawn;
//! * **`rsmtp -q15m`**: the same flushes in the foreground every interval, until
//!   SIGTERM or SIGINT (the message in flight is finished).
//!
//! Detached means: stdin, stdout and stderr on /dev/null (a PHP `popen` or a cron
//! job never waits for it), its own session (`setsid`: a closing terminal does not
//! kill it), and reaped by a thread of the starter so a long-lived starter (the
//! listener) keeps no zombie.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rsmtp_queue::{FlushOptions, Queue, Schedule, BACKOFF_MAX};

use crate::delivery::Delivery;
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::flush::flush_queue;
use crate::queued::{entry_account, existing_queues, first_retry, flush_options};
use crate::ui::Ui;

/// Leaves the starter's session (see the module documentation). Fails harmlessly
/// when this process already leads one.
pub fn detach() {
    let _ = rustix::process::setsid();
}

/// How long this retrier keeps going: `--queue-retry-for`, else the default expiry.
fn retry_for(delivery: &Delivery) -> Duration {
    delivery
        .queue_retry_for
        .unwrap_or(rsmtp_config::DEFAULT_QUEUE_EXPIRE)
}

/// `--queue-retrier` (and the tail of `--deliver-queued`): flush the entries of the
/// servers known to be back, then, holding the retrier lock, retry until done.
pub fn run(delivery: &Delivery, ui: &mut Ui, servers_back: &[String]) -> Result<ExitCode, Failure> {
    let retry_for = retry_for(delivery);
    for queue in existing_queues(delivery)? {
        if !servers_back.is_empty() && queue.has_waiting() {
            flush_queue(&queue, &[], ui, &flush_options(false), servers_back, None)?;
        }
        let Some(_lock) = queue.try_lock_retrier()? else {
            continue; // another retrier has this queue
        };
        retry_until_done(&queue, ui, retry_for)?;
    }
    Ok(ExitCode::Ok)
}

/// The retrier's loop. Between flushes it sleeps until the earliest retry time,
/// looking at `queue/` every second so a message queued meanwhile is not left
/// waiting for a later wake-up.
fn retry_until_done(queue: &Queue, ui: &mut Ui, retry_for: Duration) -> Result<(), Failure> {
    // A damaged entry is "due" at once on every pass; never spin on it.
    let least_wait = (first_retry() / 10).max(Duration::from_secs(1));
    let mut bounds = HashMap::new();
    // Kept across passes: a pass opens only the entries that are new or due.
    let schedule = Schedule::new();
    let options = FlushOptions {
        schedule: Some(schedule.clone()),
        ..flush_options(false)
    };
    loop {
        let pass = flush_queue(queue, &[], ui, &options, &[], None)?;
        let waiting = schedule.waiting();
        let Some(deadline) = waiting
            .iter()
            .map(|e| e.submitted + entry_retry_for(queue, e, retry_for, &mut bounds))
            .max()
        else {
            return Ok(());
        };
        let now = SystemTime::now();
        if now >= deadline {
            return Ok(());
        }
        let next = waiting.iter().map(|e| e.next_attempt).min().unwrap_or(now);
        let mut wake = next.max(now + least_wait).min(now + BACKOFF_MAX);
        if pass.lock_busy {
            wake = wake.min(now + first_retry()); // someone else flushes: look again soon
        }
        let wake = wake.min(deadline);
        let stamp = queue.waiting_stamp();
        while let Ok(left) = wake.duration_since(SystemTime::now()) {
            std::thread::sleep(left.min(Duration::from_secs(1)));
            if queue.waiting_stamp() != stamp {
                break;
            }
        }
    }
}

/// How long the retrier keeps trying `entry`: its own account's `queue_retry_for`
/// (one queue may hold the messages of several accounts), else `fallback` (the
/// starter's). Looked up once per account and configuration file; only then is the
/// entry's envelope read again.
fn entry_retry_for(
    queue: &Queue,
    entry: &rsmtp_queue::Waiting,
    fallback: Duration,
    bounds: &mut HashMap<(String, Option<std::path::PathBuf>), Duration>,
) -> Duration {
    let key = (entry.account.clone(), entry.config_file.clone());
    if let Some(bound) = bounds.get(&key) {
        return *bound;
    }
    let Some(bound) = queue
        .envelope(&entry.id)
        .ok()
        .and_then(|meta| entry_account(&meta, &[]).ok())
        .map(|account| account.queue_retry_for())
    else {
        return fallback; // gone meanwhile, or its account unreadable: ask again next time
    };
    bounds.insert(key, bound);
    bound
}

/// `rsmtp -q15m`: flush what is due every `every`, in the foreground, until
/// SIGTERM or SIGINT; the message in flight is finished first.
pub fn run_every(delivery: &Delivery, ui: &mut Ui, every: Duration) -> Result<ExitCode, Failure> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(|e| {
            Failure::new(
                ExitCode::OsErr,
                format!("cannot handle signal {signal}: {e}"),
            )
        })?;
    }
    while !stop.load(Ordering::SeqCst) {
        for queue in existing_queues(delivery)? {
            flush_queue(&queue, &[], ui, &flush_options(false), &[], Some(&stop))?;
        }
        let until = std::time::Instant::now() + every;
        while !stop.load(Ordering::SeqCst) && std::time::Instant::now() < until {
            std::thread::sleep(
                until
                    .saturating_duration_since(std::time::Instant::now())
                    .min(Duration::from_millis(100)),
            );
        }
    }
    Ok(ExitCode::Ok)
}
