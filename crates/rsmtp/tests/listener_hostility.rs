//! The SMTP faces (`rsmtpd`, `--inetd`, `sendmail -bs`) against a hostile client, as
//! Postfix's smtpd holds against one: no shell from an address, no cross-protocol
//! mail, no smuggled second message, temporary answers to local faults, the null
//! sender kept, a log reader that cannot stall mail, no junk in `Received:`.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::listener::{read_reply, Daemon};
use crate::support::*;

const WAIT: Duration = Duration::from_secs(10);

/// Shell syntax that would run something, or change the words, if it reached a shell
/// as text; each goes in a quoted local part, the one place an address may carry it.
const PAYLOADS: &[&str] = &[
    "$(touch${IFS}PWNED)",
    "`touch PWNED`",
    "a;touch PWNED",
    "a|touch PWNED",
    "a&touch PWNED",
    "o'hara';touch PWNED;'",
    "q q",
    "$HOME",
    "*",
    "a\\\\b",
    "{a,b}",
];

/// A command that writes its argv, NUL-separated, to `argv.out` in `dir`.
fn argv_recorder(dir: &Dir) -> String {
    let path = dir.join("argv.sh");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nfor a; do printf '%s\\0' \"$a\"; done > {}/argv.out\n",
            dir.path().display()
        ),
    )
    .expect("write argv.sh");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.display().to_string()
}

/// One message through the daemon; the reply to the final dot (or the first refusal).
fn send(daemon: &Daemon, from: &str, to: &str) -> String {
    let (mut r, mut w) = daemon.connect();
    read_reply(&mut r);
    for line in [
        "EHLO client.example".to_string(),
        format!("MAIL FROM:<{from}>"),
        format!("RCPT TO:<{to}>"),
        "DATA".into(),
    ] {
        write!(w, "{line}\r\n").expect("write");
        let reply = read_reply(&mut r);
        if !reply.starts_with('2') && !reply.starts_with('3') {
            return reply;
        }
    }
    w.write_all(b"Subject: t\r\n\r\nbody\r\n.\r\n")
        .expect("write");
    let reply = read_reply(&mut r);
    let _ = w.write_all(b"QUIT\r\n");
    reply
}

#[test]
fn no_shell_runs_from_an_envelope_address_and_the_argv_is_exact() {
    let dir = Dir::new();
    let recorder = argv_recorder(&dir);
    // Plain command lines (run without a shell) and shell command lines (the
    // addresses in the environment), each with %F bare, single- and double-quoted.
    let templates = [
        format!("{recorder} -f %F --"),
        format!("{recorder} -f '%F' --"),
        format!("{recorder} -f \"%F\" --"),
        format!("cat > /dev/null; {recorder} -f %F --"),
        format!("cat > /dev/null; {recorder} -f '%F' --"),
        format!("cat > /dev/null; {recorder} -f \"%F\" --"),
    ];
    for template in &templates {
        let daemon = Daemon::start(&dir, &[&format!("--command={template}")]);
        for payload in PAYLOADS {
            let payload = payload.replace("PWNED", &dir.join("pwned").display().to_string());
            let from = format!("\"{payload}\"@x.org");
            let to = format!("\"{payload}-to\"@y.org");
            let _ = std::fs::remove_file(dir.join("argv.out"));
            let reply = send(&daemon, &from, &to);
            assert!(reply.starts_with("250 "), "{template} / {from}: {reply}");
            let argv = std::fs::read(dir.join("argv.out")).expect("argv.out written");
            let argv: Vec<String> = argv
                .split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            assert_eq!(argv, ["-f", &from, "--", &to], "{template} / {from}");
            assert!(
                !dir.join("pwned").exists(),
                "{template} / {from}: a command ran"
            );
        }
    }
}

#[test]
fn shell_metacharacters_outside_quotes_are_refused_before_anything_runs() {
    let dir = Dir::new();
    let recorder = argv_recorder(&dir);
    let daemon = Daemon::start(&dir, &[&format!("--command={recorder} -f '%F' --")]);
    let pwned = dir.join("pwned").display().to_string();
    for payload in [
        format!("$(touch${{IFS}}{pwned})@x.org"),
        format!("`touch {pwned}`@x.org").replace(' ', "${IFS}"),
        "a;b@x.org".into(),
        "a|b@x.org".into(),
        "a&b@x.org".into(),
        "$HOME@x.org".into(),
        "a*@x.org".into(),
        "a\\b@x.org".into(),
        "{a}@x.org".into(),
        "a(comment)@x.org".into(),
    ] {
        let reply = send(&daemon, &payload, "ok@y.org");
        assert!(reply.starts_with("501 5.1.7 "), "MAIL {payload}: {reply}");
        let reply = send(&daemon, "ok@x.org", &payload);
        assert!(reply.starts_with("501 5.1.7 "), "RCPT {payload}: {reply}");
    }
    assert!(!dir.join("argv.out").exists() && !dir.join("pwned").exists());
}

/// What a web page can make a browser send to a local port: an HTTP request whose
/// body is an SMTP session.
const BROWSER_POST: &str = "POST / HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\
    User-Agent: Mozilla/5.0\r\nContent-Type: text/plain\r\nContent-Length: 120\r\n\r\n\
    EHLO x\r\nMAIL FROM:<forged@example.org>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n\
    Subject: forged\r\n\r\nforged\r\n.\r\nQUIT\r\n";

#[test]
fn an_http_request_ends_the_session_before_any_mail() {
    let dir = Dir::new();
    let daemon = Daemon::start(&dir, &["--command=cat > mail.txt"]);
    for request in [
        BROWSER_POST.to_string(),
        BROWSER_POST.replacen("POST / HTTP/1.1", "GET / HTTP/1.0", 1),
        BROWSER_POST.replacen("POST / HTTP/1.1", "CONNECT 127.0.0.1:25 HTTP/1.1", 1),
        // A header line first, or after EHLO.
        BROWSER_POST.replacen("POST / HTTP/1.1\r\n", "", 1),
        format!(
            "EHLO x\r\n{}",
            BROWSER_POST.replacen("POST / HTTP/1.1\r\n", "", 1)
        ),
    ] {
        let (mut r, mut w) = daemon.connect();
        w.write_all(request.as_bytes()).expect("write");
        let mut all = String::new();
        // The daemon closes the connection: read_to_string ends.
        r.read_to_string(&mut all).expect("read until closed");
        let codes: Vec<&str> = all
            .lines()
            .filter(|l| l.as_bytes().get(3) == Some(&b' '))
            .map(|l| &l[..3])
            .collect();
        assert!(
            codes.last() == Some(&"554") && !codes.contains(&"354"),
            "{request:?}: {all}"
        );
    }
    assert!(!dir.join("mail.txt").exists(), "no forged mail");

    // sendmail -bs, as a program's stdin could carry it.
    let server = plain_server();
    let home = home_for(&server, "");
    let run = home.rsmtp().arg("-bs").stdin(BROWSER_POST).run();
    assert!(run.stdout().contains("\r\n554 5.7.0 "), "{}", run.stdout());
    assert_ne!(run.code(), 0);
    assert!(server.messages().is_empty());
}

#[test]
fn a_bare_lf_or_cr_dot_never_starts_a_second_message_at_the_relay() {
    let server = plain_server();
    let home = home_for(&server, "");
    let daemon = Daemon::start(&home, &[]);
    for (i, smuggle) in ["\n.\n", "\r.\r", "\r\n.\n", "\n.\r\n"].iter().enumerate() {
        let (mut r, mut w) = daemon.connect();
        read_reply(&mut r);
        write!(
            w,
            "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
        )
        .unwrap();
        for _ in 0..4 {
            read_reply(&mut r);
        }
        write!(
            w,
            "Subject: {i}\r\n\r\nx{smuggle}MAIL FROM:<evil@example.org>\r\n\
             RCPT TO:<victim@example.org>\r\nDATA\r\nforged\r\n.\r\n"
        )
        .unwrap();
        let reply = read_reply(&mut r);
        assert!(reply.starts_with("250 "), "{smuggle:?}: {reply}");
        write!(w, "QUIT\r\n").unwrap();
        read_reply(&mut r);
        let messages = server.wait_for_messages(i + 1, WAIT);
        assert_eq!(messages.len(), i + 1, "{smuggle:?}");
        let m = &messages[i];
        assert_eq!(m.recipients(), ["b@example.org"], "{smuggle:?}");
        assert!(m.data_str().contains("MAIL FROM:<evil@example.org>"));
    }
    // Nothing more arrives once the listener has answered every dot: the relay's
    // connection count is the messages' count.
    assert_eq!(server.connections(), 4);
    assert!(server
        .messages()
        .iter()
        .all(|m| m.mail_from == "sender@example.org" || m.mail_from == "a@example.org"));
}

#[test]
fn the_null_sender_stays_null_through_bs_and_the_listener() {
    let server = plain_server();
    let home = home_for(&server, "");
    let session = "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n\
                   Subject: bounce\r\nFrom: MAILER-DAEMON@example.org\r\n\r\nx\r\n.\r\nQUIT\r\n";
    let run = home.rsmtp().arg("-bs").stdin(session).run();
    run.assert_code(0);
    let daemon = Daemon::start(&home, &[]);
    let (mut r, mut w) = daemon.connect();
    w.write_all(session.as_bytes()).unwrap();
    let mut all = String::new();
    r.read_to_string(&mut all).unwrap();
    assert!(all.contains("\r\n221 "), "{all}");
    let messages = server.wait_for_messages(2, WAIT);
    assert_eq!(messages.len(), 2);
    for m in messages {
        assert_eq!(m.mail_from, "", "the relay sees MAIL FROM:<>");
    }
}

#[test]
fn a_junk_helo_is_written_as_invalid_in_received() {
    let dir = Dir::new();
    // The recipients are appended, as msmtpd appends them: `true` takes them.
    let daemon = Daemon::start(&dir, &["--command=cat > mail.txt; true"]);
    let (mut r, mut w) = daemon.connect();
    w.write_all(
        b"EHLO x; by trusted.example (Postfix) with ESMTPS\r\nMAIL FROM:<a@x.org>\r\n\
          RCPT TO:<b@y.org>\r\nDATA\r\nSubject: t\r\n\r\nbody\r\n.\r\nQUIT\r\n",
    )
    .unwrap();
    let mut all = String::new();
    r.read_to_string(&mut all).unwrap();
    let mail = dir.read("mail.txt");
    assert!(mail.starts_with("Received: from invalid ("), "{mail}");
    assert!(!mail.contains("trusted.example"), "{mail}");
}

/// `rsmtp ARGS` with TMPDIR on a 64 KiB tmpfs of its own (a private mount namespace),
/// fed `input`; needs root (CI runs as root).
fn with_full_tmp(home: &Dir, args: &[&str], input: &[u8]) -> Option<(i32, String, String)> {
    if !require(
        is_root(),
        "root, to mount a small tmpfs in a private namespace",
    ) {
        return None;
    }
    let unshare = require_peer("/usr/bin/unshare", "unshare (util-linux)")?;
    let small = home.join("small-tmp");
    std::fs::create_dir_all(&small).unwrap();
    let cmd = home.rsmtp().cmd;
    let program = cmd.get_program().to_owned();
    let mut inner = Command::new(unshare);
    inner
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o size=64k rsmtp-test "$0" && cd "$0" && shift && exec "$@""#)
        .arg(&small)
        .arg("rsmtp")
        .arg(&program)
        .args(args)
        .envs(
            cmd.get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .env("TMPDIR", &small)
        .current_dir(home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = inner.spawn().expect("spawn unshare");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    let _ = feeder.join();
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn a_full_disk_is_a_temporary_answer_never_a_refusal() {
    let server = plain_server();
    let home = home_for(&server, "");
    let big = "x".repeat(76) + "\r\n";
    let body = big.repeat(2000); // 156 KB: more than the 64 KiB tmpfs holds
    let session = format!(
        "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n\
         Subject: big\r\n\r\n{body}.\r\nQUIT\r\n"
    );
    let Some((code, stdout, _)) = with_full_tmp(&home, &["-bs"], session.as_bytes()) else {
        return;
    };
    assert!(stdout.contains("\r\n452 4.3.1 "), "{stdout}");
    assert!(!stdout.contains("\r\n554 "), "{stdout}");
    assert_eq!(code, 0, "the session itself ended with QUIT");

    let message = format!("To: b@example.org\nSubject: big\n\n{body}");
    let (code, _, stderr) =
        with_full_tmp(&home, &["-t"], message.as_bytes()).expect("peer checked above");
    assert_eq!(
        code, 75,
        "sendmail mode: EX_TEMPFAIL on a full disk: {stderr}"
    );
    assert!(server.messages().is_empty());
}

#[test]
fn a_reader_holding_the_log_lock_does_not_stall_the_listener() {
    let server = plain_server();
    let home = home_for(&server, "");
    let log = home.join("rsmtpd.log");
    std::fs::write(&log, "").unwrap();
    let Some(_reader) = LockHolder::hold(&log) else {
        return;
    };
    let daemon = Daemon::start(&home, &[&format!("--log={}", log.display())]);
    // Each reply comes back while the lock is held (the client's read timeout is
    // WAIT; a listener waiting for the lock would never answer the dot).
    for _ in 0..2 {
        let reply = send(&daemon, "a@example.org", "b@example.org");
        assert!(reply.starts_with("250 "), "{reply}");
    }
    assert_eq!(server.wait_for_messages(2, WAIT).len(), 2);
}

#[test]
fn a_killed_sender_leaves_no_copy_of_the_body_behind() {
    let server = plain_server();
    let home = home_for(&server, "");
    let tmp = home.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut child = home
        .rsmtp()
        .env("TMPDIR", &tmp)
        .arg("-t")
        .cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rsmtp");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"To: b@example.org\nSubject: cron\n\nthe job's secret output\n")
        .unwrap();
    stdin.flush().unwrap();
    // Wait until the body is being spooled: rsmtp holds a file in `tmp`.
    let fds = format!("/proc/{}/fd", child.id());
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let spooling = std::fs::read_dir(&fds).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| std::fs::read_link(e.path()).is_ok_and(|target| target.starts_with(&tmp)))
        });
        if spooling {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "rsmtp never spooled");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(server.messages().is_empty());
}

#[test]
fn one_client_address_gets_at_most_max_per_client_sessions() {
    let dir = Dir::new();
    let daemon = Daemon::start(&dir, &["--max-per-client=2", "--command=cat >/dev/null"]);
    // Two sessions held (Daemon::start's own probe connections may still hold a
    // place for a moment: retry until two are greeted).
    let deadline = std::time::Instant::now() + WAIT;
    let mut held = Vec::new();
    while held.len() < 2 {
        let (mut r, w) = daemon.connect();
        if read_reply(&mut r).starts_with("220 ") {
            held.push((r, w));
        }
        assert!(std::time::Instant::now() < deadline, "no two sessions");
    }
    let (mut r3, _w3) = daemon.connect();
    let third = read_reply(&mut r3);
    assert!(
        third.starts_with("421 4.7.0 ") && third.contains("from your address"),
        "{third}"
    );
    // A session that ends gives its place back.
    held.pop();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (mut r, _w) = daemon.connect();
        if read_reply(&mut r).starts_with("220 ") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the place never came back"
        );
    }
}

#[test]
fn a_trickling_client_cannot_keep_a_session_past_its_deadline() {
    let dir = Dir::new();
    let daemon = Daemon::start(
        &dir,
        &[
            "--session-timeout=1",
            "--timeout=300",
            "--command=cat >/dev/null",
        ],
    );
    let (mut r, mut w) = daemon.connect();
    assert!(read_reply(&mut r).starts_with("220 "));
    // One byte every 100 ms: every read is quick, the session never ends by itself.
    let deadline = std::time::Instant::now() + WAIT;
    let mut seen = String::new();
    'trickle: while std::time::Instant::now() < deadline {
        for b in b"NOOP\r\n" {
            if w.write_all(&[*b]).is_err() {
                break 'trickle;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let reply = read_reply(&mut r);
        seen.push_str(&reply);
        if reply.is_empty() || reply.starts_with("421") {
            break;
        }
    }
    // The connection is closed (EOF) well before the test's own limit.
    let mut rest = String::new();
    let _ = r.read_to_string(&mut rest);
    assert!(
        seen.starts_with("250 "),
        "the trickled NOOPs were answered: {seen}"
    );
    assert!(
        std::time::Instant::now() < deadline,
        "the session outlived --session-timeout: {seen}"
    );
}

#[test]
fn failed_logins_from_one_address_wait_longer_each_time_and_are_logged() {
    let dir = Dir::new();
    let log = dir.join("rsmtpd.log");
    let daemon = Daemon::start(
        &dir,
        &[
            "--auth=alice,echo s3cret",
            "--auth-delay=20",
            &format!("--log={}", log.display()),
            "--command=cat >/dev/null",
        ],
    );
    let login = |password: &str| {
        let (mut r, mut w) = daemon.connect();
        read_reply(&mut r);
        let plain = base64_plain("alice", password);
        write!(w, "EHLO c\r\nAUTH PLAIN {plain}\r\n").unwrap();
        read_reply(&mut r);
        let reply = read_reply(&mut r);
        let _ = w.write_all(b"QUIT\r\n");
        reply
    };
    for _ in 0..4 {
        assert!(login("wrong").starts_with("535 "));
    }
    assert!(login("s3cret").starts_with("235 "));
    assert!(login("wrong").starts_with("535 "));
    let text = std::fs::read_to_string(&log).expect("log");
    let delays: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split("answered after ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap_or_default())
        .collect();
    // Doubled per failure from 127.0.0.1 across connections; a login resets it.
    assert_eq!(delays, ["20", "40", "80", "160", "20"], "{text}");
    assert!(
        text.contains("user=alice") && !text.contains("wrong"),
        "{text}"
    );
}

/// `AUTH PLAIN`'s initial response for `user` and `password`.
fn base64_plain(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

#[test]
fn a_trickling_socks_proxy_meets_the_handshake_deadline() {
    use std::net::TcpListener;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    let proxy = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut hello = [0u8; 3];
        s.read_exact(&mut hello).unwrap();
        s.write_all(&[5, 0]).unwrap();
        let mut req = [0u8; 5];
        s.read_exact(&mut req).unwrap();
        let mut rest = vec![0u8; usize::from(req[4]) + 2];
        s.read_exact(&mut rest).unwrap();
        // A byte every 200 ms: the 262-byte reply would take 52 s.
        let reply = [&[5u8, 0, 0, 3, 255][..], &[b'a'; 257][..]].concat();
        for b in reply {
            if stopped.load(std::sync::atomic::Ordering::SeqCst) || s.write_all(&[b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let dir = Dir::new();
    dir.write(
        ".msmtprc",
        format!(
            "account default\nhost mail.example.org\nport 25\ntls off\nauth off\n\
             from a@example.org\nproxy_host 127.0.0.1\nproxy_port {port}\ntimeout 1\n"
        ),
    );
    let run = dir
        .rsmtp()
        .arg("b@example.org")
        .stdin("Subject: t\n\nx\n")
        .run();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    proxy.join().unwrap();
    // Temporary, and within `timeout 1` for the whole handshake (the harness's
    // watchdog would kill a run that waited for the proxy).
    run.assert_code(75);
    assert!(run.stderr().contains("SOCKS5 proxy"), "{}", run.stderr());
}

#[test]
fn a_relays_reply_reaches_the_terminal_without_control_characters() {
    use rsmtp_testserver::{Fault, ServerOptions, Step, TestServer};
    let server = TestServer::start(ServerOptions::new().fault(Fault::reply(
        Step::Mail,
        550,
        "5.7.1 \u{1b}[2J\u{1b}[31mrefused\u{1b}[0m\rHIDDEN \u{7}",
    )));
    let home = home_for(&server, "");
    let run = home
        .rsmtp()
        .arg("b@example.org")
        .stdin("Subject: t\n\nx\n")
        .run();
    run.assert_code(65);
    let stderr = run.stderr();
    assert!(!stderr.contains('\u{1b}') && !stderr.contains('\r') && !stderr.contains('\u{7}'));
    assert!(
        stderr.contains("550 5.7.1 ?[2J?[31mrefused?[0m?HIDDEN ?"),
        "{stderr}"
    );
}

#[test]
fn a_reader_holding_the_log_lock_does_not_hang_sendmail_mode() {
    let server = plain_server();
    let home = Dir::new();
    let log = home.join("msmtp.log");
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
    home.write(
        ".msmtprc",
        plain_config(server.port(), &format!("logfile {}", log.display())),
    );
    let Some(reader) = LockHolder::hold(&log) else {
        return;
    };
    // msmtp gives up on the lock after 10 s and still exits 0; so does rsmtp, and
    // the line is appended all the same (the harness's watchdog fails a hang).
    let run = home
        .rsmtp()
        .arg("b@example.org")
        .stdin("Subject: t\n\nx\n")
        .run();
    run.assert_code(0);
    assert_eq!(server.wait_for_messages(1, WAIT).len(), 1);
    drop(reader);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("exitcode=EX_OK"), "{text}");
}
