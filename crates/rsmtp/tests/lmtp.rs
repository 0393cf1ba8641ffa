//! `protocol lmtp` (RFC 2033) against Python aiosmtpd's LMTP server class, with
//! msmtp 1.8.23 as the oracle: LHLO (aiosmtpd's LMTP refuses EHLO, so any
//! delivery proves it), no default port, and one reply per recipient after the
//! final dot. The handler refuses the recipients listed in a file the test
//! rewrites between runs, and records each message's envelope, so the tests see
//! exactly who was sent what — and that a queued retry leaves out the recipients
//! that already have the message.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use rsmtp_testserver::closed_port;

use crate::support::peer::Peer;
use crate::support::*;

const PYTHON: &str = "/usr/bin/python3";
const MESSAGE: &str = "From: sender@example.org\nSubject: lmtp\n\nhello\n";

/// aiosmtpd's LMTP class; `--refuse FILE` holds `ADDRESS CODE TEXT` lines read at
/// each end of data, `--record FILE` gets `FROM RCPT,RCPT…` per message.
const LMTP_SERVER: &str = r#"
import argparse, logging, sys
from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP

p = argparse.ArgumentParser()
p.add_argument("--port", type=int)
p.add_argument("--refuse")
p.add_argument("--record")
a = p.parse_args()
logging.disable(logging.CRITICAL)

class Handler:
    async def handle_DATA(self, server, session, envelope):
        refused = {}
        try:
            for line in open(a.refuse):
                parts = line.split(None, 1)
                if len(parts) == 2:
                    refused[parts[0]] = parts[1].strip()
        except FileNotFoundError:
            pass
        with open(a.record, "a") as f:
            f.write("%s %s\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos)))
        return "\r\n".join(
            refused.get(r, "250 2.0.0 <%s> delivered" % r) for r in envelope.rcpt_tos
        )

class LmtpController(Controller):
    def factory(self):
        return LMTP(self.handler)

c = LmtpController(Handler(), hostname="127.0.0.1", port=a.port)
c.start()
print("READY", flush=True)
sys.stdin.read()
c.stop()
"#;

struct LmtpServer {
    peer: Peer,
    refuse: PathBuf,
    record: PathBuf,
}

impl LmtpServer {
    fn start(dir: &Dir) -> Option<LmtpServer> {
        let python = require_peer(PYTHON, "Debian's python3")?;
        let has_aiosmtpd = Command::new(&python)
            .args(["-c", "import aiosmtpd.lmtp"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !require(has_aiosmtpd, "python3-aiosmtpd") {
            return None;
        }
        let script = dir.write("lmtp.py", LMTP_SERVER);
        let refuse = dir.join("refuse");
        let record = dir.join("record");
        let port = closed_port();
        let mut child = Command::new(&python)
            .args(["-W", "ignore"])
            .arg(&script)
            .args(["--port", &port.to_string()])
            .arg("--refuse")
            .arg(&refuse)
            .arg("--record")
            .arg(&record)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd's LMTP server");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let mut peer = Peer {
            child,
            stdin,
            port,
            name: "aiosmtpd LMTP",
        };
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read READY");
        assert_eq!(line.trim(), "READY", "aiosmtpd's LMTP server did not start");
        peer.wait_listening(Duration::from_secs(5));
        Some(LmtpServer {
            peer,
            refuse,
            record,
        })
    }

    /// The recipients to refuse at the next end of data, with their replies.
    fn refuse(&self, lines: &[&str]) {
        std::fs::write(&self.refuse, lines.join("\n") + "\n").expect("write the refusals");
    }

    /// One `FROM RCPT,RCPT…` line per message the server got to the end of data.
    fn envelopes(&self) -> Vec<String> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// An msmtprc for this server; `extra` ends the account.
    fn config(&self, dir: &Dir, port: bool, extra: &str) -> PathBuf {
        let port = if port {
            format!("port {}\n", self.peer.port)
        } else {
            String::new()
        };
        dir.write(
            "msmtprc",
            format!(
                "account default\nhost 127.0.0.1\n{port}protocol lmtp\ntls off\n\
                 from sender@example.org\nlogfile {}\n{extra}",
                dir.join("log").display()
            ),
        )
    }
}

fn send(dir: &Dir, program: &Path, config: &Path, recipients: &[&str]) -> Run {
    dir.command(program)
        .arg("-C")
        .arg(config)
        .args(recipients)
        .stdin(MESSAGE)
        .run()
}

fn last_log_line(dir: &Dir) -> String {
    dir.read("log")
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn lmtp_needs_a_port_as_msmtp_does() {
    let dir = Dir::new();
    let Some(server) = LmtpServer::start(&dir) else {
        return;
    };
    let config = server.config(&dir, false, "");
    let r = send(&dir, &rsmtp_bin(), &config, &["ok@example.net"]);
    r.assert_code(78);
    assert!(r.stderr().contains("port not set"), "{}", r.stderr());
    if let Some(msmtp) = msmtp_bin() {
        let m = send(&dir, &msmtp, &config, &["ok@example.net"]);
        m.assert_code(78);
        assert!(m.stderr().contains("port not set"), "{}", m.stderr());
    }
    assert!(server.envelopes().is_empty());
}

#[test]
fn lmtp_delivers_with_lhlo_like_msmtp() {
    let dir = Dir::new();
    let Some(server) = LmtpServer::start(&dir) else {
        return;
    };
    let config = server.config(&dir, true, "");
    let rcpts = ["a@example.net", "b@example.net"];
    send(&dir, &rsmtp_bin(), &config, &rcpts).assert_code(0);
    assert!(
        last_log_line(&dir).contains("exitcode=EX_OK"),
        "{}",
        dir.read("log")
    );
    let mut expected = vec!["sender@example.org a@example.net,b@example.net".to_owned()];
    if let Some(msmtp) = msmtp_bin() {
        send(&dir, &msmtp, &config, &rcpts).assert_code(0);
        expected.push(expected[0].clone());
    }
    assert_eq!(server.envelopes(), expected);
    // -S names the protocol as msmtp does.
    let info = dir.rsmtp().arg("-C").arg(&config).arg("-S").run();
    info.assert_code(0);
    assert!(
        info.stdout().starts_with("LMTP server at 127.0.0.1"),
        "{}",
        info.stdout()
    );
}

/// Refused after the dot: each refused recipient named on stderr and in the log
/// line, who got the message said too, exit 69 as msmtp (EX_UNAVAILABLE).
#[test]
fn lmtp_refusals_after_the_dot_are_named_per_recipient() {
    let dir = Dir::new();
    let Some(server) = LmtpServer::start(&dir) else {
        return;
    };
    server.refuse(&[
        "gone@example.net 550 5.1.1 <gone@example.net> mailbox unavailable",
        "full@example.net 452 4.2.2 <full@example.net> mailbox full",
    ]);
    let config = server.config(&dir, true, "");
    let rcpts = ["ok@example.net", "gone@example.net", "full@example.net"];
    let r = send(&dir, &rsmtp_bin(), &config, &rcpts);
    r.assert_code(69);
    let line = last_log_line(&dir);
    for text in [r.stderr(), line.clone()] {
        for want in [
            "the server refuses to send the mail to gone@example.net: 550 5.1.1",
            "the server refuses to send the mail to full@example.net: 452 4.2.2",
            "delivered to ok@example.net",
        ] {
            assert!(text.contains(want), "{want:?} missing from {text}");
        }
    }
    assert!(line.contains("exitcode=EX_UNAVAILABLE"), "{line}");
    if let Some(msmtp) = msmtp_bin() {
        let m = send(&dir, &msmtp, &config, &rcpts);
        m.assert_code(69);
        for rcpt in ["gone@example.net", "full@example.net"] {
            assert!(
                m.stderr()
                    .contains(&format!("the server refuses to send the mail to {rcpt}")),
                "{}",
                m.stderr()
            );
        }
        assert!(last_log_line(&dir).contains("exitcode=EX_UNAVAILABLE"));
    }
}

/// Refused only for now (452) after the dot, with `queue fallback`: queued (exit 0,
/// `EX_TEMPFAIL` in the log, as any queued attempt) as an entry for the refused recipients only; each flush sends the message to
/// who still lacks it, never again to who has it.
#[test]
fn lmtp_partial_delivery_queues_only_the_recipients_still_waiting() {
    let dir = Dir::new();
    let Some(server) = LmtpServer::start(&dir) else {
        return;
    };
    let queue = dir.join("queue");
    std::fs::create_dir(&queue).expect("mkdir queue");
    std::fs::set_permissions(&queue, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .expect("chmod queue");
    let config = server.config(
        &dir,
        true,
        &format!("queue fallback\nqueue_dir {}\n", queue.display()),
    );
    let full = |rcpt: &str| format!("{rcpt} 452 4.2.2 <{rcpt}> mailbox full");
    server.refuse(&[&full("x@example.net"), &full("y@example.net")]);
    let r = send(
        &dir,
        &rsmtp_bin(),
        &config,
        &["ok@example.net", "x@example.net", "y@example.net"],
    );
    r.assert_code(0);
    assert!(r.stderr().contains("message queued as"), "{}", r.stderr());
    assert!(last_log_line(&dir).contains("exitcode=EX_TEMPFAIL"));

    // x's mailbox has room again, y's not yet: the flush sends to x and y only.
    server.refuse(&[&full("y@example.net")]);
    let flush = dir.rsmtp().arg("-C").arg(&config).arg("-q").run();
    assert!(
        flush.stderr().contains("y@example.net"),
        "{}",
        flush.stderr()
    );
    server.refuse(&[]);
    dir.rsmtp()
        .arg("-C")
        .arg(&config)
        .arg("-q")
        .run()
        .assert_code(0);
    assert_eq!(
        server.envelopes(),
        [
            "sender@example.org ok@example.net,x@example.net,y@example.net",
            "sender@example.org x@example.net,y@example.net",
            "sender@example.org y@example.net",
        ]
    );
    let listing = dir.rsmtp().arg("-C").arg(&config).arg("-bp").run();
    assert!(
        !listing.stdout().contains("example.net"),
        "the queue is empty: {}",
        listing.stdout()
    );
}

/// Refused permanently for one recipient and only for now for another: exit 69 (as
/// msmtp) naming both, and with `queue fallback` the message still waits for the
/// second, alone.
#[test]
fn lmtp_mixed_refusals_fail_and_queue_the_temporary_ones() {
    let dir = Dir::new();
    let Some(server) = LmtpServer::start(&dir) else {
        return;
    };
    let queue = dir.join("queue");
    std::fs::create_dir(&queue).expect("mkdir queue");
    std::fs::set_permissions(&queue, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .expect("chmod queue");
    let config = server.config(
        &dir,
        true,
        &format!("queue fallback\nqueue_dir {}\n", queue.display()),
    );
    server.refuse(&[
        "gone@example.net 550 5.1.1 <gone@example.net> mailbox unavailable",
        "full@example.net 452 4.2.2 <full@example.net> mailbox full",
    ]);
    let r = send(
        &dir,
        &rsmtp_bin(),
        &config,
        &["ok@example.net", "gone@example.net", "full@example.net"],
    );
    r.assert_code(69);
    let line = last_log_line(&dir);
    for text in [r.stderr(), line.clone()] {
        assert!(text.contains("gone@example.net: 550"), "{text}");
        assert!(text.contains("for full@example.net"), "{text}");
    }
    assert!(line.contains("exitcode=EX_UNAVAILABLE"), "{line}");

    server.refuse(&[]);
    dir.rsmtp()
        .arg("-C")
        .arg(&config)
        .arg("-q")
        .run()
        .assert_code(0);
    assert_eq!(
        server.envelopes(),
        [
            "sender@example.org ok@example.net,gone@example.net,full@example.net",
            "sender@example.org full@example.net",
        ]
    );
}

/// An LMTP server that answers the first recipient's end-of-data reply, then drops
/// the connection before the others (a crash, a restart): `FROM RCPT,RCPT…` per
/// session goes to `record`.
const DROPPING_LMTP: &str = r#"
import socket, sys
port, record = int(sys.argv[1]), sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(5)
print("READY", flush=True)

def serve(c):
    f = c.makefile("rb")
    c.sendall(b"220 dropping LMTP\r\n")
    sender, rcpts = "", []
    try:
        while True:
            line = f.readline()
            if not line:
                break
            cmd = line.decode().strip()
            verb = cmd.split(" ")[0].upper()
            if verb == "LHLO":
                c.sendall(b"250-dropping\r\n250 PIPELINING\r\n")
            elif verb == "MAIL":
                sender = cmd.split(":", 1)[1].strip("<>"); c.sendall(b"250 ok\r\n")
            elif verb == "RCPT":
                rcpts.append(cmd.split(":", 1)[1].strip("<>")); c.sendall(b"250 ok\r\n")
            elif verb == "DATA":
                c.sendall(b"354 go\r\n")
                while f.readline() not in (b".\r\n", b""):
                    pass
                with open(record, "a") as r:
                    r.write("%s %s\n" % (sender, ",".join(rcpts)))
                c.sendall(b"250 2.0.0 <%s> delivered\r\n" % rcpts[0].encode())
                if len(rcpts) > 1:
                    break
                rcpts = []
            elif verb == "QUIT":
                c.sendall(b"221 bye\r\n"); break
            else:
                c.sendall(b"250 ok\r\n")
    finally:
        f.close()

while True:
    c, _ = s.accept()
    try:
        serve(c)
    except OSError:
        pass  # a client that went away (a probe, a killed sender): the next one
    try:
        c.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    c.close()
"#;

/// A recipient that got its 250 never gets a second copy, even when the connection
/// drops before the other recipients' replies: only they wait in the queue.
#[test]
fn lmtp_a_dropped_connection_queues_only_the_recipients_without_a_reply() {
    let dir = Dir::new();
    let Some(python) = require_peer(PYTHON, "Debian's python3") else {
        return;
    };
    let script = dir.write("dropping.py", DROPPING_LMTP);
    let record = dir.join("record");
    let port = closed_port();
    let mut child = Command::new(&python)
        .arg(&script)
        .arg(port.to_string())
        .arg(&record)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the dropping LMTP server");
    let stdout = child.stdout.take().expect("stdout");
    // Killed when the test ends.
    let _server = Peer {
        child,
        stdin: None,
        port,
        name: "dropping LMTP",
    };
    // READY is printed once the socket listens (no probe connection needed).
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("READY");
    assert_eq!(line.trim(), "READY");
    let queue = dir.join("queue");
    std::fs::create_dir(&queue).expect("mkdir queue");
    std::fs::set_permissions(&queue, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .expect("chmod queue");
    let config = dir.write(
        "msmtprc",
        format!(
            "account default\nhost 127.0.0.1\nport {port}\nprotocol lmtp\ntls off\n\
             from sender@example.org\nqueue fallback\nqueue_dir {}\n",
            queue.display()
        ),
    );
    let r = send(
        &dir,
        &rsmtp_bin(),
        &config,
        &["a@example.net", "b@example.net", "c@example.net"],
    );
    r.assert_code(0);
    assert!(r.stderr().contains("message queued as"), "{}", r.stderr());
    let listing = dir.rsmtp().arg("-C").arg(&config).arg("-bp").run();
    let listed = listing.stdout();
    let waiting: Vec<&str> = listed
        .lines()
        .map(str::trim)
        .filter(|l| l.ends_with("@example.net") && !l.contains(' '))
        .collect();
    assert_eq!(
        waiting,
        ["b@example.net", "c@example.net"],
        "{}",
        listing.stdout()
    );
    // The flush sends to b and c only (the server drops again after b's reply,
    // so c stays queued).
    dir.rsmtp().arg("-C").arg(&config).arg("-q").run();
    let sessions = std::fs::read_to_string(&record).unwrap_or_default();
    assert_eq!(
        sessions.lines().collect::<Vec<_>>(),
        [
            "sender@example.org a@example.net,b@example.net,c@example.net",
            "sender@example.org b@example.net,c@example.net",
        ]
    );
}
