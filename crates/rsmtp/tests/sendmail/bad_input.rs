//! 4. Bad input and bad configuration.

use super::*;

#[test]
fn no_recipients_exits_64_without_connecting() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("-t").stdin(SIMPLE).run();
    run.assert_code(64);
    assert!(
        run.stderr().contains("no recipients found"),
        "{}",
        run.stderr()
    );
    assert_eq!(server.connections(), 0);
}

#[test]
fn invalid_recipient_address_exits_65_and_names_it() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("bad address@@x").stdin(SIMPLE).run();
    run.assert_code(65);
    assert!(
        run.stderr().contains("invalid address 'bad address@@x'"),
        "{}",
        run.stderr()
    );
    assert_eq!(server.connections(), 0);
}

/// A To element that is no address is named and left out; when it was the only
/// one, nothing is left to send to: "no recipients found", exit 64, no connection.
#[test]
fn invalid_address_in_a_to_header_is_skipped_and_named() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .arg("-t")
        .stdin("To: <a@b@c>\nSubject: s\n\nb\n")
        .run();
    run.assert_code(64);
    assert!(
        run.stderr()
            .contains("skipped '<a@b@c>' in the To header: "),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("no recipients found"),
        "{}",
        run.stderr()
    );
    assert_eq!(server.connections(), 0);
}

#[test]
fn nul_in_the_header_exits_65_and_sends_nothing() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .arg("x@example.org")
        .stdin(b"Subject: a\0b\n\nbody\n")
        .run();
    run.assert_code(65);
    assert!(
        run.stderr()
            .contains("NUL byte in the mail header (line 1)"),
        "{}",
        run.stderr()
    );
    assert_eq!(server.connections(), 0);
}

#[test]
fn unknown_option_exits_64_with_a_one_line_error_and_a_hint() {
    let dir = Dir::new();
    let run = dir
        .rsmtp()
        .args(["--frobnicate", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(64);
    let err = run.stderr();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("rsmtp: ") && lines[0].contains("--frobnicate"),
        "{err}"
    );
    assert_eq!(lines[1], "Try 'rsmtp --help' for more information.");
    assert_eq!(run.stdout(), "");
}

#[test]
fn invalid_option_argument_exits_64_like_msmtp() {
    // msmtp 1.8.23: "invalid argument 99999 for --port", exit 64 (EX_USAGE); a bad
    // value typed on the command line is a usage error, not a configuration one.
    let server = plain_server();
    let dir = home_for(&server, "");
    for args in [
        ["--port=99999", "x@example.org"],
        ["--timeout=abc", "x@example.org"],
        ["--tls=maybe", "x@example.org"],
    ] {
        let run = dir.rsmtp().args(args).stdin(SIMPLE).run();
        run.assert_code(64);
        assert!(
            run.stderr().contains("invalid argument"),
            "{args:?}: {}",
            run.stderr()
        );
    }
    let run = dir
        .rsmtp()
        .args(["--host=127.0.0.1", "--timeout=abc", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(64);
    assert_eq!(server.connections(), 0);
}

#[test]
fn sendmail_h_and_capital_v_take_arguments_and_still_send() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-h", "17", "-V", "envid42", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    assert!(!run.stdout().contains("Usage"), "{}", run.stdout());
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["x@example.org"]);
}

#[test]
fn help_and_version_long_options_print_and_exit_0() {
    let dir = Dir::new();
    let run = dir.rsmtp().arg("--help").run();
    run.assert_code(0);
    assert!(
        run.stdout().contains("--read-envelope-from"),
        "{}",
        run.stdout()
    );
    assert!(run.stdout().contains("-t"), "{}", run.stdout());
    let run = dir.rsmtp().arg("--version").run();
    run.assert_code(0);
    assert!(
        run.stdout().starts_with("rsmtp version "),
        "{}",
        run.stdout()
    );
    assert!(
        run.stdout().contains("no-system-msmtprc"),
        "{}",
        run.stdout()
    );
}

/// `--version` names every AUTH method rsmtp can run, SCRAM included (a user checks
/// there before writing `auth scram-sha-256`).
#[test]
fn version_lists_every_auth_method_with_scram() {
    let dir = Dir::new();
    let run = dir.rsmtp().arg("--version").run();
    run.assert_code(0);
    let line = run
        .stdout()
        .lines()
        .find_map(|l| l.split_once("Authentication: ").map(|(_, m)| m.to_string()))
        .unwrap_or_else(|| panic!("no Authentication line:\n{}", run.stdout()));
    let listed: Vec<&str> = line.trim_end_matches('.').split(", ").collect();
    for method in [
        "plain",
        "login",
        "cram-md5",
        "xoauth2",
        "oauthbearer",
        "external",
        "scram-sha-1",
        "scram-sha-256",
        "scram-sha-1-plus",
        "scram-sha-256-plus",
    ] {
        assert!(listed.contains(&method), "{method} missing from: {line}");
    }
}

#[test]
fn missing_c_file_exits_74_naming_the_file() {
    let dir = Dir::new();
    let missing = dir.join("does-not-exist.rc");
    let run = dir
        .rsmtp()
        .arg("-C")
        .arg(&missing)
        .arg("x@example.org")
        .stdin(SIMPLE)
        .run();
    // msmtp 1.8.23 exits EX_IOERR here.
    run.assert_code(74);
    assert!(
        run.stderr()
            .contains(&format!("{}: No such file", missing.display())),
        "{}",
        run.stderr()
    );
}

#[test]
fn config_typo_exits_78_naming_file_and_line() {
    let server = plain_server();
    let dir = Dir::new();
    let rc = dir.write(
        "typo.rc",
        format!(
            "account default\nhots 127.0.0.1\nport {}\nfrom a@example.org\n",
            server.port()
        ),
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
    assert!(err.contains(&format!("{}:2", rc.display())), "{err}");
    assert!(err.contains("hots"), "{err}");
    assert_eq!(server.connections(), 0);
}

#[test]
fn unknown_account_exits_78_and_names_it() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-a", "nosuch", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(78);
    assert!(run.stderr().contains("nosuch"), "{}", run.stderr());
    assert_eq!(server.connections(), 0);
}

#[test]
fn world_readable_password_file_exits_78_telling_to_chmod_600() {
    use std::os::unix::fs::PermissionsExt;
    const NOBODY: u32 = 65534;
    let server = plain_server();
    let dir = home_for(&server, "auth on\nuser alice\npassword hunter2-pw");
    let rc = dir.join(".msmtprc");
    // The non-root user must be able to reach the binary, HOME and the file: root
    // (CI) gives the file to nobody and runs a copy of rsmtp nobody can execute.
    if !require(is_root(), "root (to run rsmtp as nobody)")
        || require_peer("/usr/bin/setpriv", "setpriv (util-linux)").is_none()
    {
        return;
    }
    let rsmtp = rsmtp_for_nobody(&dir);
    std::os::unix::fs::chown(&rc, Some(NOBODY), Some(NOBODY)).expect("chown to nobody");
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut cmd =
        dir.command("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]);
    cmd = cmd.arg(&rsmtp).arg("x@example.org").stdin(SIMPLE);
    let run = cmd.run();
    run.assert_code(78);
    let err = run.stderr();
    assert!(
        err.contains(&format!("chmod 600 {}", rc.display())),
        "{err}"
    );
    assert!(!err.contains("hunter2-pw"), "{err}");
    assert_eq!(server.connections(), 0);

    // Fixed as told, the same user sends.
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    let server2 = TestServer::start(ServerOptions::new().auth("alice", "hunter2-pw"));
    std::fs::write(
        &rc,
        plain_config(
            server2.port(),
            "auth plain\nuser alice\npassword hunter2-pw",
        ),
    )
    .unwrap();
    let run = dir
        .command("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(&rsmtp)
        .arg("x@example.org")
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    only_message(&server2, &run);
}

#[test]
fn empty_stdin_sends_a_message_with_only_the_added_headers() {
    // msmtp 1.8.23 does the same: From, Date and Message-ID, no body.
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin("").run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.header("From").as_deref(), Some("sender@example.org"));
    assert!(m.header("Date").is_some());
    assert!(!m.bare_lf);
    assert!(m.data_str().ends_with("\r\n"));
}
