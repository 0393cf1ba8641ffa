//! Headers and surfaces msmtp accepts, run through msmtp 1.8.23 and rsmtp against the
//! same recording server (issue 23): comments wherever RFC 5322 allows CFWS, one bad
//! element of an address field, `-t` when the first line is not a field, the server's
//! reply on its own stderr line, no log line for a local refusal, the syslog tag,
//! `rsmtp --inetd`, alias names with their case. Where rsmtp differs on purpose
//! (msmtp sends junk to the server; a bare CR), the test asserts the difference.

use std::path::Path;
use std::time::Duration;

use rsmtp_testserver::{Fault, ServerOptions, Step, TestServer};

use crate::differential::{assert_same, body, header_fields, oracle, plain, Case, Compare, Side};
use crate::support::*;

/// Date and Message-ID given, so both programs send the same number of bytes.
const DATED: &str = "Date: Sat, 21 Nov 2026 10:00:00 +0000\nMessage-ID: <parity-1@example.org>\n";

/// `header` (one or more field lines) in a complete message.
fn message(header: &str) -> String {
    format!("{header}\nSubject: parity\n{DATED}\nbody line\n")
}

fn same_with_mailsize(m: &Side, r: &Side) {
    assert_same(
        m,
        r,
        Compare {
            mailsize: true,
            ..Compare::default()
        },
    );
}

fn rcpts(side: &Side) -> Vec<String> {
    side.accepted
        .iter()
        .flat_map(|m| m.recipients().into_iter().map(str::to_string))
        .collect()
}

/// Everything but the envelope and the log's `skipped`/`recipients`: exit code,
/// header fields, body.
#[track_caller]
fn same_message(m: &Side, r: &Side) {
    let context = format!("{}\n{}", m.describe(), r.describe());
    assert_eq!(m.run.code(), r.run.code(), "{context}");
    assert_eq!(m.accepted.len(), 1, "{context}");
    assert_eq!(r.accepted.len(), 1, "{context}");
    assert_eq!(
        header_fields(&m.accepted[0].data),
        header_fields(&r.accepted[0].data),
        "{context}"
    );
    assert_eq!(body(&m.accepted[0]), body(&r.accepted[0]), "{context}");
}

#[test]
fn comments_wherever_rfc_5322_allows_cfws_as_msmtp() {
    let Some(msmtp) = oracle() else { return };
    let server = plain_server();
    let dir = Dir::new();
    plain(&dir, server.port(), "");
    for (header, expected) in [
        (
            "To: Some(wonderful \\) chap) <to10(his account)@localhost(this host)>",
            &["to10@localhost"][..],
        ),
        (
            "Cc:A Group(Some people)\n     :Some Person <to11@(their's host.)example.com>,\n              to12, \n\t        Person <to13@localhost> (a friend); (the end of the group)",
            &["to11@example.com", "to12", "to13@localhost"],
        ),
        (
            "Bcc:(Empty list)(start)Undisclosed recipients  :(nobody(that I know))  ;\nTo: x@example.org (comment), \"Bob (not a comment)\" <b@x.org>",
            &["x@example.org", "b@x.org"],
        ),
    ] {
        let (m, r) = Case::new(&dir, Some(&server))
            .args(&["-t"])
            .stdin(message(header))
            .run(&msmtp);
        same_with_mailsize(&m, &r);
        r.run.assert_code(0);
        assert_eq!(rcpts(&r), expected, "{header}");
    }
}

/// `<bob@example.com (work)>`: msmtp sends the blank before the comment as `_`
/// (`RCPT TO:<bob@example.com_>`, refused by a real server); rsmtp sends the mailbox.
#[test]
fn comment_inside_angle_brackets_after_the_address() {
    let Some(msmtp) = oracle() else { return };
    let server = plain_server();
    let dir = Dir::new();
    plain(&dir, server.port(), "");
    let (m, r) = Case::new(&dir, Some(&server))
        .args(&["-t"])
        .stdin(message("To: <bob@example.com (work)>"))
        .run(&msmtp);
    same_message(&m, &r);
    assert_eq!(rcpts(&m), ["bob@example.com_"]);
    assert_eq!(rcpts(&r), ["bob@example.com"]);
}

/// `-f 'addr (comment)'`: msmtp puts the comment inside `MAIL FROM:<…>` (a real
/// server answers 501) and in the From header; rsmtp sends the address.
#[test]
fn dash_f_with_a_comment_names_the_address() {
    let Some(msmtp) = oracle() else { return };
    let server = plain_server();
    let dir = Dir::new();
    plain(&dir, server.port(), "");
    let (m, r) = Case::new(&dir, Some(&server))
        .args(&[
            "-f",
            "raid@host.example.org (RAID monitor)",
            "alice@example.net",
        ])
        .stdin("Subject: mdadm\n\nDegraded array\n")
        .run(&msmtp);
    m.run.assert_code(0);
    r.run.assert_code(0);
    assert_eq!(
        m.accepted[0].mail_from,
        "raid@host.example.org (RAID monitor)"
    );
    assert_eq!(r.accepted[0].mail_from, "raid@host.example.org");
    assert_eq!(
        r.accepted[0].header("From").as_deref(),
        Some("raid@host.example.org")
    );
    assert_eq!(body(&m.accepted[0]), body(&r.accepted[0]));
    // `Name <addr>` too.
    let (_, r) = Case::new(&dir, Some(&server))
        .args(&["-f", "RAID <raid@host.example.org>", "alice@example.net"])
        .stdin("Subject: mdadm\n\nDegraded array\n")
        .run(&msmtp);
    r.run.assert_code(0);
    assert_eq!(r.accepted[0].mail_from, "raid@host.example.org");
}

/// One bad element of a To field: msmtp sends to what it can read (and `a..b` as
/// it is); rsmtp sends to the valid ones, never junk, and names the skipped one on
/// stderr and in the log line's `skipped=` field. Exit 0 either way.
#[test]
fn one_bad_element_does_not_refuse_the_message() {
    let Some(msmtp) = oracle() else { return };
    let server = plain_server();
    let dir = Dir::new();
    plain(&dir, server.port(), "");
    for (header, msmtp_rcpts, element) in [
        (
            "To: \"Undisclosed\", a@example.net",
            &["a@example.net"][..],
            "\"Undisclosed\"",
        ),
        (
            "To: a..b, z@example.net",
            &["a..b", "z@example.net"],
            "a..b",
        ),
    ] {
        let (m, r) = Case::new(&dir, Some(&server))
            .args(&["-t"])
            .stdin(message(header))
            .run(&msmtp);
        same_message(&m, &r);
        r.run.assert_code(0);
        assert_eq!(rcpts(&m), msmtp_rcpts, "{header}");
        assert_eq!(rcpts(&r), [*msmtp_rcpts.last().unwrap_or(&"")], "{header}");
        assert!(
            r.run
                .stderr()
                .contains(&format!("rsmtp: skipped '{element}' in the To header: ")),
            "{}",
            r.describe()
        );
        assert!(m.run.stderr().is_empty(), "{}", m.describe());
        let (mf, rf) = (m.log_fields(), r.log_fields());
        let value = |f: &[(String, String)], k: &str| {
            f.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
        };
        assert_eq!(value(&rf[0], "skipped").as_deref(), Some(element));
        assert_eq!(value(&mf[0], "skipped"), None);
        assert_eq!(value(&rf[0], "exitcode").as_deref(), Some("EX_OK"));
    }
}

/// `-t` when the first line is not a field: msmtp reads the block up to the blank
/// line as header and finds To; so does rsmtp, and the bytes on the wire agree.
/// The same for a first field whose name has 8-bit bytes.
#[test]
fn first_line_not_a_header_and_eight_bit_field_names_with_t() {
    let Some(msmtp) = oracle() else { return };
    let server = plain_server();
    let dir = Dir::new();
    plain(&dir, server.port(), "");
    for input in [
        format!("Backup finished: OK\nTo: a@example.net\n{DATED}\nArchive created.\n"),
        format!("Sujet-été: x\nTo: a@example.net\n{DATED}\nCorps.\n"),
        format!(
            "Backup finished: OK\r\nTo: a@example.net\r\n{}\r\nA\r\nB\r\n",
            DATED.replace('\n', "\r\n")
        ),
    ] {
        let (m, r) = Case::new(&dir, Some(&server))
            .args(&["-t"])
            .stdin(&input)
            .run(&msmtp);
        m.run.assert_code(0);
        // rsmtp declares BODY=8BITMIME for 8-bit data (README), msmtp never does.
        assert_same(
            &m,
            &r,
            Compare {
                mailsize: true,
                declared_params: false,
                ..Compare::default()
            },
        );
        assert_eq!(rcpts(&r), ["a@example.net"]);
        assert_eq!(
            m.accepted[0].data, r.accepted[0].data,
            "{input:?}: same bytes"
        );
    }
}

/// The server's reply on its own stderr line, `server message: 550 …`, between the
/// error and "could not send mail", as msmtp prints it.
#[test]
fn server_message_on_its_own_stderr_line() {
    let Some(msmtp) = oracle() else { return };
    let server = TestServer::start(ServerOptions::new().fault(Fault::reply(
        Step::Rcpt,
        550,
        "5.1.1 no such user here",
    )));
    let dir = Dir::new();
    plain(&dir, server.port(), "");
    let (m, r) = Case::new(&dir, Some(&server))
        .args(&["alice@example.net"])
        .stdin(message("To: alice@example.net"))
        .run(&msmtp);
    m.run.assert_code(65);
    assert_same(&m, &r, Compare::default());
    let lines = |s: &Side, program: &str| -> Vec<String> {
        s.run
            .stderr()
            .lines()
            .map(|l| l.strip_prefix(program).unwrap_or(l).to_string())
            .collect()
    };
    assert_eq!(lines(&m, "msmtp: "), lines(&r, "rsmtp: "));
    assert!(
        lines(&r, "rsmtp: ").contains(&"server message: 550 5.1.1 no such user here".to_string()),
        "{}",
        r.describe()
    );
}

/// Input refused before sending (no recipients, a bad recipient address) gets no log
/// line, as with msmtp: scripts that count lines count the same.
#[test]
fn local_refusals_are_not_logged() {
    let Some(msmtp) = oracle() else { return };
    let server = plain_server();
    let dir = Dir::new();
    plain(&dir, server.port(), "");
    let (m, r) = Case::new(&dir, Some(&server))
        .args(&["-t"])
        .stdin("Subject: s\n\nbody\n")
        .run(&msmtp);
    m.run.assert_code(64);
    r.run.assert_code(64);
    assert!(
        m.log.is_empty() && r.log.is_empty(),
        "{}\n{}",
        m.describe(),
        r.describe()
    );
    // rsmtp refuses an address msmtp would hand to the server; no line either.
    let r = Case::new(&dir, Some(&server))
        .args(&["bad address@@x"])
        .stdin("Subject: s\n\nbody\n")
        .run_program("rsmtp", &rsmtp_bin());
    r.run.assert_code(65);
    assert!(r.log.is_empty(), "{}", r.describe());
}

/// Where the tests can take `/dev/log` (root, and no syslog daemon holds it), a
/// datagram socket there catches what each program sends.
struct DevLog {
    socket: std::os::unix::net::UnixDatagram,
}

impl DevLog {
    fn take() -> Option<DevLog> {
        let path = Path::new("/dev/log");
        if !require(
            is_root() && !path.exists(),
            "root and a free /dev/log (no syslog daemon) to catch syslog datagrams",
        ) {
            return None;
        }
        let socket = std::os::unix::net::UnixDatagram::bind(path).ok()?;
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        Some(DevLog { socket })
    }

    fn next(&self) -> String {
        let mut buf = vec![0u8; 65536];
        let n = self.socket.recv(&mut buf).expect("a syslog datagram");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

impl Drop for DevLog {
    fn drop(&mut self) {
        let _ = std::fs::remove_file("/dev/log");
    }
}

/// What follows `<PRI>Mmm dd hh:mm:ss ` in an RFC 3164 datagram, up to the
/// message: the tag and its colon (`msmtp:`, as glibc's syslog(3) writes it for
/// msmtp, which asks for no PID).
fn syslog_tag(datagram: &str) -> String {
    let after_pri = datagram.split_once('>').map_or("", |(_, rest)| rest);
    let after_stamp = after_pri.get(16..).unwrap_or("");
    after_stamp.split(' ').next().unwrap_or("").to_string()
}

/// msmtp logs to syslog as `msmtp`; so does rsmtp called as `sendmail` or `msmtp`
/// (`journalctl -t msmtp` keeps matching); called as `rsmtp` it says `rsmtp`.
#[test]
fn syslog_tag_is_msmtp_under_msmtps_names() {
    let Some(msmtp) = oracle() else { return };
    let Some(devlog) = DevLog::take() else { return };
    let server = plain_server();
    let dir = Dir::new();
    plain(&dir, server.port(), "syslog LOG_MAIL");
    let links = Dir::new();
    let mut tags = Vec::new();
    for (name, program) in [
        ("msmtp", msmtp.clone()),
        ("sendmail", rsmtp_bin()),
        ("msmtp", rsmtp_bin()),
        ("rsmtp", rsmtp_bin()),
    ] {
        let link = links.join(&format!("{}-{name}", tags.len()));
        std::fs::create_dir_all(&link).expect("mkdir");
        let link = link.join(name);
        std::os::unix::fs::symlink(&program, &link).expect("symlink");
        Case::new(&dir, Some(&server))
            .args(&["alice@example.net"])
            .stdin(message("To: alice@example.net"))
            .run_program("client", &link)
            .run
            .assert_code(0);
        let datagram = devlog.next();
        assert!(datagram.contains("exitcode=EX_OK"), "{datagram}");
        assert!(
            datagram.starts_with("<22>"),
            "LOG_MAIL|LOG_INFO: {datagram}"
        );
        tags.push(syslog_tag(&datagram));
    }
    assert_eq!(tags, ["msmtp:", "msmtp:", "msmtp:", "rsmtp:"]);
}

/// `rsmtp --inetd` serves one session on stdin/stdout exactly as `rsmtpd --inetd`.
#[test]
fn rsmtp_inetd_is_rsmtpd_inetd() {
    let dir = Dir::new();
    let rsmtpd = dir.join("rsmtpd");
    std::os::unix::fs::symlink(rsmtp_bin(), &rsmtpd).expect("symlink");
    let session = "EHLO client.example\r\nNOOP\r\nQUIT\r\n";
    let as_rsmtpd = dir.command(&rsmtpd).arg("--inetd").stdin(session).run();
    let as_rsmtp = dir.rsmtp().arg("--inetd").stdin(session).run();
    as_rsmtpd.assert_code(0);
    as_rsmtp.assert_code(0);
    assert!(
        as_rsmtp.stdout().starts_with("220 "),
        "{}",
        as_rsmtp.stdout()
    );
    assert!(
        as_rsmtp.stdout().contains("\r\n221 "),
        "{}",
        as_rsmtp.stdout()
    );
    assert_eq!(as_rsmtp.stdout(), as_rsmtpd.stdout());
    // After `--`, `--inetd` is a recipient, not the listener.
    let run = dir
        .rsmtp()
        .args(["--", "--inetd"])
        .stdin("Subject: s\n\nb\n")
        .run();
    assert_ne!(run.stdout().get(..4), Some("220 "), "{}", run.stdout());
}

/// Alias names match with their case, as msmtp's `strcmp`: `Root` is not `root`
/// and goes to `default`.
#[test]
fn alias_names_match_with_their_case() {
    let Some(msmtp) = oracle() else { return };
    let server = plain_server();
    let dir = Dir::new();
    let aliases = dir.write("aliases", "root: r@example.net\ndefault: d@example.net\n");
    plain(
        &dir,
        server.port(),
        &format!("aliases {}", aliases.display()),
    );
    // One recipient a run: msmtp 1.8.23 does not expand the recipient that follows
    // an expanded one (its list walk skips it), which rsmtp does not copy.
    for (rcpt, expanded) in [("Root", "d@example.net"), ("root", "r@example.net")] {
        let (m, r) = Case::new(&dir, Some(&server))
            .args(&[rcpt])
            .stdin(message("To: root"))
            .run(&msmtp);
        same_with_mailsize(&m, &r);
        assert_eq!(rcpts(&r), [expanded]);
    }
}

/// A bare CR in the body (a progress bar in cron output): msmtp sends it as it is;
/// rsmtp sends CRLF, as RFC 5321 section 2.3.8 asks (a bare CR is what SMTP
/// smuggling hides `.` behind). The README's differences table says so.
#[test]
fn bare_cr_in_the_body_is_sent_as_crlf_a_documented_difference() {
    let Some(msmtp) = oracle() else { return };
    let server = plain_server();
    let dir = Dir::new();
    plain(&dir, server.port(), "");
    let (m, r) = Case::new(&dir, Some(&server))
        .args(&["alice@example.net"])
        .stdin(format!("Subject: rsync\n{DATED}\n 10%\r 55%\r100%\ndone\n"))
        .run(&msmtp);
    m.run.assert_code(0);
    r.run.assert_code(0);
    assert_eq!(body(&m.accepted[0]), b" 10%\r 55%\r100%\r\ndone\r\n");
    assert_eq!(body(&r.accepted[0]), b" 10%\r\n 55%\r\n100%\r\ndone\r\n");
    assert_eq!(
        header_fields(&m.accepted[0].data),
        header_fields(&r.accepted[0].data)
    );
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README");
    assert!(
        readme.contains("| bare CR in the body |"),
        "README row missing"
    );
}

/// Input with no header field in its first block (`echo text | sendmail user`):
/// msmtp sends the lines as header lines (after the fields it adds, no blank line);
/// rsmtp sends them as the body, as sendmail and Postfix read them. README row.
#[test]
fn text_without_any_header_field_is_body_a_documented_difference() {
    let Some(msmtp) = oracle() else { return };
    let server = plain_server();
    let dir = Dir::new();
    plain(&dir, server.port(), "");
    let (m, r) = Case::new(&dir, Some(&server))
        .args(&["alice@example.net"])
        .stdin("Backup finished OK\nall 3 volumes done\n")
        .run(&msmtp);
    m.run.assert_code(0);
    r.run.assert_code(0);
    assert!(
        body(&m.accepted[0]).is_empty(),
        "{}",
        m.accepted[0].data_str()
    );
    assert!(
        m.accepted[0]
            .data_str()
            .ends_with(">\r\nBackup finished OK\r\nall 3 volumes done\r\n"),
        "{}",
        m.accepted[0].data_str()
    );
    assert_eq!(
        body(&r.accepted[0]),
        b"Backup finished OK\r\nall 3 volumes done\r\n"
    );
}
