//! 6. Bad servers end cleanly with the right code.

use super::*;

#[test]
fn connection_refused_exits_75_naming_host_and_port() {
    let port = closed_port();
    let dir = Dir::new();
    dir.write(".msmtprc", plain_config(port, ""));
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(75);
    let err = run.stderr();
    assert!(err.contains("refused"), "{err}");
    assert!(err.contains(&port.to_string()), "{err}");
}

#[test]
fn greeting_never_sent_times_out_with_75() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::no_greeting()));
    let dir = home_for(&server, "");
    let cmd = dir
        .rsmtp()
        .args(["--timeout=3", "x@example.org"])
        .stdin(SIMPLE);
    let start = Instant::now();
    let run = cmd.run();
    let elapsed = start.elapsed();
    run.assert_code(75);
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(run.stderr().contains("greeting"), "{}", run.stderr());
    assert_nothing_delivered(&server);
}

#[test]
fn a_421_at_greeting_mail_rcpt_or_data_exits_75_with_the_reply() {
    for step in [
        Step::Greeting,
        Step::Mail,
        Step::Rcpt,
        Step::Data,
        Step::EndOfData,
    ] {
        let server = TestServer::start(ServerOptions::new().fault(Fault::service_closing(step)));
        let dir = home_for(&server, "");
        let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
        assert_eq!(run.code(), 75, "{step:?}: {}", run.stderr());
        assert!(run.stderr().contains("421"), "{step:?}: {}", run.stderr());
        assert_nothing_delivered(&server);
    }
}

#[test]
fn transient_and_permanent_refusals_of_mail_data_and_body() {
    for (step, code, exit) in [
        (Step::Mail, 451, 75),
        (Step::Mail, 550, 65),
        (Step::Mail, 553, 65),
        (Step::Data, 451, 75),
        (Step::Data, 554, 65),
        (Step::EndOfData, 452, 75),
    ] {
        let server = TestServer::start(ServerOptions::new().fault(Fault::reply(
            step,
            code,
            "x.y.z scripted refusal",
        )));
        let dir = home_for(&server, "");
        let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
        assert_eq!(run.code(), exit, "{step:?} {code}: {}", run.stderr());
        let err = run.stderr();
        assert!(
            err.contains(&format!("{code}")) && err.contains("scripted refusal"),
            "{step:?} {code}: {err}"
        );
        assert_nothing_delivered(&server);
    }
}

#[test]
fn permanent_refusal_after_the_body_exits_69_like_msmtp() {
    // msmtp 1.8.23 against a server answering 552 after the final dot: "the server did
    // not accept the mail", exit 69 (EX_UNAVAILABLE) — not 65 as for MAIL/RCPT/DATA.
    let server = TestServer::start(ServerOptions::new().fault(Fault::reply(
        Step::EndOfData,
        552,
        "5.3.4 Message too big",
    )));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(69);
    assert!(
        run.stderr().contains("552 5.3.4 Message too big"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn one_refused_recipient_means_the_message_is_sent_to_nobody() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        "nobody@example.org",
        550,
        "5.1.1 No such user",
    )));
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args([
            "good@example.org",
            "nobody@example.org",
            "other@example.org",
        ])
        .stdin(SIMPLE)
        .run();
    run.assert_code(65);
    let err = run.stderr();
    assert!(err.contains("nobody@example.org"), "{err}");
    assert!(err.contains("550") && err.contains("No such user"), "{err}");
    assert!(
        !err.contains("good@example.org"),
        "only the refused recipient is named: {err}"
    );
    assert_nothing_delivered(&server);
}

#[test]
fn transiently_refused_recipient_exits_75() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        "busy@example.org",
        450,
        "4.2.1 Mailbox busy",
    )));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("busy@example.org").stdin(SIMPLE).run();
    run.assert_code(75);
    assert!(
        run.stderr().contains("busy@example.org"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn connection_dropped_mid_data_exits_75_not_0() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::drop_during_data(1000)));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(big_body(512)).run();
    run.assert_code(75);
    assert!(!run.stderr().is_empty());
    assert_nothing_delivered(&server);
}

#[test]
fn server_hanging_after_data_times_out_with_75() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::hang_after_data()));
    let dir = home_for(&server, "");
    let cmd = dir
        .rsmtp()
        .args(["--timeout=3", "x@example.org"])
        .stdin(SIMPLE);
    let start = Instant::now();
    let run = cmd.run();
    let elapsed = start.elapsed();
    run.assert_code(75);
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(
        run.stderr().to_lowercase().contains("timeout") || run.stderr().contains("timed out"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn a_100_kb_reply_line_is_a_protocol_error() {
    let server =
        TestServer::start(ServerOptions::new().fault(Fault::LongReply(Step::Ehlo, 100_000)));
    let dir = home_for(&server, "");
    let cmd = dir.rsmtp().arg("x@example.org").stdin(SIMPLE);
    let start = Instant::now();
    let run = cmd.run();
    let elapsed = start.elapsed();
    run.assert_code(76);
    assert!(
        elapsed < Duration::from_secs(5),
        "took {elapsed:?}: {}",
        run.stderr()
    );
    assert!(run.stderr().contains("long"), "{}", run.stderr());
    assert!(
        run.stderr().len() < 2000,
        "the reply is not echoed whole: {} bytes",
        run.stderr().len()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn starttls_refused_with_454_exits_75_without_plaintext_fallback() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .fault(Fault::starttls_unavailable()),
    );
    let dir = tls_home(&server, true, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(75);
    assert!(run.stderr().contains("454"), "{}", run.stderr());
    assert_nothing_delivered(&server);
    assert!(!first_session_verbs(&server).contains(&"MAIL".to_string()));
}

#[test]
fn garbage_tls_handshake_exits_76_without_plaintext_fallback() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .fault(Fault::TlsGarbage),
    );
    let dir = tls_home(&server, true, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(76);
    assert!(run.stderr().contains("TLS"), "{}", run.stderr());
    assert_nothing_delivered(&server);
    assert!(!first_session_verbs(&server).contains(&"MAIL".to_string()));
}

#[test]
fn starttls_client_against_a_silent_implicit_tls_port_times_out_with_a_hint() {
    // On port 465 rsmtp probes a silent server after 8 s and reports the mismatch
    // (rsmtp-smtp's tests cover that); on any other port a silent server may be a
    // slow greeter, so rsmtp waits for the timeout and then names the likely cause.
    let server = TestServer::start(ServerOptions::new().tls(Tls::Implicit));
    let dir = tls_home(&server, true, "");
    let cmd = dir
        .rsmtp()
        .arg("--timeout=4")
        .arg("x@example.org")
        .stdin(SIMPLE);
    let start = Instant::now();
    let run = cmd.run();
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    run.assert_code(75);
    assert!(
        run.stderr().contains("tls_starttls off"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn implicit_tls_client_against_plain_port_fails_fast_with_a_hint() {
    let server = plain_server();
    let dir = tls_home(&server, false, "");
    let cmd = dir.rsmtp().arg("x@example.org").stdin(SIMPLE);
    let start = Instant::now();
    let run = cmd.run();
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    run.assert_code(76);
    assert!(run.stderr().contains("tls_starttls on"), "{}", run.stderr());
    assert!(run.stderr().contains("plain SMTP"), "{}", run.stderr());
    assert_nothing_delivered(&server);
}
