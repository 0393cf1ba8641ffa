//! Certificate checks, pinning, client certificates and port/TLS mismatches.

use std::time::{Duration, Instant};

use rsmtp_smtp::{ErrorKind, Fingerprint, SessionSettings, TlsMode, Trust};
use rsmtp_testserver::{ClientCertPolicy, Fault, LeafKind, ServerOptions, Step, TestServer, Tls};

use crate::harness::*;

const WAIT: Duration = Duration::from_secs(5);

fn server(tls: Tls, leaf: LeafKind) -> TestServer {
    TestServer::start(ServerOptions::new().tls(tls).leaf(leaf))
}

/// No SMTP command after STARTTLS reached the server (nothing sent over a
/// connection whose certificate was rejected).
fn nothing_after_starttls(server: &TestServer) {
    server.wait_for_idle(WAIT);
    let verbs = server.sessions()[0].verbs();
    assert_eq!(verbs, ["EHLO", "STARTTLS"], "{verbs:?}");
    assert!(server.messages().is_empty());
}

#[test]
fn rejected_certificates_say_which_check_failed() {
    let cases = [
        (LeafKind::Expired, "expired"),
        (
            LeafKind::WrongHost,
            "not valid for the host name \"localhost\"",
        ),
        (LeafKind::SelfSigned, "not signed by a trusted authority"),
    ];
    for (leaf, why) in cases {
        for (tls, mode) in [
            (Tls::StartTls, TlsMode::StartTls),
            (Tls::Implicit, TlsMode::Implicit),
        ] {
            let server = server(tls, leaf);
            let (result, trace) = deliver(&settings(&server, mode));
            let e = expect_err(result, &trace);
            assert_eq!(
                e.kind(),
                &ErrorKind::CertificateRejected,
                "{leaf:?} {mode:?}: {e}"
            );
            assert_eq!((e.exit_code().code(), e.is_transient()), (69, false));
            assert!(e.to_string().contains(why), "{leaf:?}: {e}");
            if tls == Tls::StartTls {
                nothing_after_starttls(&server);
            }
        }
    }
}

#[test]
fn host_override_verifies_against_another_name() {
    let server = server(Tls::StartTls, LeafKind::WrongHost);
    let mut s = settings(&server, TlsMode::StartTls);
    s.host = "127.0.0.1".into();
    s.verify.host_override = Some("wrong-host.example".into());
    let (result, trace) = deliver(&s);
    expect_ok(result, &trace);
    server.wait_for_idle(WAIT);
    assert_eq!(
        server.sessions()[0].sni.as_deref(),
        Some("wrong-host.example")
    );
}

#[test]
fn ip_address_host_is_verified_against_ip_san() {
    let server = server(Tls::Implicit, LeafKind::Valid);
    let mut s = settings(&server, TlsMode::Implicit);
    s.host = "127.0.0.1".into();
    let (result, trace) = deliver(&s);
    expect_ok(result, &trace);
}

#[test]
fn certcheck_off_accepts_any_certificate() {
    for leaf in [LeafKind::SelfSigned, LeafKind::Expired, LeafKind::WrongHost] {
        let server = server(Tls::StartTls, leaf);
        let mut s = settings(&server, TlsMode::StartTls);
        s.verify.certcheck = false;
        s.verify.trust = Trust::WebpkiRoots;
        let (result, trace) = deliver(&s);
        expect_ok(result, &trace);
        assert!(server.wait_for_messages(1, WAIT)[0].tls);
    }
}

#[test]
fn pinned_fingerprint_accepts_exactly_that_certificate() {
    let server = server(Tls::Implicit, LeafKind::SelfSigned);
    let leaf = server.ca().leaf(LeafKind::SelfSigned);
    for text in [
        leaf.sha256_fingerprint(),
        leaf.sha1_fingerprint(),
        leaf.md5_fingerprint(),
    ] {
        let mut s = settings(&server, TlsMode::Implicit);
        s.verify.trust = Trust::WebpkiRoots; // the chain is not what is checked
        s.verify.fingerprint = Some(Fingerprint::parse(&text).expect("fingerprint"));
        let (result, trace) = deliver(&s);
        expect_ok(result, &trace);
    }
}

#[test]
fn wrong_fingerprint_is_rejected_before_anything_is_sent() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .auth("alice", "pw-secret"),
    );
    let mut s = settings(&server, TlsMode::StartTls);
    s.verify.fingerprint = Some(Fingerprint::Sha256([0xAB; 32]));
    s.auth = rsmtp_smtp::Auth::Auto;
    s.credentials = Some(rsmtp_smtp::Credentials::new("alice", "pw-secret"));
    let (result, trace) = deliver(&s);
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code()),
        (&ErrorKind::CertificateRejected, 69)
    );
    let actual = server.ca().leaf(LeafKind::Valid).sha256_fingerprint();
    assert!(
        e.to_string().contains("does not match tls_fingerprint"),
        "{e}"
    );
    assert!(
        e.to_string().contains(&actual),
        "shows the server's fingerprint: {e}"
    );
    nothing_after_starttls(&server);
    assert!(server.sessions()[0].auth_attempts.is_empty());
}

#[test]
fn system_trust_does_not_know_the_test_ca() {
    let server = server(Tls::Implicit, LeafKind::Valid);
    let mut s = settings(&server, TlsMode::Implicit);
    s.verify.trust = Trust::System("/nonexistent/bundle.crt".into()); // → webpki roots
    let (result, trace) = deliver(&s);
    let e = expect_err(result, &trace);
    assert_eq!(e.kind(), &ErrorKind::CertificateRejected);
}

#[test]
fn client_certificate_is_presented() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .client_certs(ClientCertPolicy::Required),
    );
    let client = server.ca().client_cert();
    let mut s = settings(&server, TlsMode::StartTls);
    s.client_cert = Some((
        client.cert_path().to_path_buf(),
        client.key_path().to_path_buf(),
    ));
    let (result, trace) = deliver(&s);
    expect_ok(result, &trace);
    let m = &server.wait_for_messages(1, WAIT)[0];
    assert_eq!(m.client_cert_subject.as_deref(), Some(client.subject()));

    // Without one, the required-certificate server ends the handshake.
    let (result, trace) = deliver(&settings(&server, TlsMode::StartTls));
    let e = expect_err(result, &trace);
    assert!(
        matches!(e.kind(), ErrorKind::Tls | ErrorKind::Io),
        "{:?}: {e}",
        e.kind()
    );
}

#[test]
fn unreadable_client_key_is_a_local_file_error_before_connecting() {
    let server = server(Tls::StartTls, LeafKind::Valid);
    let mut s = settings(&server, TlsMode::StartTls);
    s.client_cert = Some((
        "/nonexistent/cert.pem".into(),
        "/nonexistent/key.pem".into(),
    ));
    let (result, trace) = deliver(&s);
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code()),
        (&ErrorKind::LocalFile, 66)
    );
    assert!(e.to_string().contains("/nonexistent/cert.pem"), "{e}");
    assert_eq!(server.connections(), 0);
}

#[test]
fn starttls_client_on_implicit_tls_port_is_detected_within_seconds() {
    let server = server(Tls::Implicit, LeafKind::Valid);
    let start = Instant::now();
    let (result, trace) = deliver(&settings(&server, TlsMode::StartTls));
    let e = expect_err(result, &trace);
    let took = start.elapsed();
    assert_eq!(
        e.kind(),
        &ErrorKind::PortTlsMismatch,
        "{e}\n{}",
        trace.text()
    );
    assert!(
        e.to_string()
            .contains("port 465 uses implicit TLS: set tls_starttls off"),
        "{e}"
    );
    assert_eq!((e.exit_code().code(), e.is_transient()), (76, false));
    assert!(took < Duration::from_secs(7), "took {took:?}");
}

#[test]
fn slow_greeting_on_a_port_other_than_465_is_waited_for_not_probed() {
    // sendmail's greet_pause: silence longer than greeting_wait, then a normal 220.
    let server = TestServer::start(
        ServerOptions::new().fault(Fault::Delay(Step::Greeting, Duration::from_secs(3))),
    );
    let mut s = settings(&server, TlsMode::Off);
    s.probe_silent_greeting =
        SessionSettings::new("localhost", server.port()).probe_silent_greeting;
    assert!(
        !s.probe_silent_greeting,
        "only port 465 is probed by default"
    );
    let (result, trace) = deliver(&s);
    expect_ok(result, &trace);
    assert_eq!(server.messages().len(), 1);
    let text = trace.text();
    let first_sent = text.lines().find(|l| l.starts_with("--> "));
    assert_eq!(first_sent, Some("--> EHLO client.example"), "{text}");
    assert!(!text.contains("implicit TLS"), "no probe: {text}");
}

#[test]
fn silent_server_on_a_port_other_than_465_times_out_with_a_hint() {
    let server = server(Tls::Implicit, LeafKind::Valid);
    let mut s = settings(&server, TlsMode::StartTls);
    s.probe_silent_greeting = false;
    s.timeout = Some(Duration::from_secs(3));
    let (result, trace) = deliver(&s);
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code()),
        (&ErrorKind::Timeout, 75),
        "{e}"
    );
    assert!(e.to_string().contains("set tls_starttls off"), "{e}");
}

#[test]
fn plain_client_on_implicit_tls_port_is_detected() {
    let server = server(Tls::Implicit, LeafKind::Valid);
    let (result, trace) = deliver(&settings(&server, TlsMode::Off));
    let e = expect_err(result, &trace);
    assert_eq!(e.kind(), &ErrorKind::PortTlsMismatch, "{e}");
    assert!(
        e.to_string().contains("set tls on and tls_starttls off"),
        "{e}"
    );
}

#[test]
fn implicit_tls_client_on_plain_port_is_detected_at_once() {
    for tls in [Tls::None, Tls::StartTls] {
        let server = server(tls, LeafKind::Valid);
        let start = Instant::now();
        let (result, trace) = deliver(&settings(&server, TlsMode::Implicit));
        let e = expect_err(result, &trace);
        assert_eq!(e.kind(), &ErrorKind::PortTlsMismatch, "{e}");
        assert!(
            e.to_string().contains("set tls_starttls on / use port 587"),
            "{e}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
    }
}

#[test]
fn starttls_answered_with_garbage_is_a_tls_error() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .fault(Fault::TlsGarbage),
    );
    let (result, trace) = deliver(&settings(&server, TlsMode::StartTls));
    let e = expect_err(result, &trace);
    // The garbage arrives either with the 220 (refused as data injected
    // before the handshake) or after it (the handshake fails).
    assert!(
        matches!(e.kind(), ErrorKind::Tls | ErrorKind::Protocol),
        "{e}"
    );
    assert_eq!((e.exit_code().code(), e.is_transient()), (76, false), "{e}");
    assert!(server.messages().is_empty());
}

#[test]
fn implicit_tls_answered_with_garbage_is_a_tls_error() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::Implicit)
            .fault(Fault::TlsGarbage),
    );
    let (result, trace) = deliver(&settings(&server, TlsMode::Implicit));
    let e = expect_err(result, &trace);
    assert_eq!(e.kind(), &ErrorKind::Tls, "{e}");
}

/// A self-signed certificate with the CA flag (`openssl req -x509`'s default)
/// listed in the trust file is accepted, as msmtp accepts it; its host name
/// and dates are still checked. Not listed, it is refused with a sentence
/// that says what to do, not "CaUsedAsEndEntity".
#[test]
fn self_signed_ca_flagged_leaf_in_the_trust_file_is_accepted() {
    for (tls, mode) in [
        (Tls::StartTls, TlsMode::StartTls),
        (Tls::Implicit, TlsMode::Implicit),
    ] {
        let server = server(tls, LeafKind::SelfSignedCa);
        let leaf = server
            .ca()
            .leaf(LeafKind::SelfSignedCa)
            .cert_path()
            .to_path_buf();

        // Listed: delivered inside TLS.
        let mut s = settings(&server, mode);
        s.verify.trust = Trust::File(leaf.clone());
        let (result, trace) = deliver(&s);
        expect_ok(result, &trace);
        let m = &server.wait_for_messages(1, WAIT)[0];
        assert!(m.tls, "{mode:?}");

        // Listed, but the name does not match: still refused.
        s.verify.host_override = Some("other.example".into());
        let (result, trace) = deliver(&s);
        let e = expect_err(result, &trace);
        assert_eq!(e.exit_code(), 69, "{e}");
        assert!(e.to_string().contains("not valid for the host name"), "{e}");

        // Not listed (only the test CA is trusted): refused, worded for a user.
        let (result, trace) = deliver(&settings(&server, mode));
        let e = expect_err(result, &trace);
        assert_eq!(
            (e.kind(), e.exit_code().code()),
            (&ErrorKind::CertificateRejected, 69),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("the server's certificate is a CA certificate")
                && e.to_string().contains("tls_trust_file"),
            "{e}"
        );
        assert_eq!(server.messages().len(), 1, "only the listed run delivered");
    }
}
