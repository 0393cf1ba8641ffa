//! msmtp as a fuzzing oracle: generated address-list headers and argument sets, run
//! through msmtp 1.8.23 and rsmtp against the same recording server.
//!
//! Each case is a message whose To/Cc/Bcc fields (and sometimes a Resent- block) are
//! built from elements of known shapes: plain and local addresses, display names
//! (quoted, with commas, RFC 2047), comments before, after and inside the angle
//! brackets, groups (empty, with members), quoted local parts, obsolete routes and
//! blanks, junk elements, folding, duplicates, Bcc variants. The generator knows which
//! recipients each element names, so rsmtp is checked against that model first (its
//! recipients and exit code), then against msmtp: envelope, recipients, header fields,
//! body bytes and exit code must agree, unless the case holds a shape listed in
//! [`INTENDED`] as a known difference, whose reason is the README's. That table and
//! the README's table of differences must have the same rows.
//!
//! `RSMTP_DIFF_FUZZ_CASES` sets the number of cases (default [`DEFAULT_CASES`], about
//! half a minute), `RSMTP_FUZZ_SEED` the seed (default 23, so CI is replayable);
//! a failure names the seed and the case, and `RSMTP_DIFF_FUZZ_CASE=N` runs that case
//! alone. Without msmtp the test is skipped (it fails under `CI=true`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use rsmtp_testserver::fuzz::Rng;

use crate::differential::{header_fields, oracle, plain, Case, Side};
use crate::support::*;

/// Cases when `RSMTP_DIFF_FUZZ_CASES` is not set.
const DEFAULT_CASES: usize = 2000;

/// A shape whose handling differs from msmtp's on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    /// `a..b`, `Undisclosed recipients`: msmtp sends junk, rsmtp skips and names it.
    Junk,
    /// `<a@x (c)>`: msmtp sends `a@x_`.
    CommentAfterAddressInBrackets,
    /// `"john doe"@x`: msmtp sends `@x` (outside brackets) or `"john_doe"@x`.
    QuotedLocalPart,
    /// `<@r.example:a@x>`: msmtp keeps the route.
    Route,
    /// `a . b @ x`: msmtp sends the last word.
    ObsoleteBlanks,
    /// msmtp keeps `Resent-Bcc` in the header.
    ResentBcc,
}

/// How a README row of differences is checked.
enum Checked {
    /// By this fuzzer, as one of its shapes.
    Fuzz(Shape),
    /// By the named differential test.
    Test(&'static str),
}

/// Every intended difference from msmtp: the first cell of its README row, and
/// where it is asserted. The README's table and this one must have the same rows.
const INTENDED: &[(&str, Checked)] = &[
    (
        "`SIZE=`, `BODY=8BITMIME`",
        Checked::Test("differential::size_declared"),
    ),
    (
        "Message-ID",
        Checked::Test("differential::message_id_formats"),
    ),
    (
        "From full name with a comma",
        Checked::Test("differential::full_name_with_a_comma_is_quoted_by_rsmtp"),
    ),
    (
        "NUL byte in the header block",
        Checked::Test("differential::nul_in_a_header_is_refused_by_rsmtp"),
    ),
    (
        "connection dropped in the body",
        Checked::Test("differential::connection_dropped_during_data"),
    ),
    (
        "bare CR in the body",
        Checked::Test("header_parity::bare_cr_in_the_body_is_sent_as_crlf_a_documented_difference"),
    ),
    (
        "a To/Cc/Bcc element that is no usable address (`\"Undisclosed\"`, `a..b`)",
        Checked::Fuzz(Shape::Junk),
    ),
    (
        "a comment inside angle brackets after the address (`<bob@example.com (work)>`)",
        Checked::Fuzz(Shape::CommentAfterAddressInBrackets),
    ),
    (
        "a quoted local part (`\"john doe\"@example.org`)",
        Checked::Fuzz(Shape::QuotedLocalPart),
    ),
    (
        "an obsolete source route (`<@a.example:x@example.org>`)",
        Checked::Fuzz(Shape::Route),
    ),
    (
        "blanks around `.` and `@` (`a . b @ example.org`)",
        Checked::Fuzz(Shape::ObsoleteBlanks),
    ),
    (
        "`-f 'addr (comment)'`, `-f 'Name <addr>'`",
        Checked::Test("header_parity::dash_f_with_a_comment_names_the_address"),
    ),
    (
        "input whose first line is not a header field and whose first block has none",
        Checked::Test(
            "header_parity::text_without_any_header_field_is_body_a_documented_difference",
        ),
    ),
    (
        "the recipient after an expanded alias",
        Checked::Test("header_parity::alias_names_match_with_their_case"),
    ),
    ("`Resent-Bcc`", Checked::Fuzz(Shape::ResentBcc)),
];

/// The first cells of the README's table of differences from msmtp.
fn readme_rows() -> Vec<String> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let section = readme
        .split("### Smaller differences, on purpose")
        .nth(1)
        .expect("the README's differences section");
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" | ").next())
        .map(str::to_string)
        .collect()
}

#[test]
fn intended_differences_are_the_readmes() {
    let mut readme = readme_rows();
    let mut table: Vec<String> = INTENDED.iter().map(|(row, _)| row.to_string()).collect();
    readme.sort();
    table.sort();
    let only_readme: Vec<&String> = readme.iter().filter(|r| !table.contains(r)).collect();
    let only_table: Vec<&String> = table.iter().filter(|r| !readme.contains(r)).collect();
    assert!(
        only_readme.is_empty() && only_table.is_empty(),
        "README rows not in INTENDED: {only_readme:#?}\nINTENDED rows not in the README: {only_table:#?}"
    );
    // Every shape the generator marks has its row.
    for shape in [
        Shape::Junk,
        Shape::CommentAfterAddressInBrackets,
        Shape::QuotedLocalPart,
        Shape::Route,
        Shape::ObsoleteBlanks,
        Shape::ResentBcc,
    ] {
        assert!(
            INTENDED
                .iter()
                .any(|(_, c)| matches!(c, Checked::Fuzz(s) if *s == shape)),
            "{shape:?} has no row"
        );
    }
    // A row checked by a test names a test that exists.
    let sources: String = ["differential.rs", "header_parity.rs"]
        .iter()
        .map(|f| {
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(f))
                .unwrap_or_default()
        })
        .collect();
    for (row, checked) in INTENDED {
        if let Checked::Test(name) = checked {
            let function = name.rsplit("::").next().unwrap_or(name);
            assert!(
                sources.contains(&format!("fn {function}(")),
                "{row}: no test named {name}"
            );
        }
    }
}

/// One generated element: its text, the recipients it names, its shapes.
struct Element {
    text: String,
    names: Vec<String>,
    shapes: Vec<Shape>,
}

fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.below(items.len())]
}

fn mailbox(rng: &mut Rng, n: &mut usize) -> String {
    *n += 1;
    let domain = pick(
        rng,
        &["example.net", "example.org", "localhost", "[192.0.2.1]"],
    );
    format!(
        "{}{}@{domain}",
        pick(rng, &["u", "first.last", "o'brien", "tag+x"]),
        n
    )
}

fn comment(rng: &mut Rng) -> &'static str {
    pick(
        rng,
        &["(c)", "(a comment)", "(nested (one))", "(it's \\) here)"],
    )
}

/// An element that is not a group.
fn single(rng: &mut Rng, n: &mut usize, odd: &mut bool) -> Element {
    let addr = mailbox(rng, n);
    let one = |text: String, shapes: Vec<Shape>| Element {
        text,
        names: vec![addr.clone()],
        shapes,
    };
    let (local, domain) = addr.split_once('@').unwrap_or((&addr, ""));
    // At most one element of a case takes a shape msmtp reads differently, so that
    // a difference is explained by one row and the report counts each row's cases.
    let kind = if !*odd && rng.below(4) == 0 {
        *odd = true;
        10 + rng.below(6)
    } else {
        rng.below(10)
    };
    match kind {
        0 => one(addr.clone(), vec![]),
        1 => Element {
            text: pick(rng, &["root", "www-data", "to12"]).to_string(),
            names: vec![],
            shapes: vec![],
        }
        .with_own_name(),
        2 => one(format!("Some One <{addr}>"), vec![]),
        3 => one(format!("\"Doe, J; \\\"Q\\\"\" <{addr}>"), vec![]),
        4 => one(format!("=?utf-8?B?SsO2cmc=?= <{addr}>"), vec![]),
        5 => one(format!("{addr} {}", comment(rng)), vec![]),
        6 => one(format!("{} {addr}", comment(rng)), vec![]),
        7 => one(format!("Name {} <{addr}>", comment(rng)), vec![]),
        8 => one(format!("<{}{addr}>", comment(rng)), vec![]),
        9 => one(
            format!("<{local}{}@{}{domain}>", comment(rng), comment(rng)),
            vec![],
        ),
        10 => one(
            format!("<{addr} {}>", comment(rng)),
            vec![Shape::CommentAfterAddressInBrackets],
        ),
        11 => {
            *n += 1;
            let quoted = format!("\"john doe{n}\"@example.org");
            let text = match rng.below(2) {
                0 => quoted.clone(),
                _ => format!("John <{quoted}>"),
            };
            Element {
                text,
                names: vec![quoted],
                shapes: vec![Shape::QuotedLocalPart],
            }
        }
        12 => one(
            format!(
                "{}<@{}:{addr}>",
                pick(rng, &["", "Route "]),
                pick(rng, &["r.example", "a.example,@b.example"])
            ),
            vec![Shape::Route],
        ),
        13 => Element {
            text: "\"Undisclosed\"".into(),
            names: vec![],
            shapes: vec![],
        },
        14 => Element {
            text: pick(rng, &["a..b", "Undisclosed recipients"]).into(),
            names: vec![],
            shapes: vec![Shape::Junk],
        },
        _ => {
            *n += 1;
            Element {
                text: format!("u{n} . v @ example.net"),
                names: vec![format!("u{n}.v@example.net")],
                shapes: vec![Shape::ObsoleteBlanks],
            }
        }
    }
}

impl Element {
    /// A local name names itself.
    fn with_own_name(mut self) -> Element {
        self.names = vec![self.text.clone()];
        self
    }
}

/// An element: a single one, sometimes a group of them, sometimes repeated.
fn element(rng: &mut Rng, n: &mut usize, odd: &mut bool) -> Element {
    if rng.below(6) != 0 {
        return single(rng, n, odd);
    }
    let members: Vec<Element> = (0..rng.below(3)).map(|_| single(rng, n, odd)).collect();
    let name = pick(
        rng,
        &["Team", "A Group(Some people) ", "undisclosed-recipients"],
    );
    Element {
        text: format!(
            "{name}:{};{}",
            members
                .iter()
                .map(|m| m.text.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            pick(rng, &["", " (the end)"])
        ),
        names: members.iter().flat_map(|m| m.names.clone()).collect(),
        shapes: members.iter().flat_map(|m| m.shapes.clone()).collect(),
    }
}

/// One address field's value and what it names.
fn field_value(rng: &mut Rng, n: &mut usize, odd: &mut bool) -> Element {
    let count = 1 + rng.below(3);
    let mut parts: Vec<Element> = (0..count).map(|_| element(rng, n, odd)).collect();
    if rng.below(8) == 0 {
        // A duplicate: msmtp keeps both.
        let copy = Element {
            text: parts[0].text.clone(),
            names: parts[0].names.clone(),
            shapes: parts[0].shapes.clone(),
        };
        parts.push(copy);
    }
    let mut text = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            text.push_str(pick(rng, &[", ", ",", ",\n\t", " ,\n  "]));
        }
        text.push_str(&p.text);
    }
    Element {
        text,
        names: parts.iter().flat_map(|p| p.names.clone()).collect(),
        shapes: parts.iter().flat_map(|p| p.shapes.clone()).collect(),
    }
}

/// A generated case: arguments, input, the recipients rsmtp must send to, shapes.
struct Generated {
    args: Vec<String>,
    input: String,
    recipients: Vec<String>,
    shapes: Vec<Shape>,
}

fn generate(rng: &mut Rng) -> Generated {
    let mut n = 0;
    let mut odd = false;
    let mut header = String::from("From: Sender <sender@example.org>\n");
    let mut named = Vec::new();
    let mut shapes = Vec::new();
    if rng.below(7) == 0 {
        header.push_str("Resent-Date: Sat, 21 Nov 2026 10:00:00 +0000\n");
        for name in ["Resent-To", "Resent-Cc", "Resent-Bcc"] {
            if rng.below(2) == 0 {
                let v = field_value(rng, &mut n, &mut odd);
                header.push_str(&format!("{name}: {}\n", v.text));
                named.extend(v.names);
                shapes.extend(v.shapes);
                if name == "Resent-Bcc" {
                    shapes.push(Shape::ResentBcc);
                }
            }
        }
    }
    let resent = !header.ends_with("sender@example.org>\n");
    for _ in 0..1 + rng.below(4) {
        let name = pick(rng, &["To", "Cc", "Bcc", "to", "CC", "bcc"]);
        let v = field_value(rng, &mut n, &mut odd);
        header.push_str(&format!(
            "{name}:{}{}\n",
            pick(rng, &[" ", "", "  "]),
            v.text
        ));
        if !resent {
            named.extend(v.names);
            shapes.extend(v.shapes);
        }
    }
    header.push_str(
        "Subject: fuzz\nDate: Sat, 21 Nov 2026 10:00:00 +0000\nMessage-ID: <fuzz@example.org>\n",
    );
    let (args, recipients): (Vec<&str>, Vec<String>) = match rng.below(4) {
        0 => (vec!["-t"], named),
        1 => (
            vec!["-t", "-i", "extra@example.net"],
            std::iter::once("extra@example.net".to_string())
                .chain(named)
                .collect(),
        ),
        2 => (vec!["--read-envelope-from", "-t"], named),
        _ => (
            vec!["-i", "only@example.net"],
            vec!["only@example.net".to_string()],
        ),
    };
    if args.contains(&"-t") {
        // Without -t the header's shapes make no difference.
    } else {
        shapes.retain(|s| *s == Shape::ResentBcc);
    }
    Generated {
        args: args.into_iter().map(String::from).collect(),
        input: format!("{header}\nbody\n"),
        recipients,
        shapes,
    }
}

fn rcpts(side: &Side) -> Vec<String> {
    side.sessions
        .iter()
        .flat_map(|s| s.commands.iter())
        .filter_map(|c| c.line.strip_prefix("RCPT TO:<"))
        .map(|l| l.split('>').next().unwrap_or("").to_string())
        .collect()
}

/// Runs one case; `Err` describes a difference that is not intended. `Ok` gives
/// the shapes that explain the differences seen (empty: identical).
fn run_case(
    msmtp: &Path,
    server: &rsmtp_testserver::TestServer,
    dir: &Dir,
    g: &Generated,
) -> Result<Vec<Shape>, String> {
    let args: Vec<&str> = g.args.iter().map(String::as_str).collect();
    let (m, r) = Case::new(dir, Some(server))
        .args(&args)
        .stdin(&g.input)
        .run(msmtp);
    let context = || {
        format!(
            "args {:?}\n--- input\n{}--- model: {:?} shapes {:?}\n{}\n{}",
            g.args,
            g.input,
            g.recipients,
            g.shapes,
            m.describe(),
            r.describe()
        )
    };
    // rsmtp against the model.
    let want_code = if g.recipients.is_empty() { 64 } else { 0 };
    if rcpts(&r) != g.recipients || r.run.code() != want_code {
        return Err(format!(
            "rsmtp sent {:?} (exit {}), the model says {:?} (exit {want_code})\n{}",
            rcpts(&r),
            r.run.code(),
            g.recipients,
            context()
        ));
    }
    // rsmtp against msmtp.
    let mut seen = Vec::new();
    let explained = |shapes: &[Shape], what: &str, seen: &mut Vec<Shape>| {
        let found: Vec<Shape> = g
            .shapes
            .iter()
            .copied()
            .filter(|s| shapes.contains(s))
            .collect();
        if found.is_empty() {
            Err(format!(
                "{what} differ and no intended difference explains it\n{}",
                context()
            ))
        } else {
            seen.extend(found);
            Ok(())
        }
    };
    let envelope_shapes = [
        Shape::Junk,
        Shape::CommentAfterAddressInBrackets,
        Shape::QuotedLocalPart,
        Shape::Route,
        Shape::ObsoleteBlanks,
    ];
    if rcpts(&m) != rcpts(&r) {
        explained(&envelope_shapes, "recipients", &mut seen)?;
    }
    if m.run.code() != r.run.code() {
        explained(&envelope_shapes, "exit codes", &mut seen)?;
    }
    let mail_from = |s: &Side| s.accepted.first().map(|a| a.mail_from.clone());
    if !m.accepted.is_empty() && !r.accepted.is_empty() {
        if mail_from(&m) != mail_from(&r) {
            return Err(format!("MAIL FROM differs\n{}", context()));
        }
        if header_fields(&m.accepted[0].data) != header_fields(&r.accepted[0].data) {
            explained(&[Shape::ResentBcc], "header fields", &mut seen)?;
        }
        if crate::differential::body(&m.accepted[0]) != crate::differential::body(&r.accepted[0]) {
            return Err(format!("bodies differ\n{}", context()));
        }
    }
    seen.sort();
    seen.dedup();
    Ok(seen)
}

#[test]
#[allow(
    clippy::print_stderr,
    reason = "the run's summary (seed, cases, classes of difference) is this test's report"
)]
fn msmtp_as_oracle_for_address_headers_and_arguments() {
    let Some(msmtp) = oracle() else { return };
    let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let cases = number("RSMTP_DIFF_FUZZ_CASES").map_or(DEFAULT_CASES, |n| n as usize);
    let seed = number("RSMTP_FUZZ_SEED").unwrap_or(23);
    let only = number("RSMTP_DIFF_FUZZ_CASE").map(|n| n as usize);
    let case_rng = |i: usize| Rng::new(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let classes: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let workers = 2;
    std::thread::scope(|scope| {
        for w in 0..workers {
            let (msmtp, classes, failures) = (&msmtp, &classes, &failures);
            scope.spawn(move || {
                let server = plain_server();
                let dir = Dir::new();
                plain(&dir, server.port(), "");
                for i in (w..cases).step_by(workers) {
                    if only.is_some_and(|o| o != i) {
                        continue;
                    }
                    if failures.lock().map(|f| f.len() >= 3).unwrap_or(true) {
                        return;
                    }
                    let g = generate(&mut case_rng(i));
                    match run_case(msmtp, &server, &dir, &g) {
                        Ok(shapes) => {
                            let key = if shapes.is_empty() {
                                "identical".to_string()
                            } else {
                                format!("{shapes:?}")
                            };
                            if let Ok(mut c) = classes.lock() {
                                *c.entry(key).or_default() += 1;
                            }
                        }
                        Err(e) => {
                            if let Ok(mut f) = failures.lock() {
                                f.push(format!(
                                    "case {i} (RSMTP_FUZZ_SEED={seed} RSMTP_DIFF_FUZZ_CASE={i}): {e}"
                                ));
                            }
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_default();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let classes = classes.into_inner().unwrap_or_default();
    let run: usize = classes.values().sum();
    eprintln!("msmtp oracle: {run} cases (RSMTP_FUZZ_SEED={seed}); {classes:?}");
    assert_eq!(run, if only.is_some() { 1 } else { cases });
}
