//! The message body after DATA (RFC 5321 §4.1.1.4): streamed from the
//! caller's reader in 64 KiB chunks, every bare CR or LF made CRLF (§2.3.8),
//! dot-stuffed on the fly (a line starting with `.` gets another, §4.5.2), a
//! CRLF added if the message does not end with one, and the `.` CRLF
//! terminator.
//!
//! The terminator always travels in the same write as the last body bytes:
//! written on its own it would be a tiny segment, and with Nagle's algorithm
//! a 40 ms stall per message (msmtp 1.8.23 on loopback). We therefore hold
//! back the tail of each buffer until we know whether more input follows.
//!
//! A body already in wire form ([`WireMessage`]: rsmtp's spool knows it from
//! spooling) skips all of that: only the header block goes through the
//! stuffer, the body file is copied to the socket as it is — with sendfile(2)
//! on a plain socket, in 256 KiB writes through TLS (rustls cuts them into
//! 16 KiB records) — and TCP_CORK keeps the last body bytes, the dot and QUIT
//! in full segments.

use std::fs::File;
use std::io::{self, Read, Write};

use crate::conn::Conn;

/// Size of the read chunk and of the output buffer.
pub(crate) const CHUNK: usize = 64 * 1024;
/// How much of a wire-form body one sendfile call or one TLS write takes.
const COPY_CHUNK: usize = 256 * 1024;
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
/// `trailer` (QUIT, when it may be pipelined) goes in the same write as the final
/// dot, so the server gets both in one segment.
pub(crate) fn send_body(
    message: &mut dyn Read,
    out: &mut dyn Write,
    trailer: &[u8],
) -> Result<u64, BodyError> {
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
    pending.extend_from_slice(trailer);
    out.write_all(&pending).map_err(BodyError::Write)?;
    out.flush().map_err(BodyError::Write)?;
    Ok(total)
}

/// A message whose body is a file already in wire form, so that sending it is a
/// plain copy. The caller promises what the body file holds: lines that each end
/// in CRLF, no bare CR or LF, no line starting with `.` (then dot-stuffing and
/// the bare-line-end rule change nothing; rsmtp-message's `Spool::is_wire_form`
/// says so). The head (the header block) is any CRLF text and is stuffed on the
/// way like any body; if it does not end with a line end the whole message is
/// streamed through the stuffer instead.
#[derive(Debug, Clone, Copy)]
pub struct WireMessage<'a> {
    head: &'a [u8],
    body: &'a File,
    body_len: u64,
}

impl<'a> WireMessage<'a> {
    /// `head`, then the first `body_len` bytes of `body` (from its start).
    pub fn new(head: &'a [u8], body: &'a File, body_len: u64) -> WireMessage<'a> {
        WireMessage {
            head,
            body,
            body_len,
        }
    }
}

/// Sends `message` (see [`WireMessage`]), the terminator and `trailer` over
/// `conn`. Returns the number of message bytes sent (before stuffing).
pub(crate) fn send_wire(
    message: &WireMessage<'_>,
    conn: &mut Conn,
    trailer: &[u8],
) -> Result<u64, BodyError> {
    if message.head.last().is_some_and(|&b| b != b'\n') {
        // The body would not start a line: let the stuffer see it all.
        let mut all = message.head.chain(message.body.take(message.body_len));
        return send_body(&mut all, &mut conn.writer(), trailer);
    }
    let mut head = Vec::with_capacity(message.head.len() + message.head.len() / 32 + 8);
    let mut stuffer = DotStuffer::default();
    stuffer.stuff(message.head, &mut head);
    conn.cork(true);
    let sent = write_wire(conn, &head, message, trailer);
    conn.cork(false);
    sent?;
    Ok(message.head.len() as u64 + message.body_len)
}

fn write_wire(
    conn: &mut Conn,
    head: &[u8],
    message: &WireMessage<'_>,
    trailer: &[u8],
) -> Result<(), BodyError> {
    let mut end = Vec::with_capacity(3 + trailer.len());
    end.extend_from_slice(b".\r\n");
    end.extend_from_slice(trailer);
    if message.body_len == 0 {
        let mut w = conn.writer();
        let all = [head, &end].concat();
        return w
            .write_all(&all)
            .and_then(|()| w.flush())
            .map_err(BodyError::Write);
    }
    conn.writer().write_all(head).map_err(BodyError::Write)?;
    if conn.plain_socket().is_some() {
        sendfile_all(conn, message.body, message.body_len)?;
    } else {
        let mut buf = vec![0u8; COPY_CHUNK];
        let mut offset = 0u64;
        while offset < message.body_len {
            let want = (message.body_len - offset).min(COPY_CHUNK as u64) as usize;
            let n = read_at(message.body, &mut buf[..want], offset).map_err(BodyError::Read)?;
            conn.writer()
                .write_all(&buf[..n])
                .map_err(BodyError::Write)?;
            offset += n as u64;
        }
    }
    let mut w = conn.writer();
    w.write_all(&end)
        .and_then(|()| w.flush())
        .map_err(BodyError::Write)
}

/// Copies `len` bytes of `file` from its start to the plain socket, in the
/// kernel, each call within the write deadline.
fn sendfile_all(conn: &mut Conn, file: &File, len: u64) -> Result<(), BodyError> {
    let mut offset = 0u64;
    while offset < len {
        conn.arm_write().map_err(BodyError::Write)?;
        let Some(socket) = conn.plain_socket() else {
            return Err(BodyError::Write(io::Error::other("TLS is active")));
        };
        let want = (len - offset).min(COPY_CHUNK as u64) as usize;
        match rustix::fs::sendfile(socket, file, Some(&mut offset), want) {
            Ok(0) => return Err(BodyError::Read(shorter_than_spooled())),
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(BodyError::Write(e.into())),
        }
    }
    Ok(())
}

/// Reads up to `buf.len()` bytes at `offset` (pread, so the file's own offset
/// does not matter); fewer only at the end of the file, which is an error here.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    loop {
        match file.read_at(buf, offset) {
            Ok(0) => return Err(shorter_than_spooled()),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn shorter_than_spooled() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the spooled message is shorter than when it was written",
    )
}

/// Line-end and dot-stuffing state carried across chunk boundaries.
///
/// RFC 5321 §2.3.8: a client sends CR and LF only together, as the CRLF that
/// ends a line. A bare CR or bare LF in the message becomes CRLF here, on the
/// wire, before dot-stuffing, so the line that starts after it is stuffed
/// too: `x\r.\r` goes out as `x\r\n..\r\n`. Without this a server that
/// takes a bare CR (or LF) as a line end would read `\r.\r` as the end of
/// data and the rest of the body as commands (SMTP smuggling). The spool
/// keeps the caller's bytes; every path to a server (sendmail mode, the
/// queue, a future listener) goes through here, except a body the spool
/// found already in wire form (no bare CR or LF, no leading dot: this would
/// change nothing), which [`send_wire`] copies after stuffing its header.
#[derive(Debug)]
pub(crate) struct DotStuffer {
    /// The next byte starts a line (also true before the first byte).
    at_line_start: bool,
    /// The last byte was a CR, already written; its LF is still owed. A CR
    /// at the end of one chunk and an LF at the start of the next stay one
    /// CRLF.
    after_cr: bool,
}

impl Default for DotStuffer {
    fn default() -> Self {
        DotStuffer {
            at_line_start: true,
            after_cr: false,
        }
    }
}

impl DotStuffer {
    /// Appends `chunk` to `out` with every line end made CRLF and every `.`
    /// that starts a line doubled (§4.5.2).
    pub(crate) fn stuff(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut rest = chunk;
        while let Some(&first) = rest.first() {
            if self.after_cr {
                self.after_cr = false;
                out.push(b'\n');
                self.at_line_start = true;
                if first == b'\n' {
                    rest = &rest[1..];
                    continue;
                }
            }
            if self.at_line_start && first == b'.' {
                out.push(b'.');
            }
            self.at_line_start = false;
            // Copy the run up to the next line end in one piece.
            match memchr::memchr2(b'\r', b'\n', rest) {
                None => {
                    out.extend_from_slice(rest);
                    return;
                }
                Some(i) => {
                    out.extend_from_slice(&rest[..i]);
                    if rest[i] == b'\r' {
                        out.push(b'\r');
                        self.after_cr = true;
                    } else {
                        out.extend_from_slice(b"\r\n");
                        self.at_line_start = true;
                    }
                    rest = &rest[i + 1..];
                }
            }
        }
    }

    /// Completes a trailing CR, appends the missing CRLF if any, then the
    /// terminator.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        if self.after_cr {
            self.after_cr = false;
            out.push(b'\n');
            self.at_line_start = true;
        }
        if !self.at_line_start {
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

    /// (input, wire): a missing final CRLF is added; a bare CR or LF becomes
    /// CRLF and the line after it is stuffed — the first row is the
    /// smuggling payload (a server taking a bare CR as a line end would see
    /// `.` alone, then a command).
    const LINE_ENDS: [(&[u8], &[u8]); 10] = [
        (
            b"x\r.\rMAIL FROM:<evil@x.org>\r\n",
            b"x\r\n..\r\nMAIL FROM:<evil@x.org>\r\n.\r\n",
        ),
        (b"x\n.\nQUIT\n", b"x\r\n..\r\nQUIT\r\n.\r\n"),
        (b"a\r\rb", b"a\r\n\r\nb\r\n.\r\n"),
        (b"a\n\rb", b"a\r\n\r\nb\r\n.\r\n"),
        (b"\r.", b"\r\n..\r\n.\r\n"),
        (b".\r", b"..\r\n.\r\n"),
        (b"no newline", b"no newline\r\n.\r\n"),
        (b"cr only\r", b"cr only\r\n.\r\n"),
        (b"ok\r\n", b"ok\r\n.\r\n"),
        (b"", b".\r\n"),
    ];

    #[test]
    fn line_ends_become_crlf_and_the_next_line_is_stuffed() {
        for (input, wire) in LINE_ENDS {
            for chunk in [1, 3, 1000] {
                assert_eq!(stuff_in_chunks(input, chunk), wire, "{input:?} by {chunk}");
            }
        }
    }

    #[test]
    fn crlf_split_across_chunks_stays_one_crlf() {
        let mut s = DotStuffer::default();
        let mut out = Vec::new();
        for chunk in [&b"a\r"[..], b"\n.b\r", b"", b"\n", b".\r", b"\r\n"] {
            s.stuff(chunk, &mut out);
        }
        s.finish(&mut out);
        assert_eq!(out, b"a\r\n..b\r\n..\r\n\r\n.\r\n");
    }

    /// The specification, over the whole input at once: split into lines at
    /// CRLF, bare CR or bare LF; stuff; end each with CRLF.
    fn reference(input: &[u8]) -> Vec<u8> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut line = Vec::new();
        let mut i = 0;
        while i < input.len() {
            match input[i] {
                b'\r' => {
                    lines.push(std::mem::take(&mut line));
                    if input.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                }
                b'\n' => lines.push(std::mem::take(&mut line)),
                b => line.push(b),
            }
            i += 1;
        }
        if !line.is_empty() {
            lines.push(line);
        }
        let mut out = Vec::new();
        for l in lines {
            if l.first() == Some(&b'.') {
                out.push(b'.');
            }
            out.extend_from_slice(&l);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
        out
    }

    /// Seeded random inputs over the bytes that matter (`.`, CR, LF, one
    /// other), cut into random chunks: the streamed result always equals the
    /// reference, has no bare CR or LF, and no `.` line before the end.
    #[test]
    fn random_inputs_and_chunkings_match_the_reference() {
        let mut state: u64 = 0x5eed_1234_abcd_0001;
        let mut next = move |n: u64| {
            // xorshift64*: enough for a test, no dependency.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) % n
        };
        for _ in 0..3000 {
            let len = next(40) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| [b'.', b'\r', b'\n', b'x'][next(4) as usize])
                .collect();
            let mut s = DotStuffer::default();
            let mut out = Vec::new();
            let mut rest = &input[..];
            while !rest.is_empty() {
                let n = (next(6) as usize).min(rest.len());
                s.stuff(&rest[..n], &mut out);
                rest = &rest[n..];
            }
            s.finish(&mut out);
            assert_eq!(out, reference(&input), "input {input:?}");
            let body = &out[..out.len() - 3];
            for (i, &b) in body.iter().enumerate() {
                let cr_ok = b != b'\r' || body.get(i + 1) == Some(&b'\n');
                let lf_ok = b != b'\n' || (i > 0 && body[i - 1] == b'\r');
                assert!(cr_ok && lf_ok, "bare line end at {i} in {out:?}");
            }
            assert!(
                !body.split(|&b| b == b'\n').any(|l| l == b".\r"),
                "a lone dot line in {out:?}"
            );
        }
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
        let n = send_body(&mut Trickle(input.as_bytes(), 7000), &mut w, b"").unwrap();
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
    fn small_body_dot_and_quit_are_one_write() {
        let mut w = Writes::default();
        send_body(&mut &b"Subject: x\r\n\r\nhi"[..], &mut w, b"QUIT\r\n").unwrap();
        assert_eq!(w.0, vec![b"Subject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n".to_vec()]);
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
            send_body(&mut Broken, &mut w, b""),
            Err(BodyError::Read(_))
        ));
        assert!(w.0.is_empty(), "nothing sent, so no terminator either");
    }
}
