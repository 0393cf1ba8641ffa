//! What the round-trip savings rely on, asserted on the wire (the figures themselves
//! are in benches/, never in tests): with PIPELINING, 1000 RCPTs go out in one write
//! with MAIL and DATA, and QUIT follows the final dot in the same write, its 221 not
//! awaited.

use std::time::Duration;

use rsmtp_testserver::{Fault, ServerOptions, Step, TestServer};

use crate::support::*;

/// The batch (see rsmtp-testserver's record) of the first command starting with `verb`.
fn batch_of(commands: &[rsmtp_testserver::Command], verb: &str) -> Vec<u64> {
    commands
        .iter()
        .filter(|c| c.line.to_ascii_uppercase().starts_with(verb))
        .map(|c| c.batch)
        .collect()
}

#[test]
fn a_thousand_recipients_go_in_one_write_and_quit_rides_with_the_dot() {
    // The server reads in 16 KiB pieces; holding its replies a moment lets a group
    // that was written at once be seen as one, while a client that waits for replies
    // between pieces shows up as several.
    let server =
        TestServer::start(ServerOptions::new().pipelining_window(Duration::from_millis(300)));
    let dir = Dir::new();
    dir.write(".msmtprc", plain_config(server.port(), ""));
    let recipients: Vec<String> = (0..1000).map(|i| format!("r{i:04}@example.net")).collect();
    dir.rsmtp()
        .args(&recipients)
        .stdin("Subject: many\n\nbody\n")
        .run()
        .assert_code(0);
    assert_eq!(
        server.wait_for_messages(1, Duration::from_secs(10)).len(),
        1
    );
    server.wait_for_idle(Duration::from_secs(5));
    let session = server.sessions().pop().expect("a session");
    let commands = &session.commands;
    let mail = batch_of(commands, "MAIL");
    let rcpts = batch_of(commands, "RCPT");
    let data = batch_of(commands, "DATA");
    let quit = batch_of(commands, "QUIT");
    assert_eq!(rcpts.len(), 1000);
    assert!(
        rcpts.iter().chain(&data).all(|b| *b == mail[0]),
        "MAIL, every RCPT and DATA in one group: {mail:?} {data:?} {:?}",
        rcpts.iter().collect::<std::collections::BTreeSet<_>>()
    );
    // The server flushed its replies to the group (354 last) once; QUIT arrived with
    // the body and its dot, before the server's 250 to the dot was even sent.
    assert_eq!(
        quit,
        [data[0] + 1],
        "QUIT in the same write as the final dot"
    );
}

/// A server that never answers QUIT does not hold the caller: the message was
/// accepted at its 250, and rsmtp leaves without waiting for the 221.
#[test]
fn the_221_is_not_awaited() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::Hang(Step::Quit)));
    let dir = Dir::new();
    dir.write(".msmtprc", plain_config(server.port(), "timeout 60"));
    let started = std::time::Instant::now();
    dir.rsmtp()
        .arg("a@example.net")
        .stdin("Subject: s\n\nbody\n")
        .run()
        .assert_code(0);
    // Generous: the point is "not the 60 s timeout, not msmtp's wait for 221".
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.wait_for_messages(1, Duration::from_secs(5)).len(), 1);
}

/// A body that spooling found already in wire form is copied to the socket
/// (sendfile on a plain connection, large writes through TLS); any other body is
/// stuffed on the way. Either way the server gets the same bytes: every line end
/// CRLF, no bare CR, leading dots doubled, a missing last line end added, and one
/// terminator — checked on the raw bytes after the 354, plain and over TLS.
#[test]
fn copied_and_stuffed_bodies_reach_the_server_in_wire_form() {
    let line = "x".repeat(76);
    let big: String = (0..20_000).map(|i| format!("{line}{i}\n")).collect();
    let big_wire = big.replace('\n', "\r\n");
    let dot_deep = format!("{big}.deep\n{big}");
    let dot_deep_wire = format!("{big_wire}..deep\r\n{big_wire}");
    let cases: [(&str, &str, String); 7] = [
        ("1.5 MB of lines, copied", &big, big_wire.clone()),
        ("no last line end", "a\nlast", "a\r\nlast\r\n".into()),
        (
            "only dots",
            "...\n.\n..\n.",
            "....\r\n..\r\n...\r\n..\r\n".into(),
        ),
        // The last CR stays in the spool before the CRLF added there (msmtp's
        // `c\r\r\n`), so it is a line of its own on the wire.
        (
            "bare CRs",
            "a\rb\r\n\rc\r",
            "a\r\nb\r\n\r\nc\r\n\r\n".into(),
        ),
        ("a dot line deep in", &dot_deep, dot_deep_wire),
        ("dot first", ".x\n", "..x\r\n".into()),
        ("empty body", "", String::new()),
    ];
    for tls in [false, true] {
        let options = ServerOptions::new().keep_raw_data();
        let server = TestServer::start(if tls {
            options.tls(rsmtp_testserver::Tls::Implicit)
        } else {
            options
        });
        let dir = Dir::new();
        let config = if tls {
            format!(
                "defaults\ntls on\ntls_starttls off\ntls_trust_file {}\n\naccount default\n\
                 host 127.0.0.1\nport {}\nfrom sender@example.org\n",
                server.ca().ca_pem_path().display(),
                server.port()
            )
        } else {
            plain_config(server.port(), "")
        };
        dir.write(".msmtprc", config);
        for (n, (name, body, wire)) in cases.iter().enumerate() {
            dir.rsmtp()
                .arg("a@example.net")
                .stdin(format!("Subject: s\n\n{body}"))
                .run()
                .assert_code(0);
            let messages = server.wait_for_messages(n + 1, Duration::from_secs(20));
            let raw = &messages[n].raw_data;
            let want = format!("Subject: s\r\n\r\n{wire}.\r\n");
            assert!(
                raw.ends_with(want.as_bytes()),
                "{name} (TLS {tls}): {:?}",
                String::from_utf8_lossy(&raw[raw.len().saturating_sub(200)..])
            );
            let bare = raw.iter().enumerate().any(|(i, &b)| {
                (b == b'\r' && raw.get(i + 1) != Some(&b'\n'))
                    || (b == b'\n' && (i == 0 || raw[i - 1] != b'\r'))
            });
            assert!(!bare, "{name} (TLS {tls}): a bare line end");
            assert_eq!(
                raw.windows(5).filter(|w| w == b"\r\n.\r\n").count(),
                1,
                "{name} (TLS {tls}): one terminator"
            );
        }
    }
}

/// The copy path fails as the stream path does: a server that closes the
/// connection part-way through a 20 MB body being copied with sendfile gives exit
/// 75 (temporary: the message may be retried) and says the body was being sent.
#[test]
fn a_connection_lost_during_a_copied_body_is_a_temporary_failure() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::drop_during_data(1_000_000)));
    let dir = Dir::new();
    dir.write(".msmtprc", plain_config(server.port(), ""));
    let body = format!(
        "Subject: big\n\n{}",
        format!("{}\n", "y".repeat(99)).repeat(200_000)
    );
    let run = dir.rsmtp().arg("a@example.net").stdin(body).run();
    run.assert_code(75);
    assert!(
        run.stderr().contains("sending the message body"),
        "{}",
        run.stderr()
    );
    assert!(server.messages().is_empty());
}
