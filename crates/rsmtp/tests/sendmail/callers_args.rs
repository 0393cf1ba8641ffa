//! 1. The argument sets real callers use.

use super::*;

#[test]
fn php_mail_t_i_sends_to_the_header_recipients_from_the_account_address() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "To: customer@example.net\nSubject: Your order\nX-PHP-Originating-Script: 33:order.php\n\nThanks!\n";
    let run = dir.rsmtp().args(["-t", "-i"]).stdin(input).run();
    run.assert_code(0);
    assert_eq!(run.stderr(), "");
    let m = only_message(&server, &run);
    assert_eq!(m.mail_from, "sender@example.org");
    assert_eq!(rcpt_addresses(&m), ["customer@example.net"]);
    assert_eq!(m.header("From").as_deref(), Some("sender@example.org"));
    assert_eq!(m.header("To").as_deref(), Some("customer@example.net"));
    assert!(
        m.data_str().ends_with("\r\n\r\nThanks!\r\n"),
        "{}",
        m.data_str()
    );
}

#[test]
fn cronie_arguments_send_from_root_to_the_aliased_root_address() {
    let server = plain_server();
    let dir = home_for(&server, "aliases ~/aliases");
    dir.write("aliases", "# local users\nroot: admin@example.org\n");
    // What cronie writes on the mailer's stdin.
    let input = "From: \"(Cron Daemon)\" <root>\nTo: root\nSubject: Cron <root@web1> /usr/local/bin/backup\n\
                 MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nAuto-Submitted: auto-generated\n\
                 Precedence: bulk\nX-Cron-Env: <SHELL=/bin/sh>\n\nbackup: 3 files copied\n";
    let run = dir
        .rsmtp()
        .args([
            "-FCronDaemon",
            "-i",
            "-odi",
            "-oem",
            "-oi",
            "-t",
            "-f",
            "root",
        ])
        .stdin(input)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.mail_from, "root");
    assert_eq!(rcpt_addresses(&m), ["admin@example.org"]);
    // The caller's From and To stay as written; Date and Message-ID are added.
    assert_eq!(
        m.header("From").as_deref(),
        Some("\"(Cron Daemon)\" <root>")
    );
    assert_eq!(m.header("To").as_deref(), Some("root"));
    assert_eq!(header_count(&m, "From"), 1);
    assert_rfc5322_date(&m.header("Date").expect("Date added"));
    assert!(m.header("Message-ID").is_some(), "{}", m.headers());
    assert!(m.data_str().ends_with("\r\n\r\nbackup: 3 files copied\r\n"));
}

#[test]
fn debian_cron_arguments_deliver_to_aliased_root_with_envelope_from_the_account() {
    let server = plain_server();
    let dir = home_for(&server, "aliases ~/aliases");
    dir.write("aliases", "root: admin@example.org, ops@example.org\n");
    let input =
        "From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@db1> run-parts /etc/cron.daily\n\
                 Content-Type: text/plain; charset=UTF-8\n\nlogrotate: ok\n";
    let run = dir
        .rsmtp()
        .args(["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"])
        .stdin(input)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.mail_from, "sender@example.org");
    assert_eq!(rcpt_addresses(&m), ["admin@example.org", "ops@example.org"]);
    assert_eq!(m.header("From").as_deref(), Some("root (Cron Daemon)"));
}

#[test]
fn systemd_cron_arguments_with_separate_b_value_use_the_default_alias() {
    let server = plain_server();
    let dir = home_for(&server, "aliases ~/aliases");
    dir.write(
        "aliases",
        "root: admin@example.org\ndefault: catchall@example.org\n",
    );
    let input = "Subject: [db1] job cron-daily failed\n\nexit status 1\n";
    let run = dir
        .rsmtp()
        .args(["-i", "-B", "8BITMIME", "user"])
        .stdin(input)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["catchall@example.org"]);
    // `8BITMIME` was the -B value, not a recipient.
    assert_eq!(m.rcpt_to.len(), 1);
}

#[test]
fn busybox_glued_ti_reads_recipients_from_the_header() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "To: ops@example.org\nSubject: disk full\n\n/var is 99% full\n";
    let run = dir.rsmtp().arg("-ti").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["ops@example.org"]);
    assert_eq!(m.mail_from, "sender@example.org");
}

#[test]
fn mdadm_glued_f_sets_the_envelope_sender() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "From: mdadm monitoring <raid@host>\nTo: admin@example.org\nSubject: Fail event on /dev/md0:host\n\n\
                 A Fail event had been detected on md device /dev/md0.\n";
    let run = dir.rsmtp().args(["-t", "-fraid@host"]).stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.mail_from, "raid@host");
    assert_eq!(rcpt_addresses(&m), ["admin@example.org"]);
    assert_eq!(
        m.header("From").as_deref(),
        Some("mdadm monitoring <raid@host>")
    );
}

#[test]
fn s_nail_double_dash_then_recipient() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "Date: Sat, 21 Nov 2026 10:00:00 +0000\nTo: bob@example.net\nSubject: hi\nMessage-ID: <1@host>\n\nhi bob\n";
    let run = dir
        .rsmtp()
        .args(["-i", "--", "bob@example.net"])
        .stdin(input)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["bob@example.net"]);
}

#[test]
fn anacron_arguments_add_a_from_header_with_the_full_name() {
    let server = plain_server();
    let dir = home_for(&server, "aliases ~/aliases");
    dir.write("aliases", "root: admin@example.org\n");
    let input =
        "To: root\nSubject: Anacron job 'cron.daily' on host\n\n/etc/cron.daily/man-db: ok\n";
    let run = dir
        .rsmtp()
        .args(["-FAnacron", "-odi", "root"])
        .stdin(input)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["admin@example.org"]);
    assert_eq!(
        m.header("From").as_deref(),
        Some("Anacron <sender@example.org>")
    );
    // msmtp puts the added headers in front of the caller's.
    assert!(m
        .data_str()
        .starts_with("From: Anacron <sender@example.org>\r\n"));
}

#[test]
fn atd_local_recipient_without_aliases_is_sent_as_is() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "Subject: Output from your job 42\nTo: alice\n\nhello from at\n";
    let run = dir.rsmtp().args(["-i", "alice"]).stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["alice"]);
    assert_eq!(m.header("From").as_deref(), Some("sender@example.org"));
}

#[test]
fn mailutils_oi_t_reads_recipients() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "To: a@example.org\nCc: b@example.org\nSubject: report\n\nok\n";
    let run = dir.rsmtp().args(["-oi", "-t"]).stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(
        sorted(rcpt_addresses(&m)),
        strings(&["a@example.org", "b@example.org"])
    );
}

#[test]
fn full_name_with_comma_is_quoted_and_non_ascii_name_is_encoded() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-F", "Doe, John", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    let run = dir
        .rsmtp()
        .args(["-F", "Jörg Müller", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    let messages = server.wait_for_messages(2, WAIT);
    assert_eq!(messages.len(), 2);
    assert_eq!(
        messages[0].header("From").as_deref(),
        Some("\"Doe, John\" <sender@example.org>")
    );
    let encoded = messages[1].header("From").expect("From added");
    assert!(
        encoded.starts_with("=?UTF-8?") || encoded.starts_with("=?utf-8?"),
        "{encoded}"
    );
    assert!(encoded.ends_with(" <sender@example.org>"), "{encoded}");
    assert!(
        messages[1].headers().is_ascii(),
        "{}",
        messages[1].headers()
    );
}

#[test]
fn from_full_name_in_the_config_is_used_when_from_is_missing() {
    let server = plain_server();
    let dir = home_for(&server, "from_full_name Backup Robot");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(
        m.header("From").as_deref(),
        Some("Backup Robot <sender@example.org>")
    );
}
