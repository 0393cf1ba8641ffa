//! Successful deliveries and what goes on the wire: plain, STARTTLS, implicit
//! TLS, pipelining, ESMTP parameters, dot-stuffing, HELO fallback, serverinfo.

use std::time::Duration;

use rsmtp_smtp::{server_info, Envelope, ErrorKind, NoTrace, TlsMode};
use rsmtp_testserver::{Extensions, Fault, ServerOptions, TestServer, Tls};

use crate::harness::*;

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn plain_delivery_is_pipelined_and_traced() {
    let server = TestServer::start(ServerOptions::new().keep_raw_data());
    let (result, trace) = deliver(&settings(&server, TlsMode::Off));
    let delivered = expect_ok(result, &trace);
    assert_eq!(delivered.final_reply.code(), 250);
    assert_eq!(delivered.recipients.len(), 1);
    assert_eq!(delivered.recipients[0].0, TO);
    assert_eq!(delivered.recipients[0].1.code(), 250);

    let messages = server.wait_for_messages(1, WAIT);
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.mail_from, FROM);
    assert_eq!(m.recipients(), [TO]);
    assert_eq!(m.data, MESSAGE, "dot-stuffing must be transparent");
    assert!(
        m.raw_data.windows(15).any(|w| w == b"\r\n..leading dot"),
        "stuffed on the wire"
    );
    assert!(m.pipelined, "MAIL, RCPT and DATA in one read");
    assert!(!m.tls);
    assert_eq!(m.helo.as_deref(), Some("client.example"));

    let text = trace.text();
    assert!(text.contains("--> EHLO client.example"), "{text}");
    assert!(text.contains("<-- 220 "), "{text}");
    assert!(
        text.contains("--> MAIL FROM:<sender@example.org>"),
        "{text}"
    );
    assert!(text.contains("--> QUIT"), "{text}");
    assert!(server.wait_for_idle(WAIT));
    assert!(server.sessions()[0].quit, "the session ends with QUIT");
}

#[test]
fn starttls_delivery() {
    let server = TestServer::start(ServerOptions::new().tls(Tls::StartTls).require_tls(true));
    let (result, trace) = deliver(&settings(&server, TlsMode::StartTls));
    expect_ok(result, &trace);
    let m = &server.wait_for_messages(1, WAIT)[0];
    assert!(m.tls);
    assert_eq!(m.data, MESSAGE);
    server.wait_for_idle(WAIT);
    let s = &server.sessions()[0];
    assert_eq!(&s.verbs()[..3], ["EHLO", "STARTTLS", "EHLO"]);
    assert_eq!(s.sni.as_deref(), Some("localhost"));
    assert_eq!(s.discarded_after_starttls, 0);
}

#[test]
fn implicit_tls_delivery() {
    let server = TestServer::start(ServerOptions::new().tls(Tls::Implicit));
    let (result, trace) = deliver(&settings(&server, TlsMode::Implicit));
    expect_ok(result, &trace);
    let m = &server.wait_for_messages(1, WAIT)[0];
    assert!(m.tls);
    assert_eq!(m.data, MESSAGE);
}

#[test]
fn without_pipelining_commands_go_one_at_a_time() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::none()));
    let mut env = envelope();
    env.recipients.push("second@example.org".into());
    let (result, trace) = deliver_with(&settings(&server, TlsMode::Off), &env, MESSAGE);
    expect_ok(result, &trace);
    let m = &server.wait_for_messages(1, WAIT)[0];
    assert!(!m.pipelined);
    server.wait_for_idle(WAIT);
    let s = &server.sessions()[0];
    let reads: Vec<u64> = s
        .commands
        .iter()
        .filter(|c| {
            ["MAIL", "RCPT", "DATA"]
                .iter()
                .any(|v| c.line.starts_with(v))
        })
        .map(|c| c.batch)
        .collect();
    assert_eq!(reads.len(), 4);
    assert!(
        reads.windows(2).all(|w| w[0] != w[1]),
        "separate batches: {reads:?}"
    );
}

#[test]
fn many_recipients_pipelined_in_one_write() {
    let server = TestServer::start(ServerOptions::new());
    let rcpts: Vec<String> = (0..20).map(|i| format!("r{i}@example.org")).collect();
    let env = Envelope::new(FROM, rcpts.clone());
    let (result, trace) = deliver_with(&settings(&server, TlsMode::Off), &env, MESSAGE);
    let d = expect_ok(result, &trace);
    assert_eq!(d.recipients.len(), 20);
    let m = &server.wait_for_messages(1, WAIT)[0];
    assert!(m.pipelined);
    assert_eq!(
        m.recipients(),
        rcpts.iter().map(String::as_str).collect::<Vec<_>>()
    );
}

#[test]
fn esmtp_parameters_when_offered() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::all()));
    let mut env = envelope();
    env.size = Some(MESSAGE.len() as u64);
    env.eight_bit = true;
    env.dsn_notify = Some("FAILURE,DELAY".into());
    env.dsn_return = Some("HDRS".into());
    let (result, trace) = deliver_with(&settings(&server, TlsMode::Off), &env, MESSAGE);
    expect_ok(result, &trace);
    let m = &server.wait_for_messages(1, WAIT)[0];
    let size = format!("SIZE={}", MESSAGE.len());
    assert_eq!(m.mail_params, [size.as_str(), "BODY=8BITMIME", "RET=HDRS"]);
    assert_eq!(m.rcpt_to[0].params, ["NOTIFY=FAILURE,DELAY"]);
}

#[test]
fn dsn_requested_but_not_offered_fails_before_mail() {
    let server = TestServer::start(ServerOptions::new());
    let mut env = envelope();
    env.dsn_notify = Some("SUCCESS".into());
    let (result, trace) = deliver_with(&settings(&server, TlsMode::Off), &env, MESSAGE);
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code()),
        (&ErrorKind::ExtensionUnavailable, 69)
    );
    assert!(!trace.text().contains("MAIL FROM"));
}

#[test]
fn message_over_size_limit_is_refused_before_mail() {
    let ext = Extensions {
        size: Some(100),
        ..Extensions::default()
    };
    let server = TestServer::start(ServerOptions::new().extensions(ext));
    let mut env = envelope();
    env.size = Some(5000);
    let (result, trace) = deliver_with(&settings(&server, TlsMode::Off), &env, MESSAGE);
    let e = expect_err(result, &trace);
    assert_eq!(
        e.kind(),
        &ErrorKind::TooLarge {
            size: 5000,
            limit: 100
        }
    );
    assert_eq!((e.exit_code().code(), e.is_transient()), (65, false));
    assert!(!trace.text().contains("MAIL FROM"), "{}", trace.text());
    assert!(trace.text().contains("--> QUIT"));
}

#[test]
fn helo_fallback() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::helo_only()));
    let (result, trace) = deliver(&settings(&server, TlsMode::Off));
    expect_ok(result, &trace);
    let text = trace.text();
    assert!(text.contains("--> EHLO client.example\n<-- 502"), "{text}");
    assert!(text.contains("--> HELO client.example"), "{text}");
    assert_eq!(server.wait_for_messages(1, WAIT).len(), 1);
}

#[test]
fn starttls_not_offered_never_falls_back_to_plain_text() {
    let server = TestServer::start(ServerOptions::new());
    let (result, trace) = deliver(&settings(&server, TlsMode::StartTls));
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code()),
        (&ErrorKind::StartTlsUnavailable, 69)
    );
    assert!(!e.is_transient());
    server.wait_for_idle(WAIT);
    assert_eq!(server.sessions()[0].verbs(), ["EHLO", "QUIT"]);
}

#[test]
fn dot_stuffing_and_missing_final_crlf_on_a_large_body() {
    let server = TestServer::start(ServerOptions::new());
    let mut body = b"Subject: big\r\n\r\n".to_vec();
    for i in 0..30_000 {
        body.extend_from_slice(format!(".line {i} with a leading dot\r\n").as_bytes());
        body.extend_from_slice(b"..two dots\r\n.\r\n");
    }
    body.extend_from_slice(b"no final newline");
    let (result, trace) = deliver_with(&settings(&server, TlsMode::Off), &envelope(), &body);
    expect_ok(result, &trace);
    let m = &server.wait_for_messages(1, WAIT)[0];
    let mut expected = body.clone();
    expected.extend_from_slice(b"\r\n");
    assert_eq!(m.size, expected.len());
    assert!(m.data == expected, "body differs after dot-unstuffing");
    assert!(!m.bare_lf);
}

#[test]
fn eight_bit_body_over_tls() {
    let server = TestServer::start(ServerOptions::new().tls(Tls::StartTls));
    let body = "Subject: caf\u{e9}\r\n\r\n\u{65e5}\u{672c}\u{8a9e}\r\n".as_bytes();
    let mut env = envelope();
    env.eight_bit = true;
    let (result, trace) = deliver_with(&settings(&server, TlsMode::StartTls), &env, body);
    expect_ok(result, &trace);
    let m = &server.wait_for_messages(1, WAIT)[0];
    assert_eq!(m.data, body);
    assert_eq!(m.mail_params, ["BODY=8BITMIME"]);
}

#[test]
fn one_refused_recipient_fails_the_whole_message() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        "bad@example.org",
        550,
        "5.1.1 No such user",
    )));
    let env = Envelope::new(FROM, vec![TO.into(), "bad@example.org".into()]);
    let (result, trace) = deliver_with(&settings(&server, TlsMode::Off), &env, MESSAGE);
    let e = expect_err(result, &trace);
    match e.kind() {
        ErrorKind::RecipientsRefused(refused) => {
            assert_eq!(refused.len(), 1);
            assert_eq!(refused[0].0, "bad@example.org");
            assert_eq!(refused[0].1.code(), 550);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((e.exit_code().code(), e.is_transient()), (65, false));
    assert!(e.to_string().contains("bad@example.org"), "{e}");
    assert_eq!(e.smtp_status(), Some((550, "5.1.1 No such user".into())));
    assert!(server.wait_for_idle(WAIT));
    assert!(server.messages().is_empty(), "nothing delivered");
    assert!(server.rejected_messages().is_empty(), "no body sent");
}

#[test]
fn refused_recipient_without_pipelining_never_sends_data() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::none()).fault(
        Fault::reject_recipient("bad@example.org", 450, "4.2.0 Mailbox busy"),
    ));
    let env = Envelope::new(FROM, vec!["bad@example.org".into(), TO.into()]);
    let (result, trace) = deliver_with(&settings(&server, TlsMode::Off), &env, MESSAGE);
    let e = expect_err(result, &trace);
    assert!(matches!(e.kind(), ErrorKind::RecipientsRefused(_)));
    assert_eq!((e.exit_code().code(), e.is_transient()), (75, true));
    server.wait_for_idle(WAIT);
    assert_eq!(
        server.sessions()[0].verbs(),
        ["EHLO", "MAIL", "RCPT", "RCPT", "QUIT"]
    );
}

#[test]
fn server_info_plain() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::all()));
    let info = server_info(&settings(&server, TlsMode::Off), &mut NoTrace).unwrap();
    assert!(info.tls.is_none());
    assert!(info.capabilities.pipelining && info.capabilities.dsn);
    assert_eq!(info.capabilities.size, Some(10 * 1024 * 1024));
    let text = info.to_string();
    assert!(
        text.starts_with(&format!(
            "SMTP server at localhost ([127.0.0.1]), port {}:\n",
            server.port()
        )),
        "{text}"
    );
    assert!(text.contains("    PIPELINING:\n"), "{text}");
    assert!(
        text.contains("Maximum message size is 10485760 bytes = 10.00 MiB"),
        "{text}"
    );
    server.wait_for_idle(WAIT);
    assert!(server.sessions()[0].quit);
    assert!(server.messages().is_empty());
}

#[test]
fn server_info_tls_shows_the_certificate() {
    for (tls, mode) in [
        (Tls::StartTls, TlsMode::StartTls),
        (Tls::Implicit, TlsMode::Implicit),
    ] {
        let server = TestServer::start(ServerOptions::new().tls(tls).auth("u", "p"));
        let info = server_info(&settings(&server, mode), &mut NoTrace).unwrap();
        let tls_info = info.tls.as_ref().expect("TLS info");
        let cert = tls_info.certificate.as_ref().expect("certificate");
        let leaf = server.ca().leaf(Default::default());
        assert_eq!(cert.sha256_hex(), leaf.sha256_fingerprint());
        assert_eq!(cert.sha1_hex(), leaf.sha1_fingerprint());
        assert!(cert.subject.contains("localhost") || !cert.subject.is_empty());
        assert_eq!(
            info.capabilities.auth,
            ["PLAIN", "LOGIN"],
            "capabilities after STARTTLS"
        );
        let text = info.to_string();
        assert!(text.contains("TLS session parameters:"), "{text}");
        assert!(text.contains("TLS certificate information:"), "{text}");
        assert!(
            text.contains(&format!("SHA256: {}", leaf.sha256_fingerprint())),
            "{text}"
        );
        assert!(text.contains("Activation time: "), "{text}");
    }
}

#[test]
fn bad_addresses_are_refused_before_connecting() {
    let server = TestServer::start(ServerOptions::new());
    for env in [
        Envelope::new(FROM, vec!["a@b.org\r\nRSET".into()]),
        Envelope::new("x@y.org>", vec![TO.into()]),
        Envelope::new(FROM, vec![]),
    ] {
        let (result, trace) = deliver_with(&settings(&server, TlsMode::Off), &env, MESSAGE);
        let e = expect_err(result, &trace);
        assert_eq!(
            (e.kind(), e.exit_code().code()),
            (&ErrorKind::InvalidAddress, 65),
            "{e}"
        );
    }
    assert_eq!(server.connections(), 0);
}
