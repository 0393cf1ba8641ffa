//! The `rsmtp` binary in sendmail mode, end to end against the in-repo test server:
//! what the callers that pipe mail into `/usr/sbin/sendmail` (cron, PHP, mdadm, atd,
//! busybox, s-nail…) would notice — the bytes and envelope the server received, the
//! exit code, the message on stderr and the msmtp log line.
//!
//! Every test runs the built binary with HOME in a scratch directory and
//! `RSMTP_SYSCONFIG` pointing nowhere, so no real msmtprc is ever read.

use std::time::{Duration, Instant};

use rsmtp_testserver::{
    closed_port, Extensions, Fault, LeafKind, Mechanism, ReceivedMessage, ServerOptions, Step,
    TestServer, Tls,
};

use crate::support::*;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// How long a test waits for the server to record a message rsmtp said it sent.
const WAIT: Duration = Duration::from_secs(5);

/// A plain-text server with the default capabilities (PIPELINING, 8BITMIME).
fn plain_server() -> TestServer {
    TestServer::start(ServerOptions::new())
}

/// A scratch HOME whose `~/.msmtprc` points at `server` in plain text.
fn home_for(server: &TestServer, extra: &str) -> Dir {
    let dir = Dir::new();
    dir.write(".msmtprc", plain_config(server.port(), extra));
    dir
}

/// `~/.msmtprc` for a TLS server with the test CA as trust file.
fn tls_home(server: &TestServer, starttls: bool, extra: &str) -> Dir {
    let dir = Dir::new();
    let starttls = if starttls { "on" } else { "off" };
    dir.write(
        ".msmtprc",
        format!(
            "defaults\ntls on\ntls_starttls {starttls}\ntls_trust_file {ca}\n\n\
             account default\nhost 127.0.0.1\nport {port}\nfrom sender@example.org\n{extra}\n",
            ca = server.ca().ca_pem_path().display(),
            port = server.port(),
        ),
    );
    dir
}

/// The one message the server accepted (fails the test if there is not exactly one).
#[track_caller]
fn only_message(server: &TestServer, run: &Run) -> ReceivedMessage {
    let mut messages = server.wait_for_messages(1, WAIT);
    assert_eq!(
        messages.len(),
        1,
        "expected exactly one delivered message\n--- stderr\n{}\n--- transcript\n{}",
        run.stderr(),
        server.transcript()
    );
    messages.remove(0)
}

/// Nothing was accepted, and no body was even half-received as a message.
#[track_caller]
fn assert_nothing_delivered(server: &TestServer) {
    server.wait_for_idle(Duration::from_secs(2));
    assert!(
        server.messages().is_empty(),
        "no message may be delivered\n{}",
        server.transcript()
    );
}

/// Every RCPT TO address, in order, accepted or not.
fn rcpt_addresses(m: &ReceivedMessage) -> Vec<String> {
    m.rcpt_to.iter().map(|r| r.address.clone()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// LF text → the CRLF bytes a server must see.
fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

/// How many header fields with this name the message has.
fn header_count(m: &ReceivedMessage, name: &str) -> usize {
    m.headers()
        .split("\r\n")
        .filter(|l| {
            l.split_once(':')
                .is_some_and(|(f, _)| f.eq_ignore_ascii_case(name))
        })
        .count()
}

/// `Date: Sat, 21 Nov 2026 16:23:17 +0000` — RFC 5322 §3.3 shape, checked loosely.
#[track_caller]
fn assert_rfc5322_date(value: &str) {
    let parts: Vec<&str> = value.split_whitespace().collect();
    assert_eq!(parts.len(), 6, "Date: {value}");
    assert!(parts[0].ends_with(','), "Date: {value}");
    assert!(parts[1].parse::<u8>().is_ok(), "Date: {value}");
    assert!(
        parts[3].len() == 4 && parts[3].parse::<u16>().is_ok(),
        "Date: {value}"
    );
    assert_eq!(parts[4].len(), 8, "Date: {value}");
    assert!(
        parts[5].starts_with(['+', '-']) && parts[5].len() == 5,
        "Date: {value}"
    );
}

const SIMPLE: &str = "Subject: hello\n\nhello world\n";

// ---------------------------------------------------------------------------------------
// 1. The argument sets real callers use
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// 2. -t, header rewriting and account selection
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// 3. The body passes unchanged
// ---------------------------------------------------------------------------------------

#[test]
fn eight_bit_leading_dots_and_a_10000_char_line_arrive_unchanged() {
    let server = TestServer::start(ServerOptions::new().keep_raw_data());
    let dir = home_for(&server, "");
    let long_line = "x".repeat(10_000);
    let input = format!(
        "From: a@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@a>\nSubject: body\n\n\
         Grüße, 日本語, caf\u{e9}\n.\n..two dots\n.leading dot\n{long_line}\n. \nlast\n"
    );
    let mut bytes = input.clone().into_bytes();
    // A raw Latin-1 byte (not UTF-8) must survive too.
    bytes.extend_from_slice(b"latin1: \xe9t\xe9\n");
    let run = dir.rsmtp().arg("x@example.org").stdin(&bytes).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    let mut expected = crlf(&input);
    expected.extend_from_slice(b"latin1: \xe9t\xe9\r\n");
    assert_eq!(m.data.len(), expected.len());
    assert!(m.data == expected, "body changed in transit");
    // On the wire the dots were stuffed (RFC 5321 §4.5.2) and the server unstuffed them.
    let raw = String::from_utf8_lossy(&m.raw_data);
    assert!(
        raw.contains("\r\n..\r\n...two dots\r\n..leading dot\r\n"),
        "{raw}"
    );
    // Declared 8BITMIME since the server offers it.
    assert!(
        m.mail_params
            .iter()
            .any(|p| p.eq_ignore_ascii_case("BODY=8BITMIME")),
        "{:?}",
        m.mail_params
    );
}

#[test]
fn lf_crlf_and_missing_final_newline_are_normalised_to_crlf() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = b"From: a@example.org\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@a>\r\nSubject: mixed\n\r\nline1\r\nline2\nline3";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(
        m.data_str(),
        "From: a@example.org\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@a>\r\nSubject: mixed\r\n\r\nline1\r\nline2\r\nline3\r\n"
    );
    assert!(!m.bare_lf);
}

#[test]
fn nul_bytes_in_the_body_are_passed_through() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = b"From: a@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@a>\n\nbefore\0after\n\0\n";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.data, crlf(&String::from_utf8_lossy(input)));
}

#[test]
#[allow(
    clippy::print_stderr,
    reason = "the measured peak RSS is reported next to the test result"
)]
fn hundred_megabyte_message_is_streamed_with_small_memory() {
    const LINE: &[u8] =
        b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstu\n";
    const BLOCK_LINES: usize = 1024;
    const BLOCKS: usize = 100 * 1024 * 1024 / (LINE.len() * BLOCK_LINES) + 1;
    let header = b"From: a@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <big@a>\nSubject: big\n\n";
    let mut opts = ServerOptions::new();
    opts.store_bodies = false;
    let server = TestServer::start(opts);
    let dir = home_for(&server, "");
    let fed = dir.rsmtp().arg("x@example.org").run_fed(move |w| {
        w.write_all(header)?;
        let block = LINE.repeat(BLOCK_LINES);
        for _ in 0..BLOCKS {
            w.write_all(&block)?;
        }
        Ok(())
    });
    fed.run.assert_code(0);
    let m = only_message(&server, &fed.run);
    // Every LF became CRLF: one extra byte per line (5 header lines, then the body).
    let lines = BLOCKS * BLOCK_LINES;
    let expected = header.len() + 5 + lines * (LINE.len() + 1);
    assert!(expected > 100 * 1024 * 1024);
    assert_eq!(m.size, expected);
    eprintln!("100 MB message: rsmtp peak RSS {} KiB", fed.peak_rss_kib);
    assert!(fed.peak_rss_kib > 0, "could not read VmHWM from /proc");
    assert!(
        fed.peak_rss_kib < 64 * 1024,
        "peak RSS {} KiB for a 100 MB message",
        fed.peak_rss_kib
    );
}

// ---------------------------------------------------------------------------------------
// 4. Bad input and bad configuration
// ---------------------------------------------------------------------------------------

#[test]
fn no_recipients_exits_64_without_connecting() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("-t").stdin(SIMPLE).run();
    run.assert_code(64);
    assert!(
        run.stderr().contains("no recipients found"),
        "{}",
        run.stderr()
    );
    assert_eq!(server.connections(), 0);
}

#[test]
fn invalid_recipient_address_exits_65_and_names_it() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("bad address@@x").stdin(SIMPLE).run();
    run.assert_code(65);
    assert!(
        run.stderr().contains("invalid address 'bad address@@x'"),
        "{}",
        run.stderr()
    );
    assert_eq!(server.connections(), 0);
}

#[test]
fn invalid_address_in_a_to_header_exits_65() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .arg("-t")
        .stdin("To: <a@b@c>\nSubject: s\n\nb\n")
        .run();
    assert!(
        run.code() == 65,
        "code {} stderr {}",
        run.code(),
        run.stderr()
    );
    assert!(run.stderr().contains("a@b@c"), "{}", run.stderr());
    assert_eq!(server.connections(), 0);
}

#[test]
fn nul_in_the_header_exits_65_and_sends_nothing() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .arg("x@example.org")
        .stdin(b"Subject: a\0b\n\nbody\n")
        .run();
    run.assert_code(65);
    assert!(
        run.stderr()
            .contains("NUL byte in the mail header (line 1)"),
        "{}",
        run.stderr()
    );
    assert_eq!(server.connections(), 0);
}

#[test]
fn unknown_option_exits_64_with_a_one_line_error_and_a_hint() {
    let dir = Dir::new();
    let run = dir
        .rsmtp()
        .args(["--frobnicate", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(64);
    let err = run.stderr();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("rsmtp: ") && lines[0].contains("--frobnicate"),
        "{err}"
    );
    assert_eq!(lines[1], "Try 'rsmtp --help' for more information.");
    assert_eq!(run.stdout(), "");
}

#[test]
fn invalid_option_argument_exits_64_like_msmtp() {
    // msmtp 1.8.23: "invalid argument 99999 for --port", exit 64 (EX_USAGE); a bad
    // value typed on the command line is a usage error, not a configuration one.
    let server = plain_server();
    let dir = home_for(&server, "");
    for args in [
        ["--port=99999", "x@example.org"],
        ["--timeout=abc", "x@example.org"],
        ["--tls=maybe", "x@example.org"],
    ] {
        let run = dir.rsmtp().args(args).stdin(SIMPLE).run();
        run.assert_code(64);
        assert!(
            run.stderr().contains("invalid argument"),
            "{args:?}: {}",
            run.stderr()
        );
    }
    let run = dir
        .rsmtp()
        .args(["--host=127.0.0.1", "--timeout=abc", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(64);
    assert_eq!(server.connections(), 0);
}

#[test]
fn sendmail_h_and_capital_v_take_arguments_and_still_send() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-h", "17", "-V", "envid42", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    assert!(!run.stdout().contains("Usage"), "{}", run.stdout());
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["x@example.org"]);
}

#[test]
fn help_and_version_long_options_print_and_exit_0() {
    let dir = Dir::new();
    let run = dir.rsmtp().arg("--help").run();
    run.assert_code(0);
    assert!(
        run.stdout().contains("--read-envelope-from"),
        "{}",
        run.stdout()
    );
    assert!(run.stdout().contains("-t"), "{}", run.stdout());
    let run = dir.rsmtp().arg("--version").run();
    run.assert_code(0);
    assert!(
        run.stdout().starts_with("rsmtp version "),
        "{}",
        run.stdout()
    );
    assert!(
        run.stdout().contains("no-system-msmtprc"),
        "{}",
        run.stdout()
    );
}

#[test]
fn missing_c_file_exits_74_naming_the_file() {
    let dir = Dir::new();
    let missing = dir.join("does-not-exist.rc");
    let run = dir
        .rsmtp()
        .arg("-C")
        .arg(&missing)
        .arg("x@example.org")
        .stdin(SIMPLE)
        .run();
    // msmtp 1.8.23 exits EX_IOERR here.
    run.assert_code(74);
    assert!(
        run.stderr()
            .contains(&format!("{}: No such file", missing.display())),
        "{}",
        run.stderr()
    );
}

#[test]
fn config_typo_exits_78_naming_file_and_line() {
    let server = plain_server();
    let dir = Dir::new();
    let rc = dir.write(
        "typo.rc",
        format!(
            "account default\nhots 127.0.0.1\nport {}\nfrom a@example.org\n",
            server.port()
        ),
    );
    let run = dir
        .rsmtp()
        .arg("-C")
        .arg(&rc)
        .arg("x@example.org")
        .stdin(SIMPLE)
        .run();
    run.assert_code(78);
    let err = run.stderr();
    assert!(err.contains(&format!("{}:2", rc.display())), "{err}");
    assert!(err.contains("hots"), "{err}");
    assert_eq!(server.connections(), 0);
}

#[test]
fn unknown_account_exits_78_and_names_it() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-a", "nosuch", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(78);
    assert!(run.stderr().contains("nosuch"), "{}", run.stderr());
    assert_eq!(server.connections(), 0);
}

#[test]
fn world_readable_password_file_exits_78_telling_to_chmod_600() {
    use std::os::unix::fs::PermissionsExt;
    const NOBODY: u32 = 65534;
    let server = plain_server();
    let dir = home_for(&server, "auth on\nuser alice\npassword hunter2-pw");
    let rc = dir.join(".msmtprc");
    // The non-root user must be able to reach the binary, HOME and the file: root
    // (CI) gives the file to nobody and runs a copy of rsmtp nobody can execute.
    if !require(is_root(), "root (to run rsmtp as nobody)")
        || require_peer("/usr/bin/setpriv", "setpriv (util-linux)").is_none()
    {
        return;
    }
    let rsmtp = rsmtp_for_nobody(&dir);
    std::os::unix::fs::chown(&rc, Some(NOBODY), Some(NOBODY)).expect("chown to nobody");
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut cmd =
        dir.command("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]);
    cmd = cmd.arg(&rsmtp).arg("x@example.org").stdin(SIMPLE);
    let run = cmd.run();
    run.assert_code(78);
    let err = run.stderr();
    assert!(
        err.contains(&format!("chmod 600 {}", rc.display())),
        "{err}"
    );
    assert!(!err.contains("hunter2-pw"), "{err}");
    assert_eq!(server.connections(), 0);

    // Fixed as told, the same user sends.
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    let server2 = TestServer::start(ServerOptions::new().auth("alice", "hunter2-pw"));
    std::fs::write(
        &rc,
        plain_config(
            server2.port(),
            "auth plain\nuser alice\npassword hunter2-pw",
        ),
    )
    .unwrap();
    let run = dir
        .command("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(&rsmtp)
        .arg("x@example.org")
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    only_message(&server2, &run);
}

#[test]
fn empty_stdin_sends_a_message_with_only_the_added_headers() {
    // msmtp 1.8.23 does the same: From, Date and Message-ID, no body.
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin("").run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.header("From").as_deref(), Some("sender@example.org"));
    assert!(m.header("Date").is_some());
    assert!(!m.bare_lf);
    assert!(m.data_str().ends_with("\r\n"));
}

// ---------------------------------------------------------------------------------------
// 5. TLS and AUTH through the binary
// ---------------------------------------------------------------------------------------

/// The commands the server received on its first connection, verbs only.
fn first_session_verbs(server: &TestServer) -> Vec<String> {
    server.wait_for_idle(Duration::from_secs(3));
    server
        .sessions()
        .first()
        .map(|s| s.verbs())
        .unwrap_or_default()
}

#[test]
fn starttls_with_trust_file_delivers_inside_tls() {
    let server = TestServer::start(ServerOptions::new().tls(Tls::StartTls).require_tls(true));
    let dir = tls_home(&server, true, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert!(m.tls);
    assert_eq!(
        first_session_verbs(&server),
        ["EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "DATA", "QUIT"]
    );
}

#[test]
fn implicit_tls_with_tls_starttls_off_delivers() {
    let server = TestServer::start(ServerOptions::new().tls(Tls::Implicit));
    let dir = tls_home(&server, false, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert!(m.tls);
    assert_eq!(first_session_verbs(&server)[0], "EHLO");
    assert!(!first_session_verbs(&server).contains(&"STARTTLS".to_string()));
}

/// `~/.msmtprc` for STARTTLS with these TLS lines and no trust file.
fn tls_home_without_trust(server: &TestServer, tls_lines: &str) -> Dir {
    let dir = Dir::new();
    dir.write(
        ".msmtprc",
        format!(
            "account default\nhost 127.0.0.1\nport {}\nfrom sender@example.org\ntls on\n{tls_lines}\n",
            server.port()
        ),
    );
    dir
}

#[test]
fn tls_fingerprint_pins_the_server_certificate() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .leaf(LeafKind::SelfSigned),
    );
    let fingerprint = server.ca().leaf(LeafKind::SelfSigned).sha256_fingerprint();
    let dir = tls_home_without_trust(&server, &format!("tls_fingerprint {fingerprint}"));
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert!(only_message(&server, &run).tls);
}

#[test]
fn wrong_tls_fingerprint_is_rejected_and_nothing_is_sent() {
    let server = TestServer::start(ServerOptions::new().tls(Tls::StartTls));
    // The fingerprint of a different certificate.
    let other = server.ca().leaf(LeafKind::Expired).sha256_fingerprint();
    let dir = tls_home_without_trust(&server, &format!("tls_fingerprint {other}"));
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(69);
    assert!(
        run.stderr().to_lowercase().contains("fingerprint"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
    assert!(!first_session_verbs(&server).contains(&"MAIL".to_string()));
}

#[test]
fn tls_certcheck_off_accepts_a_self_signed_certificate() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .leaf(LeafKind::SelfSigned),
    );
    let dir = tls_home_without_trust(&server, "tls_certcheck off");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert!(only_message(&server, &run).tls);
}

#[test]
fn bad_certificates_exit_69_with_the_reason_and_send_nothing() {
    for (leaf, reason) in [
        (
            LeafKind::SelfSigned,
            "the certificate is not signed by a trusted authority",
        ),
        (LeafKind::Expired, "the certificate has expired"),
        (
            LeafKind::WrongHost,
            "the certificate is not valid for the host name \"127.0.0.1\"",
        ),
    ] {
        let server = TestServer::start(ServerOptions::new().tls(Tls::StartTls).leaf(leaf));
        let dir = tls_home(&server, true, "");
        let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
        assert_eq!(run.code(), 69, "{leaf:?}: {}", run.stderr());
        let err = run.stderr();
        assert!(
            err.contains("TLS certificate verification failed for 127.0.0.1"),
            "{leaf:?}: {err}"
        );
        assert!(err.contains(reason), "{leaf:?}: {err}");
        assert_nothing_delivered(&server);
        assert!(
            !first_session_verbs(&server).contains(&"MAIL".to_string()),
            "{leaf:?}"
        );
    }
}

#[test]
fn starttls_not_offered_exits_69_without_plaintext_fallback() {
    let server = plain_server();
    let dir = tls_home(&server, true, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(69);
    assert!(run.stderr().contains("STARTTLS"), "{}", run.stderr());
    assert_nothing_delivered(&server);
    let verbs = first_session_verbs(&server);
    assert!(!verbs.contains(&"MAIL".to_string()), "{verbs:?}");
    assert!(!verbs.contains(&"AUTH".to_string()), "{verbs:?}");
}

/// A STARTTLS server that wants AUTH for alice with `password`, offering `mechanisms`.
fn auth_server(password: &str, mechanisms: &[Mechanism]) -> TestServer {
    TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .auth("alice", password)
            .mechanisms(mechanisms),
    )
}

#[test]
fn auth_plain_login_and_cram_md5_with_password() {
    for (mechanism, method) in [
        (Mechanism::Plain, "plain"),
        (Mechanism::Login, "login"),
        (Mechanism::CramMd5, "cram-md5"),
    ] {
        let server = auth_server("s3cret-pw", &[mechanism]);
        let dir = tls_home(
            &server,
            true,
            &format!("auth {method}\nuser alice\npassword s3cret-pw"),
        );
        let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
        assert_eq!(run.code(), 0, "{method}: {}", run.stderr());
        let m = only_message(&server, &run);
        let auth = m.auth.expect("authenticated");
        assert_eq!(auth.mechanism, mechanism.as_str());
        assert_eq!(auth.identity, "alice");
        assert!(auth.success);
    }
}

#[test]
fn auth_on_picks_a_mechanism_the_server_offers() {
    let server = auth_server("s3cret-pw", &[Mechanism::CramMd5, Mechanism::Login]);
    let dir = tls_home(&server, true, "auth on\nuser alice\npassword s3cret-pw");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert!(only_message(&server, &run).auth.is_some_and(|a| a.success));
}

#[test]
fn auth_with_passwordeval() {
    let server = auth_server("from-eval", &[Mechanism::Plain]);
    let dir = tls_home(
        &server,
        true,
        "auth on\nuser alice\npasswordeval \"echo from-eval\"",
    );
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert_eq!(only_message(&server, &run).auth.unwrap().identity, "alice");
}

#[test]
fn auth_with_password_from_netrc() {
    let server = auth_server("from-netrc", &[Mechanism::Plain]);
    let dir = tls_home(&server, true, "auth on\nuser alice");
    dir.write(
        ".netrc",
        "machine 127.0.0.1 login alice password from-netrc\n",
    );
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert!(only_message(&server, &run).auth.unwrap().success);
}

#[test]
fn rejected_credentials_exit_77_and_send_nothing() {
    let server = auth_server("right-pw", &[Mechanism::Plain]);
    let dir = tls_home(&server, true, "auth on\nuser alice\npassword wrong-pw");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(77);
    assert!(run.stderr().contains("535"), "{}", run.stderr());
    assert!(!run.stderr().contains("wrong-pw"), "{}", run.stderr());
    assert_nothing_delivered(&server);
}

/// Standard base64, for checking that an encoded secret is not printed either.
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn password_never_appears_in_debug_output_log_or_pretend() {
    const PW: &str = "Tr0ub4dor-pw";
    for (mechanism, method) in [(Mechanism::Plain, "plain"), (Mechanism::Login, "login")] {
        let server = auth_server(PW, &[mechanism]);
        let dir = tls_home(
            &server,
            true,
            &format!("auth {method}\nuser alice\npassword {PW}\nlogfile ~/rsmtp.log"),
        );
        let run = dir
            .rsmtp()
            .args(["-d", "x@example.org"])
            .stdin(SIMPLE)
            .run();
        run.assert_code(0);
        only_message(&server, &run);
        let everything = format!(
            "{}\n{}\n{}",
            run.stdout(),
            run.stderr(),
            dir.read("rsmtp.log")
        );
        assert!(
            run.stdout().contains("AUTH"),
            "the -d trace shows the dialogue:\n{}",
            run.stdout()
        );
        for secret in [
            PW.to_string(),
            base64(PW.as_bytes()),
            base64(format!("\0alice\0{PW}").as_bytes()),
        ] {
            assert!(
                !everything.contains(&secret),
                "{method}: {secret} leaked:\n{everything}"
            );
        }
        assert!(dir.read("rsmtp.log").contains("exitcode=EX_OK"));

        let run = dir.rsmtp().arg("-P").run();
        run.assert_code(0);
        assert!(!run.stdout().contains(PW), "{}", run.stdout());
        let password_line = run
            .stdout()
            .lines()
            .find(|l| l.trim_start().starts_with("password "))
            .map(str::to_string);
        assert!(
            password_line
                .as_deref()
                .is_some_and(|l| l.trim_end().ends_with('*')),
            "{}",
            run.stdout()
        );
    }
}

// ---------------------------------------------------------------------------------------
// 6. Bad servers end cleanly with the right code
// ---------------------------------------------------------------------------------------

#[test]
fn connection_refused_exits_75_naming_host_and_port() {
    let port = closed_port();
    let dir = Dir::new();
    dir.write(".msmtprc", plain_config(port, ""));
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(75);
    let err = run.stderr();
    assert!(err.contains("refused"), "{err}");
    assert!(err.contains(&port.to_string()), "{err}");
}

#[test]
fn greeting_never_sent_times_out_with_75() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::no_greeting()));
    let dir = home_for(&server, "");
    let cmd = dir
        .rsmtp()
        .args(["--timeout=3", "x@example.org"])
        .stdin(SIMPLE);
    let start = Instant::now();
    let run = cmd.run();
    let elapsed = start.elapsed();
    run.assert_code(75);
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(run.stderr().contains("greeting"), "{}", run.stderr());
    assert_nothing_delivered(&server);
}

#[test]
fn a_421_at_greeting_mail_rcpt_or_data_exits_75_with_the_reply() {
    for step in [
        Step::Greeting,
        Step::Mail,
        Step::Rcpt,
        Step::Data,
        Step::EndOfData,
    ] {
        let server = TestServer::start(ServerOptions::new().fault(Fault::service_closing(step)));
        let dir = home_for(&server, "");
        let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
        assert_eq!(run.code(), 75, "{step:?}: {}", run.stderr());
        assert!(run.stderr().contains("421"), "{step:?}: {}", run.stderr());
        assert_nothing_delivered(&server);
    }
}

#[test]
fn transient_and_permanent_refusals_of_mail_data_and_body() {
    for (step, code, exit) in [
        (Step::Mail, 451, 75),
        (Step::Mail, 550, 65),
        (Step::Mail, 553, 65),
        (Step::Data, 451, 75),
        (Step::Data, 554, 65),
        (Step::EndOfData, 452, 75),
    ] {
        let server = TestServer::start(ServerOptions::new().fault(Fault::reply(
            step,
            code,
            "x.y.z scripted refusal",
        )));
        let dir = home_for(&server, "");
        let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
        assert_eq!(run.code(), exit, "{step:?} {code}: {}", run.stderr());
        let err = run.stderr();
        assert!(
            err.contains(&format!("{code}")) && err.contains("scripted refusal"),
            "{step:?} {code}: {err}"
        );
        assert_nothing_delivered(&server);
    }
}

#[test]
fn permanent_refusal_after_the_body_exits_69_like_msmtp() {
    // msmtp 1.8.23 against a server answering 552 after the final dot: "the server did
    // not accept the mail", exit 69 (EX_UNAVAILABLE) — not 65 as for MAIL/RCPT/DATA.
    let server = TestServer::start(ServerOptions::new().fault(Fault::reply(
        Step::EndOfData,
        552,
        "5.3.4 Message too big",
    )));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(69);
    assert!(
        run.stderr().contains("552 5.3.4 Message too big"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn one_refused_recipient_means_the_message_is_sent_to_nobody() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        "nobody@example.org",
        550,
        "5.1.1 No such user",
    )));
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args([
            "good@example.org",
            "nobody@example.org",
            "other@example.org",
        ])
        .stdin(SIMPLE)
        .run();
    run.assert_code(65);
    let err = run.stderr();
    assert!(err.contains("nobody@example.org"), "{err}");
    assert!(err.contains("550") && err.contains("No such user"), "{err}");
    assert!(
        !err.contains("good@example.org"),
        "only the refused recipient is named: {err}"
    );
    assert_nothing_delivered(&server);
}

#[test]
fn transiently_refused_recipient_exits_75() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::reject_recipient(
        "busy@example.org",
        450,
        "4.2.1 Mailbox busy",
    )));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("busy@example.org").stdin(SIMPLE).run();
    run.assert_code(75);
    assert!(
        run.stderr().contains("busy@example.org"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
}

fn big_body(kib: usize) -> String {
    let mut s = String::from("Subject: big\n\n");
    for i in 0..kib * 16 {
        s.push_str(&format!("{i:063}\n"));
    }
    s
}

#[test]
fn connection_dropped_mid_data_exits_75_not_0() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::drop_during_data(1000)));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(big_body(512)).run();
    run.assert_code(75);
    assert!(!run.stderr().is_empty());
    assert_nothing_delivered(&server);
}

#[test]
fn server_hanging_after_data_times_out_with_75() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::hang_after_data()));
    let dir = home_for(&server, "");
    let cmd = dir
        .rsmtp()
        .args(["--timeout=3", "x@example.org"])
        .stdin(SIMPLE);
    let start = Instant::now();
    let run = cmd.run();
    let elapsed = start.elapsed();
    run.assert_code(75);
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(
        run.stderr().to_lowercase().contains("timeout") || run.stderr().contains("timed out"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn a_100_kb_reply_line_is_a_protocol_error() {
    let server =
        TestServer::start(ServerOptions::new().fault(Fault::LongReply(Step::Ehlo, 100_000)));
    let dir = home_for(&server, "");
    let cmd = dir.rsmtp().arg("x@example.org").stdin(SIMPLE);
    let start = Instant::now();
    let run = cmd.run();
    let elapsed = start.elapsed();
    run.assert_code(76);
    assert!(
        elapsed < Duration::from_secs(5),
        "took {elapsed:?}: {}",
        run.stderr()
    );
    assert!(run.stderr().contains("long"), "{}", run.stderr());
    assert!(
        run.stderr().len() < 2000,
        "the reply is not echoed whole: {} bytes",
        run.stderr().len()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn starttls_refused_with_454_exits_75_without_plaintext_fallback() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .fault(Fault::starttls_unavailable()),
    );
    let dir = tls_home(&server, true, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(75);
    assert!(run.stderr().contains("454"), "{}", run.stderr());
    assert_nothing_delivered(&server);
    assert!(!first_session_verbs(&server).contains(&"MAIL".to_string()));
}

#[test]
fn garbage_tls_handshake_exits_76_without_plaintext_fallback() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .fault(Fault::TlsGarbage),
    );
    let dir = tls_home(&server, true, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(76);
    assert!(run.stderr().contains("TLS"), "{}", run.stderr());
    assert_nothing_delivered(&server);
    assert!(!first_session_verbs(&server).contains(&"MAIL".to_string()));
}

#[test]
fn starttls_client_against_a_silent_implicit_tls_port_times_out_with_a_hint() {
    // On port 465 rsmtp probes a silent server after 8 s and reports the mismatch
    // (rsmtp-smtp's tests cover that); on any other port a silent server may be a
    // slow greeter, so rsmtp waits for the timeout and then names the likely cause.
    let server = TestServer::start(ServerOptions::new().tls(Tls::Implicit));
    let dir = tls_home(&server, true, "");
    let cmd = dir
        .rsmtp()
        .arg("--timeout=4")
        .arg("x@example.org")
        .stdin(SIMPLE);
    let start = Instant::now();
    let run = cmd.run();
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    run.assert_code(75);
    assert!(
        run.stderr().contains("tls_starttls off"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn implicit_tls_client_against_plain_port_fails_fast_with_a_hint() {
    let server = plain_server();
    let dir = tls_home(&server, false, "");
    let cmd = dir.rsmtp().arg("x@example.org").stdin(SIMPLE);
    let start = Instant::now();
    let run = cmd.run();
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    run.assert_code(76);
    assert!(run.stderr().contains("tls_starttls on"), "{}", run.stderr());
    assert!(run.stderr().contains("plain SMTP"), "{}", run.stderr());
    assert_nothing_delivered(&server);
}

// ---------------------------------------------------------------------------------------
// 7. The msmtp log line
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// 8. PIPELINING, SIZE, DSN
// ---------------------------------------------------------------------------------------

#[test]
fn envelope_is_pipelined_when_the_server_offers_pipelining() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["a@example.org", "b@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert!(m.pipelined, "{}", server.transcript());
    server.wait_for_idle(Duration::from_secs(3));
    let session = &server.sessions()[0];
    let batches: Vec<u64> = session
        .commands
        .iter()
        .filter(|c| {
            let verb = c
                .line
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            matches!(verb.as_str(), "MAIL" | "RCPT" | "DATA")
        })
        .map(|c| c.batch)
        .collect();
    assert_eq!(batches.len(), 4);
    assert!(batches.iter().all(|&b| b == batches[0]), "{batches:?}");
}

#[test]
fn envelope_is_not_pipelined_when_the_server_does_not_offer_it() {
    let server = TestServer::start(
        ServerOptions::new()
            .extensions(Extensions {
                pipelining: false,
                ..Extensions::default()
            })
            .pipelining_window(Duration::from_millis(200)),
    );
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert!(
        !only_message(&server, &run).pipelined,
        "{}",
        server.transcript()
    );
}

#[test]
fn size_is_declared_when_the_server_offers_it() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::all()));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    let size = m
        .mail_params
        .iter()
        .find_map(|p| p.strip_prefix("SIZE="))
        .unwrap_or_else(|| panic!("no SIZE= in {:?}", m.mail_params));
    assert_eq!(
        size.parse::<usize>().ok(),
        Some(m.size),
        "{:?}",
        m.mail_params
    );
}

#[test]
fn message_over_the_servers_size_limit_is_refused_before_data() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions {
        size: Some(1000),
        ..Extensions::default()
    }));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(big_body(4)).run();
    run.assert_code(65);
    assert!(run.stderr().contains("1000"), "{}", run.stderr());
    assert_nothing_delivered(&server);
}

#[test]
fn dsn_options_become_notify_and_ret_parameters() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::all()));
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args([
            "-N",
            "failure,delay",
            "-R",
            "hdrs",
            "a@example.org",
            "b@example.org",
        ])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert!(
        m.mail_params
            .iter()
            .any(|p| p.eq_ignore_ascii_case("RET=HDRS")),
        "{:?}",
        m.mail_params
    );
    for r in &m.rcpt_to {
        assert!(
            r.params
                .iter()
                .any(|p| p.eq_ignore_ascii_case("NOTIFY=FAILURE,DELAY")),
            "{}: {:?}",
            r.address,
            r.params
        );
    }
}

#[test]
fn dsn_requested_from_a_server_without_dsn_exits_69() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-N", "failure", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(69);
    assert!(run.stderr().contains("DSN"), "{}", run.stderr());
    assert_nothing_delivered(&server);
}

// ---------------------------------------------------------------------------------------
// More edge cases a caller can hit
// ---------------------------------------------------------------------------------------

#[test]
fn input_without_a_header_block_gets_a_blank_line_before_the_body() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .arg("x@example.org")
        .stdin("just a line of text\nand another\n")
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    let text = m.data_str();
    assert!(
        text.ends_with("\r\n\r\njust a line of text\r\nand another\r\n"),
        "{text}"
    );
    assert_eq!(m.header("From").as_deref(), Some("sender@example.org"));
}

#[test]
fn a_final_dot_line_without_newline_is_stuffed_not_taken_as_the_end() {
    let server = TestServer::start(ServerOptions::new().keep_raw_data());
    let dir = home_for(&server, "");
    let input = "From: a@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@a>\n\nlast line is a dot\n.";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.data, crlf(&format!("{input}\n")));
    assert!(
        m.raw_data.ends_with(b"\r\n..\r\n.\r\n"),
        "{:?}",
        String::from_utf8_lossy(&m.raw_data)
    );
}

#[test]
fn t_with_an_empty_group_and_a_command_line_recipient_sends_only_to_that_one() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "To: undisclosed-recipients:;\nSubject: s\n\nb\n";
    let run = dir
        .rsmtp()
        .args(["-t", "real@example.org"])
        .stdin(input)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["real@example.org"]);
    assert_eq!(m.header("To").as_deref(), Some("undisclosed-recipients:;"));
}

#[test]
fn t_reads_folded_to_headers_and_lowercase_field_names() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "to: one@example.org,\n\ttwo@example.org,\n  \"Three, Mr\" <three@example.org>\ncc: four@example.org\nSubject: s\n\nb\n";
    let run = dir.rsmtp().arg("-t").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(
        sorted(rcpt_addresses(&m)),
        strings(&[
            "four@example.org",
            "one@example.org",
            "three@example.org",
            "two@example.org"
        ])
    );
}

#[test]
fn dash_r_is_the_same_as_dash_f() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-r", "mailx@example.net", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    assert_eq!(only_message(&server, &run).mail_from, "mailx@example.net");
}

#[test]
fn dash_capital_x_overrides_the_logfile() {
    let server = plain_server();
    let dir = home_for(&server, "logfile ~/configured.log");
    let log = dir.join("from-cli.log");
    let run = dir
        .rsmtp()
        .arg("-X")
        .arg(&log)
        .arg("x@example.org")
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    only_message(&server, &run);
    assert!(dir.read("from-cli.log").contains("exitcode=EX_OK"));
    assert_eq!(dir.read("configured.log"), "");
}

#[test]
fn eight_bit_body_is_sent_even_when_the_server_lacks_8bitmime() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::none()));
    let dir = home_for(&server, "");
    let input = "Subject: s\n\nGrüße\n";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert!(m.data_str().ends_with("\r\n\r\nGrüße\r\n"));
    assert!(m.mail_params.is_empty(), "{:?}", m.mail_params);
}

#[test]
fn a_server_closing_after_the_greeting_exits_75() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::Drop(Step::Ehlo)));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(75);
    assert!(run.stderr().contains("closed"), "{}", run.stderr());
    assert_nothing_delivered(&server);
}

#[test]
fn a_554_greeting_exits_76_with_the_reply() {
    let server =
        TestServer::start(ServerOptions::new().fault(Fault::greeting(554, "5.7.1 go away")));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    // msmtp 1.8.23: "cannot get initial OK message from server", EX_PROTOCOL.
    run.assert_code(76);
    assert!(
        run.stderr().contains("554 5.7.1 go away"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn helo_only_server_still_gets_the_message() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::helo_only()));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert!(m
        .data_str()
        .ends_with("Subject: hello\r\n\r\nhello world\r\n"));
    assert!(first_session_verbs(&server).contains(&"HELO".to_string()));
}

#[test]
fn auth_xoauth2_sends_the_password_as_the_token() {
    let server = auth_server("ya29.token", &[Mechanism::XOAuth2]);
    let dir = tls_home(
        &server,
        true,
        "auth xoauth2\nuser alice\npassword ya29.token",
    );
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let auth = only_message(&server, &run).auth.expect("authenticated");
    assert_eq!(
        (auth.mechanism.as_str(), auth.identity.as_str()),
        ("XOAUTH2", "alice")
    );
}

#[test]
fn auth_required_but_not_configured_exits_65_with_the_servers_530() {
    let server = auth_server("pw", &[Mechanism::Plain]);
    let dir = tls_home(&server, true, "");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    // msmtp 1.8.23: "envelope from address … not accepted by the server", exit 65.
    run.assert_code(65);
    assert!(
        run.stderr()
            .contains("envelope from address sender@example.org not accepted by the server"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("530 5.7.0 Authentication required"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
}

#[test]
fn auth_method_the_server_does_not_offer_exits_69_without_sending_credentials() {
    let server = auth_server("pw", &[Mechanism::Login]);
    let dir = tls_home(&server, true, "auth cram-md5\nuser alice\npassword pw");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(69);
    assert!(
        run.stderr().to_uppercase().contains("CRAM-MD5"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
    assert!(server.sessions().iter().all(|s| s.auth_attempts.is_empty()));
}

#[test]
fn debug_output_shows_the_dialogue_but_not_the_body() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-d", "x@example.org"])
        .stdin("Subject: s\n\nthe-body-text\n")
        .run();
    run.assert_code(0);
    let out = run.stdout();
    assert!(out.contains("--> MAIL FROM:<sender@example.org>"), "{out}");
    assert!(out.contains("--> RCPT TO:<x@example.org>"), "{out}");
    assert!(out.contains("<-- 250"), "{out}");
    only_message(&server, &run);
}

#[test]
fn bcc_is_removed_even_without_t_and_its_address_gets_no_rcpt() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "To: x@example.org\nBcc: secret-boss@example.org\nSubject: s\n\nb\n";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["x@example.org"]);
    assert!(!m.data_str().contains("secret-boss"), "{}", m.data_str());
}

#[test]
fn t_uses_the_resent_headers_of_a_resent_message() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input =
        "Resent-From: fwd@example.org\nResent-To: new@example.org\nResent-Cc: newcc@example.org\n\
                 From: orig@example.net\nTo: old@example.net\nSubject: fwd\n\nb\n";
    let run = dir.rsmtp().arg("-t").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(
        sorted(rcpt_addresses(&m)),
        strings(&["new@example.org", "newcc@example.org"])
    );
}

#[test]
fn set_from_header_on_replaces_the_callers_from() {
    let server = plain_server();
    let dir = home_for(&server, "set_from_header on");
    let input = "From: www-data@localhost\nSubject: s\n\nb\n";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(header_count(&m, "From"), 1, "{}", m.headers());
    assert_eq!(m.header("From").as_deref(), Some("sender@example.org"));
}

#[test]
fn undisclosed_recipients_replaces_to_cc_and_bcc() {
    let server = plain_server();
    let dir = home_for(&server, "undisclosed_recipients on");
    let input = "To: a@example.org\nCc: b@example.org\nSubject: s\n\nb\n";
    let run = dir.rsmtp().arg("-t").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(
        sorted(rcpt_addresses(&m)),
        strings(&["a@example.org", "b@example.org"])
    );
    assert_eq!(m.header("To").as_deref(), Some("undisclosed-recipients:;"));
    assert_eq!(m.header("Cc"), None, "{}", m.headers());
}

#[test]
fn host_option_sends_without_any_configuration_file() {
    let server = plain_server();
    let dir = Dir::new();
    let run = dir
        .rsmtp()
        .arg("--host=127.0.0.1")
        .arg(format!("--port={}", server.port()))
        .args(["--from=cli@example.org", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.mail_from, "cli@example.org");
}

#[test]
fn account_and_host_together_exit_64() {
    let dir = Dir::new();
    let run = dir
        .rsmtp()
        .args(["--host=127.0.0.1", "-a", "x", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(64);
    assert!(
        run.stderr().contains("--host") && run.stderr().contains("--account"),
        "{}",
        run.stderr()
    );
}

#[test]
fn utf8_recipient_uses_smtputf8_when_offered() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::all()));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("jörg@exämple.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["jörg@exämple.org"]);
    assert!(
        m.mail_params
            .iter()
            .any(|p| p.eq_ignore_ascii_case("SMTPUTF8")),
        "{:?}",
        m.mail_params
    );
}

#[test]
fn header_only_input_without_final_newline() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = "From: a@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@a>\nSubject: no body";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert!(
        m.data_str()
            .starts_with(&String::from_utf8(crlf(input)).unwrap()),
        "{:?}",
        m.data_str()
    );
    assert!(m.data_str().ends_with("\r\n"), "{:?}", m.data_str());
    assert!(!m.bare_lf);
}

#[test]
fn logfile_time_format_is_honoured() {
    let server = plain_server();
    let dir = home_for(&server, "logfile ~/msmtp.log\nlogfile_time_format [%Y]");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let log = dir.read("msmtp.log");
    assert!(
        log.starts_with("[20") && log[1..5].parse::<u16>().is_ok(),
        "{log}"
    );
    assert!(
        log.starts_with(&format!("{} host=127.0.0.1 ", &log[..6])),
        "{log}"
    );
}

#[test]
fn auth_on_without_tls_refuses_to_send_the_password_in_clear() {
    // msmtp 1.8.23: "cannot use a secure authentication method", exit 69.
    let server = TestServer::start(ServerOptions::new().auth("alice", "clear-pw"));
    let dir = home_for(&server, "auth on\nuser alice\npassword clear-pw");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(69);
    assert!(
        run.stderr()
            .contains("cannot use a secure authentication method"),
        "{}",
        run.stderr()
    );
    assert_nothing_delivered(&server);
    assert!(server.sessions().iter().all(|s| s.auth_attempts.is_empty()));
    assert!(!first_session_verbs(&server).contains(&"AUTH".to_string()));
}

#[test]
fn nothing_is_sent_before_the_caller_closes_stdin() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    // cronie starts the mailer when the job starts and writes its output as it comes.
    let server = Arc::new(plain_server());
    let dir = home_for(&server, "");
    let seen_before_eof = Arc::new(AtomicUsize::new(usize::MAX));
    let (srv, seen) = (server.clone(), seen_before_eof.clone());
    let fed = dir.rsmtp().arg("x@example.org").run_fed(move |w| {
        w.write_all(b"Subject: job output\n\nfirst line\n")?;
        w.flush()?;
        std::thread::sleep(Duration::from_millis(1500));
        seen.store(srv.connections(), Ordering::SeqCst);
        w.write_all(b"last line\n")
    });
    fed.run.assert_code(0);
    assert_eq!(
        seen_before_eof.load(Ordering::SeqCst),
        0,
        "connected before end of input"
    );
    let m = only_message(&server, &fed.run);
    assert!(
        m.data_str()
            .ends_with("\r\n\r\nfirst line\r\nlast line\r\n"),
        "{}",
        m.data_str()
    );
}

#[test]
fn concurrent_senders_append_whole_lines_to_one_logfile() {
    let server = plain_server();
    let dir = home_for(&server, "logfile ~/msmtp.log");
    let children: Vec<_> = (0..6)
        .map(|i| {
            let cmd = dir.rsmtp().arg(format!("r{i}@example.org")).stdin(SIMPLE);
            std::thread::spawn(move || cmd.run())
        })
        .collect();
    for child in children {
        child.join().expect("run").assert_code(0);
    }
    assert_eq!(server.wait_for_messages(6, WAIT).len(), 6);
    let log = dir.read("msmtp.log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 6, "{log}");
    for i in 0..6 {
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains(&format!(" recipients=r{i}@example.org "))
                    && l.ends_with(" exitcode=EX_OK"))
                .count(),
            1,
            "{log}"
        );
    }
}

#[test]
fn passwordeval_secret_never_appears_in_debug_output_or_log() {
    const PW: &str = "evald-Secr3t";
    let server = auth_server(PW, &[Mechanism::Login]);
    let dir = tls_home(
        &server,
        true,
        &format!("auth login\nuser alice\npasswordeval printf %s {PW}\nlogfile ~/rsmtp.log"),
    );
    let run = dir
        .rsmtp()
        .args(["-d", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    assert!(only_message(&server, &run).auth.is_some_and(|a| a.success));
    let everything = format!(
        "{}\n{}\n{}",
        run.stdout(),
        run.stderr(),
        dir.read("rsmtp.log")
    );
    for secret in [PW.to_string(), base64(PW.as_bytes())] {
        assert!(
            !everything.contains(&secret),
            "{secret} leaked:\n{everything}"
        );
    }
}

#[test]
fn large_job_output_whose_first_line_looks_like_a_header_is_still_delivered() {
    // `backup-job 2>&1 | sendmail root`: the output starts "WARNING: …" (header-like),
    // has no blank line and is larger than rsmtp's in-memory header cap. msmtp 1.8.23
    // sends it as it is; losing the cron mail with exit 65 is not acceptable.
    let server = plain_server();
    let dir = home_for(&server, "");
    let mut input = String::from("WARNING: low disk space on /backup\n");
    let line = "copied /srv/data/some/long/path/file-name-for-the-log.dat (4096 bytes)\n";
    while input.len() < 1_500_000 {
        input.push_str(line);
    }
    input.push_str("backup finished\n");
    let run = dir.rsmtp().arg("root@example.org").stdin(&input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    let text = m.data_str();
    assert!(text.contains("WARNING: low disk space on /backup\r\n"));
    assert!(text.ends_with(&format!(
        "{}backup finished\r\n",
        line.replace('\n', "\r\n")
    )));
    let lines = input.matches('\n').count();
    assert!(
        m.size >= input.len() + lines,
        "{} < {}",
        m.size,
        input.len() + lines
    );
}

#[test]
fn command_line_recipients_are_address_lists_like_msmtp() {
    // msmtp 1.8.23 sends `'Bob <b@x>, "Doe, J" <j@x>' root` to b@x, j@x and root.
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args([
            "Bob Smith <bob@example.org>, \"Doe, J\" <j@example.org>",
            "a@example.org,b@example.org",
            "<c@example.org>",
            "root",
        ])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(
        rcpt_addresses(&m),
        [
            "bob@example.org",
            "j@example.org",
            "a@example.org",
            "b@example.org",
            "c@example.org",
            "root"
        ]
    );
}

#[test]
fn a_command_line_recipient_cannot_smuggle_a_header_line() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .arg("a@example.org\r\nBcc: evil@example.net")
        .stdin(SIMPLE)
        .run();
    run.assert_code(65);
    assert_eq!(server.connections(), 0);
}

#[test]
fn tls_host_override_accepts_a_certificate_for_the_configured_name() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .leaf(LeafKind::WrongHost),
    );
    let dir = tls_home(&server, true, "tls_host_override wrong-host.example");
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    assert!(only_message(&server, &run).tls);
    server.wait_for_idle(Duration::from_secs(3));
    assert_eq!(
        server.sessions()[0].sni.as_deref(),
        Some("wrong-host.example")
    );
}

#[test]
fn client_certificate_is_presented_when_configured() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .client_certs(rsmtp_testserver::ClientCertPolicy::Required),
    );
    let client = server.ca().client_cert();
    let dir = tls_home(
        &server,
        true,
        &format!(
            "tls_cert_file {}\ntls_key_file {}",
            client.cert_path().display(),
            client.key_path().display()
        ),
    );
    let run = dir.rsmtp().arg("x@example.org").stdin(SIMPLE).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.client_cert_subject.as_deref(), Some(client.subject()));
}

#[test]
fn unsupported_auth_method_exits_78_naming_file_and_line() {
    let dir = Dir::new();
    let rc = dir.write(
        "rc",
        "account default\nhost 127.0.0.1\nfrom a@example.org\nauth gssapi\n",
    );
    let run = dir
        .rsmtp()
        .arg("-C")
        .arg(&rc)
        .arg("x@example.org")
        .stdin(SIMPLE)
        .run();
    run.assert_code(78);
    let err = run.stderr();
    assert!(err.contains(&format!("{}:4", rc.display())), "{err}");
    assert!(err.contains("not supported by rsmtp"), "{err}");
}

#[test]
fn serverinfo_prints_the_capabilities_without_sending() {
    let server = TestServer::start(ServerOptions::new().extensions(Extensions::all()));
    let dir = home_for(&server, "");
    let run = dir.rsmtp().arg("-S").run();
    run.assert_code(0);
    let out = run.stdout();
    // msmtp's layout.
    assert!(
        out.contains("SMTP server at 127.0.0.1 (")
            && out.contains(&format!("port {}:", server.port())),
        "{out}"
    );
    assert!(
        out.contains("    localhost ESMTP rsmtp-testserver\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "    SIZE 10485760:\n        Maximum message size is 10485760 bytes = 10.00 MiB\n"
        ),
        "{out}"
    );
    assert!(out.contains("    PIPELINING:\n"), "{out}");
    assert!(out.contains("    DSN:\n"), "{out}");
    server.wait_for_idle(Duration::from_secs(3));
    assert!(!first_session_verbs(&server).contains(&"MAIL".to_string()));
}

#[test]
fn remove_bcc_headers_off_keeps_the_bcc_header() {
    let server = plain_server();
    let dir = home_for(&server, "remove_bcc_headers off");
    let input = "To: a@example.org\nBcc: b@example.org\nSubject: s\n\nbody\n";
    let run = dir.rsmtp().arg("-t").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(rcpt_addresses(&m), ["a@example.org", "b@example.org"]);
    assert_eq!(m.header("Bcc").as_deref(), Some("b@example.org"));
}

#[test]
fn dash_v_prints_the_dialogue_like_dash_d() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let run = dir
        .rsmtp()
        .args(["-v", "x@example.org"])
        .stdin(SIMPLE)
        .run();
    run.assert_code(0);
    assert!(
        run.stdout().contains("--> RCPT TO:<x@example.org>"),
        "{}",
        run.stdout()
    );
    only_message(&server, &run);
}
