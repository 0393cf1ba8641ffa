//! Flushing: one pass over the queue that offers each due entry to the caller's
//! delivery function and acts on its verdict — remove when delivered, back off
//! on a temporary failure, move to `failed/` on a permanent failure or when the
//! message has been queued longer than `expire_after`.
//!
//! Expiry is decided after a failed attempt, never instead of one (as Postfix
//! does): a message whose relay comes back after six days is delivered, not
//! bounced.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use crate::lock::{EntryLockResult, FlushLock};
use crate::schedule::{is_due, Plan, Schedule};
use crate::store::{Area, Removals, Step, SyncFailure, IN_FLIGHT, LOCK, MESSAGE};
use crate::trust::{self, CheckError, Distrust};
use crate::{check_override, EntryId, EntryMeta, Queue, QueueError, RefusedSetting, BACKOFF_BASE};

/// Messages are given up after this long in the queue by default (like sendmail's
/// and Postfix's 5 days).
pub const DEFAULT_EXPIRE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);

/// What the delivery function reports for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    /// The server accepted the message for every recipient: remove it.
    Delivered,
    /// Try again later (4xx reply, connection refused, timeout); the text is kept
    /// as the entry's last error.
    TempFail(String),
    /// Never going to work (5xx reply): move to `failed/` so a notice can be sent.
    PermFail(String),
    /// The whole message went out, final dot included, and no reply came (a
    /// timeout or a broken connection): temporary like [`DeliveryResult::TempFail`],
    /// and the entry is marked (`unanswered_since`): the server may have it.
    Unanswered(String),
    /// An LMTP server delivered the message to `delivered` and refused the
    /// others: they leave the entry (a retry must not send them a second
    /// copy), and `rest` (a [`DeliveryResult::TempFail`] or
    /// [`DeliveryResult::PermFail`]) applies to the recipients left.
    PartlyDelivered {
        /// Recipients the server accepted after the end of data (LMTP's
        /// per-recipient reply, RFC 2033 §4.2): removed from the entry's
        /// recipients before `rest` is applied.
        delivered: Vec<String>,
        /// What happened for everyone else: usually `TempFail` (kept and
        /// retried for them alone) or `PermFail` (moved to `failed/`).
        rest: Box<DeliveryResult>,
    },
}

/// What a flush hands each entry to: the caller's delivery (the `rsmtp` crate
/// runs SMTP sessions, keeping one open per account for the entries that follow).
pub trait Courier {
    /// Delivers one message; `message` (the entry's locked message file) is
    /// positioned at its start, and may be rewound to try again. Read it only to
    /// send it (after the server's 354): its first read is journaled as "the body
    /// is going out", so that a process killed before the reply to the final dot
    /// leaves the entry marked as possibly delivered.
    fn deliver(&mut self, meta: &EntryMeta, message: &mut EntryMessage<'_>) -> DeliveryResult;

    /// Whether an entry that is not due yet should be tried now anyway, because
    /// its server has just accepted a message: the outage is over, and waiting
    /// out the backoff would hold the mail from the outage for nothing.
    fn server_is_back(&mut self, _meta: &EntryMeta) -> bool {
        false
    }

    /// Checked before each entry: `false` ends the flush there (SIGTERM to
    /// `rsmtp -q15m`: the message in flight is finished, the rest waits).
    fn keep_going(&mut self) -> bool {
        true
    }
}

/// A plain delivery function is a courier that knows nothing about servers.
impl<F: FnMut(&EntryMeta, &mut dyn Read) -> DeliveryResult> Courier for F {
    fn deliver(&mut self, meta: &EntryMeta, message: &mut EntryMessage<'_>) -> DeliveryResult {
        self(meta, message)
    }
}

/// A queued message being delivered: its locked file, and the journal of its
/// first read (the `in-flight` file in the entry's directory, created without
/// fsync: it is there for a killed process, whose writes the kernel keeps).
pub struct EntryMessage<'a> {
    file: &'a mut File,
    in_flight: PathBuf,
    journaled: bool,
}

impl EntryMessage<'_> {
    /// Whether the body has started going out during this attempt.
    pub fn body_started(&self) -> bool {
        self.journaled
    }
}

impl Read for EntryMessage<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.journaled && !buf.is_empty() {
            self.journaled = true;
            // Best effort: without the mark a kill costs only the warning.
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&self.in_flight);
        }
        self.file.read(buf)
    }
}

impl Seek for EntryMessage<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

/// How to flush.
#[derive(Debug, Clone)]
pub struct FlushOptions {
    /// Attempt every entry now, ignoring its backoff.
    pub force: bool,
    /// The first delay of the backoff after a temporary failure
    /// ([`BACKOFF_BASE`] unless a test shortens it).
    pub first_retry: Duration,
    /// Only this entry. The queue-wide lock is not taken (the entry lock still
    /// keeps two flushers from sending it twice).
    pub only: Option<EntryId>,
    /// A message still failing temporarily after this long in the queue is moved
    /// to `failed/` and reported as expired.
    pub expire_after: Duration,
    /// How long to wait for the queue lock and for entries another flusher holds
    /// before giving up on them. Zero (the timer, the retrier) skips them at once;
    /// a person's `rsmtp -q` or `--queue-retry=ID` waits ([`PERSON_WAITS`]), since
    /// "deliver it now" must not end in "nothing done" because the background
    /// retrier happened to be looking at the same entry.
    pub wait_busy: Duration,
    /// A long-lived flusher's memory of when each entry is due (see
    /// [`Schedule`]): with it, a flush that is not forced opens only the entries
    /// that are new, changed or due, so its cost does not grow with the queue.
    pub schedule: Option<Schedule>,
}

/// How long a person's flush waits for another flusher: longer than one delivery
/// attempt under the default timeouts.
pub const PERSON_WAITS: Duration = Duration::from_secs(120);

/// How often a waiting flush looks again at a lock another flusher holds.
const BUSY_POLL: Duration = Duration::from_millis(50);

impl Default for FlushOptions {
    fn default() -> FlushOptions {
        FlushOptions {
            force: false,
            first_retry: BACKOFF_BASE,
            only: None,
            expire_after: DEFAULT_EXPIRE_AFTER,
            wait_busy: Duration::ZERO,
            schedule: None,
        }
    }
}

/// An entry that was moved to `failed/` during a flush. The caller should send a
/// failure notice for it (see [`Queue::failure_notice`]).
#[derive(Debug, Clone)]
pub struct FailedEntry {
    /// The entry's id (still valid for `remove` and `retry_now`).
    pub id: EntryId,
    /// Its envelope, with `last_error` set to `reason`.
    pub meta: EntryMeta,
    /// Why it failed.
    pub reason: String,
    /// The entry's directory under `failed/`.
    pub path: PathBuf,
}

impl FailedEntry {
    /// The message file under `failed/`.
    pub fn message_path(&self) -> PathBuf {
        self.path.join(MESSAGE)
    }
}

/// Why an entry was moved to `failed/` without a delivery attempt (see `trust`
/// and `overrides`). No failure notice is due: the entry's envelope is not
/// trusted to say whom to notify, or through which account.
#[derive(Debug)]
pub enum Refusal {
    /// Its directory or one of its files is not the running user's, is a
    /// symbolic link, or is writable by others ([`QueueError::UntrustedEntry`]).
    Untrusted(QueueError),
    /// The `-C` file it names is not the running user's (or root's), is writable
    /// by others, or is not an absolute path.
    ConfigFile {
        /// The file named in the envelope.
        path: PathBuf,
        /// What is wrong with it.
        problem: Distrust,
    },
    /// It carries a command-line setting a queued message may not carry.
    Setting(RefusedSetting),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Untrusted(e) => write!(f, "{e}"),
            Refusal::ConfigFile { path, problem } => {
                write!(f, "its configuration file {} {problem}", path.display())
            }
            Refusal::Setting(s) => write!(f, "{s}"),
        }
    }
}

/// An entry refused by a flush and moved to `failed/`, never delivered.
#[derive(Debug)]
pub struct RefusedEntry {
    /// The entry's id.
    pub id: EntryId,
    /// Its envelope when the envelope file itself is trusted (a refused setting
    /// or `-C` file); `None` when the entry's files are not ours.
    pub meta: Option<EntryMeta>,
    /// Why it was refused.
    pub reason: Refusal,
    /// The entry's directory under `failed/`.
    pub path: PathBuf,
}

/// An entry that failed temporarily and stays queued.
#[derive(Debug, Clone)]
pub struct Deferred {
    /// The entry's id.
    pub id: EntryId,
    /// The error from this attempt.
    pub error: String,
    /// Failed attempts so far, this one included.
    pub attempts: u32,
    /// When it will be tried again.
    pub next_attempt: SystemTime,
}

/// What a flush did.
#[derive(Debug, Default)]
pub struct FlushReport {
    /// Another flusher held the queue lock, so this one did nothing.
    pub lock_busy: bool,
    /// Delivered and removed.
    pub delivered: Vec<EntryId>,
    /// Delivered now although an earlier attempt had sent the whole message at
    /// that time without an answer: the recipients may have it twice.
    pub maybe_twice: Vec<(EntryId, SystemTime)>,
    /// Failed temporarily, kept with a later `next_attempt`.
    pub deferred: Vec<Deferred>,
    /// Failed permanently, moved to `failed/`.
    pub failed: Vec<FailedEntry>,
    /// Queued longer than `expire_after` and failed again, moved to `failed/`.
    pub expired: Vec<FailedEntry>,
    /// Not trusted (another user's files, or a forbidden setting), moved to
    /// `failed/` without an attempt and without a failure notice.
    pub refused: Vec<RefusedEntry>,
    /// Not due yet (backoff), not attempted. With a [`FlushOptions::schedule`],
    /// only those the flush looked at: the schedule skips the others unopened.
    pub not_due: Vec<EntryId>,
    /// Locked by another flusher at that moment, skipped.
    pub busy: Vec<EntryId>,
    /// Entries that could not be handled (damaged envelope, I/O error); the flush
    /// went on with the others.
    pub errors: Vec<(EntryId, QueueError)>,
}

impl FlushReport {
    /// True when nothing failed: no errors, and no entry failed or expired.
    pub fn all_ok(&self) -> bool {
        !self.lock_busy
            && self.errors.is_empty()
            && self.failed.is_empty()
            && self.expired.is_empty()
            && self.refused.is_empty()
    }
}

/// What one flush is doing: its report, the removals it still has to sync, and
/// the schedule it keeps up to date.
struct Pass<'r, 'p> {
    report: &'r mut FlushReport,
    removals: &'r mut Removals,
    plan: Option<&'p mut Plan>,
}

/// What happened to one entry.
enum Outcome {
    /// With the time of an earlier unanswered attempt, if there was one.
    Delivered(Option<SystemTime>),
    Deferred(Deferred),
    Failed(FailedEntry),
    Expired(FailedEntry),
    Refused(RefusedEntry),
    /// With the envelope's `next_attempt`.
    NotDue(SystemTime),
    Busy,
    Gone,
}

impl Queue {
    /// Offers each due entry (oldest first) to `deliver` and acts on the result.
    ///
    /// Without `only`, takes the queue lock first; if another flusher holds it,
    /// returns at once with `lock_busy` set. Each entry is locked while it is
    /// handled, so concurrent flushers never deliver the same message at the same
    /// time. `deliver` gets the envelope and the message bytes, read from the start.
    pub fn flush(
        &self,
        opts: &FlushOptions,
        deliver: &mut dyn FnMut(&EntryMeta, &mut dyn Read) -> DeliveryResult,
    ) -> Result<FlushReport, QueueError> {
        self.flush_with(opts, &mut |meta: &EntryMeta, message: &mut dyn Read| {
            deliver(meta, message)
        })
    }

    /// [`Queue::flush`] through a [`Courier`]. After the pass, if anything was
    /// delivered, the entries skipped as not due are offered again to
    /// [`Courier::server_is_back`], and those it names are tried at once.
    pub fn flush_with(
        &self,
        opts: &FlushOptions,
        courier: &mut dyn Courier,
    ) -> Result<FlushReport, QueueError> {
        let mut report = FlushReport::default();
        let give_up = Instant::now() + opts.wait_busy;
        self.sweep_tmp();
        let mut plan = opts
            .schedule
            .as_ref()
            .filter(|_| !opts.force && opts.only.is_none())
            .map(Schedule::lock);
        let (_queue_lock, ids) = match &opts.only {
            Some(id) => {
                if !self.entry_dir(Area::Queued, id).is_dir() {
                    return Err(QueueError::NoSuchEntry { id: id.to_string() });
                }
                (None, vec![id.clone()])
            }
            None => match self.flush_lock(give_up)? {
                // With a schedule: only the entries that are new, changed or due.
                Some(lock) => match plan.as_deref_mut() {
                    Some(plan) => (Some(lock), plan.select(self, SystemTime::now())?),
                    None => (Some(lock), self.ids(Area::Queued)?),
                },
                None => {
                    report.lock_busy = true;
                    // The other flusher works; the schedule still learns what waits.
                    if let Some(plan) = plan.as_deref_mut() {
                        plan.select(self, SystemTime::now())?;
                    }
                    return Ok(report);
                }
            },
        };
        let mut removals = Removals::default();
        let mut pass = Pass {
            report: &mut report,
            removals: &mut removals,
            plan: plan.as_deref_mut(),
        };
        self.flush_ids(ids, opts, courier, &mut pass);
        // Entries another flusher held: once it lets go they are gone (delivered)
        // or back with a new backoff, and a waiting flush tries them again.
        while !pass.report.busy.is_empty() && Instant::now() < give_up && courier.keep_going() {
            self.sync_removals_into(&mut pass);
            std::thread::sleep(BUSY_POLL);
            let busy = std::mem::take(&mut pass.report.busy);
            self.flush_ids(busy, opts, courier, &mut pass);
        }
        if !pass.report.delivered.is_empty() {
            // Entries a schedule skipped were not looked at: they count as not due.
            if let Some(plan) = pass.plan.as_deref() {
                pass.report.not_due.extend(plan.not_due(SystemTime::now()));
                pass.report.not_due.sort();
                pass.report.not_due.dedup();
            }
            let waiting = std::mem::take(&mut pass.report.not_due);
            self.flush_ids(waiting, opts, courier, &mut pass);
        }
        // Nothing is reported delivered before its removal is on disk.
        self.sync_removals_into(&mut pass);
        removals.finish_deleting();
        Ok(report)
    }

    /// [`Queue::sync_removals`], a failure recorded against each entry concerned
    /// (delivered, but a power cut could bring it back to be sent again).
    fn sync_removals_into(&self, pass: &mut Pass<'_, '_>) {
        let failures = self.sync_removals(pass.removals);
        self.record_sync_failures(pass, failures);
    }

    /// [`Queue::sync_removals_behind`], failures recorded as by
    /// [`Queue::sync_removals_into`].
    fn sync_removals_behind_into(&self, pass: &mut Pass<'_, '_>) {
        let failures = self.sync_removals_behind(pass.removals);
        self.record_sync_failures(pass, failures);
    }

    fn record_sync_failures(&self, pass: &mut Pass<'_, '_>, failures: Vec<SyncFailure>) {
        for (ids, e) in failures {
            for id in ids {
                let same = match e.raw_os_error() {
                    Some(code) => io::Error::from_raw_os_error(code),
                    None => io::Error::from(e.kind()),
                };
                let error = QueueError::io("sync", &self.queue, same);
                pass.report.errors.push((id, error));
            }
        }
    }

    /// The queue lock, waiting for another flusher to let go of it until `give_up`.
    fn flush_lock(&self, give_up: Instant) -> Result<Option<FlushLock>, QueueError> {
        loop {
            if let Some(lock) = FlushLock::try_acquire(&self.root.join(LOCK))? {
                return Ok(Some(lock));
            }
            if Instant::now() >= give_up {
                return Ok(None);
            }
            std::thread::sleep(BUSY_POLL);
        }
    }

    fn flush_ids(
        &self,
        ids: Vec<EntryId>,
        opts: &FlushOptions,
        courier: &mut dyn Courier,
        pass: &mut Pass<'_, '_>,
    ) {
        for id in ids {
            if pass.removals.is_due() {
                self.sync_removals_behind_into(pass);
            }
            if !courier.keep_going() {
                break;
            }
            let outcome = self.flush_entry(&id, opts, courier, pass.removals);
            if let Some(plan) = pass.plan.as_deref_mut() {
                match &outcome {
                    Ok(Outcome::NotDue(next)) => plan.reschedule(self, &id, *next),
                    Ok(Outcome::Deferred(d)) => plan.reschedule(self, &id, d.next_attempt),
                    Ok(Outcome::Busy) | Err(_) => {}
                    Ok(_) => plan.forget(&id),
                }
            }
            let report = &mut *pass.report;
            match outcome {
                Ok(Outcome::Delivered(unanswered)) => {
                    if let Some(at) = unanswered {
                        report.maybe_twice.push((id.clone(), at));
                    }
                    report.delivered.push(id)
                }
                Ok(Outcome::Deferred(d)) => report.deferred.push(d),
                Ok(Outcome::Failed(f)) => report.failed.push(f),
                Ok(Outcome::Expired(f)) => report.expired.push(f),
                Ok(Outcome::Refused(r)) => report.refused.push(r),
                Ok(Outcome::NotDue(_)) => report.not_due.push(id),
                Ok(Outcome::Busy) => report.busy.push(id),
                Ok(Outcome::Gone) => {}
                Err(e) => report.errors.push((id, e)),
            }
        }
    }

    fn flush_entry(
        &self,
        id: &EntryId,
        opts: &FlushOptions,
        courier: &mut dyn Courier,
        removals: &mut Removals,
    ) -> Result<Outcome, QueueError> {
        let dir = self.entry_dir(Area::Queued, id);
        match trust::check_dir(&dir) {
            Ok(()) => {}
            Err(CheckError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Outcome::Gone)
            }
            Err(e) => return self.refuse(id, None, Refusal::Untrusted(e.for_entry(&dir))),
        }
        let mut lock = match self.lock_entry(Area::Queued, id) {
            Ok(EntryLockResult::Locked(lock)) => lock,
            Ok(EntryLockResult::Busy) => return Ok(Outcome::Busy),
            Ok(EntryLockResult::Gone) => return Ok(Outcome::Gone),
            Err(e @ QueueError::UntrustedEntry { .. }) => {
                return self.refuse(id, None, Refusal::Untrusted(e))
            }
            Err(e) => return Err(e),
        };
        if let Err(e) = trust::check_open_file(&lock.message) {
            let e = e.for_entry(&lock.message_path);
            return self.refuse(id, None, Refusal::Untrusted(e));
        }
        // Read under the lock: another flusher may have just rewritten it.
        let mut meta = match self.read_meta(&dir) {
            Err(e @ QueueError::UntrustedEntry { .. }) => {
                return self.refuse(id, None, Refusal::Untrusted(e))
            }
            read => read?,
        };
        let in_flight = dir.join(IN_FLIGHT);
        if let Ok(journal) = std::fs::symlink_metadata(&in_flight) {
            // An attempt died while the body was going out or awaiting its reply.
            let at = journal.modified().unwrap_or_else(|_| SystemTime::now());
            meta.unanswered_since.get_or_insert(at);
            self.write_meta(&dir, &meta)?;
            let _ = std::fs::remove_file(&in_flight);
        }
        if let Some(reason) = refusal(&meta) {
            // The envelope is ours: keep the reason in it for `mailq`. Its settings
            // stay as they are, so a retry is refused again.
            meta.last_error = Some(format!("refused: {reason}"));
            self.write_meta(&dir, &meta)?;
            return self.refuse(id, Some(meta), reason);
        }
        let now = SystemTime::now();
        if !opts.force && !is_due(meta.next_attempt, now) && !courier.server_is_back(&meta) {
            return Ok(Outcome::NotDue(meta.next_attempt));
        }
        lock.message
            .seek(SeekFrom::Start(0))
            .map_err(|e| QueueError::io("read", &lock.message_path, e))?;
        self.step(Step::BeforeDelivery);
        let mut message = EntryMessage {
            file: &mut lock.message,
            in_flight: in_flight.clone(),
            journaled: false,
        };
        let mut result = courier.deliver(&meta, &mut message);
        let journaled = message.journaled;
        let now = SystemTime::now();
        while let DeliveryResult::PartlyDelivered { delivered, rest } = result {
            meta.recipients.retain(|r| !delivered.contains(r));
            result = *rest;
        }
        if let DeliveryResult::Unanswered(_) = result {
            meta.unanswered_since.get_or_insert(now);
        }
        // Once the envelope holds the mark (or the server answered), the journal
        // file in `entry` goes.
        let forget_journal = |entry: &std::path::Path| {
            if journaled {
                let _ = std::fs::remove_file(entry.join(IN_FLIGHT));
            }
        };
        match result {
            DeliveryResult::Delivered => {
                self.step(Step::Delivered);
                self.discard_delivered(id, removals, lock)?;
                Ok(Outcome::Delivered(meta.unanswered_since))
            }
            DeliveryResult::TempFail(error) | DeliveryResult::Unanswered(error) => {
                meta.record_temp_failure_after(&error, now, opts.first_retry);
                let age = now.duration_since(meta.submitted).unwrap_or_default();
                if age >= meta.expire_after.unwrap_or(opts.expire_after) {
                    let attempts = match meta.attempts {
                        1 => "1 attempt".to_string(),
                        n => format!("{n} attempts"),
                    };
                    let reason = format!(
                        "gave up after {} in the queue ({attempts}); last error: {error}",
                        describe_age(age)
                    );
                    let expired = self.fail_entry(id, meta, reason)?;
                    forget_journal(&expired.path);
                    Ok(Outcome::Expired(expired))
                } else {
                    self.write_meta(&dir, &meta)?;
                    forget_journal(&dir);
                    Ok(Outcome::Deferred(Deferred {
                        id: id.clone(),
                        error,
                        attempts: meta.attempts,
                        next_attempt: meta.next_attempt,
                    }))
                }
            }
            DeliveryResult::PermFail(reason) => {
                meta.attempts = meta.attempts.saturating_add(1);
                // The server answered: it does not have the message.
                forget_journal(&dir);
                self.fail_entry(id, meta, reason).map(Outcome::Failed)
            }
            DeliveryResult::PartlyDelivered { .. } => unreachable!("unwrapped above"),
        }
    }

    /// Moves a refused entry to `failed/` as it is: an envelope that is not ours
    /// is never rewritten, since a rewritten file would be ours and trusted.
    fn refuse(
        &self,
        id: &EntryId,
        meta: Option<EntryMeta>,
        reason: Refusal,
    ) -> Result<Outcome, QueueError> {
        let path = self.move_entry(id, Area::Queued, Area::Failed)?;
        Ok(Outcome::Refused(RefusedEntry {
            id: id.clone(),
            meta,
            reason,
            path,
        }))
    }

    /// Records `reason` in the envelope, then moves the entry to `failed/`. In that
    /// order: a crash in between leaves it queued, to be retried and failed again,
    /// rather than failed without its reason.
    fn fail_entry(
        &self,
        id: &EntryId,
        mut meta: EntryMeta,
        reason: String,
    ) -> Result<FailedEntry, QueueError> {
        meta.last_error = Some(reason.clone());
        self.write_meta(&self.entry_dir(Area::Queued, id), &meta)?;
        let path = self.move_entry(id, Area::Queued, Area::Failed)?;
        Ok(FailedEntry {
            id: id.clone(),
            meta,
            reason,
            path,
        })
    }
}

/// Why an envelope that is ours must still not be acted on: the `-C` file it
/// names could have been written by someone else, or it carries a setting a
/// queued message may not carry (see `overrides`). A `-C` file that cannot be
/// examined (removed since) is not a refusal: loading the account fails
/// temporarily, and the file may come back before the message expires.
fn refusal(meta: &EntryMeta) -> Option<Refusal> {
    if let Some(path) = &meta.config_file {
        if let Err(CheckError::Distrust(problem)) = trust::check_config_file(path) {
            return Some(Refusal::ConfigFile {
                path: path.clone(),
                problem,
            });
        }
    }
    meta.overrides
        .iter()
        .find_map(|(command, value)| check_override(command, value).err())
        .map(Refusal::Setting)
}

/// "5 days", "3 hours", "12 minutes".
pub fn describe_age(age: Duration) -> String {
    let secs = age.as_secs();
    let (n, unit) = if secs >= 2 * 86400 {
        (secs / 86400, "days")
    } else if secs >= 2 * 3600 {
        (secs / 3600, "hours")
    } else if secs >= 120 {
        (secs / 60, "minutes")
    } else {
        (secs, "seconds")
    };
    format!("{n} {unit}")
}
