//! Advisory locks. Two kinds, both `flock(2)` taken without waiting:
//!
//! * the queue lock (`<dir>/lock`) is held for a whole flush, so a cron `-q` that
//!   starts while the previous one is still working returns at once;
//! * an entry lock on the entry's `message` file (which is never replaced, unlike
//!   the envelope) is held while that entry is delivered, rewritten, moved or
//!   removed. This is what guarantees that one message is never sent twice at the
//!   same time, even by a flusher that skipped the queue lock (`-qI<id>`).
//!
//! `flock` locks belong to the open file description, so they also exclude other
//! threads of the same process that opened the file themselves, and the kernel
//! drops them when the holder dies, so a killed flusher never leaves a stale lock.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

use crate::trust::Distrust;
use crate::QueueError;

/// `O_NOFOLLOW`: the lock and message files are never reached through a link.
const NOFOLLOW: i32 = rustix::fs::OFlags::NOFOLLOW.bits() as i32;

/// Tries to take an exclusive lock without waiting: `Ok(false)` if someone holds it.
pub(crate) fn try_lock(file: &File) -> io::Result<bool> {
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK || e == rustix::io::Errno::AGAIN => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Takes `file`'s exclusive lock, polling (1 ms, doubling up to 100 ms), for at most
/// `wait`: `Ok(false)` when another holder kept it that long. `flock(2)` itself has
/// no timeout, and a holder that hangs (a log reader, a stuck token refresh) must not
/// hold a cron job or a PHP request for ever: the log line and the OAuth 2.0 token
/// store bound their waits with this.
pub fn lock_within(file: &File, wait: std::time::Duration) -> io::Result<bool> {
    let deadline = std::time::Instant::now() + wait;
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        match flock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(true),
            Err(rustix::io::Errno::INTR) => continue,
            Err(rustix::io::Errno::WOULDBLOCK) => {
                let now = std::time::Instant::now();
                if now >= deadline {
                    return Ok(false);
                }
                std::thread::sleep(pause.min(deadline - now));
                pause = (pause * 2).min(std::time::Duration::from_millis(100));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The queue-wide flush lock; released when dropped.
#[derive(Debug)]
pub(crate) struct FlushLock {
    _file: File,
}

/// Open (creating it 0600) a file that exists only to be locked, never through a
/// symlink: the queue's flush and retrier locks, the OAuth token store's.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(NOFOLLOW)
        .open(path)
}

impl FlushLock {
    /// `Ok(None)` when another flusher holds the lock.
    pub(crate) fn try_acquire(path: &Path) -> Result<Option<FlushLock>, QueueError> {
        let file = open_lock_file(path).map_err(|e| QueueError::create(path, e))?;
        let locked = try_lock(&file).map_err(|e| QueueError::io("lock", path, e))?;
        Ok(locked.then_some(FlushLock { _file: file }))
    }
}

/// Held by the one retrier a queue has, for as long as it runs (see
/// [`crate::Queue::try_lock_retrier`]); released when dropped or when the
/// process dies.
#[derive(Debug)]
pub struct RetrierLock {
    _lock: FlushLock,
}

impl RetrierLock {
    pub(crate) fn try_acquire(path: &Path) -> Result<Option<RetrierLock>, QueueError> {
        Ok(FlushLock::try_acquire(path)?.map(|lock| RetrierLock { _lock: lock }))
    }
}

/// The outcome of trying to lock one entry.
#[derive(Debug)]
pub(crate) enum EntryLockResult {
    Locked(EntryLock),
    /// Another process or thread holds the entry.
    Busy,
    /// The entry is no longer there (delivered or moved meanwhile).
    Gone,
}

/// An exclusive lock on one entry, proven to still be at its place in the queue.
#[derive(Debug)]
pub(crate) struct EntryLock {
    /// The open, locked message file; also what the delivery callback reads.
    pub(crate) message: File,
    pub(crate) message_path: PathBuf,
}

impl EntryLock {
    /// Locks the entry whose message file is `message_path`.
    ///
    /// Having the lock is not enough: another flusher may have delivered the entry
    /// (renaming its directory away) between our `open` and our `flock`. So after
    /// locking we check that the path still leads to the very file we locked; if
    /// it does, nobody can move it any more until we let go.
    /// `opened` is called between the `open` and the `flock` (a test hook).
    pub(crate) fn try_acquire(
        message_path: &Path,
        opened: impl FnOnce(),
    ) -> Result<EntryLockResult, QueueError> {
        let message = match OpenOptions::new()
            .read(true)
            .custom_flags(NOFOLLOW)
            .open(message_path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(EntryLockResult::Gone),
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
                return Err(QueueError::UntrustedEntry {
                    path: message_path.to_owned(),
                    problem: Distrust::Symlink,
                })
            }
            Err(e) => return Err(QueueError::io("open", message_path, e)),
        };
        opened();
        if !try_lock(&message).map_err(|e| QueueError::io("lock", message_path, e))? {
            return Ok(EntryLockResult::Busy);
        }
        let ours = message
            .metadata()
            .map_err(|e| QueueError::io("stat", message_path, e))?;
        match std::fs::metadata(message_path) {
            Ok(now) if now.dev() == ours.dev() && now.ino() == ours.ino() => {
                Ok(EntryLockResult::Locked(EntryLock {
                    message,
                    message_path: message_path.to_owned(),
                }))
            }
            Ok(_) => Ok(EntryLockResult::Gone),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(EntryLockResult::Gone),
            Err(e) => Err(QueueError::io("stat", message_path, e)),
        }
    }
}
