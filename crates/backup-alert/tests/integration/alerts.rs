//! What an alert read at 02:00 on a phone must show: the likely error first (text and
//! HTML) and marked again in the tail, the ending in words, headers for filters and
//! autoresponders, an HTML part that wraps and needs nothing from outside.

use crate::*;

const CULPRIT: &str = "borg: Remote: Permission denied (publickey)";

/// A failing borg-like job: chatter on stdout, the fatal line last on stderr.
fn failing_run(env: &Env, extra: &[&str]) -> Run {
    let mut args = vec!["run", "--to", TO, "--no-flood", "--name", "nightly"];
    args.extend_from_slice(extra);
    let mut c = env.sub(&args);
    let script = format!(
        "echo 'Creating archive at ssh://backup@nas/repo'; echo 'Remote: connecting' >&2; echo '{CULPRIT}' >&2; exit 2"
    );
    c.arg("--").args(["sh", "-c", &script]);
    run(c)
}

#[test]
fn the_likely_error_opens_both_parts_and_is_marked_in_the_tail() {
    let server = server();
    let env = Env::new(&server);
    failing_run(&env, &["--from", FROM]).assert_code(2);
    let msg = one_message(&server);
    let text = text_of(&msg);
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(first, format!("Error: {CULPRIT}"), "{text}");
    // above the output, and marked again where it appears in the stderr tail
    let tail_at = text.find("--- stderr (2 lines) ---").expect("stderr tail");
    assert!(
        text[tail_at..].contains(&format!("\n\u{25b6} {CULPRIT}\n")),
        "{text}"
    );
    assert!(!text[tail_at..].contains("\u{25b6} Remote: connecting"));

    let parsed = parse(&msg);
    let html = parsed.body_html(0).unwrap().into_owned();
    let body = &html[html.find("<body").expect("body")..];
    let summary_at = body
        .find("Error: borg: Remote: Permission denied")
        .expect("summary");
    let heading_at = body.find("<h2").expect("heading");
    let tail_at = body.find("<pre").expect("log box");
    assert!(summary_at < heading_at && heading_at < tail_at, "{html}");
    assert!(
        body[tail_at..].contains("<mark")
            && body[tail_at..].contains("Permission denied (publickey)</mark>"),
        "{html}"
    );
}

#[test]
fn the_html_part_fits_a_phone_and_dark_mode_without_outside_resources() {
    let server = server();
    let env = Env::new(&server);
    failing_run(&env, &[]).assert_code(2);
    let parsed_msg = one_message(&server);
    let parsed = parse(&parsed_msg);
    let html = parsed.body_html(0).unwrap().into_owned();
    assert!(
        html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"),
        "{html}"
    );
    assert!(html.contains("color-scheme:light dark"), "{html}");
    let pre = &html[html.find("<pre").expect("log box")..];
    let pre_tag = &pre[..pre.find('>').unwrap_or(0)];
    assert!(
        pre_tag.contains("white-space:pre-wrap;word-break:break-word"),
        "{pre_tag}"
    );
    // explicit colours on the box: dark mode cannot turn its text into its background
    assert!(
        pre_tag.contains("background:#") && pre_tag.contains(";color:#"),
        "{pre_tag}"
    );
    // Nothing from outside. (A <style> block is there, for dark mode and phone widths
    // only; the inline styles alone still give a readable light card.)
    for outside in [
        "<link", "src=", "href=", "http://", "https://", "url(", "@import",
    ] {
        assert!(!html.contains(outside), "{outside} in {html}");
    }
}

#[test]
fn alert_headers_for_filters_and_autoresponders() {
    let server = server();
    let env = Env::new(&server);
    failing_run(&env, &["--from", FROM]).assert_code(2);
    let msg = one_message(&server);
    assert_eq!(
        msg.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(
        msg.header("X-Backup-Alert-Status").as_deref(),
        Some("failure")
    );
    let parsed = parse(&msg);
    let from = parsed.from().and_then(|f| f.first()).expect("From");
    assert_eq!(from.name(), Some("Backup alerts"));
    assert_eq!(from.address(), Some(FROM));
    let id = parsed.message_id().expect("Message-ID");
    assert!(id.ends_with("@example.com"), "{id}");

    // Without --from, rsmtp adds the account's From: still with the display name, and
    // the Message-ID is in the account's domain.
    let server = crate::server();
    let env = Env::new(&server);
    let mut c = env.sub(&[
        "send",
        "--status",
        "warning",
        "--subject",
        "disk 91%",
        "--to",
        TO,
        "--body",
        "b",
    ]);
    c.arg("--no-flood");
    run(c).assert_code(0);
    let msg = one_message(&server);
    assert_eq!(
        msg.header("X-Backup-Alert-Status").as_deref(),
        Some("warning")
    );
    let parsed = parse(&msg);
    let from = parsed.from().and_then(|f| f.first()).expect("From");
    assert_eq!(from.name(), Some("Backup alerts"), "{}", msg.headers());
    assert_eq!(from.address(), Some(FROM));
    assert!(parsed
        .message_id()
        .expect("Message-ID")
        .ends_with("@example.com"));

    // A configured name wins.
    let server = crate::server();
    let env = Env::new(&server);
    let mut c = env.sub(&[
        "send",
        "--status",
        "success",
        "--subject",
        "ok",
        "--to",
        TO,
        "--body",
        "b",
    ]);
    c.args(["--from", &format!("NAS backups <{FROM}>"), "--no-flood"]);
    run(c).assert_code(0);
    let msg = one_message(&server);
    let parsed = parse(&msg);
    assert_eq!(
        parsed.from().and_then(|f| f.first()).and_then(|a| a.name()),
        Some("NAS backups")
    );
}

#[test]
fn the_ending_is_said_in_words() {
    let server = server();
    let env = Env::new(&server);
    let mut c = env.sub(&["run", "--to", TO, "--no-flood", "--name", "dump"]);
    c.arg("--")
        .args(["sh", "-c", "echo 'one line only' >&2; kill -TERM $$"]);
    run(c).assert_code(143);
    let text = text_of(&one_message(&server));
    assert_eq!(
        fact(&text, "Result"),
        "stopped by signal 15 (SIGTERM)",
        "{text}"
    );
    assert_eq!(fact(&text, "Exit status"), "143");
    assert!(
        fact(&text, "Signal").starts_with("signal 15 (SIGTERM: terminated: asked to stop"),
        "{text}"
    );
    assert!(fact(&text, "Duration").ends_with(" seconds"), "{text}");
    assert!(text.contains("--- stderr (1 line) ---"), "{text}");
}

#[test]
fn the_check_alert_shows_the_file_against_the_limits() {
    let server = server();
    let env = Env::new(&server);
    let dir = env.path("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("db.sql.gz");
    std::fs::write(&p, vec![b'x'; 100]).unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(old)
        .unwrap();
    // a relative path on the command line: the mail names the absolute one
    let mut c = env.sub(&[
        "check",
        "--path",
        "backups",
        "--max-age",
        "26h",
        "--min-size",
        "1K",
        "--to",
        TO,
        "--no-flood",
    ]);
    c.current_dir(env.dir.path());
    run(c).assert_code(1);
    let text = text_of(&one_message(&server));
    let abs = dir.display().to_string();
    assert!(
        text.lines()
            .next()
            .unwrap_or_default()
            .starts_with("Problem: "),
        "{text}"
    );
    let first = text.lines().next().unwrap_or_default();
    assert!(first.contains(&p.display().to_string()));
    // said once: no "Problem: …" message repeating the opening line
    let problems = first
        .split_once(&format!("{}: ", p.display()))
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    assert!(!problems.is_empty(), "{text}");
    assert_eq!(text.matches(problems).count(), 1, "{text}");
    assert_eq!(fact(&text, "Path"), abs, "{text}");
    assert_eq!(fact(&text, "Newest file"), p.display().to_string());
    assert_eq!(
        fact(&text, "Age"),
        "1 day 6 hours (limit 1 day 2 hours: too old)"
    );
    assert_eq!(
        fact(&text, "Size"),
        "100 B (100 bytes) (minimum 1.0 KiB: too small)"
    );
}
