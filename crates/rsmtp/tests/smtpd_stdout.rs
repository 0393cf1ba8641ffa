//! In `rsmtp -bs` and `rsmtpd --inetd` stdout is the SMTP stream: nothing but replies may
//! appear there. `logfile -` (the log line on stdout in sendmail mode) then goes to
//! stderr, where it cannot be taken for a reply.

use std::time::Duration;

use rsmtp_testserver::{ServerOptions, TestServer};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(10);

/// One whole session, sent at once (a pipelining client).
const SESSION: &str = "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n\
RCPT TO:<b@example.org>\r\nDATA\r\nSubject: s\r\n\r\nbody\r\n.\r\nQUIT\r\n";

/// Every stdout line is an SMTP reply (`NNN ` or `NNN-`), and the session got its 250
/// for the message and its 221.
#[track_caller]
fn assert_only_replies(run: &Run) {
    let out = run.stdout();
    for line in out.lines() {
        let b = line.as_bytes();
        assert!(
            b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && (b[3] == b' ' || b[3] == b'-'),
            "not an SMTP reply on stdout: {line:?}\n--- stdout\n{out}\n--- stderr\n{}",
            run.stderr()
        );
    }
    assert!(out.contains("\r\n250 2.0.0 Ok"), "{out}");
    assert!(
        out.trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("221")),
        "{out}"
    );
}

#[test]
fn bs_with_logfile_dash_logs_to_stderr_not_into_the_smtp_stream() {
    let relay = TestServer::start(ServerOptions::new());
    let dir = home_for(&relay, "logfile -");
    let run = dir.rsmtp().arg("-bs").stdin(SESSION).run();
    run.assert_code(0);
    assert_only_replies(&run);
    let log = run.stderr();
    assert!(
        log.contains("recipients=b@example.org") && log.contains("exitcode=EX_OK"),
        "no log line on stderr: {log}"
    );
    let messages = relay.wait_for_messages(1, WAIT);
    assert_eq!(messages.len(), 1, "{}", relay.transcript());
    assert_eq!(messages[0].recipients(), ["b@example.org"]);
}

#[test]
fn inetd_with_logfile_dash_logs_to_stderr_not_into_the_smtp_stream() {
    let relay = TestServer::start(ServerOptions::new());
    let dir = home_for(&relay, "logfile -");
    let rsmtpd = dir.join("rsmtpd");
    std::os::unix::fs::symlink(rsmtp_bin(), &rsmtpd).expect("symlink rsmtpd");
    let run = dir.command(&rsmtpd).arg("--inetd").stdin(SESSION).run();
    run.assert_code(0);
    assert_only_replies(&run);
    assert!(
        run.stderr().contains("exitcode=EX_OK"),
        "no log line on stderr: {}",
        run.stderr()
    );
    assert_eq!(
        relay.wait_for_messages(1, WAIT).len(),
        1,
        "{}",
        relay.transcript()
    );
}
