//! Postfix's lines in `/var/log/mail.log`, read as `stats` and `report` count msmtp's: a
//! delivery agent's `status=sent|deferred|bounced|expired` line is one message to one
//! recipient, and smtpd's `NOQUEUE: reject:` is one refused before it was queued.
//!
//! ```text
//! Dec 13 10:30:16 mail postfix/smtp[1237]: ABC123: to=<dest@example.com>, relay=…, delay=0.52, delays=…, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as DEF456)
//! Dec 13 10:30:16 mail postfix/smtpd[1234]: NOQUEUE: reject: RCPT from unknown[1.2.3.4]: 554 5.7.1 <s@spam.com>: Sender address rejected: Access denied; from=<s@spam.com> to=<u@example.com> proto=ESMTP helo=<x>
//! ```
//!
//! The entry has the fields a msmtp line would give the same counts: `recipients`,
//! `status`, `dsn` and `detail` (the text in parentheses, or the reject reason).

use super::entry::LogEntry;

/// The syslog prefix (`Dec 13 10:30:16 mail postfix/smtp[1237]:`, or an RFC 3339 time)
/// split into its time and what follows the program tag.
fn after_tag(line: &str) -> Option<(String, &str)> {
    let idx = line.find(" postfix")?;
    let head = &line[..idx];
    let rest = &line[idx + 1..];
    let colon = rest.find(": ")?;
    let tag = &rest[..colon];
    if !tag.starts_with("postfix") || tag.contains(' ') {
        return None;
    }
    // The time is the head without its last word (the host name).
    let time = head
        .rsplit_once(' ')
        .map_or("", |(t, _)| t)
        .trim()
        .to_string();
    Some((time, &rest[colon + 2..]))
}

/// `<a@b>` → `a@b`.
fn address(s: &str) -> String {
    s.trim_matches(|c| c == '<' || c == '>' || c == ',')
        .to_string()
}

/// A Postfix delivery or reject line as a log entry; `None` for every other line.
pub(crate) fn parse_line(line: &str) -> Option<LogEntry> {
    let (time, body) = after_tag(line.trim_end())?;
    let mut fields = Vec::new();
    if let Some(reject) = body.strip_prefix("NOQUEUE: reject: ") {
        // "RCPT from host[ip]: 554 5.7.1 <…>: reason; from=<…> to=<…> proto=…"
        let (reason, envelope) = reject.split_once("; ").unwrap_or((reject, ""));
        let reason = reason.split_once("]: ").map_or(reason, |(_, r)| r);
        let to = envelope
            .split_whitespace()
            .find_map(|w| w.strip_prefix("to="))
            .map(address)
            .unwrap_or_default();
        fields.push(("recipients".to_string(), to));
        fields.push(("status".to_string(), "rejected".to_string()));
        fields.push(("detail".to_string(), reason.to_string()));
        return Some(LogEntry { time, fields });
    }
    // "QUEUEID: to=<…>, relay=…, …, dsn=X, status=WORD (detail)"
    let (_, rest) = body.split_once(": ")?;
    let (head, detail) = match rest.find(" (") {
        Some(i) => (
            &rest[..i],
            rest[i + 2..].strip_suffix(')').unwrap_or(&rest[i + 2..]),
        ),
        None => (rest, ""),
    };
    let mut status = None;
    for part in head.split(", ") {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        match k {
            "to" => fields.push(("recipients".to_string(), address(v))),
            "dsn" | "relay" => fields.push((k.to_string(), v.to_string())),
            "status" => status = Some(v.split_whitespace().next().unwrap_or(v).to_string()),
            _ => {}
        }
    }
    let status =
        status.filter(|s| ["sent", "deferred", "bounced", "expired"].contains(&s.as_str()))?;
    fields.push(("status".to_string(), status));
    if !detail.is_empty() {
        fields.push(("detail".to_string(), detail.to_string()));
    }
    Some(LogEntry { time, fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_and_reject_lines() {
        let sent = parse_line("Dec 13 10:30:16 mail postfix/smtp[1237]: ABC123: to=<user@example.com>, relay=mail.example.com[1.2.3.4]:25, delay=0.52, delays=0.01/0/0.02/0.49, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as DEF456)").unwrap();
        assert_eq!(sent.time, "Dec 13 10:30:16");
        assert_eq!(sent.get("recipients"), Some("user@example.com"));
        assert_eq!(sent.get("status"), Some("sent"));
        assert!(sent.is_success());
        let deferred = parse_line("Dec 13 10:31:00 mail postfix/smtp[1234]: ABC123: to=<user@example.com>, relay=none, delay=5.2, delays=0.01/5/0.02/0.17, dsn=4.4.1, status=deferred (connect to mail.example.com[1.2.3.4]:25: Connection timed out)").unwrap();
        assert_eq!(
            deferred.reason(),
            "status=deferred dsn=4.4.1 (connect to mail.example.com[1.2.3.4]:25: Connection timed out)"
        );
        let reject = parse_line("Dec 13 10:32:00 mail postfix/smtpd[1234]: NOQUEUE: reject: RCPT from unknown[1.2.3.4]: 554 5.7.1 <spammer@spam.com>: Sender address rejected: Access denied; from=<spammer@spam.com> to=<user@example.com> proto=ESMTP helo=<x>").unwrap();
        assert_eq!(
            reject.reason(),
            "status=rejected (554 5.7.1 <spammer@spam.com>: Sender address rejected: Access denied)"
        );
        assert!(parse_line(
            "Dec 13 10:30:15 mail postfix/smtpd[1234]: ABC123DEF: client=example.com[1.2.3.4]"
        )
        .is_none());
        assert!(
            parse_line("Dec 13 10:30:16 mail postfix/qmgr[1236]: ABC123DEF: removed").is_none()
        );
    }
}
