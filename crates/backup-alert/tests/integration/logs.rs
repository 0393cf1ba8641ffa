//! The logs people have, read by `stats` and `report`: msmtp's lines with the month in
//! French, Japanese, German and Spanish as glibc writes it (`date` in that locale is the
//! oracle), msmtp's lines through syslog (classic and RFC 3339), Postfix's mail.log; and
//! a file that is no log gets a note, never "sent 0, failed 0".

use std::process::Command;

use rsmtp_testserver::peer::require;

use crate::*;

const FIELDS: &str =
    "host=smtp.example.com tls=on auth=on from=me@x.example recipients=me@x.example";

/// `date` in `locale`, `ago` before now, in `format`.
fn date(locale: &str, ago: &str, format: &str) -> String {
    let out = Command::new("date")
        .env_clear()
        .env("LC_ALL", locale)
        .args(["-d", &format!("now - {ago}"), &format!("+{format}")])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout)
        .trim_end_matches('\n')
        .to_string()
}

fn installed(locale: &str) -> bool {
    std::path::Path::new("/usr/lib/locale")
        .join(locale.replace("UTF-8", "utf8"))
        .exists()
}

fn stats(env: &Env, log: &std::path::Path, extra: &[&str]) -> Run {
    let mut c = env.cmd();
    c.args(["stats", "--log", log.to_str().unwrap()])
        .args(extra);
    run(c)
}

#[test]
fn localised_month_names_are_read() {
    let locales = ["fr_FR.UTF-8", "ja_JP.UTF-8", "de_DE.UTF-8", "es_ES.UTF-8"];
    if !require(
        locales.iter().all(|l| installed(l)),
        "locales fr_FR, ja_JP, de_DE, es_ES (Debian's locales-all)",
    ) {
        return;
    }
    let env = Env::bare();
    let log = env.path("msmtp.log");
    let mut text = String::new();
    for l in locales {
        // msmtp's default logfile_time_format, in that locale: inside and outside 24h
        text.push_str(&format!(
            "{} {FIELDS} exitcode=EX_OK\n",
            date(l, "1 hour", "%b %d %H:%M:%S")
        ));
        text.push_str(&format!(
            "{} {FIELDS} errormsg='Connection refused' exitcode=EX_TEMPFAIL\n",
            date(l, "3 days", "%b %d %H:%M:%S")
        ));
    }
    assert!(text.contains("月"), "{text}");
    std::fs::write(&log, &text).unwrap();
    let r = stats(&env, &log, &["--since", "24h"]);
    r.assert_code(0);
    assert!(
        r.stdout.contains("sent:   4\nfailed: 0\n"),
        "{}\n{text}",
        r.stdout
    );
    assert!(!r.stdout.contains("unreadable time"), "{}", r.stdout);
    let r = stats(&env, &log, &["--since", "7d"]);
    assert!(r.stdout.contains("sent:   4\nfailed: 4\n"), "{}", r.stdout);
}

#[test]
fn msmtp_lines_through_syslog_are_read() {
    let env = Env::bare();
    let log = env.path("mail.log");
    std::fs::write(
        &log,
        format!(
            "{} myhost msmtp: {FIELDS} exitcode=EX_OK\n\
             {} myhost msmtp[812]: {FIELDS} errormsg='Connection refused' exitcode=EX_TEMPFAIL\n\
             {} myhost msmtp: {FIELDS} exitcode=EX_OK\n",
            date("C", "1 hour", "%b %e %H:%M:%S"),
            date("C", "2 hours", "%Y-%m-%dT%H:%M:%S.%6N%:z"),
            date("C", "3 days", "%b %e %H:%M:%S"),
        ),
    )
    .unwrap();
    let r = stats(&env, &log, &["--since", "24h"]);
    r.assert_code(0);
    assert!(r.stdout.contains("sent:   1\nfailed: 1\n"), "{}", r.stdout);
    assert!(!r.stdout.contains("unreadable time"), "{}", r.stdout);
}

/// Seed 003's Postfix lines: sent, deferred, bounced, and a reject before queueing.
#[test]
fn postfix_mail_log_is_counted() {
    let env = Env::bare();
    let log = env.path("mail.log");
    let t = |ago: &str| date("C", ago, "%b %e %H:%M:%S");
    std::fs::write(
        &log,
        format!(
            "{a} mail postfix/smtpd[1234]: ABC123DEF: client=example.com[1.2.3.4]\n\
             {a} mail postfix/qmgr[1236]: ABC123DEF: from=<user@sender.com>, size=1234, nrcpt=1 (queue active)\n\
             {a} mail postfix/smtp[1237]: ABC123DEF: to=<user@example.com>, relay=mail.example.com[1.2.3.4]:25, delay=0.52, delays=0.01/0/0.02/0.49, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as DEF456)\n\
             {a} mail postfix/qmgr[1236]: ABC123DEF: removed\n\
             {b} mail postfix/smtp[1238]: BCD234: to=<user@example.com>, relay=none, delay=5.2, delays=0.01/5/0.02/0.17, dsn=4.4.1, status=deferred (connect to mail.example.com[1.2.3.4]:25: Connection timed out)\n\
             {b} mail postfix/smtp[1239]: CDE345: to=<invalid@nonexistent.com>, relay=mail.nonexistent.com[1.2.3.4]:25, delay=2.5, delays=0.01/0/0.5/2, dsn=5.1.1, status=bounced (host mail.nonexistent.com[1.2.3.4] said: 550 5.1.1 <invalid@nonexistent.com>: Recipient address rejected: User unknown)\n\
             {b} mail postfix/smtpd[1234]: NOQUEUE: reject: RCPT from unknown[1.2.3.4]: 554 5.7.1 <spammer@spam.com>: Sender address rejected: Access denied; from=<spammer@spam.com> to=<user@example.com> proto=ESMTP helo=<spam.com>\n",
            a = t("2 hours"),
            b = t("1 hour"),
        ),
    )
    .unwrap();
    let r = stats(&env, &log, &["--since", "24h"]);
    r.assert_code(0);
    assert!(r.stdout.contains("sent:   1\nfailed: 3\n"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("status=bounced dsn=5.1.1 (host mail.nonexistent.com"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("status=rejected (554 5.7.1"),
        "{}",
        r.stdout
    );
    // the metrics count the deferred one as queued
    let r = stats(&env, &log, &["--prometheus", "-"]);
    assert!(
        r.stdout.contains(&format!(
            "backup_alert_mail_messages{{log=\"{}\",result=\"queued\"}} 1",
            log.display()
        )),
        "{}",
        r.stdout
    );
}

/// A file that is no mail log: a note and exit 65 from stats, "not counted" in the
/// digest, no mail counts in the metrics — never a confident "sent 0, failed 0".
#[test]
fn a_file_that_is_no_log_gets_a_note() {
    let env = Env::bare();
    let log = env.path("not-a-log.txt");
    std::fs::write(
        &log,
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\n",
    )
    .unwrap();
    let r = stats(&env, &log, &[]);
    r.assert_code(65);
    assert!(!r.stdout.contains("sent:"), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("is not an msmtp, rsmtp or Postfix log: none of its 2 lines could be read"),
        "{}",
        r.stderr
    );
    let mut c = env.cmd();
    c.args(["report", "--print", "--log", log.to_str().unwrap()]);
    let r = run(c);
    r.assert_code(0);
    assert!(
        r.stdout
            .contains("not counted (not an msmtp, rsmtp or Postfix log"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("0 sent"), "{}", r.stdout);
    let r = stats(&env, &log, &["--prometheus", "-"]);
    assert!(
        !r.stdout.contains("backup_alert_mail_messages"),
        "{}",
        r.stdout
    );
}
