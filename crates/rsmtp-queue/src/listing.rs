//! Listing the queue (`rsmtp -bp`, `mailq`): one [`EntrySummary`] per entry,
//! queued or failed, and a sendmail/Postfix-style table of them.

use std::fmt;
use std::fs::{self, File};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Local};

use crate::store::{Area, IN_FLIGHT, MESSAGE};
use crate::{EntryId, Queue, QueueError};

/// One entry as `mailq` shows it.
#[derive(Debug, Clone)]
pub struct EntrySummary {
    /// The entry's id.
    pub id: EntryId,
    /// In `failed/` (failed permanently or expired; not retried).
    pub failed: bool,
    /// The message size in bytes.
    pub size: u64,
    /// When it was queued (the directory's time when the envelope is damaged).
    pub submitted: SystemTime,
    /// How long it has been in the queue.
    pub age: Duration,
    /// The envelope sender; empty for a null sender.
    pub sender: String,
    /// The envelope recipients.
    pub recipients: Vec<String>,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When it will be tried again.
    pub next_attempt: SystemTime,
    /// Why the envelope could not be read, if it could not.
    pub damaged: Option<String>,
    /// The msmtprc account and `-C` file it was queued with (empty / `None` when the
    /// envelope is damaged).
    pub account: String,
    /// The `-C` configuration file given at submission, from which the account
    /// is read again at flush time; `None` for the default msmtprc files (and
    /// for a damaged envelope).
    pub config_file: Option<std::path::PathBuf>,
    /// An attempt sent the whole message at this time and got no answer (or was
    /// killed sending it): the server may have it, a retry may be a second copy.
    pub unanswered_since: Option<SystemTime>,
}

impl Queue {
    /// Every entry, queued ones first then failed ones, oldest first in each.
    /// Entries that disappear while listing (delivered meanwhile) are left out;
    /// damaged ones are listed with `damaged` set.
    pub fn list(&self) -> Result<Vec<EntrySummary>, QueueError> {
        let now = SystemTime::now();
        let mut out = Vec::new();
        for area in [Area::Queued, Area::Failed] {
            let ids = self.ids(area)?;
            // Each entry's files are looked up from here: two names to walk instead
            // of the whole path, 10,000 times for a large queue.
            let area_dir = File::open(self.area_dir(area))
                .map_err(|e| QueueError::io("open", self.area_dir(area), e))?;
            let summarize = |ids: &[EntryId]| -> Vec<EntrySummary> {
                ids.iter()
                    .filter_map(|id| self.summary(&area_dir, area, id, now))
                    .collect()
            };
            // A large queue is read on every processor: the time goes into path
            // lookups and parsing, which do not wait for each other.
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
            if ids.len() < PARALLEL_FROM || threads < 2 {
                out.extend(summarize(&ids));
                continue;
            }
            let chunk = ids.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let parts: Vec<_> = ids
                    .chunks(chunk)
                    .map(|part| scope.spawn(move || summarize(part)))
                    .collect();
                for (part, handle) in ids.chunks(chunk).zip(parts) {
                    // A thread that cannot finish: read its part here instead.
                    out.extend(handle.join().unwrap_or_else(|_| summarize(part)));
                }
            });
        }
        Ok(out)
    }

    /// One entry of `area` (whose directory `area_dir` is), or `None` when it is
    /// gone (delivered or moved meanwhile).
    fn summary(
        &self,
        area_dir: &File,
        area: Area,
        id: &EntryId,
        now: SystemTime,
    ) -> Option<EntrySummary> {
        let stat = |name: &str, flags| {
            rustix::fs::statat(area_dir, Path::new(id.as_str()).join(name), flags)
        };
        let size = stat(MESSAGE, rustix::fs::AtFlags::empty())
            .map(|m| u64::try_from(m.st_size).unwrap_or(0))
            .unwrap_or(0);
        let mut summary = EntrySummary {
            id: id.clone(),
            failed: area == Area::Failed,
            size,
            submitted: now,
            age: Duration::ZERO,
            sender: String::new(),
            recipients: Vec::new(),
            attempts: 0,
            last_error: None,
            next_attempt: now,
            damaged: None,
            account: String::new(),
            config_file: None,
            unanswered_since: None,
        };
        match self.read_meta_in(area_dir, area, id) {
            Ok(meta) => {
                summary.submitted = meta.submitted;
                summary.sender = meta.envelope_from;
                summary.recipients = meta.recipients;
                summary.attempts = meta.attempts;
                summary.last_error = meta.last_error;
                summary.next_attempt = meta.next_attempt;
                summary.unanswered_since = meta.unanswered_since;
                summary.account = meta.account;
                summary.config_file = meta.config_file;
                if let Ok(journal) = stat(IN_FLIGHT, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
                    // Being sent now, or its sender was killed doing so.
                    let at = Duration::new(
                        u64::try_from(journal.st_mtime).unwrap_or(0),
                        u32::try_from(journal.st_mtime_nsec).unwrap_or(0),
                    );
                    summary.unanswered_since = summary.unanswered_since.or(Some(UNIX_EPOCH + at));
                }
            }
            Err(e) => match fs::metadata(self.entry_dir(area, id)) {
                // The directory's time stands in for the damaged envelope's.
                Ok(d) if d.is_dir() => {
                    summary.submitted = d.modified().unwrap_or(now);
                    summary.damaged = Some(e.to_string());
                }
                _ => return None,
            },
        }
        summary.age = now.duration_since(summary.submitted).unwrap_or_default();
        Some(summary)
    }
}

/// From how many entries [`Queue::list`] reads an area on several threads.
const PARALLEL_FROM: usize = 1024;

/// Formats a listing like sendmail's and Postfix's `mailq`:
///
/// ```text
/// -Queue ID------------------------- --Size-- ----Arrival Time---- -Sender/Recipient-------
/// 1763741571-123456-4242-0a1b2c3d        1234 Sat Nov 21 16:12:51  alice@example.org
///       (attempt 2, next Sat Nov 21 16:40:12: 421 4.7.0 Try again later)
///                                                                  bob@example.org
///
/// -- 2 Kbytes in 1 Request.
/// ```
///
/// A `!` after the id marks a failed entry. An empty queue prints
/// `Mail queue is empty`.
#[derive(Debug, Clone, Copy)]
pub struct Mailq<'a>(pub &'a [EntrySummary]);

const ID_WIDTH: usize = 34;
const RCPT_INDENT: usize = ID_WIDTH + 1 + 8 + 1 + 20 + 2;
/// The recipients' indentation, written at once (a width pads one character at a time).
const INDENT: &str = "                                                                      ";
const _: () = assert!(INDENT.len() >= RCPT_INDENT);

impl fmt::Display for Mailq<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return writeln!(f, "Mail queue is empty");
        }
        writeln!(
            f,
            "{:-<ID_WIDTH$} --Size-- ----Arrival Time---- -Sender/Recipient-------",
            "-Queue ID"
        )?;
        // The time format, parsed once for all entries.
        let when: Vec<Item<'_>> = StrftimeItems::new("%a %b %e %H:%M:%S").collect();
        let local = |t: SystemTime| DateTime::<Local>::from(t).format_with_items(when.iter());
        let mut total = 0u64;
        for e in self.0 {
            total += e.size;
            let mark = if e.failed { "!" } else { "" };
            let sender = if e.sender.is_empty() {
                "MAILER-DAEMON"
            } else {
                &e.sender
            };
            writeln!(
                f,
                "{:<ID_WIDTH$} {:>8} {:<20}  {}",
                format!("{}{mark}", e.id),
                e.size,
                local(e.submitted),
                one_line(sender)
            )?;
            if let Some(problem) = &e.damaged {
                writeln!(f, "      (damaged: {})", one_line(problem))?;
            } else if e.failed {
                let reason = e.last_error.as_deref().unwrap_or("failed");
                writeln!(f, "      (failed: {})", one_line(reason))?;
            } else if let Some(error) = &e.last_error {
                writeln!(
                    f,
                    "      (attempt {}, next {}: {})",
                    e.attempts,
                    local(e.next_attempt),
                    one_line(error)
                )?;
            }
            if let Some(at) = e.unanswered_since {
                writeln!(
                    f,
                    "      (sent in full {} without an answer: it may arrive twice)",
                    local(at)
                )?;
            }
            for rcpt in &e.recipients {
                writeln!(f, "{}{}", &INDENT[..RCPT_INDENT], one_line(rcpt))?;
            }
            writeln!(f)?;
        }
        let n = self.0.len();
        writeln!(
            f,
            "-- {} Kbytes in {n} Request{}.",
            total.div_ceil(1024),
            if n == 1 { "" } else { "s" }
        )
    }
}

/// `s` on one line: each control character shown as a space (written as it goes,
/// without a copy: `mailq` shows several of these for each of 10,000 entries).
fn one_line(s: &str) -> OneLine<'_> {
    OneLine(s)
}

struct OneLine<'a>(&'a str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(char::is_control) {
            f.write_str(&rest[..at])?;
            f.write_str(" ")?;
            let len = rest[at..].chars().next().map_or(1, char::len_utf8);
            rest = &rest[at + len..];
        }
        f.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, failed: bool) -> EntrySummary {
        EntrySummary {
            id: EntryId::parse(id).unwrap(),
            failed,
            size: 1500,
            submitted: SystemTime::now(),
            age: Duration::ZERO,
            sender: "alice@example.org".into(),
            recipients: vec!["bob@example.org".into(), "carol@example.net".into()],
            attempts: 2,
            last_error: Some("421 4.7.0 Try\r\nagain".into()),
            next_attempt: SystemTime::now(),
            damaged: None,
            account: String::new(),
            config_file: None,
            unanswered_since: None,
        }
    }

    #[test]
    fn empty_queue_says_so() {
        assert_eq!(Mailq(&[]).to_string(), "Mail queue is empty\n");
    }

    #[test]
    fn table_shows_sender_recipients_errors_and_total() {
        let entries = [summary("1-a", false), summary("2-b", true)];
        let text = Mailq(&entries).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("-Queue ID---"), "{text}");
        assert!(
            lines[1].starts_with("1-a ") && lines[1].ends_with("  alice@example.org"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("      (attempt 2, next ")
                && lines[2].ends_with(": 421 4.7.0 Try  again)"),
            "{text}"
        );
        assert_eq!(lines[3].trim_start(), "bob@example.org");
        assert_eq!(lines[3].len() - "bob@example.org".len(), RCPT_INDENT);
        assert!(text.contains("2-b!"), "{text}");
        assert!(
            text.contains("      (failed: 421 4.7.0 Try  again)"),
            "{text}"
        );
        assert!(text.ends_with("-- 3 Kbytes in 2 Requests.\n"), "{text}");
    }
}
