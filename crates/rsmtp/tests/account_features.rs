//! msmtp account features that reach the server another way: `socket PATH`
//! (SMTP over a unix socket) and `proxy_host`/`proxy_port` (SOCKS5). Each case
//! runs rsmtp, and msmtp 1.8.23 with the same msmtprc where msmtp is the
//! oracle for what should happen.

use std::path::Path;
use std::time::Duration;

use rsmtp_testserver::{ServerOptions, TestServer, Tls};

use crate::support::net::{unix_front, Socks5Proxy, SocksRequest};
use crate::support::*;

const MESSAGE: &str = "From: sender@example.org\nTo: bob@example.net\nSubject: hi\n\nhello\n";
const WAIT: Duration = Duration::from_secs(5);

fn oracle() -> Option<std::path::PathBuf> {
    require_peer("/usr/bin/msmtp", "msmtp (Debian package msmtp)")
}

/// Runs `program` with `-C msmtprc bob@example.net` and the message on stdin.
fn send(dir: &Dir, program: &Path) -> Run {
    dir.command(program)
        .args([
            "-C",
            &dir.join("msmtprc").display().to_string(),
            "bob@example.net",
        ])
        .stdin(MESSAGE)
        .run()
}

fn tls_server() -> TestServer {
    TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .require_tls(true)
            .auth("alice", "s3cret"),
    )
}

fn tls_account(server: &TestServer, lines: &str) -> String {
    format!(
        "account default\n{lines}\ntls on\ntls_starttls on\ntls_trust_file {}\n\
         auth on\nuser alice\npassword s3cret\nfrom sender@example.org\n",
        server.ca().ca_pem_path().display()
    )
}

/// The last message arrived over TLS and authenticated as alice.
fn assert_tls_and_auth(server: &TestServer, n: usize, who: &str) {
    let messages = server.wait_for_messages(n, WAIT);
    let m = messages
        .last()
        .unwrap_or_else(|| panic!("{who}: nothing arrived"));
    assert!(m.tls, "{who}: not over TLS");
    assert_eq!(
        m.auth.as_ref().map(|a| (a.identity.as_str(), a.success)),
        Some(("alice", true)),
        "{who}"
    );
}

#[test]
fn socket_carries_starttls_and_auth_like_tcp() {
    let server = tls_server();
    let dir = Dir::new();
    let sock = dir.join("smtp.sock");
    unix_front(&sock, server.port());
    // With TLS, msmtp wants `host` (or tls_host_override) even over a socket:
    // it names the server for the certificate check. Both refuse without it.
    dir.write(
        "msmtprc",
        tls_account(&server, &format!("socket {}", sock.display())),
    );
    let r = send(&dir, &rsmtp_bin());
    r.assert_code(78);
    assert!(r.stderr().contains("host not set"), "{}", r.stderr());
    if let Some(msmtp) = oracle() {
        send(&dir, &msmtp).assert_code(78);
    }
    dir.write(
        "msmtprc",
        tls_account(
            &server,
            &format!("host localhost\nsocket {}", sock.display()),
        ),
    );
    let r = send(&dir, &rsmtp_bin());
    r.assert_code(0);
    assert_tls_and_auth(&server, 1, "rsmtp");
    if let Some(msmtp) = oracle() {
        send(&dir, &msmtp).assert_code(0);
        assert_tls_and_auth(&server, 2, "msmtp");
    }
    // The command-line spelling does the same.
    let run = dir
        .rsmtp()
        .args([
            "--host=localhost",
            &format!("--socket={}", sock.display()),
            "--tls=on",
            &format!("--tls-trust-file={}", server.ca().ca_pem_path().display()),
            "--auth=on",
            "--user=alice",
            "--passwordeval=echo s3cret",
            "--from=sender@example.org",
            "bob@example.net",
        ])
        .stdin(MESSAGE)
        .run();
    run.assert_code(0);
    assert_tls_and_auth(&server, 3, "rsmtp --socket");
}

#[test]
fn socket_that_nobody_listens_on() {
    let dir = Dir::new();
    let sock = dir.join("absent.sock");
    dir.write(
        "msmtprc",
        format!(
            "account default\nsocket {}\nfrom sender@example.org\n",
            sock.display()
        ),
    );
    let r = send(&dir, &rsmtp_bin());
    r.assert_code(75);
    assert!(
        r.stderr()
            .contains(&format!("cannot connect to {}", sock.display())),
        "{}",
        r.stderr()
    );
    if let Some(msmtp) = oracle() {
        assert_eq!(
            send(&dir, &msmtp).code(),
            r.code(),
            "same exit code as msmtp"
        );
    }
}

#[test]
fn socks5_proxy_gets_the_host_name_unresolved() {
    let server = TestServer::start(ServerOptions::new());
    let proxy = Socks5Proxy::start(server.port(), None);
    let dir = Dir::new();
    // A name no resolver knows: only the proxy may look it up.
    dir.write(
        "msmtprc",
        format!(
            "account default\nhost relay.example.onion\nport 2525\ntls off\n\
             proxy_host 127.0.0.1\nproxy_port {}\nfrom sender@example.org\n",
            proxy.port
        ),
    );
    let want = SocksRequest {
        atyp: 3,
        host: "relay.example.onion".into(),
        port: 2525,
    };
    send(&dir, &rsmtp_bin()).assert_code(0);
    assert_eq!(server.wait_for_messages(1, WAIT).len(), 1);
    assert_eq!(proxy.requests(), std::slice::from_ref(&want));
    if let Some(msmtp) = oracle() {
        send(&dir, &msmtp).assert_code(0);
        assert_eq!(
            proxy.requests(),
            [want.clone(), want],
            "msmtp asks the same"
        );
    }
}

#[test]
fn socks5_proxy_then_starttls_checks_the_real_host() {
    let server = tls_server();
    let proxy = Socks5Proxy::start(server.port(), None);
    let dir = Dir::new();
    let lines = format!(
        "host localhost\nport 587\nproxy_host 127.0.0.1\nproxy_port {}",
        proxy.port
    );
    dir.write("msmtprc", tls_account(&server, &lines));
    send(&dir, &rsmtp_bin()).assert_code(0);
    assert_tls_and_auth(&server, 1, "rsmtp");
    assert_eq!(
        proxy.requests(),
        [SocksRequest {
            atyp: 3,
            host: "localhost".into(),
            port: 587
        }]
    );
    // The same through --proxy-host/--proxy-port.
    let run = dir
        .rsmtp()
        .args([
            "-C",
            &dir.join("msmtprc").display().to_string(),
            "--proxy-host=127.0.0.1",
            &format!("--proxy-port={}", proxy.port),
            "bob@example.net",
        ])
        .stdin(MESSAGE)
        .run();
    run.assert_code(0);
    assert_eq!(proxy.requests().len(), 2);
}

#[test]
fn socks5_refusal_names_the_proxy_and_its_answer() {
    let server = TestServer::start(ServerOptions::new());
    for (code, words, exit) in [
        (2u8, "connection not allowed by ruleset", 69),
        (5, "connection refused", 75),
    ] {
        let proxy = Socks5Proxy::start(server.port(), Some(code));
        let dir = Dir::new();
        dir.write(
            "msmtprc",
            format!(
                "account default\nhost mail.example.org\ntls off\nproxy_host 127.0.0.1\n\
                 proxy_port {}\nfrom sender@example.org\n",
                proxy.port
            ),
        );
        let r = send(&dir, &rsmtp_bin());
        r.assert_code(exit);
        let err = r.stderr();
        assert!(
            err.contains(&format!("SOCKS5 proxy 127.0.0.1, port {}", proxy.port)),
            "{err}"
        );
        assert!(
            err.contains(&format!("{words} (SOCKS reply {code})")),
            "{err}"
        );
        assert!(err.contains("mail.example.org, port 25"), "{err}");
    }
    assert_eq!(server.connections(), 0);
}

#[test]
fn tls_priorities_choose_the_protocol_versions() {
    use rsmtp_testserver::TlsVersions;
    let only12 = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .tls_versions(TlsVersions::Tls12Only),
    );
    let dir = Dir::new();
    let account = |server: &TestServer, priorities: &str| {
        format!(
            "account default\nhost localhost\nport {}\ntls on\ntls_trust_file {}\n\
             tls_priorities {priorities}\ntls_min_dh_prime_bits 2048\nfrom sender@example.org\n",
            server.port(),
            server.ca().ca_pem_path().display()
        )
    };
    // Copied GnuTLS strings that leave TLS 1.2 on work with a TLS 1.2 server.
    for p in [
        "NORMAL",
        "SECURE256:%COMPAT",
        "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1",
        "PFS",
    ] {
        dir.write("msmtprc", account(&only12, p));
        send(&dir, &rsmtp_bin()).assert_code(0);
    }
    // TLS 1.3 only: the TLS 1.2 server cannot be reached, a TLS 1.3 one can.
    dir.write("msmtprc", account(&only12, "-VERS-ALL:+VERS-TLS1.3"));
    let r = send(&dir, &rsmtp_bin());
    r.assert_code(76);
    assert!(
        r.stderr().contains("TLS handshake failed"),
        "{}",
        r.stderr()
    );
    let any = TestServer::start(ServerOptions::new().tls(Tls::StartTls));
    dir.write("msmtprc", account(&any, "NORMAL:-VERS-ALL:+VERS-TLS1.3"));
    let r = dir
        .command(rsmtp_bin())
        .args([
            "-d",
            "-C",
            &dir.join("msmtprc").display().to_string(),
            "bob@example.net",
        ])
        .stdin(MESSAGE)
        .run();
    r.assert_code(0);
    let out = format!("{}{}", r.stdout(), r.stderr());
    assert!(out.contains("TLSv1_3"), "{out}");
    assert!(
        out.contains("tls_min_dh_prime_bits 2048 has no effect: rustls has no finite-field"),
        "{out}"
    );
    // What rustls cannot do is refused before connecting, naming the part.
    dir.write("msmtprc", account(&any, "NORMAL:+VERS-TLS1.0"));
    let r = send(&dir, &rsmtp_bin());
    r.assert_code(78);
    assert!(
        r.stderr().contains("the part '+VERS-TLS1.0' is not supported by rsmtp (rustls speaks only TLS 1.2 and TLS 1.3)"),
        "{}",
        r.stderr()
    );
    assert_eq!(any.connections(), 1);
}

/// `tls_crl_file`: a server certificate the CA has revoked is refused before
/// anything is sent, saying so; with a CRL that does not list it, mail goes. msmtp
/// (GnuTLS) is the oracle for both outcomes.
#[test]
fn tls_crl_file_refuses_a_revoked_certificate() {
    use rsmtp_testserver::LeafKind;
    let server = TestServer::start(ServerOptions::new().tls(Tls::StartTls));
    let dir = Dir::new();
    let ca = server.ca();
    let revoked = ca
        .write_crl("revoked.crl", &[LeafKind::Valid])
        .expect("write the CRL");
    let clean = ca
        .write_crl("clean.crl", &[LeafKind::Expired])
        .expect("write the CRL");
    let account = |crl: &Path| {
        format!(
            "account default\nhost localhost\nport {}\ntls on\ntls_trust_file {}\n\
             tls_crl_file {}\nfrom sender@example.org\n",
            server.port(),
            ca.ca_pem_path().display(),
            crl.display()
        )
    };
    let mut programs = vec![rsmtp_bin()];
    programs.extend(oracle());

    dir.write("msmtprc", account(&revoked));
    for program in &programs {
        let r = send(&dir, program);
        r.assert_code(69);
        assert!(
            r.stderr().to_lowercase().contains("revoked"),
            "{}: {}",
            program.display(),
            r.stderr()
        );
    }
    let r = send(&dir, &rsmtp_bin());
    assert!(
        r.stderr().contains("the certificate has been revoked"),
        "{}",
        r.stderr()
    );
    assert!(
        server.messages().is_empty(),
        "nothing is sent to a revoked server"
    );

    dir.write("msmtprc", account(&clean));
    for program in &programs {
        send(&dir, program).assert_code(0);
    }
    assert_eq!(
        server.wait_for_messages(programs.len(), WAIT).len(),
        programs.len()
    );
}
