//! Whole sessions against a recording deliverer: the bytes a client would see.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use crate::*;

/// Sender, recipients, body, authenticated user.
type Recorded = (String, Vec<String>, Vec<u8>, Option<String>);

#[derive(Default)]
struct Recorder {
    mails: Vec<Recorded>,
    answer: Option<Reply>,
}

impl Deliver for Recorder {
    fn deliver(&mut self, mail: &mut Mail<'_>) -> Reply {
        let mut body = Vec::new();
        mail.body.read_to_end(&mut body).expect("spool readable");
        assert_eq!(body.len() as u64, mail.size);
        self.mails.push((
            mail.envelope.from.clone(),
            mail.envelope.recipients.clone(),
            body,
            mail.client.user.clone(),
        ));
        self.answer
            .clone()
            .unwrap_or_else(|| Reply::new(250, vec!["2.0.0 Ok".into()]))
    }
}

struct Password;

impl Authenticator for Password {
    fn authenticate(&self, user: &str, password: &[u8]) -> bool {
        user == "alice" && password == b"s3cret"
    }
}

fn config() -> SessionConfig {
    SessionConfig {
        hostname: "test.invalid".into(),
        banner: "rsmtp ESMTP".into(),
        ..SessionConfig::default()
    }
}

fn session(
    config: &SessionConfig,
    input: &str,
) -> (String, Recorder, Result<SessionEnd, ServerError>) {
    let mut out = Vec::new();
    let mut recorder = Recorder::default();
    let result = serve(config, None, input.as_bytes(), &mut out, &mut recorder);
    (
        String::from_utf8(out).expect("replies are text"),
        recorder,
        result,
    )
}

/// The reply codes, one per reply (continuation lines skipped).
fn codes(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.as_bytes().get(3) == Some(&b' ') || l.len() == 3)
        .map(|l| &l[..3])
        .collect()
}

#[test]
fn pipelined_session_with_two_messages_and_dot_stuffing() {
    let input = "EHLO client\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n\
                 RCPT TO:<c@example.org>\r\nDATA\r\nSubject: one\r\n\r\n..leading dot\r\n.\r\n\
                 MAIL FROM:<>\r\nRCPT TO:<d@example.org>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n";
    let (out, rec, result) = session(&config(), input);
    assert_eq!(
        codes(&out),
        ["220", "250", "250", "250", "250", "354", "250", "250", "250", "354", "250", "221"],
        "{out}"
    );
    assert!(out.contains("250-PIPELINING\r\n") && out.contains("250-8BITMIME\r\n"));
    assert!(out.contains("250-SMTPUTF8\r\n"), "{out}");
    assert!(out.contains("250-SIZE 134217728\r\n"));
    assert!(!out.contains("AUTH"), "no AUTH without an authenticator");
    assert_eq!(rec.mails.len(), 2);
    assert_eq!(rec.mails[0].0, "a@example.org");
    assert_eq!(rec.mails[0].1, ["b@example.org", "c@example.org"]);
    assert_eq!(rec.mails[0].2, b"Subject: one\r\n\r\n.leading dot\r\n");
    assert_eq!(rec.mails[1].0, "");
    assert_eq!(rec.mails[1].2, b"x\r\n");
    let end = result.expect("clean end");
    assert_eq!((end.accepted, end.quit), (2, true));
}

#[test]
fn sequence_errors_rset_vrfy_help_and_the_deliverers_refusal() {
    let input =
        "HELO c\r\nRCPT TO:<b@x.org>\r\nDATA\r\nMAIL FROM:<a@x.org>\r\nMAIL FROM:<a@x.org>\r\n\
                 RSET\r\nVRFY root\r\nHELP\r\nNOOP\r\nBOGUS\r\nMAIL FROM:<a@x.org>\r\nDATA\r\n\
                 RCPT TO:<-oQ/tmp/evil>\r\nRCPT TO:<b@x.org>\r\nDATA\r\nbody\r\n.\r\nQUIT\r\n";
    let mut config = config();
    config.limits.max_errors = 100;
    let mut out = Vec::new();
    let mut rec = Recorder {
        answer: Some(Reply::new(
            550,
            vec!["5.1.1 relay says no such user".into()],
        )),
        ..Recorder::default()
    };
    serve(&config, None, input.as_bytes(), &mut out, &mut rec).expect("session");
    let out = String::from_utf8(out).unwrap();
    assert_eq!(
        codes(&out),
        [
            "220", "250", "503", "503", "250", "503", "250", "252", "214", "250", "500", "250",
            "554", "501", "250", "354", "550", "221"
        ],
        "{out}"
    );
    assert!(out.contains("550 5.1.1 relay says no such user\r\n"));
}

#[test]
fn auth_is_required_and_a_failure_is_delayed() {
    let mut config = config();
    config.auth = Some(Arc::new(Password));
    config.limits.auth_failure_delay = Duration::from_millis(200);
    // PLAIN with the wrong password, then LOGIN with the right one.
    let input = "EHLO c\r\nMAIL FROM:<a@x.org>\r\nAUTH PLAIN AGFsaWNlAHdyb25n\r\n\
                 AUTH LOGIN\r\nYWxpY2U=\r\nczNjcmV0\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\n\
                 DATA\r\nhi\r\n.\r\nQUIT\r\n";
    let started = std::time::Instant::now();
    let (out, rec, _) = session(&config, input);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(
        codes(&out),
        ["220", "250", "530", "535", "334", "334", "235", "250", "250", "354", "250", "221"],
        "{out}"
    );
    assert!(out.contains("250-AUTH PLAIN LOGIN\r\n"));
    assert_eq!(rec.mails[0].3.as_deref(), Some("alice"));
    assert!(!out.contains("s3cret") && !out.contains("czNjcmV0"));
}

#[test]
fn repeated_auth_failures_close_the_connection() {
    let mut config = config();
    config.auth = Some(Arc::new(Password));
    config.limits.auth_failure_delay = Duration::ZERO;
    let input = "EHLO c\r\nAUTH PLAIN AGFsaWNlAHg=\r\nAUTH PLAIN AGFsaWNlAHg=\r\nAUTH PLAIN AGFsaWNlAHg=\r\nNOOP\r\n";
    let (out, _, result) = session(&config, input);
    assert!(
        matches!(result, Err(ServerError::TooManyAuthFailures)),
        "{result:?}"
    );
    assert_eq!(codes(&out), ["220", "250", "535", "535", "421"], "{out}");
}

#[test]
fn a_huge_command_line_is_refused_without_buffering_it() {
    let mut input = "EHLO c\r\n".to_string();
    input.push_str(&"A".repeat(1_000_000));
    let (out, _, result) = session(&config(), &input);
    assert!(matches!(
        result,
        Err(ServerError::LineTooLong { limit: 4096 })
    ));
    assert!(
        out.ends_with("421 5.5.2 Line too long, closing connection\r\n"),
        "{out}"
    );
}

#[test]
fn an_oversized_or_unfinished_message_is_not_delivered() {
    let mut config = config();
    config.limits.max_message_size = 10;
    let (out, rec, result) = session(
        &config,
        "HELO c\r\nMAIL FROM:<a@x.org> SIZE=11\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\n0123456789abc\r\n.\r\n",
    );
    assert!(matches!(
        result,
        Err(ServerError::MessageTooLarge { limit: 10 })
    ));
    assert_eq!(
        codes(&out),
        ["220", "250", "552", "250", "250", "354", "552"],
        "{out}"
    );
    assert!(rec.mails.is_empty());

    let (_, rec, result) = session(
        &self::config(),
        "HELO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\nnever ends\r\n",
    );
    assert!(matches!(result, Err(ServerError::EofInData)));
    assert!(rec.mails.is_empty());
}

#[test]
fn only_crlf_dot_crlf_ends_the_data() {
    // SMTP smuggling (CVE-2023-51764): a dot line after or before a bare LF, or between
    // bare CRs, is content; the MAIL after it is content too, never a second message.
    for smuggle in ["x\n.\nMAIL", "x\r\n.\nMAIL", "x\n.\r\nMAIL", "x\r.\rMAIL"] {
        let input = format!(
            "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n\
             {smuggle} FROM:<evil@example.org>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n\
             forged\r\n.\r\nQUIT\r\n"
        );
        let (out, rec, result) = session(&config(), &input);
        assert_eq!(rec.mails.len(), 1, "{smuggle:?}: {out}");
        let body = String::from_utf8_lossy(&rec.mails[0].2).into_owned();
        assert!(
            body.starts_with(smuggle) && body.ends_with("DATA\r\nforged\r\n"),
            "{smuggle:?}: {body:?}"
        );
        assert_eq!(
            codes(&out),
            ["220", "250", "250", "250", "354", "250", "221"],
            "{smuggle:?}: {out}"
        );
        assert!(result.is_ok());
    }
}

#[test]
fn http_and_header_lines_end_the_session() {
    for first in [
        "POST / HTTP/1.1",
        "GET / HTTP/1.0",
        "CONNECT 127.0.0.1:25 HTTP/1.1",
        "Host: 127.0.0.1:25",
        "User-Agent: Mozilla/5.0",
    ] {
        // What a browser's form POST would carry in its body.
        let input = format!(
            "{first}\r\nContent-Type: text/plain\r\n\r\nEHLO x\r\nMAIL FROM:<a@example.org>\r\n\
             RCPT TO:<b@example.org>\r\nDATA\r\nforged\r\n.\r\nQUIT\r\n"
        );
        let (out, rec, result) = session(&config(), &input);
        assert_eq!(codes(&out), ["220", "554"], "{first}: {out}");
        assert!(rec.mails.is_empty());
        assert!(
            matches!(result, Err(ServerError::ForeignProtocol)),
            "{first}"
        );
    }
    // After EHLO too.
    let (out, rec, _) = session(&config(), "EHLO x\r\nHost: y\r\nMAIL FROM:<a@x.org>\r\n");
    assert_eq!(codes(&out), ["220", "250", "554"], "{out}");
    assert!(rec.mails.is_empty());
}

#[test]
fn shell_metacharacters_outside_quotes_are_invalid_addresses() {
    for path in [
        "$(id)@x.org",
        "`id`@x.org",
        "a;b@x.org",
        "a|b@x.org",
        "a&b@x.org",
        "$HOME@x.org",
        "a*@x.org",
        "a\\b@x.org",
        "{a}@x.org",
        "a(comment)@x.org",
    ] {
        let input = format!(
            "EHLO c\r\nMAIL FROM:<{path}>\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<{path}>\r\nQUIT\r\n"
        );
        let (out, _, _) = session(&config(), &input);
        assert_eq!(
            out.lines()
                .filter(|l| l.starts_with("501 5.1.7 Invalid address"))
                .count(),
            2,
            "{path}: {out}"
        );
    }
    // Quoted local parts, domain literals and o'hara are addresses.
    for path in [
        "\"$(id) a;b\"@x.org",
        "o'hara@x.org",
        "a@[192.0.2.1]",
        "\"q q\"@x.org",
    ] {
        let input = format!("EHLO c\r\nMAIL FROM:<{path}>\r\nRCPT TO:<{path}>\r\nQUIT\r\n");
        let (out, _, _) = session(&config(), &input);
        assert_eq!(
            codes(&out),
            ["220", "250", "250", "250", "221"],
            "{path}: {out}"
        );
    }
}

#[test]
fn a_spool_that_cannot_be_created_is_a_temporary_refusal() {
    let config = SessionConfig {
        spool_dir: Some("/nonexistent/rsmtp-spool".into()),
        ..config()
    };
    let (out, rec, result) = session(
        &config,
        "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\nQUIT\r\n",
    );
    assert_eq!(
        codes(&out),
        ["220", "250", "250", "250", "451", "221"],
        "{out}"
    );
    assert!(out.contains("451 4.3.0 "), "{out}");
    assert!(rec.mails.is_empty());
    assert!(result.is_ok());
}

#[test]
fn the_shared_spool_budget_refuses_with_452_and_is_given_back() {
    let budget = crate::SpoolBudget::new(100);
    let config = SessionConfig {
        spool_budget: Some(budget.clone()),
        ..config()
    };
    let big = "x".repeat(150);
    let input = format!(
        "EHLO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\n{big}\r\n.\r\n\
         MAIL FROM:<a@x.org>\r\nRCPT TO:<b@x.org>\r\nDATA\r\nsmall\r\n.\r\nQUIT\r\n"
    );
    let (out, rec, _) = session(&config, &input);
    assert_eq!(
        codes(&out),
        ["220", "250", "250", "250", "354", "452", "250", "250", "354", "250", "221"],
        "{out}"
    );
    assert!(out.contains("452 4.3.1 "), "{out}");
    assert_eq!(rec.mails.len(), 1);
    // Everything was given back when the messages were done with.
    assert!(budget.take(100));
}
