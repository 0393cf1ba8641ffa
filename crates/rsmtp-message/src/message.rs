//! The message as it goes on the wire: the rewritten header in memory, the body in
//! its spool file, read back as one stream.

use std::io::{self, Cursor, Read, Write};

use crate::error::MessageError;
use crate::rewrite::{rewrite_header, HeaderEdits};
use crate::spool::{Incoming, Spool};

/// A message ready for the SMTP `DATA` phase (before dot-stuffing).
///
/// Its bytes are the header, then a blank line when the input had one (or its
/// body did not start with a header), then the body. An input without a blank line
/// is sent as header only, with no blank line added, exactly as msmtp sends it.
#[derive(Debug)]
pub struct Message {
    /// The header including the blank separator line when there is one.
    header: Vec<u8>,
    body: Spool,
}

impl Message {
    /// Joins a header block (without separator) and a body.
    pub fn new(mut header: Vec<u8>, separator: bool, body: Spool) -> Message {
        if separator {
            header.extend_from_slice(b"\r\n");
        }
        Message { header, body }
    }

    /// Rewrites the header of what [`crate::read_message`] read and joins it to the body.
    pub fn from_incoming(incoming: Incoming, edits: &HeaderEdits) -> Result<Message, MessageError> {
        let header = rewrite_header(&incoming.header, edits)?;
        Ok(Message::new(header, incoming.has_separator, incoming.body))
    }

    /// The header bytes, including the blank separator line when there is one.
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// The body spool.
    pub fn body(&self) -> &Spool {
        &self.body
    }

    /// Total size in bytes (header, separator and body).
    pub fn len(&self) -> u64 {
        self.header.len() as u64 + self.body.len()
    }

    /// Whether there is nothing at all to send.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether any byte is 0x80 or above: the session should then use `BODY=8BITMIME`.
    pub fn eight_bit(&self) -> bool {
        !self.header.is_ascii() || self.body.eight_bit()
    }

    /// A reader over the whole message, header then body file, streaming. Each call
    /// starts again at the first byte.
    pub fn reader(&self) -> Result<impl Read + '_, MessageError> {
        Ok(Cursor::new(&self.header[..]).chain(self.body.open()?))
    }

    /// Copies the whole message to `out`, returning the bytes written.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<u64> {
        let mut reader = self.reader().map_err(io::Error::other)?;
        io::copy(&mut reader, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rewrite::FromEdit;

    fn message(input: &[u8], edits: &HeaderEdits) -> Message {
        let built = crate::read_message(&mut &input[..], None)
            .and_then(|i| Message::from_incoming(i, edits));
        match built {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    fn bytes(m: &Message) -> Vec<u8> {
        let mut v = Vec::new();
        match m.write_to(&mut v) {
            Ok(n) => assert_eq!(n, m.len()),
            Err(e) => panic!("{e}"),
        }
        v
    }

    fn edits() -> HeaderEdits {
        HeaderEdits {
            remove_bcc: true,
            from: FromEdit::AddIfMissing("me@x.org".into()),
            date: Some("Sat, 21 Nov 2026 16:14:16 +0000".into()),
            message_id: Some("<1@x.org>".into()),
            ..HeaderEdits::default()
        }
    }

    const ADDED: &str =
        "From: me@x.org\r\nDate: Sat, 21 Nov 2026 16:14:16 +0000\r\nMessage-ID: <1@x.org>\r\n";

    #[test]
    fn final_bytes_are_header_blank_line_body() {
        let m = message(b"Subject: s\nBcc: b@x.org\n\nhello\n", &edits());
        let want = format!("{ADDED}Subject: s\r\n\r\nhello\r\n");
        assert_eq!(String::from_utf8_lossy(&bytes(&m)), want);
        assert_eq!(m.len(), want.len() as u64);
        assert!(!m.eight_bit() && !m.is_empty());
    }

    #[test]
    fn reader_can_be_used_twice() {
        let m = message(b"A: 1\n\nbody\n", &HeaderEdits::default());
        assert_eq!(bytes(&m), bytes(&m));
        assert_eq!(m.header(), b"A: 1\r\n\r\n");
        assert_eq!(m.body().len(), 6);
    }

    #[test]
    fn no_blank_line_sends_header_only_like_msmtp() {
        let m = message(b"Subject: hi\nX-A: b", &edits());
        assert_eq!(
            String::from_utf8_lossy(&bytes(&m)),
            format!("{ADDED}Subject: hi\r\nX-A: b\r\n")
        );
    }

    #[test]
    fn empty_input_sends_only_the_added_fields_like_msmtp() {
        let m = message(b"", &edits());
        assert_eq!(String::from_utf8_lossy(&bytes(&m)), ADDED);
        assert!(message(b"", &HeaderEdits::default()).is_empty());
    }

    #[test]
    fn text_without_header_gets_the_added_fields_and_a_blank_line() {
        let m = message(b"backup finished\n", &edits());
        assert_eq!(
            String::from_utf8_lossy(&bytes(&m)),
            format!("{ADDED}\r\nbackup finished\r\n")
        );
    }

    #[test]
    fn eight_bit_from_header_or_body() {
        assert!(message("A: 1\n\ncaf\u{e9}\n".as_bytes(), &HeaderEdits::default()).eight_bit());
        let e = HeaderEdits {
            from: FromEdit::AddIfMissing("j\u{f6}rg@x.org".into()),
            ..HeaderEdits::default()
        };
        assert!(message(b"A: 1\n\nascii\n", &e).eight_bit());
    }
}
