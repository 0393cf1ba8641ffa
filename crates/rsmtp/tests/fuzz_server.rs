//! Fuzz targets for the SMTP server side (the same seeded mutation loop as
//! `fuzz.rs`; `RSMTP_FUZZ_CASES` and `RSMTP_FUZZ_SEED` work the same): the session
//! in process, and `rsmtp -bs` and `rsmtpd --inetd` as whole processes.

use std::io::Read;
use std::sync::Arc;

use rsmtp_server::{serve, Authenticator, Deliver, Mail, Reply, SessionConfig};
use rsmtp_testserver::fuzz::{fuzz, fuzz_cases, text_seeds, COMMON_TOKENS};

use crate::support::{home_for, plain_server, rsmtp_bin};

/// Whole sessions, pipelined or not, with AUTH, dot-stuffing, bare line ends, HTTP
/// and header lines, hostile addresses.
fn session_seeds() -> Vec<Vec<u8>> {
    text_seeds(&[
        "EHLO client.example\r\nMAIL FROM:<a@example.org> SIZE=20 BODY=8BITMIME\r\n\
         RCPT TO:<b@example.org>\r\nDATA\r\nSubject: t\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n",
        "HELO x\r\nMAIL FROM:<>\r\nRCPT TO:<\"q q\"@example.org>\r\nRSET\r\nNOOP\r\nVRFY a\r\n\
         HELP\r\nEXPN b\r\nQUIT\r\n",
        "EHLO c\r\nAUTH PLAIN AGFsaWNlAHMzY3JldA==\r\nAUTH LOGIN\r\nYWxpY2U=\r\n*\r\n\
         MAIL FROM:<a@x.org>\r\nRCPT TO:<@relay:b@y.org>\r\nDATA\r\nx\n.\nMAIL FROM:<e@x>\r\n\
         .\r\nQUIT\r\n",
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nEHLO x\r\n",
        "EHLO x\r\nMAIL FROM:<$(id)@x.org>\r\nRCPT TO:<-oQ/tmp@x>\r\nSTARTTLS\r\nQUIT\r\n",
    ])
}

const SESSION_TOKENS: &[&[u8]] = &[
    b"\r\n.\r\n",
    b"\n.\n",
    b"\r.\r",
    b"MAIL FROM:<",
    b"RCPT TO:<",
    b"DATA\r\n",
    b"EHLO ",
    b"AUTH PLAIN ",
    b"AUTH LOGIN\r\n",
    b"BDAT 10\r\n",
    b" SIZE=",
    b"GET / HTTP/1.0\r\n",
    b"User-Agent: x\r\n",
    b"$(id)",
    b"`id`",
    b"..",
    b"QUIT\r\n",
];

fn tokens() -> Vec<&'static [u8]> {
    let mut tokens = SESSION_TOKENS.to_vec();
    tokens.extend_from_slice(COMMON_TOKENS);
    tokens
}

/// Every line the server wrote is a well-formed reply: `DDD` (200–599), `-` or ` `,
/// text without control characters, CRLF.
fn assert_replies(out: &[u8], input: &[u8]) {
    assert!(
        out.is_empty() || out.ends_with(b"\r\n"),
        "unterminated reply to {:?}",
        String::from_utf8_lossy(input)
    );
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let Some(line) = line.strip_suffix(b"\r") else {
            panic!("bare LF in a reply: {:?}", String::from_utf8_lossy(out));
        };
        let text = String::from_utf8_lossy(line);
        let code: u16 = text.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        assert!(
            (200..600).contains(&code) && matches!(line.get(3), None | Some(b' ' | b'-')),
            "malformed reply line {text:?}"
        );
        assert!(
            !text.chars().any(char::is_control),
            "control character in {text:?}"
        );
    }
}

/// Checks what reaches the deliverer: a body never holds the end of data, an
/// address never a control character, a leading `-`, or shell syntax outside quotes.
struct Check(usize);

impl Deliver for Check {
    fn deliver(&mut self, mail: &mut Mail<'_>) -> Reply {
        let mut body = Vec::new();
        mail.body.read_to_end(&mut body).expect("spool readable");
        assert!(
            !body.windows(5).any(|w| w == b"\r\n.\r\n") && !body.starts_with(b".\r\n"),
            "a body holds the end of data: {:?}",
            String::from_utf8_lossy(&body)
        );
        for a in std::iter::once(&mail.envelope.from).chain(&mail.envelope.recipients) {
            assert!(!a.chars().any(char::is_control), "address {a:?}");
            assert!(!a.starts_with('-'), "address {a:?}");
            let outside: String = rsmtp_core::quoting::unquoted(a).map(|(_, c)| c).collect();
            assert!(
                !outside.contains(['$', '`', ';', '|', '&']),
                "address {a:?}"
            );
        }
        self.0 += 1;
        Reply::new(250, vec!["2.0.0 Ok".into()])
    }
}

struct Password;

impl Authenticator for Password {
    fn authenticate(&self, user: &str, password: &[u8]) -> bool {
        user == "alice" && password == b"s3cret"
    }
}

/// The session in process: no panic, well-formed replies, never more messages than
/// DATA commands, and [`Check`]'s invariants on every delivered message.
#[test]
#[allow(
    clippy::print_stderr,
    reason = "the fuzz run's summary (seed, cases) is this test's report"
)]
fn fuzz_server_session() {
    let mut config = SessionConfig {
        hostname: "fuzz.invalid".into(),
        banner: "ESMTP".into(),
        ..SessionConfig::default()
    };
    config.limits.auth_failure_delay = std::time::Duration::ZERO;
    config.limits.max_message_size = 4096;
    let with_auth = SessionConfig {
        auth: Some(Arc::new(Password)),
        ..config.clone()
    };
    let r = fuzz("server-session", &session_seeds(), &tokens(), |input| {
        for config in [&config, &with_auth] {
            let mut out = Vec::new();
            let mut check = Check(0);
            let _ = serve(config, None, input, &mut out, &mut check);
            assert_replies(&out, input);
            let datas = input
                .split(|&b| b == b'\n')
                .filter(|l| l.len() >= 4 && l[..4].eq_ignore_ascii_case(b"DATA"))
                .count();
            assert!(check.0 <= datas, "{} messages from {datas} DATA", check.0);
        }
    });
    eprintln!("{r}");
}

/// `rsmtp -bs` and `rsmtpd --inetd` as whole processes on mutated sessions (150
/// cases each by default: a process per case): no panic, an exit code from
/// sysexits, nothing on stdout but well-formed replies.
#[test]
#[allow(
    clippy::print_stderr,
    reason = "the fuzz run's summary (seed, cases) is this test's report"
)]
fn fuzz_bs_and_inetd_processes() {
    let server = plain_server();
    let home = home_for(&server, "");
    let inetd = home.join("rsmtpd");
    std::os::unix::fs::symlink(rsmtp_bin(), &inetd).expect("symlink rsmtpd");
    let seeds = session_seeds();
    let tokens = tokens();
    for (name, program, args) in [
        ("rsmtp -bs", rsmtp_bin(), vec!["-bs"]),
        (
            "rsmtpd --inetd",
            inetd.clone(),
            vec![
                "--inetd",
                "--auth-delay=0",
                "--command=cat >/dev/null; true",
            ],
        ),
    ] {
        let r = fuzz_cases(name, &seeds, &tokens, 150, |input| {
            let run = home.command(&program).args(&args).stdin(input).run();
            let code = run.code();
            assert!(
                code == 0 || (64..=78).contains(&code),
                "{name}: exit {code}; stderr {}",
                run.stderr()
            );
            assert!(
                !run.stderr().contains("panicked"),
                "{name}: {}",
                run.stderr()
            );
            assert_replies(run.stdout().as_bytes(), input);
        });
        eprintln!("{r}");
    }
}
