//! The message body after DATA (RFC 5321 §4.1.1.4): streamed from the
//! caller's reader in 64 KiB chunks, dot-stuffed on the fly (a line starting
//! with `.` gets another, §4.5.2), a CRLF added if the message does not end
//! with one, and the `.` CRLF terminator.
//!
//! The terminator always travels in the same write as the last body bytes:
//! written on its own it would be a tiny segment, and with Nagle's algorithm
//! a 40 ms stall per message (msmtp 1.8.23 on loopback). We therefore hold
//! back the tail of each buffer until we know whether more input follows.

use std::io::{self, Read, Write};

/// Size of the read chunk and of the output buffer.
pub(crate) const CHUNK: usize = 64 * 1024;
/// Bytes kept back from each flush so the final write carries body bytes too.
const TAIL: usize = 16;

/// Which side failed while streaming the body.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Reading the message failed (local problem).
    Read(io::Error),
    /// Writing to the server failed (network problem).
    Write(io::Error),
}

/// Streams `message` to `out`, dot-stuffed and terminated. Returns the number
/// of message bytes read (before stuffing).
pub(crate) fn send_body(message: &mut dyn Read, out: &mut dyn Write) -> Result<u64, BodyError> {
    let mut input = vec![0u8; CHUNK];
    let mut pending: Vec<u8> = Vec::with_capacity(CHUNK + CHUNK / 8);
    let mut stuffer = DotStuffer::default();
    let mut total = 0u64;
    loop {
        let n = match message.read(&mut input) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(BodyError::Read(e)),
        };
        total += n as u64;
        stuffer.stuff(&input[..n], &mut pending);
        if pending.len() >= CHUNK {
            let keep = pending.len() - TAIL;
            out.write_all(&pending[..keep]).map_err(BodyError::Write)?;
            pending.drain(..keep);
        }
    }
    stuffer.finish(&mut pending);
    out.write_all(&pending).map_err(BodyError::Write)?;
    out.flush().map_err(BodyError::Write)?;
    Ok(total)
}

/// Dot-stuffing state carried across chunk boundaries.
#[derive(Debug)]
pub(crate) struct DotStuffer {
    /// The next byte starts a line.
    at_line_start: bool,
    /// The last two bytes seen, to know whether the message ended with CRLF.
    last_two: [u8; 2],
    seen: bool,
}

impl Default for DotStuffer {
    fn default() -> Self {
        DotStuffer {
            at_line_start: true,
            last_two: [0, 0],
            seen: false,
        }
    }
}

impl DotStuffer {
    /// Appends `chunk` to `out`, doubling every `.` that starts a line.
    pub(crate) fn stuff(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut start = 0;
        for (i, &b) in chunk.iter().enumerate() {
            if self.at_line_start && b == b'.' {
                out.extend_from_slice(&chunk[start..i]);
                out.push(b'.');
                start = i;
            }
            self.at_line_start = b == b'\n';
        }
        out.extend_from_slice(&chunk[start..]);
        match chunk {
            [] => {}
            [b] => self.last_two = [self.last_two[1], *b],
            [.., a, b] => self.last_two = [*a, *b],
        }
        self.seen |= !chunk.is_empty();
    }

    /// Appends the missing CRLF, if any, and the terminator.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        if self.seen && self.last_two != *b"\r\n" {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stuff_in_chunks(input: &[u8], chunk: usize) -> Vec<u8> {
        let mut s = DotStuffer::default();
        let mut out = Vec::new();
        for c in input.chunks(chunk.max(1)) {
            s.stuff(c, &mut out);
        }
        s.finish(&mut out);
        out
    }

    #[test]
    fn stuffs_leading_dots() {
        let out = stuff_in_chunks(b".hidden\r\nline\r\n..two\r\n.\r\nend\r\n", 1000);
        assert_eq!(out, b"..hidden\r\nline\r\n...two\r\n..\r\nend\r\n.\r\n");
    }

    #[test]
    fn dots_inside_lines_untouched() {
        assert_eq!(
            stuff_in_chunks(b"a.b\r\n x.\r\n", 1000),
            b"a.b\r\n x.\r\n.\r\n"
        );
    }

    #[test]
    fn same_result_for_every_chunk_size() {
        let input = b".a\r\n.\r\n\r\n..\r\nx.y\r\n.z";
        let expected = stuff_in_chunks(input, input.len());
        assert_eq!(expected, b"..a\r\n..\r\n\r\n...\r\nx.y\r\n..z\r\n.\r\n");
        for chunk in 1..input.len() {
            assert_eq!(stuff_in_chunks(input, chunk), expected, "chunk {chunk}");
        }
    }

    #[test]
    fn adds_missing_crlf() {
        assert_eq!(stuff_in_chunks(b"no newline", 3), b"no newline\r\n.\r\n");
        assert_eq!(stuff_in_chunks(b"cr only\r", 3), b"cr only\r\r\n.\r\n");
        assert_eq!(stuff_in_chunks(b"ok\r\n", 1), b"ok\r\n.\r\n");
        assert_eq!(stuff_in_chunks(b"", 1), b".\r\n");
    }

    /// Records each write separately.
    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);
    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A reader returning at most `n` bytes per read, to cross buffer boundaries.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn large_body_streams_and_terminator_shares_last_write() {
        // Lines of 99 bytes + CRLF, every line starting with a dot, > 3 chunks.
        let line = format!(".{}\r\n", "x".repeat(98));
        let input = line.repeat(3 * CHUNK / line.len() + 7);
        let mut w = Writes::default();
        let n = send_body(&mut Trickle(input.as_bytes(), 7000), &mut w).unwrap();
        assert_eq!(n, input.len() as u64);
        assert!(w.0.len() >= 3, "streamed in several writes");
        assert!(w.0.iter().all(|c| c.len() <= 2 * CHUNK));
        let last = w.0.last().unwrap();
        assert!(
            last.len() > 5 && last.ends_with(b"\r\n.\r\n"),
            "terminator with body bytes"
        );
        let all: Vec<u8> = w.0.concat();
        let expected = stuff_in_chunks(input.as_bytes(), input.len());
        assert_eq!(all, expected);
    }

    #[test]
    fn small_body_is_one_write() {
        let mut w = Writes::default();
        send_body(&mut &b"Subject: x\r\n\r\nhi"[..], &mut w).unwrap();
        assert_eq!(w.0, vec![b"Subject: x\r\n\r\nhi\r\n.\r\n".to_vec()]);
    }

    #[test]
    fn read_error_is_reported_as_read() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk gone"))
            }
        }
        let mut w = Writes::default();
        assert!(matches!(
            send_body(&mut Broken, &mut w),
            Err(BodyError::Read(_))
        ));
        assert!(w.0.is_empty(), "nothing sent, so no terminator either");
    }
}
