//! 7. The msmtp log line.

use super::*;

/// `logfile_time_format none` would hide the stamp; keep msmtp's default and strip it.
fn log_fields(line: &str) -> &str {
    let at = line
        .find("host=")
        .unwrap_or_else(|| panic!("no host= in {line:?}"));
    &line[at..]
}

#[test]
fn logfile_gets_msmtps_fields_on_success() {
    let server = plain_server();
    let dir = home_for(&server, "logfile ~/msmtp.log");
    let input = "Subject: log\n\nline one\nline two\n";
    let run = dir
        .rsmtp()
        .args(["a@example.org", "b@example.org"])
        .stdin(input)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    let log = dir.read("msmtp.log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1, "{log}");
    // msmtp counts the size with LF line ends.
    let mailsize = m.size - m.data.iter().filter(|&&b| b == b'\n').count();
    let expected_start = format!(
        "host=127.0.0.1 tls=off auth=off from=sender@example.org \
         recipients=a@example.org,b@example.org mailsize={mailsize} smtpstatus=250 smtpmsg='250 "
    );
    let fields = log_fields(lines[0]);
    assert!(
        fields.starts_with(&expected_start),
        "{fields}\n{expected_start}"
    );
    assert!(fields.ends_with("' exitcode=EX_OK"), "{fields}");
    // A time stamp comes first, as msmtp writes it (`Nov 21 16:23:17`).
    assert!(lines[0].len() > fields.len() + 8, "{}", lines[0]);
}

#[test]
fn log_line_shows_tls_auth_and_user() {
    let server = auth_server("pw-log", &[Mechanism::Plain]);
    let dir = tls_home(
        &server,
        true,
        "auth on\nuser alice\npassword pw-log\nlogfile ~/msmtp.log",
    );
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let log = dir.read("msmtp.log");
    assert!(
        log_fields(&log).starts_with("host=127.0.0.1 tls=on auth=on user=alice from=sender@example.org recipients=x@example.org mailsize="),
        "{log}"
    );
    assert!(!log.contains("pw-log"));
}

#[test]
fn connection_refused_is_logged_as_ex_tempfail_with_errormsg() {
    let port = closed_port();
    let dir = Dir::new();
    dir.write(".msmtprc", plain_config(port, "logfile ~/msmtp.log"));
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(75);
    let log = dir.read("msmtp.log");
    assert_eq!(log.lines().count(), 1, "{log}");
    // Field for field what msmtp 1.8.23 writes for the same failure.
    assert_eq!(
        log_fields(log.trim_end()),
        format!(
            "host=127.0.0.1 tls=off auth=off from=sender@example.org recipients=x@example.org \
             errormsg='cannot connect to 127.0.0.1, port {port}: Connection refused' \
             exitcode=EX_TEMPFAIL"
        )
    );
}

#[test]
fn refused_recipient_is_logged_with_smtpstatus_and_ex_dataerr() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        "nobody@example.org",
        550,
        "5.1.1 No such user",
    )));
    let dir = home_for(&server, "logfile ~/msmtp.log");
    let run = dir.rsmtp().arg("nobody@example.org").stdin(SIMPLE).run();
    run.assert_code(65);
    let log = dir.read("msmtp.log");
    assert!(
        log.contains("smtpstatus=550 smtpmsg='550 5.1.1 No such user'"),
        "{log}"
    );
    assert!(log.trim_end().ends_with("exitcode=EX_DATAERR"), "{log}");
}

#[test]
fn logfile_dash_prints_the_line_on_stdout() {
    let server = plain_server();
    let dir = home_for(&server, "logfile -");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let out = run.stdout();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(log_fields(&out).starts_with("host=127.0.0.1 tls=off auth=off from=sender@example.org recipients=x@example.org mailsize="), "{out}");
    assert!(out.trim_end().ends_with("exitcode=EX_OK"), "{out}");
}

#[test]
fn unwritable_logfile_warns_but_the_message_is_delivered() {
    let server = plain_server();
    let dir = home_for(&server, "logfile ~/not-a-dir/msmtp.log");
    // A regular file where a directory should be: unwritable even for root.
    dir.write("not-a-dir", "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    only_message(&server, &run);
    let err = run.stderr();
    assert!(
        err.contains("cannot log to") && err.contains("not-a-dir/msmtp.log"),
        "{err}"
    );
    assert!(
        err.contains("exitcode=EX_OK"),
        "the lost line is shown: {err}"
    );
}
