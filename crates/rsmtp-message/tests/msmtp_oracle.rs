//! Differential tests: the bytes msmtp puts on the wire for an input, compared with
//! what this crate produces for the same input. msmtp is Debian's `msmtp` package;
//! the tests pass without checking anything (and say so) when it is not installed.
//!
//! msmtp is pointed at a one-connection SMTP sink on 127.0.0.1 that records the
//! envelope and the DATA bytes (dot-stuffing undone).

#![allow(
    clippy::unwrap_used,
    reason = "a test that meets an unexpected error should stop there, loudly"
)]

use rsmtp_testserver::peer::require_peer;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;

use rsmtp_message::{header_recipients, read_message, FromEdit, HeaderEdits, Message};

const MSMTP: &str = "/usr/bin/msmtp";
const SENDER: &str = "sender@example.org";

/// What the sink received.
#[derive(Debug, Default)]
struct Received {
    rcpts: Vec<String>,
    data: Vec<u8>,
}

/// Answers one SMTP session with 250s and records it.
fn sink(listener: TcpListener) -> std::io::Result<Received> {
    let (stream, _) = listener.accept()?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    let mut got = Received::default();
    out.write_all(b"220 sink ESMTP\r\n")?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(got);
        }
        let text = String::from_utf8_lossy(&line).to_ascii_uppercase();
        if text.starts_with("EHLO") {
            out.write_all(b"250-sink\r\n250 8BITMIME\r\n")?;
        } else if text.starts_with("RCPT TO:") {
            let raw = String::from_utf8_lossy(&line[8..]);
            got.rcpts.push(
                raw.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string(),
            );
            out.write_all(b"250 ok\r\n")?;
        } else if text.starts_with("DATA") {
            out.write_all(b"354 go\r\n")?;
            loop {
                line.clear();
                if input.read_until(b'\n', &mut line)? == 0 {
                    return Ok(got);
                }
                if line == b".\r\n" {
                    break;
                }
                let unstuffed = if line.starts_with(b".") {
                    &line[1..]
                } else {
                    &line[..]
                };
                got.data.extend_from_slice(unstuffed);
            }
            out.write_all(b"250 queued\r\n")?;
        } else if text.starts_with("QUIT") {
            out.write_all(b"221 bye\r\n")?;
            return Ok(got);
        } else {
            out.write_all(b"250 ok\r\n")?;
        }
    }
}

/// Sends `input` through msmtp; `None` when msmtp is not installed (a failure under
/// `CI=true`). Any other failure fails the test: it is not a reason to skip.
fn msmtp(input: &[u8], args: &[&str]) -> Option<Received> {
    require_peer(MSMTP, "msmtp")?;
    let dir = tempfile::tempdir().expect("tempdir");
    let rc = dir.path().join("msmtprc");
    std::fs::write(&rc, "").expect("write msmtprc");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local address").port();
    let server = thread::spawn(move || sink(listener));
    let mut child = Command::new(MSMTP)
        .arg("-C")
        .arg(&rc)
        .arg("--host=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg(format!("--from={SENDER}"))
        .arg("--timeout=10")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start msmtp");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write to msmtp");
    let status = child.wait().expect("wait for msmtp");
    if !status.success() {
        // Unblock the sink if msmtp never connected.
        let _ = TcpStream::connect(("127.0.0.1", port));
    }
    assert!(status.success(), "msmtp failed: {status}");
    Some(
        server
            .join()
            .expect("sink thread")
            .expect("the sink read msmtp's message"),
    )
}

/// Drops the `Date` and `Message-ID` lines msmtp added (their values cannot match).
fn without_generated(data: &[u8], input: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(input).to_ascii_lowercase();
    let has = |name: &str| text.lines().any(|l| l.starts_with(name));
    let mut out = Vec::new();
    let mut in_header = true;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" {
            in_header = false;
        }
        let generated = (line.starts_with(b"Date: ") && !has("date:"))
            || (line.starts_with(b"Message-ID: ") && !has("message-id:"));
        if !(in_header && generated) {
            out.extend_from_slice(line);
        }
    }
    out
}

/// What rsmtp sends for `input` with msmtp's default header settings.
fn ours(input: &[u8]) -> Vec<u8> {
    let edits = HeaderEdits {
        remove_bcc: true,
        from: FromEdit::AddIfMissing(SENDER.into()),
        ..HeaderEdits::default()
    };
    let message =
        read_message(&mut &input[..], None).and_then(|i| Message::from_incoming(i, &edits));
    let mut out = Vec::new();
    match message {
        Ok(m) => assert!(m.write_to(&mut out).is_ok()),
        Err(e) => panic!("{e}"),
    }
    out
}

fn same_bytes(input: &[u8]) {
    let Some(got) = msmtp(input, &["rcpt@example.org"]) else {
        return;
    };
    let theirs = without_generated(&got.data, input);
    assert_eq!(
        String::from_utf8_lossy(&ours(input)),
        String::from_utf8_lossy(&theirs),
        "input: {:?}",
        String::from_utf8_lossy(input)
    );
}

#[test]
fn plain_message_with_dots() {
    same_bytes(b"Subject: s\nTo: a@x.org\n\nbody\n.dot\n..two\n.\nlast");
}

#[test]
fn crlf_lf_mixed_and_lone_cr() {
    same_bytes(b"Subject: a\rb\r\nX: y\r\r\n\r\nl1\rx\r\nl2\r\r\nl3\n.dot\nlast\r");
}

#[test]
fn no_blank_line_and_empty_input() {
    same_bytes(b"Subject: hi\nX-A: b");
    same_bytes(b"");
    same_bytes(b"\n\nonly body\n");
}

#[test]
fn existing_from_date_message_id_are_kept() {
    same_bytes(b"from: \"Doe, J\" <j@x.org>\nDate: Sat, 21 Nov 2026 10:00:00 +0100\nMessage-Id: <a@b>\nSubject: x\n\nb\n");
}

#[test]
fn bcc_removal_and_eight_bit_long_lines() {
    let long = "\u{e9}".repeat(6000);
    let input = format!("To: a@x.org\nBcc: b@x.org,\n c@x.org\nSubject: caf\u{e9}\nX: {long}\n\nBcc: in body\n{long}\n");
    same_bytes(input.as_bytes());
}

fn same_recipients(input: &[u8]) {
    let Some(got) = msmtp(input, &["-t"]) else {
        return;
    };
    let theirs = without_generated(&got.data, input);
    assert_eq!(
        String::from_utf8_lossy(&ours(input)),
        String::from_utf8_lossy(&theirs)
    );
    let found = header_recipients(
        &read_message(&mut &input[..], None)
            .map(|i| i.header)
            .unwrap_or_default(),
    );
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    assert_eq!(found.addresses, got.rcpts);
}

#[test]
fn t_recipients_groups_quotes_comments_folding() {
    same_recipients(
        b"To: \"Doe, J\" <a@x.org>, team: b@x.org, c@x.org;\nCc: undisclosed-recipients:;\n\
          Bcc: d@x.org (comment)\n  , e@x.org\nTo: f@x.org\ncc: =?UTF-8?B?SsO2cmc=?= <g@x.org>\nSubject: s\n\nbody\n",
    );
}

#[test]
fn t_recipients_resent_block() {
    same_recipients(b"Resent-To: r1@x.org\nResent-Date: x\nResent-Cc: r2@x.org\nTo: a@x.org\nResent-To: r3@x.org\n\nbody\n");
}
