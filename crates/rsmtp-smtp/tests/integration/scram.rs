//! SCRAM (RFC 5802 / 7677) and its channel-bound `-PLUS` variants against the
//! test server's own implementation of the server side.

use std::time::Duration;

use base64::Engine as _;
use rsmtp_smtp::{Auth, Credentials, ErrorKind, Mechanism, TlsMode};
use rsmtp_testserver::{
    AuthConfig, Mechanism as ServerMech, ServerOptions, TestServer, Tls, TlsVersions,
};

use crate::harness::*;

const WAIT: Duration = Duration::from_secs(5);
const USER: &str = "alice";
const PASSWORD: &str = "Tr0ub4dor&3-secret";

fn server(tls: Tls, versions: TlsVersions, mechs: &[ServerMech], forged: bool) -> TestServer {
    let mut cfg = AuthConfig::new(USER, PASSWORD);
    cfg.mechanisms = mechs.to_vec();
    cfg.scram_forged_signature = forged;
    cfg.before_tls = true;
    TestServer::start(
        ServerOptions::new()
            .tls(tls)
            .tls_versions(versions)
            .auth_config(cfg),
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

fn mechanism_used(server: &TestServer) -> String {
    let m = &server.wait_for_messages(1, WAIT)[0];
    let auth = m.auth.as_ref().expect("authenticated");
    assert!(auth.success && auth.identity == USER, "{auth:?}");
    auth.mechanism.clone()
}

/// Neither the password, the user name in base64 nor any client SCRAM
/// message (which carry the nonce and the proof) is in the trace.
fn assert_redacted(trace: &Lines) {
    let text = trace.text();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for needle in [
        PASSWORD.to_owned(),
        b64(PASSWORD),
        b64(USER),
        b64(&format!("n,,n={USER}")),
    ] {
        assert!(!text.contains(&needle), "trace leaks {needle:?}:\n{text}");
    }
    for line in text.lines().filter(|l| l.starts_with("--> ")) {
        let payload = line.trim_start_matches("--> ");
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(payload) {
            let decoded = String::from_utf8_lossy(&bytes);
            assert!(
                !decoded.contains("p="),
                "a SCRAM proof in the trace: {line}"
            );
        }
    }
}

#[test]
fn scram_variants_explicitly_over_tls_1_3() {
    let all = [
        ServerMech::ScramSha1,
        ServerMech::ScramSha256,
        ServerMech::ScramSha1Plus,
        ServerMech::ScramSha256Plus,
    ];
    for (server_mech, mech) in [
        (ServerMech::ScramSha1, Mechanism::ScramSha1),
        (ServerMech::ScramSha256, Mechanism::ScramSha256),
        (ServerMech::ScramSha1Plus, Mechanism::ScramSha1Plus),
        (ServerMech::ScramSha256Plus, Mechanism::ScramSha256Plus),
    ] {
        let server = server(Tls::StartTls, TlsVersions::Tls13Only, &all, false);
        let (result, trace) = deliver(&with_auth(
            &server,
            TlsMode::StartTls,
            Auth::Method(mech),
            PASSWORD,
        ));
        expect_ok(result, &trace);
        assert_eq!(mechanism_used(&server), server_mech.as_str());
        assert!(
            trace
                .text()
                .contains(&format!("--> AUTH {mech} [redacted]\n<-- 334 ")),
            "{}",
            trace.text()
        );
        assert_redacted(&trace);
    }
}

#[test]
fn scram_is_chosen_before_plain_and_bound_when_tls_1_3() {
    let offer = [
        ServerMech::Plain,
        ServerMech::Login,
        ServerMech::ScramSha1,
        ServerMech::ScramSha256,
        ServerMech::ScramSha256Plus,
    ];
    let s13 = server(Tls::StartTls, TlsVersions::Tls13Only, &offer, false);
    let (result, trace) = deliver(&with_auth(&s13, TlsMode::StartTls, Auth::Auto, PASSWORD));
    expect_ok(result, &trace);
    assert_eq!(mechanism_used(&s13), "SCRAM-SHA-256-PLUS");

    // TLS 1.2: tls-server-end-point only when asked for, so the unbound variant.
    let s12 = server(Tls::StartTls, TlsVersions::Tls12Only, &offer, false);
    let (result, trace) = deliver(&with_auth(&s12, TlsMode::StartTls, Auth::Auto, PASSWORD));
    expect_ok(result, &trace);
    assert_eq!(mechanism_used(&s12), "SCRAM-SHA-256");

    // Without TLS SCRAM is still fine: the password never crosses the wire.
    let plain = server(
        Tls::None,
        TlsVersions::Any,
        &[ServerMech::Plain, ServerMech::ScramSha1],
        false,
    );
    let (result, trace) = deliver(&with_auth(&plain, TlsMode::Off, Auth::Auto, PASSWORD));
    expect_ok(result, &trace);
    assert_eq!(mechanism_used(&plain), "SCRAM-SHA-1");
}

#[test]
fn scram_wrong_password_is_auth_failed() {
    let s = server(
        Tls::Implicit,
        TlsVersions::Any,
        &[ServerMech::ScramSha256],
        false,
    );
    let (result, trace) = deliver(&with_auth(
        &s,
        TlsMode::Implicit,
        Auth::Method(Mechanism::ScramSha256),
        "wrong-pw-123",
    ));
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code()),
        (&ErrorKind::AuthFailed, 77),
        "{e}"
    );
    assert!(!format!("{e} {e:?} {}", trace.text()).contains("wrong-pw-123"));
    assert!(s.messages().is_empty());
}

#[test]
fn scram_server_signature_that_does_not_verify_stops_the_session() {
    let s = server(
        Tls::StartTls,
        TlsVersions::Any,
        &[ServerMech::ScramSha256, ServerMech::Plain],
        true,
    );
    let (result, trace) = deliver(&with_auth(&s, TlsMode::StartTls, Auth::Auto, PASSWORD));
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code(), e.is_transient()),
        (&ErrorKind::AuthFailed, 77, false)
    );
    assert!(e.to_string().contains("signature does not verify"), "{e}");
    let text = trace.text();
    assert!(text.contains("--> *"), "the exchange is cancelled:\n{text}");
    assert!(!text.contains("MAIL FROM"), "nothing is sent:\n{text}");
    assert!(s.messages().is_empty());
}

/// TLS 1.2 has no safe exporter without the extended master secret: `-PLUS` binds
/// to the server's certificate (`tls-server-end-point`, RFC 5929), which the test
/// server checks against its own; chosen only when asked for. Without TLS there is
/// nothing to bind to.
#[test]
fn plus_over_tls_1_2_binds_to_the_server_certificate() {
    let s = server(
        Tls::StartTls,
        TlsVersions::Tls12Only,
        &[ServerMech::ScramSha256Plus, ServerMech::ScramSha1Plus],
        false,
    );
    for (n, (mechanism, name)) in [
        (Mechanism::ScramSha256Plus, "SCRAM-SHA-256-PLUS"),
        (Mechanism::ScramSha1Plus, "SCRAM-SHA-1-PLUS"),
    ]
    .into_iter()
    .enumerate()
    {
        let (result, trace) = deliver(&with_auth(
            &s,
            TlsMode::StartTls,
            Auth::Method(mechanism),
            PASSWORD,
        ));
        expect_ok(result, &trace);
        let m = &s.wait_for_messages(n + 1, WAIT)[n];
        let auth = m.auth.as_ref().expect("authenticated");
        assert!(auth.success && auth.identity == USER, "{auth:?}");
        assert_eq!(auth.mechanism, name);
        assert_redacted(&trace);
    }

    let plain = server(
        Tls::None,
        TlsVersions::Any,
        &[ServerMech::ScramSha256Plus],
        false,
    );
    let (result, trace) = deliver(&with_auth(
        &plain,
        TlsMode::Off,
        Auth::Method(Mechanism::ScramSha256Plus),
        PASSWORD,
    ));
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code()),
        (&ErrorKind::AuthUnavailable, 69),
        "{e}"
    );
    assert!(e.to_string().contains("TLS is off"), "{e}");
    assert!(!trace.text().contains("--> AUTH"), "{}", trace.text());
}
