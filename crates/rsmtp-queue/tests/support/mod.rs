//! Shared test support: deterministic messages that can be checked byte for byte
//! after delivery or after a crash, and envelopes that carry their sequence number.
#![allow(dead_code)]

use std::io::Read;
use std::path::Path;
use std::time::SystemTime;

use rsmtp_queue::{EntryMeta, EntrySummary, Queue};

/// Message number `n`: a header block naming `n`, then a body whose length and
/// bytes depend on `n` (CRLF lines, a lone CR, a NUL, a dot line, 8-bit bytes).
pub(crate) fn message(n: u64) -> Vec<u8> {
    let mut m = format!(
        "From: Seq <seq@example.org>\r\nTo: rcpt-{n}@example.org\r\nSubject: message {n}\r\nX-Seq: {n}\r\n\r\n.\r\nlone\rcr\0nul é\r\n"
    )
    .into_bytes();
    let len = 1000 + (n * 7919 % 150_000) as usize;
    for i in 0..len {
        if i % 78 == 77 {
            m.extend_from_slice(b"\r\n");
        } else {
            m.push(((i as u64 * 31 + n) % 251) as u8);
        }
    }
    m
}

/// The envelope for message `n`; the sequence number is in the sender.
pub(crate) fn meta(n: u64) -> EntryMeta {
    EntryMeta::new(
        "default",
        &format!("seq-{n}@example.org"),
        vec![format!("rcpt-{n}@example.org"), "second@example.net".into()],
    )
}

/// The sequence number an envelope from [`meta`] carries.
pub(crate) fn seq_of(meta: &EntryMeta) -> u64 {
    meta.envelope_from
        .strip_prefix("seq-")
        .and_then(|s| s.strip_suffix("@example.org"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a test envelope: {meta:?}"))
}

pub(crate) fn read_all(message: &mut dyn Read) -> Vec<u8> {
    let mut bytes = Vec::new();
    message
        .read_to_end(&mut bytes)
        .expect("read queued message");
    bytes
}

/// Checks that every visible entry is complete: envelope parses, the message is
/// exactly the one its envelope names. Returns the sequence numbers found.
pub(crate) fn check_all_complete(dir: &Path) -> Vec<(EntrySummary, u64)> {
    let queue = Queue::open(dir).expect("open queue");
    let mut out = Vec::new();
    for e in queue.list().expect("list") {
        assert!(
            e.damaged.is_none(),
            "damaged entry {}: {:?}",
            e.id,
            e.damaged
        );
        let area = if e.failed { "failed" } else { "queue" };
        let bytes = std::fs::read(dir.join(area).join(e.id.as_str()).join("message"))
            .expect("message file of a visible entry");
        let n = e
            .sender
            .strip_prefix("seq-")
            .and_then(|s| s.strip_suffix("@example.org"))
            .and_then(|s| s.parse().ok())
            .expect("test sender");
        assert!(
            bytes == message(n),
            "entry {} holds wrong bytes for message {n}",
            e.id
        );
        assert_eq!(e.size, bytes.len() as u64);
        out.push((e, n));
    }
    out
}

pub(crate) fn now() -> SystemTime {
    SystemTime::now()
}
