//! Header rewriting before sending: dropping Bcc, adding From, To, Date and
//! Message-ID, the way msmtp does it.
//!
//! msmtp (1.8.23, checked against its sent bytes) prepends the fields it adds, in
//! the order `From`, `To`, `Date`, `Message-ID`, before the original header, and
//! drops whole fields (first line and folded continuation lines) it replaces or
//! removes. Every other byte of the original header is copied unchanged: we cut
//! byte ranges, never re-serialise. Values supplied by the caller are refused when
//! they hold CR, LF or NUL, so they can never inject a header field.

use chrono::{DateTime, FixedOffset, Local};

use crate::error::MessageError;
use crate::headers::{fields, Field};

/// What to do with the `From` field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FromEdit {
    /// Leave the header as it is (`set_from_header off`).
    #[default]
    Keep,
    /// Add `From: <value>` when the header has no `From` (`set_from_header auto`,
    /// msmtp's default).
    AddIfMissing(String),
    /// Drop every `From` field and add `From: <value>` (`set_from_header on`).
    Replace(String),
}

/// What to do with the recipient fields `To`, `Cc` and `Bcc`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ToEdit {
    /// Leave them (msmtp's default).
    #[default]
    Keep,
    /// Add `To: undisclosed-recipients:;` when the header has no `To` field, so a
    /// message sent only to Bcc recipients still has one (RFC 5322 section 3.6.3).
    UndisclosedIfMissing,
    /// Drop `To`, `Cc` and `Bcc` and add `To: undisclosed-recipients:;`
    /// (msmtp's `undisclosed_recipients on`, `set_to_header undisclosed_recipients`).
    Undisclosed,
    /// Drop `To`, `Cc` and `Bcc` and add `To:` listing these recipients
    /// (`set_to_header on` of newer msmtp).
    Recipients(Vec<String>),
}

/// The changes [`rewrite_header`] makes. The default changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderEdits {
    /// Drop `Bcc` and `Resent-Bcc` fields with their continuation lines
    /// (`remove_bcc_headers`, on by default in msmtp). msmtp itself keeps
    /// `Resent-Bcc`; hiding it is what RFC 5322 section 3.6.6 asks for.
    pub remove_bcc: bool,
    /// The `From` field.
    pub from: FromEdit,
    /// The recipient fields.
    pub to: ToEdit,
    /// A `Date` value (see [`date_header_value`]), added when there is no `Date`.
    pub date: Option<String>,
    /// A `Message-ID` value (see [`message_id`]), added when there is none.
    pub message_id: Option<String>,
}

/// Applies `edits` to a header block (without its blank separator line).
///
/// Errors with [`MessageError::InvalidHeaderValue`] (exit 65) when a supplied
/// value holds CR, LF or NUL; nothing is written then.
pub fn rewrite_header(header: &[u8], edits: &HeaderEdits) -> Result<Vec<u8>, MessageError> {
    let fields = fields(header);
    let has = |name: &str| fields.iter().any(|f| f.is(name));
    let replace_recipients = matches!(edits.to, ToEdit::Undisclosed | ToEdit::Recipients(_));

    let mut added: Vec<(&str, String)> = Vec::new();
    let replace_from = match &edits.from {
        FromEdit::Keep => false,
        FromEdit::AddIfMissing(value) => {
            if !has("From") {
                added.push(("From", value.clone()));
            }
            false
        }
        FromEdit::Replace(value) => {
            added.push(("From", value.clone()));
            true
        }
    };
    match &edits.to {
        ToEdit::Keep => {}
        ToEdit::UndisclosedIfMissing => {
            if !has("To") {
                added.push(("To", UNDISCLOSED.into()));
            }
        }
        ToEdit::Undisclosed => added.push(("To", UNDISCLOSED.into())),
        ToEdit::Recipients(list) => added.push(("To", list.join(", "))),
    }
    if let Some(date) = &edits.date {
        if !has("Date") {
            added.push(("Date", date.clone()));
        }
    }
    if let Some(id) = &edits.message_id {
        if !has("Message-ID") {
            added.push(("Message-ID", id.clone()));
        }
    }

    let dropped = |f: &Field| {
        (replace_from && f.is("From"))
            || (replace_recipients && (f.is("To") || f.is("Cc") || f.is("Bcc")))
            || (edits.remove_bcc && (f.is("Bcc") || f.is("Resent-Bcc")))
    };

    let mut out = Vec::with_capacity(header.len() + 256);
    for (name, value) in &added {
        check_value(name, value)?;
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let mut pos = 0;
    for field in fields.iter().filter(|f| dropped(f)) {
        out.extend_from_slice(&header[pos..field.range.start]);
        pos = field.range.end;
    }
    out.extend_from_slice(&header[pos..]);
    Ok(out)
}

const UNDISCLOSED: &str = "undisclosed-recipients:;";

/// Refuses a value that would end the header line early.
fn check_value(name: &str, value: &str) -> Result<(), MessageError> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(MessageError::InvalidHeaderValue {
            name: name.into(),
            reason: "it contains a line break or NUL",
        });
    }
    Ok(())
}

/// The value of a `From` field: `addr`, or `Full Name <addr>` with the name as an
/// atom phrase, a quoted string (`"Doe, John" <addr>`) or RFC 2047 encoded words
/// when it is not ASCII. msmtp writes the name raw, which breaks on a comma.
pub fn from_header_value(addr: &str, full_name: Option<&str>) -> Result<String, MessageError> {
    check_value("From", addr)?;
    let name = match full_name.map(str::trim) {
        None | Some("") => return Ok(addr.to_owned()),
        Some(name) => name,
    };
    if name.chars().any(|c| c.is_control() && c != '\t') {
        return Err(MessageError::InvalidHeaderValue {
            name: "From".into(),
            reason: "the full name contains a control character",
        });
    }
    let phrase = if !name.is_ascii() {
        encoded_words(name)
    } else if is_atom_phrase(name) {
        name.to_owned()
    } else {
        quoted_string(name)
    };
    Ok(format!("{phrase} <{addr}>"))
}

/// Atoms separated by single spaces need no quoting (RFC 5322 section 3.2.5).
/// Text that looks like an encoded word is quoted so nobody decodes it.
fn is_atom_phrase(s: &str) -> bool {
    !s.contains("=?")
        && s.split(' ').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
        })
}

fn quoted_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// RFC 2047 `B` encoded words, each at most 75 characters, split between characters.
fn encoded_words(s: &str) -> String {
    // 45 input bytes make 60 base64 characters: 12 + 60 = 72 <= 75.
    const MAX_BYTES: usize = 45;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars() {
        if chunk.len() + c.len_utf8() > MAX_BYTES {
            words.push(format!("=?utf-8?B?{}?=", base64(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?utf-8?B?{}?=", base64(chunk.as_bytes())));
    }
    words.join(" ")
}

/// Standard base64 with padding; a dozen lines do not justify a dependency.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for group in data.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A `Date` value in RFC 5322 section 3.3 form, e.g. `Sat, 21 Nov 2026 16:14:16 +0100`,
/// with English names whatever the locale, as msmtp writes it.
pub fn date_header_value(now: &DateTime<FixedOffset>) -> String {
    now.format("%a, %d %b %Y %H:%M:%S %z").to_string()
}

/// [`date_header_value`] for the current time in the local time zone.
pub fn date_header_now() -> String {
    date_header_value(&Local::now().fixed_offset())
}

/// A new unique `Message-ID` value, `<time.nanoseconds.pid.random@domain>`.
///
/// The time, process id and 64 random bits make collisions practically
/// impossible even for many messages per second from one host. `domain` is the
/// account's domain (msmtp: the part after `@` of the envelope sender).
pub fn message_id(domain: &str) -> Result<String, MessageError> {
    let bad = |c: char| c.is_control() || c.is_whitespace() || "<>()[]\\,;:@\"".contains(c);
    if domain.is_empty() || domain.chars().any(bad) {
        return Err(MessageError::InvalidHeaderValue {
            name: "Message-ID".into(),
            reason: "the domain is empty or not a domain name",
        });
    }
    let now = chrono::Utc::now();
    Ok(format!(
        "<{}.{:09}.{}.{:016x}@{}>",
        now.format("%Y%m%d%H%M%S"),
        now.timestamp_subsec_nanos(),
        std::process::id(),
        fastrand::u64(..),
        domain
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(h: &str, e: &HeaderEdits) -> String {
        match rewrite_header(h.as_bytes(), e) {
            Ok(v) => String::from_utf8_lossy(&v).into_owned(),
            Err(e) => panic!("{e}"),
        }
    }

    fn bcc_only() -> HeaderEdits {
        HeaderEdits {
            remove_bcc: true,
            ..HeaderEdits::default()
        }
    }

    #[test]
    fn default_edits_change_nothing() {
        let h = "To: a@x.org\r\nBcc: b@x.org\r\nSubject: s\r\n";
        assert_eq!(rewrite(h, &HeaderEdits::default()), h);
    }

    #[test]
    fn bcc_removal_keeps_everything_else_byte_identical() {
        let h = "Received: from x\r\n\tby y; Sat, 21 Nov 2026\r\nTo: a@x.org\r\nBcc: b@x.org,\r\n c@x.org,\r\n\td@x.org\r\n\
                 Subject:  odd   spacing \r\n  folded\r\nBCC: e@x.org\r\nX-Bcc: keep@x.org\r\nResent-Bcc: f@x.org\r\n\
                 bcc : g@x.org\r\nX: last";
        let want = "Received: from x\r\n\tby y; Sat, 21 Nov 2026\r\nTo: a@x.org\r\n\
                    Subject:  odd   spacing \r\n  folded\r\nX-Bcc: keep@x.org\r\nX: last";
        assert_eq!(rewrite(h, &bcc_only()), want);
    }

    #[test]
    fn bcc_removal_with_lf_only_and_bcc_last() {
        assert_eq!(rewrite("To: a\nBcc: b\n c\n", &bcc_only()), "To: a\n");
        assert_eq!(rewrite("Bcc: b", &bcc_only()), "");
    }

    #[test]
    fn added_fields_are_prepended_in_msmtp_order() {
        let e = HeaderEdits {
            remove_bcc: true,
            from: FromEdit::AddIfMissing("me@x.org".into()),
            to: ToEdit::UndisclosedIfMissing,
            date: Some("Sat, 21 Nov 2026 16:14:16 +0000".into()),
            message_id: Some("<1@x.org>".into()),
        };
        assert_eq!(
            rewrite("Subject: s\r\nBcc: b@x.org\r\n", &e),
            "From: me@x.org\r\nTo: undisclosed-recipients:;\r\nDate: Sat, 21 Nov 2026 16:14:16 +0000\r\n\
             Message-ID: <1@x.org>\r\nSubject: s\r\n"
        );
    }

    #[test]
    fn existing_fields_are_not_added_again() {
        let e = HeaderEdits {
            from: FromEdit::AddIfMissing("me@x.org".into()),
            to: ToEdit::UndisclosedIfMissing,
            date: Some("D".into()),
            message_id: Some("<1@x.org>".into()),
            ..HeaderEdits::default()
        };
        let h = "from: a@x.org\r\nto: b@x.org\r\nDATE: x\r\nMessage-Id: <2@x.org>\r\n";
        assert_eq!(rewrite(h, &e), h);
    }

    #[test]
    fn from_replace_drops_folded_from() {
        let e = HeaderEdits {
            from: FromEdit::Replace("me@x.org".into()),
            ..HeaderEdits::default()
        };
        assert_eq!(
            rewrite("From: x@y.org\r\n  (cont)\r\nSubject: x\r\n", &e),
            "From: me@x.org\r\nSubject: x\r\n"
        );
    }

    #[test]
    fn undisclosed_replaces_to_cc_bcc() {
        let e = HeaderEdits {
            to: ToEdit::Undisclosed,
            ..HeaderEdits::default()
        };
        assert_eq!(
            rewrite(
                "To: a@x.org\r\nCc: c@x.org\r\n d@x.org\r\nBcc: e@x.org\r\nSubject: x\r\n",
                &e
            ),
            "To: undisclosed-recipients:;\r\nSubject: x\r\n"
        );
        let e = HeaderEdits {
            to: ToEdit::Recipients(vec!["a@x.org".into(), "b@x.org".into()]),
            ..HeaderEdits::default()
        };
        assert_eq!(rewrite("Cc: c@x.org\r\n", &e), "To: a@x.org, b@x.org\r\n");
    }

    #[test]
    fn injected_line_breaks_are_refused() {
        for value in ["a@x.org\r\nBcc: evil@x.org", "a\nb", "a\rb", "a\0b"] {
            let e = HeaderEdits {
                from: FromEdit::AddIfMissing(value.into()),
                ..HeaderEdits::default()
            };
            match rewrite_header(b"Subject: s\r\n", &e) {
                Err(err @ MessageError::InvalidHeaderValue { .. }) => {
                    assert_eq!(err.exit_code(), 65)
                }
                other => panic!("{other:?}"),
            }
        }
        let e = HeaderEdits {
            date: Some("x\r\nBcc: y".into()),
            ..HeaderEdits::default()
        };
        assert!(rewrite_header(b"", &e).is_err());
        assert!(from_header_value("a@x.org", Some("Evil\r\nBcc: x@y")).is_err());
        assert!(from_header_value("a@x.org\n", None).is_err());
    }

    fn from(addr: &str, name: Option<&str>) -> String {
        match from_header_value(addr, name) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn from_values() {
        assert_eq!(from("a@x.org", None), "a@x.org");
        assert_eq!(from("a@x.org", Some("  ")), "a@x.org");
        assert_eq!(
            from("a@x.org", Some("Cron Daemon")),
            "Cron Daemon <a@x.org>"
        );
        assert_eq!(
            from("a@x.org", Some("Doe, John")),
            "\"Doe, John\" <a@x.org>"
        );
        assert_eq!(
            from("a@x.org", Some("Say \"hi\" \\o/")),
            "\"Say \\\"hi\\\" \\\\o/\" <a@x.org>"
        );
        assert_eq!(from("a@x.org", Some("=?x?=")), "\"=?x?=\" <a@x.org>");
        assert_eq!(
            from("a@x.org", Some("Jörg")),
            "=?utf-8?B?SsO2cmc=?= <a@x.org>"
        );
    }

    #[test]
    fn long_non_ascii_names_become_several_short_words_that_decode_back() {
        let name = "バックアップ監視システム・サーバー管理者";
        let value = from("a@x.org", Some(name));
        let phrase = value.trim_end_matches(" <a@x.org>");
        assert!(phrase.split(' ').count() > 1, "{value}");
        assert!(phrase.split(' ').all(|w| w.len() <= 75), "{value}");
        let header = format!("From: {value}\r\n\r\n");
        let parsed = mail_parser::MessageParser::new().parse_headers(header.as_bytes());
        let decoded = parsed
            .as_ref()
            .and_then(|m| m.from())
            .and_then(|a| a.first())
            .and_then(|a| a.name())
            .map(str::to_owned);
        assert_eq!(decoded.as_deref(), Some(name));
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn date_format_matches_msmtp() {
        let t = DateTime::parse_from_rfc3339("2026-11-01T07:04:05+01:00").ok();
        assert_eq!(
            t.map(|t| date_header_value(&t)).as_deref(),
            Some("Sun, 01 Nov 2026 07:04:05 +0100")
        );
        let t = DateTime::parse_from_rfc3339("2026-03-09T23:59:59-09:30").ok();
        assert_eq!(
            t.map(|t| date_header_value(&t)).as_deref(),
            Some("Mon, 09 Mar 2026 23:59:59 -0930")
        );
        let now = date_header_now();
        assert!(DateTime::parse_from_rfc2822(&now).is_ok(), "{now}");
    }

    #[test]
    fn message_ids_are_unique_and_well_formed() {
        let ids: std::collections::HashSet<String> = (0..1000)
            .filter_map(|_| message_id("example.org").ok())
            .collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids
            .iter()
            .all(|id| id.starts_with('<') && id.ends_with("@example.org>")));
        assert!(message_id("").is_err());
        assert!(message_id("x.org>\r\nBcc: y").is_err());
        assert!(message_id("a b").is_err());
    }
}
