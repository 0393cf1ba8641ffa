//! The header block as a list of fields with byte ranges.
//!
//! msmtp never re-serialises a header: it copies lines and drops whole fields
//! (the first line plus its folded continuation lines). We do the same, so this
//! module only finds where each field starts and ends in the raw bytes; the
//! values themselves are parsed by mail-parser where structure matters (addresses).

use std::ops::Range;

/// One header field: its first line and every continuation line after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// The field name without surrounding blanks, `None` for a line that is not a
    /// `name: value` field (garbage in the header block is kept, never dropped).
    pub name: Option<String>,
    /// The whole field, from the first byte of its name to after its last line end.
    pub range: Range<usize>,
    /// The value: after the colon up to the end of the field (line ends included).
    pub value: Range<usize>,
}

impl Field {
    /// Whether this field's name is `name`, compared ASCII case-insensitively.
    pub(crate) fn is(&self, name: &str) -> bool {
        self.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    }

    /// Whether the name starts with `Resent-` (RFC 5322 section 3.6.6).
    pub(crate) fn is_resent(&self) -> bool {
        self.name.as_deref().is_some_and(|n| {
            n.len() > 7
                && n.as_bytes()
                    .get(..7)
                    .is_some_and(|p| p.eq_ignore_ascii_case(b"resent-"))
        })
    }
}

/// Splits a header block into fields. Lines end at LF (CRLF or bare LF); a line
/// starting with a space or tab continues the previous field (RFC 5322 section 2.2.3).
/// A blank line ends the block, as it would in a whole message.
pub(crate) fn fields(header: &[u8]) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    let mut pos = 0;
    while pos < header.len() {
        let end = header[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(header.len(), |i| pos + i + 1);
        let line = &header[pos..end];
        if is_blank(line) {
            break;
        }
        let continues = matches!(line.first(), Some(b' ' | b'\t'));
        match fields.last_mut() {
            Some(last) if continues => {
                last.range.end = end;
                last.value.end = end;
            }
            _ => {
                let (name, value_start) = match field_name(line) {
                    Some((name, colon)) => (Some(name), pos + colon + 1),
                    None => (None, end),
                };
                fields.push(Field {
                    name,
                    range: pos..end,
                    value: value_start..end,
                });
            }
        }
        pos = end;
    }
    fields
}

/// A line holding nothing but its line end.
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&b| b == b'\r' || b == b'\n')
}

/// The name of a `name: value` line and the index of its colon. The name is
/// printable ASCII without a colon (RFC 5322 `ftext`); blanks before the colon are
/// tolerated (the obsolete syntax of RFC 5322 section 4.5).
pub(crate) fn field_name(line: &[u8]) -> Option<(String, usize)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    let trimmed_len = name.len()
        - name
            .iter()
            .rev()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
    let name = &name[..trimmed_len];
    if name.is_empty() || !name.iter().all(|&b| (33..=126).contains(&b)) {
        return None;
    }
    // `name` is printable ASCII, so this conversion is lossless.
    Some((String::from_utf8_lossy(name).into_owned(), colon))
}

/// Whether a line is a header field for the purpose of finding the header block:
/// a `name:` field whose name may also hold 8-bit bytes (`Sujet-été: x`, which
/// msmtp reads as header), or an mbox `From ` line (msmtp keeps it there). Whether
/// the block is header at all is decided in [`crate::spool`].
pub(crate) fn starts_header(line: &[u8]) -> bool {
    if line.starts_with(b"From ") {
        return true;
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    let name = &line[..colon];
    let name = &name[..name.len()
        - name
            .iter()
            .rev()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count()];
    !name.is_empty() && name.iter().all(|&b| (33..=126).contains(&b) || b >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(h: &[u8]) -> Vec<Option<String>> {
        fields(h).into_iter().map(|f| f.name).collect()
    }

    #[test]
    fn splits_fields_with_continuation_lines() {
        let h = b"To: a@x,\r\n b@y\r\nSubject: s\r\n\tmore\r\nX: 1\r\n";
        let f = fields(h);
        assert_eq!(f.len(), 3);
        assert_eq!(&h[f[0].range.clone()], b"To: a@x,\r\n b@y\r\n");
        assert_eq!(&h[f[0].value.clone()], b" a@x,\r\n b@y\r\n");
        assert_eq!(&h[f[1].range.clone()], b"Subject: s\r\n\tmore\r\n");
        assert_eq!(&h[f[2].range.clone()], b"X: 1\r\n");
    }

    #[test]
    fn garbage_lines_are_nameless_fields() {
        assert_eq!(
            names(b"X: 1\ngarbage line\nY : 2\n"),
            vec![Some("X".into()), None, Some("Y".into())]
        );
    }

    #[test]
    fn stops_at_blank_line_and_handles_missing_final_newline() {
        assert_eq!(names(b"A: 1\r\n\r\nB: 2\r\n"), vec![Some("A".into())]);
        let f = fields(b"A: 1\nB: 2");
        assert_eq!(f[1].range, 5..9);
    }

    #[test]
    fn resent_names() {
        let f = fields(b"Resent-To: a\nResent-: b\nresent-cc: c\n");
        assert!(f[0].is_resent());
        assert!(!f[1].is_resent());
        assert!(f[2].is_resent() && f[2].is("Resent-Cc"));
    }

    #[test]
    fn header_start_detection() {
        assert!(starts_header(b"Subject: x\n"));
        assert!(starts_header(b"From someone@x Sat Nov 21 10:00:00 2026\n"));
        assert!(!starts_header(b"hello world\n"));
        assert!(!starts_header(b"hello world: with a colon\n"));
        assert!(!starts_header(b" Subject: indented\n"));
        assert!(!starts_header(b": no name\n"));
        assert!(starts_header("Sujet-été: x\n".as_bytes()));
        assert!(!starts_header(b"Backup finished: OK\n"));
    }
}
