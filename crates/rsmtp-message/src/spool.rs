//! Reading the message from its input: the header block into memory, the body into a
//! temporary spool file, line ends normalised to CRLF.
//!
//! The input is always read to its end before anything else happens (even when the
//! header is refused), so the caller never gets SIGPIPE and a relay that is down can
//! never leave a half-sent message. The body goes through a fixed-size buffer, so a
//! 100 MB message runs in constant memory.
//!
//! Line ends follow what msmtp 1.8.23 puts on the wire: in the header every CR is
//! dropped (msmtp ignores CR there) and each line ends in CRLF; in the body an LF
//! not preceded by CR becomes CRLF, a lone CR elsewhere is kept, and a last line
//! without a line end gets CRLF. Dot-stuffing is left to the SMTP layer.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::MessageError;
use crate::headers::starts_header;

/// The most header bytes kept in memory before the first blank line.
pub const HEADER_LIMIT: usize = 1024 * 1024;

/// How much of a body line is handled at once; longer lines go through in pieces.
const CHUNK: u64 = 64 * 1024;

/// The body of a message in a temporary file, already normalised to CRLF.
/// The file is deleted when the `Spool` is dropped.
#[derive(Debug)]
pub struct Spool {
    file: tempfile::NamedTempFile,
    len: u64,
    eight_bit: bool,
}

impl Spool {
    /// Creates an empty spool file in `dir`, or in `$TMPDIR` when `dir` is `None`.
    pub fn create(dir: Option<&Path>) -> Result<Spool, MessageError> {
        let builder = {
            let mut b = tempfile::Builder::new();
            b.prefix("rsmtp-body-");
            b
        };
        let file = match dir {
            Some(dir) => builder.tempfile_in(dir),
            None => builder.tempfile(),
        }
        .map_err(|source| MessageError::Spool {
            dir: dir.map_or_else(std::env::temp_dir, Path::to_path_buf),
            source,
        })?;
        Ok(Spool {
            file,
            len: 0,
            eight_bit: false,
        })
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

    /// Where the spool file is.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Opens the spool file for reading from its start; each call is independent.
    pub fn open(&self) -> Result<File, MessageError> {
        self.file.reopen().map_err(|source| self.error(source))
    }

    /// Moves the spool file to `dest` (same file system), for the queue to keep.
    /// The file is then no longer deleted automatically.
    pub fn persist(self, dest: &Path) -> Result<(), MessageError> {
        let dir = dest.parent().map_or_else(PathBuf::new, Path::to_path_buf);
        self.file
            .persist(dest)
            .map(drop)
            .map_err(|e| MessageError::Spool { dir, source: e.error })
    }

    fn error(&self, source: io::Error) -> MessageError {
        MessageError::Spool {
            dir: self
                .file
                .path()
                .parent()
                .map_or_else(PathBuf::new, Path::to_path_buf),
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
/// The header block (up to the first blank line) is kept in memory, capped at
/// [`HEADER_LIMIT`]; the body is streamed to a temporary file in `spool_dir` (or
/// `$TMPDIR`). Input that does not start with a header field is all body, as with
/// sendmail; input without a blank line is all header, as with msmtp.
///
/// Errors: [`MessageError::Input`] (exit 74) when reading fails,
/// [`MessageError::Spool`] (74) when the spool file cannot be written,
/// [`MessageError::HeaderTooLarge`] and [`MessageError::NulInHeader`] (65), both
/// returned only after the input has been drained.
pub fn read_message(
    input: &mut dyn Read,
    spool_dir: Option<&Path>,
) -> Result<Incoming, MessageError> {
    let mut reader = BufReader::with_capacity(CHUNK as usize, input);
    let mut body = Spool::create(spool_dir)?;
    let mut header = Vec::new();
    let mut has_separator = false;
    let mut input_len: u64 = 0;
    let mut first_body_line: Option<Vec<u8>> = None;
    let mut line = Vec::new();
    let mut line_no = 0;

    loop {
        line.clear();
        // One byte more than the room left, so an oversized block is noticed.
        let room = (HEADER_LIMIT - header.len()) as u64 + 3;
        let n = (&mut reader)
            .take(room)
            .read_until(b'\n', &mut line)
            .map_err(MessageError::Input)?;
        input_len += n as u64;
        line_no += 1;
        if n == 0 {
            break;
        }
        if line_no == 1 && !starts_header(&line) && !crate::headers::is_blank(&line) {
            first_body_line = Some(std::mem::take(&mut line));
            has_separator = true;
            break;
        }
        let ends_line = line.last() == Some(&b'\n');
        if !ends_line && n as u64 == room {
            drain(&mut reader)?;
            return Err(MessageError::HeaderTooLarge {
                limit: HEADER_LIMIT,
            });
        }
        let content: Vec<u8> = line
            .iter()
            .copied()
            .filter(|&b| b != b'\r' && b != b'\n')
            .collect();
        if content.is_empty() {
            // A blank line ends the header; a lone CR at the very end is nothing.
            has_separator = ends_line;
            break;
        }
        if content.contains(&0) {
            drain(&mut reader)?;
            return Err(MessageError::NulInHeader { line: line_no });
        }
        if header.len() + content.len() + 2 > HEADER_LIMIT {
            drain(&mut reader)?;
            return Err(MessageError::HeaderTooLarge {
                limit: HEADER_LIMIT,
            });
        }
        header.extend_from_slice(&content);
        header.extend_from_slice(b"\r\n");
    }

    let mut writer = BodyWriter::new(&mut body)?;
    if let Some(first) = first_body_line {
        writer.write_piece(&first)?;
    }
    loop {
        line.clear();
        let n = (&mut reader)
            .take(CHUNK)
            .read_until(b'\n', &mut line)
            .map_err(MessageError::Input)?;
        if n == 0 {
            break;
        }
        input_len += n as u64;
        writer.write_piece(&line)?;
    }
    writer.finish()?;

    Ok(Incoming {
        header,
        has_separator,
        body,
        input_len,
    })
}

/// Reads and discards the rest of the input, so the writer finishes normally.
fn drain(reader: &mut dyn Read) -> Result<(), MessageError> {
    io::copy(reader, &mut io::sink())
        .map(drop)
        .map_err(MessageError::Input)
}

/// Writes body pieces (whole lines, or parts of a long line) with CRLF line ends.
struct BodyWriter<'a> {
    out: BufWriter<File>,
    spool: &'a mut Spool,
    /// Inside a line whose earlier part was already written.
    mid_line: bool,
    /// The written part of the current line ended with CR.
    ended_cr: bool,
}

impl<'a> BodyWriter<'a> {
    fn new(spool: &'a mut Spool) -> Result<Self, MessageError> {
        let file = spool.file.as_file().try_clone().map_err(|e| spool.error(e))?;
        Ok(BodyWriter {
            out: BufWriter::with_capacity(CHUNK as usize, file),
            spool,
            mid_line: false,
            ended_cr: false,
        })
    }

    /// Writes `piece`, which holds at most one LF, as its last byte (or any bytes
    /// for [`Spool::from_bytes`], which are split here).
    fn write_piece(&mut self, piece: &[u8]) -> Result<(), MessageError> {
        for part in piece.split_inclusive(|&b| b == b'\n') {
            self.write_part(part)?;
        }
        Ok(())
    }

    fn write_part(&mut self, part: &[u8]) -> Result<(), MessageError> {
        if !part.is_ascii() {
            self.spool.eight_bit = true;
        }
        if let Some(content) = part.strip_suffix(b"\n") {
            let has_cr = match content.last() {
                Some(&b) => b == b'\r',
                None => self.mid_line && self.ended_cr,
            };
            self.put(content)?;
            self.put(if has_cr { b"\n" } else { b"\r\n" })?;
            self.mid_line = false;
            self.ended_cr = false;
        } else if !part.is_empty() {
            self.put(part)?;
            self.mid_line = true;
            self.ended_cr = part.last() == Some(&b'\r');
        }
        Ok(())
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), MessageError> {
        self.out.write_all(bytes).map_err(|e| self.spool.error(e))?;
        self.spool.len += bytes.len() as u64;
        Ok(())
    }

    /// Ends an unterminated last line with CRLF (msmtp does) and flushes.
    fn finish(mut self) -> Result<(), MessageError> {
        if self.mid_line {
            self.put(b"\r\n")?;
        }
        self.out.flush().map_err(|e| self.spool.error(e))
    }
}
