//! The `mail -s` drop-in (flags, attachment, -E, argv[0] = mail) and sendmail mode.

use mail_parser::MimeHeaders;

use crate::*;

#[test]
fn mail_line_with_cc_bcc_header_and_attachment() {
    let server = server();
    let env = Env::new(&server);
    let report = env.path("report.txt");
    std::fs::write(&report, "787 fichiers sauvegardés\n").unwrap();
    let mut c = env.cmd();
    c.args([
        "-s",
        "Backup OK",
        "-c",
        "cc@example.com",
        "-b",
        "hidden@example.com",
        "-r",
        "sender@example.com",
        "-a",
        "X-Backup-Job: nightly",
        "-A",
        report.to_str().unwrap(),
        TO,
    ]);
    run_with_input(c, "✅ Backup successful\n".as_bytes()).assert_code(0);
    let msg = one_message(&server);
    assert_eq!(msg.mail_from, "sender@example.com");
    assert_eq!(
        msg.recipients(),
        vec![TO, "cc@example.com", "hidden@example.com"]
    );
    assert!(!msg.data_str().contains("hidden@example.com"), "Bcc leaked");
    assert_eq!(msg.header("X-Backup-Job").as_deref(), Some("nightly"));
    let parsed = parse(&msg);
    assert_eq!(parsed.subject(), Some("Backup OK"));
    assert!(parsed
        .content_type()
        .is_some_and(|ct| ct.subtype() == Some("mixed")));
    assert!(norm(parsed.body_text(0).unwrap()).contains("✅ Backup successful"));
    let att = parsed.attachment(0).expect("attachment");
    assert_eq!(att.attachment_name(), Some("report.txt"));
    assert_eq!(att.contents(), "787 fichiers sauvegardés\n".as_bytes());
}

#[test]
fn a_display_name_with_a_comma_is_one_recipient() {
    let server = server();
    let env = Env::new(&server);
    let mut c = env.cmd();
    c.args([
        "-s",
        "Backup OK",
        "-c",
        r#""Doe, John" <john@example.org>, ops@example.org"#,
        TO,
    ]);
    run_with_input(c, b"ok\n").assert_code(0);
    let msg = one_message(&server);
    assert_eq!(
        msg.recipients(),
        vec![TO, "john@example.org", "ops@example.org"]
    );
    let parsed = parse(&msg);
    let cc: Vec<_> = parsed
        .cc()
        .map(|a| {
            a.iter()
                .filter_map(|m| m.name().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(cc, vec!["Doe, John".to_string()]);
}

#[test]
fn empty_body_with_e_sends_nothing() {
    let server = server();
    let env = Env::new(&server);
    let mut c = env.cmd();
    c.args(["-E", "-s", "cron output", TO]);
    // mail has exited: anything it sent has been received.
    run_with_input(c, b"").assert_code(0);
    assert_eq!(server.connections(), 0);
}

#[test]
fn invoked_as_mail() {
    let server = server();
    let env = Env::new(&server);
    let link = env.path("mail");
    std::os::unix::fs::symlink(BIN, &link).unwrap();
    let mut c = env.cmd_as(&link);
    c.args(["-s", "ALERT: Backup failed", TO]);
    run_with_input(c, "⚠️ No recent backup found!\n".as_bytes()).assert_code(0);
    let msg = one_message(&server);
    let parsed = parse(&msg);
    assert_eq!(parsed.subject(), Some("ALERT: Backup failed"));
    assert!(norm(parsed.body_text(0).unwrap()).contains("No recent backup found!"));
}

#[test]
fn mail_header_injection_is_refused() {
    let server = server();
    let env = Env::new(&server);
    let mut c = env.cmd();
    c.args(["-s", "S", "-a", "X-A: 1\nBcc: victim@evil.example", TO]);
    let r = run_with_input(c, b"body\n");
    r.assert_code(64);
    assert!(r.stderr.starts_with("backup-alert: header"), "{}", r.stderr);
    let mut c = env.cmd();
    c.args(["-s", "S\nBcc: victim@evil.example", TO]);
    run_with_input(c, b"body\n").assert_code(0);
    let msg = one_message(&server);
    assert_eq!(msg.recipients(), vec![TO]);
    assert!(!header_names(&msg).contains(&"bcc".to_string()));
}

#[test]
fn mail_without_recipient_is_64() {
    let server = server();
    let env = Env::new(&server);
    let mut c = env.cmd();
    c.args(["-s", "S"]);
    run_with_input(c, b"body\n").assert_code(64);
}

#[test]
fn sendmail_flags_go_to_rsmtp() {
    let server = server();
    let env = Env::new(&server);
    let mut c = env.cmd();
    c.args(["-t", "-i"]);
    let message = format!("To: {TO}\nSubject: from PHP\n\nhello from mail()\n");
    run_with_input(c, message.as_bytes()).assert_code(0);
    let msg = one_message(&server);
    assert_eq!(msg.recipients(), vec![TO]);
    assert_eq!(msg.header("Subject").as_deref(), Some("from PHP"));
}

/// backup-alert's sendmail mode hands the command line to rsmtp unchanged: the
/// repeated options of PHPMailer's `isSendmail()` work there too, last one winning.
#[test]
fn sendmail_mode_accepts_repeated_options() {
    let server = server();
    let env = Env::new(&server);
    let link = env.path("sendmail");
    std::os::unix::fs::symlink(BIN, &link).unwrap();
    let mut c = env.cmd_as(&link);
    c.args(["-t", "-i", "-oi", "-fpm@example.com", "-t"]);
    run_with_input(c, b"To: z@example.net\nSubject: s\n\nbody\n").assert_code(0);
    assert_eq!(one_message(&server).mail_from, "pm@example.com");
}
