//! 5. TLS and AUTH through the binary.

use super::*;

#[test]
fn starttls_with_trust_file_delivers_inside_tls() {
    let server = TestServer::start(ServerOptions::new().tls(Tls::StartTls).require_tls(true));
    let dir = tls_home(&server, true, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert!(m.tls);
    assert_eq!(
        first_session_verbs(&server),
        ["EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "DATA", "QUIT"]
    );
}

#[test]
fn implicit_tls_with_tls_starttls_off_delivers() {
    let server = TestServer::start(ServerOptions::new().tls(Tls::Implicit));
    let dir = tls_home(&server, false, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert!(m.tls);
    assert_eq!(first_session_verbs(&server)[0], "EHLO");
    assert!(!first_session_verbs(&server).contains(&"STARTTLS".to_string()));
}

/// `~/.msmtprc` for STARTTLS with these TLS lines and no trust file.
fn tls_home_without_trust(server: &TestServer, tls_lines: &str) -> Dir {
    let dir = Dir::new();
    dir.write(
        ".msmtprc",
        format!(
            "account default\nhost 127.0.0.1\nport {}\nfrom sender@example.org\ntls on\n{tls_lines}\n",
            server.port()
        ),
    );
    dir
}

#[test]
fn tls_fingerprint_pins_the_server_certificate() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .leaf(LeafKind::SelfSigned),
    );
    let fingerprint = server.ca().leaf(LeafKind::SelfSigned).sha256_fingerprint();
    let dir = tls_home_without_trust(&server, &format!("tls_fingerprint {fingerprint}"));
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert!(only_message(&server, &run).tls);
}

#[test]
fn wrong_tls_fingerprint_is_rejected_and_nothing_is_sent() {
    let server = TestServer::start(ServerOptions::new().tls(Tls::StartTls));
    // The fingerprint of a different certificate.
    let other = server.ca().leaf(LeafKind::Expired).sha256_fingerprint();
    let dir = tls_home_without_trust(&server, &format!("tls_fingerprint {other}"));
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(69);
    assert!(
        run.stderr().to_lowercase().contains("fingerprint"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
    assert!(!first_session_verbs(&server).contains(&"MAIL".to_string()));
}

#[test]
fn tls_certcheck_off_accepts_a_self_signed_certificate() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .leaf(LeafKind::SelfSigned),
    );
    let dir = tls_home_without_trust(&server, "tls_certcheck off");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert!(only_message(&server, &run).tls);
}

#[test]
fn bad_certificates_exit_69_with_the_reason_and_send_nothing() {
    for (leaf, reason) in [
        (
            LeafKind::SelfSigned,
            "the certificate is not signed by a trusted authority",
        ),
        (LeafKind::Expired, "the certificate has expired"),
        (
            LeafKind::WrongHost,
            "the certificate is not valid for the host name \"127.0.0.1\"",
        ),
    ] {
        let server = TestServer::start(ServerOptions::new().tls(Tls::StartTls).leaf(leaf));
        let dir = tls_home(&server, true, "");
        let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
        assert_eq!(run.code(), 69, "{leaf:?}: {}", run.stderr());
        let err = run.stderr();
        assert!(
            err.contains("TLS certificate verification failed for 127.0.0.1"),
            "{leaf:?}: {err}"
        );
        assert!(err.contains(reason), "{leaf:?}: {err}");
        assert_nothing_delivered(&server);
        assert!(
            !first_session_verbs(&server).contains(&"MAIL".to_string()),
            "{leaf:?}"
        );
    }
}

#[test]
fn starttls_not_offered_exits_69_without_plaintext_fallback() {
    let server = plain_server();
    let dir = tls_home(&server, true, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(69);
    assert!(run.stderr().contains("STARTTLS"), "{}", run.stderr());
    assert_nothing_delivered(&server);
    let verbs = first_session_verbs(&server);
    assert!(!verbs.contains(&"MAIL".to_string()), "{verbs:?}");
    assert!(!verbs.contains(&"AUTH".to_string()), "{verbs:?}");
}

#[test]
fn auth_plain_login_and_cram_md5_with_password() {
    for (mechanism, method) in [
        (Mechanism::Plain, "plain"),
        (Mechanism::Login, "login"),
        (Mechanism::CramMd5, "cram-md5"),
    ] {
        let server = auth_server("s3cret-pw", &[mechanism]);
        let dir = tls_home(
            &server,
            true,
            &format!("auth {method}\nuser alice\npassword s3cret-pw"),
        );
        let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
        assert_eq!(run.code(), 0, "{method}: {}", run.stderr());
        let m = only_message(&server, &run);
        let auth = m.auth.expect("authenticated");
        assert_eq!(auth.mechanism, mechanism.as_str());
        assert_eq!(auth.identity, "alice");
        assert!(auth.success);
    }
}

#[test]
fn auth_on_picks_a_mechanism_the_server_offers() {
    let server = auth_server("s3cret-pw", &[Mechanism::CramMd5, Mechanism::Login]);
    let dir = tls_home(&server, true, "auth on\nuser alice\npassword s3cret-pw");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert!(only_message(&server, &run).auth.is_some_and(|a| a.success));
}

#[test]
fn auth_with_passwordeval() {
    let server = auth_server("from-eval", &[Mechanism::Plain]);
    let dir = tls_home(
        &server,
        true,
        "auth on\nuser alice\npasswordeval \"echo from-eval\"",
    );
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert_eq!(only_message(&server, &run).auth.unwrap().identity, "alice");
}

#[test]
fn auth_with_password_from_netrc() {
    let server = auth_server("from-netrc", &[Mechanism::Plain]);
    let dir = tls_home(&server, true, "auth on\nuser alice");
    dir.write(
        ".netrc",
        "machine 127.0.0.1 login alice password from-netrc\n",
    );
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert!(only_message(&server, &run).auth.unwrap().success);
}

#[test]
fn rejected_credentials_exit_77_and_send_nothing() {
    let server = auth_server("right-pw", &[Mechanism::Plain]);
    let dir = tls_home(&server, true, "auth on\nuser alice\npassword wrong-pw");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(77);
    assert!(run.stderr().contains("535"), "{}", run.stderr());
    assert!(!run.stderr().contains("wrong-pw"), "{}", run.stderr());
    assert_nothing_delivered(&server);
}

#[test]
fn password_never_appears_in_debug_output_log_or_pretend() {
    const PW: &str = "Tr0ub4dor-pw";
    for (mechanism, method) in [(Mechanism::Plain, "plain"), (Mechanism::Login, "login")] {
        let server = auth_server(PW, &[mechanism]);
        let dir = tls_home(
            &server,
            true,
            &format!("auth {method}\nuser alice\npassword {PW}\nlogfile ~/rsmtp.log"),
        );
        let run = dir
            .rsmtp()
            .args(["-d", "x@example.org"])
            .stdin(SIMPLE)
            .run();
        run.assert_code(0);
        only_message(&server, &run);
        let everything = format!(
            "{}\n{}\n{}",
            run.stdout(),
            run.stderr(),
            dir.read("rsmtp.log")
        );
        assert!(
            run.stdout().contains("AUTH"),
            "the -d trace shows the dialogue:\n{}",
            run.stdout()
        );
        for secret in [
            PW.to_string(),
            base64(PW.as_bytes()),
            base64(format!("\0alice\0{PW}").as_bytes()),
        ] {
            assert!(
                !everything.contains(&secret),
                "{method}: {secret} leaked:\n{everything}"
            );
        }
        assert!(dir.read("rsmtp.log").contains("exitcode=EX_OK"));

        let run = dir.rsmtp().arg("-P").run();
        run.assert_code(0);
        assert!(!run.stdout().contains(PW), "{}", run.stdout());
        let password_line = run
            .stdout()
            .lines()
            .find(|l| l.trim_start().starts_with("password "))
            .map(str::to_string);
        assert!(
            password_line
                .as_deref()
                .is_some_and(|l| l.trim_end().ends_with('*')),
            "{}",
            run.stdout()
        );
    }
}
