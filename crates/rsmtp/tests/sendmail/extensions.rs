//! 8. PIPELINING, SIZE, DSN.

use super::*;

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
