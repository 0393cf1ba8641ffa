//! Alert composition: an [`Alert`] (status, subject, facts, log tails) becomes the bytes of
//! a MIME message — a plain-text part with an HTML alternative, the status mark in an
//! RFC 2047-encoded subject, Date and Message-ID — built with lettre's `Message` builder.
//!
//! An alert says what failed first: the [`Alert::summary`] (the line most likely to be
//! the error, see [`crate::diagnosis::error_line`]) opens both parts — it is also what an
//! inbox shows as the preview — and is marked again where it appears in a log tail. The
//! HTML part is written for phones and every mail client: a viewport, inline styles only,
//! no external resources, long lines wrapped, explicit colours under
//! `color-scheme: light dark`.
//!
//! Alert headers: `Auto-Submitted: auto-generated` (RFC 3834 §5, so autoresponders stay
//! quiet), `X-Backup-Alert-Status` for mail filters, a Message-ID in the sender's domain.
//!
//! Nothing a caller passes can add a header: subjects and fact values are folded to one
//! line before lettre sees them, extra headers (`mail -a`) with a line break are refused,
//! and [`check_header_block`] verifies the finished header block as a last line of defence.

use std::fmt::Write as _;
use std::time::SystemTime;

use chrono::{DateTime, Local};
use lettre::message::header::{self, ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;

use crate::alert::html_page::escape_html;
use crate::error::Error;
use crate::model::{History, Measurement, Status};

/// The display name of the From header when the configured sender has none.
pub(crate) const DEFAULT_FROM_NAME: &str = "Backup alerts";

/// A titled block of verbatim text: a log tail, a command's stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    pub(crate) title: String,
    pub(crate) text: String,
}

/// Everything an alert says, before it becomes MIME.
#[derive(Debug, Clone)]
pub(crate) struct Alert {
    pub(crate) status: Status,
    pub(crate) subject: String,
    pub(crate) host: String,
    pub(crate) date: DateTime<Local>,
    /// Free text from the caller (`--body`, stdin), or what run/check have to say.
    pub(crate) message: String,
    /// `Label: value` lines shown under the message (command, exit status, log path…).
    pub(crate) facts: Vec<(String, String)>,
    pub(crate) sections: Vec<Section>,
    /// Flood-control or recovery note, e.g. "This alert was repeated 4 times since …".
    pub(crate) note: Option<String>,
    /// The line most likely to be the error, shown first and marked in the tails.
    pub(crate) summary: Option<String>,
    /// The job's last runs, when the state file knows them.
    pub(crate) history: Option<History>,
    /// A good backup known otherwise than from the state file (a repository's newest
    /// archive): the "last good backup" of a first check, when no success is recorded yet.
    pub(crate) good_backup_at: Option<DateTime<Local>>,
    /// Not shown: what the run measured, kept in the state file for metrics.
    pub(crate) measured: Measurement,
    /// The language of the words around the caller's text (labels, date, status).
    pub(crate) language: crate::lang::Language,
}

impl Alert {
    pub(crate) fn new(status: Status, subject: impl Into<String>, host: impl Into<String>) -> Self {
        Alert {
            status,
            subject: subject.into(),
            host: host.into(),
            date: Local::now(),
            message: String::new(),
            facts: Vec::new(),
            sections: Vec::new(),
            note: None,
            summary: None,
            history: None,
            good_backup_at: None,
            measured: Default::default(),
            language: Default::default(),
        }
    }

    pub(crate) fn fact(&mut self, label: &str, value: impl Into<String>) {
        self.facts.push((label.to_string(), value.into()));
    }

    /// The subject line: `<mark> [<host>] <subject>`, folded to one line.
    pub(crate) fn subject_line(&self) -> String {
        one_line(&format!(
            "{} [{}] {}",
            self.status.mark(),
            self.host,
            self.subject
        ))
    }
}

/// Sender and visible recipients of a message.
#[derive(Debug, Clone, Default)]
pub(crate) struct Addresses {
    /// `None`: no From header; rsmtp adds the account's `from`, as msmtp does.
    pub(crate) from: Option<Mailbox>,
    pub(crate) to: Vec<Mailbox>,
    pub(crate) cc: Vec<Mailbox>,
}

/// A file to attach (`mail -A FILE`).
#[derive(Debug, Clone)]
pub(crate) struct FileAttachment {
    pub(crate) filename: String,
    pub(crate) content: Vec<u8>,
}

/// Fold a value to one header-safe line: every run of CR/LF (and other control characters)
/// becomes a single space, so a subject built from `$(command output)` stays one header.
pub(crate) fn one_line(s: &str) -> String {
    s.split(char::is_control)
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Longest subject put in the header, in characters; the body repeats the whole text.
const MAX_SUBJECT_CHARS: usize = 250;

/// The Subject header's text: [`one_line`], cut to [`MAX_SUBJECT_CHARS`] with `…`.
/// lettre folds only at spaces, so an unbroken word (a path, a token from a log line)
/// longer than 998 bytes would otherwise make a header line RFC 5322 §2.1.1 forbids,
/// and that a relay may refuse — losing the alert.
pub(crate) fn header_subject(s: &str) -> String {
    let line = one_line(s);
    if line.chars().count() <= MAX_SUBJECT_CHARS {
        return line;
    }
    let mut cut: String = line.chars().take(MAX_SUBJECT_CHARS - 1).collect();
    cut.push('\u{2026}');
    cut
}

/// Parse an address (`a@b`, `Name <a@b>`); lettre refuses anything with a line break.
pub(crate) fn parse_mailbox(s: &str) -> Result<Mailbox, Error> {
    s.trim()
        .parse::<Mailbox>()
        .map_err(|e| Error::Usage(format!("invalid address `{}`: {e}", one_line(s))))
}

/// Parse `Name: value` (`mail -a`). A line break anywhere is refused: it is how headers
/// are injected, and no legitimate caller needs one.
pub(crate) fn parse_extra_header(s: &str) -> Result<HeaderValue, Error> {
    if s.contains(['\r', '\n']) {
        return Err(Error::Usage(format!(
            "header `{}` contains a line break",
            one_line(s)
        )));
    }
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| Error::Usage(format!("header `{s}` is not `Name: value`")))?;
    let name = name.trim();
    let reserved = [
        "content-type",
        "content-transfer-encoding",
        "mime-version",
        "bcc",
    ];
    if reserved.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(Error::Usage(format!(
            "header `{name}` cannot be set with -a (backup-alert writes it)"
        )));
    }
    let hname = HeaderName::new_from_ascii(name.to_string())
        .map_err(|_| Error::Usage(format!("invalid header name `{name}`")))?;
    Ok(HeaderValue::new(hname, value.trim().to_string()))
}

/// Base facts (host, date, status), the caller's facts, then the history, in the
/// alert's language: the values as written (each in the alert's language where it was
/// made), the labels looked up here (see [`crate::lang`]).
fn all_facts(alert: &Alert) -> Vec<(String, String)> {
    let lang = alert.language;
    let mut facts = vec![
        ("Host".to_string(), alert.host.clone()),
        ("Date".to_string(), lang.date(alert.date)),
        ("Status".to_string(), lang.status(alert.status)),
    ];
    facts.extend(alert.facts.iter().cloned());
    if let Some(h) = &alert.history {
        facts.push(("Last runs".to_string(), lang.runs(&h.strip(), h.runs.len())));
        facts.push((
            "Last good backup".to_string(),
            lang.last_good(h, alert.date),
        ));
    }
    facts
        .into_iter()
        .map(|(label, value)| (lang.label(&label), value))
        .collect()
}

/// The summary as one line, or `None` when there is none.
fn summary_line(alert: &Alert) -> Option<String> {
    alert
        .summary
        .as_deref()
        .map(one_line)
        .filter(|s| !s.is_empty())
}

/// Index of the line of `text` to mark: the last one that is the summary.
fn marked_line(text: &str, summary: Option<&str>) -> Option<usize> {
    let summary = summary?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| one_line(l) == summary)
        .map(|(i, _)| i)
        .last()
}

/// The plain-text body of an alert.
pub(crate) fn plain_body(alert: &Alert) -> String {
    let mut out = String::new();
    let summary = summary_line(alert);
    if let Some(line) = &summary {
        let _ = writeln!(
            out,
            "{}: {line}\n",
            alert.language.label(alert.status.summary_label())
        );
    }
    let _ = writeln!(out, "{} {}", alert.status.mark(), one_line(&alert.subject));
    out.push('\n');
    if !alert.message.trim().is_empty() {
        out.push_str(alert.message.trim_end());
        out.push_str("\n\n");
    }
    let facts = all_facts(alert);
    // Columns as a terminal or a monospace mail client shows them: ホスト is 6 wide.
    let width = facts
        .iter()
        .map(|(k, _)| crate::lang::display_width(k))
        .max()
        .unwrap_or(0);
    for (k, v) in &facts {
        let pad = width - crate::lang::display_width(k);
        let _ = writeln!(out, "{k}{:pad$} : {v}", "");
    }
    if let Some(note) = &alert.note {
        let _ = writeln!(out, "\n{note}");
    }
    for section in &alert.sections {
        let _ = writeln!(out, "\n--- {} ---", section.title);
        if section.text.is_empty() {
            let _ = writeln!(out, "{}", alert.language.label("(empty)"));
            continue;
        }
        let mark = marked_line(&section.text, summary.as_deref());
        for (i, line) in section.text.lines().enumerate() {
            if Some(i) == mark {
                out.push_str("\u{25b6} ");
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    let _ = write!(out, "\n-- \nbackup-alert {}\n", env!("CARGO_PKG_VERSION"));
    out
}

pub(crate) use crate::alert::html_page::{INK, WRAP};

/// The HTML alternative: the same content, every caller-supplied string escaped, on the
/// page [`crate::alert::html_page`] lays out (inline colours, a dark-mode and a phone-width style).
pub(crate) fn html_body(alert: &Alert) -> String {
    use crate::alert::html_page::{self as page, RULE};
    let e = escape_html;
    let mut out = page::open(alert.language.code(), &alert.subject_line());
    let summary = summary_line(alert);
    if let Some(line) = &summary {
        let _ = writeln!(
            out,
            "<div style=\"background:{};color:{INK};border-left:4px solid {};\
             padding:8px 12px;margin:0 0 12px 0;font-weight:bold;{WRAP}\">{}: {}</div>",
            alert.status.tint(),
            alert.status.colour(),
            alert.language.label(alert.status.summary_label()),
            e(line)
        );
    }
    out.push_str(&page::heading(alert.status, &one_line(&alert.subject)));
    if !alert.message.trim().is_empty() {
        let _ = writeln!(
            out,
            "<p style=\"margin:0 0 12px 0;{WRAP}\">{}</p>",
            e(alert.message.trim_end())
        );
    }
    let facts = all_facts(alert);
    out.push_str(&page::facts(
        facts.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        12,
    ));
    if let Some(note) = &alert.note {
        let _ = writeln!(out, "<p style=\"{WRAP}\"><em>{}</em></p>", e(note));
    }
    for section in &alert.sections {
        let mark = marked_line(&section.text, summary.as_deref());
        let mut body = String::new();
        for (i, line) in section.text.lines().enumerate() {
            if i > 0 {
                body.push('\n');
            }
            if Some(i) == mark {
                let _ = write!(
                    body,
                    "<mark style=\"background:{};color:{INK};font-weight:bold\">{}</mark>",
                    alert.status.tint(),
                    e(line)
                );
            } else {
                body.push_str(&e(line));
            }
        }
        let _ = writeln!(
            out,
            "<h3 style=\"font-size:16px;margin:12px 0 4px 0;{WRAP}\">{}</h3>\n\
             <pre class=\"ba-pre\" style=\"{WRAP};background:#f6f8fa;color:{INK};\
             border:1px solid {RULE};padding:8px;margin:0;font-size:13px;\
             font-family:Menlo,Consolas,monospace\">{}</pre>",
            e(&section.title),
            body
        );
    }
    out.push_str(&page::close());
    out
}

/// The finished message of an alert: multipart/alternative (text/plain, text/html).
pub(crate) fn compose_alert(alert: &Alert, addresses: &Addresses) -> Result<Vec<u8>, Error> {
    compose_alternative(
        &alert.subject_line(),
        alert.date,
        alert.status.as_str(),
        plain_body(alert),
        html_body(alert),
        addresses,
    )
}

/// A generated message (an alert, `report`'s digest): text/plain with an HTML
/// alternative, the automatic headers, `X-Backup-Alert-Status: <status>`.
pub(crate) fn compose_alternative(
    subject_line: &str,
    date: DateTime<Local>,
    status: &str,
    plain: String,
    html: String,
    addresses: &Addresses,
) -> Result<Vec<u8>, Error> {
    let date: SystemTime = date.into();
    let automatic = [
        // RFC 3834 §5: autoresponders and vacation replies stay quiet.
        HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_string(),
        ),
        HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Backup-Alert-Status"),
            status.to_string(),
        ),
    ];
    let builder = headers(addresses, subject_line, date, &automatic)?;
    let message = builder
        .multipart(MultiPart::alternative_plain_html(plain, html))
        .map_err(|e| Error::Compose(format!("cannot build the message: {e}")))?;
    finish(message, addresses)
}

/// A plain message as `mail -s` sends it: the body as given, attachments making it
/// multipart/mixed, extra headers from `-a`.
pub(crate) fn compose_plain(
    subject: &str,
    body: Vec<u8>,
    addresses: &Addresses,
    extra_headers: &[HeaderValue],
    attachments: &[FileAttachment],
) -> Result<Vec<u8>, Error> {
    let builder = headers(
        addresses,
        &one_line(subject),
        SystemTime::now(),
        extra_headers,
    )?;
    let text = match String::from_utf8(body) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    let built = if attachments.is_empty() {
        builder.singlepart(SinglePart::plain(text))
    } else {
        let mut mixed = MultiPart::mixed().singlepart(SinglePart::plain(text));
        for a in attachments {
            let ctype = guess_content_type(&a.filename);
            mixed = mixed
                .singlepart(Attachment::new(a.filename.clone()).body(a.content.clone(), ctype));
        }
        builder.multipart(mixed)
    };
    let message = built.map_err(|e| Error::Compose(format!("cannot build the message: {e}")))?;
    finish(message, addresses)
}

/// Placeholder sender lettre insists on when we leave From to rsmtp; removed again.
const PLACEHOLDER_FROM: &str = "backup-alert@localhost.invalid";

fn headers(
    addresses: &Addresses,
    subject: &str,
    date: SystemTime,
    extra_headers: &[HeaderValue],
) -> Result<lettre::message::MessageBuilder, Error> {
    let from = match &addresses.from {
        Some(f) => f.clone(),
        None => parse_mailbox(PLACEHOLDER_FROM)?,
    };
    // A Message-ID in the sender's domain (as msmtp makes one); without a From, rsmtp adds
    // both From and Message-ID from the account.
    let message_id = addresses
        .from
        .as_ref()
        .and_then(|f| rsmtp_message::message_id(f.email.domain()).ok());
    let mut b = Message::builder()
        .from(from)
        .subject(header_subject(subject))
        .date(date)
        .user_agent(format!("backup-alert/{}", env!("CARGO_PKG_VERSION")));
    if let Some(id) = message_id {
        b = b.message_id(Some(id));
    } else if addresses.from.is_some() {
        b = b.message_id(None);
    }
    for m in &addresses.to {
        b = b.to(m.clone());
    }
    for m in &addresses.cc {
        b = b.cc(m.clone());
    }
    if addresses.to.is_empty() && addresses.cc.is_empty() {
        // lettre needs a visible recipient to build a message; Bcc-only mail is refused.
        return Err(Error::Usage(
            "at least one To or Cc recipient is needed".into(),
        ));
    }
    for h in extra_headers {
        b = b.raw_header(h.clone());
    }
    Ok(b)
}

fn finish(mut message: Message, addresses: &Addresses) -> Result<Vec<u8>, Error> {
    if addresses.from.is_none() {
        message.headers_mut().remove::<header::From>();
    }
    let bytes = message.formatted();
    check_header_block(&bytes)?;
    Ok(bytes)
}

/// Last line of defence against header injection: every line of the header block must
/// be a `Name: value` line or a folded continuation, and no header a caller could smuggle
/// in (Bcc, a second From/To/Subject) may appear.
pub(crate) fn check_header_block(message: &[u8]) -> Result<(), Error> {
    let end = find(message, b"\r\n\r\n").unwrap_or(message.len());
    let block = &message[..end];
    let mut seen_once = std::collections::HashMap::new();
    for line in block.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line[0] == b' ' || line[0] == b'\t' {
            continue;
        }
        if line.contains(&b'\r') {
            return Err(Error::Compose("bare CR in the header block".into()));
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| Error::Compose("malformed header line".into()))?;
        let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
        if name == "bcc" {
            return Err(Error::Compose("a Bcc header reached the message".into()));
        }
        if [
            "from",
            "to",
            "cc",
            "subject",
            "date",
            "message-id",
            "sender",
        ]
        .contains(&name.as_str())
        {
            let n = seen_once.entry(name.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                return Err(Error::Compose(format!("duplicate {name} header")));
            }
        }
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn guess_content_type(filename: &str) -> ContentType {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let mime = match ext.as_str() {
        "txt" | "log" | "conf" | "sh" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "gz" | "tgz" => "application/gzip",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    };
    ContentType::parse(mime).unwrap_or(ContentType::TEXT_PLAIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs() -> Addresses {
        Addresses {
            from: Some(parse_mailbox("Backups <backup@example.com>").unwrap()),
            to: vec![parse_mailbox("admin@example.com").unwrap()],
            cc: vec![],
        }
    }

    fn header_block(msg: &[u8]) -> String {
        let s = String::from_utf8_lossy(msg);
        s.split("\r\n\r\n").next().unwrap().to_string()
    }

    fn sample() -> Alert {
        let mut a = Alert::new(Status::Failure, "Backup Échoué", "serv-core");
        a.message = "borg create failed".into();
        a.fact("Log", "/backup/logs/x.log");
        a.sections.push(Section {
            title: "last 2 lines of /backup/logs/x.log".into(),
            text: "<error> & \"quoted\"\nConnection refused".into(),
        });
        a
    }

    #[test]
    fn status_marks_match_the_reference_alerts() {
        assert_eq!(Status::Success.mark(), "✅");
        assert_eq!(Status::Failure.mark(), "❌");
        assert_eq!(Status::Warning.mark(), "⚠️");
        assert_eq!(Status::Rotation.mark(), "🔄");
        assert_eq!(Status::parse("restore"), Some(Status::Restore));
        assert_eq!(Status::parse("nope"), None);
    }

    #[test]
    fn subject_is_rfc2047_encoded() {
        let msg = compose_alert(&sample(), &addrs()).unwrap();
        let head = header_block(&msg);
        let subject = head
            .lines()
            .find(|l| l.starts_with("Subject:"))
            .expect("subject");
        assert!(subject.contains("=?utf-8?b?"), "{subject}");
        assert!(head.is_ascii(), "header block must be 7-bit: {head}");
        assert!(head.contains("Message-ID: <"));
        assert!(head.contains("Date: "));
        assert!(head.contains("MIME-Version: 1.0"));
        assert!(head.contains("multipart/alternative"));
    }

    #[test]
    fn subject_line_has_mark_and_host() {
        let a = sample();
        assert_eq!(a.subject_line(), "❌ [serv-core] Backup Échoué");
    }

    #[test]
    fn html_is_escaped() {
        let mut a = sample();
        a.subject = "<script>alert(1)</script>".into();
        a.host = "h&<".into();
        let html = html_body(&a);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;error&gt; &amp; &quot;quoted&quot;"));
        assert!(html.contains("h&amp;&lt;"));
        assert_eq!(escape_html("a'b"), "a&#39;b");
    }

    #[test]
    fn plain_body_has_host_date_status_and_tail() {
        let body = plain_body(&sample());
        assert!(body.contains("Host   : serv-core"), "{body}");
        assert!(body.contains("Status : failure"));
        assert!(body.contains("Log    : /backup/logs/x.log"));
        assert!(body.contains("--- last 2 lines of /backup/logs/x.log ---\n<error>"));
        assert!(body.contains("borg create failed"));
    }

    #[test]
    fn subject_injection_stays_one_header() {
        let mut a = sample();
        a.subject = "ok\r\nBcc: victim@evil.example\r\nX-Evil: 1".into();
        let msg = compose_alert(&a, &addrs()).unwrap();
        let head = header_block(&msg);
        for line in head.lines() {
            assert!(!line.starts_with("Bcc:"), "{head}");
            assert!(!line.starts_with("X-Evil:"), "{head}");
        }
        // bare LF and CR too
        a.subject = "a\nTo: x@evil.example\rCc: y@evil.example".into();
        let head = header_block(&compose_alert(&a, &addrs()).unwrap());
        assert_eq!(head.lines().filter(|l| l.starts_with("To:")).count(), 1);
        assert!(!head.lines().any(|l| l.starts_with("Cc:")));
    }

    #[test]
    fn a_huge_subject_keeps_header_lines_legal() {
        let mut a = sample();
        a.subject = "x".repeat(2000);
        let msg = compose_alert(&a, &addrs()).unwrap();
        let head = header_block(&msg);
        for line in head.lines() {
            assert!(line.len() <= 998, "{} bytes: {}", line.len(), &line[..60]);
        }
        // the whole text is still in the body
        assert!(plain_body(&a).contains(&a.subject));
        let plain = compose_plain(&"y".repeat(3000), b"b".to_vec(), &addrs(), &[], &[]).unwrap();
        assert!(header_block(&plain).lines().all(|l| l.len() <= 998));
        assert_eq!(header_subject("short\nsubject"), "short subject");
    }

    #[test]
    fn one_line_folds_breaks() {
        assert_eq!(one_line("a\r\nb\n\nc\rd\te"), "a b c d e");
        assert_eq!(one_line("  x  "), "x");
        assert_eq!(one_line("x \r\n y"), "x y");
    }

    #[test]
    fn extra_headers_with_line_breaks_are_refused() {
        assert!(parse_extra_header("X-Tag: a\r\nBcc: evil@x").is_err());
        assert!(parse_extra_header("X-Tag: a\nBcc: evil@x").is_err());
        assert!(parse_extra_header("no colon").is_err());
        assert!(parse_extra_header("Bad Name: v").is_err());
        assert!(parse_extra_header("Bcc: hidden@x").is_err());
        let h = parse_extra_header("X-Backup-Job: nightly").unwrap();
        let msg = compose_plain("s", b"body\n".to_vec(), &addrs(), &[h], &[]).unwrap();
        assert!(header_block(&msg).contains("X-Backup-Job: nightly"));
    }

    #[test]
    fn addresses_with_line_breaks_are_refused() {
        assert!(parse_mailbox("a@b.example\r\nBcc: c@d.example").is_err());
        assert!(parse_mailbox("not an address").is_err());
    }

    #[test]
    fn without_from_the_header_is_left_to_rsmtp() {
        let mut a = addrs();
        a.from = None;
        let msg = compose_alert(&sample(), &a).unwrap();
        let head = header_block(&msg);
        assert!(!head.lines().any(|l| l.starts_with("From:")), "{head}");
        assert!(!String::from_utf8_lossy(&msg).contains(PLACEHOLDER_FROM));
    }

    #[test]
    fn attachments_make_multipart_mixed() {
        let att = FileAttachment {
            filename: "report.txt".into(),
            content: b"hello report".to_vec(),
        };
        let msg = compose_plain("s", b"body".to_vec(), &addrs(), &[], &[att]).unwrap();
        let s = String::from_utf8_lossy(&msg);
        assert!(s.contains("multipart/mixed"));
        assert!(s.contains("filename=\"report.txt\""));
    }

    #[test]
    fn header_block_checker_catches_smuggled_headers() {
        assert!(check_header_block(b"From: a@b\r\nBcc: x@y\r\n\r\nbody").is_err());
        assert!(check_header_block(b"To: a@b\r\nTo: x@y\r\n\r\nbody").is_err());
        assert!(check_header_block(b"Subject: a\r\n b\r\n\r\nBcc: in body is fine").is_ok());
    }
}
