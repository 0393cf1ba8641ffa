//! The test server, tested with a raw TCP client and a rustls client.

#![allow(
    clippy::unwrap_used,
    reason = "a test that meets an unexpected error should stop there, loudly"
)]

mod support;

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rsmtp_testserver::{
    closed_port, demo_server, ClientCertPolicy, Extensions, Fault, LeafKind, Mechanism,
    ServerOptions, Step, TestServer, Tls, DEMO_PASSWORD, DEMO_USER,
};
use sha2::{Digest, Sha256};
use support::{Client, TlsClient};

const WAIT: Duration = Duration::from_secs(10);

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

#[test]
fn greeting_and_default_ehlo_capabilities() {
    let server = TestServer::start(ServerOptions::new());
    let mut c = Client::connect(server.port());
    let greeting = c.reply();
    assert_eq!(greeting.code, 220);
    assert!(
        greeting.text().starts_with("localhost ESMTP"),
        "{greeting:?}"
    );
    let ehlo = c.cmd("EHLO client.example");
    assert_eq!(ehlo.code, 250);
    assert_eq!(ehlo.lines[0], "localhost Hello client.example");
    assert_eq!(
        &ehlo.lines[1..],
        ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]
    );
    assert_eq!(c.cmd("NOOP").code, 250);
    assert_eq!(c.cmd("BDAT 10 LAST").code, 500);
    assert_eq!(c.cmd("QUIT").code, 221);
    assert!(c.is_closed());
    assert!(server.wait_for_idle(WAIT));
    let sessions = server.sessions();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].quit);
    assert_eq!(sessions[0].verbs(), ["EHLO", "NOOP", "BDAT", "QUIT"]);
    assert_eq!(server.connections(), 1);
    assert!(server.transcript().contains("EHLO client.example"));
}

#[test]
fn all_extensions_and_helo_only() {
    let server = TestServer::start(
        ServerOptions::new()
            .extensions(Extensions::all())
            .auth("u", "p")
            .mechanisms(&Mechanism::ALL),
    );
    let mut c = Client::connect(server.port());
    let ehlo = c.hello();
    assert_eq!(
        &ehlo.lines[1..],
        [
            "PIPELINING",
            "SIZE 10485760",
            "8BITMIME",
            "SMTPUTF8",
            "DSN",
            "ENHANCEDSTATUSCODES",
            "AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS"
        ]
    );

    let old = TestServer::start(ServerOptions::new().extensions(Extensions::helo_only()));
    let mut c = Client::connect(old.port());
    assert_eq!(c.reply().code, 220);
    assert_eq!(c.cmd("EHLO client.example").code, 502);
    assert_eq!(c.cmd("HELO client.example").code, 250);
    // After HELO no extension parameter is allowed.
    assert_eq!(c.cmd("MAIL FROM:<a@example.org> BODY=8BITMIME").code, 555);
    let r = c.send_message(
        "a@example.org",
        &["b@example.org"],
        "Subject: x\r\n\r\nhi\r\n",
    );
    assert_eq!(r.code, 250);
    let m = &old.wait_for_messages(1, WAIT)[0];
    assert_eq!(m.helo.as_deref(), Some("client.example"));
    assert!(!old.sessions()[0].ehlo);
}

#[test]
fn records_envelope_and_dot_unstuffed_body() {
    let server = TestServer::start(
        ServerOptions::new()
            .extensions(Extensions::all())
            .keep_raw_data(),
    );
    let mut c = Client::connect(server.port());
    c.hello();
    assert_eq!(
        c.cmd("MAIL FROM:<alice@example.org> BODY=8BITMIME SIZE=40")
            .code,
        250
    );
    assert_eq!(c.cmd("RCPT TO:<bob@example.org> NOTIFY=FAILURE").code, 250);
    assert_eq!(c.cmd("RCPT TO:<carol@example.org>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    let raw = "Subject: dots\r\n\r\n..leading dot\r\n.\r\n";
    c.send(raw);
    assert_eq!(c.reply().code, 250);

    let m = &server.wait_for_messages(1, WAIT)[0];
    assert_eq!(m.mail_from, "alice@example.org");
    assert_eq!(m.mail_params, ["BODY=8BITMIME", "SIZE=40"]);
    assert_eq!(m.recipients(), ["bob@example.org", "carol@example.org"]);
    assert_eq!(m.rcpt_to[0].params, ["NOTIFY=FAILURE"]);
    assert_eq!(m.data, b"Subject: dots\r\n\r\n.leading dot\r\n");
    assert_eq!(m.raw_data, raw.as_bytes());
    assert_eq!(m.header("subject").as_deref(), Some("dots"));
    assert!(!m.tls && m.auth.is_none() && !m.bare_lf);
    assert!(!m.pipelined, "commands were sent one by one");
}

/// Send one message with the given body lines on an open, greeted client.
fn send_one(c: &mut Client, from: &str, body: &str) {
    assert_eq!(c.cmd(&format!("MAIL FROM:<{from}>")).code, 250);
    assert_eq!(c.cmd("RCPT TO:<bob@example.org>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(body);
    assert_eq!(c.reply().code, 250);
}

#[test]
fn the_wire_form_is_kept_only_when_asked_for() {
    let server = TestServer::start(ServerOptions::new());
    let mut c = Client::connect(server.port());
    c.hello();
    send_one(
        &mut c,
        "alice@example.org",
        "Subject: dots\r\n\r\n..x\r\n.\r\n",
    );
    let m = &server.wait_for_messages(1, WAIT)[0];
    assert_eq!(m.data, b"Subject: dots\r\n\r\n.x\r\n");
    assert!(m.raw_data.is_empty(), "the body is held once by default");
    assert_eq!(m.size, m.data.len());
}

#[test]
fn messages_can_be_taken_one_at_a_time_in_order() {
    let server = TestServer::start(ServerOptions::new());
    assert_eq!(server.wait_for_message(0, Duration::ZERO), None);
    let mut c = Client::connect(server.port());
    c.hello();
    for i in 0..3 {
        send_one(&mut c, &format!("s{i}@example.org"), "\r\nbody\r\n.\r\n");
    }
    for i in 0..3 {
        let m = server
            .wait_for_message(i, WAIT)
            .unwrap_or_else(|| panic!("message {i} never came"));
        assert_eq!(m.mail_from, format!("s{i}@example.org"));
    }
    assert_eq!(server.wait_for_message(3, Duration::ZERO), None);
    assert_eq!(server.messages().len(), 3);
    let all = server.transcript().entries;
    let tail = server.transcript_since(2);
    assert_eq!(tail, all[2..]);
    assert!(server.transcript_since(all.len() + 5).is_empty());
}

#[test]
fn a_taken_port_is_an_error_naming_the_port() {
    let first = TestServer::start(ServerOptions::new());
    let Err(e) = TestServer::try_start(ServerOptions::new().port(first.port())) else {
        panic!("a second server bound port {}", first.port());
    };
    assert_eq!(e.port, first.port());
    assert_eq!(e.source.kind(), std::io::ErrorKind::AddrInUse);
    let text = e.to_string();
    assert_eq!(
        text,
        format!(
            "cannot listen on 127.0.0.1:{0}: Address already in use \
             (another process has port {0}; pick another)",
            first.port()
        )
    );
    let port = first.port();
    let panic = std::panic::catch_unwind(move || {
        TestServer::start(ServerOptions::new().port(port));
    })
    .expect_err("start panics when the port is taken");
    let message = panic.downcast_ref::<String>().expect("a formatted message");
    assert_eq!(*message, format!("rsmtp-testserver: {text}"));
}

#[test]
fn pipelined_commands_are_answered_in_order_and_detected() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        "nobody@example.org",
        550,
        "5.1.1 No such user",
    )));
    let mut c = Client::connect(server.port());
    c.hello();
    c.send(
        "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<nobody@example.org>\r\nDATA\r\n",
    );
    let codes: Vec<u16> = (0..4).map(|_| c.reply().code).collect();
    assert_eq!(codes, [250, 250, 550, 354]);
    c.send("Subject: p\r\n\r\nbody\r\n.\r\n");
    assert_eq!(c.reply().code, 250);
    let m = &server.wait_for_messages(1, WAIT)[0];
    assert!(m.pipelined);
    assert_eq!(m.recipients(), ["b@example.org"]);
    assert_eq!(m.rcpt_to.len(), 2);
    assert_eq!(m.rcpt_to[1].reply_code, 550);
    let commands = &server.sessions()[0].commands;
    assert_eq!(commands[1].batch, commands[4].batch, "{commands:?}");
    assert_ne!(commands[0].batch, commands[1].batch);
}

#[test]
fn bare_lf_and_missing_recipients() {
    let server = TestServer::start(ServerOptions::new());
    let mut c = Client::connect(server.port());
    c.hello();
    assert_eq!(c.cmd("RCPT TO:<b@example.org>").code, 503);
    assert_eq!(c.cmd("DATA").code, 503);
    assert_eq!(c.cmd("MAIL FROM:<>").code, 250);
    assert_eq!(c.cmd("DATA").code, 554, "no accepted recipient yet");
    assert_eq!(c.cmd("RCPT TO:<b@example.org>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send("a\nb\r\n.\r\n");
    assert_eq!(c.reply().code, 250);
    let m = &server.wait_for_messages(1, WAIT)[0];
    assert_eq!(m.mail_from, "");
    assert!(m.bare_lf);
    assert_eq!(m.data, b"a\nb\r\n");
}

#[test]
fn starttls_upgrade_with_the_ca() {
    let server = TestServer::start(ServerOptions::new().tls(Tls::StartTls).auth("alice", "pw"));
    let mut c = Client::connect(server.port());
    let ehlo = c.hello();
    assert!(ehlo.lines.contains(&"STARTTLS".to_string()));
    assert!(
        !ehlo.lines.iter().any(|l| l.starts_with("AUTH")),
        "AUTH is only offered inside TLS: {ehlo:?}"
    );
    assert_eq!(c.cmd("AUTH PLAIN").code, 538);
    assert_eq!(c.cmd("STARTTLS").code, 220);
    c.handshake(&TlsClient::trusting(server.ca()))
        .expect("handshake");
    let fp = Sha256::digest(c.peer_cert.as_ref().unwrap());
    let fp: Vec<String> = fp.iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(
        fp.join(":"),
        server.ca().leaf(LeafKind::Valid).sha256_fingerprint()
    );

    assert_eq!(
        c.cmd("MAIL FROM:<a@example.org>").code,
        503,
        "EHLO again first"
    );
    let ehlo = c.cmd("EHLO client.example");
    assert!(!ehlo.lines.contains(&"STARTTLS".to_string()));
    assert!(ehlo.lines.contains(&"AUTH PLAIN LOGIN".to_string()));
    assert_eq!(
        c.cmd("MAIL FROM:<a@example.org>").code,
        530,
        "AUTH required"
    );
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", b64("\0alice\0pw"))).code,
        235
    );
    let r = c.send_message("a@example.org", &["b@example.org"], "x\r\n");
    assert_eq!(r.code, 250);
    let m = &server.wait_for_messages(1, WAIT)[0];
    assert!(m.tls);
    let auth = m.auth.as_ref().unwrap();
    assert_eq!(
        (auth.mechanism.as_str(), auth.identity.as_str()),
        ("PLAIN", "alice")
    );
    let s = &server.sessions()[0];
    assert_eq!(s.sni.as_deref(), Some("localhost"));
    assert!(s.tls_version.is_some());
}

#[test]
fn implicit_tls_and_certificate_failures() {
    let server = TestServer::start(ServerOptions::new().tls(Tls::Implicit));
    let tls = TlsClient::trusting(server.ca());
    let mut c = Client::connect_tls(server.port(), &tls).expect("handshake");
    c.hello();
    assert!(c.send_message("a@x.org", &["b@x.org"], "hi\r\n").code == 250);
    assert!(server.wait_for_messages(1, WAIT)[0].tls);

    // The same CA, each bad certificate: the client refuses, the server notes why.
    let ca = server.ca_arc();
    for (leaf, expect) in [
        (LeafKind::Expired, "expired"),
        (LeafKind::WrongHost, "name"),
        (LeafKind::SelfSigned, "issuer"),
    ] {
        let bad = TestServer::start(
            ServerOptions::new()
                .tls(Tls::Implicit)
                .ca(ca.clone())
                .leaf(leaf),
        );
        let err = Client::connect_tls(bad.port(), &tls)
            .err()
            .expect("handshake must fail");
        assert!(err.to_lowercase().contains(expect), "{leaf:?}: {err}");
        assert!(bad.wait_for_idle(WAIT));
        let tls_error = bad.sessions()[0]
            .tls_error
            .clone()
            .expect("server saw the failure");
        assert!(tls_error.contains("alert"), "{tls_error}");
    }

    // A plain-text client on the implicit-TLS port gets no greeting (the msmtp hang).
    let mut plain = Client::connect(server.port());
    plain.set_read_timeout(Duration::from_millis(300));
    assert!(plain.try_reply().is_err());
}

#[test]
fn client_certificates() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::Implicit)
            .client_certs(ClientCertPolicy::Required),
    );
    let ca = server.ca();
    let good = TlsClient::with_client_cert(ca, ca.client_cert());
    let mut c = Client::connect_tls(server.port(), &good).expect("handshake");
    c.hello();
    assert_eq!(c.send_message("a@x.org", &["b@x.org"], "hi\r\n").code, 250);
    let m = &server.wait_for_messages(1, WAIT)[0];
    assert_eq!(
        m.client_cert_subject.as_deref(),
        Some("CN=rsmtp test client")
    );
    drop(c);

    // No certificate, or one from elsewhere: the server refuses the handshake.
    for client in [
        TlsClient::trusting(ca),
        TlsClient::with_client_cert(ca, ca.untrusted_client_cert()),
    ] {
        let before = server.connections();
        let result = Client::connect_tls(server.port(), &client).and_then(|mut c| {
            // TLS 1.3: the client learns of the rejection on its first read.
            c.try_reply().map(|_| ()).map_err(|e| e.to_string())
        });
        assert!(result.is_err());
        server.wait_for_connections(before + 1, WAIT);
    }
    assert!(server.wait_for_idle(WAIT));
    let sessions = server.sessions();
    assert!(sessions[1].tls_error.is_some() && sessions[2].tls_error.is_some());
}

#[test]
fn auth_mechanisms_accept_and_reject() {
    let opts = ServerOptions::new().auth_config(rsmtp_testserver::AuthConfig {
        token: Some("tok".into()),
        mechanisms: Mechanism::ALL.to_vec(),
        ..rsmtp_testserver::AuthConfig::new("alice", "pw")
    });
    let server = TestServer::start(opts);
    let session = || {
        let mut c = Client::connect(server.port());
        c.hello();
        c
    };

    // PLAIN with an initial response, and with a 334 continuation.
    let mut c = session();
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", b64("\0alice\0wrong"))).code,
        535
    );
    let r = c.cmd("AUTH PLAIN");
    assert_eq!((r.code, r.text()), (334, String::new()));
    assert_eq!(c.cmd(&b64("\0alice\0pw")).code, 235);
    assert_eq!(c.cmd("AUTH PLAIN").code, 503, "already authenticated");

    // LOGIN.
    let mut c = session();
    let r = c.cmd("AUTH LOGIN");
    assert_eq!((r.code, r.text()), (334, b64("Username:")));
    assert_eq!(c.cmd(&b64("alice")).text(), b64("Password:"));
    assert_eq!(c.cmd(&b64("pw")).code, 235);

    // CRAM-MD5.
    let mut c = session();
    let r = c.cmd("AUTH CRAM-MD5");
    assert_eq!(r.code, 334);
    let challenge = STANDARD.decode(r.text()).unwrap();
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<md5::Md5>::new_from_slice(b"pw").unwrap();
    mac.update(&challenge);
    let digest: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(c.cmd(&b64(&format!("alice {digest}"))).code, 235);

    // XOAUTH2: wrong token gets an error challenge, then 535.
    let mut c = session();
    let r = c.cmd(&format!(
        "AUTH XOAUTH2 {}",
        b64("user=alice\x01auth=Bearer bad\x01\x01")
    ));
    assert_eq!(r.code, 334);
    assert_eq!(c.cmd("").code, 535);
    let r = c.cmd(&format!(
        "AUTH XOAUTH2 {}",
        b64("user=alice\x01auth=Bearer tok\x01\x01")
    ));
    assert_eq!(r.code, 235);

    // OAUTHBEARER.
    let mut c = session();
    let resp = b64("n,a=alice,\x01host=localhost\x01port=25\x01auth=Bearer tok\x01\x01");
    assert_eq!(c.cmd(&format!("AUTH OAUTHBEARER {resp}")).code, 235);

    // A scripted reply replaces the 235 of a successful exchange.
    let faulty = TestServer::start(ServerOptions::new().auth("alice", "pw").fault(Fault::reply(
        Step::Auth,
        454,
        "4.7.0 Temporary authentication failure",
    )));
    let mut f = Client::connect(faulty.port());
    f.hello();
    assert_eq!(
        f.cmd(&format!("AUTH PLAIN {}", b64("\0alice\0pw"))).code,
        454
    );
    assert_eq!(f.cmd("MAIL FROM:<a@x.org>").code, 530, "not authenticated");
    assert!(!faulty.sessions()[0].auth_attempts[0].success);

    // Cancel, bad base64, unknown mechanism.
    let mut c = session();
    assert_eq!(c.cmd("AUTH LOGIN").code, 334);
    assert_eq!(c.cmd("*").code, 501);
    assert_eq!(c.cmd("AUTH PLAIN !!!").code, 501);
    assert_eq!(c.cmd("AUTH NTLM").code, 504);

    let attempts: Vec<(String, bool)> = server
        .sessions()
        .iter()
        .flat_map(|s| s.auth_attempts.clone())
        .map(|a| (a.mechanism, a.success))
        .collect();
    let expected = [
        ("PLAIN", false),
        ("PLAIN", true),
        ("LOGIN", true),
        ("CRAM-MD5", true),
        ("XOAUTH2", false),
        ("XOAUTH2", true),
        ("OAUTHBEARER", true),
    ];
    let expected: Vec<(String, bool)> = expected.iter().map(|(m, s)| (m.to_string(), *s)).collect();
    assert_eq!(attempts, expected);
}

#[test]
fn parameter_checks() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions {
        size: Some(100),
        ..Extensions::default()
    }));
    let mut c = Client::connect(server.port());
    c.hello();
    assert_eq!(c.cmd("MAIL FROM:<a@x.org> SIZE=101").code, 552);
    assert_eq!(c.cmd("MAIL FROM:<a@x.org> RET=HDRS").code, 555, "no DSN");
    assert_eq!(
        c.cmd("MAIL FROM:<a@x.org> SMTPUTF8").code,
        555,
        "no SMTPUTF8"
    );
    assert_eq!(c.cmd("MAIL FROM:<ü@x.org>").code, 553);
    assert_eq!(c.cmd("MAIL FROM:a@x.org").code, 501);
    assert_eq!(c.cmd("MAIL FROM:<a@x.org> SIZE=50").code, 250);
    assert_eq!(c.cmd("MAIL FROM:<a@x.org>").code, 503, "nested");
    assert_eq!(c.cmd("RCPT TO:<b@x.org> NOTIFY=NEVER").code, 555);
    assert_eq!(c.cmd("RCPT TO:<b@x.org>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(&"x".repeat(200));
    c.send("\r\n.\r\n");
    assert_eq!(c.reply().code, 552, "body over SIZE");
    assert!(server.messages().is_empty());
    assert_eq!(server.rejected_messages()[0].final_reply, Some(552));
}

#[test]
fn refused_connection_and_greeting_faults() {
    let port = closed_port();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());

    let server =
        TestServer::start(ServerOptions::new().fault(Fault::greeting(421, "4.3.2 go away")));
    let mut c = Client::connect(server.port());
    assert_eq!(c.reply().code, 421);
    assert!(c.is_closed());

    let server = TestServer::start(ServerOptions::new().fault(Fault::greeting(554, "5.3.2 no")));
    let mut c = Client::connect(server.port());
    assert_eq!(c.reply().code, 554);
    assert_eq!(c.cmd("EHLO x").code, 503);
    assert_eq!(c.cmd("QUIT").code, 221);

    let server = TestServer::start(ServerOptions::new().fault(Fault::no_greeting()));
    let mut c = Client::connect(server.port());
    c.set_read_timeout(Duration::from_millis(300));
    assert!(c.try_reply().is_err(), "no greeting");
    assert!(!c.is_closed(), "still connected");

    let server =
        TestServer::start(ServerOptions::new().fault(Fault::LongReply(Step::Greeting, 100 * 1024)));
    let mut c = Client::connect(server.port());
    let r = c.reply();
    assert_eq!((r.code, r.text().len()), (220, 100 * 1024));
}

#[test]
fn reply_faults_at_each_step() {
    let cases = [
        (Step::Ehlo, 554),
        (Step::Mail, 451),
        (Step::Rcpt, 550),
        (Step::Data, 451),
        (Step::EndOfData, 554),
    ];
    for (step, code) in cases {
        let server =
            TestServer::start(ServerOptions::new().fault(Fault::reply(step, code, "scripted")));
        let mut c = Client::connect(server.port());
        assert_eq!(c.reply().code, 220);
        let mut got = Vec::new();
        for line in ["EHLO x", "MAIL FROM:<a@x.org>", "RCPT TO:<b@x.org>", "DATA"] {
            let r = c.cmd(line);
            got.push(r.code);
            if r.code >= 400 {
                break;
            }
        }
        if got.last() == Some(&354) {
            c.send("hi\r\n.\r\n");
            got.push(c.reply().code);
        }
        assert_eq!(got.last(), Some(&code), "{step:?}: {got:?}");
        assert!(server.messages().is_empty(), "{step:?}");
    }

    // 421 at any step closes the connection.
    let server = TestServer::start(ServerOptions::new().fault(Fault::service_closing(Step::Rcpt)));
    let mut c = Client::connect(server.port());
    c.hello();
    assert_eq!(c.cmd("MAIL FROM:<a@x.org>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<b@x.org>").code, 421);
    assert!(c.is_closed());

    // Drop instead of answering.
    let server = TestServer::start(ServerOptions::new().fault(Fault::Drop(Step::Mail)));
    let mut c = Client::connect(server.port());
    c.hello();
    c.send("MAIL FROM:<a@x.org>\r\n");
    assert!(c.try_reply().is_err());
}

#[test]
fn data_faults() {
    // Dropped mid-DATA.
    let server = TestServer::start(ServerOptions::new().fault(Fault::drop_during_data(1000)));
    let mut c = Client::connect(server.port());
    c.hello();
    assert_eq!(c.cmd("MAIL FROM:<a@x.org>").code, 250);
    assert_eq!(c.cmd("RCPT TO:<b@x.org>").code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    // One write: a second write after the server closed could fail with EPIPE.
    c.send(&format!("{}\r\n", "y".repeat(98)).repeat(20));
    assert!(c.is_closed());
    assert!(server.messages().is_empty() && server.rejected_messages().is_empty());
    assert!(server
        .transcript()
        .contains("dropping the connection after"));

    // Hang after the body: the message arrived but is never confirmed.
    let server = TestServer::start(ServerOptions::new().fault(Fault::hang_after_data()));
    let mut c = Client::connect(server.port());
    c.hello();
    c.send("MAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\n");
    assert_eq!(
        [c.reply().code, c.reply().code, c.reply().code],
        [250, 250, 354]
    );
    c.send("hi\r\n.\r\n");
    c.set_read_timeout(Duration::from_millis(300));
    assert!(c.try_reply().is_err(), "no final reply");
    let rejected = server.rejected_messages();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (rejected[0].data.as_slice(), rejected[0].final_reply),
        (&b"hi\r\n"[..], None)
    );
    drop(server);
    c.set_read_timeout(Duration::from_secs(5));
    assert!(c.is_closed(), "dropping the server closes hung connections");

    // A delay is a delay.
    let server = TestServer::start(
        ServerOptions::new().fault(Fault::Delay(Step::EndOfData, Duration::from_millis(300))),
    );
    let mut c = Client::connect(server.port());
    c.hello();
    let start = Instant::now();
    assert_eq!(c.send_message("a@x.org", &["b@x.org"], "hi\r\n").code, 250);
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[test]
fn starttls_faults() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .fault(Fault::starttls_unavailable()),
    );
    let mut c = Client::connect(server.port());
    c.hello();
    assert_eq!(c.cmd("STARTTLS").code, 454);

    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .fault(Fault::TlsGarbage),
    );
    let mut c = Client::connect(server.port());
    c.hello();
    assert_eq!(c.cmd("STARTTLS").code, 220);
    let err = c.handshake(&TlsClient::trusting(server.ca())).unwrap_err();
    assert!(!err.is_empty());

    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::Implicit)
            .fault(Fault::TlsGarbage),
    );
    assert!(Client::connect_tls(server.port(), &TlsClient::trusting(server.ca())).is_err());

    // Plain server, client expecting TLS at once: fails fast, no hang.
    let server = TestServer::start(ServerOptions::new());
    let start = Instant::now();
    assert!(Client::connect_tls(server.port(), &TlsClient::trusting(server.ca())).is_err());
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn faults_on_first_connections_only_and_runtime_changes() {
    let server = TestServer::start(
        ServerOptions::new()
            .fault(Fault::greeting(421, "4.3.2 busy"))
            .faulty_connections(1),
    );
    assert_eq!(Client::connect(server.port()).reply().code, 421);
    let mut c = Client::connect(server.port());
    c.hello();
    server.set_faults(vec![Fault::greeting(554, "5.0.0 no")]);
    assert_eq!(
        Client::connect(server.port()).reply().code,
        220,
        "only the first is faulty"
    );

    let server = TestServer::start(ServerOptions::new().fault(Fault::greeting(421, "4.3.2 busy")));
    assert_eq!(Client::connect(server.port()).reply().code, 421);
    server.set_faults(Vec::new());
    assert_eq!(Client::connect(server.port()).reply().code, 220);
}

#[test]
fn idle_timeout_closes_with_421() {
    let server = TestServer::start(ServerOptions::new().idle_timeout(Duration::from_millis(200)));
    let mut c = Client::connect(server.port());
    assert_eq!(c.reply().code, 220);
    let r = c.reply();
    assert_eq!(r.code, 421);
    assert!(c.is_closed());
}

#[test]
fn concurrent_connections() {
    let server = TestServer::start(ServerOptions::new());
    let port = server.port();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                c.hello();
                let r = c.send_message(&format!("s{i}@x.org"), &["r@x.org"], "hi\r\n");
                assert_eq!(r.code, 250);
                assert_eq!(c.cmd("QUIT").code, 221);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(server.wait_for_messages(8, WAIT).len(), 8);
    assert_eq!(server.connections(), 8);
}

#[test]
fn demo_server_works_end_to_end() {
    let server = demo_server();
    let mut c = Client::connect(server.port());
    c.hello();
    assert_eq!(c.cmd("STARTTLS").code, 220);
    c.handshake(&TlsClient::trusting(server.ca())).unwrap();
    c.cmd("EHLO client.example");
    let r = c.cmd("AUTH LOGIN");
    assert_eq!(r.code, 334);
    c.cmd(&b64(DEMO_USER));
    assert_eq!(c.cmd(&b64(DEMO_PASSWORD)).code, 235);
    assert_eq!(
        c.send_message("demo@example.org", &["you@example.org"], "hi\r\n")
            .code,
        250
    );
    let m = &server.wait_for_messages(1, WAIT)[0];
    assert_eq!(m.auth.as_ref().unwrap().identity, DEMO_USER);
    assert!(server.ca().ca_pem_path().exists());
}

#[test]
fn pipelining_window_detects_separate_writes() {
    let server =
        TestServer::start(ServerOptions::new().pipelining_window(Duration::from_millis(500)));
    let mut c = Client::connect(server.port());
    c.hello();
    // Pipelined, but one write per command (as msmtp does).
    for line in [
        "MAIL FROM:<a@x.org>\r\n",
        "RCPT TO:<b@x.org>\r\n",
        "DATA\r\n",
    ] {
        c.send(line);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        [c.reply().code, c.reply().code, c.reply().code],
        [250, 250, 354]
    );
    c.send("hi\r\n.\r\n");
    assert_eq!(c.reply().code, 250);
    // Not pipelined: each command waits for its reply.
    assert_eq!(c.send_message("a@x.org", &["b@x.org"], "hi\r\n").code, 250);
    let m = server.wait_for_messages(2, WAIT);
    assert!(m[0].pipelined);
    assert!(!m[1].pipelined);
}

#[test]
fn command_line_binary_prints_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let port_file = dir.path().join("port");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_rsmtp-testserver"))
        .args(["--tls", "starttls", "--user", "u", "--password", "p"])
        .args(["--once", "--timeout", "60"])
        .arg("--cert-dir")
        .arg(dir.path().join("certs"))
        .arg("--port-file")
        .arg(&port_file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start rsmtp-testserver");
    let deadline = Instant::now() + WAIT;
    let port: u16 = loop {
        if let Some(p) = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break p;
        }
        assert!(Instant::now() < deadline, "the binary never wrote its port");
        std::thread::sleep(Duration::from_millis(20));
    };
    let ca = rsmtp_testserver::TestCa::new(); // a different CA: must not be trusted
    let mut c = Client::connect(port);
    c.hello();
    assert_eq!(c.cmd("STARTTLS").code, 220);
    assert!(c.handshake(&TlsClient::trusting(&ca)).is_err());

    // Trust the CA the binary wrote.
    let mut c = Client::connect(port);
    c.hello();
    assert_eq!(c.cmd("STARTTLS").code, 220);
    let pem = std::fs::read(dir.path().join("certs/ca.pem")).unwrap();
    use rustls_pki_types::pem::PemObject;
    let der = rustls_pki_types::CertificateDer::from_pem_slice(&pem).unwrap();
    c.handshake(&TlsClient::trusting_der(der))
        .expect("handshake with the written CA");
    c.cmd("EHLO client.example");
    assert_eq!(c.cmd(&format!("AUTH PLAIN {}", b64("\0u\0p"))).code, 235);
    assert_eq!(
        c.send_message("a@x.org", &["b@x.org"], "Subject: cli\r\n\r\nhello\r\n")
            .code,
        250
    );
    assert_eq!(c.cmd("QUIT").code, 221);
    let out = child.wait_with_output().expect("binary exits after --once");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("listening on 127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("RCPT TO:<b@x.org> -> 250"), "{stdout}");
    assert!(stdout.contains("Subject: cli\r\n\r\nhello\r\n"), "{stdout}");
}

#[test]
fn tls12_only_server_and_starttls_injection() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .tls_versions(rsmtp_testserver::TlsVersions::Tls12Only),
    );
    let mut c = Client::connect(server.port());
    c.hello();
    // A client that pipelines past STARTTLS: the server must not act on the extra bytes.
    c.send("STARTTLS\r\nNOOP\r\n");
    assert_eq!(c.reply().code, 220);
    // The NOOP is dropped: the handshake works and the next reply is EHLO's.
    c.handshake(&TlsClient::trusting(server.ca())).unwrap();
    assert_eq!(c.cmd("EHLO inside").lines[0], "localhost Hello inside");
    assert_eq!(c.cmd("QUIT").code, 221);
    assert!(server.wait_for_idle(WAIT));
    let s = &server.sessions()[0];
    assert_eq!(s.discarded_after_starttls, "NOOP\r\n".len());
    assert_eq!(s.verbs(), ["EHLO", "STARTTLS", "EHLO", "QUIT"]);

    let mut c = Client::connect(server.port());
    c.hello();
    assert_eq!(c.cmd("STARTTLS").code, 220);
    c.handshake(&TlsClient::trusting(server.ca())).unwrap();
    assert_eq!(c.cmd("EHLO again").code, 250);
    assert!(server.wait_for_connections(2, WAIT) == 2);
    assert_eq!(server.sessions()[1].tls_version.as_deref(), Some("TLSv1_2"));
}

#[test]
fn hang_and_delay_at_other_steps() {
    let server = TestServer::start(
        ServerOptions::new()
            .fault(Fault::Hang(Step::Mail))
            .fault(Fault::Delay(Step::Greeting, Duration::from_millis(200))),
    );
    let start = Instant::now();
    let mut c = Client::connect(server.port());
    c.hello();
    assert!(start.elapsed() >= Duration::from_millis(200));
    c.set_read_timeout(Duration::from_millis(300));
    c.send("MAIL FROM:<a@x.org>\r\n");
    assert!(c.try_reply().is_err(), "MAIL is never answered");
    assert!(!c.is_closed());
    drop(c);
    assert!(
        server.wait_for_idle(WAIT),
        "the hang ends when the client leaves"
    );
}

#[test]
fn body_edge_cases() {
    let server = TestServer::start(ServerOptions::new());
    let mut c = Client::connect(server.port());
    c.hello();
    let long = "z".repeat(3 * 1024 * 1024);
    let body = format!("..\r\n...\r\n.x\r\n{long}\r\n. \r\n");
    assert_eq!(c.send_message("a@x.org", &["b@x.org"], &body).code, 250);
    let m = &server.wait_for_messages(1, WAIT)[0];
    let expected = format!(".\r\n..\r\nx\r\n{long}\r\n \r\n");
    assert!(
        m.data == expected.as_bytes(),
        "dot-unstuffing of edge lines"
    );
    assert_eq!(m.size, expected.len());
}

/// msmtp (when installed, as `.ci/run` does) against the server through
/// `msmtprc_account`: proves the certificates, AUTH and pipelining detection work with
/// the client rsmtp is compared against.
#[test]
fn msmtp_interop_when_installed() {
    if rsmtp_testserver::peer::require_peer("/usr/bin/msmtp", "msmtp").is_none() {
        return;
    }
    let cases = [
        ServerOptions::new()
            .tls(Tls::StartTls)
            .auth("alice", "pw")
            .mechanisms(&[Mechanism::CramMd5, Mechanism::Plain]),
        ServerOptions::new()
            .tls(Tls::Implicit)
            .client_certs(ClientCertPolicy::Required)
            .auth("alice", "pw")
            .mechanisms(&[Mechanism::Login]),
        ServerOptions::new(),
    ];
    for opts in cases {
        let server = TestServer::start(opts.pipelining_window(Duration::from_millis(200)));
        let dir = tempfile::tempdir().unwrap();
        let rc = dir.path().join("msmtprc");
        let account = server.msmtprc_account("default");
        std::fs::write(
            &rc,
            format!("{account}from alice@example.org\ntimeout 10\n"),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut child = std::process::Command::new("msmtp")
            .arg("-C")
            .arg(&rc)
            .args(["bob@example.org", "carol@example.org"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"Subject: interop\n\n.leading dot\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "msmtp failed with {account}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            server.transcript()
        );
        let m = &server.wait_for_messages(1, WAIT)[0];
        assert_eq!(m.recipients(), ["bob@example.org", "carol@example.org"]);
        assert!(
            m.data.ends_with(b"\r\n.leading dot\r\n"),
            "{}",
            m.data_str()
        );
        assert!(m.pipelined, "msmtp pipelines MAIL/RCPT/DATA");
        assert_eq!(m.tls, server.options().tls != Tls::None);
        if let Some(auth) = &m.auth {
            assert_eq!(auth.identity, "alice");
        }
        if server.options().client_certs == ClientCertPolicy::Required {
            assert_eq!(
                m.client_cert_subject.as_deref(),
                Some("CN=rsmtp test client")
            );
        }
    }
}

/// SIGTERM (what `kill`, systemd and CI timeouts send) ends the binary cleanly: its
/// temporary CA directory (`$TMPDIR/rsmtp-testca-*`) is removed, not left behind.
#[test]
fn command_line_binary_removes_its_ca_directory_on_sigterm() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rsmtp-testserver"))
        .args(["--tls", "starttls"])
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start rsmtp-testserver");
    let ca_dirs = || {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("rsmtp-testca-"))
            .count()
    };
    // Its second line names the CA file: the directory exists from then on.
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let ca_line = lines
        .find_map(|l| l.ok().filter(|l| l.starts_with("CA certificate")))
        .expect("the binary names its CA file");
    assert!(ca_line.contains("rsmtp-testca-"), "{ca_line}");
    assert_eq!(ca_dirs(), 1);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = child.wait().expect("wait for rsmtp-testserver");
    assert_eq!(ca_dirs(), 0, "the CA directory is left behind ({status})");
    assert_eq!(status.code(), Some(0), "SIGTERM ends it cleanly");
}

/// A test that skips for a missing peer still prints `ok`, so the skip is recorded
/// (`PEER<TAB>binary::test` in `$RSMTP_SKIPPED_PEERS`) for `contrib/test.sh`'s summary.
/// This test runs itself again with a peer that is never there.
#[test]
fn a_skip_for_a_missing_peer_is_recorded_for_the_summary() {
    const NAME: &str = "a_skip_for_a_missing_peer_is_recorded_for_the_summary";
    if std::env::var_os("RSMTP_TEST_SKIP_ONE").is_some() {
        assert!(!rsmtp_testserver::peer::require(
            false,
            "a peer no machine has"
        ));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("skipped.txt");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture"])
        .env("RSMTP_TEST_SKIP_ONE", "1")
        .env("RSMTP_SKIPPED_PEERS", &log)
        .env_remove("CI")
        .output()
        .expect("run this test binary again");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipping: a peer no machine has is missing"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap_or_default(),
        format!("a peer no machine has\tserver::{NAME}\n")
    );
}
