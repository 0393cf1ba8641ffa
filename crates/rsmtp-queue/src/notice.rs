//! The failure notice ("bounce") for a message that failed permanently or
//! expired: a plain RFC 5322 text message from MAILER-DAEMON to the envelope
//! sender (or the configured `notify` address) quoting the reason, the
//! recipients and the original header block, so no queued message disappears
//! without someone being told. It carries `Auto-Submitted: auto-replied`
//! (RFC 3834) so well-behaved software does not answer it, and a notice is never
//! addressed to a null sender (see [`notice_recipient`]).

use std::fs::File;
use std::io::Read;
use std::time::SystemTime;

use chrono::{DateTime, Local};

use crate::flush::FailedEntry;
use crate::{EntryId, EntryMeta, Queue, QueueError};

/// The original header block is quoted up to this size.
const MAX_QUOTED_HEADERS: u64 = 64 * 1024;

/// Who should receive the failure notice: `notify` if set, else the envelope
/// sender; `None` for a null sender (`<>`) without `notify`, which must not get
/// one (it is itself a notice; answering could loop).
pub fn notice_recipient(meta: &EntryMeta) -> Option<&str> {
    meta.notify
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| Some(meta.envelope_from.as_str()).filter(|s| !s.trim().is_empty()))
}

/// Builds the notice for message `id` with envelope `meta`, failed for `reason`;
/// `original` is the start of the original message (its header block is quoted,
/// anything after the first blank line is ignored). `hostname` names this
/// machine in `From:` and `Message-ID:`. Lines end in CRLF. When there is no one
/// to notify ([`notice_recipient`] is `None`) it is addressed to `postmaster`.
pub fn failure_notice(
    id: &EntryId,
    meta: &EntryMeta,
    reason: &str,
    original: &[u8],
    hostname: &str,
    now: SystemTime,
) -> Vec<u8> {
    let host = one_line(hostname);
    let host = if host.is_empty() {
        "localhost".to_owned()
    } else {
        host
    };
    let to = notice_recipient(meta)
        .map(one_line)
        .unwrap_or_else(|| "postmaster".into());
    let headers = header_block(original);
    let subject = original_subject(headers).unwrap_or_else(|| "(no subject)".into());
    let date = DateTime::<Local>::from(now).to_rfc2822();
    let queued = DateTime::<Local>::from(meta.submitted).to_rfc2822();
    let stamp = DateTime::<Local>::from(now).format("%Y%m%d%H%M%S");

    let mut text = String::new();
    let mut line = |s: &str| {
        text.push_str(s);
        text.push_str("\r\n");
    };
    line(&format!(
        "From: Mail Delivery System <MAILER-DAEMON@{host}>"
    ));
    line(&format!("To: {to}"));
    line(&format!("Subject: Undelivered mail: {subject}"));
    line(&format!("Date: {date}"));
    line(&format!("Message-ID: <{stamp}.{id}.notice@{host}>"));
    line("Auto-Submitted: auto-replied");
    line("MIME-Version: 1.0");
    line("Content-Type: text/plain; charset=utf-8");
    line("Content-Transfer-Encoding: 8bit");
    line("");
    line(&format!("This is the rsmtp mail queue on {host}."));
    line("");
    line("Your message could not be delivered and has been given up.");
    line("");
    line(&format!("Queue id:    {id}"));
    line(&format!("Queued at:   {queued}"));
    line(&format!("Attempts:    {}", meta.attempts));
    line(&format!("Account:     {}", one_line(&meta.account)));
    line(&format!("Sender:      <{}>", one_line(&meta.envelope_from)));
    for rcpt in &meta.recipients {
        line(&format!("Recipient:   <{}>", one_line(rcpt)));
    }
    line("Reason:");
    for reason_line in reason.lines() {
        line(&format!("    {}", reason_line.trim_end_matches('\r')));
    }
    line("");
    line("----- Original message headers -----");
    line("");
    let mut out = text.into_bytes();
    for header_line in headers.split(|&b| b == b'\n') {
        let header_line = header_line.strip_suffix(b"\r").unwrap_or(header_line);
        if header_line.is_empty() {
            continue;
        }
        out.extend_from_slice(header_line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

impl Queue {
    /// The failure notice for an entry reported failed or expired by
    /// [`Queue::flush`], quoting the original headers from the kept message.
    /// The hostname is this machine's node name.
    pub fn failure_notice(&self, entry: &FailedEntry) -> Result<Vec<u8>, QueueError> {
        let path = entry.message_path();
        let mut original = Vec::new();
        File::open(&path)
            .and_then(|f| f.take(MAX_QUOTED_HEADERS).read_to_end(&mut original))
            .map_err(|e| QueueError::io("read", &path, e))?;
        let uname = rustix::system::uname();
        let hostname = uname.nodename().to_string_lossy();
        Ok(failure_notice(
            &entry.id,
            &entry.meta,
            &entry.reason,
            &original,
            &hostname,
            SystemTime::now(),
        ))
    }
}

/// The header block: everything before the first empty line (or, when the
/// quoted part was cut, up to the last complete line).
fn header_block(message: &[u8]) -> &[u8] {
    let mut start = 0;
    while start < message.len() {
        let end = message[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| start + p + 1);
        let Some(end) = end else {
            return &message[..start];
        };
        let line = &message[start..end];
        if line == b"\n" || line == b"\r\n" {
            return &message[..start];
        }
        start = end;
    }
    message
}

/// The unfolded value of the first `Subject:` header.
fn original_subject(headers: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(headers);
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.eq_ignore_ascii_case("subject") {
            continue;
        }
        let mut subject = value.trim().to_owned();
        while let Some(next) = lines.peek().filter(|l| l.starts_with([' ', '\t'])) {
            subject.push(' ');
            subject.push_str(next.trim());
            lines.next();
        }
        let subject = one_line(&subject);
        return (!subject.is_empty()).then_some(subject);
    }
    None
}

/// Text safe for a header line: control characters become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> EntryMeta {
        EntryMeta::new(
            "work",
            "alice@example.org",
            vec!["bob@example.org".into(), "carol@example.net".into()],
        )
    }

    const ORIGINAL: &[u8] = b"From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: Nightly\n backup report\nX-Evil: a\rb\n\nsecret body line\n";

    #[test]
    fn notice_quotes_headers_not_body_and_goes_to_the_sender() {
        let id = EntryId::generate();
        let notice = failure_notice(
            &id,
            &meta(),
            "550 5.1.1 no such user\nsecond line",
            ORIGINAL,
            "host1",
            SystemTime::now(),
        );
        let text = String::from_utf8(notice.clone()).unwrap();
        assert!(
            text.starts_with(
                "From: Mail Delivery System <MAILER-DAEMON@host1>\r\nTo: alice@example.org\r\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\r\nSubject: Undelivered mail: Nightly backup report\r\n"),
            "{text}"
        );
        assert!(text.contains("Auto-Submitted: auto-replied\r\n"));
        assert!(
            text.contains("Recipient:   <bob@example.org>\r\nRecipient:   <carol@example.net>\r\n")
        );
        assert!(text.contains("    550 5.1.1 no such user\r\n    second line\r\n"));
        assert!(text.contains(&format!("Queue id:    {id}\r\n")));
        assert!(text.contains("\r\nSubject: Nightly\r\n backup report\r\n"));
        assert!(!text.contains("secret body line"));
        // Every line ends in CRLF; no bare LF.
        assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());
    }

    #[test]
    fn notice_goes_to_notify_and_never_to_a_null_sender() {
        let mut m = meta();
        m.notify = Some("root".into());
        assert_eq!(notice_recipient(&m), Some("root"));
        m.notify = None;
        m.envelope_from = String::new();
        assert_eq!(notice_recipient(&m), None);
        let text = failure_notice(
            &EntryId::generate(),
            &m,
            "expired",
            b"Subject: x\r\n\r\n",
            "",
            SystemTime::now(),
        );
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("To: postmaster\r\n"));
        assert!(text.contains("MAILER-DAEMON@localhost"));
        let no_subject = failure_notice(
            &EntryId::generate(),
            &meta(),
            "x",
            b"",
            "h",
            SystemTime::now(),
        );
        assert!(String::from_utf8(no_subject)
            .unwrap()
            .contains("Subject: Undelivered mail: (no subject)\r\n"));
    }
}
