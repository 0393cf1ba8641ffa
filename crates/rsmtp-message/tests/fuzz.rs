//! Fuzzing the message layer (a seeded mutation loop from
//! `rsmtp_testserver::fuzz`; `RSMTP_FUZZ_CASES`, `RSMTP_FUZZ_SEED`): header blocks
//! and aliases files, from real messages (PHP, cron, Resent-, groups) and
//! aliases files.

#![allow(
    clippy::unwrap_used,
    reason = "a test that meets an unexpected error should stop there, loudly"
)]

use rsmtp_message::{
    header_recipients, read_message, Aliases, FromEdit, HeaderEdits, Message, ToEdit,
};
use rsmtp_testserver::fuzz::{fuzz, text_seeds};

fn no_line_break(what: &str, value: &str) {
    assert!(
        !value.contains(['\r', '\n', '\0']),
        "{what} holds CR, LF or NUL: {value:?}"
    );
}

/// Header blocks: reading, `-t` recipients and the rewrite never panic; a
/// recipient never holds CR, LF or NUL; with Bcc removal no Bcc field is left;
/// the header sent is CRLF lines only.
#[test]
#[allow(
    clippy::print_stderr,
    reason = "the fuzz run's summary (seed, cases) is this test's report"
)]
fn fuzz_header_blocks() {
    let seeds = text_seeds(&[
        "To: a@example.org\nSubject: test\n\nbody\n",
        "From: \"Doe, John\" <j@x.org>\nTo: Friends: a@x.org, b@y.org;, c@z.org (C)\n\
         Cc: <d@x.org>\nBcc: hidden@x.org,\n  folded@x.org\nSubject: =?UTF-8?B?w6k=?=\n\n.\n..\nbody\n",
        "Resent-From: r@x.org\nResent-To: r1@x.org\nResent-Bcc: r2@x.org\nTo: old@x.org\n\nb\n",
        "WARNING: low disk space\nsent 123 bytes\n",
        "To: \"quoted@local\"@x.org, @route,@r2:u@x.org, undisclosed-recipients:;\r\n\r\nx\r\n",
        "Subject: cron\r\nTo: root\r\nBCC: root@localhost\r\n\r\nline\rwith bare CR\n",
        "From root@host Sat Nov 21 10:00:00 2026\nTo: u@x.org\n\n",
    ]);
    let tokens: &[&[u8]] = &[
        b"To: ",
        b"Cc: ",
        b"Bcc: ",
        b"Resent-To: ",
        b"Resent-Bcc: ",
        b"From: ",
        b"\n ",
        b"\n\n",
        b"group:",
        b";",
        b"<a@b.c>",
        b"\"x y\"",
        b"(comment)",
        b"=?utf-8?q?x?=",
    ];
    let edits = HeaderEdits {
        remove_bcc: true,
        from: FromEdit::AddIfMissing("me@x.org".into()),
        to: ToEdit::UndisclosedIfMissing,
        date: Some("Sat, 21 Nov 2026 16:14:16 +0000".into()),
        message_id: Some("<1@x.org>".into()),
    };
    let r = fuzz("header", &seeds, tokens, |input| {
        let Ok(incoming) = read_message(&mut &input[..], None) else {
            return;
        };
        let found = header_recipients(&incoming.header);
        for r in &found.addresses {
            no_line_break("recipient", r);
        }
        for skipped in &found.skipped {
            no_line_break("skipped element", &skipped.to_string());
        }
        let Ok(message) = Message::from_incoming(incoming, &edits) else {
            return;
        };
        let header = message.header();
        for line in header.split_inclusive(|&b| b == b'\n') {
            assert!(
                line.ends_with(b"\r\n"),
                "header line without CRLF: {line:?}"
            );
            let lower = line.to_ascii_lowercase();
            assert!(
                !lower.starts_with(b"bcc:") && !lower.starts_with(b"bcc :"),
                "Bcc left in the header: {:?}",
                String::from_utf8_lossy(line)
            );
        }
    });
    eprintln!("{r}");
}

/// Aliases files: parsing and expansion never panic; an expanded address never
/// holds CR, LF or NUL.
#[test]
#[allow(
    clippy::print_stderr,
    reason = "the fuzz run's summary (seed, cases) is this test's report"
)]
fn fuzz_aliases() {
    let seeds = vec![
        b"# comment\nroot: admin@example.org\npostmaster: root\n\
          default: catchall@example.org\nteam: a@x.org, b@x.org,\n  c@x.org\n"
            .to_vec(),
        b"cron: \"Cron Daemon\" <cron@x.org>\nwww-data: root\nroot: alice, bob@x.org\n".to_vec(),
    ];
    let tokens: &[&[u8]] = &[b"root", b": ", b"default", b",", b"\n  ", b"#"];
    let asked: Vec<String> = ["root", "postmaster", "team", "nobody", "a@x.org", "default"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let r = fuzz("aliases", &seeds, tokens, |input| {
        let Ok(aliases) = Aliases::parse(&String::from_utf8_lossy(input)) else {
            return;
        };
        if let Ok(out) = aliases.expand(&asked) {
            for a in &out {
                no_line_break("expanded alias", a);
            }
        }
    });
    eprintln!("{r}");
}
