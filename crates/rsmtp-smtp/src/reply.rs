//! Server replies (RFC 5321 §4.2): a three-digit code and one or more text
//! lines, `250-…` continued, `250 …` last. Parsing is line by line so that the
//! connection can bound what it buffers: a reply line longer than
//! [`MAX_LINE`] or a reply larger than [`MAX_REPLY`] is a protocol error, never
//! a memory blow-up.
//!
//! We parse ourselves rather than with lettre's `Response::from_str` because
//! that parser needs the whole reply up front and rejects the bare `250\r\n`
//! that RFC 5321 §4.2 allows; [`to_response`] converts for callers that
//! want lettre's type.

use std::fmt;
use std::str::FromStr;

use lettre::transport::smtp::response::Response;

/// Longest reply line accepted, CRLF included. RFC 5321 §4.5.3.1.5 says 512;
/// real servers send longer text, so allow eight times that.
pub(crate) const MAX_LINE: usize = 4096;
/// Largest reply accepted (all lines together).
pub(crate) const MAX_REPLY: usize = 64 * 1024;

pub use rsmtp_core::Reply;

/// The reply with every secret in its text replaced by `[redacted]`.
pub(crate) fn redacted(reply: Reply, secrets: &[String]) -> Reply {
    let lines = reply
        .lines()
        .iter()
        .map(|line| crate::trace::redact(line, secrets))
        .collect();
    Reply::new(reply.code(), lines)
}

/// The same reply as lettre's [`Response`], if lettre's parser accepts it.
pub fn to_response(reply: &Reply) -> Option<Response> {
    let mut wire = String::new();
    let lines = reply.lines();
    let last = lines.len().saturating_sub(1);
    for (i, line) in lines.iter().enumerate() {
        let sep = if i == last { ' ' } else { '-' };
        wire.push_str(&format!("{}{sep}{line}\r\n", reply.code()));
    }
    if lines.is_empty() {
        wire = format!("{} \r\n", reply.code());
    }
    Response::from_str(&wire).ok()
}

/// Why a byte sequence is not a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReplyError {
    /// The line does not start with a valid three-digit code and ` `/`-`.
    Invalid(String),
    /// Continuation lines disagree about the code.
    MixedCodes(u16, u16),
    /// The reply exceeds [`MAX_REPLY`] bytes.
    TooLong,
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Invalid(line) => write!(f, "the server sent an invalid reply: {line:?}"),
            ReplyError::MixedCodes(a, b) => {
                write!(
                    f,
                    "the server sent a multi-line reply with codes {a} and {b}"
                )
            }
            ReplyError::TooLong => {
                write!(f, "the server sent a reply longer than {MAX_REPLY} bytes")
            }
        }
    }
}

/// Collects the lines of one reply.
#[derive(Debug, Default)]
pub(crate) struct ReplyParser {
    code: Option<u16>,
    lines: Vec<String>,
    size: usize,
}

impl ReplyParser {
    /// Feeds one line (CRLF or LF already removed). Returns the reply once the
    /// last line (`NNN ` or bare `NNN`) has been seen.
    pub(crate) fn push(&mut self, line: &[u8]) -> Result<Option<Reply>, ReplyError> {
        self.size += line.len() + 2;
        if self.size > MAX_REPLY {
            return Err(ReplyError::TooLong);
        }
        let invalid = || ReplyError::Invalid(shorten(line));
        if line.len() < 3
            || !line[..3].iter().all(u8::is_ascii_digit)
            || !(b'2'..=b'5').contains(&line[0])
        {
            return Err(invalid());
        }
        let code = u16::from(line[0] - b'0') * 100
            + u16::from(line[1] - b'0') * 10
            + u16::from(line[2] - b'0');
        let last = match line.get(3) {
            None | Some(b' ') => true,
            Some(b'-') => false,
            Some(_) => return Err(invalid()),
        };
        if let Some(first) = self.code {
            if first != code {
                return Err(ReplyError::MixedCodes(first, code));
            }
        }
        self.code = Some(code);
        let text = line.get(4..).unwrap_or_default();
        self.lines.push(String::from_utf8_lossy(text).into_owned());
        if last {
            let lines = std::mem::take(&mut self.lines);
            *self = ReplyParser::default();
            Ok(Some(Reply::new(code, lines)))
        } else {
            Ok(None)
        }
    }
}

/// A printable, bounded rendering of a bad line for error messages.
fn shorten(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(&line[..line.len().min(60)]).into_owned();
    if line.len() > 60 {
        format!("{text}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::Capabilities;
    use rsmtp_testserver::fuzz::{fuzz, text_seeds};

    fn parse(lines: &[&str]) -> Result<Option<Reply>, ReplyError> {
        let mut p = ReplyParser::default();
        let mut out = None;
        for l in lines {
            out = p.push(l.as_bytes())?;
        }
        Ok(out)
    }

    #[test]
    fn single_line() {
        let r = parse(&["250 2.0.0 Ok: queued as 1234"]).unwrap().unwrap();
        assert_eq!(r.code(), 250);
        assert_eq!(r.text(), "2.0.0 Ok: queued as 1234");
        assert!(r.is_positive());
        assert_eq!(r.to_string(), "250 2.0.0 Ok: queued as 1234");
    }

    #[test]
    fn multi_line_ehlo() {
        let mut p = ReplyParser::default();
        assert_eq!(p.push(b"250-mail.example.org").unwrap(), None);
        assert_eq!(p.push(b"250-PIPELINING").unwrap(), None);
        let r = p.push(b"250 SIZE 1000").unwrap().unwrap();
        assert_eq!(r.lines(), ["mail.example.org", "PIPELINING", "SIZE 1000"]);
        // The parser is ready for the next reply.
        assert_eq!(p.push(b"221 bye").unwrap().unwrap().code(), 221);
    }

    #[test]
    fn bare_code_is_a_reply() {
        let r = parse(&["354"]).unwrap().unwrap();
        assert_eq!(r.code(), 354);
        assert_eq!(r.lines(), [""]);
        assert_eq!(r.to_string(), "354");
    }

    #[test]
    fn classes() {
        let r = |c| Reply::new(c, vec![]);
        assert!(r(421).is_transient() && !r(421).is_permanent());
        assert!(r(554).is_permanent() && !r(554).is_transient());
        assert!(!r(354).is_positive());
    }

    #[test]
    fn invalid_lines() {
        for bad in [
            "",
            "25",
            "abc def",
            "250x",
            "650 no",
            "2500 x",
            "\u{16}\u{3}\u{1}",
        ] {
            assert!(
                matches!(parse(&[bad]), Err(ReplyError::Invalid(_))),
                "{bad:?} should be invalid"
            );
        }
    }

    #[test]
    fn mixed_codes_rejected() {
        assert_eq!(
            parse(&["250-a", "251 b"]),
            Err(ReplyError::MixedCodes(250, 251))
        );
    }

    #[test]
    fn huge_reply_rejected() {
        let line = format!("250-{}", "x".repeat(1000));
        let mut p = ReplyParser::default();
        let mut result = Ok(None);
        for _ in 0..100 {
            result = p.push(line.as_bytes());
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(ReplyError::TooLong));
    }

    #[test]
    fn non_utf8_text_is_kept_lossily() {
        let r = parse(&["550 caf\u{e9}"]).unwrap().unwrap();
        assert_eq!(r.text(), "caf\u{e9}");
        let mut p = ReplyParser::default();
        let r = p.push(b"550 bad \xff byte").unwrap().unwrap();
        assert!(r.text().starts_with("bad "));
    }

    #[test]
    fn converts_to_lettre_response() {
        let r = parse(&["250-first", "250 second"]).unwrap().unwrap();
        let resp = to_response(&r).unwrap();
        assert!(resp.has_code(250));
        assert_eq!(resp.message().collect::<Vec<_>>(), ["first", "second"]);
    }

    /// Server replies, mutated from real ones (Gmail's EHLO, Postfix's refusals,
    /// multi-line banners): no panic; a reply has a code from 200 to 599 and at
    /// least one line; nothing larger than MAX_REPLY is accepted; an error quotes
    /// at most a bounded part of the line; EHLO capabilities never panic.
    #[test]
    #[allow(
        clippy::print_stderr,
        reason = "the fuzz run's summary (seed, cases) is this test's report"
    )]
    fn fuzz_server_replies() {
        let seeds = text_seeds(&[
            "250-smtp.gmail.com at your service\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n\
             250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n\
             250-AUTH LOGIN PLAIN XOAUTH2 OAUTHBEARER\r\n250 SMTPUTF8\r\n",
            "220 mx.example.org ESMTP Postfix (Debian/GNU)\r\n",
            "550 5.1.1 <x@example.org>: Recipient address rejected: User unknown\r\n",
            "421-4.7.0 Try again later, closing connection.\r\n421 4.7.0 (EHLO)\r\n",
            "334 VXNlcm5hbWU6\r\n",
            "250\r\n354 End data with <CR><LF>.<CR><LF>\r\n221 2.0.0 Bye\r\n",
        ]);
        let tokens: &[&[u8]] = &[
            b"250-", b"250 ", b"550 ", b"421-", b"999 ", b"AUTH ", b"\r\n",
        ];
        let r = fuzz("server-reply", &seeds, tokens, |input| {
            let mut parser = ReplyParser::default();
            let mut seen = 0usize;
            for raw in input.split(|&b| b == b'\n') {
                let line = raw.strip_suffix(b"\r").unwrap_or(raw);
                seen += line.len() + 2;
                match parser.push(line) {
                    Ok(Some(reply)) => {
                        assert!((200..=599).contains(&reply.code()), "{reply:?}");
                        assert!(!reply.lines().is_empty());
                        assert!(seen <= MAX_REPLY);
                        seen = 0;
                        let _ = Capabilities::from_ehlo(&reply);
                        let _ = to_response(&reply);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        // At most 60 bytes of the line are quoted; escaped control
                        // characters (`\u{e}`) make that up to 10 characters each.
                        assert!(e.to_string().len() < 800, "unbounded error: {e}");
                        if e == ReplyError::TooLong {
                            assert!(seen > MAX_REPLY);
                        }
                        parser = ReplyParser::default();
                        seen = 0;
                    }
                }
            }
        });
        eprintln!("{r}");
    }
}
