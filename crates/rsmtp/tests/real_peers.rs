//! Real SMTP servers from Debian, started by each test on a free 127.0.0.1 port:
//! aiosmtpd (python3-aiosmtpd: STARTTLS, SMTPS and AUTH, with a certificate from the
//! test CA) and Postfix's `smtp-sink` (a fast sink that dumps what it accepts and can
//! be told to refuse a command with a 4xx or 5xx reply).
//!
//! The in-repo test server is ours; these are not, so they catch what both our client
//! and our server could get wrong the same way. Every server process is killed when the
//! test ends, panic or not ([`Peer`]'s `Drop`). A missing peer skips the test, or fails
//! it under `CI=true`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rsmtp_testserver::{closed_port, LeafKind, TestCa};

use crate::support::peer::Peer;
use crate::support::*;

/// Files appearing in `dir` (waits up to `limit` for at least `n`), sorted by name.
fn wait_for_files(dir: &Path, suffix: &str, n: usize, limit: Duration) -> Vec<PathBuf> {
    let deadline = Instant::now() + limit;
    loop {
        let mut files: Vec<PathBuf> = walk(dir)
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(suffix))
            .collect();
        files.sort();
        if files.len() >= n || Instant::now() >= deadline {
            return files;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The files under `dir` once there are exactly `n` of them, or at `limit`.
fn wait_for_file_count(dir: &Path, n: usize, limit: Duration) -> Vec<PathBuf> {
    let deadline = Instant::now() + limit;
    loop {
        let files = walk(dir);
        if files.len() == n || Instant::now() >= deadline {
            return files;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Split a stored message at the first empty line (CRLF or LF).
fn split_message_owned(data: &[u8]) -> (String, Vec<u8>) {
    let (head, body) = split_message(data);
    (String::from_utf8_lossy(head).into_owned(), body.to_vec())
}

/// Value of the first header `name` in a header block (unfolded, trimmed).
fn header(block: &str, name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    block
        .split("\r\n")
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_string())
}

const MESSAGE: &str = "From: Backup <backup@example.org>\n\
To: Admin <admin@example.net>\n\
Subject: backup finished\n\
\n\
Archive backup-2026-11-21 created.\n\
.a line starting with a dot\n\
d\u{e9}dupliqu\u{e9}e: 99.97%\n";

const BODY: &str = "Archive backup-2026-11-21 created.\r\n\
.a line starting with a dot\r\n\
d\u{e9}dupliqu\u{e9}e: 99.97%\r\n";

// ---------------------------------------------------------------------------------
// aiosmtpd

const PYTHON: &str = "/usr/bin/python3";

/// The controller: STARTTLS or SMTPS with AUTH (PLAIN/LOGIN) for one user; each message
/// is stored as `msg-NNN.eml` (the bytes as received, dot-unstuffed) and
/// `msg-NNN.env` (envelope, TLS, authenticated user), the latter written last.
const AIOSMTPD_CONTROLLER: &str = r#"
import argparse, logging, os, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

p = argparse.ArgumentParser()
p.add_argument("--mode", choices=["starttls", "smtps"], required=True)
p.add_argument("--port", type=int, required=True)
p.add_argument("--cert", required=True)
p.add_argument("--key", required=True)
p.add_argument("--user", required=True)
p.add_argument("--password", required=True)
p.add_argument("--out", required=True)
a = p.parse_args()
# Keep aiosmtpd's notes (no TLS requirement on SMTPS, deprecations) out of test output.
logging.getLogger("mail.log").setLevel(logging.ERROR)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(a.cert, a.key)

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == a.user.encode()
        and auth_data.password == a.password.encode()
    )
    return AuthResult(success=ok, handled=False, auth_data=a.user if ok else None)

class Store:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Store.count += 1
        base = os.path.join(a.out, "msg-%03d" % Store.count)
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        lines = ["mail_from " + envelope.mail_from]
        lines += ["mail_option " + o for o in envelope.mail_options]
        lines += ["rcpt_to " + r for r in envelope.rcpt_tos]
        lines.append("tls " + ("yes" if tls else "no"))
        lines.append("auth " + (session.auth_data or "") if session.authenticated else "auth")
        with open(base + ".tmp", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.rename(base + ".tmp", base + ".env")
        return "250 2.0.0 Ok: stored as %d" % Store.count

common = dict(
    hostname="127.0.0.1",
    port=a.port,
    server_hostname="aiosmtpd.test",
    authenticator=authenticator,
    auth_required=True,
)
if a.mode == "starttls":
    c = Controller(
        Store(), tls_context=ctx, require_starttls=True, auth_require_tls=True, **common
    )
else:
    # aiosmtpd 1.4 counts only STARTTLS as TLS for auth_require_tls and would not offer
    # AUTH at all on an SMTPS socket; here every byte is inside TLS anyway.
    c = Controller(Store(), ssl_context=ctx, auth_require_tls=False, **common)
c.start()
print("READY", flush=True)
sys.stdin.read()
c.stop()
"#;

const AIOSMTPD_USER: &str = "alerts@example.org";
const AIOSMTPD_PASSWORD: &str = "correct horse battery";

/// A running aiosmtpd with its certificate and output directory.
struct Aiosmtpd {
    peer: Peer,
    ca: TestCa,
    out: PathBuf,
}

fn start_aiosmtpd(dir: &Dir, mode: &str) -> Option<Aiosmtpd> {
    let python = require_peer(PYTHON, "Debian's python3")?;
    let has_aiosmtpd = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !require(has_aiosmtpd, "python3-aiosmtpd") {
        return None;
    }
    let ca = TestCa::new_in(&dir.join("certs")).expect("write the test certificates");
    let out = dir.join("aiosmtpd-out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let script = dir.write("controller.py", AIOSMTPD_CONTROLLER);
    let port = closed_port();
    let leaf = ca.leaf(LeafKind::Valid);
    let mut child = Command::new(&python)
        .args(["-W", "ignore"])
        .arg(&script)
        .args(["--mode", mode, "--port", &port.to_string()])
        .arg("--cert")
        .arg(leaf.cert_path())
        .arg("--key")
        .arg(leaf.key_path())
        .args(["--user", AIOSMTPD_USER, "--password", AIOSMTPD_PASSWORD])
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start aiosmtpd");
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("stdout");
    let mut peer = Peer {
        child,
        stdin,
        port,
        name: "aiosmtpd",
    };
    // The controller prints READY once it accepts connections.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(8))
        .expect("aiosmtpd did not start within 8 s");
    assert_eq!(line.trim(), "READY", "aiosmtpd did not start");
    peer.wait_listening(Duration::from_secs(2));
    Some(Aiosmtpd { peer, ca, out })
}

impl Aiosmtpd {
    /// An msmtprc for this server: STARTTLS or SMTPS, trusting the test CA.
    fn config(&self, dir: &Dir, starttls: bool, password: &str) {
        dir.write(
            "msmtprc",
            format!(
                "defaults\nauth on\ntls on\ntls_starttls {}\ntls_trust_file {}\nlogfile {}\n\n\
                 account default\nhost 127.0.0.1\nport {}\nfrom {AIOSMTPD_USER}\nuser {AIOSMTPD_USER}\n\
                 password {password}\n",
                if starttls { "on" } else { "off" },
                self.ca.ca_pem_path().display(),
                dir.join("log").display(),
                self.peer.port
            ),
        );
    }

    /// The stored messages: (envelope lines, message bytes).
    fn stored(&self, n: usize) -> Vec<(Vec<String>, Vec<u8>)> {
        wait_for_files(&self.out, ".env", n, Duration::from_secs(3))
            .into_iter()
            .map(|env| {
                let text = std::fs::read_to_string(&env).expect("read .env");
                let eml = env.with_extension("eml");
                let data = std::fs::read(&eml).expect("read .eml");
                (text.lines().map(str::to_string).collect(), data)
            })
            .collect()
    }
}

fn aiosmtpd_delivers(mode: &str, starttls: bool) {
    let dir = Dir::new();
    let Some(server) = start_aiosmtpd(&dir, mode) else {
        return;
    };
    server.config(&dir, starttls, &format!("\"{AIOSMTPD_PASSWORD}\""));
    let run = dir
        .rsmtp()
        .args(["-C", "msmtprc", "-t", "ops@example.net"])
        .stdin(MESSAGE)
        .run();
    run.assert_code(0);
    let stored = server.stored(1);
    assert_eq!(stored.len(), 1, "aiosmtpd stored nothing");
    let (envelope, data) = &stored[0];
    assert_eq!(
        envelope,
        &[
            format!("mail_from {AIOSMTPD_USER}"),
            // aiosmtpd offers SIZE: the declared size is the message as sent.
            format!("mail_option SIZE={}", data.len()),
            // 8-bit body and aiosmtpd offers 8BITMIME.
            "mail_option BODY=8BITMIME".to_string(),
            "rcpt_to ops@example.net".to_string(),
            "rcpt_to admin@example.net".to_string(),
            "tls yes".to_string(),
            format!("auth {AIOSMTPD_USER}"),
        ]
    );
    let (headers, body) = split_message_owned(data);
    assert_eq!(
        header(&headers, "From").as_deref(),
        Some("Backup <backup@example.org>")
    );
    assert_eq!(
        header(&headers, "Subject").as_deref(),
        Some("backup finished")
    );
    assert!(header(&headers, "Date").is_some(), "{headers}");
    assert!(header(&headers, "Message-ID").is_some(), "{headers}");
    assert_eq!(String::from_utf8_lossy(&body), BODY);
    let log = dir.read("log");
    assert!(
        log.contains(&format!(
            "host=127.0.0.1 tls=on auth=on user={AIOSMTPD_USER} from={AIOSMTPD_USER} \
             recipients=ops@example.net,admin@example.net mailsize="
        )) && log.contains("smtpmsg='250 2.0.0 Ok: stored as 1' exitcode=EX_OK"),
        "{log}"
    );
}

/// msmtp through the same aiosmtpd, when installed: the same envelope but for the
/// SIZE and BODY declarations only rsmtp makes, the same header names in the same
/// order, the same body. (The differential tests do this field by field against the
/// in-repo server; this is the same check against a server we did not write.)
fn compare_with_msmtp(mode: &str, starttls: bool) {
    let Some(msmtp) =
        rsmtp_testserver::peer::require_peer("/usr/bin/msmtp", "msmtp (compared through aiosmtpd)")
    else {
        return;
    };
    let dir = Dir::new();
    let Some(server) = start_aiosmtpd(&dir, mode) else {
        return;
    };
    server.config(&dir, starttls, &format!("\"{AIOSMTPD_PASSWORD}\""));
    let args = ["-C", "msmtprc", "-t", "ops@example.net"];
    dir.command(&msmtp)
        .args(args)
        .stdin(MESSAGE)
        .run()
        .assert_code(0);
    dir.rsmtp().args(args).stdin(MESSAGE).run().assert_code(0);
    let stored = server.stored(2);
    assert_eq!(stored.len(), 2);
    let envelope = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| {
                !l.starts_with("mail_option SIZE=") && l.as_str() != "mail_option BODY=8BITMIME"
            })
            .cloned()
            .collect()
    };
    assert_eq!(envelope(&stored[0].0), envelope(&stored[1].0));
    let names = |data: &[u8]| -> Vec<String> {
        split_message_owned(data)
            .0
            .split("\r\n")
            .filter(|l| !l.is_empty() && !l.starts_with([' ', '\t']))
            .map(|l| l.split(':').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(names(&stored[0].1), names(&stored[1].1));
    assert_eq!(
        split_message_owned(&stored[0].1).1,
        split_message_owned(&stored[1].1).1
    );
}

#[test]
fn aiosmtpd_starttls_same_as_msmtp() {
    compare_with_msmtp("starttls", true);
}

#[test]
fn aiosmtpd_smtps_same_as_msmtp() {
    compare_with_msmtp("smtps", false);
}

#[test]
fn aiosmtpd_starttls_auth() {
    aiosmtpd_delivers("starttls", true);
}

#[test]
fn aiosmtpd_smtps_auth() {
    aiosmtpd_delivers("smtps", false);
}

fn aiosmtpd_wrong_password(mode: &str, starttls: bool) {
    let dir = Dir::new();
    let Some(server) = start_aiosmtpd(&dir, mode) else {
        return;
    };
    server.config(&dir, starttls, "not-the-password");
    let run = dir
        .rsmtp()
        .args(["-C", "msmtprc", "ops@example.net"])
        .stdin(MESSAGE)
        .run();
    run.assert_code(77);
    assert!(server.stored(0).is_empty());
    let log = dir.read("log");
    assert!(
        log.contains("smtpstatus=535") && log.contains("exitcode=EX_NOPERM"),
        "{log}"
    );
    assert!(
        !run.stderr().contains("not-the-password"),
        "{}",
        run.stderr()
    );
}

#[test]
fn aiosmtpd_starttls_wrong_password() {
    aiosmtpd_wrong_password("starttls", true);
}

#[test]
fn aiosmtpd_smtps_wrong_password() {
    aiosmtpd_wrong_password("smtps", false);
}

/// aiosmtpd refuses MAIL before STARTTLS (`require_starttls`): `tls off` must fail
/// cleanly instead of sending the message or the password in clear.
#[test]
fn aiosmtpd_requires_starttls() {
    let dir = Dir::new();
    let Some(server) = start_aiosmtpd(&dir, "starttls") else {
        return;
    };
    dir.write(
        "msmtprc",
        plain_config(
            server.peer.port,
            &format!("logfile {}", dir.join("log").display()),
        ),
    );
    let run = dir
        .rsmtp()
        .args(["-C", "msmtprc", "ops@example.net"])
        .stdin(MESSAGE)
        .run();
    // MAIL is refused with 530: a 5xx to the envelope sender, EX_DATAERR as in msmtp.
    run.assert_code(65);
    assert!(server.stored(0).is_empty());
    let log = dir.read("log");
    assert!(
        log.contains("tls=off auth=off") && log.contains("smtpstatus=530"),
        "{log}"
    );
}

// ---------------------------------------------------------------------------------
// Postfix's smtp-sink

const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

/// smtp-sink on a free port with `extra` options, dumping each transaction into
/// `<dir>/sink/` (it runs as `nobody`, so the directory is world-writable).
fn start_sink(dir: &Dir, extra: &[&str]) -> Option<(Peer, PathBuf)> {
    let sink = require_peer(SMTP_SINK, "Postfix's smtp-sink (Debian package postfix)")?;
    use std::os::unix::fs::PermissionsExt;
    let dump = dir.join("sink");
    std::fs::create_dir_all(&dump).expect("mkdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(&dump, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let port = closed_port();
    let mut cmd = Command::new(sink);
    if is_root() {
        cmd.args(["-u", "nobody"]);
    }
    let child = cmd
        .arg("-d")
        .arg(format!("{}/msg.", dump.display()))
        .args(extra)
        .arg(format!("127.0.0.1:{port}"))
        .arg("64")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start smtp-sink");
    let mut peer = Peer {
        child,
        stdin: None,
        port,
        name: "smtp-sink",
    };
    peer.wait_listening(Duration::from_secs(3));
    Some((peer, dump))
}

fn sink_config(dir: &Dir, port: u16) {
    dir.write(
        "msmtprc",
        plain_config(port, &format!("logfile {}", dir.join("log").display())),
    );
}

#[test]
fn smtp_sink_twenty_messages_in_a_row() {
    let dir = Dir::new();
    let Some((sink, dump)) = start_sink(&dir, &[]) else {
        return;
    };
    sink_config(&dir, sink.port);
    for i in 0..20 {
        let message = format!("Subject: run {i:02}\n\nmessage number {i:02}\n");
        dir.rsmtp()
            .args(["-C", "msmtprc", &format!("rcpt{i:02}@example.net")])
            .stdin(message)
            .run()
            .assert_code(0);
    }
    let files = wait_for_files(&dump, "", 20, Duration::from_secs(3));
    assert_eq!(files.len(), 20, "smtp-sink dumped {files:?}");
    // Each dump holds the envelope (X-Mail-Args, X-Rcpt-Args) and the message.
    let mut seen: Vec<String> = files
        .iter()
        .map(|f| {
            let text = String::from_utf8_lossy(&std::fs::read(f).expect("read dump")).into_owned();
            assert!(
                text.contains("X-Mail-Args: <sender@example.org>\n"),
                "no envelope sender in {}:\n{text}",
                f.display()
            );
            let subject = text
                .lines()
                .find_map(|l| l.strip_prefix("Subject: run "))
                .unwrap_or_else(|| panic!("no Subject in {}:\n{text}", f.display()))
                .trim()
                .to_string();
            assert!(
                text.contains(&format!("X-Rcpt-Args: <rcpt{subject}@example.net>\n")),
                "{text}"
            );
            assert!(
                text.contains(&format!("message number {subject}")),
                "{text}"
            );
            subject
        })
        .collect();
    seen.sort();
    let expected: Vec<String> = (0..20).map(|i| format!("{i:02}")).collect();
    assert_eq!(seen, expected);
    let log = dir.read("log");
    assert_eq!(log.matches("exitcode=EX_OK").count(), 20, "{log}");
}

/// smtp-sink answers the chosen command with its soft (`-r`, 4xx) or hard (`-f`, 5xx)
/// reply; returns rsmtp's run and log. smtp-sink dumps a transaction once the body
/// has arrived, even when it then refuses it, so `refused_before_data` says whether
/// the dump directory must stay empty.
fn sink_refusal(options: &[&str], refused_before_data: bool) -> Option<(Run, String)> {
    let dir = Dir::new();
    let (sink, dump) = start_sink(&dir, options)?;
    sink_config(&dir, sink.port);
    let run = dir
        .rsmtp()
        .args(["-C", "msmtprc", "alice@example.net"])
        .stdin(MESSAGE)
        .run();
    let log = dir.read("log");
    // smtp-sink opens its dump file at MAIL and unlinks it when the transaction is
    // abandoned (at the QUIT after a refused RCPT). rsmtp may exit before smtp-sink
    // has read that QUIT, so wait for the outcome with the sink still running:
    // killing it first left the file behind about once in 30 runs.
    let dumped = if refused_before_data {
        wait_for_file_count(&dump, 0, Duration::from_secs(5))
    } else {
        wait_for_file_count(&dump, 1, Duration::from_secs(5))
    };
    drop(sink);
    if refused_before_data {
        assert!(
            dumped.is_empty(),
            "a refused message was dumped: {dumped:?}"
        );
    } else {
        assert_eq!(dumped.len(), 1, "the body never reached smtp-sink");
    }
    Some((run, log))
}

#[test]
fn smtp_sink_soft_reject_of_rcpt_is_tempfail() {
    let Some((run, log)) = sink_refusal(&["-r", "RCPT"], true) else {
        return;
    };
    run.assert_code(75);
    assert!(
        log.contains("smtpstatus=450") && log.contains("exitcode=EX_TEMPFAIL"),
        "{log}"
    );
}

#[test]
fn smtp_sink_421_on_mail_is_tempfail() {
    let Some((run, log)) = sink_refusal(
        &["-r", "MAIL", "-b", "421 4.3.2 Service shutting down"],
        true,
    ) else {
        return;
    };
    run.assert_code(75);
    assert!(
        log.contains("smtpstatus=421") && log.contains("exitcode=EX_TEMPFAIL"),
        "{log}"
    );
}

#[test]
fn smtp_sink_hard_reject_of_rcpt() {
    let Some((run, log)) = sink_refusal(&["-f", "RCPT"], true) else {
        return;
    };
    // msmtp: a refused recipient is EX_DATAERR (see differential::recipient_refused_with_550).
    run.assert_code(65);
    assert!(
        log.contains("smtpstatus=500") && log.contains("exitcode=EX_DATAERR"),
        "{log}"
    );
}

#[test]
fn smtp_sink_soft_reject_of_end_of_data_is_tempfail() {
    let Some((run, log)) = sink_refusal(&["-r", "."], false) else {
        return;
    };
    run.assert_code(75);
    assert!(log.contains("exitcode=EX_TEMPFAIL"), "{log}");
}
