//! The envelope stored beside each queued message, and its on-disk text format.
//!
//! The format is line based so an administrator can read it with `cat`:
//!
//! ```text
//! rsmtp-queue-envelope 1
//! account: work
//! config-file: /home/alice/.msmtprc
//! envelope-from: alice@example.org
//! recipient: bob@example.org
//! submitted: 1763741571.123456789
//! attempts: 2
//! next-attempt: 1763741811.000000000
//! last-error: 421 4.7.0 Try again later
//! size: 2417
//! eight-bit: yes
//! expire-after: 432000
//! override: port=2525
//! unanswered-since: 1763741811.500000000
//! end
//! ```
//!
//! Values are stored byte for byte except `%`, control characters (CR and LF among
//! them) and DEL, which are written as `%XX`; a value therefore never spans lines,
//! whatever the server or the user put in it. The final `end` line makes a
//! truncated file detectable even though the file is only ever replaced by rename.
//! Unknown keys are ignored so a newer rsmtp can add fields.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::QueueError;

const MAGIC: &[u8] = b"rsmtp-queue-envelope 1";
const END: &[u8] = b"end";

/// The first retry comes this long after a failed attempt (40 to 60 s with the
/// jitter: within a minute) …
pub const BACKOFF_BASE: Duration = Duration::from_secs(50);
/// … and the delay doubles per attempt up to this.
pub const BACKOFF_MAX: Duration = Duration::from_secs(3600);

/// Everything needed to deliver a queued message later, without the original
/// command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryMeta {
    /// The msmtprc account name, resolved again at flush time.
    pub account: String,
    /// The `-C` file given at submission, if any, so the account is re-read from it.
    pub config_file: Option<PathBuf>,
    /// The SMTP envelope sender (`MAIL FROM`); empty for a null sender.
    pub envelope_from: String,
    /// The SMTP envelope recipients (`RCPT TO`).
    pub recipients: Vec<String>,
    /// DSN `NOTIFY=` parameter, as configured.
    pub dsn_notify: Option<String>,
    /// DSN `RET=` parameter, as configured.
    pub dsn_return: Option<String>,
    /// When the message was accepted into the queue.
    pub submitted: SystemTime,
    /// Failed delivery attempts so far.
    pub attempts: u32,
    /// The last attempt's error (a server reply or a connection error).
    pub last_error: Option<String>,
    /// Not to be retried before this time (unless a flush is forced).
    pub next_attempt: SystemTime,
    /// Where to send a failure notice instead of the envelope sender.
    pub notify: Option<String>,
    /// The message size in bytes, declared as `SIZE=` when the server offers it.
    pub size: Option<u64>,
    /// The message has 8-bit bytes: `BODY=8BITMIME` when the server offers it.
    pub eight_bit: bool,
    /// This entry's own expiry (the submitting account's `queue_expire`); `None`
    /// uses the flush's `expire_after`.
    pub expire_after: Option<Duration>,
    /// Account settings given on the submitting command line (`--port=2525` →
    /// `("port", "2525")`), applied again at delivery time; `host` among them with
    /// an empty `account` means a command-line-only account (`--host`).
    pub overrides: Vec<(String, String)>,
    /// An attempt sent the whole message, final dot included, at this time and got
    /// no reply (a timeout, a broken connection, or rsmtp killed while waiting):
    /// the server may have it, so the next delivery may be a second copy. Kept
    /// until the message leaves the queue, for `mailq` and the warning of each retry.
    pub unanswered_since: Option<SystemTime>,
}

impl EntryMeta {
    /// An envelope submitted now, due at once, never attempted.
    pub fn new(account: &str, envelope_from: &str, recipients: Vec<String>) -> EntryMeta {
        let now = SystemTime::now();
        EntryMeta {
            account: account.to_owned(),
            config_file: None,
            envelope_from: envelope_from.to_owned(),
            recipients,
            dsn_notify: None,
            dsn_return: None,
            submitted: now,
            attempts: 0,
            last_error: None,
            next_attempt: now,
            notify: None,
            size: None,
            eight_bit: false,
            expire_after: None,
            overrides: Vec::new(),
            unanswered_since: None,
        }
    }

    /// Records a temporary failure at `now`: one more attempt, the error kept, and
    /// the next attempt pushed back by [`retry_delay`] with ±20 % jitter (so many
    /// entries queued during one outage do not all hit the relay at the same second).
    pub fn record_temp_failure(&mut self, error: &str, now: SystemTime) {
        self.record_temp_failure_after(error, now, BACKOFF_BASE);
    }

    /// [`EntryMeta::record_temp_failure`] with the first delay `first` instead of
    /// [`BACKOFF_BASE`] (tests shorten it; see [`retry_delay_from`]).
    pub fn record_temp_failure_after(&mut self, error: &str, now: SystemTime, first: Duration) {
        self.attempts = self.attempts.saturating_add(1);
        self.last_error = Some(error.to_owned());
        let delay = retry_delay_from(first, self.attempts).mul_f64(0.8 + 0.4 * fastrand::f64());
        self.next_attempt = now + delay;
    }

    /// The serialised form (see the module documentation).
    pub fn encode(&self) -> Result<Vec<u8>, QueueError> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(MAGIC);
        out.push(b'\n');
        field(&mut out, "account", self.account.as_bytes());
        if let Some(path) = &self.config_file {
            field(&mut out, "config-file", path.as_os_str().as_bytes());
        }
        field(&mut out, "envelope-from", self.envelope_from.as_bytes());
        for rcpt in &self.recipients {
            field(&mut out, "recipient", rcpt.as_bytes());
        }
        if let Some(v) = &self.dsn_notify {
            field(&mut out, "dsn-notify", v.as_bytes());
        }
        if let Some(v) = &self.dsn_return {
            field(&mut out, "dsn-return", v.as_bytes());
        }
        field(
            &mut out,
            "submitted",
            encode_time("submitted", self.submitted)?.as_bytes(),
        );
        field(&mut out, "attempts", self.attempts.to_string().as_bytes());
        field(
            &mut out,
            "next-attempt",
            encode_time("next-attempt", self.next_attempt)?.as_bytes(),
        );
        if let Some(v) = &self.last_error {
            field(&mut out, "last-error", v.as_bytes());
        }
        if let Some(v) = &self.notify {
            field(&mut out, "notify", v.as_bytes());
        }
        if let Some(v) = self.size {
            field(&mut out, "size", v.to_string().as_bytes());
        }
        if self.eight_bit {
            field(&mut out, "eight-bit", b"yes");
        }
        if let Some(v) = self.expire_after {
            field(&mut out, "expire-after", v.as_secs().to_string().as_bytes());
        }
        for (command, value) in &self.overrides {
            if command.is_empty() || command.contains('=') {
                return Err(QueueError::InvalidMeta {
                    field: "override",
                    reason: format!("bad command name {command:?}"),
                });
            }
            field(
                &mut out,
                "override",
                format!("{command}={value}").as_bytes(),
            );
        }
        if let Some(t) = self.unanswered_since {
            field(
                &mut out,
                "unanswered-since",
                encode_time("unanswered-since", t)?.as_bytes(),
            );
        }
        out.extend_from_slice(END);
        out.push(b'\n');
        Ok(out)
    }

    /// Parses the serialised form; the error says what is wrong (the caller adds
    /// the path).
    pub fn decode(bytes: &[u8]) -> Result<EntryMeta, String> {
        let body = bytes
            .strip_suffix(b"\n")
            .ok_or("truncated (no final newline)")?;
        let mut lines = body.split(|&b| b == b'\n');
        if lines.next() != Some(MAGIC) {
            return Err("not an rsmtp queue envelope (bad first line)".into());
        }
        let mut fields = Fields::default();
        let mut ended = false;
        for line in lines {
            if ended {
                return Err("data after the end line".into());
            }
            if line == END {
                ended = true;
                continue;
            }
            let at = key_end(line)
                .ok_or_else(|| format!("line without \"key: value\": {}", show(line)))?;
            let (key, value) = (&line[..at], unescape(&line[at + 2..])?);
            fields.set(key, value)?;
        }
        if !ended {
            return Err("truncated (no end line)".into());
        }
        fields.finish()
    }
}

/// The delay before the next attempt after `attempts` failures, before jitter:
/// 50 s, 100 s, 200 s, … doubling, at most 1 h.
pub fn retry_delay(attempts: u32) -> Duration {
    retry_delay_from(BACKOFF_BASE, attempts)
}

/// [`retry_delay`] starting from `first` instead of [`BACKOFF_BASE`].
pub fn retry_delay_from(first: Duration, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    first.saturating_mul(1u32 << doublings).min(BACKOFF_MAX)
}

fn field(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b": ");
    for &b in value {
        if b == b'%' || b < 0x20 || b == 0x7f {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out.push(b'\n');
}

fn unescape(value: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    // Copied a run at a time: most values have no escape at all.
    while let Some(at) = rest.iter().position(|&b| b == b'%') {
        out.extend_from_slice(&rest[..at]);
        let hex = rest
            .get(at + 1..at + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("bad %-escape in {}", show(value)))?;
        out.push(hex);
        rest = &rest[at + 3..];
    }
    out.extend_from_slice(rest);
    Ok(out)
}

/// Where the first `": "` of `line` is.
fn key_end(line: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = line[from..].iter().position(|&b| b == b':') {
        let at = from + at;
        if line.get(at + 1) == Some(&b' ') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn show(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let short: String = text.chars().take(60).collect();
    format!("{short:?}")
}

fn encode_time(field: &'static str, t: SystemTime) -> Result<String, QueueError> {
    let d = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| QueueError::InvalidMeta {
            field,
            reason: "is before 1970".into(),
        })?;
    Ok(format!("{}.{:09}", d.as_secs(), d.subsec_nanos()))
}

fn decode_time(key: &str, text: &str) -> Result<SystemTime, String> {
    let bad = || format!("{key}: not a timestamp: {text:?}");
    let (secs, nanos) = text.split_once('.').unwrap_or((text, "0"));
    let secs: u64 = secs.parse().map_err(|_| bad())?;
    let nanos: u32 = nanos.parse().map_err(|_| bad())?;
    if nanos >= 1_000_000_000 {
        return Err(bad());
    }
    UNIX_EPOCH
        .checked_add(Duration::new(secs, nanos))
        .ok_or_else(bad)
}

/// Fields collected while parsing, checked for presence at the end.
#[derive(Default)]
struct Fields {
    account: Option<String>,
    config_file: Option<PathBuf>,
    envelope_from: Option<String>,
    recipients: Vec<String>,
    dsn_notify: Option<String>,
    dsn_return: Option<String>,
    submitted: Option<SystemTime>,
    attempts: Option<u32>,
    last_error: Option<String>,
    next_attempt: Option<SystemTime>,
    notify: Option<String>,
    size: Option<u64>,
    eight_bit: Option<bool>,
    expire_after: Option<Duration>,
    overrides: Vec<(String, String)>,
    unanswered_since: Option<SystemTime>,
}

fn number(key: &str, text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("{key}: not a number: {text:?}"))
}

impl Fields {
    fn set(&mut self, key: &[u8], value: Vec<u8>) -> Result<(), String> {
        // Only errors show it, and only for the known (ASCII) keys.
        let key_text = std::str::from_utf8(key).unwrap_or("?");
        if key == b"config-file" {
            return once(
                key_text,
                &mut self.config_file,
                OsString::from_vec(value).into(),
            );
        }
        let text = String::from_utf8(value).map_err(|_| format!("{key_text}: not UTF-8"))?;
        match key {
            b"account" => once(key_text, &mut self.account, text),
            b"envelope-from" => once(key_text, &mut self.envelope_from, text),
            b"recipient" => {
                self.recipients.push(text);
                Ok(())
            }
            b"override" => {
                let (command, value) = text
                    .split_once('=')
                    .ok_or_else(|| format!("override: no '=' in {text:?}"))?;
                self.overrides.push((command.to_owned(), value.to_owned()));
                Ok(())
            }
            b"dsn-notify" => once(key_text, &mut self.dsn_notify, text),
            b"dsn-return" => once(key_text, &mut self.dsn_return, text),
            b"last-error" => once(key_text, &mut self.last_error, text),
            b"notify" => once(key_text, &mut self.notify, text),
            b"size" => once(key_text, &mut self.size, number(key_text, &text)?),
            b"eight-bit" => once(key_text, &mut self.eight_bit, text == "yes"),
            b"expire-after" => once(
                key_text,
                &mut self.expire_after,
                Duration::from_secs(number(key_text, &text)?),
            ),
            b"attempts" => {
                let n = text
                    .parse()
                    .map_err(|_| format!("attempts: not a number: {text:?}"))?;
                once(key_text, &mut self.attempts, n)
            }
            b"submitted" => once(key_text, &mut self.submitted, decode_time(key_text, &text)?),
            b"next-attempt" => once(
                key_text,
                &mut self.next_attempt,
                decode_time(key_text, &text)?,
            ),
            b"unanswered-since" => once(
                key_text,
                &mut self.unanswered_since,
                decode_time(key_text, &text)?,
            ),
            _ => Ok(()), // written by a newer version: keep going
        }
    }

    fn finish(self) -> Result<EntryMeta, String> {
        let missing = |key: &str| format!("missing {key}");
        Ok(EntryMeta {
            account: self.account.ok_or_else(|| missing("account"))?,
            config_file: self.config_file,
            envelope_from: self.envelope_from.ok_or_else(|| missing("envelope-from"))?,
            recipients: self.recipients,
            dsn_notify: self.dsn_notify,
            dsn_return: self.dsn_return,
            submitted: self.submitted.ok_or_else(|| missing("submitted"))?,
            attempts: self.attempts.ok_or_else(|| missing("attempts"))?,
            last_error: self.last_error,
            next_attempt: self.next_attempt.ok_or_else(|| missing("next-attempt"))?,
            notify: self.notify,
            size: self.size,
            eight_bit: self.eight_bit.unwrap_or(false),
            expire_after: self.expire_after,
            overrides: self.overrides,
            unanswered_since: self.unanswered_since,
        })
    }
}

fn once<T>(key: &str, slot: &mut Option<T>, value: T) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("{key} given twice"));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EntryMeta {
        EntryMeta {
            account: "wörk: %20 \"quoted\"".into(),
            config_file: Some(PathBuf::from(OsString::from_vec(
                b"/home/a/odd\n\xffname %".to_vec(),
            ))),
            envelope_from: "".into(),
            recipients: vec![
                "bob@example.org".into(),
                "evil\r\nRCPT TO:<x@y>".into(),
                " spaced ".into(),
            ],
            dsn_notify: Some("FAILURE,DELAY".into()),
            dsn_return: Some("HDRS".into()),
            submitted: UNIX_EPOCH + Duration::new(1_763_741_571, 123_456_789),
            attempts: 3,
            last_error: Some("421 4.7.0 Try again\r\n\tlater\x7f\x00".into()),
            next_attempt: UNIX_EPOCH + Duration::from_secs(1_763_745_171),
            notify: Some("root".into()),
            size: Some(2417),
            eight_bit: true,
            expire_after: Some(Duration::from_secs(3600)),
            overrides: vec![
                ("port".into(), "2525".into()),
                ("passwordeval".into(), "pass show mail=x\n".into()),
            ],
            unanswered_since: Some(UNIX_EPOCH + Duration::new(1_763_745_000, 5)),
        }
    }

    #[test]
    fn round_trips_any_characters_without_spanning_lines() {
        let meta = sample();
        let bytes = meta.encode().unwrap();
        let lines = bytes.split(|&b| b == b'\n').count();
        // magic + account + config + from + 3 rcpt + 2 dsn + submitted + attempts
        // + next + last-error + notify + size + eight-bit + expire-after + 2 overrides
        // + unanswered-since + end, then the empty piece after the final newline
        assert_eq!(lines, 22, "{}", String::from_utf8_lossy(&bytes));
        assert!(!bytes.contains(&b'\r'));
        assert_eq!(EntryMeta::decode(&bytes).unwrap(), meta);
        let minimal = EntryMeta::new("default", "a@b", vec![]);
        assert_eq!(
            EntryMeta::decode(&minimal.encode().unwrap()).unwrap(),
            minimal
        );
    }

    #[test]
    fn rejects_truncated_or_damaged_envelopes() {
        let bytes = sample().encode().unwrap();
        for cut in 0..bytes.len() {
            assert!(
                EntryMeta::decode(&bytes[..cut]).is_err(),
                "accepted a cut at {cut}"
            );
        }
        let mut utf8 = sample();
        utf8.config_file = Some(PathBuf::from("/home/a/.msmtprc"));
        let text = String::from_utf8(utf8.encode().unwrap()).unwrap();
        for damaged in [
            text.replace("attempts: 3", "attempts: x"),
            text.replace("attempts: 3", "attempts: 3\nattempts: 4"),
            text.replace("account: ", "account:"),
            text.replace("%0D", "%0"),
            text.replace("rsmtp-queue-envelope 1", "rsmtp-queue-envelope 2"),
            text.replace("next-attempt: 1763745171", "next-attempt: -1"),
            format!("{text}extra\n"),
        ] {
            assert!(EntryMeta::decode(damaged.as_bytes()).is_err(), "{damaged}");
        }
        let unknown = text.replace("end\n", "priority: high\nend\n");
        assert_eq!(EntryMeta::decode(unknown.as_bytes()).unwrap(), utf8);
    }

    #[test]
    fn backoff_doubles_from_under_a_minute_to_an_hour_with_jitter() {
        let secs: Vec<u64> = (1..=9).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(secs, [50, 100, 200, 400, 800, 1600, 3200, 3600, 3600]);
        assert_eq!(retry_delay(u32::MAX), BACKOFF_MAX);
        let now = SystemTime::now();
        let mut meta = EntryMeta::new("a", "b@c", vec![]);
        for _ in 0..50 {
            meta.attempts = 1;
            meta.record_temp_failure("451 busy", now);
            let delay = meta.next_attempt.duration_since(now).unwrap().as_secs_f64();
            assert!((80.0..=120.0).contains(&delay), "{delay}");
            assert_eq!(meta.attempts, 2);
        }
    }
}
