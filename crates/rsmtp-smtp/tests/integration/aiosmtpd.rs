//! Against a real peer: Debian's python3-aiosmtpd (plain, STARTTLS, SMTPS).
//! Skipped, with a note, where `/usr/bin/python3 -m aiosmtpd` is missing.

use std::io::Read;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rsmtp_smtp::{server_info, NoTrace, TlsMode, Trust};
use rsmtp_testserver::{closed_port, LeafKind, TestCa};

use crate::harness::*;

const PYTHON: &str = "/usr/bin/python3";

/// A running aiosmtpd, killed (it is our own child) when dropped.
struct Aiosmtpd {
    child: Child,
    port: u16,
}

impl Aiosmtpd {
    /// Starts aiosmtpd with extra arguments; `None` if it is not installed.
    fn start(args: &[&str]) -> Option<Aiosmtpd> {
        let installed = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !rsmtp_testserver::peer::require(installed, "python3-aiosmtpd") {
            return None;
        }
        let port = closed_port();
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l", &listen])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let server = Aiosmtpd { child, port };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }

    /// Stops the server and returns what its Debugging handler printed.
    fn output(mut self) -> String {
        let _ = self.child.kill();
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        let _ = self.child.wait();
        out
    }
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn settings_for(port: u16, tls: TlsMode, ca: &TestCa) -> rsmtp_smtp::SessionSettings {
    let mut s = rsmtp_smtp::SessionSettings::new("localhost", port);
    s.tls = tls;
    s.verify.trust = Trust::File(ca.ca_pem_path().to_path_buf());
    s.timeout = Some(Duration::from_secs(10));
    s.greeting_wait = Duration::from_secs(3);
    s.probe_silent_greeting = true;
    s
}

#[test]
fn aiosmtpd_plain_and_starttls() {
    let ca = TestCa::new();
    let leaf = ca.leaf(LeafKind::Valid);
    let (cert, key) = (
        leaf.cert_path().to_str().unwrap(),
        leaf.key_path().to_str().unwrap(),
    );
    let Some(server) = Aiosmtpd::start(&["--tlscert", cert, "--tlskey", key, "--no-requiretls"])
    else {
        return;
    };
    let port = server.port;
    for mode in [TlsMode::Off, TlsMode::StartTls] {
        let (result, trace) = deliver(&settings_for(port, mode, &ca));
        let d = expect_ok(result, &trace);
        assert_eq!(d.final_reply.code(), 250, "{mode:?}");
    }
    let info = server_info(&settings_for(port, TlsMode::StartTls, &ca), &mut NoTrace).unwrap();
    assert!(info.tls.is_some());
    assert!(info.capabilities.eight_bit_mime);
    let out = server.output();
    assert_eq!(out.matches("Subject: test").count(), 2, "{out}");
    assert!(
        out.contains(".leading dot"),
        "dot-unstuffed by aiosmtpd: {out}"
    );
}

#[test]
fn aiosmtpd_smtps_and_mismatch() {
    let ca = TestCa::new();
    let leaf = ca.leaf(LeafKind::Valid);
    let (cert, key) = (
        leaf.cert_path().to_str().unwrap(),
        leaf.key_path().to_str().unwrap(),
    );
    let Some(server) = Aiosmtpd::start(&["--smtpscert", cert, "--smtpskey", key]) else {
        return;
    };
    let (result, trace) = deliver(&settings_for(server.port, TlsMode::Implicit, &ca));
    expect_ok(result, &trace);
    let start = Instant::now();
    let (result, trace) = deliver(&settings_for(server.port, TlsMode::StartTls, &ca));
    let e = expect_err(result, &trace);
    assert_eq!(
        e.kind(),
        &rsmtp_smtp::ErrorKind::PortTlsMismatch,
        "{e}\n{}",
        trace.text()
    );
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
}
