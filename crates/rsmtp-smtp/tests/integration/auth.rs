//! AUTH against the test server: every mechanism, automatic choice,
//! failures, and no secret in the trace.

use std::time::Duration;

use base64::Engine as _;
use rsmtp_smtp::{Auth, Credentials, ErrorKind, Mechanism, TlsMode};
use rsmtp_testserver::{Fault, Mechanism as ServerMech, ServerOptions, Step, TestServer, Tls};

use crate::harness::*;

const WAIT: Duration = Duration::from_secs(5);
const USER: &str = "alice";
const PASSWORD: &str = "Tr0ub4dor&3-secret";

fn auth_server(tls: Tls, mechs: &[ServerMech]) -> TestServer {
    TestServer::start(
        ServerOptions::new()
            .tls(tls)
            .auth(USER, PASSWORD)
            .mechanisms(mechs),
    )
}

fn with_auth(
    server: &TestServer,
    mode: TlsMode,
    auth: Auth,
    password: &str,
) -> rsmtp_smtp::SessionSettings {
    let mut s = settings(server, mode);
    s.auth = auth;
    s.credentials = Some(Credentials::new(USER, password));
    s
}

/// The trace shows neither the password nor any encoding of it.
fn assert_no_secret(trace: &Lines) {
    let text = trace.text();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let needles = [
        PASSWORD.to_owned(),
        b64(PASSWORD),
        b64(&format!("\0{USER}\0{PASSWORD}")),
        b64(USER),
    ];
    for n in needles {
        assert!(!text.contains(&n), "trace leaks {n:?}:\n{text}");
    }
}

#[test]
fn every_mechanism_explicitly() {
    let cases = [
        (
            ServerMech::Plain,
            Mechanism::Plain,
            "--> AUTH PLAIN [redacted]",
        ),
        (
            ServerMech::Login,
            Mechanism::Login,
            "--> AUTH LOGIN\n<-- 334 ",
        ),
        (
            ServerMech::CramMd5,
            Mechanism::CramMd5,
            "--> AUTH CRAM-MD5\n<-- 334 ",
        ),
        (
            ServerMech::XOAuth2,
            Mechanism::XOAuth2,
            "--> AUTH XOAUTH2\n<-- 334",
        ),
        (
            ServerMech::OAuthBearer,
            Mechanism::OAuthBearer,
            "--> AUTH OAUTHBEARER [redacted]",
        ),
    ];
    for (server_mech, mech, shown) in cases {
        let server = auth_server(Tls::StartTls, &ServerMech::ALL);
        let s = with_auth(&server, TlsMode::StartTls, Auth::Method(mech), PASSWORD);
        let (result, trace) = deliver(&s);
        expect_ok(result, &trace);
        let m = &server.wait_for_messages(1, WAIT)[0];
        let auth = m.auth.as_ref().expect("authenticated");
        assert_eq!(auth.mechanism, server_mech.as_str());
        assert_eq!(auth.identity, USER);
        assert!(auth.success);
        assert!(trace.text().contains(shown), "{mech}: {}", trace.text());
        assert_no_secret(&trace);
    }
}

#[test]
fn automatic_choice_prefers_plain_under_tls() {
    let server = auth_server(
        Tls::StartTls,
        &[ServerMech::Login, ServerMech::CramMd5, ServerMech::Plain],
    );
    let (result, trace) = deliver(&with_auth(&server, TlsMode::StartTls, Auth::Auto, PASSWORD));
    expect_ok(result, &trace);
    assert_eq!(
        server.wait_for_messages(1, WAIT)[0]
            .auth
            .as_ref()
            .unwrap()
            .mechanism,
        "PLAIN"
    );
}

#[test]
fn automatic_choice_without_tls_avoids_cleartext() {
    let mut opts = ServerOptions::new()
        .auth(USER, PASSWORD)
        .mechanisms(&[ServerMech::Plain, ServerMech::CramMd5]);
    opts.auth.as_mut().unwrap().before_tls = true;
    let server = TestServer::start(opts);
    let (result, trace) = deliver(&with_auth(&server, TlsMode::Off, Auth::Auto, PASSWORD));
    expect_ok(result, &trace);
    assert_eq!(
        server.wait_for_messages(1, WAIT)[0]
            .auth
            .as_ref()
            .unwrap()
            .mechanism,
        "CRAM-MD5"
    );

    let mut opts = ServerOptions::new()
        .auth(USER, PASSWORD)
        .mechanisms(&[ServerMech::Plain, ServerMech::Login]);
    opts.auth.as_mut().unwrap().before_tls = true;
    let server = TestServer::start(opts);
    let (result, trace) = deliver(&with_auth(&server, TlsMode::Off, Auth::Auto, PASSWORD));
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code()),
        (&ErrorKind::AuthUnavailable, 69)
    );
    assert!(!trace.text().contains("--> AUTH"), "no AUTH command sent");

    // Chosen explicitly, PLAIN without TLS is allowed (msmtp does too).
    let (result, trace) = deliver(&with_auth(
        &server,
        TlsMode::Off,
        Auth::Method(Mechanism::Plain),
        PASSWORD,
    ));
    expect_ok(result, &trace);
}

#[test]
fn wrong_password_is_auth_failed() {
    for mech in [
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::CramMd5,
        Mechanism::XOAuth2,
        Mechanism::OAuthBearer,
    ] {
        let server = auth_server(Tls::Implicit, &ServerMech::ALL);
        let s = with_auth(
            &server,
            TlsMode::Implicit,
            Auth::Method(mech),
            "wrong-password-xyz",
        );
        let (result, trace) = deliver(&s);
        let e = expect_err(result, &trace);
        assert_eq!(
            e.kind(),
            &ErrorKind::AuthFailed,
            "{mech}: {e}\n{}",
            trace.text()
        );
        assert_eq!((e.exit_code().code(), e.is_transient()), (77, false));
        assert!(
            e.smtp_status().is_some_and(|(c, _)| c >= 500),
            "{mech}: {:?}",
            e.smtp_status()
        );
        assert!(!e.to_string().contains("wrong-password-xyz"));
        assert!(!trace.text().contains("wrong-password-xyz"));
        assert!(!format!("{e:?}").contains("wrong-password-xyz"));
        assert!(server.messages().is_empty());
    }
}

#[test]
fn temporary_auth_failure_is_tempfail() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .auth(USER, PASSWORD)
            .fault(Fault::reply(
                Step::Auth,
                454,
                "4.7.0 Temporary authentication failure",
            )),
    );
    let (result, trace) = deliver(&with_auth(&server, TlsMode::StartTls, Auth::Auto, PASSWORD));
    let e = expect_err(result, &trace);
    assert_eq!((e.exit_code().code(), e.is_transient()), (75, true), "{e}");
    assert_eq!(e.smtp_status().map(|s| s.0), Some(454));
}

#[test]
fn method_not_offered() {
    let server = auth_server(Tls::StartTls, &[ServerMech::Plain]);
    let s = with_auth(
        &server,
        TlsMode::StartTls,
        Auth::Method(Mechanism::CramMd5),
        PASSWORD,
    );
    let (result, trace) = deliver(&s);
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code()),
        (&ErrorKind::AuthUnavailable, 69)
    );
    assert!(e.to_string().contains("CRAM-MD5"), "{e}");
}

#[test]
fn auth_is_done_after_starttls_only() {
    // The server offers AUTH only after STARTTLS; the client must authenticate
    // on the second EHLO.
    let server = auth_server(Tls::StartTls, &[ServerMech::Plain]);
    let (result, trace) = deliver(&with_auth(&server, TlsMode::StartTls, Auth::Auto, PASSWORD));
    expect_ok(result, &trace);
    server.wait_for_idle(WAIT);
    assert_eq!(
        &server.sessions()[0].verbs()[..4],
        ["EHLO", "STARTTLS", "EHLO", "AUTH"]
    );
}
