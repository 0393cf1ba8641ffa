//! 2. -t, header rewriting and account selection.

use super::*;

const T_INPUT: &str = "From: Alice <alice@example.org>\n\
To: \"Doe, John\" <john@example.org>, jane@example.org\n\
To: second@example.org\n\
Cc: Team: a@example.org, b@example.org;\n\
Cc: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@example.org>\n\
Bcc: hidden@example.org,\n  hidden2@example.org\n\
Subject: -t test\n\
BCC: Hidden3 <hidden3@example.org>\n\
\n\
Bcc: this line is body, not a header\n";

#[test]
fn t_collects_to_cc_bcc_from_every_header_group_and_quoted_names() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-t", "extra@example.org"])
        .stdin(T_INPUT)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    // msmtp's order: command-line recipients first, then the header addresses in the
    // order they appear.
    assert_eq!(
        rcpt_addresses(&m),
        [
            "extra@example.org",
            "john@example.org",
            "jane@example.org",
            "second@example.org",
            "a@example.org",
            "b@example.org",
            "joerg@example.org",
            "hidden@example.org",
            "hidden2@example.org",
            "hidden3@example.org",
        ]
    );
}

#[test]
fn t_removes_bcc_headers_from_the_bytes_but_keeps_everything_else() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir.rsmtp().args(["-t"]).stdin(T_INPUT).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    let headers = m.headers();
    assert!(!headers.to_ascii_lowercase().contains("bcc"), "{headers}");
    assert!(!m.data_str().contains("hidden@") && !m.data_str().contains("hidden3@"));
    // The folded continuation of the removed Bcc went with it.
    assert!(!m.data_str().contains("hidden2@"), "{}", m.data_str());
    // Everything else arrived as written, in order, after the added Date/Message-ID.
    let kept = "From: Alice <alice@example.org>\r\n\
To: \"Doe, John\" <john@example.org>, jane@example.org\r\n\
To: second@example.org\r\n\
Cc: Team: a@example.org, b@example.org;\r\n\
Cc: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@example.org>\r\n\
Subject: -t test\r\n\
\r\n\
Bcc: this line is body, not a header\r\n";
    assert!(m.data_str().ends_with(kept), "{}", m.data_str());
    // The Bcc recipients still got their RCPT.
    assert!(m.recipients().contains(&"hidden2@example.org"));
}

#[test]
fn from_date_and_message_id_are_added_when_missing() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(header_count(&m, "From"), 1);
    assert_eq!(header_count(&m, "Date"), 1);
    assert_eq!(header_count(&m, "Message-ID"), 1);
    assert_eq!(m.header("From").as_deref(), Some("sender@example.org"));
    assert_rfc5322_date(&m.header("Date").unwrap());
    let id = m.header("Message-ID").unwrap();
    assert!(id.starts_with('<') && id.ends_with("@example.org>"), "{id}");
    assert!(m
        .data_str()
        .ends_with("Subject: hello\r\n\r\nhello world\r\n"));
}

#[test]
fn existing_from_date_and_message_id_pass_byte_for_byte() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "From: \"Ops Team\" <ops@example.net>\nDate: Mon, 1 Jan 2024 00:00:00 +0100\n\
                 Message-ID: <abc.123@ops.example.net>\nTo: x@example.org\nSubject: exact\n\nbody\n";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.data, crlf(input));
}

#[test]
fn read_envelope_from_takes_the_from_header_address() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "From: \"Smith, Alice\" <alice@example.net>\nTo: x@example.org\nSubject: s\n\nb\n";
    let run = dir
        .rsmtp()
        .args(["--read-envelope-from", "-t"])
        .stdin(input)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.mail_from, "alice@example.net");
    assert_eq!(
        m.header("From").as_deref(),
        Some("\"Smith, Alice\" <alice@example.net>")
    );
}

#[test]
fn read_envelope_from_without_a_from_header_exits_78_like_msmtp() {
    // msmtp 1.8.23: "envelope-from address is missing", EX_CONFIG (78).
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["--read-envelope-from", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(78);
    assert!(run.stderr().contains("no From header"), "{}", run.stderr());
    assert_eq!(server.connections(), 0);
}

#[test]
fn f_is_ignored_when_allow_from_override_is_off() {
    let server = plain_server();
    let dir = home_for(&server, "allow_from_override off");
    let run = dir
        .rsmtp()
        .args(["-f", "intruder@example.net", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.mail_from, "sender@example.org");
    assert_eq!(m.header("From").as_deref(), Some("sender@example.org"));
}

/// Two servers, two accounts: `default` on `a`, `ops` (from ops@example.net) on `b`.
fn two_accounts(a: &TestServer, b: &TestServer) -> Dir {
    let dir = Dir::new();
    dir.write(
        ".msmtprc",
        format!(
            "defaults\nauth off\ntls off\nhost 127.0.0.1\n\n\
             account main\nport {}\nfrom sender@example.org\n\n\
             account ops\nport {}\nfrom ops@example.net\n\n\
             account default : main\n",
            a.port(),
            b.port()
        ),
    );
    dir
}

#[test]
fn f_matching_another_accounts_from_selects_that_account() {
    let (a, b) = (plain_server(), plain_server());
    let dir = two_accounts(&a, &b);
    let run = dir
        .rsmtp()
        .args(["-f", "ops@example.net", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    let m = only_message(&b, &run);
    assert_eq!(m.mail_from, "ops@example.net");
    assert_eq!(a.connections(), 0, "the default account's server was used");
}

#[test]
fn dash_a_selects_the_named_account() {
    let (a, b) = (plain_server(), plain_server());
    let dir = two_accounts(&a, &b);
    let run = dir
        .rsmtp()
        .args(["-a", "ops", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    let m = only_message(&b, &run);
    assert_eq!(m.mail_from, "ops@example.net");
    assert_eq!(a.connections(), 0);
    // And without -a or -f the default account goes to the other server.
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert_eq!(only_message(&a, &run).mail_from, "sender@example.org");
}
