//! Bounded reading of what the client sends: a command line never grows past its
//! limit (a 100 MB "line" costs one buffer, not 100 MB), and a message body is read in
//! pieces that end at a line end or at [`DATA_PIECE`] bytes, whichever comes first.

use std::io::{self, BufRead};

/// Longest piece of a DATA line handled at once; longer lines are streamed.
pub(crate) const DATA_PIECE: usize = 64 * 1024;

/// What one bounded read produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Bytes up to and including the LF (`ends_line`), or `limit` bytes of a longer line.
    Bytes { bytes: Vec<u8>, ends_line: bool },
    /// The client closed the stream (any partial line is in a previous piece).
    Eof,
}

/// Read up to and including the next LF, at most `limit` bytes.
pub(crate) fn read_piece(input: &mut impl BufRead, limit: usize) -> io::Result<Piece> {
    let mut bytes = Vec::new();
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(if bytes.is_empty() {
                Piece::Eof
            } else {
                Piece::Bytes {
                    bytes,
                    ends_line: false,
                }
            });
        }
        let room = limit - bytes.len();
        let window = &available[..available.len().min(room)];
        if let Some(i) = window.iter().position(|&b| b == b'\n') {
            bytes.extend_from_slice(&window[..=i]);
            input.consume(i + 1);
            return Ok(Piece::Bytes {
                bytes,
                ends_line: true,
            });
        }
        let n = window.len();
        bytes.extend_from_slice(window);
        input.consume(n);
        if bytes.len() >= limit {
            return Ok(Piece::Bytes {
                bytes,
                ends_line: false,
            });
        }
    }
}

/// `line\r\n` or `line\n` → `line`.
pub(crate) fn trim_line_end(mut line: Vec<u8>) -> Vec<u8> {
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_end_at_line_ends_or_at_the_limit() {
        let mut input = io::BufReader::with_capacity(3, &b"ab\r\ncdefgh\nij"[..]);
        let got = |p: Piece| match p {
            Piece::Bytes { bytes, ends_line } => (String::from_utf8(bytes).unwrap(), ends_line),
            Piece::Eof => ("EOF".into(), true),
        };
        assert_eq!(
            got(read_piece(&mut input, 5).unwrap()),
            ("ab\r\n".into(), true)
        );
        assert_eq!(
            got(read_piece(&mut input, 5).unwrap()),
            ("cdefg".into(), false)
        );
        assert_eq!(
            got(read_piece(&mut input, 5).unwrap()),
            ("h\n".into(), true)
        );
        assert_eq!(
            got(read_piece(&mut input, 5).unwrap()),
            ("ij".into(), false)
        );
        assert_eq!(read_piece(&mut input, 5).unwrap(), Piece::Eof);
        assert_eq!(trim_line_end(b"x\r\n".to_vec()), b"x");
        assert_eq!(trim_line_end(b"x\n".to_vec()), b"x");
    }
}
