//! The listener's own delivery of `queue always` messages: one worker thread, fed
//! through a channel, instead of a detached `rsmtp --deliver-queued` process per
//! message. A process per message paid a fork and exec of the whole binary, the
//! msmtprc read again and a new SMTP connection each time: two thirds of the cost of
//! a queued message (issue 25). The worker takes what arrived while it was busy as
//! one batch and delivers it in one pass over the queue through one
//! [`SessionCourier`](rsmtp_deliver::courier::SessionCourier), so the messages of a
//! burst share their SMTP sessions.
//!
//! Nothing is lost by doing it in-process. The message is durably queued before the
//! client hears 250, exactly as before; the worker only decides when it is sent.
//! - A message that stays queued after the worker's pass (relay down, or another
//!   flusher held the queue) gets the queue's retrier process, as sendmail mode's
//!   does.
//! - When the listener is stopped (SIGTERM, SIGINT), every queue the worker was given
//!   that still holds messages gets the retrier too, before the process ends. A
//!   SIGKILL leaves them to the `rsmtp-queue.timer` or cron's `rsmtp -q`, as a
//!   crash of any MTA does.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use rsmtp_config::Account;
use rsmtp_queue::{FlushOptions, Queue, Schedule};

use crate::background;
use crate::delivery::Delivery;
use crate::flush::flush_queue;
use crate::queued::flush_options;
use crate::ui::{DeliverLater, Ui};

/// The queues the worker has been given, by directory: what to hand to the retrier
/// when the listener stops.
type Known = Arc<Mutex<BTreeMap<PathBuf, Account>>>;

/// The handle the listener's sessions hand queued messages to.
pub(crate) struct QueueWorker {
    jobs: Sender<Account>,
}

impl QueueWorker {
    /// Start the worker thread, and the signal watcher that hands the queues over to
    /// the retrier when the listener is stopped. `None` where a thread cannot start
    /// (a pids limit): each message then gets its process, as before.
    pub(crate) fn start(base: &Delivery) -> Option<QueueWorker> {
        let (jobs, arrivals) = mpsc::channel();
        let known = Known::default();
        let (thread_base, thread_known) = (base.clone(), known.clone());
        std::thread::Builder::new()
            .name("rsmtpd-queue".into())
            .spawn(move || work(&thread_base, &arrivals, &thread_known))
            .ok()?;
        hand_over_on_stop(base.clone(), known);
        Some(QueueWorker { jobs })
    }
}

impl DeliverLater for QueueWorker {
    fn deliver_later(&self, account: &Account, _id: &str) -> bool {
        // The pass delivers every due entry of the queue, this one among them.
        self.jobs.send(account.clone()).is_ok()
    }
}

/// The worker's loop: wait for a message, take whatever else arrived meanwhile, and
/// make one pass over each queue concerned.
fn work(base: &Delivery, arrivals: &Receiver<Account>, known: &Known) {
    // A pass opens only the entries that are new, changed or due (see `Schedule`), so
    // its cost does not grow with the messages left waiting for a relay that is down.
    let mut schedules: BTreeMap<PathBuf, Schedule> = BTreeMap::new();
    while let Ok(first) = arrivals.recv() {
        let mut batch = BTreeMap::new();
        for account in std::iter::once(first).chain(arrivals.try_iter()) {
            batch.entry(account.queue_dir()).or_insert(account);
        }
        for (dir, account) in batch {
            if let Ok(mut known) = known.lock() {
                known.entry(dir.clone()).or_insert_with(|| account.clone());
            }
            let schedule = schedules.entry(dir.clone()).or_default().clone();
            pass(base, &dir, &account, schedule);
        }
    }
}

/// One pass over the queue in `dir`; what it leaves queued gets the retrier.
fn pass(base: &Delivery, dir: &std::path::Path, account: &Account, schedule: Schedule) {
    let (mut out, mut err) = (std::io::sink(), std::io::stderr());
    let mut ui = Ui::new(&mut out, &mut err, false);
    let queue = match Queue::open(dir) {
        Ok(queue) => queue,
        Err(e) => {
            ui.warn(&format!(
                "{}: {e}; the next `rsmtp -q` sends what waits",
                dir.display()
            ));
            return;
        }
    };
    let options = FlushOptions {
        schedule: Some(schedule.clone()),
        ..flush_options(false)
    };
    // Left queued by this pass: deferred (the schedule holds what waits as of the
    // pass, not what arrived since, which is the next batch's), or not looked at
    // because another flusher held the queue.
    let left = match flush_queue(&queue, &base.overrides, &mut ui, &options, &[], None) {
        Ok(pass) => pass.lock_busy || !schedule.waiting().is_empty(),
        Err(failure) => {
            ui.warn(&failure.message);
            true
        }
    };
    if left {
        background::after_queueing(base, account, &mut ui);
    }
}

/// On SIGTERM or SIGINT: start the retrier for every queue the worker was given that
/// still holds messages, then end as the signal would have.
fn hand_over_on_stop(base: Delivery, known: Known) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("rsmtpd-stop".into())
        .spawn(move || {
            let Some(signal) = signals.forever().next() else {
                return;
            };
            let (mut out, mut err) = (std::io::sink(), std::io::stderr());
            let mut ui = Ui::new(&mut out, &mut err, false);
            let queues = known.lock().map(|k| k.clone()).unwrap_or_default();
            for (dir, account) in &queues {
                if Queue::open(dir).is_ok_and(|q| q.has_waiting()) {
                    background::after_queueing(&base, account, &mut ui);
                }
            }
            let _ = signal_hook::low_level::emulate_default_handler(signal);
        });
}
