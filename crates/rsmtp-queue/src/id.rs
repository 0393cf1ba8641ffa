//! Queue entry ids. An id is the entry's directory name, so it must be unique
//! across processes, safe as a file name and sort in arrival order: it is the
//! submission time (seconds and microseconds, zero-padded), the process id and 32
//! random bits, e.g. `1763741571-123456-4242-0a1b2c3d`.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::QueueError;

/// The longest id accepted from the user (generated ids are about 35 characters).
const MAX_LEN: usize = 64;

/// The name of one queue entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(String);

impl EntryId {
    /// A fresh id: time, process id and randomness, so two processes (or two
    /// threads in the same microsecond) never collide.
    pub fn generate() -> EntryId {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        EntryId(format!(
            "{:010}-{:06}-{}-{:08x}",
            since_epoch.as_secs(),
            since_epoch.subsec_micros(),
            std::process::id(),
            fastrand::u32(..)
        ))
    }

    /// Checks an id typed by the user (`rsmtp -qI<id>`, `--remove <id>`): ASCII
    /// letters, digits and '-', not starting with '-', so it can never name a path
    /// outside the queue.
    pub fn parse(text: &str) -> Result<EntryId, QueueError> {
        if is_valid(text) {
            Ok(EntryId(text.to_owned()))
        } else {
            Err(QueueError::InvalidId {
                id: text.to_owned(),
            })
        }
    }

    /// The id as text (also the entry's directory name).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub(crate) fn is_valid(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_LEN
        && !text.starts_with('-')
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Lets a map keyed by id be searched with a directory entry's name, without
/// making an id of it first (a retrier's pass over 10,000 names).
impl std::borrow::Borrow<str> for EntryId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for EntryId {
    type Err = QueueError;

    fn from_str(text: &str) -> Result<EntryId, QueueError> {
        EntryId::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique_valid_and_sorted_by_time() {
        let a = EntryId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = EntryId::generate();
        assert!(a < b, "{a} < {b}");
        assert_eq!(EntryId::parse(a.as_str()).ok(), Some(a.clone()));
        let many: std::collections::HashSet<_> = (0..1000).map(|_| EntryId::generate()).collect();
        assert_eq!(many.len(), 1000);
    }

    #[test]
    fn user_ids_cannot_escape_the_queue() {
        for bad in [
            "",
            "..",
            "../x",
            "a/b",
            "-rf",
            "a b",
            ".hidden",
            "x\n",
            &"a".repeat(65),
        ] {
            assert!(EntryId::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(EntryId::parse("1763741571-123456-4242-0a1b2c3d").is_ok());
    }
}
