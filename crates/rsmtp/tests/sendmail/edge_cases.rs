//! More edge cases a caller can hit.

use super::*;

#[test]
fn input_without_a_header_block_gets_a_blank_line_before_the_body() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .arg("x@example.org")
        .stdin("just a line of text\nand another\n")
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    let text = m.data_str();
    assert!(
        text.ends_with("\r\n\r\njust a line of text\r\nand another\r\n"),
        "{text}"
    );
    assert_eq!(m.header("From").as_deref(), Some("sender@example.org"));
}

#[test]
fn a_final_dot_line_without_newline_is_stuffed_not_taken_as_the_end() {
    let server = TestServer::start(ServerOptions::new().keep_raw_data());
    let dir = home_for(&server, "");
    let input = "From: a@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@a>\n\nlast line is a dot\n.";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.data, crlf(&format!("{input}\n")));
    assert!(
        m.raw_data.ends_with(b"\r\n..\r\n.\r\n"),
        "{:?}",
        String::from_utf8_lossy(&m.raw_data)
    );
}

#[test]
fn t_with_an_empty_group_and_a_command_line_recipient_sends_only_to_that_one() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "To: undisclosed-recipients:;\nSubject: s\n\nb\n";
    let run = dir
        .rsmtp()
        .args(["-t", "real@example.org"])
        .stdin(input)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["real@example.org"]);
    assert_eq!(m.header("To").as_deref(), Some("undisclosed-recipients:;"));
}

#[test]
fn t_reads_folded_to_headers_and_lowercase_field_names() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "to: one@example.org,\n\ttwo@example.org,\n  \"Three, Mr\" <three@example.org>\ncc: four@example.org\nSubject: s\n\nb\n";
    let run = dir.rsmtp().arg("-t").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(
        sorted(rcpt_addresses(&m)),
        strings(&[
            "four@example.org",
            "one@example.org",
            "three@example.org",
            "two@example.org"
        ])
    );
}

#[test]
fn dash_r_is_the_same_as_dash_f() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-r", "mailx@example.net", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    assert_eq!(only_message(&server, &run).mail_from, "mailx@example.net");
}

#[test]
fn dash_capital_x_overrides_the_logfile() {
    let server = plain_server();
    let dir = home_for(&server, "logfile ~/configured.log");
    let log = dir.join("from-cli.log");
    let run = dir
        .rsmtp()
        .arg("-X")
        .arg(&log)
        .arg("x@example.org")
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    only_message(&server, &run);
    assert!(dir.read("from-cli.log").contains("exitcode=EX_OK"));
    assert_eq!(dir.read("configured.log"), "");
}

#[test]
fn eight_bit_body_is_sent_even_when_the_server_lacks_8bitmime() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::none()));
    let dir = home_for(&server, "");
    let input = "Subject: s\n\nGrüße\n";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert!(m.data_str().ends_with("\r\n\r\nGrüße\r\n"));
    assert!(m.mail_params.is_empty(), "{:?}", m.mail_params);
}

#[test]
fn a_server_closing_after_the_greeting_exits_75() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::Drop(Step::Ehlo)));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(75);
    assert!(run.stderr().contains("closed"), "{}", run.stderr());
    assert_nothing_delivered(&server);
}

#[test]
fn a_554_greeting_exits_76_with_the_reply() {
    let server =
        TestServer::start(ServerOptions::new().fault(Fault::greeting(554, "5.7.1 go away")));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    // msmtp 1.8.23: "cannot get initial OK message from server", EX_PROTOCOL.
    run.assert_code(76);
    assert!(
        run.stderr().contains("554 5.7.1 go away"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn helo_only_server_still_gets_the_message() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::helo_only()));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert!(m
        .data_str()
        .ends_with("Subject: hello\r\n\r\nhello world\r\n"));
    assert!(first_session_verbs(&server).contains(&"HELO".to_string()));
}

#[test]
fn auth_xoauth2_sends_the_password_as_the_token() {
    let server = auth_server("ya29.token", &[Mechanism::XOAuth2]);
    let dir = tls_home(
        &server,
        true,
        "auth xoauth2\nuser alice\npassword ya29.token",
    );
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let auth = only_message(&server, &run).auth.expect("authenticated");
    assert_eq!(
        (auth.mechanism.as_str(), auth.identity.as_str()),
        ("XOAUTH2", "alice")
    );
}

#[test]
fn auth_required_but_not_configured_exits_65_with_the_servers_530() {
    let server = auth_server("pw", &[Mechanism::Plain]);
    let dir = tls_home(&server, true, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    // msmtp 1.8.23: "envelope from address … not accepted by the server", exit 65.
    run.assert_code(65);
    assert!(
        run.stderr()
            .contains("envelope from address sender@example.org not accepted by the server"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("530 5.7.0 Authentication required"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn auth_method_the_server_does_not_offer_exits_69_without_sending_credentials() {
    let server = auth_server("pw", &[Mechanism::Login]);
    let dir = tls_home(&server, true, "auth cram-md5\nuser alice\npassword pw");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(69);
    assert!(
        run.stderr().to_uppercase().contains("CRAM-MD5"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
    assert!(server.sessions().iter().all(|s| s.auth_attempts.is_empty()));
}

#[test]
fn debug_output_shows_the_dialogue_but_not_the_body() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-d", "x@example.org"])
        .stdin("Subject: s\n\nthe-body-text\n")
        .run();
    run.assert_code(0);
    let out = run.stdout();
    assert!(out.contains("--> MAIL FROM:<sender@example.org>"), "{out}");
    assert!(out.contains("--> RCPT TO:<x@example.org>"), "{out}");
    assert!(out.contains("<-- 250"), "{out}");
    only_message(&server, &run);
}

#[test]
fn bcc_is_removed_even_without_t_and_its_address_gets_no_rcpt() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "To: x@example.org\nBcc: secret-boss@example.org\nSubject: s\n\nb\n";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["x@example.org"]);
    assert!(!m.data_str().contains("secret-boss"), "{}", m.data_str());
}

#[test]
fn t_uses_the_resent_headers_of_a_resent_message() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input =
        "Resent-From: fwd@example.org\nResent-To: new@example.org\nResent-Cc: newcc@example.org\n\
                 From: orig@example.net\nTo: old@example.net\nSubject: fwd\n\nb\n";
    let run = dir.rsmtp().arg("-t").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(
        sorted(rcpt_addresses(&m)),
        strings(&["new@example.org", "newcc@example.org"])
    );
}

#[test]
fn set_from_header_on_replaces_the_callers_from() {
    let server = plain_server();
    let dir = home_for(&server, "set_from_header on");
    let input = "From: www-data@localhost\nSubject: s\n\nb\n";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(header_count(&m, "From"), 1, "{}", m.headers());
    assert_eq!(m.header("From").as_deref(), Some("sender@example.org"));
}

#[test]
fn undisclosed_recipients_replaces_to_cc_and_bcc() {
    let server = plain_server();
    let dir = home_for(&server, "undisclosed_recipients on");
    let input = "To: a@example.org\nCc: b@example.org\nSubject: s\n\nb\n";
    let run = dir.rsmtp().arg("-t").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(
        sorted(rcpt_addresses(&m)),
        strings(&["a@example.org", "b@example.org"])
    );
    assert_eq!(m.header("To").as_deref(), Some("undisclosed-recipients:;"));
    assert_eq!(m.header("Cc"), None, "{}", m.headers());
}

#[test]
fn host_option_sends_without_any_configuration_file() {
    let server = plain_server();
    let dir = Dir::new();
    let run = dir
        .rsmtp()
        .arg("--host=127.0.0.1")
        .arg(format!("--port={}", server.port()))
        .args(["--from=cli@example.org", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.mail_from, "cli@example.org");
}

#[test]
fn account_and_host_together_exit_64() {
    let dir = Dir::new();
    let run = dir
        .rsmtp()
        .args(["--host=127.0.0.1", "-a", "x", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(64);
    assert!(
        run.stderr().contains("--host") && run.stderr().contains("--account"),
        "{}",
        run.stderr()
    );
}

#[test]
fn utf8_recipient_uses_smtputf8_when_offered() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::all()));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("jörg@exämple.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["jörg@exämple.org"]);
    assert!(
        m.mail_params
            .iter()
            .any(|p| p.eq_ignore_ascii_case("SMTPUTF8")),
        "{:?}",
        m.mail_params
    );
}

#[test]
fn header_only_input_without_final_newline() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "From: a@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@a>\nSubject: no body";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert!(
        m.data_str()
            .starts_with(&String::from_utf8(crlf(input)).unwrap()),
        "{:?}",
        m.data_str()
    );
    assert!(m.data_str().ends_with("\r\n"), "{:?}", m.data_str());
    assert!(!m.bare_lf);
}

#[test]
fn logfile_time_format_is_honoured() {
    let server = plain_server();
    let dir = home_for(&server, "logfile ~/msmtp.log\nlogfile_time_format [%Y]");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let log = dir.read("msmtp.log");
    assert!(
        log.starts_with("[20") && log[1..5].parse::<u16>().is_ok(),
        "{log}"
    );
    assert!(
        log.starts_with(&format!("{} host=127.0.0.1 ", &log[..6])),
        "{log}"
    );
}

#[test]
fn auth_on_without_tls_refuses_to_send_the_password_in_clear() {
    // msmtp 1.8.23: "cannot use a secure authentication method", exit 69.
    let server = TestServer::start(ServerOptions::new().auth("alice", "clear-pw"));
    let dir = home_for(&server, "auth on\nuser alice\npassword clear-pw");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(69);
    assert!(
        run.stderr()
            .contains("cannot use a secure authentication method"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
    assert!(server.sessions().iter().all(|s| s.auth_attempts.is_empty()));
    assert!(!first_session_verbs(&server).contains(&"AUTH".to_string()));
}

#[test]
fn nothing_is_sent_before_the_caller_closes_stdin() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    // cronie starts the mailer when the job starts and writes its output as it comes.
    let server = Arc::new(plain_server());
    let dir = home_for(&server, "");
    let seen_before_eof = Arc::new(AtomicUsize::new(usize::MAX));
    let (srv, seen) = (server.clone(), seen_before_eof.clone());
    let fed = dir.rsmtp().arg("x@example.org").run_fed(move |w| {
        w.write_all(b"Subject: job output\n\nfirst line\n")?;
        w.flush()?;
        std::thread::sleep(Duration::from_millis(1500));
        seen.store(srv.connections(), Ordering::SeqCst);
        w.write_all(b"last line\n")
    });
    fed.run.assert_code(0);
    assert_eq!(
        seen_before_eof.load(Ordering::SeqCst),
        0,
        "connected before end of input"
    );
    let m = only_message(&server, &fed.run);
    assert!(
        m.data_str()
            .ends_with("\r\n\r\nfirst line\r\nlast line\r\n"),
        "{}",
        m.data_str()
    );
}

#[test]
fn concurrent_senders_append_whole_lines_to_one_logfile() {
    let server = plain_server();
    let dir = home_for(&server, "logfile ~/msmtp.log");
    let children: Vec<_> = (0..6)
        .map(|i| {
            let cmd = dir.rsmtp().arg(format!("r{i}@example.org")).stdin(SIMPLE);
            std::thread::spawn(move || cmd.run())
        })
        .collect();
    for child in children {
        child.join().expect("run").assert_code(0);
    }
    assert_eq!(server.wait_for_messages(6, WAIT).len(), 6);
    let log = dir.read("msmtp.log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 6, "{log}");
    for i in 0..6 {
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains(&format!(" recipients=r{i}@example.org "))
                    && l.ends_with(" exitcode=EX_OK"))
                .count(),
            1,
            "{log}"
        );
    }
}

#[test]
fn passwordeval_secret_never_appears_in_debug_output_or_log() {
    const PW: &str = "evald-Secr3t";
    let server = auth_server(PW, &[Mechanism::Login]);
    let dir = tls_home(
        &server,
        true,
        &format!("auth login\nuser alice\npasswordeval printf %s {PW}\nlogfile ~/rsmtp.log"),
    );
    let run = dir
        .rsmtp()
        .args(["-d", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    assert!(only_message(&server, &run).auth.is_some_and(|a| a.success));
    let everything = format!(
        "{}\n{}\n{}",
        run.stdout(),
        run.stderr(),
        dir.read("rsmtp.log")
    );
    for secret in [PW.to_string(), base64(PW.as_bytes())] {
        assert!(
            !everything.contains(&secret),
            "{secret} leaked:\n{everything}"
        );
    }
}

#[test]
fn large_job_output_whose_first_line_looks_like_a_header_is_still_delivered() {
    // `backup-job 2>&1 | sendmail root`: the output starts "WARNING: …" (header-like),
    // has no blank line and is larger than rsmtp's in-memory header cap. msmtp 1.8.23
    // sends it as it is; losing the cron mail with exit 65 is not acceptable.
    let server = plain_server();
    let dir = home_for(&server, "");
    let mut input = String::from("WARNING: low disk space on /backup\n");
    let line = "copied /srv/data/some/long/path/file-name-for-the-log.dat (4096 bytes)\n";
    while input.len() < 1_500_000 {
        input.push_str(line);
    }
    input.push_str("backup finished\n");
    let run = dir.rsmtp().arg("root@example.org").stdin(&input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    let text = m.data_str();
    assert!(text.contains("WARNING: low disk space on /backup\r\n"));
    assert!(text.ends_with(&format!(
        "{}backup finished\r\n",
        line.replace('\n', "\r\n")
    )));
    let lines = input.matches('\n').count();
    assert!(
        m.size >= input.len() + lines,
        "{} < {}",
        m.size,
        input.len() + lines
    );
}

#[test]
fn command_line_recipients_are_address_lists_like_msmtp() {
    // msmtp 1.8.23 sends `'Bob <b@x>, "Doe, J" <j@x>' root` to b@x, j@x and root.
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args([
            "Bob Smith <bob@example.org>, \"Doe, J\" <j@example.org>",
            "a@example.org,b@example.org",
            "<c@example.org>",
            "root",
        ])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(
        rcpt_addresses(&m),
        [
            "bob@example.org",
            "j@example.org",
            "a@example.org",
            "b@example.org",
            "c@example.org",
            "root"
        ]
    );
}

#[test]
fn a_command_line_recipient_cannot_smuggle_a_header_line() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .arg("a@example.org\r\nBcc: evil@example.net")
        .stdin(SIMPLE)
        .run();
    run.assert_code(65);
    assert_eq!(server.connections(), 0);
}

#[test]
fn tls_host_override_accepts_a_certificate_for_the_configured_name() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .leaf(LeafKind::WrongHost),
    );
    let dir = tls_home(&server, true, "tls_host_override wrong-host.example");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert!(only_message(&server, &run).tls);
    server.wait_for_idle(Duration::from_secs(3));
    assert_eq!(
        server.sessions()[0].sni.as_deref(),
        Some("wrong-host.example")
    );
}

#[test]
fn client_certificate_is_presented_when_configured() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .client_certs(rsmtp_testserver::ClientCertPolicy::Required),
    );
    let client = server.ca().client_cert();
    let dir = tls_home(
        &server,
        true,
        &format!(
            "tls_cert_file {}\ntls_key_file {}",
            client.cert_path().display(),
            client.key_path().display()
        ),
    );
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.client_cert_subject.as_deref(), Some(client.subject()));
}

#[test]
fn unsupported_auth_method_exits_78_naming_file_and_line() {
    let dir = Dir::new();
    let rc = dir.write(
        "rc",
        "account default\nhost 127.0.0.1\nfrom a@example.org\nauth gssapi\n",
    );
    let run = dir
        .rsmtp()
        .arg("-C")
        .arg(&rc)
        .arg("x@example.org")
        .stdin(SIMPLE)
        .run();
    run.assert_code(78);
    let err = run.stderr();
    assert!(err.contains(&format!("{}:4", rc.display())), "{err}");
    assert!(err.contains("not supported by rsmtp"), "{err}");
}

#[test]
fn serverinfo_prints_the_capabilities_without_sending() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::all()));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("-S").run();
    run.assert_code(0);
    let out = run.stdout();
    // msmtp's layout.
    assert!(
        out.contains("SMTP server at 127.0.0.1 (")
            && out.contains(&format!("port {}:", server.port())),
        "{out}"
    );
    assert!(
        out.contains("    localhost ESMTP rsmtp-testserver\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "    SIZE 10485760:\n        Maximum message size is 10485760 bytes = 10.00 MiB\n"
        ),
        "{out}"
    );
    assert!(out.contains("    PIPELINING:\n"), "{out}");
    assert!(out.contains("    DSN:\n"), "{out}");
    server.wait_for_idle(Duration::from_secs(3));
    assert!(!first_session_verbs(&server).contains(&"MAIL".to_string()));
}

#[test]
fn remove_bcc_headers_off_keeps_the_bcc_header() {
    let server = plain_server();
    let dir = home_for(&server, "remove_bcc_headers off");
    let input = "To: a@example.org\nBcc: b@example.org\nSubject: s\n\nbody\n";
    let run = dir.rsmtp().arg("-t").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["a@example.org", "b@example.org"]);
    assert_eq!(m.header("Bcc").as_deref(), Some("b@example.org"));
}

#[test]
fn dash_v_prints_the_dialogue_like_dash_d() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-v", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    assert!(
        run.stdout().contains("--> RCPT TO:<x@example.org>"),
        "{}",
        run.stdout()
    );
    only_message(&server, &run);
}
