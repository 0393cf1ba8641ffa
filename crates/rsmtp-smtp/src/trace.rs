//! The protocol trace behind `-d/--debug`: every command line sent and every
//! reply line received, in order, without CRLF. The caller prints them the way
//! msmtp does (`--> EHLO x`, `<-- 250 …`).
//!
//! Redaction happens before a line reaches the trace, at the place the line
//! is built (see `wire::Command`): AUTH initial responses and the base64 lines
//! of LOGIN, CRAM-MD5 and XOAUTH2 show as `[redacted]`, so no implementation
//! of this trait can leak a password or token. The message body is not traced
//! line by line; a note gives its size.

/// Receives the session's protocol lines.
pub trait Trace {
    /// A line we sent (already redacted).
    fn sent(&mut self, line: &str);
    /// A line the server sent.
    fn received(&mut self, line: &str);
    /// Something that is not a protocol line: connecting, TLS established,
    /// body size. Ignored unless implemented.
    fn note(&mut self, _note: &str) {}
}

/// A trace that discards everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTrace;

impl Trace for NoTrace {
    fn sent(&mut self, _line: &str) {}
    fn received(&mut self, _line: &str) {}
}

impl<T: Trace + ?Sized> Trace for &mut T {
    fn sent(&mut self, line: &str) {
        (**self).sent(line)
    }
    fn received(&mut self, line: &str) {
        (**self).received(line)
    }
    fn note(&mut self, note: &str) {
        (**self).note(note)
    }
}

/// What replaces a secret in the trace.
pub(crate) const REDACTED: &str = "[redacted]";

/// `text` with every occurrence of a secret replaced by [`REDACTED`]. Servers
/// sometimes quote the line they refuse (`535 … AUTH PLAIN AGFsaWNl…`,
/// sendmail's `500 5.5.1 Command unrecognized: "…"`), so AUTH replies are
/// passed through this before they reach the trace, an error or the log.
pub(crate) fn redact(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_owned(), |t, s| t.replace(s.as_str(), REDACTED))
}

/// Passes everything on, with secrets cut out of the received lines.
pub(crate) struct Redacting<'a> {
    pub(crate) inner: &'a mut dyn Trace,
    pub(crate) secrets: &'a [String],
}

impl Trace for Redacting<'_> {
    fn sent(&mut self, line: &str) {
        self.inner.sent(line)
    }
    fn received(&mut self, line: &str) {
        if self.secrets.is_empty() {
            self.inner.received(line)
        } else {
            self.inner.received(&redact(line, self.secrets))
        }
    }
    fn note(&mut self, note: &str) {
        self.inner.note(note)
    }
}

/// A trace that keeps the lines, for tests: `--> ` sent, `<-- ` received, `-- ` notes.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct Recorded(pub Vec<String>);

#[cfg(test)]
impl Trace for Recorded {
    fn sent(&mut self, line: &str) {
        self.0.push(format!("--> {line}"));
    }
    fn received(&mut self, line: &str) {
        self.0.push(format!("<-- {line}"));
    }
    fn note(&mut self, note: &str) {
        self.0.push(format!("-- {note}"));
    }
}
