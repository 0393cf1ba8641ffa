//! The SMTP layer's defences, end to end through the `rsmtp` binary: a server
//! out of step, a server too slow to be waited for, a body or a value that
//! would smuggle commands, and a self-signed certificate listed in the trust
//! file. Each test asserts what reached the server (bytes on the wire) and
//! the exit code.

use std::time::Duration;

use rsmtp_testserver::{Fault, ServerOptions, Step, TestServer};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);
const SIMPLE: &str = "Subject: hello\n\nhello world\n";

fn home_for(server: &TestServer, extra: &str) -> Dir {
    let dir = Dir::new();
    dir.write(".msmtprc", plain_config(server.port(), extra));
    dir
}

/// `221 bye` answered to MAIL FROM used to be taken as success and the body
/// was sent. It is a protocol error (76) naming MAIL FROM and quoting the reply.
#[test]
fn a_221_answered_to_mail_from_exits_76_and_sends_no_body() {
    let server =
        TestServer::start(ServerOptions::new().fault(Fault::reply(Step::Mail, 221, "2.0.0 Bye")));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(76);
    let err = run.stderr();
    assert!(
        err.contains("MAIL FROM") && err.contains("221 2.0.0 Bye"),
        "{err}"
    );
    server.wait_for_idle(WAIT);
    assert!(
        server.messages().is_empty() && server.rejected_messages().is_empty(),
        "no body may follow\n{}",
        server.transcript()
    );
}

/// `--domain 'x\r\nRCPT TO:<evil@x.org>'` would end the EHLO line early and
/// inject a command (msmtp 1.8.23 sends it as is). rsmtp refuses the setting
/// (78, EX_CONFIG: it is an account setting) before connecting.
#[test]
fn a_domain_with_cr_lf_is_refused_and_injects_nothing() {
    let server = TestServer::start(ServerOptions::new());
    let dir = home_for(&server, "");
    for domain in [
        "x\r\nRCPT TO:<evil@x.org>",
        "x\nRCPT TO:<evil@x.org>",
        "x\rRCPT",
    ] {
        let run = dir
            .rsmtp()
            .arg(format!("--domain={domain}"))
            .arg("x@example.org")
            .stdin(SIMPLE)
            .run();
        run.assert_code(78);
        assert!(run.stderr().contains("invalid domain"), "{}", run.stderr());
    }
    // A user name goes into AUTH: the same rule.
    let run = dir
        .rsmtp()
        .args([
            "--auth=plain",
            "--user=alice\r\nRSET",
            "--passwordeval=echo pw",
        ])
        .arg("x@example.org")
        .stdin(SIMPLE)
        .run();
    run.assert_code(78);
    assert!(run.stderr().contains("invalid user"), "{}", run.stderr());
    server.wait_for_idle(WAIT);
    let commands: Vec<String> = server
        .sessions()
        .iter()
        .flat_map(|s| s.commands.iter().map(|c| c.line.clone()))
        .collect();
    assert!(
        commands.is_empty(),
        "nothing may reach the server: {commands:?}"
    );
    assert!(server.messages().is_empty());
}

/// SMTP smuggling (RFC 5321 §2.3.8): a bare CR in the body went to the relay
/// as is, so `x\r.\rMAIL FROM:<…>` could end the data early for a server that
/// takes a bare CR as a line end. On the wire every bare CR is a CRLF and the
/// line after it is dot-stuffed: the server receives one message whose body
/// holds the would-be commands as text, and no bare CR at all.
#[test]
fn a_bare_cr_in_the_body_goes_out_as_crlf_and_the_dot_line_is_stuffed() {
    let server = TestServer::start(ServerOptions::new().keep_raw_data());
    let dir = home_for(&server, "");
    let payload =
        "Subject: smuggle\n\nx\r.\rMAIL FROM:<evil@x.org>\rRCPT TO:<victim@x.org>\rDATA\r\nend\n";
    let run = dir.rsmtp().arg("x@example.org").stdin(payload).run();
    run.assert_code(0);
    let messages = server.wait_for_messages(1, WAIT);
    assert_eq!(messages.len(), 1, "{}", server.transcript());
    let raw = &messages[0].raw_data;
    let want: &[u8] =
        b"x\r\n..\r\nMAIL FROM:<evil@x.org>\r\nRCPT TO:<victim@x.org>\r\nDATA\r\nend\r\n.\r\n";
    assert!(
        raw.ends_with(want),
        "raw body on the wire: {:?}",
        String::from_utf8_lossy(raw)
    );
    let bare_cr = raw
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\r' && raw.get(i + 1) != Some(&b'\n'));
    assert!(!bare_cr, "{:?}", String::from_utf8_lossy(raw));
    server.wait_for_idle(WAIT);
    let mails: Vec<String> = server.sessions()[0]
        .commands
        .iter()
        .map(|c| c.line.clone())
        .filter(|l| l.starts_with("MAIL"))
        .collect();
    assert_eq!(mails, ["MAIL FROM:<sender@example.org>"]);
}

/// The account timeout bounds each whole reply, not each read: a server
/// trickling a 60-byte reply to MAIL FROM one byte every 300 ms (18 s) is
/// given up on after `--timeout=2` with 75 (EX_TEMPFAIL), naming MAIL FROM.
/// rsmtp used to wait for the whole reply and exit 0.
#[test]
fn a_server_trickling_its_reply_is_given_up_after_the_timeout_with_75() {
    let server = TestServer::start(
        ServerOptions::new()
            .fault(Fault::LongReply(Step::Mail, 56))
            .fault(Fault::Trickle(Step::Mail, Duration::from_millis(300))),
    );
    let dir = home_for(&server, "");
    let cmd = dir
        .rsmtp()
        .args(["--timeout=2", "x@example.org"])
        .stdin(SIMPLE);
    let start = std::time::Instant::now();
    let run = cmd.run();
    let elapsed = start.elapsed();
    run.assert_code(75);
    let err = run.stderr();
    assert!(
        err.contains("answered too slowly") && err.contains("MAIL FROM"),
        "{err}"
    );
    // Expected ≈ 2 s; 4× that is still far below the 18 s of the reply.
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    // No wait for the server's session to end: it is still trickling to a
    // closed socket. MAIL FROM never completed, so no body can have arrived.
    assert!(server.messages().is_empty() && server.rejected_messages().is_empty());
}

/// A self-signed server certificate with the CA flag (what `openssl req
/// -x509` makes by default) listed in `tls_trust_file`: msmtp accepts it, and
/// so does rsmtp (it used to exit 69 with "CaUsedAsEndEntity").
#[test]
fn a_self_signed_ca_flagged_certificate_in_the_trust_file_is_accepted_like_msmtp() {
    use rsmtp_testserver::{LeafKind, Tls};
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .leaf(LeafKind::SelfSignedCa),
    );
    let leaf = server
        .ca()
        .leaf(LeafKind::SelfSignedCa)
        .cert_path()
        .display()
        .to_string();
    let dir = Dir::new();
    let rc = format!(
        "account default\nhost 127.0.0.1\nport {}\ntls on\ntls_starttls on\n\
         tls_trust_file {leaf}\nauth off\nfrom sender@example.org\n",
        server.port()
    );
    dir.write(".msmtprc", &rc);
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let messages = server.wait_for_messages(1, WAIT);
    assert!(
        messages.len() == 1 && messages[0].tls,
        "{}",
        server.transcript()
    );

    // The oracle: msmtp, same configuration, same verdict.
    if let Some(msmtp) = require_peer("/usr/bin/msmtp", "msmtp") {
        let run = dir.command(msmtp).arg("x@example.org").stdin(SIMPLE).run();
        run.assert_code(0);
        assert_eq!(server.wait_for_messages(2, WAIT).len(), 2);
    }
}
