//! An SMTP reply (RFC 5321 §4.2): a three-digit code and its text lines. The type
//! both sides share — the client reads one from the server, the server writes one to
//! its client — so neither side's crate depends on the other's. Reading a reply off
//! the wire is the client's (rsmtp-smtp's `ReplyParser`).

use std::fmt;

/// One complete server reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    /// A reply from its parts (for tests and for callers building log lines).
    pub fn new(code: u16, lines: Vec<String>) -> Reply {
        Reply { code, lines }
    }

    /// The three-digit reply code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The text of each line, without code and separator.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// All text lines joined by a space (msmtp's `smtpmsg=`).
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    /// 2yz: positive completion.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 4yz: transient negative completion (RFC 5321 §4.2.1).
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// 5yz: permanent negative completion.
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }
}

impl fmt::Display for Reply {
    /// `250 text of all lines` on one line, for messages and logs. A control
    /// character the server put in its text (an escape sequence that would recolour
    /// or clear the terminal, a CR that would hide the start of the line) is shown as
    /// `?`, as msmtp shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        let text = self.text();
        if !text.is_empty() {
            write!(f, " {}", crate::shown(&text))?;
        }
        Ok(())
    }
}
