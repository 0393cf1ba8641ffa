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
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rsmtp_config::Account;
use rsmtp_queue::{FlushOptions, Queue, Schedule, BACKOFF_BASE, BACKOFF_MAX};

use crate::cli::Delivery;
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::queue_cmd::{existing_queues, flush_queue};
use crate::ui::Ui;

/// For tests only: the first retry delay in milliseconds instead of
/// [`BACKOFF_BASE`] (50 s), so that a test of the retrier takes seconds.
pub const FIRST_DELAY_ENV: &str = "RSMTP_RETRY_FIRST_DELAY_MS";

/// The first delay of the backoff ([`FIRST_DELAY_ENV`] or [`BACKOFF_BASE`]).
pub fn first_retry() -> Duration {
    std::env::var(FIRST_DELAY_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map_or(BACKOFF_BASE, Duration::from_millis)
}

/// Flush options: `force` tries every entry now (a person's `-q`), waiting for
/// another flusher to let go of what it holds; otherwise only the due ones, and
/// what another flusher holds is left to it (the timer, the retrier, `-q15m`).
pub fn flush_options(force: bool) -> FlushOptions {
    FlushOptions {
        force,
        first_retry: first_retry(),
        wait_busy: if force {
            rsmtp_queue::PERSON_WAITS
        } else {
            Duration::ZERO
        },
        ..FlushOptions::default()
    }
}

/// Leaves the starter's session (see the module documentation). Fails harmlessly
/// when this process already leads one.
pub fn detach() {
    let _ = rustix::process::setsid();
}

/// The `rsmtp` binary to start a background process with: this one, unless this is
/// another program built on the library (backup-alert), which cannot take rsmtp's
/// internal options: then the `rsmtp` next to it, else the one on `PATH`.
pub fn rsmtp_exe() -> std::io::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let is_backup_alert = exe
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("backup-alert"));
    if !is_backup_alert {
        return Ok(exe);
    }
    let sibling = exe.with_file_name("rsmtp");
    Ok(if sibling.is_file() {
        sibling
    } else {
        "rsmtp".into()
    })
}

/// Starts `cmd` detached; does not wait for it.
pub fn spawn_detached(mut cmd: Command) -> std::io::Result<()> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // The caller may have left descriptors open without close-on-exec (a web
    // server's request pipe at fd 251 was seen): the detached process would hold
    // them for as long as it retries, keeping the request open. rsmtp never hands a
    // descriptor to a child by inheritance (std sets up the pipes it uses), so
    // marking every one from 3 up is safe here.
    close_fds::set_fds_cloexec(3, &[]);
    let mut child = cmd.spawn()?;
    // The child is reaped on a thread so a long-lived caller (the listener) keeps no
    // zombie. Where no thread can start (EAGAIN under a pids limit) the message is
    // already safe in the queue: the child is left to be reaped when we exit, and
    // nothing panics.
    let _ = std::thread::Builder::new()
        .name("rsmtp-reaper".into())
        .spawn(move || child.wait());
    Ok(())
}

/// After a message went out directly: if others wait in the account's queue, start
/// the retrier telling it the server is back. Costs the caller one directory read.
pub fn after_delivery(delivery: &Delivery, account: &Account, server: &str, ui: &mut Ui) {
    let dir = account.queue_dir();
    if !dir.join("queue").is_dir() {
        return;
    }
    match Queue::open(&dir) {
        Ok(queue) if queue.has_waiting() => start(delivery, account, Some(server), ui),
        _ => {}
    }
}

/// After a message was queued: start the queue's retrier unless one runs.
pub fn after_queueing(delivery: &Delivery, account: &Account, ui: &mut Ui) {
    match Queue::open(&account.queue_dir()) {
        Ok(queue) if queue.retrier_running() => {}
        _ => start(delivery, account, None, ui),
    }
}

fn start(delivery: &Delivery, account: &Account, server_back: Option<&str>, ui: &mut Ui) {
    let exe = match rsmtp_exe() {
        Ok(e) => e,
        Err(e) => {
            ui.warn(&format!("cannot start the queue's retrier: {e}"));
            return;
        }
    };
    let mut cmd = Command::new(exe);
    cmd.arg("--queue-retrier")
        .arg(format!("--queue-dir={}", account.queue_dir().display()))
        .arg(format!(
            "--queue-retry-for={}",
            account.queue_retry_for().as_secs().max(1)
        ));
    if let Some(server) = server_back {
        cmd.arg(format!("--queue-server-up={server}"));
    }
    if let Some(file) = &delivery.config_file {
        cmd.arg("-C").arg(file);
    }
    if let Err(e) = spawn_detached(cmd) {
        ui.warn(&format!("cannot start the queue's retrier: {e}"));
    }
}

/// How long this retrier keeps going: `--queue-retry-for`, else the default expiry.
fn retry_for(delivery: &Delivery) -> Duration {
    delivery
        .overrides
        .iter()
        .rev()
        .find(|(c, _)| c == "queue_retry_for")
        .and_then(|(_, v)| rsmtp_config::parse_duration(v))
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
        .and_then(|meta| crate::queue_cmd::entry_account(&meta, &[]).ok())
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
