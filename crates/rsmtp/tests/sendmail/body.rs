//! 3. The body passes unchanged.

use super::*;

#[test]
fn eight_bit_leading_dots_and_a_10000_char_line_arrive_unchanged() {
    let server = TestServer::start(ServerOptions::new().keep_raw_data());
    let dir = home_for(&server, "");
    let long_line = "x".repeat(10_000);
    let input = format!(
        "From: a@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@a>\nSubject: body\n\n\
         Grüße, 日本語, caf\u{e9}\n.\n..two dots\n.leading dot\n{long_line}\n. \nlast\n"
    );
    let mut bytes = input.clone().into_bytes();
    // A raw Latin-1 byte (not UTF-8) must survive too.
    bytes.extend_from_slice(b"latin1: \xe9t\xe9\n");
    let run = dir.rsmtp().arg("x@example.org").stdin(&bytes).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    let mut expected = crlf(&input);
    expected.extend_from_slice(b"latin1: \xe9t\xe9\r\n");
    assert_eq!(m.data.len(), expected.len());
    assert!(m.data == expected, "body changed in transit");
    // On the wire the dots were stuffed (RFC 5321 §4.5.2) and the server unstuffed them.
    let raw = String::from_utf8_lossy(&m.raw_data);
    assert!(
        raw.contains("\r\n..\r\n...two dots\r\n..leading dot\r\n"),
        "{raw}"
    );
    // Declared 8BITMIME since the server offers it.
    assert!(
        m.mail_params
            .iter()
            .any(|p| p.eq_ignore_ascii_case("BODY=8BITMIME")),
        "{:?}",
        m.mail_params
    );
}

#[test]
fn lf_crlf_and_missing_final_newline_are_normalised_to_crlf() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = b"From: a@example.org\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@a>\r\nSubject: mixed\n\r\nline1\r\nline2\nline3";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(
        m.data_str(),
        "From: a@example.org\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@a>\r\nSubject: mixed\r\n\r\nline1\r\nline2\r\nline3\r\n"
    );
    assert!(!m.bare_lf);
}

#[test]
fn nul_bytes_in_the_body_are_passed_through() {
    let server = plain_server();
    let dir = home_for(&server, "");
    let input = b"From: a@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@a>\n\nbefore\0after\n\0\n";
    let run = dir.rsmtp().arg("x@example.org").stdin(input).run();
    run.assert_code(0);
    let m = only_message(&server, &run);
    assert_eq!(m.data, crlf(&String::from_utf8_lossy(input)));
}

#[test]
#[allow(
    clippy::print_stderr,
    reason = "the measured peak RSS is reported next to the test result"
)]
fn hundred_megabyte_message_is_streamed_with_small_memory() {
    const LINE: &[u8] =
        b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstu\n";
    const BLOCK_LINES: usize = 1024;
    const BLOCKS: usize = 100 * 1024 * 1024 / (LINE.len() * BLOCK_LINES) + 1;
    let header = b"From: a@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <big@a>\nSubject: big\n\n";
    let mut opts = ServerOptions::new();
    opts.store_bodies = false;
    let server = TestServer::start(opts);
    let dir = home_for(&server, "");
    let fed = dir.rsmtp().arg("x@example.org").run_fed(move |w| {
        w.write_all(header)?;
        let block = LINE.repeat(BLOCK_LINES);
        for _ in 0..BLOCKS {
            w.write_all(&block)?;
        }
        Ok(())
    });
    fed.run.assert_code(0);
    let m = only_message(&server, &fed.run);
    // Every LF became CRLF: one extra byte per line (5 header lines, then the body).
    let lines = BLOCKS * BLOCK_LINES;
    let expected = header.len() + 5 + lines * (LINE.len() + 1);
    assert!(expected > 100 * 1024 * 1024);
    assert_eq!(m.size, expected);
    eprintln!("100 MB message: rsmtp peak RSS {} KiB", fed.peak_rss_kib);
    assert!(fed.peak_rss_kib > 0, "could not read VmHWM from /proc");
    assert!(
        fed.peak_rss_kib < 64 * 1024,
        "peak RSS {} KiB for a 100 MB message",
        fed.peak_rss_kib
    );
}
