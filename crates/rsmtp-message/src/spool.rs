//! Reading the message from its input: the header block into memory, the body into a
//! temporary spool file, line ends normalised to CRLF.
//!
//! The input is always read to its end before anything else happens (even when the
//! header is refused), so the caller never gets SIGPIPE and a relay that is down can
//! never leave a half-sent message. The body goes through a fixed-size buffer, so a
//! 100 MB message runs in constant memory.
//!
//! The header block ends at the first blank line, or at the end of the input (msmtp
//! then sends no blank line, and neither do we). Every line before it counts as
//! header, as in msmtp, except that a first line which is not a `name:` field makes
//! the whole input body (sendmail semantics; `echo text | sendmail user` works)
//! unless a field follows it before the blank line (`Backup finished: OK` then
//! `To: a@x`): msmtp reads that block as header, and so does rsmtp, byte for byte.
//! A header block of any size that ends in a blank line is header (bounded in
//! memory by [`HEADER_BLOCK_MAX`]); only input with no blank line is cut at
//! [`HEADER_LIMIT`] so that job output that starts like a field is still body.
//!
//! Line ends follow what msmtp 1.8.23 puts on the wire: in the header every CR is
//! dropped (msmtp ignores CR there) and each line ends in CRLF; in the body an LF
//! not preceded by CR becomes CRLF, a lone CR elsewhere is kept, and a last line
//! without a line end gets CRLF. Dot-stuffing is left to the SMTP layer; while
//! spooling we note whether it (and the bare-CR rule) would change anything
//! ([`Spool::is_wire_form`]), so a body that is already in wire form can be sent
//! as a plain copy of the file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::MessageError;
use crate::headers::starts_header;

/// The most header bytes an input without a blank line may have before its header
/// block is cut short (see `overflow_split`); past it such input is mostly body.
pub const HEADER_LIMIT: usize = 1024 * 1024;

/// The most header bytes held in memory while looking for the blank line that ends
/// a header block larger than [`HEADER_LIMIT`]. A block that ends within it is
/// parsed whole (Bcc removal and `-t` see every field, as with msmtp, which has no
/// cap); input that finds no blank line within it keeps the [`HEADER_LIMIT`] rule.
/// 64 MiB is 28 times the largest header seen in practice (100,000 recipients in
/// one `To:` is 2.3 MB) and bounds the memory a hostile input can take to a few
/// times this (the raw lines, their CRLF form, the rewritten copy).
pub const HEADER_BLOCK_MAX: usize = 64 * 1024 * 1024;

/// How much input is read at once.
const CHUNK: u64 = 256 * 1024;
/// The spool file's write buffer.
const WRITE_BUFFER: usize = 256 * 1024;

/// The body of a message in a temporary file, already normalised to CRLF.
///
/// The file has no name (`O_TMPFILE`, or unlinked the moment it is created): a
/// process killed mid-message (cron's mailer when the job is killed, an OOM kill)
/// leaves no `rsmtp-body-*` copy of the mail behind in `$TMPDIR` or the queue's
/// `tmp/`; the kernel frees it with the last descriptor.
#[derive(Debug)]
pub struct Spool {
    file: File,
    /// The directory the file was created in (for error messages).
    dir: PathBuf,
    len: u64,
    eight_bit: bool,
    /// LF bytes in the file (each ends a line, after its CR).
    line_ends: u64,
    /// A CR not followed by an LF is in the file (kept, as msmtp does).
    lone_cr: bool,
    /// A line starts with `.` (it is stuffed on the way out).
    dot_line: bool,
}

impl Spool {
    /// Creates an empty spool file in `dir`, or in `$TMPDIR` when `dir` is `None`.
    pub fn create(dir: Option<&Path>) -> Result<Spool, MessageError> {
        let dir = dir.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let file = tempfile::tempfile_in(&dir).map_err(|source| MessageError::Spool {
            dir: dir.clone(),
            source,
        })?;
        Ok(Spool {
            file,
            dir,
            len: 0,
            eight_bit: false,
            line_ends: 0,
            lone_cr: false,
            dot_line: false,
        })
    }

    /// Creates an empty spool file in the first of `dirs` that takes one. msmtp ignores
    /// `$TMPDIR`, so a caller whose `TMPDIR` is stale (a PHP-FPM pool, a container)
    /// must still send: callers list their preferred place first and `/tmp` last.
    pub fn create_in_first(dirs: &[PathBuf]) -> Result<Spool, MessageError> {
        let mut tried = Vec::new();
        for dir in dirs {
            if tried.iter().any(|(d, _): &(PathBuf, _)| d == dir) {
                continue;
            }
            match Spool::create(Some(dir)) {
                Ok(spool) => return Ok(spool),
                Err(MessageError::Spool { source, .. }) => tried.push((dir.clone(), source)),
                Err(other) => return Err(other),
            }
        }
        Err(MessageError::NoSpoolDir { tried })
    }

    /// Spools bytes that are already in memory (normalising line ends like
    /// [`read_message`] does for a body). Meant for composed messages and tests.
    pub fn from_bytes(body: &[u8], dir: Option<&Path>) -> Result<Spool, MessageError> {
        let mut spool = Spool::create(dir)?;
        let mut writer = BodyWriter::new(&mut spool)?;
        writer.write_piece(body)?;
        writer.finish()?;
        Ok(spool)
    }

    /// Body length in bytes, as it will be sent (before dot-stuffing).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether any body byte is 0x80 or above (8BITMIME decisions).
    pub fn eight_bit(&self) -> bool {
        self.eight_bit
    }

    /// The number of line ends (CRLF) in the body: its length with LF line ends, as
    /// msmtp logs `mailsize`, is `len() - line_ends()`.
    pub fn line_ends(&self) -> u64 {
        self.line_ends
    }

    /// Whether the file is already the body as it goes on the wire after DATA: every
    /// line ends in CRLF, there is no bare CR or LF, and no line starts with `.`
    /// (so dot-stuffing and the bare-CR rule of RFC 5321 §2.3.8 change nothing).
    /// Then the sender can copy the file to the socket as it is (sendfile); else
    /// it streams it through the SMTP layer's dot-stuffer. Known from spooling.
    pub fn is_wire_form(&self) -> bool {
        !self.lone_cr && !self.dot_line
    }

    /// The directory the spool file was created in (it has no name there).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Opens the spool file for reading from its start; each call is independent
    /// (its own offset), through the descriptor's `/proc/self/fd` link, which opens
    /// an unnamed file too.
    pub fn open(&self) -> Result<File, MessageError> {
        use std::os::fd::AsRawFd;
        File::open(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
            .map_err(|source| self.error(source))
    }

    fn error(&self, source: io::Error) -> MessageError {
        MessageError::Spool {
            dir: self.dir.clone(),
            source,
        }
    }
}

/// What [`read_message`] found in its input.
#[derive(Debug)]
pub struct Incoming {
    /// The header block, each line ending in CRLF, without the blank separator line.
    pub header: Vec<u8>,
    /// Whether a blank line separated header and body. It is also `true` when the
    /// first line was not a header field and the whole input became the body.
    pub has_separator: bool,
    /// The body, CRLF-normalised, in a temporary file.
    pub body: Spool,
    /// The number of bytes read from the input.
    pub input_len: u64,
}

impl Incoming {
    /// Length of the header block in bytes.
    pub fn header_len(&self) -> usize {
        self.header.len()
    }

    /// Whether the input was empty (msmtp then sends only the headers it adds).
    pub fn is_empty(&self) -> bool {
        self.input_len == 0
    }

    /// Whether any byte of header or body is 0x80 or above (8BITMIME / SMTPUTF8).
    pub fn eight_bit(&self) -> bool {
        !self.header.is_ascii() || self.body.eight_bit()
    }
}

/// Reads a whole message from `input`, to its end, before returning.
///
/// The header block (up to the first blank line) is kept in memory, whatever its
/// size up to [`HEADER_BLOCK_MAX`], so Bcc removal and `-t` see every field of a
/// multi-megabyte header as msmtp's do; the body is streamed to a temporary file in
/// `spool_dir` (or `$TMPDIR`). Input that does not start with a header field is all
/// body, as with sendmail, unless a field follows before the first blank line (then
/// the block is header, as msmtp reads it); input without a blank line is all
/// header, as with msmtp
/// — up to [`HEADER_LIMIT`]: past it (or when no blank line comes within
/// [`HEADER_BLOCK_MAX`]) the block ends early and the rest is body (see
/// `overflow_split`), so oversized input is still sent, never refused.
///
/// Errors: [`MessageError::Input`] (exit 74) when reading fails,
/// [`MessageError::Spool`] (74) when the spool file cannot be written,
/// [`MessageError::NulInHeader`] (65),
/// returned only after the input has been drained.
pub fn read_message(
    input: &mut dyn Read,
    spool_dir: Option<&Path>,
) -> Result<Incoming, MessageError> {
    match Spool::create(spool_dir) {
        Ok(body) => read_message_into(input, body),
        Err(e) => {
            drain(input)?;
            Err(e)
        }
    }
}

/// [`read_message`] into a spool file the caller created (see
/// [`Spool::create_in_first`]).
pub fn read_message_into(input: &mut dyn Read, mut body: Spool) -> Result<Incoming, MessageError> {
    let mut reader = BufReader::with_capacity(CHUNK as usize, input);
    let mut header = Vec::new();
    let mut has_separator = false;
    let mut input_len: u64 = 0;
    let mut first_body_line: Option<Vec<u8>> = None;
    // Lines taken back from an oversized "header" that was really text (see
    // `overflow_split`); they go to the body first.
    let mut spilled = Vec::new();
    let mut line = Vec::new();
    let mut line_no = 0;
    // Once the block outgrows HEADER_LIMIT, the lines that follow are kept raw here
    // until a blank line makes them header (cleaned then) or its absence makes
    // them body (unchanged, today's rule). `None` while under the limit.
    let mut beyond: Option<Beyond> = None;

    loop {
        let kept = header.len() + beyond.as_ref().map_or(0, |b| b.raw.len());
        // One byte more than the room left, so an oversized block is noticed.
        let room = HEADER_BLOCK_MAX.saturating_sub(kept) as u64 + 3;
        let target = match beyond.as_mut() {
            Some(b) => &mut b.raw,
            None => {
                line.clear();
                &mut line
            }
        };
        let start = target.len();
        let n = (&mut reader)
            .take(room)
            .read_until(b'\n', target)
            .map_err(MessageError::Input)?;
        input_len += n as u64;
        line_no += 1;
        if n == 0 {
            break;
        }
        let current = &target[start..];
        // A first line that starts with white space continues a field that is not
        // there; msmtp reads it as header, and so finds the To under `-t` after it.
        let continuation = matches!(current.first(), Some(b' ' | b'\t'));
        if line_no == 1
            && !starts_header(current)
            && !continuation
            && !crate::headers::is_blank(current)
        {
            // Not a field. The block up to the first blank line is header all the
            // same when a field follows in it, as msmtp reads it (`Backup finished:
            // OK` then `To: a@x`: -t finds To, the bytes go out as msmtp sends
            // them); without one the whole input is body (sendmail semantics).
            let mut block = std::mem::take(&mut line);
            let (end, read) = read_block(&mut reader, &mut block)?;
            input_len += read;
            let fields_follow = match end {
                BlockEnd::Blank(at) | BlockEnd::Input(at) => block[..at]
                    .split_inclusive(|&b| b == b'\n')
                    .skip(1)
                    .any(starts_header),
                BlockEnd::TooLong => false,
            };
            match end {
                BlockEnd::Blank(at) | BlockEnd::Input(at) if fields_follow => {
                    for (i, raw) in block[..at].split_inclusive(|&b| b == b'\n').enumerate() {
                        let content = header_line(raw);
                        if content.contains(&0) {
                            drain(&mut reader)?;
                            return Err(MessageError::NulInHeader { line: i + 1 });
                        }
                        header.extend_from_slice(&content);
                        header.extend_from_slice(b"\r\n");
                    }
                    has_separator =
                        block.last() == Some(&b'\n') && matches!(end, BlockEnd::Blank(_));
                }
                _ => {
                    first_body_line = Some(block);
                    has_separator = true;
                }
            }
            break;
        }
        let ends_line = current.last() == Some(&b'\n');
        if !ends_line && n as u64 == room {
            // No blank line within HEADER_BLOCK_MAX: the HEADER_LIMIT rule below.
            if beyond.is_none() {
                beyond = Some(Beyond {
                    first_line: line_no,
                    raw: std::mem::take(&mut line),
                });
            }
            break;
        }
        if crate::headers::is_blank(current) {
            // A blank line ends the header; a lone CR at the very end is nothing.
            has_separator = ends_line;
            if let Some(mut b) = beyond.take() {
                b.raw.truncate(start);
                if let Err(e) = b.clean_into(&mut header) {
                    drain(&mut reader)?;
                    return Err(e);
                }
            }
            break;
        }
        if beyond.is_some() {
            continue;
        }
        let content = header_line(&line);
        if content.contains(&0) {
            drain(&mut reader)?;
            return Err(MessageError::NulInHeader { line: line_no });
        }
        if header.len() + content.len() + 2 > HEADER_LIMIT {
            beyond = Some(Beyond {
                first_line: line_no,
                raw: std::mem::take(&mut line),
            });
            continue;
        }
        header.extend_from_slice(&content);
        header.extend_from_slice(b"\r\n");
    }
    if let Some(b) = beyond {
        // Over HEADER_LIMIT and no blank line: the block ends early and the rest
        // is body, byte for byte.
        spilled = header.split_off(overflow_split(&header));
        first_body_line = Some(b.raw);
    }

    let mut writer = BodyWriter::new(&mut body)?;
    if !spilled.is_empty() {
        writer.write_piece(&spilled)?;
    }
    if let Some(first) = first_body_line {
        writer.write_piece(&first)?;
    }
    // The rest goes through as it comes, a buffer at a time.
    loop {
        let piece = match reader.fill_buf() {
            Ok(piece) => piece,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(MessageError::Input(e)),
        };
        if piece.is_empty() {
            break;
        }
        let n = piece.len();
        input_len += n as u64;
        writer.write_piece(piece)?;
        reader.consume(n);
    }
    writer.finish()?;

    Ok(Incoming {
        header,
        has_separator,
        body,
        input_len,
    })
}

/// How [`read_block`] stopped.
enum BlockEnd {
    /// At a blank line, which starts at this offset (and is the block's last line).
    Blank(usize),
    /// At the end of the input; the block is this long.
    Input(usize),
    /// Past [`HEADER_LIMIT`] without a blank line.
    TooLong,
}

/// Appends whole lines to `block` until a blank line (kept), the end of the input or
/// more than [`HEADER_LIMIT`] bytes; returns how it stopped and the bytes read.
fn read_block(
    reader: &mut dyn BufRead,
    block: &mut Vec<u8>,
) -> Result<(BlockEnd, u64), MessageError> {
    let mut read = 0u64;
    loop {
        if block.len() > HEADER_LIMIT {
            return Ok((BlockEnd::TooLong, read));
        }
        let start = block.len();
        let room = (HEADER_LIMIT + 1 - start) as u64;
        let n = reader
            .take(room)
            .read_until(b'\n', block)
            .map_err(MessageError::Input)?;
        read += n as u64;
        if n == 0 {
            return Ok((BlockEnd::Input(block.len()), read));
        }
        if crate::headers::is_blank(&block[start..]) && block.len() <= HEADER_LIMIT {
            return Ok((BlockEnd::Blank(start), read));
        }
    }
}

/// The raw lines of a header block past [`HEADER_LIMIT`], until its end is known.
struct Beyond {
    /// The input line number of the first of them (for the NUL error).
    first_line: usize,
    raw: Vec<u8>,
}

impl Beyond {
    /// Appends the lines to `header` in its CRLF form, as if they had been read
    /// under the limit: a NUL is still refused with its line number.
    fn clean_into(self, header: &mut Vec<u8>) -> Result<(), MessageError> {
        header.reserve(self.raw.len() + self.raw.len() / 32);
        for (i, raw) in self.raw.split_inclusive(|&b| b == b'\n').enumerate() {
            let content = header_line(raw);
            if content.contains(&0) {
                return Err(MessageError::NulInHeader {
                    line: self.first_line + i,
                });
            }
            header.extend_from_slice(&content);
            header.extend_from_slice(b"\r\n");
        }
        Ok(())
    }
}

/// A header line without its CRs and LF (msmtp ignores CR in the header).
fn header_line(raw: &[u8]) -> Vec<u8> {
    raw.iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect()
}

/// Where to end a header block that outgrew [`HEADER_LIMIT`] without a blank line:
/// before its first line that is neither a header field nor a continuation, or — if
/// every line looks like a field — at its start, making the whole input body. This
/// is what `job 2>&1 | sendmail root` produces when the job's first output line
/// happens to look like a header (`WARNING: low disk`). msmtp sends such input, so
/// rsmtp does too rather than lose the mail: the bytes go out unchanged; only Bcc
/// removal and `-t` see fewer fields.
fn overflow_split(header: &[u8]) -> usize {
    let mut offset = 0;
    for l in header.split_inclusive(|&b| b == b'\n') {
        if !l.starts_with(b" ") && !l.starts_with(b"\t") && !crate::headers::starts_header(l) {
            return offset;
        }
        offset += l.len();
    }
    0
}

/// Reads and discards the rest of the input, so the writer finishes normally.
fn drain(reader: &mut dyn Read) -> Result<(), MessageError> {
    io::copy(reader, &mut io::sink())
        .map(drop)
        .map_err(MessageError::Input)
}

/// Writes body bytes with CRLF line ends, in pieces of any size, and notes while
/// writing what sending needs to know (the length, the 8-bit flag, the line ends,
/// and whether the spool is already in wire form). Line ends are found with memchr,
/// so a body of short lines costs a few SIMD scans per line, not a branch per byte.
struct BodyWriter<'a> {
    out: BufWriter<File>,
    spool: &'a mut Spool,
    /// The last byte written was an LF (or nothing was written): a line starts.
    at_line_start: bool,
    /// The last byte written was a CR, whose LF may come in the next piece.
    after_cr: bool,
}

impl<'a> BodyWriter<'a> {
    fn new(spool: &'a mut Spool) -> Result<Self, MessageError> {
        let file = spool.file.try_clone().map_err(|e| spool.error(e))?;
        Ok(BodyWriter {
            out: BufWriter::with_capacity(WRITE_BUFFER, file),
            spool,
            at_line_start: true,
            after_cr: false,
        })
    }

    /// Writes `piece`: every LF not preceded by a CR gets one (also across pieces).
    fn write_piece(&mut self, piece: &[u8]) -> Result<(), MessageError> {
        let Some(&first) = piece.first() else {
            return Ok(());
        };
        if !piece.is_ascii() {
            self.spool.eight_bit = true;
        }
        if self.at_line_start && first == b'.' {
            self.spool.dot_line = true;
        }
        if self.after_cr && first != b'\n' {
            self.spool.lone_cr = true;
        }
        let mut start = 0;
        for i in memchr::memchr2_iter(b'\n', b'\r', piece) {
            let next = piece.get(i + 1).copied();
            if piece[i] == b'\r' {
                // A CR is lone unless an LF follows (here, or first in the next piece).
                if next.is_some_and(|b| b != b'\n') {
                    self.spool.lone_cr = true;
                }
                continue;
            }
            self.spool.line_ends += 1;
            if next == Some(b'.') {
                self.spool.dot_line = true;
            }
            let cr_before = if i > 0 {
                piece[i - 1] == b'\r'
            } else {
                self.after_cr
            };
            if !cr_before {
                self.put(&piece[start..i])?;
                self.put(b"\r\n")?;
                start = i + 1;
            }
        }
        self.put(&piece[start..])?;
        let last = piece[piece.len() - 1];
        self.at_line_start = last == b'\n';
        self.after_cr = last == b'\r';
        Ok(())
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), MessageError> {
        self.out.write_all(bytes).map_err(|e| self.spool.error(e))?;
        self.spool.len += bytes.len() as u64;
        Ok(())
    }

    /// Ends an unterminated last line with CRLF (msmtp does) and flushes. A CR at
    /// the very end stays, before that CRLF (msmtp sends `last\r\r\n`).
    fn finish(mut self) -> Result<(), MessageError> {
        if !self.at_line_start {
            if self.after_cr {
                self.spool.lone_cr = true;
            }
            self.put(b"\r\n")?;
            self.spool.line_ends += 1;
        }
        self.out.flush().map_err(|e| self.spool.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8]) -> Incoming {
        match read_message(&mut &input[..], None) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        }
    }

    fn body(i: &Incoming) -> Vec<u8> {
        let mut v = Vec::new();
        let read = i.body.open().map(|mut f| f.read_to_end(&mut v));
        assert!(matches!(read, Ok(Ok(_))), "{read:?}");
        v
    }

    /// Tests that hold megabytes take turns with the one that measures peak memory.
    fn big_input() -> std::sync::MutexGuard<'static, ()> {
        static BIG: std::sync::Mutex<()> = std::sync::Mutex::new(());
        BIG.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts the bytes handed out, to prove the input was drained.
    struct Counting<'a> {
        data: &'a [u8],
        given: usize,
    }

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.data.len().min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.given += n;
            Ok(n)
        }
    }

    #[test]
    fn header_and_body_split_at_the_blank_line() {
        let i = read(b"Subject: s\nTo: a@x.org\n\nline 1\nline 2\n");
        assert_eq!(i.header, b"Subject: s\r\nTo: a@x.org\r\n");
        assert!(i.has_separator);
        assert_eq!(body(&i), b"line 1\r\nline 2\r\n");
        assert_eq!(i.body.len(), 16);
        assert_eq!(i.header_len(), 25);
        assert!(!i.eight_bit() && !i.is_empty());
    }

    #[test]
    fn crlf_lf_and_mixed_line_ends_become_crlf() {
        let i = read(b"A: 1\r\nB: 2\n\r\nx\r\ny\nz\r\n\n\r\n");
        assert_eq!(i.header, b"A: 1\r\nB: 2\r\n");
        assert_eq!(body(&i), b"x\r\ny\r\nz\r\n\r\n\r\n");
    }

    #[test]
    fn lone_cr_is_dropped_in_the_header_and_kept_in_the_body_like_msmtp() {
        // Same input as the msmtp check: msmtp sent `Subject: ab`, `X: y`, then
        // `l1\rx`, `l2\r\r\n`, and `last\r\r\n` for the unterminated last line.
        let i = read(b"Subject: a\rb\r\nX: y\r\r\n\r\nl1\rx\r\nl2\r\r\nl3\n.dot\nlast\r");
        assert_eq!(i.header, b"Subject: ab\r\nX: y\r\n");
        assert_eq!(body(&i), b"l1\rx\r\nl2\r\r\nl3\r\n.dot\r\nlast\r\r\n");
    }

    #[test]
    fn unterminated_last_line_gets_crlf() {
        assert_eq!(body(&read(b"A: 1\n\nno newline")), b"no newline\r\n");
        let i = read(b"A: 1\nB: 2");
        assert_eq!(i.header, b"A: 1\r\nB: 2\r\n");
    }

    #[test]
    fn no_blank_line_means_all_header_and_no_separator() {
        let i = read(b"Subject: hi\nX-A: b");
        assert_eq!(i.header, b"Subject: hi\r\nX-A: b\r\n");
        assert!(!i.has_separator);
        assert!(i.body.is_empty());
    }

    #[test]
    fn empty_input_is_reported() {
        let i = read(b"");
        assert!(i.is_empty() && i.header.is_empty() && !i.has_separator && i.body.is_empty());
    }

    #[test]
    fn first_line_not_a_header_makes_everything_body_unless_a_field_follows() {
        for input in [
            &b"hello world\nsecond line\n\nmore\n"[..],
            b"hello world\n",
            b"Backup finished: OK\n\nTo: a@x.org\n",
        ] {
            let i = read(input);
            assert!(i.header.is_empty(), "{input:?}");
            assert!(i.has_separator);
            assert_eq!(
                body(&i),
                String::from_utf8_lossy(input)
                    .replace('\n', "\r\n")
                    .as_bytes()
            );
        }
        // msmtp's reading: the block is header when a field follows in it.
        let i = read(b"Backup finished: OK\r\nTo: a@x.org\n\nmore\n");
        assert_eq!(i.header, b"Backup finished: OK\r\nTo: a@x.org\r\n");
        assert!(i.has_separator);
        assert_eq!(body(&i), b"more\r\n");
        let i = read(b"hello\nX: y");
        assert_eq!(i.header, b"hello\r\nX: y\r\n");
        assert!(!i.has_separator);
        assert!(body(&i).is_empty());
        assert!(matches!(
            read_message(&mut &b"hello\nX: a\0b\n\nbody\n"[..], None),
            Err(MessageError::NulInHeader { line: 2 })
        ));
        // An 8-bit field name is a field (msmtp reads it as one).
        let i = read("Sujet-été: x\nTo: a@x.org\n\nbody\n".as_bytes());
        assert_eq!(i.header, "Sujet-été: x\r\nTo: a@x.org\r\n".as_bytes());
    }

    #[test]
    fn blank_first_line_means_empty_header() {
        let i = read(b"\nbody\n");
        assert!(i.header.is_empty() && i.has_separator);
        assert_eq!(body(&i), b"body\r\n");
    }

    #[test]
    fn nul_in_header_is_a_data_error_after_draining_the_input() {
        let mut input = b"Subject: ok\nX: a\0b\n\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 300_000));
        let mut reader = Counting {
            data: &input,
            given: 0,
        };
        match read_message(&mut reader, None) {
            Err(e @ MessageError::NulInHeader { line: 2 }) => assert_eq!(e.exit_code(), 65),
            other => panic!("{other:?}"),
        }
        assert_eq!(reader.given, input.len());
    }

    #[test]
    fn nul_and_8bit_in_body_pass_unchanged() {
        let raw: Vec<u8> = (0u8..=255).filter(|&b| b != b'\n' && b != b'\r').collect();
        let mut input = b"A: 1\n\n".to_vec();
        input.extend_from_slice(&raw);
        input.extend_from_slice(b"\r\n");
        let i = read(&input);
        assert!(i.body.eight_bit() && i.eight_bit());
        assert_eq!(body(&i), [&raw[..], b"\r\n"].concat());
    }

    #[test]
    fn eight_bit_header_is_reported() {
        let i = read("Subject: Sauvegarde réussie\n\nok\n".as_bytes());
        assert!(i.eight_bit() && !i.body.eight_bit());
    }

    #[test]
    fn long_lines_and_leading_dots_are_not_touched() {
        let long = "y".repeat(10_000);
        let input = format!("X-Long: {long}\n\n.\n..x\n{long}\n.");
        let i = read(input.as_bytes());
        assert_eq!(i.header, format!("X-Long: {long}\r\n").as_bytes());
        assert_eq!(body(&i), format!(".\r\n..x\r\n{long}\r\n.\r\n").as_bytes());
    }

    /// A reader that hands out one byte per read, so the spool sees every split.
    struct ByteByByte<'a>(&'a [u8]);
    impl Read for ByteByByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some((&b, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            buf[0] = b;
            self.0 = rest;
            Ok(1)
        }
    }

    #[test]
    fn crlf_split_across_read_pieces_stays_one_line_end() {
        // The CR is the last byte of one read, the LF the first of the next.
        let first = [&b"A: 1\n\n"[..], &[b'z'; 1000], b"\r"].concat();
        let got = body(&read_message(&mut (&first[..]).chain(&b"\nend\n"[..]), None).unwrap());
        assert_eq!(got.len(), 1000 + 2 + 5);
        assert!(got.ends_with(b"zz\r\nend\r\n"));
    }

    /// (body input, spooled bytes, already in wire form): the spool knows while
    /// writing whether sending may copy it as it is, whatever the read sizes.
    const WIRE_FORM: [(&[u8], &[u8], bool); 12] = [
        (b"a\nb\n", b"a\r\nb\r\n", true),
        (b"a\r\nb", b"a\r\nb\r\n", true),
        (b"", b"", true),
        (b"a..b\n\n x.\n", b"a..b\r\n\r\n x.\r\n", true),
        (b".x\n", b".x\r\n", false),
        (b"a\n.", b"a\r\n.\r\n", false),
        (b"a\r\n.\r\n", b"a\r\n.\r\n", false),
        (b"a\rb\n", b"a\rb\r\n", false),
        (b"last\r", b"last\r\r\n", false),
        (
            b"x\r.\rMAIL FROM:<e@x>\r\n",
            b"x\r.\rMAIL FROM:<e@x>\r\n",
            false,
        ),
        (b"l2\r\r\n", b"l2\r\r\n", false),
        (b"\n\n", b"\r\n\r\n", true),
    ];

    #[test]
    fn wire_form_line_ends_and_length_are_known_from_spooling() {
        for (input, spooled, wire) in WIRE_FORM {
            let with_header = [&b"S: x\n\n"[..], input].concat();
            for i in [
                read(&with_header),
                read_message(&mut ByteByByte(&with_header), None).unwrap(),
            ] {
                let got = body(&i);
                assert_eq!(got, spooled, "{input:?}");
                assert_eq!(i.body.len(), spooled.len() as u64);
                assert_eq!(i.body.is_wire_form(), wire, "{input:?}");
                let lfs = spooled.iter().filter(|&&b| b == b'\n').count() as u64;
                assert_eq!(i.body.line_ends(), lfs, "{input:?}");
            }
        }
    }

    #[test]
    fn oversized_header_block_without_blank_line_is_sent_as_body_never_refused() {
        let _big = big_input();
        // Over the limit with every line a field and no blank line: the whole input
        // becomes body, byte for byte (CRLF), and the input is read to its end.
        let mut input = Vec::new();
        while input.len() <= HEADER_LIMIT {
            input.extend_from_slice(b"X-Filler: 0123456789012345678901234567890123456789\n");
        }
        input.extend_from_slice(b"X-Last: a\rb\n");
        let mut reader = Counting {
            data: &input,
            given: 0,
        };
        let i = match read_message(&mut reader, None) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(reader.given, input.len());
        assert!(i.header.is_empty() && !i.has_separator);
        assert_eq!(
            i.body.len(),
            input.len() as u64 + input.iter().filter(|&&b| b == b'\n').count() as u64
        );
        assert!(body(&i).ends_with(b"X-Last: a\rb\r\n"));
        // One single field line longer than the limit.
        let mut input = b"X: ".to_vec();
        input.extend(std::iter::repeat_n(b'a', HEADER_LIMIT + 10));
        let i = read(&input);
        assert!(i.header.is_empty());
        assert_eq!(i.body.len(), input.len() as u64 + 2);
    }

    #[test]
    fn header_block_over_the_limit_that_ends_in_a_blank_line_is_header() {
        let _big = big_input();
        // 1.3 MB of fields, a Bcc at the end, then the blank line and the body:
        // all of it is header (msmtp has no cap either).
        let mut input = b"To: a@x.org\n".to_vec();
        while input.len() <= HEADER_LIMIT + 300_000 {
            input.extend_from_slice(b"X-Filler: 0123456789012345678901234567890123456789\r\n");
        }
        input.extend_from_slice(b"Bcc: hidden@x.org\r\n\r\nbody\n");
        let i = read(&input);
        assert!(i.has_separator);
        assert!(i.header.len() > HEADER_LIMIT + 300_000);
        assert!(i.header.ends_with(b"\r\nBcc: hidden@x.org\r\n"));
        assert_eq!(body(&i), b"body\r\n");
        // One line over the limit, then the blank line.
        let mut input = b"X-Long: ".to_vec();
        input.extend(std::iter::repeat_n(b'a', HEADER_LIMIT + 10));
        input.extend_from_slice(b"\nTo: b@x.org\n\nbody\n");
        let i = read(&input);
        assert!(i.has_separator && i.header.ends_with(b"a\r\nTo: b@x.org\r\n"));
        assert_eq!(i.header.len(), input.len() - 4);
        assert_eq!(body(&i), b"body\r\n");
    }

    #[test]
    fn nul_past_the_limit_in_a_header_block_is_refused_with_its_line() {
        let _big = big_input();
        let mut input = Vec::new();
        let mut lines = 0;
        while input.len() <= HEADER_LIMIT {
            input.extend_from_slice(b"X-Filler: 0123456789012345678901234567890123456789\n");
            lines += 1;
        }
        input.extend_from_slice(b"X-Nul: a\0b\n\nbody\n");
        match read_message(&mut &input[..], None) {
            Err(MessageError::NulInHeader { line }) => assert_eq!(line, lines + 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn oversized_job_output_that_starts_like_a_header_becomes_body() {
        let _big = big_input();
        // `job 2>&1 | sendmail root`: first line looks like a field, no blank line,
        // more than the header limit of plain output.
        let mut input = b"WARNING: low disk space on /backup\n".to_vec();
        while input.len() <= HEADER_LIMIT + 1000 {
            input.extend_from_slice(b"sent 123 bytes  received 456 bytes\n");
        }
        let i = read(&input);
        assert_eq!(i.header, b"WARNING: low disk space on /backup\r\n");
        assert!(!i.has_separator);
        let expected_body = input[b"WARNING: low disk space on /backup\n".len()..]
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| [l, b"\r\n"].concat())
            .collect::<Vec<_>>()
            .concat();
        assert_eq!(body(&i), expected_body);
        assert_eq!(i.input_len, input.len() as u64);
    }

    #[test]
    fn input_errors_map_to_exit_74() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("boom"))
            }
        }
        match read_message(&mut Broken, None) {
            Err(e @ MessageError::Input(_)) => assert_eq!(e.exit_code(), 74),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn spool_lives_in_the_given_dir_and_is_deleted_on_drop() {
        let dir = tempfile::tempdir().expect("a temporary directory for the test");
        let i = match read_message(&mut &b"A: 1\n\nbody\n"[..], Some(dir.path())) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        // Created in the given directory, with no name left there.
        assert_eq!(i.body.dir(), dir.path());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut text = String::new();
        i.body.open().unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "body\r\n");
        drop(i);
        match read_message(&mut &b"A: 1\n"[..], Some(&dir.path().join("missing"))) {
            Err(e @ MessageError::Spool { .. }) => assert_eq!(e.exit_code(), 74),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn from_bytes_normalises_like_read_message() {
        match Spool::from_bytes(b"a\nb\r\nc", None) {
            Ok(s) => {
                let mut v = Vec::new();
                assert!(s
                    .open()
                    .and_then(|mut f| f.read_to_end(&mut v).map_err(MessageError::Input))
                    .is_ok());
                assert_eq!(v, b"a\r\nb\r\nc\r\n");
                assert_eq!(s.len(), 9);
            }
            Err(e) => panic!("{e}"),
        }
    }

    /// Produces `lines` LF-terminated copies of [`LINE`] without holding them.
    struct Generator {
        lines: u64,
        pos: u64,
    }

    const LINE: &[u8] = b"0123456789 .!8bit\xc3\xa9 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 the end..\n";

    impl Read for Generator {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let total = self.lines * LINE.len() as u64;
            let mut n = 0;
            while n < buf.len() && self.pos < total {
                let off = (self.pos % LINE.len() as u64) as usize;
                let take = (LINE.len() - off).min(buf.len() - n);
                buf[n..n + take].copy_from_slice(&LINE[off..off + take]);
                n += take;
                self.pos += take as u64;
            }
            Ok(n)
        }
    }

    /// Peak resident memory of this process in KiB (Linux only).
    fn peak_rss_kib() -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    #[test]
    fn hundred_megabyte_body_streams_in_constant_memory() {
        let _big = big_input();
        let lines = 100_000_000 / LINE.len() as u64 + 1; // just over 100 MB of body
        let header: &[u8] = b"Subject: big\nTo: a@x.org\n\n";
        let mut input = header.chain(Generator { lines, pos: 0 });
        let before = peak_rss_kib();
        let i = match read_message(&mut input, None) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        // Every LF became CRLF.
        let want = lines * (LINE.len() as u64 + 1);
        assert!(want > 100_000_000);
        assert_eq!(i.body.len(), want);
        assert_eq!(
            i.body
                .open()
                .and_then(|f| f.metadata().map_err(|e| i.body.error(e)))
                .map(|m| m.len())
                .ok(),
            Some(want)
        );
        assert!(i.body.eight_bit());
        if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
            // Other tests run alongside; 100 MB held in memory would show anyway.
            assert!(
                after.saturating_sub(before) < 40 * 1024,
                "peak RSS grew by {} KiB",
                after - before
            );
        }
    }
}
