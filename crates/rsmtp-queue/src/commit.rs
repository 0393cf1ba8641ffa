//! Group commit of `queue/`: threads of one process that publish entries at the
//! same time (the listener's sessions) share one fsync of the directory, as
//! Postfix's cleanup and databases' logs do.
//!
//! Each writer takes a ticket once its rename is done. A sync covers every ticket
//! taken before it started (their renames were already in the directory), so a
//! writer whose ticket a finished sync covers is durable, and one that arrives
//! while a sync runs waits for the next, which one of the waiters starts for
//! all of them. A writer alone pays exactly one fsync, as before; `n` writers
//! arriving together pay about two between them. Each writer still learns the
//! outcome of the sync that covered it: a failed sync fails every entry it
//! covered (and each writer takes its own entry back out).

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};

/// The shared syncer of one directory.
#[derive(Default)]
struct Syncer {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Default)]
struct State {
    /// The last ticket handed out.
    issued: u64,
    /// Every ticket up to this one is covered by a finished sync.
    covered: u64,
    /// A sync is running.
    running: bool,
    /// Syncs that failed: tickets `(after, upto]` and the error number.
    failed: Vec<(u64, u64, Option<i32>, io::ErrorKind)>,
}

/// Syncs `dir` after a rename into it that the caller just made, sharing the
/// fsync with the other threads of this process doing the same. `sync` is what
/// the caller runs when it leads the sync (the fsync of `dir`, or a test's fault).
pub(crate) fn sync_shared(dir: &Path, sync: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
    let syncer = syncer(dir);
    let mut state = syncer.state.lock().unwrap_or_else(PoisonError::into_inner);
    state.issued += 1;
    let ticket = state.issued;
    let mut sync = Some(sync);
    loop {
        if ticket <= state.covered {
            return match state
                .failed
                .iter()
                .find(|(after, upto, ..)| *after < ticket && ticket <= *upto)
            {
                Some((_, _, Some(code), _)) => Err(io::Error::from_raw_os_error(*code)),
                Some((_, _, None, kind)) => Err(io::Error::from(*kind)),
                None => Ok(()),
            };
        }
        if state.running {
            state = syncer
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            continue;
        }
        // Lead a sync for every ticket issued so far.
        state.running = true;
        let (after, upto) = (state.covered, state.issued);
        drop(state);
        let result = match sync.take() {
            Some(sync) => sync(),
            None => File::open(dir).and_then(|d| d.sync_all()),
        };
        state = syncer.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.running = false;
        state.covered = upto;
        if let Err(e) = result {
            state.failed.push((after, upto, e.raw_os_error(), e.kind()));
        }
        syncer.done.notify_all();
    }
}

/// The one syncer of `dir` in this process.
fn syncer(dir: &Path) -> Arc<Syncer> {
    static ALL: OnceLock<Mutex<HashMap<PathBuf, Arc<Syncer>>>> = OnceLock::new();
    let mut all = ALL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    Arc::clone(all.entry(dir.to_owned()).or_default())
}
