//! Scripted server faults: each must end the session with the right error
//! kind, exit code and transient verdict — and never be reported as success.

use std::time::{Duration, Instant};

use rsmtp_smtp::{ErrorKind, SmtpError, Stage, TlsMode};
use rsmtp_testserver::{closed_port, Fault, ServerOptions, Step, TestServer, Tls};

use crate::harness::*;

const WAIT: Duration = Duration::from_secs(5);

fn fail_with(opts: ServerOptions, mode: TlsMode) -> (SmtpError, TestServer, Lines) {
    let server = TestServer::start(opts);
    let (result, trace) = deliver(&settings(&server, mode));
    let e = expect_err(result, &trace);
    (e, server, trace)
}

#[test]
fn connection_refused() {
    let mut s = rsmtp_smtp::SessionSettings::new("127.0.0.1", closed_port());
    s.tls = TlsMode::Off;
    s.timeout = Some(Duration::from_secs(5));
    let (result, trace) = deliver(&s);
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code(), e.is_transient()),
        (&ErrorKind::Connect, 75, true)
    );
}

#[test]
fn no_greeting_is_a_timeout_not_a_hang() {
    let start = Instant::now();
    let (e, _server, trace) = fail_with(
        ServerOptions::new().fault(Fault::no_greeting()),
        TlsMode::Off,
    );
    assert_eq!(e.kind(), &ErrorKind::Timeout, "{e}\n{}", trace.text());
    assert_eq!((e.exit_code().code(), e.is_transient()), (75, true));
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn no_greeting_within_the_timeout() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::no_greeting()));
    let mut s = settings(&server, TlsMode::Off);
    s.timeout = Some(Duration::from_secs(1));
    let start = Instant::now();
    let (result, trace) = deliver(&s);
    let e = expect_err(result, &trace);
    assert_eq!((e.kind(), e.is_transient()), (&ErrorKind::Timeout, true));
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[test]
fn service_closing_421_at_every_step_is_transient() {
    let steps = [
        (Step::Greeting, Stage::Greeting),
        (Step::Ehlo, Stage::Ehlo),
        (Step::StartTls, Stage::StartTls),
        (Step::Mail, Stage::Mail),
        (Step::Rcpt, Stage::Rcpt),
        (Step::Data, Stage::Data),
        (Step::EndOfData, Stage::Body),
    ];
    for (step, stage) in steps {
        let opts = ServerOptions::new()
            .tls(Tls::StartTls)
            .fault(Fault::service_closing(step));
        let (e, server, trace) = fail_with(opts, TlsMode::StartTls);
        assert_eq!(
            (e.exit_code().code(), e.is_transient()),
            (75, true),
            "{step:?}: {e}\n{}",
            trace.text()
        );
        assert_eq!(e.smtp_status().map(|s| s.0), Some(421), "{step:?}");
        match e.kind() {
            ErrorKind::Rejected { stage: got, reply } => {
                assert_eq!((*got, reply.code()), (stage, 421), "{step:?}");
            }
            ErrorKind::RecipientsRefused(r) => {
                assert_eq!((stage, r[0].1.code()), (Stage::Rcpt, 421))
            }
            other => panic!("{step:?}: {other:?}"),
        }
        assert!(server.messages().is_empty(), "{step:?}");
    }
}

#[test]
fn service_closing_421_at_auth() {
    let opts = ServerOptions::new()
        .tls(Tls::StartTls)
        .auth("u", "p")
        .fault(Fault::service_closing(Step::Auth));
    let server = TestServer::start(opts);
    let mut s = settings(&server, TlsMode::StartTls);
    s.auth = rsmtp_smtp::Auth::Auto;
    s.credentials = Some(rsmtp_smtp::Credentials::new("u", "p"));
    let (result, trace) = deliver(&s);
    let e = expect_err(result, &trace);
    assert_eq!((e.exit_code().code(), e.is_transient()), (75, true), "{e}");
}

#[test]
fn greeting_554_is_a_protocol_error_as_in_msmtp() {
    let (e, _s, _t) = fail_with(
        ServerOptions::new().fault(Fault::greeting(554, "5.3.2 No service")),
        TlsMode::Off,
    );
    assert!(matches!(
        e.kind(),
        ErrorKind::Rejected {
            stage: Stage::Greeting,
            ..
        }
    ));
    assert_eq!((e.exit_code().code(), e.is_transient()), (76, false));
}

#[test]
fn temporary_and_permanent_replies_to_envelope_and_body() {
    for step in [Step::Mail, Step::Rcpt, Step::Data, Step::EndOfData] {
        for (code, exit, transient) in [
            (451, 75, true),
            (452, 75, true),
            (550, 65, false),
            (554, 65, false),
        ] {
            // msmtp's rule: a permanent refusal of the body is EX_UNAVAILABLE.
            let exit = if step == Step::EndOfData && exit == 65 {
                69
            } else {
                exit
            };
            let opts = ServerOptions::new().fault(Fault::reply(step, code, "scripted refusal"));
            let (e, server, trace) = fail_with(opts, TlsMode::Off);
            assert_eq!(
                (e.exit_code().code(), e.is_transient()),
                (exit, transient),
                "{step:?} {code}: {e}\n{}",
                trace.text()
            );
            assert_eq!(
                e.smtp_status(),
                Some((code, "scripted refusal".into())),
                "{step:?} {code}"
            );
            if step == Step::Rcpt {
                assert!(e.to_string().contains(TO), "names the recipient: {e}");
            }
            server.wait_for_idle(WAIT);
            assert!(server.messages().is_empty(), "{step:?} {code}");
            if step != Step::EndOfData {
                assert!(
                    server.rejected_messages().is_empty(),
                    "no body after {step:?} {code}"
                );
            }
        }
    }
}

#[test]
fn drop_mid_data_is_transient_and_never_success() {
    let mut body = b"Subject: big\r\n\r\n".to_vec();
    body.extend(std::iter::repeat_n(b'x', 200_000));
    for tls in [Tls::None, Tls::Implicit] {
        let mode = if tls == Tls::None {
            TlsMode::Off
        } else {
            TlsMode::Implicit
        };
        let server = TestServer::start(
            ServerOptions::new()
                .tls(tls)
                .fault(Fault::drop_during_data(1000)),
        );
        let (result, trace) = deliver_with(&settings(&server, mode), &envelope(), &body);
        let e = expect_err(result, &trace);
        assert_eq!(e.kind(), &ErrorKind::Io, "{tls:?}: {e}");
        assert_eq!(
            (e.exit_code().code(), e.is_transient()),
            (75, true),
            "{tls:?}: {e}"
        );
        assert!(server.messages().is_empty());
    }
}

#[test]
fn drop_instead_of_final_reply_is_transient() {
    let (e, _s, _t) = fail_with(
        ServerOptions::new().fault(Fault::Drop(Step::EndOfData)),
        TlsMode::Off,
    );
    assert_eq!(
        (e.kind(), e.exit_code().code(), e.is_transient()),
        (&ErrorKind::Io, 75, true)
    );
    assert!(e.to_string().contains("may not have been delivered"), "{e}");
}

#[test]
fn hang_after_data_times_out() {
    let server = TestServer::start(ServerOptions::new().fault(Fault::hang_after_data()));
    let mut s = settings(&server, TlsMode::Off);
    s.timeout = Some(Duration::from_secs(1));
    let (result, trace) = deliver(&s);
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code(), e.is_transient()),
        (&ErrorKind::Timeout, 75, true)
    );
}

#[test]
fn huge_reply_line_is_a_protocol_error() {
    for step in [Step::Greeting, Step::Ehlo, Step::Mail] {
        let opts = ServerOptions::new().fault(Fault::LongReply(step, 100_000));
        let (e, _s, trace) = fail_with(opts, TlsMode::Off);
        assert_eq!(e.kind(), &ErrorKind::Protocol, "{step:?}: {e}");
        assert_eq!((e.exit_code().code(), e.is_transient()), (76, false));
        assert!(
            trace.text().len() < 20_000,
            "the trace holds no 100 KB line"
        );
    }
}

#[test]
fn starttls_advertised_but_failing() {
    let opts = ServerOptions::new()
        .tls(Tls::StartTls)
        .fault(Fault::starttls_unavailable());
    let (e, server, _t) = fail_with(opts, TlsMode::StartTls);
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Rejected {
                stage: Stage::StartTls,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!((e.exit_code().code(), e.is_transient()), (75, true));
    server.wait_for_idle(WAIT);
    let verbs = server.sessions()[0].verbs();
    assert!(
        !verbs.contains(&"MAIL".to_string()),
        "never continues in plain text: {verbs:?}"
    );

    let opts = ServerOptions::new().tls(Tls::StartTls).fault(Fault::reply(
        Step::StartTls,
        502,
        "5.5.1 not implemented",
    ));
    let (e, _server, _t) = fail_with(opts, TlsMode::StartTls);
    assert_eq!((e.exit_code().code(), e.is_transient()), (76, false), "{e}");
}

#[test]
fn slow_but_working_server_within_timeout() {
    let opts =
        ServerOptions::new().fault(Fault::Delay(Step::Greeting, Duration::from_millis(1500)));
    let server = TestServer::start(opts);
    let (result, trace) = deliver(&settings(&server, TlsMode::Off));
    expect_ok(result, &trace);
}

#[test]
fn drop_at_greeting() {
    let (e, _s, _t) = fail_with(
        ServerOptions::new().fault(Fault::Drop(Step::Greeting)),
        TlsMode::Off,
    );
    assert_eq!((e.kind(), e.is_transient()), (&ErrorKind::Io, true), "{e}");
}

/// A 2xx/3xx that is not the reply SMTP defines for the step (`221` to MAIL
/// FROM) is a server out of step, not a success: 76, the command named and
/// the reply quoted, and no message handed over as delivered.
#[test]
fn unexpected_positive_reply_is_a_protocol_error_naming_the_command() {
    let cases = [
        (Step::Mail, 221, "MAIL FROM"),
        (Step::Rcpt, 220, "RCPT TO"),
        (Step::Data, 250, "DATA"),
        (Step::EndOfData, 221, "end of data"),
        (Step::Ehlo, 220, "EHLO"),
    ];
    for (step, code, named) in cases {
        let opts = ServerOptions::new().fault(Fault::reply(step, code, "out of step"));
        let (e, server, trace) = fail_with(opts, TlsMode::Off);
        assert_eq!(
            (e.kind(), e.exit_code().code(), e.is_transient()),
            (&ErrorKind::Protocol, 76, false),
            "{step:?} {code}: {e}\n{}",
            trace.text()
        );
        let text = e.to_string();
        assert!(
            text.contains(named) && text.contains(&format!("\"{code} out of step\"")),
            "{step:?}: {text}"
        );
        assert_eq!(e.smtp_status(), Some((code, "out of step".into())));
        server.wait_for_idle(WAIT);
        if step != Step::EndOfData {
            assert!(
                server.rejected_messages().is_empty() && server.messages().is_empty(),
                "no body after {step:?} {code}\n{}",
                server.transcript()
            );
        }
    }
}

/// RFC 5321 §3.4/§3.5: 251 (will forward) and 252 (cannot verify, will try)
/// accept a recipient.
#[test]
fn rcpt_251_and_252_accept_the_recipient() {
    for code in [251, 252] {
        let server = TestServer::start(ServerOptions::new().fault(Fault::reply(
            Step::Rcpt,
            code,
            "2.1.5 will try",
        )));
        let (result, trace) = deliver(&settings(&server, TlsMode::Off));
        let d = expect_ok(result, &trace);
        assert_eq!(d.recipients[0].1.code(), code);
        assert_eq!(server.wait_for_messages(1, WAIT).len(), 1);
    }
}

/// A server that answers every reply within the timeout but takes longer
/// than the session limit overall is cut off there: timeout 2 s → limit
/// 2 s × 5 = 10 s (the size is not declared here); twelve RCPTs answered
/// after 1 s each (no pipelining) would take 12 s.
#[test]
fn session_limit_stops_a_server_slow_at_every_step() {
    let opts = ServerOptions::new()
        .extensions(rsmtp_testserver::Extensions::none())
        .fault(Fault::Delay(Step::Rcpt, Duration::from_secs(1)));
    let server = TestServer::start(opts);
    let mut s = settings(&server, TlsMode::Off);
    s.timeout = Some(Duration::from_secs(2));
    let recipients: Vec<String> = (0..12).map(|i| format!("r{i}@example.org")).collect();
    let envelope = rsmtp_smtp::Envelope::new(FROM, recipients);
    let start = Instant::now();
    let (result, trace) = deliver_with(&s, &envelope, MESSAGE);
    let elapsed = start.elapsed();
    let e = expect_err(result, &trace);
    assert_eq!(
        (e.kind(), e.exit_code().code(), e.is_transient()),
        (&ErrorKind::Timeout, 75, true),
        "{e}"
    );
    // The limit passes while waiting for a RCPT reply or just before
    // sending the next RCPT: either way the message names the limit.
    assert!(
        e.to_string()
            .starts_with("timeout: the session took longer than its limit of 10 s"),
        "{e}"
    );
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    assert!(server.messages().is_empty());
}

/// The timeout counts for the whole reply: a server trickling a 60-byte
/// reply one byte every 300 ms (18 s) never lets a per-read timeout of 2 s
/// fire, but misses the 2 s reply deadline.
#[test]
fn trickled_reply_misses_the_reply_deadline() {
    for step in [Step::Greeting, Step::Mail, Step::EndOfData] {
        let opts = ServerOptions::new()
            .fault(Fault::LongReply(step, 56))
            .fault(Fault::Trickle(step, Duration::from_millis(300)));
        let server = TestServer::start(opts);
        let mut s = settings(&server, TlsMode::Off);
        s.timeout = Some(Duration::from_secs(2));
        s.probe_silent_greeting = false;
        let start = Instant::now();
        let (result, trace) = deliver(&s);
        let elapsed = start.elapsed();
        let e = expect_err(result, &trace);
        assert_eq!(
            (e.kind(), e.exit_code().code()),
            (&ErrorKind::Timeout, 75),
            "{step:?}: {e}"
        );
        let named = match step {
            Step::Greeting => "greeting",
            Step::Mail => "MAIL FROM",
            _ => "end of data",
        };
        assert!(
            e.to_string().contains("answered too slowly") && e.to_string().contains(named),
            "{step:?}: {e}"
        );
        assert!(elapsed < Duration::from_secs(8), "{step:?}: {elapsed:?}");
    }
}
