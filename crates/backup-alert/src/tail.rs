//! The last lines of a log file or of a command's output, with a hard bound on memory.
//!
//! A backup log can be gigabytes and a chatty command can print forever, yet the alert
//! only shows the end. Files are read from a seek near their end (never the whole file);
//! streams go through [`TailBuffer`], which keeps at most twice the byte limit while
//! reading. Both cut to whole lines and say when something was left out.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// How much of the end to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TailLimits {
    pub(crate) lines: usize,
    pub(crate) bytes: usize,
}

impl TailLimits {
    /// 100 lines or 64 KiB, whichever is smaller: what the run command keeps per stream.
    pub(crate) const OUTPUT: TailLimits = TailLimits {
        lines: 100,
        bytes: 64 * 1024,
    };

    pub(crate) fn lines(lines: usize) -> Self {
        TailLimits {
            lines,
            bytes: 64 * 1024,
        }
    }
}

/// The kept end of a file or stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tail {
    /// The kept lines (invalid UTF-8 replaced), without a trailing newline.
    pub(crate) text: String,
    /// Number of lines in `text`.
    pub(crate) lines: usize,
    /// Something before `text` was left out.
    pub(crate) truncated: bool,
    /// Total size of the file or stream.
    pub(crate) total_bytes: u64,
}

impl Tail {
    pub(crate) fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// The last `limits.lines` lines of a file, reading at most `limits.bytes` from its end.
pub(crate) fn tail_file(path: &Path, limits: TailLimits) -> io::Result<Tail> {
    tail_file_since(path, 0, limits)
}

/// The same, of what was written at or after byte `since` (a job's own log: this run's
/// lines). A file now shorter than `since` was rotated or truncated: all of it is new.
pub(crate) fn tail_file_since(path: &Path, since: u64, limits: TailLimits) -> io::Result<Tail> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let since = if since > len { 0 } else { since };
    let start = len.saturating_sub(limits.bytes as u64).max(since);
    file.seek(SeekFrom::Start(start))?;
    let mut window = Vec::with_capacity((len - start) as usize);
    file.take(limits.bytes as u64).read_to_end(&mut window)?;
    let mut tail = last_lines(&window, start > since, limits);
    tail.total_bytes = len;
    Ok(tail)
}

/// Collects a stream chunk by chunk and keeps only its end.
#[derive(Debug)]
pub(crate) struct TailBuffer {
    limits: TailLimits,
    buf: Vec<u8>,
    dropped: bool,
    total: u64,
}

impl TailBuffer {
    pub(crate) fn new(limits: TailLimits) -> Self {
        TailBuffer {
            limits,
            buf: Vec::new(),
            dropped: false,
            total: 0,
        }
    }

    /// Append a chunk; memory stays below twice the byte limit plus one chunk.
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        self.total += chunk.len() as u64;
        self.buf.extend_from_slice(chunk);
        if self.buf.len() > 2 * self.limits.bytes {
            let cut = self.buf.len() - self.limits.bytes;
            self.buf.drain(..cut);
            self.dropped = true;
        }
    }

    /// The kept end as it stands now.
    pub(crate) fn tail(&self) -> Tail {
        let start = self.buf.len().saturating_sub(self.limits.bytes);
        let mut tail = last_lines(&self.buf[start..], self.dropped || start > 0, self.limits);
        tail.total_bytes = self.total;
        tail
    }
}

/// Cut `window` (the end of something bigger when `mid_line_start`) to its last whole lines.
fn last_lines(window: &[u8], mid_line_start: bool, limits: TailLimits) -> Tail {
    let mut truncated = mid_line_start;
    let mut body = window;
    if mid_line_start {
        // The first line was probably cut by the seek; drop it unless it is all we have.
        if let Some(nl) = body.iter().position(|&b| b == b'\n') {
            if nl + 1 < body.len() {
                body = &body[nl + 1..];
            }
        }
    }
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    if body.is_empty() {
        return Tail {
            truncated,
            ..Tail::default()
        };
    }
    let mut start = 0;
    let mut seen = 0;
    for (i, &b) in body.iter().enumerate().rev() {
        if b == b'\n' {
            seen += 1;
            if seen == limits.lines {
                start = i + 1;
                truncated = true;
                break;
            }
        }
    }
    if limits.lines == 0 {
        return Tail {
            truncated: true,
            ..Tail::default()
        };
    }
    let kept = &body[start..];
    let text = String::from_utf8_lossy(kept)
        .split('\n')
        .map(plain_line)
        .collect::<Vec<_>>()
        .join("\n");
    let lines = text.lines().count();
    Tail {
        text,
        lines,
        truncated,
        total_bytes: 0,
    }
}

/// One line of a terminal program's output as a reader of the mail sees it: colour and
/// cursor escapes (`ESC [ … m`) removed, a progress line rewritten with `\r` reduced to
/// what the terminal last showed, other control characters (tabs aside) dropped.
pub(crate) fn plain_line(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line);
    // What a terminal shows after the last carriage return (a progress counter's end).
    let line = line.rsplit('\r').next().unwrap_or(line);
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                // CSI: parameters and intermediates up to a final byte @ to ~.
                Some('[') => {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC (window titles, links): up to BEL or ESC \.
                Some(']') => {
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                // A two-byte escape (ESC 7, ESC =, …).
                _ => {
                    chars.next();
                }
            },
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn escapes_and_carriage_returns_are_cleaned() {
        assert_eq!(
            plain_line("\u{1b}[1;31mError:\u{1b}[0m disk full"),
            "Error: disk full"
        );
        assert_eq!(plain_line(" 10%\r 50%\r100% done"), "100% done");
        assert_eq!(plain_line("ok\r"), "ok");
        assert_eq!(plain_line("\u{1b}]0;title\u{7}bell\u{7}\tx"), "bell\tx");
    }

    fn numbered(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn keeps_the_last_lines_of_a_file() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(numbered(500).as_bytes()).unwrap();
        let t = tail_file(f.path(), TailLimits::lines(3)).unwrap();
        assert_eq!(t.text, "line 498\nline 499\nline 500");
        assert_eq!(t.lines, 3);
        assert!(t.truncated);
        assert_eq!(t.total_bytes, numbered(500).len() as u64);
    }

    #[test]
    fn short_file_is_whole_and_not_truncated() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"only\nlines\n").unwrap();
        let t = tail_file(f.path(), TailLimits::lines(50)).unwrap();
        assert_eq!(t.text, "only\nlines");
        assert!(!t.truncated);
    }

    #[test]
    fn reads_only_a_bounded_window_from_the_end() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(numbered(100_000).as_bytes()).unwrap();
        let limits = TailLimits {
            lines: 1_000_000,
            bytes: 100,
        };
        let t = tail_file(f.path(), limits).unwrap();
        assert!(t.text.len() <= 100);
        assert!(t.text.ends_with("line 100000"));
        // the partial first line of the window is dropped
        assert!(t.text.starts_with("line "), "{:?}", t.text);
        assert!(t.truncated);
    }

    #[test]
    fn empty_file_and_missing_newline() {
        let f = tempfile::NamedTempFile::new().unwrap();
        assert_eq!(tail_file(f.path(), TailLimits::lines(5)).unwrap().text, "");
        let mut g = tempfile::NamedTempFile::new().unwrap();
        g.write_all(b"a\nb\nc").unwrap();
        assert_eq!(
            tail_file(g.path(), TailLimits::lines(2)).unwrap().text,
            "b\nc"
        );
    }

    #[test]
    fn stream_buffer_stays_bounded() {
        let limits = TailLimits {
            lines: 5,
            bytes: 1024,
        };
        let mut b = TailBuffer::new(limits);
        for i in 0..100_000 {
            b.push(format!("out {i}\n").as_bytes());
            assert!(b.buf.len() <= 2 * 1024 + 16);
        }
        let t = b.tail();
        assert_eq!(
            t.text,
            "out 99995\nout 99996\nout 99997\nout 99998\nout 99999"
        );
        assert!(t.truncated);
        assert!(t.total_bytes > 500_000);
    }

    #[test]
    fn invalid_utf8_and_crlf_are_made_readable() {
        let mut b = TailBuffer::new(TailLimits::lines(10));
        b.push(b"ok\r\nbad \xff byte\r\n");
        assert_eq!(b.tail().text, "ok\nbad \u{fffd} byte");
    }

    #[test]
    fn one_huge_line_is_kept_cut() {
        let mut b = TailBuffer::new(TailLimits {
            lines: 3,
            bytes: 10,
        });
        b.push(&[b'x'; 100]);
        let t = b.tail();
        assert_eq!(t.text, "x".repeat(10));
        assert!(t.truncated);
    }
}
