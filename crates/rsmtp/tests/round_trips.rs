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
