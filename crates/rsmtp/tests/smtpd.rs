//! rsmtp as an SMTP server: `rsmtp -bs` (what Symfony Mailer and Laravel run) and the
//! msmtpd-compatible listener `rsmtpd`, driven by interactive and pipelining clients,
//! Python's smtplib and msmtp itself, with the in-repo server as the relay.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use rsmtp_testserver::{Fault, ServerOptions, Step, TestServer};

use crate::support::listener::{read_reply, Daemon};
use crate::support::*;

const WAIT: Duration = Duration::from_secs(10);

/// The codes of complete replies in `text` (continuation lines skipped).
fn reply_codes(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.len() == 3 || l.as_bytes().get(3) == Some(&b' '))
        .map(|l| l[..3].to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------
// -bs: a client that waits for each reply, as Symfony's SmtpTransport over a process
// stream does.
// ---------------------------------------------------------------------------------------

struct Interactive {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Interactive {
    fn start(dir: &Dir, args: &[&str]) -> Interactive {
        let mut cmd = dir.rsmtp().args(args).cmd;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rsmtp -bs");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Interactive {
            child,
            stdin,
            stdout,
        }
    }

    /// Read one complete reply (all its lines).
    fn reply(&mut self) -> String {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).expect("read reply");
            assert!(n > 0, "rsmtp closed stdout; reply so far: {reply:?}");
            assert!(
                line.ends_with("\r\n"),
                "reply lines end with CRLF: {line:?}"
            );
            reply.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return reply;
            }
        }
    }

    /// Send one line and wait for its reply.
    fn command(&mut self, line: &str) -> String {
        write!(self.stdin, "{line}\r\n").expect("write command");
        self.stdin.flush().expect("flush");
        self.reply()
    }

    fn finish(mut self) -> (i32, String) {
        drop(self.stdin);
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let status = self.child.wait().expect("wait");
        (status.code().unwrap_or(-1), err)
    }
}

#[test]
fn bs_symfony_style_dialogue_reaches_the_relay_with_the_session_envelope() {
    let relay = TestServer::start(ServerOptions::new());
    let dir = home_for(&relay, "logfile ~/rsmtp.log");
    let mut c = Interactive::start(&dir, &["-bs", "-i"]);
    assert!(c.reply().starts_with("220 "));
    let ehlo = c.command("EHLO [127.0.0.1]");
    assert!(ehlo.contains("250-PIPELINING\r\n"), "{ehlo}");
    assert!(ehlo.contains("250-8BITMIME\r\n"), "{ehlo}");
    assert!(c.command("MAIL FROM:<app@example.org>").starts_with("250 "));
    assert!(c.command("RCPT TO:<alice@example.net>").starts_with("250 "));
    assert!(c.command("RCPT TO:<bob@example.net>").starts_with("250 "));
    assert!(c.command("DATA").starts_with("354 "));
    for line in [
        "To: alice@example.net",
        "Bcc: bob@example.net",
        "Subject: Your order",
        "",
        "Hello,",
        "..a line that starts with a dot",
    ] {
        write!(c.stdin, "{line}\r\n").unwrap();
    }
    let after_dot = c.command(".");
    assert!(
        after_dot.starts_with("250 2.0.0 Ok: delivered"),
        "{after_dot}"
    );
    // The reply comes only once the relay has the message.
    assert_eq!(relay.messages().len(), 1);
    assert!(c.command("QUIT").starts_with("221 "));
    let (code, stderr) = c.finish();
    assert_eq!(code, 0, "{stderr}");

    let m = &relay.messages()[0];
    assert_eq!(m.mail_from, "app@example.org");
    assert_eq!(m.recipients(), ["alice@example.net", "bob@example.net"]);
    let data = m.data_str();
    assert!(
        data.contains("\r\n.a line that starts with a dot\r\n"),
        "{data}"
    );
    assert_eq!(m.header("From").as_deref(), Some("app@example.org"));
    assert!(m.header("Date").is_some() && m.header("Message-ID").is_some());
    assert_eq!(m.header("Bcc"), None, "Bcc removed as in sendmail mode");
    let log = dir.read("rsmtp.log");
    assert!(
        log.contains("from=app@example.org recipients=alice@example.net,bob@example.net")
            && log.contains("exitcode=EX_OK"),
        "{log}"
    );
}

#[test]
fn bs_pipelined_input_gets_every_reply_in_order_and_two_messages() {
    let relay = TestServer::start(ServerOptions::new());
    let dir = home_for(&relay, "logfile ~/rsmtp.log");
    let input = "EHLO client\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n\
                 Subject: one\r\n\r\nfirst\r\n.\r\nRSET\r\nMAIL FROM:<c@example.org>\r\n\
                 RCPT TO:<d@example.net>\r\nDATA\r\nSubject: two\r\n\r\nsecond\r\n.\r\nNOOP\r\n\
                 VRFY root\r\nHELP\r\nQUIT\r\n";
    let run = dir.rsmtp().arg("-bs").stdin(input).run();
    run.assert_code(0);
    assert_eq!(
        reply_codes(&run.stdout()),
        [
            "220", "250", "250", "250", "354", "250", "250", "250", "250", "354", "250", "250",
            "252", "214", "221"
        ],
        "{}",
        run.stdout()
    );
    let messages = relay.wait_for_messages(2, WAIT);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].mail_from, "a@example.org");
    assert_eq!(messages[1].mail_from, "c@example.org");
    assert_eq!(messages[1].recipients(), ["d@example.net"]);
}

#[test]
fn bs_relay_refusals_reach_the_client_as_5xx_and_4xx_with_the_relay_text() {
    let relay = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        "nobody@example.net",
        550,
        "5.1.1 No such user here",
    )));
    let dir = home_for(&relay, "logfile ~/rsmtp.log");
    let input = "HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<nobody@example.net>\r\nDATA\r\n\
                 Subject: x\r\n\r\nx\r\n.\r\nQUIT\r\n";
    let run = dir.rsmtp().arg("-bs").stdin(input).run();
    let out = run.stdout();
    assert_eq!(
        reply_codes(&out),
        ["220", "250", "250", "250", "354", "554", "221"],
        "{out}"
    );
    assert!(out.contains("5.1.1 No such user here"), "{out}");

    let busy = TestServer::start(ServerOptions::new().fault(Fault::reply(
        Step::EndOfData,
        451,
        "4.3.0 Try again later, busy",
    )));
    let dir = home_for(&busy, "logfile ~/rsmtp.log");
    let run = dir
        .rsmtp()
        .arg("-bs")
        .stdin(input.replace("nobody", "somebody"))
        .run();
    let out = run.stdout();
    assert_eq!(
        reply_codes(&out),
        ["220", "250", "250", "250", "354", "451", "221"],
        "{out}"
    );
    assert!(out.contains("4.3.0 Try again later, busy"), "{out}");
    assert!(dir.read("rsmtp.log").contains("exitcode=EX_TEMPFAIL"));
}

#[test]
fn bs_queue_always_answers_250_once_the_message_is_queued() {
    let relay_port = rsmtp_testserver::closed_port();
    let dir = Dir::new();
    dir.write(
        ".msmtprc",
        plain_config(
            relay_port,
            &format!("queue fallback\nqueue_dir {}", dir.join("q").display()),
        ),
    );
    let input = "HELO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n\r\nx\r\n.\r\nQUIT\r\n";
    let run = dir.rsmtp().arg("-bs").stdin(input).run();
    assert!(
        run.stdout().contains("250 2.0.0 Ok: queued as "),
        "{}",
        run.stdout()
    );
    let queued = std::fs::read_dir(dir.join("q")).map_or(0, |d| d.count());
    assert!(queued > 0, "the queue holds the message");
}

// ---------------------------------------------------------------------------------------
// rsmtpd
// ---------------------------------------------------------------------------------------

/// Python's smtplib as the client; prints one line per outcome.
fn smtplib(port: u16, user: &str, password: &str, from: &str, to: &[&str]) -> String {
    let python = require_peer("/usr/bin/python3", "python3");
    let Some(python) = python else {
        return String::new();
    };
    let script = r#"
import smtplib, sys
port, user, password, sender = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rcpts = sys.argv[5:]
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("python.client")
print("features", " ".join(sorted(s.esmtp_features)))
if user:
    try:
        s.login(user, password)
        print("login ok")
    except smtplib.SMTPAuthenticationError as e:
        print("login refused", e.smtp_code)
try:
    s.sendmail(sender, rcpts, "Subject: from python\r\nTo: %s\r\n\r\nbody line\r\n.dot line\r\n" % rcpts[0])
    print("sent")
except smtplib.SMTPSenderRefused as e:
    print("sender refused", e.smtp_code)
except smtplib.SMTPException as e:
    print("failed", e)
s.quit()
"#;
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(port.to_string())
        .args([user, password, from])
        .args(to)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn rsmtpd_delivers_a_python_smtplib_message_through_the_relay_with_received() {
    let relay = TestServer::start(ServerOptions::new());
    let dir = home_for(&relay, "logfile ~/rsmtp.log");
    let log = dir.join("rsmtpd.log");
    let daemon = Daemon::start(&dir, &[&format!("--log={}", log.display())]);
    let out = smtplib(
        daemon.port,
        "",
        "",
        "app@example.org",
        &["x@example.net", "y@example.net"],
    );
    if out.is_empty() {
        return;
    }
    assert!(out.contains("sent"), "{out}");
    assert!(
        out.contains("pipelining") && out.contains("8bitmime") && out.contains("size"),
        "{out}"
    );
    let m = &relay.wait_for_messages(1, WAIT)[0];
    assert_eq!(m.mail_from, "app@example.org");
    assert_eq!(m.recipients(), ["x@example.net", "y@example.net"]);
    let received = m.header("Received").expect("Received header");
    assert!(
        received.starts_with("from python.client ([127.0.0.1]) by "),
        "{received}"
    );
    assert!(m.data_str().contains("\r\n.dot line\r\n"));
    let text = std::fs::read_to_string(&log).expect("listener log");
    assert!(
        text.contains("host=127.0.0.1 ") && text.contains("smtpstatus=250"),
        "{text}"
    );
}

#[test]
fn rsmtpd_auth_refuses_a_wrong_password_and_unauthenticated_mail() {
    let dir = Dir::new();
    let daemon = Daemon::start(
        &dir,
        &[
            "--auth=alice,echo s3cret",
            "--auth-delay=100",
            "--command=cat > mail.txt; echo > rcpt.txt",
        ],
    );
    let out = smtplib(
        daemon.port,
        "alice",
        "wrong",
        "a@example.org",
        &["b@example.net"],
    );
    if out.is_empty() {
        return;
    }
    assert!(out.contains("login refused 535"), "{out}");
    assert!(out.contains("sender refused 530"), "{out}");
    assert!(
        out.contains("auth=login plain") || out.contains("auth"),
        "{out}"
    );
    assert!(!dir.join("mail.txt").exists());

    let out = smtplib(daemon.port, "", "", "a@example.org", &["b@example.net"]);
    assert!(out.contains("sender refused 530"), "{out}");

    let out = smtplib(
        daemon.port,
        "alice",
        "s3cret",
        "a@example.org",
        &["b@example.net"],
    );
    assert!(out.contains("login ok") && out.contains("sent"), "{out}");
    let mail = dir.read("mail.txt");
    assert!(
        mail.contains("with ESMTPA;") && mail.contains("\nbody line\n"),
        "{mail}"
    );
    assert!(!mail.contains('\r'), "LF line ends for the command");
}

#[test]
fn rsmtpd_command_gets_the_quoted_sender_and_recipients_appended() {
    let dir = Dir::new();
    let daemon = Daemon::start(
        &dir,
        &[r#"--command=sh -c 'printf "%s\n" "$@" > args.txt; cat > mail.txt' sh %F"#],
    );
    let out = smtplib(
        daemon.port,
        "",
        "",
        "o'hara@example.org",
        &["a@example.net", "b@example.net"],
    );
    if out.is_empty() {
        return;
    }
    assert!(out.contains("sent"), "{out}");
    assert_eq!(
        dir.read("args.txt"),
        "o'hara@example.org\na@example.net\nb@example.net\n"
    );
    assert!(dir.read("mail.txt").contains("Subject: from python\n"));

    // Shell syntax in an address (in a quoted local part: outside one it is refused
    // with 501, see listener_hostility.rs) stays one literal word.
    let (mut r, mut w) = daemon.connect();
    w.write_all(
        b"HELO c\r\nMAIL FROM:<\"$(touch${IFS}pwned)\"@x.org>\r\nRCPT TO:<\"`touch${IFS}pwned`;$HOME\"@x.org>\r\n\
          DATA\r\nx\r\n.\r\nQUIT\r\n",
    )
    .unwrap();
    let mut all = String::new();
    r.read_to_string(&mut all).unwrap();
    assert_eq!(
        reply_codes(&all),
        ["220", "250", "250", "250", "354", "250", "221"],
        "{all}"
    );
    assert_eq!(
        dir.read("args.txt"),
        "\"$(touch${IFS}pwned)\"@x.org\n\"`touch${IFS}pwned`;$HOME\"@x.org\n"
    );
    assert!(!dir.join("pwned").exists());

    // A recipient that looks like an option never reaches the command.
    let (mut r, mut w) = daemon.connect();
    read_reply(&mut r);
    w.write_all(b"HELO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<-oQ/tmp/x>\r\nQUIT\r\n")
        .unwrap();
    let mut all = String::new();
    r.read_to_string(&mut all).unwrap();
    assert_eq!(reply_codes(&all), ["250", "250", "501", "221"], "{all}");
}

#[test]
fn rsmtpd_command_exit_75_is_451_and_other_failures_554() {
    let dir = Dir::new();
    let temp = Daemon::start(&dir, &["--command=cat > /dev/null; exit 75"]);
    let perm = Daemon::start(&dir, &["--command=cat > /dev/null; exit 1"]);
    for (daemon, code) in [(&temp, "451"), (&perm, "554")] {
        let (mut r, mut w) = daemon.connect();
        w.write_all(
            b"HELO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n",
        )
        .unwrap();
        let mut all = String::new();
        r.read_to_string(&mut all).unwrap();
        assert_eq!(
            reply_codes(&all),
            ["220", "250", "250", "250", "354", code, "221"],
            "{all}"
        );
    }
}

#[test]
fn rsmtpd_survives_a_huge_line_and_a_client_that_never_finishes_data() {
    let dir = Dir::new();
    let daemon = Daemon::start(&dir, &["--timeout=1", "--command=cat > mail.txt"]);
    // 100 MB without a line end: refused at the line limit, the rest never read.
    let (mut r, mut w) = daemon.connect();
    read_reply(&mut r);
    let chunk = vec![b'A'; 1 << 20];
    let mut sent = 0usize;
    for _ in 0..100 {
        match w.write_all(&chunk) {
            Ok(()) => sent += chunk.len(),
            Err(_) => break,
        }
    }
    assert!(
        sent < 100 << 20,
        "the server closed the connection before reading 100 MB"
    );
    let reply = read_reply(&mut r);
    assert!(reply.starts_with("421 5.5.2 Line too long"), "{reply:?}");

    // DATA that never ends: closed after the timeout, nothing delivered.
    let started = Instant::now();
    let (mut r, mut w) = daemon.connect();
    w.write_all(b"HELO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\nSubject: half\r\n")
        .unwrap();
    let mut all = String::new();
    let _ = r.read_to_string(&mut all);
    assert!(started.elapsed() < WAIT, "closed by the timeout");
    assert!(
        all.ends_with("421 4.4.2 Timeout, closing connection\r\n"),
        "{all}"
    );
    assert!(!dir.join("mail.txt").exists());

    // Still serving.
    let (mut r, mut w) = daemon.connect();
    assert!(read_reply(&mut r).starts_with("220 "));
    w.write_all(b"QUIT\r\n").unwrap();
    assert!(read_reply(&mut r).starts_with("221 "));
}

#[test]
fn rsmtpd_serves_100_concurrent_sessions_and_refuses_beyond_the_limit() {
    let dir = Dir::new();
    let daemon = Daemon::start(
        &dir,
        &["--max-sessions=100", "--command=cat > /dev/null; true"],
    );
    // Hold 100 sessions open at the greeting.
    let mut held: Vec<_> = (0..100)
        .map(|_| {
            let (mut r, w) = daemon.connect();
            assert!(read_reply(&mut r).starts_with("220 "));
            (r, w)
        })
        .collect();
    let (mut r, _w) = daemon.connect();
    let refused = read_reply(&mut r);
    assert!(refused.starts_with("421 4.7.0"), "{refused}");
    // Every held session can still send a message, concurrently.
    let threads: Vec<_> = held
        .drain(..)
        .map(|(mut r, mut w)| {
            std::thread::spawn(move || {
                w.write_all(b"HELO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n")
                    .unwrap();
                let mut all = String::new();
                r.read_to_string(&mut all).expect("replies until QUIT");
                reply_codes(&all)
            })
        })
        .collect();
    for t in threads {
        assert_eq!(
            t.join().unwrap(),
            ["250", "250", "250", "354", "250", "221"]
        );
    }
}

#[test]
fn msmtp_as_client_against_rsmtpd_with_auth_and_command() {
    let Some(msmtp) = require_peer("/usr/bin/msmtp", "msmtp") else {
        return;
    };
    let dir = Dir::new();
    let daemon = Daemon::start(
        &dir,
        &[
            "--auth=tester,echo p4ss",
            "--command=cat > mail.txt; echo > rcpt.txt",
        ],
    );
    let rc: PathBuf = dir.write(
        "msmtprc",
        format!(
            "account default\nhost 127.0.0.1\nport {}\ntls off\nauth plain\nuser tester\n\
             password p4ss\nfrom sender@example.org\n",
            daemon.port
        ),
    );
    std::fs::set_permissions(&rc, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let run = dir
        .command(msmtp)
        .args(["-C", "msmtprc", "rcpt1@example.net", "rcpt2@example.net"])
        .stdin("To: rcpt1@example.net\nSubject: via msmtp\n\nline\n.dot\n")
        .run();
    run.assert_code(0);
    let mail = dir.read("mail.txt");
    assert!(mail.starts_with("Received: from "), "{mail}");
    assert!(
        mail.contains("\nSubject: via msmtp\n\nline\n.dot\n"),
        "{mail}"
    );
}

/// msmtp's own checks of msmtpd (tests/test-auth-plain.sh, test-header-handling.sh in
/// its repository), written anew: msmtp and rsmtp as clients of rsmtpd with `--auth`
/// and msmtpd's `--command='cat > mail.txt; echo > rcpt.txt'`. For each header case
/// both clients' mails must carry the same header fields (Received, Date and
/// Message-ID values aside), Bcc never reaches the command, and the envelope's
/// recipients are appended to the command line.
#[test]
fn msmtp_and_rsmtp_as_clients_of_rsmtpd_handle_headers_alike() {
    let Some(msmtp) = require_peer("/usr/bin/msmtp", "msmtp") else {
        return;
    };
    let dir = Dir::new();
    let daemon = Daemon::start(
        &dir,
        &[
            "--auth=tester,echo p4ss",
            "--command=cat > mail.txt; printf '%s\\n' \"$@\" > rcpt.txt",
        ],
    );
    let cases: &[(&str, &[&str], &str)] = &[
        ("no From, Date, Message-ID", &["a@example.net"], "Subject: bare\n\nbody\n"),
        (
            "-t with Bcc",
            &["-t"],
            "From: Me <sender@example.org>\nTo: a@example.net\nBcc: hidden@example.net\nSubject: bcc\n\nbody\n",
        ),
        ("set_from_header on", &["--set-from-header=on", "a@example.net"], "From: other@example.org\nSubject: from\n\nbody\n"),
        ("dot lines", &["a@example.net"], "Subject: dots\n\n.\n..two\n.three\n"),
    ];
    let rc: PathBuf = dir.write(
        "msmtprc",
        format!(
            "account default\nhost 127.0.0.1\nport {}\ntls off\nauth plain\nuser tester\n\
             password p4ss\nfrom sender@example.org\n",
            daemon.port
        ),
    );
    std::fs::set_permissions(&rc, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let header_names = |mail: &str| -> Vec<(String, String)> {
        mail.split("\n\n")
            .next()
            .unwrap_or("")
            .lines()
            .filter(|l| !l.starts_with([' ', '\t']))
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| {
                let masked =
                    ["received", "date", "message-id"].contains(&n.to_ascii_lowercase().as_str());
                (
                    n.to_string(),
                    if masked {
                        String::new()
                    } else {
                        v.trim().to_string()
                    },
                )
            })
            .collect()
    };
    for (case, args, input) in cases {
        let mut seen = Vec::new();
        for client in [msmtp.clone(), rsmtp_bin()] {
            let _ = std::fs::remove_file(dir.join("mail.txt"));
            dir.command(&client)
                .args(["-C", "msmtprc"])
                .args(*args)
                .stdin(*input)
                .run()
                .assert_code(0);
            let mail = dir.read("mail.txt");
            assert!(mail.starts_with("Received: from "), "{case}: {mail}");
            assert!(
                !mail.contains("hidden@example.net"),
                "{case}: Bcc reached the command: {mail}"
            );
            let rcpts = dir.read("rcpt.txt");
            seen.push((
                header_names(&mail),
                mail.split_once("\n\n").map(|(_, b)| b.to_string()),
                rcpts,
            ));
        }
        assert_eq!(
            seen[0].0, seen[1].0,
            "{case}: header fields differ (msmtp, rsmtp)"
        );
        assert_eq!(seen[0].1, seen[1].1, "{case}: bodies differ");
        assert_eq!(seen[0].2, seen[1].2, "{case}: recipients appended differ");
    }
}

/// One message over the daemon's SMTP port, by hand: the reply to the final dot.
fn submit_to_daemon(daemon: &Daemon, subject: &str) -> String {
    let (mut r, mut w) = daemon.connect();
    let mut say = |line: &str| {
        w.write_all(line.as_bytes()).expect("write");
    };
    assert!(read_reply(&mut r).starts_with("220"));
    say("EHLO client.example\r\n");
    read_reply(&mut r);
    say("MAIL FROM:<app@example.org>\r\n");
    read_reply(&mut r);
    say("RCPT TO:<ops@example.net>\r\n");
    read_reply(&mut r);
    say("DATA\r\n");
    read_reply(&mut r);
    say(&format!("Subject: {subject}\r\n\r\nbody\r\n.\r\n"));
    let reply = read_reply(&mut r);
    say("QUIT\r\n");
    reply
}

/// A daemon with `queue always` in front of `relay_port`, its queue under `dir/q`.
fn queueing_daemon(relay_port: u16, extra: &str) -> (Dir, Daemon) {
    let dir = Dir::new();
    dir.write(
        ".msmtprc",
        plain_config(
            relay_port,
            &format!(
                "queue always\nqueue_dir {}\nlogfile {}\n{extra}",
                dir.join("q").display(),
                dir.join("rsmtp.log").display()
            ),
        ),
    );
    let daemon = Daemon::start(&dir, &[]);
    (dir, daemon)
}

#[test]
fn rsmtpd_queue_always_delivers_every_message_of_concurrent_sessions_once() {
    let relay = TestServer::start(ServerOptions::new());
    let (dir, daemon) = queueing_daemon(relay.port(), "");
    std::thread::scope(|s| {
        for client in 0..3 {
            let daemon = &daemon;
            s.spawn(move || {
                for n in 0..5 {
                    let reply = submit_to_daemon(daemon, &format!("m{client}-{n}"));
                    assert!(reply.starts_with("250 2.0.0 Ok: queued as "), "{reply}");
                }
            });
        }
    });
    let got = relay.wait_for_messages(15, WAIT);
    assert!(relay.wait_for_idle(WAIT));
    let mut subjects: Vec<String> = relay
        .messages()
        .iter()
        .filter_map(|m| m.header("Subject"))
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!((got.len(), subjects.len()), (15, 15), "each message once");
    let left = std::fs::read_dir(dir.join("q").join("queue")).map_or(0, |d| d.count());
    assert_eq!(left, 0, "the queue is empty again");
}

#[test]
fn stopping_rsmtpd_hands_its_undelivered_queue_to_the_retrier() {
    // The relay's first connection never gets a greeting: the listener's delivery of
    // the queued message is stuck there when the listener is stopped.
    let relay = TestServer::start(
        ServerOptions::new()
            .fault(Fault::no_greeting())
            .faulty_connections(1),
    );
    let (dir, mut daemon) = queueing_daemon(relay.port(), "timeout 30\n");
    let reply = submit_to_daemon(&daemon, "queued before the stop");
    assert!(reply.starts_with("250 2.0.0 Ok: queued as "), "{reply}");
    let deadline = Instant::now() + WAIT;
    while relay.connections() == 0 {
        assert!(
            Instant::now() < deadline,
            "the listener never tried the relay"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = daemon.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(killed.expect("kill").success());
    let status = daemon.child.wait().expect("wait");
    assert!(!status.success(), "ends as SIGTERM does: {status}");
    // The retrier it started delivers the message over a second connection.
    let got = relay.wait_for_messages(1, Duration::from_secs(20));
    assert_eq!(got.len(), 1, "{}", dir.read("rsmtp.log"));
    assert_eq!(
        got[0].header("Subject").as_deref(),
        Some("queued before the stop")
    );
}
