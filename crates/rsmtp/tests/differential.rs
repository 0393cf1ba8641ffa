//! Differential tests: Debian's msmtp 1.8.23 (`/usr/bin/msmtp`) is the oracle.
//!
//! Each case writes one msmtprc, then runs msmtp and rsmtp one after the other with the
//! same HOME, environment, arguments and stdin against the same [`TestServer`]; the
//! connections of each run are told apart by their number. The two runs must agree on
//! what a user or a script would notice: the envelope (MAIL FROM, every RCPT TO in order,
//! their ESMTP parameters), the header fields in order (Date and Message-ID values
//! masked), the body bytes, the exit code and the log line's fields (time stamp
//! excluded; `errormsg` uses msmtp's wording). Where rsmtp deliberately differs
//! (README: 4xx and timeouts → 75, its Message-ID format, a quoted
//! From full name with a comma, NUL in headers refused, a finite default timeout; and
//! rsmtp-smtp's SIZE/BODY=8BITMIME declarations, a broken connection → 75, error text
//! that names the fix) the test turns that one comparison off and asserts the
//! difference itself. msmtp 1.8.23 predates `from_full_name`; `-F` stands in for it.
//!
//! Most cases have one shape and are rows of a table ([`rows`], run by [`run_row`]):
//! server options, config lines, arguments, stdin, what to compare, each program's exit
//! code and a check of the row's own.
//!
//! To add a case: add a [`Row`] to [`rows`], setting only what differs from
//! `..Row::default()` ([`COMPLETE`] to one recipient through a plain server, both exit
//! 0, everything compared), and add its name as a line `fn name();` to `row_tests!`,
//! which makes it a `#[test]` (`every_row_has_a_test` fails if the two lists differ).
//! Run it with `cargo test -p rsmtp --test integration differential::name`. A case with
//! several steps, its own config file or no [`assert_same`] stays a function below the
//! table, built from [`Case`].
//!
//! Without msmtp the tests skip (a note on stderr); under `CI=true` they fail.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rsmtp_testserver::{
    closed_port, Extensions, Fault, ReceivedMessage, ServerOptions, SessionRecord, Step,
    TestServer, Tls,
};

use rsmtp_core::ExitCode;

use crate::support::*;

/// msmtp, or `None` when the test should be skipped.
pub(crate) fn oracle() -> Option<PathBuf> {
    require_peer("/usr/bin/msmtp", "msmtp (Debian package msmtp)")
}

/// What one program did in one case.
pub(crate) struct Side {
    pub(crate) name: &'static str,
    pub(crate) run: Run,
    /// Messages the server accepted from this run.
    pub(crate) accepted: Vec<ReceivedMessage>,
    /// Messages whose body arrived but were refused.
    pub(crate) rejected: Vec<ReceivedMessage>,
    /// This run's connections.
    pub(crate) sessions: Vec<SessionRecord>,
    /// How many connections the server accepted during this run.
    pub(crate) connections: usize,
    /// The log lines this run appended.
    pub(crate) log: Vec<String>,
}

impl Side {
    pub(crate) fn describe(&self) -> String {
        format!(
            "{}: exit {}\n--- stderr\n{}--- log\n{}\n",
            self.name,
            self.run.code(),
            self.run.stderr(),
            self.log.join("\n")
        )
    }

    /// MAIL and RCPT commands of every session, normalised (verb upper-cased,
    /// `SIZE=n` → `SIZE`): what the client asked for, accepted or not.
    pub(crate) fn envelope_commands(&self) -> Vec<String> {
        self.sessions
            .iter()
            .flat_map(|s| s.commands.iter())
            .filter_map(|c| {
                let upper = c.line.to_ascii_uppercase();
                if !(upper.starts_with("MAIL ") || upper.starts_with("RCPT ")) {
                    return None;
                }
                let (verb, rest) = c.line.split_once(':').unwrap_or((&c.line, ""));
                let rest: Vec<String> = rest
                    .split(' ')
                    .map(|p| {
                        if p.to_ascii_uppercase().starts_with("SIZE=") {
                            "SIZE".to_string()
                        } else {
                            p.to_string()
                        }
                    })
                    .collect();
                Some(format!(
                    "{}:{}",
                    verb.to_ascii_uppercase().replace("  ", " "),
                    rest.join(" ")
                ))
            })
            .collect()
    }

    pub(crate) fn log_fields(&self) -> Vec<Vec<(String, String)>> {
        self.log.iter().map(|l| log_fields(l)).collect()
    }
}

/// A case: one directory (HOME), one config, one server.
pub(crate) struct Case<'a> {
    dir: &'a Dir,
    server: Option<&'a TestServer>,
    args: Vec<String>,
    stdin: Vec<u8>,
}

impl<'a> Case<'a> {
    pub(crate) fn new(dir: &'a Dir, server: Option<&'a TestServer>) -> Self {
        Case {
            dir,
            server,
            args: vec!["-C".into(), config_path(dir).display().to_string()],
            stdin: Vec::new(),
        }
    }

    /// Start the command line without `-C` (config found in HOME).
    pub(crate) fn without_config_flag(mut self) -> Self {
        self.args.clear();
        self
    }

    pub(crate) fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub(crate) fn stdin(mut self, input: impl AsRef<[u8]>) -> Self {
        self.stdin = input.as_ref().to_vec();
        self
    }

    pub(crate) fn run_program(&self, name: &'static str, program: &Path) -> Side {
        let before = self.server.map_or(0, TestServer::connections);
        let log_before = log_lines(self.dir).len();
        let run = self
            .dir
            .command(program)
            .args(&self.args)
            .stdin(&self.stdin)
            .run();
        let mine = |m: &ReceivedMessage| m.connection > before;
        let (accepted, rejected, sessions, connections) = match self.server {
            Some(server) => {
                server.wait_for_idle(Duration::from_secs(5));
                (
                    server.messages().into_iter().filter(mine).collect(),
                    server
                        .rejected_messages()
                        .into_iter()
                        .filter(mine)
                        .collect(),
                    server
                        .sessions()
                        .into_iter()
                        .filter(|s| s.id > before)
                        .collect(),
                    server.connections() - before,
                )
            }
            None => Default::default(),
        };
        let log = log_lines(self.dir).split_off(log_before);
        Side {
            name,
            run,
            accepted,
            rejected,
            sessions,
            connections,
            log,
        }
    }

    /// Run msmtp, then rsmtp.
    pub(crate) fn run(&self, msmtp: &Path) -> (Side, Side) {
        let m = self.run_program("msmtp", msmtp);
        let r = self.run_program("rsmtp", &rsmtp_bin());
        (m, r)
    }
}

pub(crate) fn config_path(dir: &Dir) -> PathBuf {
    dir.join("msmtprc")
}

pub(crate) fn log_path(dir: &Dir) -> PathBuf {
    dir.join("msmtp.log")
}

pub(crate) fn log_lines(dir: &Dir) -> Vec<String> {
    std::fs::read_to_string(log_path(dir))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The fields of a log line after the time stamp, in order: `key=value`, the single
/// quotes of `smtpmsg='…'`/`errormsg='…'` removed (msmtp turns quotes inside into `?`).
pub(crate) fn log_fields(line: &str) -> Vec<(String, String)> {
    // rsmtp's own reader of the line (next to its writer), for both programs' lines.
    rsmtp::log::LogLine::parse(line)
        .map(|l| l.fields)
        .unwrap_or_default()
}

pub(crate) fn field<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Header fields in order: name as written, value unfolded (continuation lines joined
/// with their leading white space kept), Date and Message-ID values masked.
pub(crate) fn header_fields(data: &[u8]) -> Vec<(String, String)> {
    let (head, _) = split_message(data);
    let text = String::from_utf8_lossy(head);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push_str(line);
            }
            continue;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        fields.push((name.to_string(), value.trim_start().to_string()));
    }
    for (name, value) in &mut fields {
        if name.eq_ignore_ascii_case("date") || name.eq_ignore_ascii_case("message-id") {
            *value = "<masked>".into();
        }
    }
    fields
}

pub(crate) fn body(m: &ReceivedMessage) -> &[u8] {
    split_message(&m.data).1
}

/// What to compare. `Compare::default()` compares everything but `mailsize`; a
/// documented difference turns one comparison off and the test asserts it instead.
#[derive(Clone, Copy)]
pub(crate) struct Compare {
    /// The input has Date and Message-ID, so msmtp and rsmtp send the same number of
    /// bytes and `mailsize` must agree.
    pub(crate) mailsize: bool,
    /// Compare the exit code and the log's `exitcode` field.
    pub(crate) exit_code: bool,
    /// Compare the `BODY=` and `SIZE=` MAIL FROM parameters (rsmtp declares both when
    /// the server offers 8BITMIME and SIZE, RFC 6152 and RFC 1870; msmtp never does).
    pub(crate) declared_params: bool,
    /// Compare the log's `errormsg` text (rsmtp uses msmtp's wording for the same
    /// error; where the error itself differs, only its presence is compared).
    pub(crate) errormsg: bool,
    /// A header whose value the test asserts itself (its position is still compared).
    pub(crate) header_asserted: Option<&'static str>,
}

impl Default for Compare {
    fn default() -> Self {
        Compare {
            mailsize: false,
            exit_code: true,
            declared_params: true,
            errormsg: true,
            header_asserted: None,
        }
    }
}

/// Assert that both runs did the same thing (see the module comment).
#[track_caller]
pub(crate) fn assert_same(m: &Side, r: &Side, how: Compare) {
    let context = format!("{}\n{}", m.describe(), r.describe());
    if how.exit_code {
        assert_eq!(m.run.code(), r.run.code(), "exit code differs\n{context}");
    }
    let without_body = |cmds: Vec<String>| -> Vec<String> {
        if how.declared_params {
            return cmds;
        }
        cmds.into_iter()
            .map(|c| {
                c.split(' ')
                    .filter(|p| {
                        let p = p.to_ascii_uppercase();
                        !(p.starts_with("BODY=") || p == "SIZE")
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    assert_eq!(
        without_body(m.envelope_commands()),
        without_body(r.envelope_commands()),
        "MAIL/RCPT commands differ\n{context}"
    );
    assert_eq!(
        m.accepted.len(),
        r.accepted.len(),
        "accepted message count differs\n{context}"
    );
    assert_eq!(
        m.rejected.len(),
        r.rejected.len(),
        "rejected message count differs\n{context}"
    );
    for (mm, rm) in m
        .accepted
        .iter()
        .chain(&m.rejected)
        .zip(r.accepted.iter().chain(&r.rejected))
    {
        assert_same_message(mm, rm, how, &context);
    }
    assert_same_log(m, r, how, &context);
}

#[track_caller]
fn assert_same_message(mm: &ReceivedMessage, rm: &ReceivedMessage, how: Compare, context: &str) {
    assert_eq!(mm.mail_from, rm.mail_from, "MAIL FROM differs\n{context}");
    let rcpts = |x: &ReceivedMessage| -> Vec<(String, Vec<String>)> {
        x.rcpt_to
            .iter()
            .map(|r| (r.address.clone(), r.params.clone()))
            .collect()
    };
    assert_eq!(rcpts(mm), rcpts(rm), "RCPT TO list differs\n{context}");
    let headers = |data: &[u8]| -> Vec<(String, String)> {
        let mut fields = header_fields(data);
        for (name, value) in &mut fields {
            if how
                .header_asserted
                .is_some_and(|h| name.eq_ignore_ascii_case(h))
            {
                *value = "<asserted by the test>".into();
            }
        }
        fields
    };
    assert_eq!(
        headers(&mm.data),
        headers(&rm.data),
        "header fields differ\n--- msmtp sent\n{}\n--- rsmtp sent\n{}\n{context}",
        mm.data_str(),
        rm.data_str()
    );
    assert!(
        body(mm) == body(rm),
        "body differs\n--- msmtp sent\n{:?}\n--- rsmtp sent\n{:?}\n{context}",
        mm.data_str(),
        rm.data_str()
    );
}

#[track_caller]
fn assert_same_log(m: &Side, r: &Side, how: Compare, context: &str) {
    let (mf, rf) = (m.log_fields(), r.log_fields());
    assert_eq!(mf.len(), rf.len(), "number of log lines differs\n{context}");
    for (ml, rl) in mf.iter().zip(&rf) {
        let keys = |l: &[(String, String)]| -> Vec<String> {
            let mut k: Vec<String> = l.iter().map(|(k, _)| k.clone()).collect();
            k.sort();
            k
        };
        assert_eq!(keys(ml), keys(rl), "log field names differ\n{context}");
        for (key, value) in ml {
            // mailsize differs by the length of the added headers unless the input
            // already had them.
            if (key == "errormsg" && !how.errormsg)
                || (key == "mailsize" && !how.mailsize)
                || (key == "exitcode" && !how.exit_code)
            {
                continue;
            }
            // The test server's queue id names the connection; mask it.
            let mask = |v: &str| match v.find("queued as ") {
                Some(i) => format!("{}queued as <id>", &v[..i]),
                None => v.to_string(),
            };
            assert_eq!(
                Some(mask(value)),
                field(rl, key).map(mask),
                "log field {key} differs\n{context}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// Configurations and messages.

pub(crate) const FROM: &str = "sender@example.org";

/// A plain-text account on `port` with the shared log file.
pub(crate) fn plain(dir: &Dir, port: u16, extra: &str) -> String {
    let text = plain_config(
        port,
        &format!("logfile {}\n{extra}", log_path(dir).display()),
    );
    dir.write("msmtprc", &text);
    text
}

/// A STARTTLS (or implicit TLS) account with AUTH, trusting the server's test CA.
fn tls_auth(dir: &Dir, server: &TestServer, starttls: bool, password: &str) -> String {
    let text = format!(
        "defaults\nauth on\ntls on\ntls_starttls {}\ntls_trust_file {}\nlogfile {}\n\n\
         account default\nhost 127.0.0.1\nport {}\nfrom {FROM}\nuser alice\npassword {password}\n",
        if starttls { "on" } else { "off" },
        server.ca().ca_pem_path().display(),
        log_path(dir).display(),
        server.port()
    );
    dir.write("msmtprc", &text);
    text
}

/// A message that already has Date and Message-ID (so nothing is added but From).
pub(crate) const COMPLETE: &str = "From: Sender <sender@example.org>\n\
To: Alice <alice@example.net>\n\
Subject: nightly backup OK\n\
Date: Sat, 21 Nov 2026 10:00:00 +0000\n\
Message-ID: <backup-1@example.org>\n\
\n\
Archive created.\n\
Size: 1.2 GB\n";

/// A minimal message as a cron job or a script writes it.
pub(crate) const BARE: &str = "Subject: cron output\n\nline one\nline two\n";

// ---------------------------------------------------------------------------------
// The table: cases of one shape (a server, a config, arguments and stdin, both
// programs, `assert_same`, the exit codes, then a check of the row's own).

/// One case of the common shape. [`run_row`] starts the server, writes the config,
/// runs msmtp then rsmtp, compares them with [`assert_same`], checks each program's
/// exit code, its number of log lines and that each line's `exitcode` names that exit
/// code, then calls `check`. [`Row::default`] is the most common case: [`COMPLETE`]
/// to one recipient through a plain server and [`plain`] with no extra lines,
/// everything compared, both exit 0.
struct Row {
    /// The test's name: `row_tests!` makes a `#[test] fn` of it.
    name: &'static str,
    /// The server both programs send to; `None`: nothing listens on the port.
    server: Option<ServerOptions>,
    config: Config,
    /// After `-C msmtprc`.
    args: &'static [&'static str],
    stdin: Vec<u8>,
    /// What [`assert_same`] compares; its `exit_code` is set from [`Row::exit`].
    compare: Compare,
    exit: Exit,
    /// Whether each program writes one log line (`false`: none, for input it refuses
    /// itself).
    logged: bool,
    /// The row's own assertions, after everything above held.
    check: fn(&Side, &Side),
}

impl Default for Row {
    fn default() -> Self {
        Row {
            name: "",
            server: Some(ServerOptions::new()),
            config: Config::Plain(""),
            args: &["alice@example.net"],
            stdin: COMPLETE.into(),
            compare: EVERYTHING,
            exit: Exit::Same(0),
            logged: true,
            check: |_, _| {},
        }
    }
}

/// The msmtprc a row writes.
enum Config {
    /// [`plain`] with these extra lines.
    Plain(&'static str),
    /// [`tls_auth`] for the row's server: STARTTLS (`starttls`) or implicit TLS, and
    /// AUTH as alice with this password, or `auth off` when `None`.
    Tls {
        starttls: bool,
        password: Option<&'static str>,
    },
}

/// The exit codes a row expects.
enum Exit {
    /// Both programs exit with this code; exit codes and log `exitcode`s are compared.
    Same(i32),
    /// A documented difference: msmtp exits with one of `msmtp` (its code may depend on
    /// timing), rsmtp with `rsmtp`. Exit codes and log `exitcode`s are not compared
    /// with each other; each program's log still names its own exit code.
    Differ { msmtp: &'static [i32], rsmtp: i32 },
}

/// Run the row named `name` (see [`Row`]).
fn run_row(name: &str) {
    let Some(msmtp) = oracle() else { return };
    let row = rows()
        .into_iter()
        .find(|row| row.name == name)
        .unwrap_or_else(|| panic!("no row named {name} in rows()"));
    let server = row.server.map(TestServer::start);
    let dir = Dir::new();
    match (row.config, &server) {
        (Config::Plain(extra), _) => {
            plain(
                &dir,
                server.as_ref().map_or_else(closed_port, TestServer::port),
                extra,
            );
        }
        (Config::Tls { starttls, password }, Some(server)) => {
            let text = tls_auth(&dir, server, starttls, password.unwrap_or("secret"));
            if password.is_none() {
                dir.write("msmtprc", text.replace("auth on", "auth off"));
            }
        }
        (Config::Tls { .. }, None) => panic!("{name}: a TLS config needs a server"),
    }
    let (m, r) = Case::new(&dir, server.as_ref())
        .args(row.args)
        .stdin(&row.stdin)
        .run(&msmtp);
    let (msmtp_codes, rsmtp_code) = match row.exit {
        Exit::Same(code) => (vec![code], code),
        Exit::Differ { msmtp, rsmtp } => (msmtp.to_vec(), rsmtp),
    };
    assert_same(
        &m,
        &r,
        Compare {
            exit_code: matches!(row.exit, Exit::Same(_)),
            ..row.compare
        },
    );
    assert!(
        msmtp_codes.contains(&m.run.code()),
        "msmtp should exit with one of {msmtp_codes:?}\n{}",
        m.describe()
    );
    assert_eq!(
        r.run.code(),
        rsmtp_code,
        "rsmtp's exit code\n{}",
        r.describe()
    );
    for side in [&m, &r] {
        assert_eq!(
            side.log.len(),
            usize::from(row.logged),
            "number of log lines\n{}",
            side.describe()
        );
        let code = u8::try_from(side.run.code()).map(ExitCode::from_code);
        for fields in side.log_fields() {
            assert_eq!(
                field(&fields, "exitcode"),
                code.ok().map(ExitCode::name),
                "the log line names another exit code\n{}",
                side.describe()
            );
        }
    }
    (row.check)(&m, &r);
}

/// Compare everything ([`Row::default`]'s input has Date and Message-ID, so even the
/// `mailsize` agrees).
const EVERYTHING: Compare = Compare {
    mailsize: true,
    exit_code: true,
    declared_params: true,
    errormsg: true,
    header_asserted: None,
};

/// For input without Date or Message-ID: each program adds its own, so `mailsize`
/// differs.
const WITHOUT_MAILSIZE: Compare = Compare {
    mailsize: false,
    ..EVERYTHING
};

/// For an error both programs report in their own words.
const NO_ERRORMSG: Compare = Compare {
    errormsg: false,
    ..EVERYTHING
};

/// A plain server that answers one step with `fault`.
fn faulty(fault: Fault) -> Option<ServerOptions> {
    Some(ServerOptions::new().fault(fault))
}

/// Both programs' message went out with this envelope sender.
#[track_caller]
fn assert_mail_from(m: &Side, r: &Side, from: &str) {
    for side in [m, r] {
        assert_eq!(side.accepted.len(), 1, "{}", side.describe());
        assert_eq!(side.accepted[0].mail_from, from, "{}", side.describe());
    }
}

/// Neither program connected (and, with `logged: false`, neither wrote a log line for
/// input it refuses itself: log-counting scripts see the same lines); both say so on
/// stderr.
#[track_caller]
fn assert_usage_error(m: &Side, r: &Side) {
    for side in [m, r] {
        assert_eq!(side.connections, 0, "{}", side.describe());
    }
    assert_eq!(r.run.stderr(), "rsmtp: no recipients found\n");
}

/// Every case of the common shape, one row each. To add a case: add a row here (start
/// from `..Row::default()`), then a line `fn its_name();` to `row_tests!` below.
fn rows() -> Vec<Row> {
    let with_to = format!("To: ops@example.net\n{COMPLETE}");
    vec![
        // ---- Cases where rsmtp must do exactly what msmtp does.
        Row {
            name: "recipients_on_the_command_line",
            args: &["alice@example.net", "bob@example.net"],
            check: |m, _| assert_eq!(m.accepted.len(), 1, "{}", m.describe()),
            ..Row::default()
        },
        Row {
            name: "read_recipients_from_to_cc_bcc_and_remove_bcc",
            args: &["-t", "-i", "extra@example.net"],
            stdin: "From: sender@example.org\n\
                    To: Alice <alice@example.net>, bob@example.net\n\
                    Cc: \"Carol, C.\" <carol@example.net>\n\
                    Bcc: dave@example.net\n\
                    Subject: -t\n\
                    Date: Sat, 21 Nov 2026 10:00:00 +0000\n\
                    Message-ID: <t-1@example.org>\n\
                    \n\
                    body\n"
                .into(),
            check: |_, r| {
                let msg = &r.accepted[0];
                assert!(msg.header("Bcc").is_none(), "Bcc kept:\n{}", msg.data_str());
                assert!(msg.recipients().contains(&"dave@example.net"));
            },
            ..Row::default()
        },
        // cronie's argument set.
        Row {
            name: "missing_from_is_added_with_dash_capital_f",
            args: &[
                "-FCronDaemon",
                "-i",
                "-odi",
                "-oem",
                "-oi",
                "alice@example.net",
            ],
            stdin: BARE.into(),
            compare: WITHOUT_MAILSIZE,
            check: |m, _| {
                assert_eq!(
                    m.accepted[0].header("From").as_deref(),
                    Some("CronDaemon <sender@example.org>")
                );
            },
            ..Row::default()
        },
        Row {
            name: "dash_f_overrides_the_envelope_sender",
            args: &["-f", "raid@host.example.org", "alice@example.net"],
            stdin: BARE.into(),
            compare: WITHOUT_MAILSIZE,
            check: |_, r| assert_eq!(r.accepted[0].mail_from, "raid@host.example.org"),
            ..Row::default()
        },
        Row {
            name: "read_envelope_from_takes_the_from_header",
            args: &["--read-envelope-from", "-t"],
            stdin: COMPLETE
                .replace(
                    "From: Sender <sender@example.org>",
                    "From: Web App <noreply@app.example.com>",
                )
                .into(),
            check: |_, r| assert_eq!(r.accepted[0].mail_from, "noreply@app.example.com"),
            ..Row::default()
        },
        Row {
            name: "undisclosed_recipients",
            config: Config::Plain("undisclosed_recipients on"),
            args: &["-t"],
            stdin: COMPLETE
                .replace(
                    "To: Alice <alice@example.net>\n",
                    "To: Alice <alice@example.net>\nCc: bob@example.net\nBcc: carol@example.net\n",
                )
                .into(),
            check: |_, r| {
                assert_eq!(
                    r.accepted[0].header("To").as_deref(),
                    Some("undisclosed-recipients:;")
                );
            },
            ..Row::default()
        },
        Row {
            name: "dsn_notify_and_return",
            server: Some(ServerOptions::new().extensions(Extensions {
                dsn: true,
                ..Extensions::default()
            })),
            config: Config::Plain("dsn_notify failure,delay\ndsn_return headers"),
            check: |m, _| {
                assert!(
                    !m.accepted[0].rcpt_to[0].params.is_empty(),
                    "msmtp sent no NOTIFY: {:?}",
                    m.envelope_commands()
                );
            },
            ..Row::default()
        },
        // 8-bit text in headers and body (UTF-8 and a stray Latin-1 byte) goes through
        // untouched. rsmtp declares it with `BODY=8BITMIME` when the server offers
        // 8BITMIME (RFC 6152 §3, rsmtp-smtp's session); msmtp 1.8.23 never does.
        Row {
            name: "eight_bit_body_and_headers",
            stdin: [
                COMPLETE
                    .replace("nightly backup OK", "sauvegarde réussie ✅")
                    .replace(
                        "Archive created.",
                        "Archive créée, バックアップ完了\n\u{00e9}t\u{00e9}",
                    )
                    .as_bytes(),
                b"latin-1 \xe9t\xe9\n",
            ]
            .concat(),
            compare: Compare {
                declared_params: false,
                ..EVERYTHING
            },
            check: |m, r| {
                assert!(m.accepted[0].mail_params.is_empty(), "{}", m.describe());
                assert_eq!(r.accepted[0].mail_params, ["BODY=8BITMIME"]);
                assert!(r.accepted[0].data.contains(&0xe9));
            },
            ..Row::default()
        },
        // Without 8BITMIME on offer, both send the 8-bit message the same way.
        Row {
            name: "eight_bit_body_to_a_server_without_8bitmime",
            server: Some(ServerOptions::new().extensions(Extensions {
                eight_bit_mime: false,
                ..Extensions::default()
            })),
            stdin: COMPLETE.replace("Archive created.", "Archive créée").into(),
            ..Row::default()
        },
        Row {
            name: "lines_starting_with_a_dot",
            stdin: format!("{COMPLETE}.hidden\n..two dots\n.\nafter a lone dot\n. space\n.").into(),
            check: |_, r| {
                assert!(
                    r.accepted[0].data_str().contains("after a lone dot"),
                    "{}",
                    r.accepted[0].data_str()
                );
            },
            ..Row::default()
        },
        Row {
            name: "crlf_input",
            stdin: COMPLETE.replace('\n', "\r\n").into(),
            ..Row::default()
        },
        Row {
            name: "no_recipients_is_a_usage_error",
            args: &[],
            stdin: BARE.into(),
            compare: WITHOUT_MAILSIZE,
            exit: Exit::Same(64),
            logged: false,
            check: assert_usage_error,
            ..Row::default()
        },
        // -t with a header block that names nobody.
        Row {
            name: "no_recipients_under_dash_t_is_a_usage_error",
            args: &["-t"],
            stdin: BARE.into(),
            compare: WITHOUT_MAILSIZE,
            exit: Exit::Same(64),
            logged: false,
            check: assert_usage_error,
            ..Row::default()
        },
        Row {
            name: "connection_refused_is_a_temporary_failure",
            server: None,
            stdin: BARE.into(),
            compare: WITHOUT_MAILSIZE,
            exit: Exit::Same(75),
            ..Row::default()
        },
        Row {
            name: "recipient_refused_with_550",
            server: faulty(Fault::reject_recipient(
                "nobody@example.net",
                550,
                "5.1.1 No such user",
            )),
            args: &["alice@example.net", "nobody@example.net"],
            exit: Exit::Same(65),
            check: |m, _| assert!(m.accepted.is_empty(), "{}", m.describe()),
            ..Row::default()
        },
        Row {
            name: "message_refused_after_data",
            server: faulty(Fault::reply(
                Step::EndOfData,
                554,
                "5.7.1 Message rejected as spam",
            )),
            exit: Exit::Same(69),
            check: |m, _| assert_eq!(m.rejected.len(), 1, "{}", m.describe()),
            ..Row::default()
        },
        Row {
            name: "authentication_rejected",
            server: Some(
                ServerOptions::new()
                    .tls(Tls::StartTls)
                    .auth("alice", "right-password"),
            ),
            config: Config::Tls {
                starttls: true,
                password: Some("wrong-password"),
            },
            args: &["bob@example.net"],
            exit: Exit::Same(77),
            ..Row::default()
        },
        Row {
            name: "starttls_with_ca_file_and_auth_plain",
            server: Some(
                ServerOptions::new()
                    .tls(Tls::StartTls)
                    .require_tls(true)
                    .auth("alice", "s3cret pass")
                    .mechanisms(&[rsmtp_testserver::Mechanism::Plain]),
            ),
            config: Config::Tls {
                starttls: true,
                password: Some("\"s3cret pass\""),
            },
            args: &["bob@example.net"],
            check: |m, r| {
                for side in [m, r] {
                    let msg = &side.accepted[0];
                    assert!(msg.tls, "{}: not over TLS", side.name);
                    let auth = msg.auth.as_ref().expect("authenticated");
                    assert_eq!(
                        (auth.mechanism.as_str(), auth.identity.as_str()),
                        ("PLAIN", "alice")
                    );
                }
            },
            ..Row::default()
        },
        Row {
            name: "implicit_tls",
            server: Some(
                ServerOptions::new()
                    .tls(Tls::Implicit)
                    .auth("alice", "secret"),
            ),
            config: Config::Tls {
                starttls: false,
                password: Some("secret"),
            },
            args: &["bob@example.net"],
            check: |m, r| assert!(r.accepted[0].tls && m.accepted[0].tls),
            ..Row::default()
        },
        // ---- More refusals: where in the session, and what exit code.
        Row {
            name: "sender_refused_with_550",
            server: faulty(Fault::reply(Step::Mail, 550, "5.7.1 Sender rejected")),
            exit: Exit::Same(65),
            ..Row::default()
        },
        Row {
            name: "data_command_refused_with_554",
            server: faulty(Fault::reply(Step::Data, 554, "5.5.1 No valid recipients")),
            exit: Exit::Same(65),
            ..Row::default()
        },
        // msmtp words every refused greeting "cannot get initial OK message from server".
        Row {
            name: "greeting_554",
            server: faulty(Fault::greeting(554, "5.3.2 No service")),
            compare: NO_ERRORMSG,
            exit: Exit::Same(76),
            ..Row::default()
        },
        // ---- Documented differences (the README's comparison with msmtp), asserted as
        // differences, everything else about the run still equal.
        //
        // A 4xx reply: msmtp exits with what the stage implies (69 or 76), rsmtp with 75
        // EX_TEMPFAIL, as sysexits means it. The log line differs only in `exitcode`.
        Row {
            name: "temporary_recipient_refusal_is_tempfail_in_rsmtp",
            server: faulty(Fault::reject_recipient(
                "alice@example.net",
                451,
                "4.3.0 Try again later",
            )),
            exit: Exit::Differ {
                msmtp: &[69],
                rsmtp: 75,
            },
            check: |m, r| assert!(m.accepted.is_empty() && r.accepted.is_empty()),
            ..Row::default()
        },
        Row {
            name: "temporary_refusal_after_data_is_tempfail_in_rsmtp",
            server: faulty(Fault::reply(Step::EndOfData, 451, "4.3.0 Try again later")),
            exit: Exit::Differ {
                msmtp: &[69],
                rsmtp: 75,
            },
            check: |m, r| assert!(m.accepted.is_empty() && r.accepted.is_empty()),
            ..Row::default()
        },
        // msmtp words every refused greeting "cannot get initial OK message from server";
        // rsmtp says the server is closing the connection.
        Row {
            name: "greeting_421_is_tempfail_in_rsmtp",
            server: faulty(Fault::greeting(421, "4.3.2 busy")),
            compare: NO_ERRORMSG,
            exit: Exit::Differ {
                msmtp: &[76],
                rsmtp: 75,
            },
            check: |m, r| assert!(m.accepted.is_empty() && r.accepted.is_empty()),
            ..Row::default()
        },
        Row {
            name: "full_name_with_a_comma_is_quoted_by_rsmtp",
            args: &["-F", "Doe, John", "alice@example.net"],
            stdin: BARE.into(),
            compare: Compare {
                header_asserted: Some("From"),
                ..WITHOUT_MAILSIZE
            },
            check: |m, r| {
                // msmtp writes the phrase as given, which a reader parses as two
                // addresses.
                assert_eq!(
                    m.accepted[0].header("From").as_deref(),
                    Some("Doe, John <sender@example.org>")
                );
                assert_eq!(
                    r.accepted[0].header("From").as_deref(),
                    Some("\"Doe, John\" <sender@example.org>")
                );
            },
            ..Row::default()
        },
        Row {
            name: "message_id_formats",
            stdin: BARE.into(),
            compare: WITHOUT_MAILSIZE,
            check: assert_message_id_formats,
            ..Row::default()
        },
        // ---- TLS and connection failures.
        //
        // rsmtp's message also names the host and says it will not fall back to plain
        // text.
        Row {
            name: "starttls_not_offered",
            config: Config::Tls {
                starttls: true,
                password: None,
            },
            args: &["bob@example.net"],
            compare: NO_ERRORMSG,
            exit: Exit::Same(69),
            check: assert_no_mail_command,
            ..Row::default()
        },
        // msmtp passes on GnuTLS's words; rsmtp says what to change (tls_trust_file,
        // tls_fingerprint). Both exit 69 without sending anything.
        Row {
            name: "untrusted_certificate",
            server: Some(
                ServerOptions::new()
                    .tls(Tls::StartTls)
                    .leaf(rsmtp_testserver::LeafKind::SelfSigned),
            ),
            config: Config::Tls {
                starttls: true,
                password: None,
            },
            args: &["bob@example.net"],
            compare: NO_ERRORMSG,
            exit: Exit::Same(69),
            check: assert_no_mail_command,
            ..Row::default()
        },
        // The server drops the connection in the middle of the body. msmtp's code
        // depends on timing: 74 EX_IOERR when its write fails, 76 EX_PROTOCOL ("the
        // server sent an empty reply") when the read does. rsmtp always says 75
        // EX_TEMPFAIL: the message was not accepted, trying again later is right
        // (rsmtp-smtp maps a broken connection so).
        Row {
            name: "connection_dropped_during_data",
            server: faulty(Fault::drop_during_data(10)),
            compare: NO_ERRORMSG,
            exit: Exit::Differ {
                msmtp: &[74, 76],
                rsmtp: 75,
            },
            check: |m, r| assert!(m.accepted.is_empty() && r.accepted.is_empty()),
            ..Row::default()
        },
        // README: a timeout exits 75 EX_TEMPFAIL in rsmtp; msmtp reports a network
        // read error, 74 EX_IOERR.
        Row {
            name: "no_reply_within_the_timeout",
            server: faulty(Fault::hang_after_data()),
            config: Config::Plain("timeout 1"),
            compare: NO_ERRORMSG,
            exit: Exit::Differ {
                msmtp: &[74],
                rsmtp: 75,
            },
            ..Row::default()
        },
        // With SIZE offered, rsmtp declares the message size (RFC 1870), so an
        // oversized message is refused before its body is sent; msmtp declares nothing.
        Row {
            name: "size_declared",
            server: Some(ServerOptions::new().extensions(Extensions {
                size: Some(0),
                ..Extensions::default()
            })),
            compare: Compare {
                declared_params: false,
                ..EVERYTHING
            },
            check: |m, r| {
                assert!(m.accepted[0].mail_params.is_empty());
                assert_eq!(
                    r.accepted[0].mail_params,
                    [format!("SIZE={}", r.accepted[0].data.len())]
                );
            },
            ..Row::default()
        },
        // ---- The argument sets real callers use, each through both programs.
        Row {
            name: "real_caller_cronie",
            args: &[
                "-FCronDaemon",
                "-i",
                "-odi",
                "-oem",
                "-oi",
                "-t",
                "-f",
                "root@example.org",
            ],
            stdin: with_to.clone().into(),
            ..Row::default()
        },
        Row {
            name: "real_caller_debian_cron",
            args: &[
                "-FCronDaemon",
                "-i",
                "-B8BITMIME",
                "-oem",
                "root@example.net",
            ],
            stdin: BARE.into(),
            compare: WITHOUT_MAILSIZE,
            ..Row::default()
        },
        Row {
            name: "real_caller_systemd_cron",
            args: &["-i", "-B", "8BITMIME", "user@example.net"],
            stdin: BARE.into(),
            compare: WITHOUT_MAILSIZE,
            ..Row::default()
        },
        Row {
            name: "real_caller_busybox",
            args: &["-ti"],
            stdin: with_to.clone().into(),
            ..Row::default()
        },
        Row {
            name: "real_caller_mdadm",
            args: &["-t", "-fraid@host.example.org"],
            stdin: with_to.clone().into(),
            ..Row::default()
        },
        Row {
            name: "real_caller_s_nail",
            args: &["-i", "--", "rcpt@example.net"],
            stdin: BARE.into(),
            compare: WITHOUT_MAILSIZE,
            ..Row::default()
        },
        Row {
            name: "real_caller_anacron",
            args: &["-FAnacron", "-odi", "root@example.net"],
            stdin: BARE.into(),
            compare: WITHOUT_MAILSIZE,
            ..Row::default()
        },
        Row {
            name: "real_caller_php",
            args: &["-t", "-i"],
            stdin: with_to.clone().into(),
            ..Row::default()
        },
        Row {
            name: "real_caller_with_an_unqualified_recipient",
            args: &["root"],
            stdin: BARE.into(),
            compare: WITHOUT_MAILSIZE,
            ..Row::default()
        },
        // The argument lists of PHPMailer and mutt, verbatim: a repeated option
        // overrides the earlier one (getopt), so msmtp sends; rsmtp must too.
        //
        // isSendmail() on PHP's compiled-in sendmail_path (`sendmail -t -i`).
        Row {
            name: "repeated_options_from_phpmailer_is_sendmail",
            args: &["-t", "-i", "-oi", "-fpm@example.com", "-t"],
            stdin: with_to.clone().into(),
            check: |m, r| assert_mail_from(m, r, "pm@example.com"),
            ..Row::default()
        },
        // isMail() with sendmail_path = "... -t -i -f noreply@x": PHP adds its own -f.
        Row {
            name: "repeated_options_from_phpmailer_is_mail",
            args: &["-t", "-i", "-f", "noreply@example.com", "-fpm@example.com"],
            stdin: with_to.into(),
            check: |m, r| assert_mail_from(m, r, "pm@example.com"),
            ..Row::default()
        },
        Row {
            name: "repeated_options_from_mutt_use_envelope_from",
            args: &[
                "-f",
                "me@example.com",
                "-f",
                "mutt@example.com",
                "--",
                "a@example.net",
            ],
            check: |m, r| assert_mail_from(m, r, "mutt@example.com"),
            ..Row::default()
        },
        // A first line that starts with white space is a continuation of nothing: msmtp
        // keeps reading header fields and finds To under `-t`.
        Row {
            name: "first_line_starting_with_a_space",
            args: &["-t"],
            stdin: " x\nTo: bob@example.net\nSubject: s\n\
                    Date: Sat, 21 Nov 2026 10:00:00 +0000\nMessage-ID: <w@x>\n\nbody\n"
                .into(),
            check: |_, r| assert_eq!(r.accepted[0].recipients(), ["bob@example.net"]),
            ..Row::default()
        },
        Row {
            name: "first_line_starting_with_a_tab",
            args: &["-t"],
            stdin: "\tfolded\nTo: bob@example.net\n\
                    Date: Sat, 21 Nov 2026 10:00:00 +0000\nMessage-ID: <w@x>\n\nbody\n"
                .into(),
            check: |_, r| assert_eq!(r.accepted[0].recipients(), ["bob@example.net"]),
            ..Row::default()
        },
    ]
}

/// One `#[test] fn` per row, named as its row, so a failure names the case and the
/// rows run in parallel; and the list of those names for [`every_row_has_a_test`].
macro_rules! row_tests {
    ($(fn $name:ident();)*) => {
        $(
            #[test]
            fn $name() {
                run_row(stringify!($name));
            }
        )*
        /// The names of the rows that have a `#[test]`.
        const ROWS_WITH_A_TEST: &[&str] = &[$(stringify!($name)),*];
    };
}

row_tests! {
    fn recipients_on_the_command_line();
    fn read_recipients_from_to_cc_bcc_and_remove_bcc();
    fn missing_from_is_added_with_dash_capital_f();
    fn dash_f_overrides_the_envelope_sender();
    fn read_envelope_from_takes_the_from_header();
    fn undisclosed_recipients();
    fn dsn_notify_and_return();
    fn eight_bit_body_and_headers();
    fn eight_bit_body_to_a_server_without_8bitmime();
    fn lines_starting_with_a_dot();
    fn crlf_input();
    fn no_recipients_is_a_usage_error();
    fn no_recipients_under_dash_t_is_a_usage_error();
    fn connection_refused_is_a_temporary_failure();
    fn recipient_refused_with_550();
    fn message_refused_after_data();
    fn authentication_rejected();
    fn starttls_with_ca_file_and_auth_plain();
    fn implicit_tls();
    fn sender_refused_with_550();
    fn data_command_refused_with_554();
    fn greeting_554();
    fn temporary_recipient_refusal_is_tempfail_in_rsmtp();
    fn temporary_refusal_after_data_is_tempfail_in_rsmtp();
    fn greeting_421_is_tempfail_in_rsmtp();
    fn full_name_with_a_comma_is_quoted_by_rsmtp();
    fn message_id_formats();
    fn starttls_not_offered();
    fn untrusted_certificate();
    fn connection_dropped_during_data();
    fn no_reply_within_the_timeout();
    fn size_declared();
    fn real_caller_cronie();
    fn real_caller_debian_cron();
    fn real_caller_systemd_cron();
    fn real_caller_busybox();
    fn real_caller_mdadm();
    fn real_caller_s_nail();
    fn real_caller_anacron();
    fn real_caller_php();
    fn real_caller_with_an_unqualified_recipient();
    fn repeated_options_from_phpmailer_is_sendmail();
    fn repeated_options_from_phpmailer_is_mail();
    fn repeated_options_from_mutt_use_envelope_from();
    fn first_line_starting_with_a_space();
    fn first_line_starting_with_a_tab();
}

/// Every row has its `#[test]` and every `#[test]` its row, each name once.
#[test]
fn every_row_has_a_test() {
    let names: Vec<&str> = rows().iter().map(|row| row.name).collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "a row name is used twice");
    let untested: Vec<&&str> = names
        .iter()
        .filter(|n| !ROWS_WITH_A_TEST.contains(n))
        .collect();
    assert!(
        untested.is_empty(),
        "rows without a line in row_tests!: {untested:?}"
    );
    let unknown: Vec<&&str> = ROWS_WITH_A_TEST
        .iter()
        .filter(|n| !names.contains(n))
        .collect();
    assert!(unknown.is_empty(), "row_tests! names no row: {unknown:?}");
}

/// Neither program's Message-ID is the other's: msmtp writes
/// `<32 hex digits.local-part@domain>`, rsmtp `<time.nanoseconds.pid.random@domain>`
/// without the sender's local part.
#[track_caller]
fn assert_message_id_formats(m: &Side, r: &Side) {
    let id = |s: &Side| {
        s.accepted[0]
            .header("Message-ID")
            .expect("Message-ID added")
    };
    let (mid, rid) = (id(m), id(r));
    let (left, domain) = mid
        .strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .and_then(|x| x.rsplit_once('@'))
        .expect("msmtp's Message-ID is <…@…>");
    assert_eq!(domain, "example.org");
    let (hex, local) = left.split_once('.').expect("hex.local-part");
    assert!(
        hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "{mid}"
    );
    assert_eq!(local, "sender");
    let (left, domain) = rid
        .strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .and_then(|x| x.rsplit_once('@'))
        .expect("rsmtp's Message-ID is <…@…>");
    assert_eq!(domain, "example.org");
    assert!(!left.contains("sender"), "{rid}");
    assert_ne!(mid, rid);
}

/// No session of either run got as far as MAIL.
#[track_caller]
fn assert_no_mail_command(m: &Side, r: &Side) {
    for side in [m, r] {
        assert!(
            side.sessions
                .iter()
                .all(|s| !s.verbs().contains(&"MAIL".to_string())),
            "{}",
            side.describe()
        );
    }
}

// ---------------------------------------------------------------------------------
// Real users' msmtprc files (shared/seeds: how people set msmtp up today), verbatim but
// for the lines that point at the real world.

/// seeds/000: a Gmail relay in /etc/msmtprc written by a backup script (French).
const GMAIL_BACKUP: &str = "defaults
auth           on
tls            on
tls_trust_file /etc/ssl/certs/ca-certificates.crt
logfile        /var/log/msmtp.log

account        backup
host           smtp.gmail.com
port           587
from           youremail@mail.com
user           youremail@mail.com
password       abcdefghijklmnop

account default : backup
";

/// seeds/002: msmtp for PHP's mail() in a Docker image (French).
const PHP_DOCKER: &str = "# Valeurs par défaut
defaults
auth           on
tls            on
tls_trust_file /etc/ssl/certs/ca-certificates.crt
logfile        /var/log/msmtp.log

# Configuration Gmail
account        gmail
host           smtp.gmail.com
port           587
from           ton.email@gmail.com
user           ton.email@gmail.com
password       ton_mot_de_passe_application

# Définir le compte par défaut
account default : gmail
";

/// seeds/004: a VPS alert mailer in ~/.msmtprc (Japanese); the account is named
/// `default` and then `account default : default` is declared as well.
const VPS_ALERT: &str = "defaults
auth           on
tls            on
tls_trust_file /etc/ssl/certs/ca-certificates.crt
logfile        $HOME/logs/msmtp.log

account        default
host           [上記で確認したSMTPホスト名]
port           [上記で確認したポート番号]
from           user@example.com
user           user@example.com
password       [上記で確認したパスワード]

account default : default
";

/// Replace the argument of `host`, `port`, `password`, `tls_trust_file` and `logfile`
/// lines, keeping the command and the white space after it; every other line is kept.
fn substitute(config: &str, values: &[(&str, String)]) -> String {
    let mut out = String::new();
    for line in config.lines() {
        let trimmed = line.trim_start();
        let command = trimmed.split_whitespace().next().unwrap_or("");
        match values.iter().find(|(c, _)| *c == command) {
            Some((_, value)) if trimmed.len() > command.len() => {
                let indent = &line[..line.len() - trimmed.len()];
                let after = &trimmed[command.len()..];
                let gap = &after[..after.len() - after.trim_start().len()];
                out.push_str(&format!("{indent}{command}{gap}{value}\n"));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Run a reference configuration (as ~/.msmtprc, found without -C) through both
/// programs against a STARTTLS + AUTH server for its user.
fn reference_case(config: &str, user: &str) -> Option<(Side, Side)> {
    let msmtp = oracle()?;
    let password = "app-password-1234";
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .require_tls(true)
            .auth(user, password),
    );
    let dir = Dir::new();
    let text = substitute(
        config,
        &[
            ("host", "127.0.0.1".to_string()),
            ("port", server.port().to_string()),
            ("password", password.to_string()),
            (
                "tls_trust_file",
                server.ca().ca_pem_path().display().to_string(),
            ),
            ("logfile", log_path(&dir).display().to_string()),
        ],
    );
    assert_eq!(text.lines().count(), config.lines().count());
    dir.write(".msmtprc", &text);
    let input = COMPLETE.replace("sender@example.org", user);
    let (m, r) = Case::new(&dir, Some(&server))
        .without_config_flag()
        .args(&["-t"])
        .stdin(&input)
        .run(&msmtp);
    assert_same(
        &m,
        &r,
        Compare {
            mailsize: true,
            ..Compare::default()
        },
    );
    Some((m, r))
}

/// The message went out over TLS, authenticated as the configuration's user.
#[track_caller]
fn assert_reference_delivered(sides: Option<(Side, Side)>, user: &str) {
    let Some((m, r)) = sides else { return };
    m.run.assert_code(0);
    for side in [&m, &r] {
        let msg = &side.accepted[0];
        assert!(msg.tls, "{}: not over TLS", side.name);
        assert_eq!(msg.auth.as_ref().map(|a| a.identity.as_str()), Some(user));
        assert_eq!(msg.mail_from, user);
    }
}

#[test]
fn gmail_backup_gmail_backup_account() {
    assert_reference_delivered(
        reference_case(GMAIL_BACKUP, "youremail@mail.com"),
        "youremail@mail.com",
    );
}

#[test]
fn php_docker_php_docker_account() {
    assert_reference_delivered(
        reference_case(PHP_DOCKER, "ton.email@gmail.com"),
        "ton.email@gmail.com",
    );
}

/// The file names its account `default` and then declares `account default : default`:
/// msmtp refuses the file (line 14, "account default was already defined"), and so
/// must rsmtp, pointing at the same line.
#[test]
fn vps_alert_account_named_default() {
    let Some((m, r)) = reference_case(VPS_ALERT, "user@example.com") else {
        return;
    };
    m.run.assert_code(78);
    assert!(m.run.stderr().contains("line 14"), "{}", m.describe());
    assert!(r.run.stderr().contains("14"), "{}", r.describe());
    assert!(m.sessions.is_empty() && r.sessions.is_empty());
}

// ---------------------------------------------------------------------------------
// Documented differences that are not one run of each program compared.

#[test]
fn nul_in_a_header_is_refused_by_rsmtp() {
    let Some(msmtp) = oracle() else { return };
    let server = plain_server();
    let dir = Dir::new();
    plain(&dir, server.port(), "");
    let input = COMPLETE.replace("nightly backup OK", "nightly\0backup");
    let (m, r) = Case::new(&dir, Some(&server))
        .args(&["alice@example.net"])
        .stdin(&input)
        .run(&msmtp);
    // msmtp passes the NUL to the server.
    m.run.assert_code(0);
    assert_eq!(m.accepted.len(), 1);
    assert!(m.accepted[0].data.contains(&0), "{}", m.describe());
    // rsmtp refuses before connecting, names the line, and sends nothing.
    r.run.assert_code(65);
    assert!(r.run.stderr().contains("NUL"), "{}", r.describe());
    assert!(r.sessions.is_empty() && r.accepted.is_empty());
}

#[test]
fn default_timeout_is_finite_in_rsmtp() {
    let Some(msmtp) = oracle() else { return };
    let dir = Dir::new();
    plain(&dir, 25, "");
    let args = ["-C", "msmtprc", "--pretend", "alice@example.net"];
    let m = dir.command(&msmtp).args(args).run();
    let r = dir.rsmtp().args(args).run();
    m.assert_code(0);
    r.assert_code(0);
    let timeout = |s: String| {
        s.lines()
            .find(|l| l.starts_with("timeout = "))
            .map(str::to_string)
    };
    assert_eq!(timeout(m.stdout()).as_deref(), Some("timeout = off"));
    assert_eq!(timeout(r.stdout()).as_deref(), Some("timeout = 60 seconds"));
    // Every setting msmtp prints, rsmtp prints with the same value (but the timeout).
    let settings = |s: String| -> Vec<String> {
        s.lines()
            .filter(|l| l.contains(" = ") && !l.starts_with("timeout = "))
            .map(str::to_string)
            .collect()
    };
    let rsmtp_settings = settings(r.stdout());
    for line in settings(m.stdout()) {
        assert!(
            rsmtp_settings.contains(&line),
            "rsmtp --pretend lacks `{line}`\n{}",
            r.stdout()
        );
    }
}

/// msmtp 1.8.23 does not know `from_full_name` (later msmtp versions do; rsmtp reads
/// it): the same full name given with `-F` must give the same message.
#[test]
fn from_full_name_matches_dash_capital_f() {
    let Some(msmtp) = oracle() else { return };
    let server = plain_server();
    let dir = Dir::new();
    let case = Case::new(&dir, Some(&server))
        .args(&["alice@example.net"])
        .stdin(BARE);

    plain(&dir, server.port(), "from_full_name Backup Robot");
    let old = case.run_program("msmtp", &msmtp);
    old.run.assert_code(78);
    assert!(
        old.run.stderr().contains("unknown command from_full_name"),
        "{}",
        old.describe()
    );

    plain(&dir, server.port(), "");
    let case = case.args(&["-F", "Backup Robot"]);
    let m = case.run_program("msmtp", &msmtp);
    plain(&dir, server.port(), "from_full_name Backup Robot");
    let case = Case::new(&dir, Some(&server))
        .args(&["alice@example.net"])
        .stdin(BARE);
    let r = case.run_program("rsmtp", &rsmtp_bin());
    assert_same(&m, &r, Compare::default());
    assert_eq!(
        r.accepted[0].header("From").as_deref(),
        Some("Backup Robot <sender@example.org>")
    );
}

// ---------------------------------------------------------------------------------
// Cases of their own: a table inside one test, a locale, SASL.

/// Addresses msmtp sends (exit 0), each with the RCPT rsmtp must send. Where msmtp
/// mangles the address (a quoted local part outside angle brackets becomes
/// `@example.org`) or keeps an obsolete source route, rsmtp sends the mailbox itself.
#[test]
fn quoted_local_parts_and_route_addresses() {
    let Some(msmtp) = oracle() else { return };
    let server = plain_server();
    let dir = Dir::new();
    plain(&dir, server.port(), "");
    let cases: &[(&str, &[&str])] = &[
        (
            "To: \"john doe\"@example.org",
            &["\"john doe\"@example.org"],
        ),
        (
            "To: <\"john doe\"@example.org>",
            &["\"john doe\"@example.org"],
        ),
        (
            "To: John <\"john.doe\"@example.org>",
            &["\"john.doe\"@example.org"],
        ),
        ("To: <@route.example:x@example.org>", &["x@example.org"]),
        (
            "To: Route <@a.example,@b.example:y@example.org>",
            &["y@example.org"],
        ),
        ("To: x@example.org (comment)", &["x@example.org"]),
        (
            "To: \"a,b\" <ab@example.org>, c@example.org",
            &["ab@example.org", "c@example.org"],
        ),
        ("To: o'brien@example.org", &["o'brien@example.org"]),
        ("To: user+tag@example.org", &["user+tag@example.org"]),
        (
            "To: \"quoted\\\\back\"@example.org",
            &["\"quoted\\\\back\"@example.org"],
        ),
        (
            "To: group: a@example.org, b@example.org;",
            &["a@example.org", "b@example.org"],
        ),
        (
            "To: undisclosed-recipients:;, c@example.org",
            &["c@example.org"],
        ),
        ("To: a@[127.0.0.1]", &["a@[127.0.0.1]"]),
    ];
    for (header, expected) in cases {
        let input = format!(
            "{header}\nSubject: s\nDate: Sat, 21 Nov 2026 10:00:00 +0000\nMessage-ID: <q@x>\n\nbody\n"
        );
        let (m, r) = Case::new(&dir, Some(&server))
            .args(&["-t"])
            .stdin(&input)
            .run(&msmtp);
        assert_eq!(m.run.code(), 0, "{header}\n{}", m.describe());
        r.run.assert_code(0);
        assert_eq!(r.accepted.len(), 1, "{header}\n{}", r.describe());
        assert_eq!(&r.accepted[0].recipients(), expected, "{header}");
        assert_eq!(
            r.accepted[0].data, m.accepted[0].data,
            "{header}: same bytes"
        );
    }
    // On the command line too, and on the wire inside the angle brackets.
    let run = dir
        .rsmtp()
        .args([
            "-C",
            &config_path(&dir).display().to_string(),
            "\"john doe\"@example.org",
        ])
        .stdin(COMPLETE)
        .run();
    run.assert_code(0);
    let rcpt = server
        .sessions()
        .last()
        .and_then(|s| {
            s.commands
                .iter()
                .find(|c| c.line.starts_with("RCPT"))
                .cloned()
        })
        .map(|c| c.line);
    assert_eq!(rcpt.as_deref(), Some("RCPT TO:<\"john doe\"@example.org>"));
}

/// The log time in the user's locale, byte for byte as msmtp (glibc's strftime)
/// writes it: `déc.` in fr_FR, `12月` in ja_JP, `Dez` in de_DE. Field names and values
/// stay as they are. Only the names are compared (`%a %A %b %B %h %p %x`, plus the default
/// format's shape), so the two runs may straddle a second.
#[test]
fn log_time_in_the_users_locale() {
    let Some(msmtp) = oracle() else { return };
    let locales = [
        "fr_FR.UTF-8",
        "de_DE.UTF-8",
        "es_ES.UTF-8",
        "ja_JP.UTF-8",
        "C",
        "C.UTF-8",
    ];
    let server = plain_server();
    let dir = Dir::new();
    plain(
        &dir,
        server.port(),
        "logfile_time_format %a|%A|%b|%B|%h|%p|%x|",
    );
    for locale in locales {
        let installed = locale.starts_with('C')
            || std::path::Path::new(&format!(
                "/usr/lib/locale/{}",
                locale.replace("UTF-8", "utf8")
            ))
            .exists();
        if !require(
            installed,
            &format!("the {locale} locale (Debian package locales-all)"),
        ) {
            continue;
        }
        let mut lines = Vec::new();
        for program in [&msmtp, &rsmtp_bin()] {
            dir.command(program)
                .args([
                    "-C",
                    &config_path(&dir).display().to_string(),
                    "a@example.net",
                ])
                .env("LC_ALL", locale)
                .stdin(COMPLETE)
                .run()
                .assert_code(0);
            lines.push(log_lines(&dir).pop().expect("a log line"));
        }
        let stamp = |l: &str| l.split(" host=").next().unwrap_or("").to_string();
        assert_eq!(stamp(&lines[0]), stamp(&lines[1]), "{locale}: {lines:#?}");
        assert!(
            lines[1].contains(" exitcode=EX_OK"),
            "{locale}: {}",
            lines[1]
        );
    }
}

/// SCRAM against the test server's own server side, with msmtp (GNU SASL) as the
/// cross-check that this server side is right: both authenticate with each
/// variant msmtp 1.8.23 knows, and both refuse a server whose signature is forged.
#[test]
fn scram_sha_1_and_256_against_the_test_server() {
    use rsmtp_testserver::{AuthConfig, Mechanism};
    let Some(msmtp) = oracle() else { return };
    for (method, mech) in [
        ("scram-sha-256", Mechanism::ScramSha256),
        ("scram-sha-1", Mechanism::ScramSha1),
    ] {
        for forged in [false, true] {
            let mut cfg = AuthConfig::new("alice", "s3cret pass");
            cfg.mechanisms = vec![mech, Mechanism::Plain];
            cfg.scram_forged_signature = forged;
            let server =
                TestServer::start(ServerOptions::new().tls(Tls::StartTls).auth_config(cfg));
            let dir = Dir::new();
            let text = tls_auth(&dir, &server, true, "\"s3cret pass\"")
                .replace("auth on\n", &format!("auth {method}\n"));
            dir.write("msmtprc", &text);
            let (m, r) = Case::new(&dir, Some(&server))
                .args(&["bob@example.net"])
                .stdin(COMPLETE)
                .run(&msmtp);
            let context = format!("{method}, forged signature: {forged}");
            if forged {
                // Nothing is sent by either. msmtp 1.8.23 reports GNU SASL's "Error
                // authenticating user" as EX_SOFTWARE (70, a library failure);
                // rsmtp says what happened and exits EX_NOPERM (77): the mutual
                // authentication failed, a permanent error the queue does not retry.
                m.run.assert_code(70);
                assert!(
                    m.run.stderr().contains("Error authenticating user"),
                    "{}",
                    m.describe()
                );
                r.run.assert_code(77);
                assert!(m.accepted.is_empty() && r.accepted.is_empty(), "{context}");
                assert!(
                    r.run.stderr().contains("signature does not verify"),
                    "{}",
                    r.describe()
                );
                continue;
            }
            m.run.assert_code(0);
            r.run.assert_code(0);
            for side in [&m, &r] {
                let auth = side.accepted[0].auth.as_ref().expect("authenticated");
                assert_eq!(
                    (auth.mechanism.as_str(), auth.identity.as_str()),
                    (mech.as_str(), "alice"),
                    "{}: {context}",
                    side.name
                );
            }
        }
    }
}

/// SASLprep (RFC 4013): a password typed with a no-break space and a Roman numeral
/// sign reaches a SCRAM server as what SASLprep makes of it ("pass word IX"), as GNU
/// SASL computes it for msmtp; PLAIN sends it as typed, as GNU SASL 1.10 does too.
#[test]
fn saslprep_prepares_scram_passwords_as_gnu_sasl_does() {
    use rsmtp_testserver::{AuthConfig, Mechanism};
    let Some(msmtp) = oracle() else { return };
    let typed = "pass\u{a0}word \u{2168}";
    for (method, mech, server_password, code) in [
        ("scram-sha-256", Mechanism::ScramSha256, "pass word IX", 0),
        ("scram-sha-1", Mechanism::ScramSha1, typed, 77),
        ("plain", Mechanism::Plain, typed, 0),
        ("plain", Mechanism::Plain, "pass word IX", 77),
    ] {
        let mut cfg = AuthConfig::new("alice", server_password);
        cfg.mechanisms = vec![mech];
        let server = TestServer::start(ServerOptions::new().tls(Tls::StartTls).auth_config(cfg));
        let dir = Dir::new();
        let text = tls_auth(&dir, &server, true, &format!("\"{typed}\""))
            .replace("auth on\n", &format!("auth {method}\n"));
        dir.write("msmtprc", &text);
        let (m, r) = Case::new(&dir, Some(&server))
            .args(&["bob@example.net"])
            .stdin(COMPLETE)
            .run(&msmtp);
        let context = format!("{method} against {server_password:?}");
        assert_eq!(m.run.code(), code, "msmtp, {context}: {}", m.describe());
        assert_eq!(r.run.code(), code, "rsmtp, {context}: {}", r.describe());
    }
}
