//! The spool on disk: opening the queue, the durable enqueue, and the few
//! primitive moves everything else is built from (rewrite an envelope, move an
//! entry to `failed/`, discard an entry, sweep `tmp/`).
//!
//! ```text
//! <dir>/lock                      flush lock (see `lock`)
//! <dir>/tmp/new-<id>/             an entry being written (invisible)
//! <dir>/tmp/del-<id>/             an entry being deleted (invisible)
//! <dir>/queue/<id>/message        the message bytes, exactly as submitted
//! <dir>/queue/<id>/envelope       the `EntryMeta` text (see `entry`)
//! <dir>/failed/<id>/…             entries that failed permanently or expired
//! ```
//!
//! An entry is a directory so that one `rename(2)` of the directory publishes the
//! message and its envelope together, and one rename moves both to `failed/` or
//! out of sight for deletion. Nothing under `queue/` or `failed/` is ever written
//! in place except by whole-file replacement of the envelope (write
//! `envelope.new`, fsync, rename over `envelope`).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::commit;
use crate::lock::{try_lock, EntryLock, EntryLockResult, RetrierLock};
use crate::trash::Trash;
use crate::trust;
use crate::{EntryId, EntryMeta, QueueError};

pub(crate) const TMP: &str = "tmp";
pub(crate) const QUEUE: &str = "queue";
pub(crate) const FAILED: &str = "failed";
pub(crate) const LOCK: &str = "lock";
pub(crate) const RETRIER_LOCK: &str = "retrier.lock";
pub(crate) const MESSAGE: &str = "message";
pub(crate) const ENVELOPE: &str = "envelope";
/// Present while (or after a process died while) an attempt was sending the body:
/// see [`crate::EntryMessage`].
pub(crate) const IN_FLIGHT: &str = "in-flight";
const ENVELOPE_NEW: &str = "envelope.new";
const NEW_PREFIX: &str = "new-";
const DEL_PREFIX: &str = "del-";
/// Named spool files of older rsmtp versions, swept from `tmp/` by age.
const OLD_SPOOL_PREFIX: &str = "rsmtp-body-";
/// An unfinished entry in `tmp/` that nobody holds locked and that has not been
/// touched for this long was left by a writer that died.
pub const STALE_TMP_AGE: Duration = Duration::from_secs(3600);
/// Envelopes are small; refuse to read a runaway file into memory.
const MAX_ENVELOPE: u64 = 1 << 20;

/// Points in the writer and the flusher where a test may stop the process to
/// simulate a crash. Not part of the supported API.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Enqueue: `tmp/new-<id>/` created and locked.
    EntryCreated,
    /// Enqueue: part of the message written (called once, after the first chunk).
    MessagePartlyWritten,
    /// Enqueue: message written and fsynced.
    MessageSynced,
    /// Enqueue: envelope written and fsynced.
    EnvelopeSynced,
    /// Enqueue: entry directory fsynced, not yet renamed.
    EntrySynced,
    /// Enqueue: renamed into `queue/`, directory not yet fsynced.
    Published,
    /// Enqueue: `queue/` fsynced, `enqueue` about to return `Ok`.
    Durable,
    /// Enqueue: this writer is about to sync `queue/` for itself and every other
    /// thread waiting for that sync (group commit).
    QueueSyncing,
    /// Flush, remove, retry: an entry's message file opened, not yet locked.
    EntryOpened,
    /// Flush: entry locked, about to call the delivery callback.
    BeforeDelivery,
    /// Flush: the callback said `Delivered`, the entry is not yet removed.
    Delivered,
    /// Flush: new envelope written to `envelope.new`, not yet renamed.
    EnvelopeRewriting,
    /// Flush, remove: entry moved to `tmp/del-…`, files not yet unlinked, `queue/`
    /// not yet fsynced (a flush syncs once per batch: [`Step::RemovalsSynced`]).
    Discarded,
    /// Flush: `queue/` fsynced after a batch of delivered entries left it.
    RemovalsSynced,
}

impl Step {
    /// A stable name for the step (used by the crash tests).
    pub fn name(self) -> &'static str {
        match self {
            Step::EntryCreated => "entry-created",
            Step::MessagePartlyWritten => "message-partly-written",
            Step::MessageSynced => "message-synced",
            Step::EnvelopeSynced => "envelope-synced",
            Step::EntrySynced => "entry-synced",
            Step::Published => "published",
            Step::Durable => "durable",
            Step::QueueSyncing => "queue-syncing",
            Step::EntryOpened => "entry-opened",
            Step::BeforeDelivery => "before-delivery",
            Step::Delivered => "delivered",
            Step::EnvelopeRewriting => "envelope-rewriting",
            Step::Discarded => "discarded",
            Step::RemovalsSynced => "removals-synced",
        }
    }
}

/// The durable mail queue in one directory.
#[derive(Debug, Clone)]
pub struct Queue {
    pub(crate) root: PathBuf,
    pub(crate) tmp: PathBuf,
    pub(crate) queue: PathBuf,
    pub(crate) failed: PathBuf,
    step_hook: Option<fn(Step)>,
    fault_hook: Option<fn(Step) -> Option<io::Error>>,
}

/// Which part of the queue an entry is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Area {
    Queued,
    Failed,
}

impl Queue {
    /// Opens the queue in `dir`, creating `dir`, `tmp/`, `queue/` and `failed/` with
    /// mode 0700 if they are missing, and sweeps entries abandoned in `tmp/`.
    ///
    /// Fails with [`QueueError::UntrustedDir`] (EX_CONFIG) when `dir` or one of its
    /// subdirectories is a symbolic link, is owned by another user than the one
    /// running rsmtp (root excepted), or is writable by group or others: another
    /// user could plant entries there (see the `trust` rule).
    pub fn open(dir: &Path) -> Result<Queue, QueueError> {
        let queue = Queue {
            root: dir.to_owned(),
            tmp: dir.join(TMP),
            queue: dir.join(QUEUE),
            failed: dir.join(FAILED),
            step_hook: None,
            fault_hook: None,
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| QueueError::create(dir, e))?;
        // Judge the directory before creating anything in it.
        trust::check_dir(dir).map_err(|e| e.for_dir(dir))?;
        for sub in [&queue.tmp, &queue.queue, &queue.failed] {
            match DirBuilder::new().mode(0o700).create(sub) {
                Ok(()) => sync_dir(dir)?,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(QueueError::create(sub, e)),
            }
        }
        for path in [dir, &queue.tmp, &queue.queue, &queue.failed] {
            trust::check_dir(path).map_err(|e| e.for_dir(path))?;
        }
        queue.sweep_tmp();
        Ok(queue)
    }

    /// Whether an entry with this id is in this queue, waiting or failed.
    pub fn contains(&self, id: &EntryId) -> bool {
        [&self.queue, &self.failed]
            .iter()
            .any(|area| area.join(id.as_str()).is_dir())
    }

    /// The envelope of queued entry `id`, as the last flush left it.
    pub fn envelope(&self, id: &EntryId) -> Result<EntryMeta, QueueError> {
        self.read_meta(&self.entry_dir(Area::Queued, id))
    }

    /// Whether any message waits in `queue/` (not counting `failed/`). Cheap: one
    /// directory read, no envelope opened; what every invocation checks before
    /// deciding to start a background flush.
    pub fn has_waiting(&self) -> bool {
        fs::read_dir(&self.queue).is_ok_and(|mut items| {
            items.any(|item| {
                item.is_ok_and(|i| {
                    i.file_name()
                        .to_str()
                        .is_some_and(|n| EntryId::parse(n).is_ok())
                })
            })
        })
    }

    /// When `queue/` last changed (an entry added or removed); a retrier that
    /// sleeps until the next retry time looks at it to notice new messages.
    pub fn waiting_stamp(&self) -> Option<SystemTime> {
        fs::metadata(&self.queue).and_then(|m| m.modified()).ok()
    }

    /// Takes the retrier lock (`<dir>/retrier.lock`) without waiting: `Ok(None)`
    /// when another retrier holds it. One retrier per queue keeps retrying with
    /// the backoff; a second one would only double the attempts.
    pub fn try_lock_retrier(&self) -> Result<Option<RetrierLock>, QueueError> {
        RetrierLock::try_acquire(&self.root.join(RETRIER_LOCK))
    }

    /// Whether a retrier is running for this queue right now.
    pub fn retrier_running(&self) -> bool {
        matches!(self.try_lock_retrier(), Ok(None))
    }

    /// The directory this queue lives in.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    #[doc(hidden)]
    /// Installs a function called at each [`Step`]; for crash tests only.
    pub fn set_step_hook(&mut self, hook: fn(Step)) {
        self.step_hook = Some(hook);
    }

    #[doc(hidden)]
    /// Installs a function that may fail the I/O right after a [`Step`] (only
    /// [`Step::Published`]'s directory sync asks it); for fault tests only.
    pub fn set_fault_hook(&mut self, hook: fn(Step) -> Option<io::Error>) {
        self.fault_hook = Some(hook);
    }

    fn injected_fault(&self, step: Step) -> Option<io::Error> {
        self.fault_hook.and_then(|hook| hook(step))
    }

    pub(crate) fn step(&self, step: Step) {
        if let Some(hook) = self.step_hook {
            hook(step);
        }
    }

    /// Stores a message durably and returns its id.
    ///
    /// The message is copied from `message` as is (no line-ending changes). When
    /// this returns `Ok`, the entry is complete and on stable storage: a crash or a
    /// power cut after that point cannot lose it. If it returns `Err` (or the
    /// process dies before it returns), nothing is visible in the queue.
    pub fn enqueue(&self, meta: &EntryMeta, message: &mut dyn Read) -> Result<EntryId, QueueError> {
        let envelope = meta.encode()?;
        let id = EntryId::generate();
        let work = self.tmp.join(format!("{NEW_PREFIX}{id}"));
        DirBuilder::new()
            .mode(0o700)
            .create(&work)
            .map_err(|e| QueueError::create(&work, e))?;
        let result = self.write_entry(&work, &id, &envelope, message);
        if result.is_err() {
            // Best effort: a leftover is swept later anyway.
            let _ = fs::remove_dir_all(&work);
        }
        result.map(|()| id)
    }

    fn write_entry(
        &self,
        work: &Path,
        id: &EntryId,
        envelope: &[u8],
        message: &mut dyn Read,
    ) -> Result<(), QueueError> {
        // Held until we return: tells the tmp sweeper this entry is still being written.
        let work_lock = File::open(work).map_err(|e| QueueError::io("open", work, e))?;
        try_lock(&work_lock).map_err(|e| QueueError::io("lock", work, e))?;
        self.step(Step::EntryCreated);

        let message_path = work.join(MESSAGE);
        let mut file = create_new(&message_path)?;
        copy_message(message, &mut file, &message_path, || {
            self.step(Step::MessagePartlyWritten)
        })?;
        file.sync_all()
            .map_err(|e| QueueError::io("sync", &message_path, e))?;
        // The entry lock (a flush locks the message file), held until we return: a
        // flush that sees the entry between its rename and a failed directory sync
        // finds it busy, so it is never delivered after we said it was not queued.
        let _entry_lock = file;
        try_lock(&_entry_lock).map_err(|e| QueueError::io("lock", &message_path, e))?;
        self.step(Step::MessageSynced);

        let envelope_path = work.join(ENVELOPE);
        let mut file = create_new(&envelope_path)?;
        file.write_all(envelope)
            .and_then(|()| file.sync_all())
            .map_err(|e| QueueError::io("write", &envelope_path, e))?;
        drop(file);
        self.step(Step::EnvelopeSynced);

        sync_dir(work)?;
        self.step(Step::EntrySynced);
        let target = self.queue.join(id.as_str());
        fs::rename(work, &target).map_err(|e| QueueError::io("rename", work, e))?;
        self.step(Step::Published);
        // Shared with the other threads publishing now (see `commit`).
        let synced = commit::sync_shared(&self.queue, || {
            self.step(Step::QueueSyncing);
            match self.injected_fault(Step::Published) {
                Some(e) => Err(e),
                None => File::open(&self.queue).and_then(|d| d.sync_all()),
            }
        })
        .map_err(|e| QueueError::io("sync", &self.queue, e));
        if let Err(e) = synced {
            // The caller is told the message was not queued (and will try again or
            // bounce it), so the entry must not be delivered later: take it back out.
            // The entry lock is still held, so no flush has started on it.
            let trash = self.tmp.join(format!("{DEL_PREFIX}{id}"));
            if fs::rename(&target, &trash).is_ok() {
                let _ = fs::remove_dir_all(&trash);
            }
            return Err(e);
        }
        self.step(Step::Durable);
        Ok(())
    }

    /// The directory of entry `id` in `area`.
    pub(crate) fn entry_dir(&self, area: Area, id: &EntryId) -> PathBuf {
        self.area_dir(area).join(id.as_str())
    }

    /// The directory of `area` (`queue/`, `failed/`).
    pub(crate) fn area_dir(&self, area: Area) -> &Path {
        match area {
            Area::Queued => &self.queue,
            Area::Failed => &self.failed,
        }
    }

    /// Finds which area holds `id`.
    pub(crate) fn locate(&self, id: &EntryId) -> Result<Area, QueueError> {
        for area in [Area::Queued, Area::Failed] {
            if self.entry_dir(area, id).is_dir() {
                return Ok(area);
            }
        }
        Err(QueueError::NoSuchEntry { id: id.to_string() })
    }

    /// Ids of the entries in `area`, oldest first; other names are ignored.
    pub(crate) fn ids(&self, area: Area) -> Result<Vec<EntryId>, QueueError> {
        let dir = self.area_dir(area);
        let mut ids = Vec::new();
        for item in fs::read_dir(dir).map_err(|e| QueueError::io("read directory", dir, e))? {
            let item = item.map_err(|e| QueueError::io("read directory", dir, e))?;
            if let Some(id) = item
                .file_name()
                .to_str()
                .and_then(|n| EntryId::parse(n).ok())
            {
                ids.push(id);
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Locks entry `id` in `area`.
    pub(crate) fn lock_entry(
        &self,
        area: Area,
        id: &EntryId,
    ) -> Result<EntryLockResult, QueueError> {
        EntryLock::try_acquire(&self.entry_dir(area, id).join(MESSAGE), || {
            self.step(Step::EntryOpened)
        })
    }

    /// Reads and parses an entry's envelope.
    pub(crate) fn read_meta(&self, entry_dir: &Path) -> Result<EntryMeta, QueueError> {
        read_envelope(rustix::fs::CWD, &entry_dir.join(ENVELOPE), || {
            entry_dir.to_owned()
        })
    }

    /// [`Queue::read_meta`] of entry `id` in `area`, whose directory `area_dir` has
    /// open: the path walk is two names long.
    pub(crate) fn read_meta_in(
        &self,
        area_dir: &File,
        area: Area,
        id: &EntryId,
    ) -> Result<EntryMeta, QueueError> {
        let relative = Path::new(id.as_str()).join(ENVELOPE);
        read_envelope(area_dir, &relative, || self.entry_dir(area, id))
    }

    /// Replaces an entry's envelope atomically and durably. The caller holds the
    /// entry lock.
    pub(crate) fn write_meta(&self, entry_dir: &Path, meta: &EntryMeta) -> Result<(), QueueError> {
        let bytes = meta.encode()?;
        let new = entry_dir.join(ENVELOPE_NEW);
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&new)
            .map_err(|e| QueueError::io("create", &new, e))?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| QueueError::io("write", &new, e))?;
        drop(file);
        self.step(Step::EnvelopeRewriting);
        let path = entry_dir.join(ENVELOPE);
        fs::rename(&new, &path).map_err(|e| QueueError::io("rename", &new, e))?;
        sync_dir(entry_dir)
    }

    /// Moves entry `id` between `queue/` and `failed/` in one rename. The caller
    /// holds the entry lock.
    pub(crate) fn move_entry(
        &self,
        id: &EntryId,
        from: Area,
        to: Area,
    ) -> Result<PathBuf, QueueError> {
        let (src, dst) = (self.entry_dir(from, id), self.entry_dir(to, id));
        fs::rename(&src, &dst).map_err(|e| QueueError::io("rename", &src, e))?;
        sync_dir(dst.parent().unwrap_or(&self.root))?;
        sync_dir(src.parent().unwrap_or(&self.root))?;
        Ok(dst)
    }

    /// Takes entry `id` out of `area` for good. The rename into `tmp/del-…` is the
    /// moment it disappears; the files are unlinked afterwards (a crash in between
    /// leaves a `del-` directory the next sweep removes). The caller holds the
    /// entry lock, or the entry has no message file to lock.
    pub(crate) fn discard(&self, area: Area, id: &EntryId) -> Result<(), QueueError> {
        let parent = self.take_out(area, id)?;
        sync_dir(&parent)
    }

    /// Takes delivered entry `id` out of `queue/` like [`Queue::discard`], but
    /// leaves the sync of `queue/` to [`Queue::sync_removals`], which makes one
    /// for a whole batch (see the crate's notes on the duplicates this can cause).
    /// Its files are deleted on [`Removals`]' own threads, and `lock` is let go
    /// once they are, so the next entry's delivery does not wait for the disk.
    pub(crate) fn discard_delivered(
        &self,
        id: &EntryId,
        removals: &mut Removals,
        lock: EntryLock,
    ) -> Result<(), QueueError> {
        let (_, trash) = self.rename_out(Area::Queued, id)?;
        removals.taken_out(id);
        removals.trash.delete(trash, Some(Box::new(lock)));
        Ok(())
    }

    /// Makes the removals noted in `removals` durable: waits for the sync started
    /// by [`Queue::sync_removals_behind`], if any, then one fsync of `queue/` for
    /// the rest. Returns each failed sync with the entries whose removal may not
    /// be on disk.
    pub(crate) fn sync_removals(&self, removals: &mut Removals) -> Vec<SyncFailure> {
        let mut failures = self.join_background_sync(removals);
        let ids = std::mem::take(&mut removals.ids);
        removals.since = None;
        if !ids.is_empty() {
            match sync_dir_io(&self.queue) {
                Ok(()) => self.step(Step::RemovalsSynced),
                Err(e) => failures.push((ids, e)),
            }
        }
        failures
    }

    /// Starts the sync of the removals noted so far on another thread, and goes on
    /// delivering meanwhile (a sync of a loaded disk takes 50 ms, for every 64
    /// messages). Only one runs at a time: this first waits for the previous one,
    /// and returns its failure, if it failed.
    pub(crate) fn sync_removals_behind(&self, removals: &mut Removals) -> Vec<SyncFailure> {
        let failures = self.join_background_sync(removals);
        let ids = std::mem::take(&mut removals.ids);
        removals.since = None;
        if ids.is_empty() {
            return failures;
        }
        let dir = self.queue.clone();
        let spawned = std::thread::Builder::new()
            .name("queue-sync".into())
            .spawn(move || sync_dir_io(&dir).map_err(|e| (ids, e)));
        match spawned {
            Ok(sync) => removals.syncing = Some(sync),
            Err(_) => {
                // No thread: sync here, as before.
                return failures
                    .into_iter()
                    .chain(self.sync_removals(removals))
                    .collect();
            }
        }
        failures
    }

    fn join_background_sync(&self, removals: &mut Removals) -> Vec<SyncFailure> {
        let Some(sync) = removals.syncing.take() else {
            return Vec::new();
        };
        match sync.join() {
            Ok(Ok(())) => {
                self.step(Step::RemovalsSynced);
                Vec::new()
            }
            Ok(Err(failure)) => vec![failure],
            Err(_) => Vec::new(), // cannot happen: the thread only syncs
        }
    }

    /// The rename into `tmp/del-…` and the unlinking, without any sync; returns
    /// the directory the entry left, which the caller syncs.
    fn take_out(&self, area: Area, id: &EntryId) -> Result<PathBuf, QueueError> {
        let (parent, trash) = self.rename_out(area, id)?;
        // Invisible already; a failure here only leaves garbage for the sweep.
        let _ = fs::remove_dir_all(&trash);
        Ok(parent)
    }

    /// The rename into `tmp/del-…` alone: the directory the entry left, and where
    /// it is now.
    fn rename_out(&self, area: Area, id: &EntryId) -> Result<(PathBuf, PathBuf), QueueError> {
        let src = self.entry_dir(area, id);
        let trash = self.tmp.join(format!("{DEL_PREFIX}{id}"));
        fs::rename(&src, &trash).map_err(|e| QueueError::io("rename", &src, e))?;
        self.step(Step::Discarded);
        Ok((src.parent().unwrap_or(&self.root).to_owned(), trash))
    }

    /// Removes directories abandoned in `tmp/`: every `del-` one (deletions that
    /// were interrupted) and `new-` ones older than [`STALE_TMP_AGE`] that no
    /// writer holds locked. Best effort: errors are ignored, the next sweep retries.
    pub(crate) fn sweep_tmp(&self) {
        let Ok(items) = fs::read_dir(&self.tmp) else {
            return;
        };
        for item in items.flatten() {
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = item.path();
            let interrupted_delete = name.starts_with(DEL_PREFIX);
            if interrupted_delete || (name.starts_with(NEW_PREFIX) && is_abandoned(&path)) {
                let _ = fs::remove_dir_all(&path);
            } else if name.starts_with(OLD_SPOOL_PREFIX) && is_stale(&path) {
                // A body copy that a killed rsmtp before 0.2 left (spool files have
                // no name now).
                let _ = fs::remove_file(&path);
            }
        }
    }

    /// Removes entry `id`, queued or failed. Fails with `Busy` while it is being
    /// delivered.
    pub fn remove(&self, id: &EntryId) -> Result<(), QueueError> {
        let area = self.locate(id)?;
        match self.lock_entry(area, id) {
            Ok(EntryLockResult::Locked(_lock)) => self.discard(area, id),
            Ok(EntryLockResult::Busy) => Err(QueueError::Busy { id: id.to_string() }),
            // A damaged entry without a message file, or a planted one whose message
            // is a link: nothing to lock, and removing it is what the admin wants.
            Ok(EntryLockResult::Gone) | Err(QueueError::UntrustedEntry { .. })
                if self.entry_dir(area, id).is_dir() =>
            {
                self.discard(area, id)
            }
            Ok(EntryLockResult::Gone) => Err(QueueError::NoSuchEntry { id: id.to_string() }),
            Err(e) => Err(e),
        }
    }

    /// Removes every entry in `failed/` and returns how many were removed
    /// (entries locked by someone else are left alone).
    pub fn purge_failed(&self) -> Result<usize, QueueError> {
        let mut removed = 0;
        for id in self.ids(Area::Failed)? {
            if let EntryLockResult::Locked(_lock) = self.lock_entry(Area::Failed, &id)? {
                self.discard(Area::Failed, &id)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Makes entry `id` due now. A failed entry is put back into the queue for one
    /// more attempt (its age is unchanged, so if that attempt fails temporarily and
    /// the message is past its expiry, it fails again at once).
    pub fn retry_now(&self, id: &EntryId) -> Result<(), QueueError> {
        let area = self.locate(id)?;
        let _lock = match self.lock_entry(area, id)? {
            EntryLockResult::Locked(lock) => lock,
            EntryLockResult::Busy => return Err(QueueError::Busy { id: id.to_string() }),
            EntryLockResult::Gone => return Err(QueueError::NoSuchEntry { id: id.to_string() }),
        };
        let dir = self.entry_dir(area, id);
        let mut meta = self.read_meta(&dir)?;
        meta.next_attempt = SystemTime::now();
        self.write_meta(&dir, &meta)?;
        if area == Area::Failed {
            self.move_entry(id, Area::Failed, Area::Queued)?;
        }
        Ok(())
    }
}

fn create_new(path: &Path) -> Result<File, QueueError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| QueueError::create(path, e))
}

/// Copies the caller's message into the spool file, telling apart the caller's
/// read errors from our write errors.
fn copy_message(
    input: &mut dyn Read,
    out: &mut File,
    path: &Path,
    mut after_first_chunk: impl FnMut(),
) -> Result<(), QueueError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut first = true;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(QueueError::Input { source: e }),
        };
        out.write_all(&buf[..n])
            .map_err(|e| QueueError::io("write", path, e))?;
        if first {
            first = false;
            after_first_chunk();
        }
    }
}

/// How many delivered entries a flush takes out of `queue/` before it syncs
/// `queue/` once for all of them (one directory fsync instead of one per
/// message). With [`REMOVALS_WAIT_AT_MOST`] this bounds the extra duplicates a
/// power cut can cause (see the crate notes): at most this many messages.
pub const REMOVALS_PER_SYNC: usize = 64;
/// How long the first delivered entry taken out of `queue/` may wait for the
/// batched sync of [`REMOVALS_PER_SYNC`] (1 s): a slow flush that delivers a
/// message now and then still makes each removal durable within about a second.
pub const REMOVALS_WAIT_AT_MOST: Duration = Duration::from_secs(1);

/// Delivered entries already renamed out of `queue/` whose removal is not yet
/// on disk: a power cut now would bring them back, to be sent again.
#[derive(Debug, Default)]
pub(crate) struct Removals {
    ids: Vec<EntryId>,
    since: Option<Instant>,
    /// The sync of an earlier batch, running on its own thread.
    syncing: Option<JoinHandle<Result<(), SyncFailure>>>,
    /// Deletes the taken-out entries' files while the flush goes on.
    trash: Trash,
}

impl Removals {
    /// Waits until the files of every entry taken out are deleted.
    pub(crate) fn finish_deleting(&mut self) {
        self.trash.finish();
    }

    fn taken_out(&mut self, id: &EntryId) {
        self.ids.push(id.clone());
        self.since.get_or_insert_with(Instant::now);
    }

    pub(crate) fn is_due(&self) -> bool {
        self.ids.len() >= REMOVALS_PER_SYNC
            || self
                .since
                .is_some_and(|t| t.elapsed() >= REMOVALS_WAIT_AT_MOST)
    }
}

/// An entry's envelope, `path` under `dir` (`entry_dir` names the entry in errors).
/// An envelope is replaced by a rename, never written in place, so the size the
/// open file has is all there is to read: one `read`, not a second one to see the end.
fn read_envelope(
    dir: impl AsFd,
    path: &Path,
    entry_dir: impl Fn() -> PathBuf,
) -> Result<EntryMeta, QueueError> {
    let shown = || entry_dir().join(ENVELOPE);
    let (file, size) = trust::open_entry_file_at(dir, path).map_err(|e| e.for_entry(&shown()))?;
    let mut bytes = vec![0; usize::try_from(size.min(MAX_ENVELOPE)).unwrap_or(0)];
    (&file)
        .read_exact(&mut bytes)
        .map_err(|e| QueueError::io("read", shown(), e))?;
    EntryMeta::decode(&bytes).map_err(|reason| QueueError::Corrupt {
        path: shown(),
        reason,
    })
}

/// A sync of `queue/` that failed, and the entries whose removal it was to make
/// durable.
pub(crate) type SyncFailure = (Vec<EntryId>, io::Error);

/// fsync on a directory: makes the names created, renamed or removed in it durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), QueueError> {
    sync_dir_io(dir).map_err(|e| QueueError::io("sync", dir, e))
}

fn sync_dir_io(dir: &Path) -> io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all())
}

/// A `tmp/new-…` directory whose writer is gone: not locked and not modified
/// (neither the directory nor its message file) for [`STALE_TMP_AGE`].
fn is_abandoned(path: &Path) -> bool {
    let Ok(dir) = File::open(path) else {
        return false;
    };
    if !matches!(try_lock(&dir), Ok(true)) {
        return false;
    }
    let newest = [path.to_owned(), path.join(MESSAGE)]
        .iter()
        .filter_map(|p| fs::metadata(p).and_then(|m| m.modified()).ok())
        .max();
    match newest.map(|t| t.elapsed()) {
        Some(Ok(age)) => age >= STALE_TMP_AGE,
        Some(Err(_)) => false, // modified in the future: leave it
        None => true,
    }
}

/// Whether the file at `path` has not been modified for [`STALE_TMP_AGE`].
fn is_stale(path: &Path) -> bool {
    fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age >= STALE_TMP_AGE)
}
