//! The `rsmtp` binary in sendmail mode, end to end against the in-repo test server:
//! what the callers that pipe mail into `/usr/sbin/sendmail` (cron, PHP, mdadm, atd,
//! busybox, s-nail…) would notice — the bytes and envelope the server received, the
//! exit code, the message on stderr and the msmtp log line.
//!
//! Every test runs the built binary with HOME in a scratch directory and
//! `RSMTP_SYSCONFIG` pointing nowhere, so no real msmtprc is ever read.

use std::time::{Duration, Instant};

use rsmtp_testserver::{
    closed_port, Extensions, Fault, LeafKind, Mechanism, ReceivedMessage, ServerOptions, Step,
    TestServer, Tls,
};

use crate::support::*;

mod bad_input;
mod bad_servers;
mod body;
mod callers_args;
mod edge_cases;
mod extensions;
mod headers;
mod log_line;
mod tls_auth;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// How long a test waits for the server to record a message rsmtp said it sent.
const WAIT: Duration = Duration::from_secs(5);

/// `~/.msmtprc` for a TLS server with the test CA as trust file.
fn tls_home(server: &TestServer, starttls: bool, extra: &str) -> Dir {
    let dir = Dir::new();
    let starttls = if starttls { "on" } else { "off" };
    dir.write(
        ".msmtprc",
        format!(
            "defaults\ntls on\ntls_starttls {starttls}\ntls_trust_file {ca}\n\n\
             account default\nhost 127.0.0.1\nport {port}\nfrom sender@example.org\n{extra}\n",
            ca = server.ca().ca_pem_path().display(),
            port = server.port(),
        ),
    );
    dir
}

/// The one message the server accepted (fails the test if there is not exactly one).
#[track_caller]
fn only_message(server: &TestServer, run: &Run) -> ReceivedMessage {
    let mut messages = server.wait_for_messages(1, WAIT);
    assert_eq!(
        messages.len(),
        1,
        "expected exactly one delivered message\n--- stderr\n{}\n--- transcript\n{}",
        run.stderr(),
        server.transcript()
    );
    messages.remove(0)
}

/// Nothing was accepted, and no body was even half-received as a message.
#[track_caller]
fn assert_nothing_delivered(server: &TestServer) {
    server.wait_for_idle(Duration::from_secs(2));
    assert!(
        server.messages().is_empty(),
        "no message may be delivered\n{}",
        server.transcript()
    );
}

/// Every RCPT TO address, in order, accepted or not.
fn rcpt_addresses(m: &ReceivedMessage) -> Vec<String> {
    m.rcpt_to.iter().map(|r| r.address.clone()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// LF text → the CRLF bytes a server must see.
fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

/// How many header fields with this name the message has.
fn header_count(m: &ReceivedMessage, name: &str) -> usize {
    m.headers()
        .split("\r\n")
        .filter(|l| {
            l.split_once(':')
                .is_some_and(|(f, _)| f.eq_ignore_ascii_case(name))
        })
        .count()
}

/// `Date: Sat, 21 Nov 2026 16:23:17 +0000` — RFC 5322 §3.3 shape, checked loosely.
#[track_caller]
fn assert_rfc5322_date(value: &str) {
    let parts: Vec<&str> = value.split_whitespace().collect();
    assert_eq!(parts.len(), 6, "Date: {value}");
    assert!(parts[0].ends_with(','), "Date: {value}");
    assert!(parts[1].parse::<u8>().is_ok(), "Date: {value}");
    assert!(
        parts[3].len() == 4 && parts[3].parse::<u16>().is_ok(),
        "Date: {value}"
    );
    assert_eq!(parts[4].len(), 8, "Date: {value}");
    assert!(
        parts[5].starts_with(['+', '-']) && parts[5].len() == 5,
        "Date: {value}"
    );
}

const SIMPLE: &str = "Subject: hello\n\nhello world\n";

fn big_body(kib: usize) -> String {
    let mut s = String::from("Subject: big\n\n");
    for i in 0..kib * 16 {
        s.push_str(&format!("{i:063}\n"));
    }
    s
}

/// A STARTTLS server that wants AUTH for alice with `password`, offering `mechanisms`.
fn auth_server(password: &str, mechanisms: &[Mechanism]) -> TestServer {
    TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .auth("alice", password)
            .mechanisms(mechanisms),
    )
}

/// Standard base64, for checking that an encoded secret is not printed either.
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The commands the server received on its first connection, verbs only.
fn first_session_verbs(server: &TestServer) -> Vec<String> {
    server.wait_for_idle(Duration::from_secs(3));
    server
        .sessions()
        .first()
        .map(|s| s.verbs())
        .unwrap_or_default()
}
