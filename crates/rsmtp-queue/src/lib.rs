//! rsmtp-queue: the durable mail spool.
//!
//! msmtp gives up when the relay is down; rsmtp keeps the message here and sends
//! it later. This crate does no networking and reads no configuration: delivery
//! is a function supplied by the caller (the `rsmtp` crate passes one that runs
//! the SMTP session for the account named in the entry).
//!
//! # Use
//!
//! ```no_run
//! use rsmtp_queue::{DeliveryResult, EntryMeta, FlushOptions, Mailq, Queue};
//! # fn main() -> Result<(), rsmtp_queue::QueueError> {
//! let queue = Queue::open(std::path::Path::new("/tmp/q"))?;
//! let meta = EntryMeta::new("default", "alice@example.org", vec!["bob@example.org".into()]);
//! let id = queue.enqueue(&meta, &mut &b"Subject: hi\r\n\r\nbody\r\n"[..])?;
//! print!("{}", Mailq(&queue.list()?));
//! let report = queue.flush(&FlushOptions::default(), &mut |meta, message| {
//!     // run the SMTP session, streaming `message`
//!     # let _ = (meta, message);
//!     DeliveryResult::Delivered
//! })?;
//! for failed in report.failed.iter().chain(&report.expired) {
//!     let _notice: Vec<u8> = queue.failure_notice(failed)?; // mail it to the sender
//! }
//! # let _ = id; Ok(()) }
//! ```
//!
//! API: [`Queue::open`] (the default directory is rsmtp-config's `default_queue_dir`), [`Queue::enqueue`],
//! [`Queue::list`] with [`Mailq`] for `mailq` output, [`Queue::flush`] with
//! [`FlushOptions`] and [`DeliveryResult`] returning a [`FlushReport`],
//! [`Queue::remove`], [`Queue::purge_failed`], [`Queue::retry_now`],
//! [`Queue::failure_notice`] / [`failure_notice`]; a long-lived flusher (the
//! retrier) keeps a [`Schedule`] in [`FlushOptions::schedule`] so that a pass
//! opens only new or due entries; errors are [`QueueError`] with
//! [`QueueError::exit_code`] giving the sysexits code.
//!
//! # Layout and durability
//!
//! Each entry is a directory `queue/<id>/` holding `message` (the bytes exactly
//! as submitted) and `envelope` (an [`EntryMeta`] in a small `key: value` text
//! format). An entry is built in `tmp/new-<id>/`: message written and fsynced,
//! envelope written and fsynced, the directory fsynced, then the directory is
//! renamed into `queue/` and `queue/` is fsynced before `enqueue` returns `Ok`.
//!
//! * Before the rename nothing is visible in `queue/`; a crash leaves only a
//!   `tmp/new-…` directory, removed by a later open or flush once it is an hour
//!   old and not locked by a live writer.
//! * `rename(2)` is atomic, so readers see either no entry or the whole directory,
//!   whose contents were already on disk; after the fsync of `queue/` the name
//!   itself survives a power cut, so an `Ok` from `enqueue` means the message is kept.
//!   Threads of one process that enqueue at the same time (the listener's sessions)
//!   share that fsync of `queue/`: one sync covers every rename made before it
//!   started (group commit, see `commit`), so an enqueue costs three fsyncs of its
//!   own (message, envelope, entry directory) and a share of the fourth.
//! * Envelope updates write `envelope.new`, fsync, rename over `envelope`, fsync the
//!   entry: readers see the old or the new envelope, never a mix.
//! * Moving to `failed/` is one rename of the entry directory (then both parents are
//!   fsynced); removal is a rename into `tmp/del-…` before unlinking, and `queue/`
//!   is fsynced after it — once per batch in a flush (below).
//!
//! # Trust
//!
//! A flusher (often root's cron job) carries out what an entry says, so the queue
//! is used only when nobody else could have written it: [`Queue::open`] refuses a
//! directory tree that is a symbolic link, another user's, or group/other-writable
//! ([`QueueError::UntrustedDir`], EX_CONFIG), and [`Queue::flush`] moves to
//! `failed/`, undelivered, any entry whose files are not ours, whose `-C` file is
//! not ours, or that carries a setting an entry may never carry
//! ([`check_override`]); see [`FlushReport::refused`].
//!
//! # Locking and the one duplicate that remains possible
//!
//! A flush holds `lock` (non-blocking `flock`) so overlapping cron runs do not
//! both work; each entry is additionally `flock`ed on its message file while it
//! is delivered or changed, and re-checked after locking, so two flushers (threads
//! or processes, with or without the queue lock) never send the same entry.
//!
//! If a flusher is killed during delivery, the kernel drops its locks and the
//! entry stays queued: it is sent again by the next flush. The message is sent
//! twice only when the kill (or power cut) falls after the server's final `250`
//! and before the removal's rename reached the disk — an inherent window of
//! store-and-forward mail (RFC 5321 §6.1 accepts duplicates over loss).
//!
//! A delivered entry's removal may be batched because re-delivery after a crash
//! is a duplicate, not a loss: the message is already with the server. So a flush
//! does not fsync `queue/` after each delivered entry but once for a
//! batch: after at most [`REMOVALS_PER_SYNC`] removals, or when the first of them
//! has waited [`REMOVALS_WAIT_AT_MOST`], and always before the flush returns its
//! report. A batch's sync runs on its own thread while the next entries are
//! delivered (one at a time; the next batch waits for it), and the files of a
//! removed entry are unlinked on other threads too (`trash`): on a loaded disk
//! both take milliseconds each, and the flush waits only for the last sync and
//! the last unlink. A killed process loses nothing by this (the renames are in the kernel
//! already, and no other process can see the entries); only a power cut or a
//! kernel crash in that window can bring back the batch's entries, each of which
//! the next flush then sends a second time: at most 64 messages, delivered in the
//! second before the cut. Per-message syncs cost one synchronous disk flush per
//! message (3.2–3.7 s for 500 messages on a loaded disk, 6.5× dma). Postfix's qmgr,
//! dma and nullmailer make the same trade, and a larger one: they unlink a
//! delivered queue file without any fsync, so a power cut can bring back every
//! message delivered since the file system last committed on its own.

#![warn(missing_docs)]

mod commit;
mod entry;
mod error;
mod flush;
mod id;
mod listing;
mod lock;
mod notice;
mod overrides;
mod schedule;
mod store;
mod trash;
mod trust;

pub use entry::{retry_delay, retry_delay_from, EntryMeta, BACKOFF_BASE, BACKOFF_MAX};
pub use error::QueueError;
pub use flush::{
    describe_age, Courier, Deferred, DeliveryResult, EntryMessage, FailedEntry, FlushOptions,
    FlushReport, Refusal, RefusedEntry, DEFAULT_EXPIRE_AFTER, PERSON_WAITS,
};
pub use id::EntryId;
pub use listing::{EntrySummary, Mailq};
pub use lock::{lock_within, open_lock_file, RetrierLock};
pub use notice::{failure_notice, notice_recipient};
pub use overrides::{check_override, RefusedSetting};
pub use schedule::{Schedule, Waiting, RECHECK_EVERY};
#[doc(hidden)]
pub use store::Step;
pub use store::{Queue, REMOVALS_PER_SYNC, REMOVALS_WAIT_AT_MOST, STALE_TMP_AGE};
pub use trust::{check_trusted_dir, is_trusted_dir, open_trusted_file, CheckError, Distrust};
