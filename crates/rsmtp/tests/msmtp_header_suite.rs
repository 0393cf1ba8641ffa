//! msmtp's own header test (`tests/test-header-handling.sh` in msmtp's repository,
//! the RFC 2822 appendix case), ported check for check with rsmtp as the client.
//!
//! The script runs the client against msmtpd, whose `--command` writes the mail and
//! the recipient list to files; here the client runs against the in-repo test server,
//! which records the same two things. The input mail, the command lines and the ten
//! checks are the script's:
//!
//! 1. `--set-from-header=on --from test@example.com` gives `From: test@example.com`;
//! 2. with `-F "Test User"`: `From: Test User <test@example.com>`;
//! 3. with `-F "Test Üser"` under en_US.UTF-8: `From: =?utf-8?B?VGVzdCDDnHNlcg==?=
//!    <test@example.com>`;
//! 4. the command-line recipient is the only recipient;
//! 5. `--read-envelope-from --read-recipients`: `From: from@example.com`;
//! 6. the fourteen recipients of the appendix case, in order;
//! 7. a `Date` header is there;
//! 8. `date -R --date=VALUE` gives the value back (it is RFC 2822);
//! 9. a `Message-ID: <…@example.com>` header is there;
//! 10. no `Bcc: ` line is left.
//!
//! The script stops at the first failure (`set -e`), so each of the four client
//! runs must exit 0 too. msmtp 1.8.23 runs the same checks as a control: it passes
//! all but check 3 (it writes the full name raw; the encoding came after 1.8.23).

use std::process::Command;

use rsmtp_testserver::ReceivedMessage;

use crate::support::*;

/// The script's `mail-header-handling.txt`, byte for byte (tabs and the blank
/// after `to12,` included).
const MAIL: &str = "From: Some Name <from@example.com>
X-Comment: Recipient address madness inspired by the RFC 2822 appendix
To: to1@example.com,
\t=?utf-8?B?VGVzdCDDnHNlcg==?= <to2@example.com>, Some
\tOne <to3@example.com>,
Cc: to4, \"A; \\\"Quoted\\\" Name\" <to5@example.com>
To: A Group:Person 1 <to6@example.com>,to7@example.com,SomeOne <to8@example.com>;
Cc: Undisclosed recipients:;
To: \"A Person: Personal Account\" <to9@example.com>
To: Some(wonderful \\) chap) <to10(his account)@localhost(this host)>
Cc:A Group(Some people)
     :Some Person <to11@(their's host.)example.com>,
              to12, 
\t        Person <to13@localhost> (a friend); (the end of the group)
Bcc:(Empty list)(start)Undisclosed recipients  :(nobody(that I know))  ;
Bcc: bcc@example.com
Subject: Test

This is a test.
";

/// The script's `mail-header-handling-correct-recipients.txt` (one line).
const RECIPIENTS: &str = "to1@example.com to2@example.com to3@example.com to4 \
to5@example.com to6@example.com to7@example.com to8@example.com to9@example.com \
to10@localhost to11@example.com to12 to13@localhost bcc@example.com";

/// One check of the script and whether it held.
struct Check {
    what: &'static str,
    outcome: Result<(), String>,
}

/// The lines of the mail the server got that start with `prefix`, as `grep "^…"`.
fn grep(m: &ReceivedMessage, prefix: &str) -> Vec<String> {
    m.data_str()
        .split("\r\n")
        .filter(|l| l.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

fn equal(got: Vec<String>, want: &str) -> Result<(), String> {
    if got == [want] {
        Ok(())
    } else {
        Err(format!("got {got:?}, want [{want:?}]"))
    }
}

/// Runs the script's four client commands with `client` and its ten checks.
fn header_handling(client: &std::path::Path) -> Vec<Check> {
    let server = plain_server();
    let dir = Dir::new();
    let host = [
        "--host=127.0.0.1".to_string(),
        format!("--port={}", server.port()),
    ];
    let mut checks = Vec::new();
    let mut send = |what: &'static str, args: &[&str], env: &[(&str, &str)]| {
        let before = server.messages().len();
        let mut cmd = dir.command(client).args(&host).args(args).stdin(MAIL);
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        let run = cmd.run();
        let got = server.wait_for_messages(before + 1, std::time::Duration::from_secs(10));
        let outcome = match (run.code(), got.get(before)) {
            (0, Some(_)) => Ok(()),
            (code, _) => Err(format!("exit {code}: {}", run.stderr())),
        };
        checks.push(Check { what, outcome });
        got.get(before).cloned()
    };
    let from_on = ["--set-from-header=on", "--from", "test@example.com"];

    let m1 = send(
        "run 1 exits 0",
        &[&from_on[..], &["recipient@example.com"]].concat(),
        &[],
    );
    let m2 = send(
        "run 2 exits 0",
        &[&from_on[..], &["-F", "Test User", "recipient@example.com"]].concat(),
        &[],
    );
    let m3 = send(
        "run 3 exits 0",
        &[&from_on[..], &["-F", "Test Üser", "recipient@example.com"]].concat(),
        &[("LANG", "en_US.UTF-8"), ("LC_ALL", "en_US.UTF-8")],
    );
    let m4 = send(
        "run 4 exits 0",
        &[
            "--set-from-header=on",
            "--read-envelope-from",
            "--read-recipients",
        ],
        &[],
    );
    let missing = || Err("no mail".to_string());
    let mut check = |what: &'static str, outcome: Result<(), String>| {
        checks.push(Check { what, outcome });
    };

    check(
        "1 From header generation",
        m1.as_ref().map_or_else(missing, |m| {
            equal(grep(m, "From: "), "From: test@example.com")
        }),
    );
    check(
        "2 From header with a full name",
        m2.as_ref().map_or_else(missing, |m| {
            equal(grep(m, "From: "), "From: Test User <test@example.com>")
        }),
    );
    check(
        "3 From header with a non-ASCII full name",
        m3.as_ref().map_or_else(missing, |m| {
            equal(
                grep(m, "From: "),
                "From: =?utf-8?B?VGVzdCDDnHNlcg==?= <test@example.com>",
            )
        }),
    );
    check(
        "4 command line recipient",
        m3.as_ref().map_or_else(missing, |m| {
            equal(vec![m.recipients().join(" ")], "recipient@example.com")
        }),
    );
    check(
        "5 envelope from read from the mail",
        m4.as_ref().map_or_else(missing, |m| {
            equal(grep(m, "From: "), "From: from@example.com")
        }),
    );
    check(
        "6 recipients read from the mail",
        m4.as_ref().map_or_else(missing, |m| {
            equal(vec![m.recipients().join(" ")], RECIPIENTS)
        }),
    );
    let date = m4
        .as_ref()
        .and_then(|m| grep(m, "Date: ").into_iter().next());
    check(
        "7 Date header",
        date.as_ref()
            .map(|_| ())
            .ok_or_else(|| "no Date header".to_string()),
    );
    check(
        "8 Date header format",
        match date.as_deref().and_then(|d| d.strip_prefix("Date: ")) {
            Some(value) => {
                // `echo $TEST_DATE` (unquoted) against `date -R --date="$TEST_DATE"`.
                let echoed = value.split_whitespace().collect::<Vec<_>>().join(" ");
                let out = Command::new("date")
                    .env("TZ", "UTC")
                    .arg("-R")
                    .arg(format!("--date={value}"))
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_string());
                match out {
                    Ok(reformatted) if reformatted == echoed => Ok(()),
                    other => Err(format!("{value:?} → {other:?}")),
                }
            }
            None => missing(),
        },
    );
    check(
        "9 Message-ID header",
        m4.as_ref().map_or_else(missing, |m| {
            grep(m, "Message-ID: <")
                .iter()
                .any(|l| l.contains("@example.com>"))
                .then_some(())
                .ok_or_else(|| format!("{:?}", grep(m, "Message-ID")))
        }),
    );
    check(
        "10 Bcc header removal",
        m4.as_ref().map_or_else(missing, |m| {
            let left = grep(m, "Bcc: ");
            left.is_empty()
                .then_some(())
                .ok_or_else(|| format!("{left:?}"))
        }),
    );
    checks
}

fn report(checks: &[Check]) -> String {
    checks
        .iter()
        .map(|c| match &c.outcome {
            Ok(()) => format!("ok   {}", c.what),
            Err(e) => format!("FAIL {}: {e}", c.what),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn msmtps_header_handling_suite_passes_with_rsmtp() {
    let checks = header_handling(&rsmtp_bin());
    assert_eq!(checks.len(), 14);
    assert!(
        checks.iter().all(|c| c.outcome.is_ok()),
        "{}",
        report(&checks)
    );
}

/// The control: the checks are msmtp's, so msmtp passes them (1.8.23 all but the
/// encoded full name, which later versions added).
#[test]
fn msmtps_header_handling_suite_with_msmtp_itself() {
    let Some(msmtp) = crate::differential::oracle() else {
        return;
    };
    let checks = header_handling(&msmtp);
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.outcome.is_err())
        .map(|c| c.what)
        .collect();
    assert_eq!(
        failed,
        ["3 From header with a non-ASCII full name"],
        "{}",
        report(&checks)
    );
}
