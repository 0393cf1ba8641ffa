//! The retrier's memory of the queue: when each waiting entry is next due, so
//! that a pass of a long-lived flusher opens only the entries that are new or
//! due, not every entry of the queue.
//!
//! Without it, each pass (and the retrier makes one for every message that
//! arrives while the relay is down) locked and read every envelope: the cost of
//! an arrival grew with the queue, and an outage cost time quadratic in its
//! length. With it, a pass reads the `queue/` directory (names only), opens the
//! envelopes of entries it has not seen, and hands the flush only the entries
//! whose recorded `next_attempt` has come. What the flush then does is unchanged:
//! it locks each entry and reads its envelope again under the lock, so a stale
//! schedule can make an entry be looked at too early, never sent twice.
//!
//! Which names came into `queue/` or left it, the kernel tells (inotify), so a
//! pass does not even read the directory; where it cannot (no inotify, its event
//! queue overflowed) the pass reads the directory, a lookup per name.
//!
//! Another process can change an envelope (`rsmtp -q`, `--queue-retry=ID`): every
//! [`RECHECK_EVERY`] a pass reads the directory and compares each envelope's file
//! stamp (one `stat`) with the one it read, and reads again only those that changed.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::id::is_valid;
use crate::store::ENVELOPE;
use crate::{EntryId, Queue, QueueError, BACKOFF_MAX};

/// How often a pass looks for envelopes changed by another process.
pub const RECHECK_EVERY: Duration = Duration::from_secs(60);

/// A schedule kept across the flushes of one long-lived flusher (the retrier):
/// set it in [`crate::FlushOptions::schedule`]. Cloning shares it.
#[derive(Clone, Default)]
pub struct Schedule(Arc<Mutex<Plan>>);

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Schedule({} entries)", self.lock().entries.len())
    }
}

/// The entries of one account (and `-C` file) waiting in the queue, as the
/// schedule knows them: what a retrier needs to decide when to wake up and when
/// to stop.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// The newest entry's id.
    pub id: EntryId,
    /// When the newest entry was queued.
    pub submitted: SystemTime,
    /// The earliest time one of them is due.
    pub next_attempt: SystemTime,
    /// The msmtprc account they were queued with.
    pub account: String,
    /// The `-C` file they were queued with.
    pub config_file: Option<PathBuf>,
    /// How many entries.
    pub entries: usize,
}

#[derive(Default)]
pub(crate) struct Plan {
    entries: HashMap<EntryId, Planned>,
    rechecked: Option<Instant>,
    /// [`RECHECK_EVERY`] unless a test shortens it.
    recheck_every: Option<Duration>,
    /// Counts passes (see [`Planned::pass`]).
    pass: u64,
    /// The kernel's report of names added to and removed from `queue/`.
    watch: Option<Watch>,
}

struct Planned {
    /// The last pass that found it in `queue/`.
    pass: u64,
    /// The envelope file's identity and time when it was read; `None` when it
    /// could not be read, or we rewrote it since: read it again at the next check.
    stamp: Option<Stamp>,
    next_attempt: SystemTime,
    submitted: SystemTime,
    account: String,
    config_file: Option<PathBuf>,
}

/// An envelope is replaced whole (rename), so a new inode or a new time means new
/// contents.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    mtime: i64,
    mtime_nsec: i64,
    len: u64,
}

impl Schedule {
    /// An empty schedule: the first pass reads every envelope once.
    pub fn new() -> Schedule {
        Schedule::default()
    }

    /// Looks for envelopes changed by another process every `every` instead of
    /// [`RECHECK_EVERY`] (zero: on every pass).
    pub fn recheck_every(self, every: Duration) -> Schedule {
        self.lock().recheck_every = Some(every);
        self
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Plan> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What waits in `queue/` as of the last pass, one [`Waiting`] per account
    /// (and `-C` file): a retrier needs only the newest message and the earliest
    /// retry of each, and 10,000 entries need not be copied out on each pass.
    pub fn waiting(&self) -> Vec<Waiting> {
        let plan = self.lock();
        let mut out: Vec<Waiting> = Vec::new();
        for (id, p) in &plan.entries {
            let group = out
                .iter_mut()
                .find(|w| w.account == p.account && same_file(&w.config_file, &p.config_file));
            match group {
                Some(w) => {
                    w.entries += 1;
                    if (p.submitted, id) > (w.submitted, &w.id) {
                        w.submitted = p.submitted;
                        w.id = id.clone();
                    }
                    w.next_attempt = w.next_attempt.min(p.next_attempt);
                }
                None => out.push(Waiting {
                    id: id.clone(),
                    submitted: p.submitted,
                    next_attempt: p.next_attempt,
                    account: p.account.clone(),
                    config_file: p.config_file.clone(),
                    entries: 1,
                }),
            }
        }
        out
    }
}

impl Plan {
    /// Brings the plan up to date with the names now in `queue/` and returns the
    /// entries to hand to the flush (new, changed or due), oldest first. Costs a
    /// read of the directory and a lookup per name; nothing is allocated for an
    /// entry it already knows.
    pub(crate) fn select(
        &mut self,
        queue: &Queue,
        now: SystemTime,
    ) -> Result<Vec<EntryId>, QueueError> {
        let recheck = self
            .rechecked
            .is_none_or(|t| t.elapsed() >= self.recheck_every.unwrap_or(RECHECK_EVERY));
        if recheck {
            self.rechecked = Some(Instant::now());
        } else if let Some(changes) = self.watch.as_mut().and_then(Watch::changes) {
            // The kernel said which names came and went: no directory read.
            for (name, arrived) in changes {
                if !is_valid(&name) {
                    continue;
                }
                if arrived {
                    let fresh = read(queue, &name, now, self.pass);
                    self.entries.insert(EntryId::parse(&name)?, fresh);
                } else {
                    self.entries.remove(name.as_str());
                }
            }
            let mut due: Vec<EntryId> = self
                .entries
                .iter()
                .filter(|(_, p)| is_due(p.next_attempt, now))
                .map(|(id, _)| id.clone())
                .collect();
            due.sort();
            return Ok(due);
        }
        // A full read of the directory, under a new watch: nothing that happens
        // from now on is missed, and what it reports from before the read is in
        // the read already (an arrival read twice, a departure removed twice).
        self.watch = Watch::new(&queue.queue);
        self.pass = self.pass.wrapping_add(1);
        let pass = self.pass;
        let mut due = Vec::new();
        let mut listed = 0;
        let dir = &queue.queue;
        for item in fs::read_dir(dir).map_err(|e| QueueError::io("read directory", dir, e))? {
            let item = item.map_err(|e| QueueError::io("read directory", dir, e))?;
            let name = item.file_name();
            let Some(name) = name.to_str().filter(|n| is_valid(n)) else {
                continue;
            };
            listed += 1;
            let fresh = match self.entries.get_mut(name) {
                Some(p) if !recheck || (p.stamp.is_some() && p.stamp == stamp(queue, name)) => {
                    p.pass = pass;
                    if is_due(p.next_attempt, now) {
                        due.push(EntryId::parse(name)?);
                    }
                    continue;
                }
                _ => read(queue, name, now, pass),
            };
            let id = EntryId::parse(name)?;
            if is_due(fresh.next_attempt, now) {
                due.push(id.clone());
            }
            self.entries.insert(id, fresh);
        }
        if listed != self.entries.len() {
            // What is no longer listed was delivered, failed or removed meanwhile.
            self.entries.retain(|_, p| p.pass == pass);
        }
        due.sort();
        Ok(due)
    }

    /// The entries the last pass found not due, oldest first.
    pub(crate) fn not_due(&self, now: SystemTime) -> Vec<EntryId> {
        let mut ids: Vec<EntryId> = self
            .entries
            .iter()
            .filter(|(_, p)| !is_due(p.next_attempt, now))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// The entry's envelope now says `next_attempt` (we just read or wrote it).
    pub(crate) fn reschedule(&mut self, queue: &Queue, id: &EntryId, next_attempt: SystemTime) {
        if let Some(p) = self.entries.get_mut(id.as_str()) {
            p.next_attempt = next_attempt;
            p.stamp = stamp(queue, id.as_str());
        }
    }

    /// The entry left `queue/`.
    pub(crate) fn forget(&mut self, id: &EntryId) {
        self.entries.remove(id.as_str());
    }
}

/// Byte equality of two paths (`Path`'s own `==` compares them component by
/// component: 10,000 times per pass counts).
fn same_file(a: &Option<PathBuf>, b: &Option<PathBuf>) -> bool {
    a.as_ref().map(|p| p.as_os_str()) == b.as_ref().map(|p| p.as_os_str())
}

/// Reads an entry's envelope without locking it. An envelope that cannot be read
/// (being replaced, damaged, not ours) makes the entry due, so the flush looks at
/// it under its lock and reports or refuses it as it always does.
fn read(queue: &Queue, id: &str, now: SystemTime, pass: u64) -> Planned {
    let before = stamp(queue, id);
    match queue.read_meta(&queue.queue.join(id)) {
        Ok(meta) => Planned {
            pass,
            // Replaced while we read it: read it again next time.
            stamp: before.filter(|s| Some(*s) == stamp(queue, id)),
            next_attempt: meta.next_attempt,
            submitted: meta.submitted,
            account: meta.account,
            config_file: meta.config_file,
        },
        Err(_) => Planned {
            pass,
            stamp: None,
            next_attempt: now,
            submitted: now,
            account: String::new(),
            config_file: None,
        },
    }
}

fn stamp(queue: &Queue, id: &str) -> Option<Stamp> {
    let meta = fs::symlink_metadata(queue.queue.join(id).join(ENVELOPE)).ok()?;
    Some(Stamp {
        ino: meta.ino(),
        mtime: meta.mtime(),
        mtime_nsec: meta.mtime_nsec(),
        len: meta.len(),
    })
}

/// Due when `next_attempt` has passed — or lies further ahead than any backoff
/// can put it, which means the clock was set back after it was computed; waiting
/// for the old clock to come round again could hold a message for days.
pub(crate) fn is_due(next_attempt: SystemTime, now: SystemTime) -> bool {
    match next_attempt.duration_since(now) {
        Err(_) => true,
        Ok(ahead) => ahead.is_zero() || ahead > 2 * BACKOFF_MAX,
    }
}

/// An inotify watch on `queue/`: what arrived (renamed in) and what left, so a
/// pass need not read a directory of 10,000 names to find the one new entry.
/// Where there is no inotify, every pass reads the directory.
struct Watch {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fd: rustix::fd::OwnedFd,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl Watch {
    fn new(dir: &std::path::Path) -> Option<Watch> {
        use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).ok()?;
        let flags = WatchFlags::MOVED_TO
            | WatchFlags::MOVED_FROM
            | WatchFlags::CREATE
            | WatchFlags::DELETE
            | WatchFlags::ONLYDIR;
        inotify::add_watch(&fd, dir, flags).ok()?;
        Some(Watch { fd })
    }

    /// The names that arrived (`true`) or left (`false`) since the last call, in
    /// order; `None` when the kernel lost some (its queue overflowed) or the
    /// watch broke: then the directory must be read.
    fn changes(&mut self) -> Option<Vec<(String, bool)>> {
        use rustix::fs::inotify::{ReadFlags, Reader};
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 16384];
        let mut reader = Reader::new(&self.fd, &mut buf);
        let mut out = Vec::new();
        loop {
            let event = match reader.next() {
                Ok(event) => event,
                Err(e) if e == rustix::io::Errno::AGAIN => return Some(out),
                Err(_) => return None,
            };
            let flags = event.events();
            if flags.intersects(ReadFlags::QUEUE_OVERFLOW | ReadFlags::IGNORED) {
                return None;
            }
            let Some(name) = event.file_name().and_then(|n| n.to_str().ok()) else {
                continue;
            };
            let arrived = flags.intersects(ReadFlags::MOVED_TO | ReadFlags::CREATE);
            out.push((name.to_owned(), arrived));
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
impl Watch {
    fn new(_dir: &std::path::Path) -> Option<Watch> {
        None
    }
    fn changes(&mut self) -> Option<Vec<(String, bool)>> {
        None
    }
}
