//! Real callers' command lines and environments, through the built binaries: PHPMailer
//! itself (Debian's libphp-phpmailer, both `isSendmail()` and `isMail()`), repeated
//! options, an unusable `TMPDIR`, backup-alert's sendmail mode.

use std::time::Duration;

use rsmtp_testserver::{ServerOptions, TestServer};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

/// A HOME with `~/.msmtprc` for `server` (the permission rule wants 0600).
fn home(server: &TestServer, extra: &str) -> Dir {
    let dir = Dir::new();
    dir.write(".msmtprc", plain_config(server.port(), extra));
    dir
}

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
    let server = TestServer::start(ServerOptions::new());
    let dir = home(&server, "");
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
    let dir = home(&server, "");
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

/// backup-alert's sendmail mode hands the command line to rsmtp unchanged: PHPMailer's
/// list works there too.
#[test]
fn backup_alert_sendmail_mode_accepts_repeated_options() {
    let server = TestServer::start(ServerOptions::new());
    let dir = home(&server, "");
    let sendmail = dir.join("sendmail");
    std::os::unix::fs::symlink(backup_alert_bin(), &sendmail).expect("symlink");
    dir.command(&sendmail)
        .args(["-t", "-i", "-oi", "-fpm@example.com", "-t"])
        .stdin("To: z@example.net\nSubject: s\n\nbody\n")
        .run()
        .assert_code(0);
    assert_eq!(mail_froms(&server, 1), ["pm@example.com"]);
}

/// msmtp ignores `TMPDIR`; a stale one (deleted directory, read-only mount) must not
/// stop the mail: rsmtp falls back to /tmp.
#[test]
fn an_unusable_tmpdir_falls_back_to_tmp() {
    let server = TestServer::start(ServerOptions::new());
    let dir = home(&server, "");
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
