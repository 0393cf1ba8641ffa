//! Real callers' command lines and environments, through the built binaries: PHPMailer
//! itself (Debian's libphp-phpmailer, both `isSendmail()` and `isMail()`), repeated
//! options, an unusable `TMPDIR`, backup-alert's sendmail mode.

use std::time::Duration;

use rsmtp_testserver::{ServerOptions, TestServer};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

#[track_caller]
fn mail_froms(server: &TestServer, count: usize) -> Vec<String> {
    let messages = server.wait_for_messages(count, WAIT);
    assert_eq!(messages.len(), count, "{}", server.transcript());
    messages.into_iter().map(|m| m.mail_from).collect()
}

/// PHPMailer drives `sendmail` the two ways PHP apps configure it. `isSendmail()`
/// appends `-oi -fSENDER -t` to php.ini's `sendmail_path` (`sendmail -t -i`), so `-t`
/// comes twice; `isMail()` goes through `mail()`, which appends `-fSENDER` to a
/// `sendmail_path` that already has `-f`. Both must send, from the last `-f`.
#[test]
fn phpmailer_is_sendmail_and_is_mail_deliver() {
    let Some(php) = require_peer("/usr/bin/php", "php-cli") else {
        return;
    };
    let Some(_) = require_peer(
        "/usr/share/php/libphp-phpmailer/autoload.php",
        "PHPMailer (Debian package libphp-phpmailer)",
    ) else {
        return;
    };
    let server = TestServer::start(ServerOptions::new().keep_raw_data());
    let dir = home_for(&server, "");
    // PHPMailer only uses sendmail_path when the name contains "sendmail".
    let sendmail = dir.join("sendmail");
    std::os::unix::fs::symlink(rsmtp_bin(), &sendmail).expect("symlink");
    dir.write(
        "send.php",
        r#"<?php
require '/usr/share/php/libphp-phpmailer/autoload.php';
use PHPMailer\PHPMailer\PHPMailer;
$m = new PHPMailer(true);
if ($argv[1] === 'sendmail') { $m->isSendmail(); } else { $m->isMail(); }
$m->setFrom('pm@example.com', 'PHP Mailer');
$m->addAddress('customer@example.net', 'Customer');
$m->addBCC('audit@example.net');
$m->Subject = 'Order ' . $argv[1];
$m->Body = "Thanks for your order.\n.\nA line with a dot.\n";
try { $m->send(); echo "sent\n"; } catch (Exception $e) { echo "failed: ", $m->ErrorInfo, "\n"; exit(1); }
"#,
    );
    let script = dir.join("send.php");
    for (mode, path) in [
        ("sendmail", format!("{} -t -i", sendmail.display())),
        (
            "mail",
            format!("{} -t -i -f noreply@example.com", sendmail.display()),
        ),
    ] {
        let run = dir
            .command(&php)
            .arg("-d")
            .arg(format!("sendmail_path={path}"))
            .arg(&script)
            .arg(mode)
            .run();
        assert_eq!(
            run.stdout().trim(),
            "sent",
            "PHPMailer {mode}\n{}\n{}",
            run.stderr(),
            server.transcript()
        );
    }
    let messages = server.wait_for_messages(2, WAIT);
    assert_eq!(messages.len(), 2, "{}", server.transcript());
    for m in &messages {
        assert_eq!(m.mail_from, "pm@example.com");
        let mut rcpts = m.recipients();
        rcpts.sort();
        assert_eq!(rcpts, ["audit@example.net", "customer@example.net"]);
        assert!(m.header("Bcc").is_none(), "Bcc kept:\n{}", m.data_str());
        let raw = String::from_utf8_lossy(&m.raw_data);
        assert!(raw.contains("\r\n..\r\nA line with a dot."), "{raw}");
    }
}

/// `-f` and `-r` are one option for rsmtp (msmtp 1.8.23 has no `-r`): the last wins,
/// whichever spelling it has; every other option repeated is accepted too.
#[test]
fn f_and_r_last_one_wins_and_any_option_may_repeat() {
    let server = TestServer::start(ServerOptions::new());
    let dir = home_for(&server, "");
    let cfg = dir.join(".msmtprc").display().to_string();
    for args in [
        vec![
            "-f",
            "b@example.com",
            "-r",
            "a@example.com",
            "z@example.net",
        ],
        vec![
            "-r",
            "b@example.com",
            "-f",
            "a@example.com",
            "z@example.net",
        ],
        vec![
            "-t",
            "-t",
            "-i",
            "-i",
            "-C",
            "/nonexistent",
            "-C",
            &cfg,
            "-a",
            "nosuch",
            "-a",
            "default",
            "-F",
            "X",
            "-F",
            "Y",
            "--timeout=5",
            "--timeout=10",
            "-fa@example.com",
            "z@example.net",
        ],
    ] {
        dir.rsmtp()
            .args(&args)
            .stdin("To: z@example.net\nSubject: s\n\nbody\n")
            .run()
            .assert_code(0);
    }
    assert_eq!(mail_froms(&server, 3), ["a@example.com"; 3]);
}

/// msmtp ignores `TMPDIR`; a stale one (deleted directory, read-only mount) must not
/// stop the mail: rsmtp falls back to /tmp.
#[test]
fn an_unusable_tmpdir_falls_back_to_tmp() {
    let server = TestServer::start(ServerOptions::new());
    let dir = home_for(&server, "");
    let read_only = dir.join("ro");
    std::fs::create_dir(&read_only).expect("mkdir");
    std::fs::set_permissions(
        &read_only,
        std::os::unix::fs::PermissionsExt::from_mode(0o555),
    )
    .expect("chmod");
    let mut expected = 0;
    for tmpdir in [dir.join("nonexistent"), read_only] {
        // Root writes into a 0555 directory anyway; the missing one covers root.
        dir.rsmtp()
            .env("TMPDIR", &tmpdir)
            .args(["-t"])
            .stdin("To: z@example.net\nSubject: s\n\nbody\n")
            .run()
            .assert_code(0);
        expected += 1;
        assert_eq!(server.wait_for_messages(expected, WAIT).len(), expected);
    }
}

/// With `queue always` the body is spooled next to the queue (same file system), so a
/// missing TMPDIR changes nothing there either.
#[test]
fn a_queued_message_does_not_need_tmpdir() {
    let server = TestServer::start(ServerOptions::new());
    let dir = Dir::new();
    let queue = dir.join("q");
    dir.write(
        ".msmtprc",
        plain_config(
            server.port(),
            &format!("queue always\nqueue_dir {}", queue.display()),
        ),
    );
    // The first run creates the queue; the second spools inside it.
    for _ in 0..2 {
        dir.rsmtp()
            .env("TMPDIR", dir.join("nonexistent"))
            .args(["-t"])
            .stdin("To: z@example.net\nSubject: s\n\nbody\n")
            .run()
            .assert_code(0);
    }
    assert_eq!(
        server.wait_for_messages(2, Duration::from_secs(20)).len(),
        2
    );
}

/// Input rsmtp refuses before connecting gets no log line, as with msmtp (which
/// logs attempts to send only), so log-counting scripts see the same lines; the
/// reason is on stderr.
#[test]
fn refused_input_writes_no_log_line_as_msmtp() {
    let server = TestServer::start(ServerOptions::new());
    let dir = Dir::new();
    let log = dir.join("msmtp.log");
    dir.write(
        ".msmtprc",
        plain_config(server.port(), &format!("logfile {}", log.display())),
    );
    type Case<'a> = (&'a [&'a str], &'a [u8], i32, &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &["-t"],
            b"Subject: s\n\nbody\n",
            64,
            "EX_USAGE",
            "no recipients found",
        ),
        (
            &["bad address@@x"],
            b"Subject: s\n\nbody\n",
            65,
            "EX_DATAERR",
            "bad address@@x",
        ),
        (
            &["a@example.org"],
            b"Subject: s\0x\n\nbody\n",
            65,
            "EX_DATAERR",
            "NUL byte",
        ),
    ];
    for (i, (args, input, code, name, text)) in cases.iter().enumerate() {
        let run = dir.rsmtp().args(*args).stdin(input).run();
        run.assert_code(*code);
        assert!(run.stderr().contains(text), "{i} {name}: {}", run.stderr());
        assert_eq!(dir.read("msmtp.log"), "", "{i} {name}");
    }
    assert_eq!(server.connections(), 0);
}

/// Runs `rsmtp args` in a private mount namespace where `file` is bind-mounted over
/// `target` (`/etc/resolv.conf`, `/etc/hosts`). Needs root (CI runs as root); `None`
/// elsewhere.
fn rsmtp_with_file(dir: &Dir, file: &std::path::Path, target: &str, args: &[&str]) -> Option<Run> {
    if !require(is_root(), "root (unshare -m and mount --bind need it)") {
        return None;
    }
    let script = format!(
        "mount --bind {} {target} && exec \"$0\" \"$@\"",
        file.display()
    );
    Some(
        dir.command("unshare")
            .args(["-m", "sh", "-c", &script])
            .arg(rsmtp_bin())
            .args(args)
            .stdin("Subject: s\n\nbody\n")
            .run(),
    )
}

/// [`rsmtp_with_file`] with a resolv.conf naming only `nameserver`.
fn rsmtp_with_resolver(dir: &Dir, nameserver: &str, args: &[&str]) -> Option<Run> {
    let resolv = dir.write(
        "resolv.conf",
        format!("nameserver {nameserver}\noptions timeout:1 attempts:1\n"),
    );
    rsmtp_with_file(dir, &resolv, "/etc/resolv.conf", args)
}

/// A name that does not exist (the resolver answers NXDOMAIN: a typo such as
/// smtp.gmial.com) is permanent: exit 68 like msmtp, and not queued for days even
/// with `queue fallback`. A resolver that does not answer is temporary: exit 75
/// without a queue, queued with one, and the log says EX_TEMPFAIL.
///
/// Both use a resolver of the test's own: 127.0.0.2:53 is a small UDP server that
/// answers every query with NXDOMAIN; 127.0.0.3:53 has nobody listening, so the
/// query is refused at once and glibc reports "Temporary failure in name resolution".
#[test]
fn nxdomain_is_permanent_and_an_unanswered_resolver_temporary() {
    let dir = Dir::new();
    let log = dir.join("msmtp.log");
    let queue = dir.join("queue");
    dir.write(
        ".msmtprc",
        format!(
            "defaults\nauth off\ntls off\nport 2525\nlogfile {}\n\n\
             account default\nhost smtp.gmial.example\nfrom s@example.org\n\n\
             account queued : default\nqueue fallback\nqueue_dir {}\n",
            log.display(),
            queue.display()
        ),
    );
    let responder = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", 53))
print("ready", flush=True)
while True:
    q, a = s.recvfrom(512)
    if len(q) >= 12:
        s.sendto(q[:2] + bytes([0x80 | (q[2] & 0x79), 0x83]) + q[4:6] + bytes(6) + q[12:], a)
"#;
    if !is_root() {
        let _ = rsmtp_with_resolver(&dir, "127.0.0.3", &[]);
        return;
    }
    let mut server = std::process::Command::new("python3")
        .args(["-c", responder])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.as_mut().expect("stdout")),
        &mut ready,
    )
    .expect("responder");
    assert_eq!(ready.trim(), "ready");

    for account in ["default", "queued"] {
        let run = rsmtp_with_resolver(&dir, "127.0.0.2", &["-a", account, "a@example.org"])
            .expect("root");
        run.assert_code(68);
        assert!(
            run.stderr()
                .contains("cannot locate host smtp.gmial.example: Name or service not known"),
            "{}",
            run.stderr()
        );
    }
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        !queue.join("queue").exists()
            || std::fs::read_dir(queue.join("queue")).map_or(0, |d| d.count()) == 0,
        "an unknown host must not be queued"
    );

    let run = rsmtp_with_resolver(&dir, "127.0.0.3", &["a@example.org"]).expect("root");
    run.assert_code(75);
    assert!(
        run.stderr()
            .contains("Temporary failure in name resolution"),
        "{}",
        run.stderr()
    );
    let run =
        rsmtp_with_resolver(&dir, "127.0.0.3", &["-a", "queued", "a@example.org"]).expect("root");
    run.assert_code(0);
    assert!(run.stderr().contains("queued as"), "{}", run.stderr());
    assert_eq!(
        std::fs::read_dir(queue.join("queue"))
            .expect("queue")
            .count(),
        1
    );

    let lines: Vec<String> = dir.read("msmtp.log").lines().map(String::from).collect();
    let codes: Vec<&str> = lines
        .iter()
        .map(|l| l.rsplit("exitcode=").next().unwrap_or(""))
        .collect();
    assert_eq!(
        codes,
        ["EX_NOHOST", "EX_NOHOST", "EX_TEMPFAIL", "EX_TEMPFAIL"],
        "{lines:#?}"
    );
}

/// Errors a user can act on: the program named as called, suggestions for typos in
/// options and account names, the option named for a bad value, a clear refusal of
/// what rsmtp does not do.
#[test]
fn errors_name_the_program_the_option_and_the_likely_fix() {
    let server = TestServer::start(ServerOptions::new());
    let dir = Dir::new();
    dir.write(
        ".msmtprc",
        format!(
            "{}\naccount gmail : default\nfrom g@example.org\n",
            plain_config(server.port(), "")
        ),
    );
    let sendmail = dir.join("sendmail");
    std::os::unix::fs::symlink(rsmtp_bin(), &sendmail).expect("symlink");
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["-a", "gmial", "x@example.org"],
            78,
            "sendmail: account gmial not found in ",
        ),
        (
            &["-a", "gmial", "x@example.org"],
            78,
            "(did you mean 'gmail'? accounts: default, gmail)",
        ),
        (
            &["--hots=x", "x@example.org"],
            64,
            "sendmail: unexpected argument '--hots' found (did you mean '--host'?)",
        ),
        (
            &["--port=99999", "x@example.org"],
            64,
            "invalid argument '99999' for --port",
        ),
        (
            &["--configure", "a@example.org"],
            64,
            "option --configure is not supported by rsmtp",
        ),
        (&["--rmqs=x"], 64, "option --rmqs is not supported by rsmtp"),
    ];
    for (args, code, text) in cases {
        let run = dir.command(&sendmail).args(*args).stdin("").run();
        run.assert_code(*code);
        assert!(run.stderr().contains(text), "{args:?}: {}", run.stderr());
        assert!(
            run.stderr().lines().all(|l| !l.starts_with("rsmtp:")),
            "{}",
            run.stderr()
        );
    }
    // -P fails without "could not send mail".
    let run = dir.rsmtp().args(["-P", "-a", "gmial"]).run();
    run.assert_code(78);
    assert!(
        !run.stderr().contains("could not send mail"),
        "{}",
        run.stderr()
    );
}

/// A system file only root may read, and rsmtp run as another user (PHP as
/// www-data): the error says the file exists, who cannot read it and how to fix it,
/// instead of "no configuration file available" alone.
#[test]
fn an_unreadable_system_file_is_named_with_the_fix() {
    if !require(is_root(), "root (to run rsmtp as nobody)") {
        return;
    }
    let dir = Dir::new();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let sys = dir.write("msmtprc", plain_config(2525, ""));
    std::fs::set_permissions(&sys, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    let rsmtp = rsmtp_for_nobody(&dir);
    let run = dir
        .command("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(rsmtp)
        .arg("a@example.org")
        .env("RSMTP_SYSCONFIG", &sys)
        .env("HOME", "/nonexistent")
        .run();
    run.assert_code(78);
    let text = run.stderr();
    assert!(
        text.contains(&format!(
            "{} exists but user nobody cannot read it (Permission denied)",
            sys.display()
        )) && text.contains("chmod 640"),
        "{text}"
    );
}

/// A 535 from Gmail (or Outlook, Yahoo) adds the app-password hint: the account
/// password is refused there once two-step verification is on. smtp.gmail.com is
/// this machine's loopback test server, through a private /etc/hosts.
#[test]
fn a_refused_login_at_gmail_says_to_use_an_app_password() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(rsmtp_testserver::Tls::StartTls)
            .auth("alice", "right-password"),
    );
    let dir = Dir::new();
    dir.write(
        ".msmtprc",
        format!(
            "account default\nhost smtp.gmail.com\nport {}\ntls on\ntls_trust_file {}\n\
             tls_host_override 127.0.0.1\nauth on\nuser alice\npassword wrong\n\
             from alice@gmail.com\n",
            server.port(),
            server.ca().ca_pem_path().display()
        ),
    );
    std::fs::set_permissions(
        dir.join(".msmtprc"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    let hosts = dir.write("hosts", "127.0.0.1 localhost smtp.gmail.com\n");
    let Some(run) = rsmtp_with_file(&dir, &hosts, "/etc/hosts", &["bob@example.net"]) else {
        return;
    };
    run.assert_code(77);
    assert!(
        run.stderr().contains("create an app password"),
        "{}",
        run.stderr()
    );
    assert!(
        !run.stderr().contains("wrong"),
        "the password is never shown"
    );
}
