//! `stats` on a given log, and on the log rsmtp itself wrote (found through the msmtprc).

use crate::*;

#[test]
fn counts_a_log_file() {
    let env = Env::bare();
    let log = env.path("msmtp.log");
    std::fs::write(
        &log,
        "Dec 21 16:03:07 host=smtp.gmail.com tls=on auth=on from=me@x.example recipients=me@x.example mailsize=512 smtpstatus=250 smtpmsg='250 OK' exitcode=EX_OK\n\
         Dec 21 18:00:15 host=smtp.gmail.com tls=on auth=on from=me@x.example recipients=me@x.example errormsg='Connection refused' exitcode=EX_TEMPFAIL\n\
         Dec 21 19:00:15 host=smtp.gmail.com tls=on auth=on from=me@x.example recipients=me@x.example errormsg='Connection refused' exitcode=EX_TEMPFAIL\n\
         Dec 21 20:00:00 host=smtp.gmail.com tls=on auth=on user=me from=me@x.example recipients=boss@x.example smtpstatus=535 smtpmsg='535 5.7.8 Username and Password not accepted' errormsg='authentication failed' exitcode=EX_NOPERM\n\
         Dec 21 21:00:00 host=smtp.gmail.com tls=on auth=on from=me@x.example recipients=me@x.example exitcode=EX_OK\n",
    )
    .unwrap();
    let r = run({
        let mut c = env.cmd();
        c.args(["stats", "--log", log.to_str().unwrap()]);
        c
    });
    r.assert_code(0);
    assert!(r.stdout.contains("sent:   2\nfailed: 3\n"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("      2  EX_TEMPFAIL errormsg='Connection refused'"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("      1  EX_NOPERM smtpstatus=535"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("last failure: Dec 21 20:00:00 EX_NOPERM"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("recipients=boss@x.example"));
}

#[test]
fn missing_log_and_bad_since() {
    let env = Env::bare();
    let mut c = env.cmd();
    c.args(["stats", "--log", "/nonexistent/msmtp.log"]);
    let r = run(c);
    r.assert_code(66);
    assert!(
        r.stderr.starts_with("backup-alert: /nonexistent/msmtp.log"),
        "{}",
        r.stderr
    );
    let mut c = env.cmd();
    c.args(["stats", "--log", "/dev/null", "--since", "last tuesday"]);
    run(c).assert_code(64);
}

#[test]
fn counts_what_rsmtp_logged() {
    let server = server();
    let env = Env::new(&server);
    for i in 0..2 {
        run(env.sub(&[
            "send",
            "--status",
            "success",
            "--subject",
            &format!("s{i}"),
            "--to",
            TO,
            "--body",
            "b",
        ]))
        .assert_code(0);
    }
    assert_eq!(server.wait_for_messages(2, WAIT).len(), 2);
    // the logfile comes from the msmtprc's default account
    let r = run(env.sub(&["stats", "--since", "1h"]));
    r.assert_code(0);
    assert!(
        r.stdout.starts_with(&env.log.display().to_string()),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("sent:   2\n"), "{}", r.stdout);
}

#[test]
fn control_characters_in_a_log_never_reach_the_terminal() {
    let env = Env::bare();
    let log = env.path("msmtp.log");
    std::fs::write(
        &log,
        "Dec 21 18:00:15 host=h tls=on auth=on from=a@x recipients=b@x \
         errormsg='refused \x1b[2J\x1b[31mred\rHIDDEN\x07' exitcode=EX_TEMPFAIL\n",
    )
    .unwrap();
    let r = run({
        let mut c = env.cmd();
        c.args(["stats", "--log", log.to_str().unwrap()]);
        c
    });
    r.assert_code(0);
    assert!(
        !r.stdout.contains('\x1b') && !r.stdout.contains('\r') && !r.stdout.contains('\x07'),
        "{:?}",
        r.stdout
    );
    assert!(
        r.stdout.contains("refused ?[2J?[31mred?HIDDEN?"),
        "{}",
        r.stdout
    );
}
