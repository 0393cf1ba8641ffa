//! Reading a message body (stdin, `--body-file`) with a bound on memory.
//!
//! Only the first `limit` bytes are kept, but the rest is never silently dropped:
//! the caller gets how much was left out and says so in the message. A pipe is read
//! to its end even past the limit — stopping early would leave the writer
//! (`backup.sh | backup-alert -s …`) with a broken pipe, killed by SIGPIPE in the
//! middle of the backup whose report this is.

use std::fs::File;
use std::io::{self, Read};

/// The kept start of an input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) bytes: Vec<u8>,
    /// Bytes after the kept part that were read and dropped (or, for a file, not read).
    pub(crate) left_out: u64,
}

impl Head {
    /// The line to append when something was left out, else `None`.
    pub(crate) fn note(&self) -> Option<String> {
        (self.left_out > 0).then(|| {
            format!(
                "[backup-alert: the input was cut after {}; {} more byte(s) left out]",
                crate::units::format_size(self.bytes.len() as u64),
                self.left_out
            )
        })
    }

    /// The bytes with the note (if any) on a line of its own at the end.
    pub(crate) fn into_bytes_with_note(self) -> Vec<u8> {
        let note = self.note();
        let mut bytes = self.bytes;
        if let Some(note) = note {
            if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                bytes.push(b'\n');
            }
            bytes.extend_from_slice(note.as_bytes());
            bytes.push(b'\n');
        }
        bytes
    }
}

/// Keep the first `limit` bytes of a stream and read (and count) the rest.
pub(crate) fn read_stream(input: &mut dyn Read, limit: u64) -> io::Result<Head> {
    let mut bytes = Vec::new();
    input.take(limit).read_to_end(&mut bytes)?;
    let left_out = io::copy(input, &mut io::sink())?;
    Ok(Head { bytes, left_out })
}

/// Keep the first `limit` bytes of a file; the size says how much was left out.
pub(crate) fn read_file(file: File, limit: u64) -> io::Result<Head> {
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    let left_out = len.saturating_sub(bytes.len() as u64);
    Ok(Head { bytes, left_out })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_past_the_limit_is_drained_and_the_cut_is_said() {
        let data = vec![b'x'; 10_000];
        let mut reader: &[u8] = &data;
        let head = read_stream(&mut reader, 4096).unwrap();
        assert!(reader.is_empty(), "the writer must never see a broken pipe");
        assert_eq!(head.bytes.len(), 4096);
        assert_eq!(head.left_out, 10_000 - 4096);
        let text = String::from_utf8(head.into_bytes_with_note()).unwrap();
        assert!(
            text.ends_with(
                "\n[backup-alert: the input was cut after 4.0 KiB; 5904 more byte(s) left out]\n"
            ),
            "{}",
            &text[4000..]
        );
    }

    #[test]
    fn input_within_the_limit_is_unchanged() {
        let mut reader: &[u8] = b"short\n";
        let head = read_stream(&mut reader, 4096).unwrap();
        assert_eq!(head.note(), None);
        assert_eq!(head.into_bytes_with_note(), b"short\n");
    }

    #[test]
    fn a_file_past_the_limit_is_cut_with_a_note() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, &[b'y'; 3000]).unwrap();
        let head = read_file(File::open(f.path()).unwrap(), 1000).unwrap();
        assert_eq!((head.bytes.len(), head.left_out), (1000, 2000));
    }
}
