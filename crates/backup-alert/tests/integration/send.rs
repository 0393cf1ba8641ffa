//! `send`: the bytes on the wire — encoded subject, multipart/alternative, escaped HTML,
//! the log's tail — plus injection attempts, flood control and exit codes.

use std::io::Write;

use mail_parser::MimeHeaders;
use rsmtp_testserver::{Fault, ServerOptions, TestServer};

use crate::*;

#[test]
fn success_alert_with_log_tail() {
    let server = server();
    let env = Env::new(&server);
    let log = env.path("borg.log");
    let mut f = std::fs::File::create(&log).unwrap();
    for i in 1..=500 {
        writeln!(f, "borg line {i}").unwrap();
    }
    let log_s = log.to_string_lossy().into_owned();
    run(env.sub(&[
        "send",
        "--status",
        "success",
        "--subject",
        "BorgBackup - Backup Réussi",
        "--to",
        TO,
        "--from",
        FROM,
        "--body",
        "Archive créée <ok> & \"fine\"",
        "--log",
        &log_s,
        "--log-lines",
        "3",
    ]))
    .assert_code(0);

    let msg = one_message(&server);
    assert_eq!(msg.mail_from, FROM);
    assert_eq!(msg.recipients(), vec![TO]);
    // 7-bit header block, subject RFC 2047-encoded
    let headers = msg.headers();
    assert!(headers.is_ascii(), "{headers}");
    assert!(
        msg.header("Subject").unwrap().contains("=?utf-8?"),
        "{headers}"
    );
    for h in ["message-id", "date", "from", "to", "mime-version"] {
        assert!(
            header_names(&msg).contains(&h.to_string()),
            "{h} missing: {headers}"
        );
    }
    let parsed = parse(&msg);
    assert_eq!(
        parsed.subject().unwrap(),
        format!("✅ [{}] BorgBackup - Backup Réussi", host())
    );
    assert!(parsed
        .content_type()
        .is_some_and(|ct| ct.subtype() == Some("alternative")));
    let text = norm(parsed.body_text(0).unwrap());
    assert!(text.contains("Archive créée <ok> & \"fine\""), "{text}");
    assert_eq!(fact(&text, "Host"), host());
    assert_eq!(fact(&text, "Status"), "success");
    assert!(text.contains(&log_s));
    assert!(
        text.contains("borg line 498\nborg line 499\nborg line 500"),
        "{text}"
    );
    assert!(!text.contains("borg line 497\n"));
    let html = parsed.body_html(0).unwrap();
    assert!(
        html.contains("Archive créée &lt;ok&gt; &amp; &quot;fine&quot;"),
        "{html}"
    );
    assert!(html.contains("borg line 500"));
}

#[test]
fn body_from_stdin_and_failure_mark() {
    let server = server();
    let env = Env::new(&server);
    let r = run_with_input(
        env.sub(&[
            "send",
            "--status",
            "failure",
            "--subject",
            "Backup FAILED",
            "--to",
            TO,
        ]),
        "Connection refused (serveur distant inaccessible)\n".as_bytes(),
    );
    r.assert_code(0);
    let msg = one_message(&server);
    let parsed = parse(&msg);
    assert!(parsed.subject().unwrap().starts_with("❌ ["));
    assert!(norm(parsed.body_text(0).unwrap())
        .contains("Connection refused (serveur distant inaccessible)"));
    // no --from: the account's `from` is the envelope sender and rsmtp adds the header
    assert_eq!(msg.mail_from, FROM);
}

#[test]
fn status_marks_on_the_wire() {
    let server = server();
    let env = Env::new(&server);
    for (status, mark) in [("warning", "⚠️"), ("rotation", "🔄")] {
        run(env.sub(&[
            "send",
            "--status",
            status,
            "--subject",
            "Rotation Effectuée",
            "--to",
            TO,
            "--no-flood",
        ]))
        .assert_code(0);
        let _ = mark;
    }
    let msgs = server.wait_for_messages(2, WAIT);
    assert_eq!(msgs.len(), 2);
    assert!(parse(&msgs[0]).subject().unwrap().starts_with("⚠️ ["));
    assert!(parse(&msgs[1]).subject().unwrap().starts_with("🔄 ["));
}

#[test]
fn subject_injection_cannot_add_headers_or_recipients() {
    let server = server();
    let env = Env::new(&server);
    run(env.sub(&[
        "send",
        "--status",
        "info",
        "--subject",
        "hello\r\nBcc: victim@evil.example\r\nX-Injected: yes",
        "--to",
        TO,
        "--body",
        "b",
    ]))
    .assert_code(0);
    let msg = one_message(&server);
    assert_eq!(msg.recipients(), vec![TO]);
    let names = header_names(&msg);
    assert!(!names.contains(&"bcc".to_string()), "{}", msg.headers());
    assert!(
        !names.contains(&"x-injected".to_string()),
        "{}",
        msg.headers()
    );
    assert_eq!(names.iter().filter(|n| *n == "subject").count(), 1);
    let subject = parse(&msg).subject().unwrap().to_string();
    assert!(
        subject.ends_with("hello Bcc: victim@evil.example X-Injected: yes"),
        "{subject}"
    );
}

#[test]
fn address_injection_is_a_usage_error() {
    let server = server();
    let env = Env::new(&server);
    let r = run(env.sub(&[
        "send",
        "--status",
        "info",
        "--subject",
        "s",
        "--to",
        "admin@example.com\r\nBcc: victim@evil.example",
        "--body",
        "b",
    ]));
    r.assert_code(64);
    assert!(r.stderr.starts_with("backup-alert: "), "{}", r.stderr);
    let r = run(env.sub(&[
        "send",
        "--status",
        "info",
        "--subject",
        "s",
        "--to",
        TO,
        "--from",
        "x@example.com\nBcc: v@evil.example",
        "--body",
        "b",
    ]));
    r.assert_code(64);
    assert_eq!(server.connections(), 0);
}

#[test]
fn usage_errors_are_64() {
    let server = server();
    let env = Env::new(&server);
    run(env.sub(&["send", "--status", "great", "--subject", "s", "--to", TO])).assert_code(64);
    let r = run(env.sub(&[
        "send",
        "--status",
        "success",
        "--subject",
        "s",
        "--body",
        "b",
    ]));
    r.assert_code(64);
    assert!(
        r.stderr.contains("backup-alert: no recipients"),
        "{}",
        r.stderr
    );
    run(env.sub(&["frobnicate"])).assert_code(64);
    assert_eq!(server.connections(), 0);
}

#[test]
fn recipients_from_the_settings_file() {
    let server = server();
    let env = Env::new(&server);
    let settings = env.home.join(".config/backup-alert/config");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(
        &settings,
        format!("[default]\nto = nobody@example.com\nfrom = {FROM}\n\n[host:{}]\nto = ops@example.com, dba@example.com\n", host()),
    )
    .unwrap();
    run(env.sub(&[
        "send",
        "--status",
        "success",
        "--subject",
        "s",
        "--body",
        "b",
    ]))
    .assert_code(0);
    let msg = one_message(&server);
    assert_eq!(msg.recipients(), vec!["ops@example.com", "dba@example.com"]);
}

#[test]
fn rejected_delivery_keeps_rsmtps_exit_code() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        TO,
        550,
        "5.1.1 No such user",
    )));
    let env = Env::new(&server);
    let r = run(env.sub(&[
        "send",
        "--status",
        "failure",
        "--subject",
        "s",
        "--to",
        TO,
        "--body",
        "b",
    ]));
    r.assert_code(65);
    // rsmtp's words, msmtp's shape: the refusal, then the server's own reply on a
    // `server message:` line.
    let lines: Vec<&str> = r.stderr.trim_end().lines().collect();
    assert!(
        lines.len() == 2 && lines.iter().all(|l| l.starts_with("backup-alert: ")),
        "{}",
        r.stderr
    );
    assert!(
        lines[1].starts_with("backup-alert: server message: 550 5.1.1 No such user"),
        "{}",
        r.stderr
    );
}

/// Send an alert through an msmtprc whose relay is down (plus `extra` lines), and
/// return how backup-alert ended and how many entries its queue then holds.
/// (queue_dir is set only so a test run as root does not touch /var/spool/rsmtp.)
fn alert_with_relay_down(extra: &str) -> (Run, usize) {
    let env = Env::bare();
    let port = rsmtp_testserver::closed_port();
    let queue = env.path("queue");
    std::fs::write(
        &env.rc,
        format!(
            "account default\nhost 127.0.0.1\nport {port}\nauth off\ntls off\nfrom {FROM}\ntimeout 5\nqueue_dir {}\n{extra}",
            queue.display()
        ),
    )
    .unwrap();
    let r = run(env.sub(&[
        "send",
        "--status",
        "failure",
        "--subject",
        "s",
        "--to",
        TO,
        "--body",
        "b",
    ]));
    let entries = std::fs::read_dir(queue.join("queue"))
        .map(|d| d.count())
        .unwrap_or(0);
    (r, entries)
}

#[test]
fn unreachable_server_queues_the_alert_even_without_a_queue_line() {
    // The msmtprc says nothing about a queue (an msmtp file): an alert is still kept
    // on a temporary failure, for the next `rsmtp -q`.
    let (r, entries) = alert_with_relay_down("");
    r.assert_code(0);
    assert!(r.stderr.contains("queued"), "{}", r.stderr);
    assert_eq!(entries, 1, "one alert waiting in the queue");
}

/// Move every time in the flood-control state file (`alerts.state`) `secs` seconds
/// back, as if that much time had passed since the alerts it records.
fn age_flood_state(env: &Env, secs: i64) {
    let path = env.dir.path().join("state").join("alerts.state");
    let text = std::fs::read_to_string(&path).expect("alerts.state");
    let mut aged = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut f: Vec<String> = line.split('\t').map(str::to_string).collect();
            // sent  host  name  status  last_sent  held  held_since
            if f.len() == 7 && f[0] == "sent" {
                for i in [4, 6] {
                    let t: i64 = f[i].parse().expect("a time");
                    if t > 0 {
                        f[i] = (t - secs).to_string();
                    }
                }
                aged += 1;
            }
            f.join("\t")
        })
        .collect();
    assert!(aged > 0, "no sent record in {text}");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write alerts.state");
}

#[test]
fn repeats_are_held_and_counted_then_recovery_goes_out() {
    let server = server();
    let env = Env::new(&server);
    let send = |status: &str| {
        run(env.sub(&[
            "send",
            "--status",
            status,
            "--subject",
            "nightly backup",
            "--name",
            "nightly",
            "--to",
            TO,
            "--body",
            "b",
            "--flood-window",
            "1h",
        ]))
    };
    send("failure").assert_code(0);
    let held = send("failure");
    held.assert_code(0);
    // silent: under cron any output would itself become a mail
    assert_eq!(held.stderr, "");
    send("failure").assert_code(0);
    assert_eq!(server.wait_for_messages(1, WAIT).len(), 1);
    // Two hours pass, past the window counted from the first alert: the state file
    // says the first alert went out then, instead of the test sleeping through it.
    age_flood_state(&env, 2 * 3600);
    send("failure").assert_code(0);
    let msgs = server.wait_for_messages(2, WAIT);
    assert_eq!(msgs.len(), 2);
    let text = text_of(&msgs[1]);
    assert!(
        text.contains("This alert was repeated 2 times since ")
            && text.contains("this is the first one sent since."),
        "{text}"
    );
    // a recovery is sent at once, inside the window
    send("success").assert_code(0);
    let msgs = server.wait_for_messages(3, WAIT);
    assert_eq!(msgs.len(), 3);
    let text = text_of(&msgs[2]);
    assert!(text.contains("Recovered"), "{text}");
}

#[test]
fn attachment_header_check_for_html_part() {
    // The HTML alternative is declared as text/html with a charset.
    let server = server();
    let env = Env::new(&server);
    run(env.sub(&[
        "send",
        "--status",
        "restore",
        "--subject",
        "Restauration Réussie",
        "--to",
        TO,
        "--body",
        "<script>x</script>",
    ]))
    .assert_code(0);
    let msg = one_message(&server);
    let parsed = parse(&msg);
    let html_part = parsed
        .parts
        .iter()
        .find(|p| {
            p.content_type()
                .is_some_and(|c| c.subtype() == Some("html"))
        })
        .expect("an HTML part");
    assert!(html_part
        .content_type()
        .unwrap()
        .attribute("charset")
        .is_some_and(|c| c.eq_ignore_ascii_case("utf-8")));
    let html = parsed.body_html(0).unwrap();
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;"));
}

#[test]
fn relay_down_with_queue_fallback_is_queued_not_lost() {
    let (r, entries) = alert_with_relay_down("queue fallback\n");
    r.assert_code(0);
    assert!(r.stderr.contains("queued"), "{}", r.stderr);
    assert_eq!(entries, 1, "one alert waiting in the queue");
}
