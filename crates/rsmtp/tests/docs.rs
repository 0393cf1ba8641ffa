//! The man pages as a reader sees them: every page in man/ renders without a groff or
//! man-db warning, and the rendered text has no word glued to a parenthesis or a
//! punctuation mark — what a `.BR`/`.IR` line with one argument too many produces
//! (`.BR \-\-port=99999 ), or no recipients` renders as
//! `--port=99999),ornorecipients`).

use crate::support::{repo_root, require_peer};
use std::path::{Path, PathBuf};
use std::process::Command;

fn man_pages() -> Vec<PathBuf> {
    let dir = repo_root().join("man");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read man/")
        .map(|e| e.expect("man/ entry").path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.len() == 1 && e.as_bytes()[0].is_ascii_digit())
        })
        .collect();
    pages.sort();
    assert!(pages.len() >= 4, "man pages expected in {}", dir.display());
    pages
}

/// Runs a renderer on `page` and returns what it printed; anything on stderr (groff's
/// and man's warnings) is added to `problems`, a non-zero exit fails the test.
fn render(cmd: &mut Command, page: &Path, problems: &mut Vec<String>) -> String {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.arg(page).output().expect("run the renderer");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{program} failed on {}: {stderr}",
        page.display()
    );
    if !stderr.trim().is_empty() {
        problems.push(format!("{}: {program} warns:\n{stderr}", page.display()));
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Places in rendered text where a word is glued to a parenthesis or a punctuation mark.
/// `rsmtp(1)` and `mail()` are fine; `99999),or`, `recipients(EX_USAGE)`, `x)y` and
/// `or,no` are not.
fn glued(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let c: Vec<char> = line.chars().collect();
        let at = |i: usize| c.get(i).copied().unwrap_or(' ');
        for i in 0..c.len() {
            let bad = match c[i] {
                // `)x`, or `),x` / `).x` / `);x` / `):x`
                ')' => {
                    at(i + 1).is_alphabetic()
                        || (matches!(at(i + 1), ',' | '.' | ';' | ':') && at(i + 2).is_lowercase())
                }
                // `word(` not opening a section number or an empty argument list.
                '(' => {
                    i > 0
                        && c[i - 1].is_alphabetic()
                        && !at(i + 1).is_ascii_digit()
                        && at(i + 1) != ')'
                }
                // `word,word` / `word;word` (addresses and file names use `.`, `@`, `:`).
                ',' | ';' => {
                    i > 0
                        && c[i - 1].is_lowercase()
                        && at(i + 1).is_lowercase()
                        && at(i + 2).is_lowercase()
                }
                _ => false,
            };
            if bad {
                found.push(format!("line {}: {}", n + 1, line.trim()));
                break;
            }
        }
    }
    found
}

#[test]
fn glued_text_is_detected() {
    assert_eq!(
        glued("such as --port=99999),ornorecipients(EX_USAGE).").len(),
        1
    );
    assert_eq!(glued("x)y\nrecipients(EX_USAGE)\nor,no\n").len(), 3);
    assert!(glued("see rsmtp(1), PHP's mail() (and -t), a, b; (off|on)").is_empty());
}

#[test]
fn man_pages_render_with_groff_without_warnings_or_glued_words() {
    let Some(groff) = require_peer("/usr/bin/groff", "groff (Debian groff-base)") else {
        return;
    };
    let mut problems = Vec::new();
    for page in man_pages() {
        // -ww: every warning; -P-cbou: plain text, no overstriking or SGR escapes.
        let text = render(
            Command::new(&groff).args(["-man", "-t", "-Tutf8", "-ww", "-P-cbou"]),
            &page,
            &mut problems,
        );
        assert!(text.contains("NAME"), "{} rendered no NAME", page.display());
        for g in glued(&text) {
            problems.push(format!("{}: glued text, {g}", page.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn man_pages_render_with_man_l_without_warnings() {
    let Some(man) = require_peer("/usr/bin/man", "man (Debian man-db)") else {
        return;
    };
    let mut problems = Vec::new();
    for page in man_pages() {
        let text = render(
            Command::new(&man)
                .args(["--warnings", "-l"])
                .env("MANWIDTH", "80")
                .env("MANPAGER", "cat")
                .env("LC_ALL", "C.UTF-8"),
            &page,
            &mut problems,
        );
        if text.trim().is_empty() {
            problems.push(format!("{}: man -l rendered nothing", page.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
