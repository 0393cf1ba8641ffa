//! Shared helpers: settings pointing at a test server, a recording trace, a
//! standard message.

use std::time::Duration;

use rsmtp_smtp::{send, Delivered, Envelope, SessionSettings, SmtpError, TlsMode, Trace, Trust};
use rsmtp_testserver::TestServer;

pub(crate) const FROM: &str = "sender@example.org";
pub(crate) const TO: &str = "rcpt@example.org";
pub(crate) const MESSAGE: &[u8] = b"From: sender@example.org\r\nTo: rcpt@example.org\r\nSubject: test\r\n\r\nHello.\r\n.leading dot\r\n";

/// Settings for `server`: host `localhost` (the name on the test certificate),
/// the server's CA as trust file, short timeouts.
pub(crate) fn settings(server: &TestServer, tls: TlsMode) -> SessionSettings {
    let mut s = SessionSettings::new("localhost", server.port());
    s.tls = tls;
    s.verify.trust = Trust::File(server.ca().ca_pem_path().to_path_buf());
    s.helo_domain = "client.example".into();
    s.timeout = Some(Duration::from_secs(10));
    s.greeting_wait = Duration::from_secs(2);
    // The test server's random port stands in for 465 (see the slow-greeter test).
    s.probe_silent_greeting = true;
    s
}

pub(crate) fn envelope() -> Envelope {
    Envelope::new(FROM, vec![TO.to_owned()])
}

/// A trace that keeps every line as msmtp's `-d` would print it.
#[derive(Default, Debug)]
pub(crate) struct Lines(pub Vec<String>);

impl Trace for Lines {
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

impl Lines {
    pub(crate) fn text(&self) -> String {
        self.0.join("\n")
    }
}

/// Sends the standard message; returns the result and the trace.
pub(crate) fn deliver(settings: &SessionSettings) -> (Result<Delivered, SmtpError>, Lines) {
    deliver_with(settings, &envelope(), MESSAGE)
}

pub(crate) fn deliver_with(
    settings: &SessionSettings,
    envelope: &Envelope,
    message: &[u8],
) -> (Result<Delivered, SmtpError>, Lines) {
    let mut trace = Lines::default();
    let mut reader = message;
    let result = send(settings, envelope, &mut reader, &mut trace);
    (result, trace)
}

/// Expects an error; panics with the trace otherwise.
pub(crate) fn expect_err(result: Result<Delivered, SmtpError>, trace: &Lines) -> SmtpError {
    match result {
        Ok(d) => panic!("expected an error, got {d:?}\n{}", trace.text()),
        Err(e) => e,
    }
}

/// Expects success; panics with the error and trace otherwise.
pub(crate) fn expect_ok(result: Result<Delivered, SmtpError>, trace: &Lines) -> Delivered {
    match result {
        Ok(d) => d,
        Err(e) => panic!(
            "expected delivery, got {e} ({:?})\n{}",
            e.kind(),
            trace.text()
        ),
    }
}
