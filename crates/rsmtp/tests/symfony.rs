//! Symfony Mailer itself (Debian's php-symfony-mailer) sending through rsmtp as
//! `sendmail -bs`: its `sendmail://default` transport runs the command and speaks SMTP
//! to it on stdin/stdout, waiting for each reply. Symfony handles Bcc (an envelope
//! recipient, no header) and dot-stuffs the body; rsmtp must relay exactly that
//! envelope and body.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rsmtp_testserver::{Fault, ServerOptions, TestServer};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(10);

/// Where Debian's php-symfony-mailer puts its autoloader (`dpkg -L php-symfony-mailer`);
/// it pulls in symfony/mime and the rest.
const AUTOLOAD: &str = "/usr/share/php/Symfony/Component/Mailer/autoload.php";

/// The PHP side: argv[1] is the transport's command (Symfony appends nothing to it, and
/// runs it with `/bin/sh -c`); prints `sent` or `failed: <Symfony's message>`.
const SEND_PHP: &str = r#"<?php
require '/usr/share/php/Symfony/Component/Mailer/autoload.php';
use Symfony\Component\Mailer\Mailer;
use Symfony\Component\Mailer\Transport;
use Symfony\Component\Mime\Email;
$mailer = new Mailer(Transport::fromDsn('sendmail://default?command=' . rawurlencode($argv[1])));
$email = (new Email())
    ->from('Shop <shop@example.com>')
    ->to('customer@example.net')
    ->cc('sales@example.net')
    ->bcc('audit@example.net')
    ->subject('Order 42')
    ->text("Thanks for your order.\n.\n.A line that starts with a dot.\nEnd.\n");
try { $mailer->send($email); echo "sent\n"; }
catch (\Throwable $e) { echo "failed: ", $e->getMessage(), "\n"; exit(1); }
"#;

/// php and Symfony Mailer, or `None` (a skip, or a failure under `CI=true`).
fn symfony() -> Option<PathBuf> {
    let php = require_peer("/usr/bin/php", "php-cli")?;
    require_peer(
        AUTOLOAD,
        "Symfony Mailer (Debian package php-symfony-mailer)",
    )?;
    Some(php)
}

/// A HOME whose msmtprc points at `relay`, with `sendmail` (a symlink to the built rsmtp,
/// so rsmtp runs under that name as it does from /usr/sbin/sendmail) and the script.
fn home_for(relay: &TestServer) -> (Dir, PathBuf) {
    let dir = Dir::new();
    dir.write(
        ".msmtprc",
        plain_config(relay.port(), "logfile ~/rsmtp.log"),
    );
    let sendmail = dir.join("sendmail");
    std::os::unix::fs::symlink(rsmtp_bin(), &sendmail).expect("symlink sendmail");
    dir.write("send.php", SEND_PHP);
    (dir, sendmail)
}

fn send(dir: &Dir, php: &Path, command: &str) -> Run {
    dir.command(php)
        .arg(dir.join("send.php"))
        .arg(command)
        .run()
}

/// Symfony's default (`sendmail -bs`) and Laravel's (`sendmail -bs -i`): the message
/// reaches the relay with Symfony's envelope — the sender, To and Cc, and the Bcc
/// recipient that is in no header — and the body's lines starting with a dot intact.
#[test]
fn symfony_mailer_sendmail_bs_transport_delivers_envelope_and_body() {
    let Some(php) = symfony() else {
        return;
    };
    let relay = TestServer::start(ServerOptions::new().keep_raw_data());
    let (dir, sendmail) = home_for(&relay);
    let commands = [
        format!("{} -bs", sendmail.display()),
        format!("{} -bs -i", sendmail.display()),
    ];
    for command in &commands {
        let run = send(&dir, &php, command);
        assert_eq!(
            run.stdout().trim(),
            "sent",
            "{command}\n{}\n{}",
            run.stderr(),
            relay.transcript()
        );
    }
    let messages = relay.wait_for_messages(commands.len(), WAIT);
    assert_eq!(messages.len(), commands.len(), "{}", relay.transcript());
    for m in &messages {
        assert_eq!(m.mail_from, "shop@example.com");
        assert_eq!(
            m.recipients(),
            [
                "customer@example.net",
                "sales@example.net",
                "audit@example.net"
            ]
        );
        assert!(
            m.header("Bcc").is_none(),
            "Bcc header sent:\n{}",
            m.data_str()
        );
        assert_eq!(m.header("Subject").as_deref(), Some("Order 42"));
        let body = m.data_str();
        assert!(
            body.contains("\r\n\r\nThanks for your order.\r\n.\r\n.A line that starts with a dot.\r\nEnd.\r\n"),
            "body as received:\n{body}"
        );
        // On the wire to the relay, dot-stuffed again.
        let raw = String::from_utf8_lossy(&m.raw_data);
        assert!(
            raw.contains("\r\n..\r\n..A line that starts with a dot.\r\n"),
            "{raw}"
        );
    }
    assert_eq!(
        dir.read("rsmtp.log").matches("exitcode=EX_OK").count(),
        commands.len(),
        "{}",
        dir.read("rsmtp.log")
    );
}

/// A recipient the relay refuses reaches Symfony as a failed send carrying the relay's
/// reply, never as a silent success.
#[test]
fn symfony_mailer_sees_the_relays_refusal() {
    let Some(php) = symfony() else {
        return;
    };
    let relay = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        "audit@example.net",
        550,
        "5.1.1 No such user here",
    )));
    let (dir, sendmail) = home_for(&relay);
    let run = send(&dir, &php, &format!("{} -bs", sendmail.display()));
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout(), run.stderr());
    assert!(
        run.stdout().contains("No such user here"),
        "Symfony said: {}",
        run.stdout()
    );
    assert!(relay.messages().is_empty(), "{}", relay.transcript());
}
