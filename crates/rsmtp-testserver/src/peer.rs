//! The real programs tests compare with (msmtp, aiosmtpd, smtp-sink, PHP, setpriv):
//! one rule for every crate's tests. A missing peer skips the test with a note on
//! stderr on a developer's machine, and fails it under `CI=true`, where `.ci/run`
//! installs every peer: CI can never go green without running the comparison.
//!
//! A skipped test still prints `ok`, so every skip is also recorded: one line
//! `PEER<TAB>TEST` appended to [`skip_log`] (`target/rsmtp-skipped-peers.txt`), which
//! `contrib/test.sh` empties before `cargo test --workspace` and summarises after it.

use std::io::Write;
use std::path::{Path, PathBuf};

/// `CI=true`: missing peers fail instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `Some(path)` if `path` exists; otherwise `None` (skip, with a note), or a panic
/// under [`in_ci`].
#[track_caller]
pub fn require_peer(path: &str, what: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.exists() {
        return Some(p);
    }
    require(false, &format!("{what} ({path} not found)"));
    None
}

/// Whether a precondition that is not a file holds (root, an importable Python
/// module): `false` skips with a note (recorded in [`skip_log`]), and panics under
/// [`in_ci`].
#[track_caller]
#[allow(
    clippy::print_stderr,
    reason = "the note goes to the test's own stderr, which the test harness captures"
)]
pub fn require(holds: bool, what: &str) -> bool {
    if !holds {
        assert!(
            !in_ci(),
            "CI=true but this test's peer is missing: {what}; .ci/run must provide it"
        );
        eprintln!("skipping: {what} is missing");
        if let Some(log) = skip_log() {
            // Best effort: a skip log that cannot be written must not fail the test.
            let _ = record_skip(&log, what, &current_test());
        }
    }
    holds
}

/// Where skips are recorded: `$RSMTP_SKIPPED_PEERS` if set, else
/// `rsmtp-skipped-peers.txt` in the cargo target directory of the running test
/// (`…/target/debug/deps/integration-HASH` → `…/target/`, wherever
/// `CARGO_TARGET_DIR` put it).
pub fn skip_log() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RSMTP_SKIPPED_PEERS") {
        return Some(PathBuf::from(path));
    }
    let exe = std::env::current_exe().ok()?;
    target_dir_of(&exe).map(|t| t.join("rsmtp-skipped-peers.txt"))
}

/// The target directory above a test executable: the parent of the profile directory
/// that holds `deps/` (`target/debug/deps/x`), or one more level up for a cross build
/// (`target/x86_64-…/debug/deps/x`), where cargo's `CACHEDIR.TAG` is.
fn target_dir_of(exe: &Path) -> Option<PathBuf> {
    let deps = exe
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "deps"))?;
    let target = deps.parent()?.parent()?;
    match target.parent() {
        Some(up) if !target.join("CACHEDIR.TAG").exists() && up.join("CACHEDIR.TAG").exists() => {
            Some(up.to_path_buf())
        }
        _ => Some(target.to_path_buf()),
    }
}

/// `binary::test` for the running test: the test binary's name without cargo's hash,
/// and the test harness's thread name (the test's path).
fn current_test() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|e| e.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|s| match s.rsplit_once('-') {
            Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_owned(),
            _ => s,
        })
        .unwrap_or_default();
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("(unnamed thread)");
    format!("{binary}::{test}")
}

/// Appends `what<TAB>test` to `log`, in one write (concurrent tests append whole lines).
fn record_skip(log: &Path, what: &str, test: &str) -> std::io::Result<()> {
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    let line = format!("{}\t{}\n", clean(what), clean(test));
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?
        .write_all(line.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_dir_is_found_above_deps() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        let deps = target.join("debug").join("deps");
        std::fs::create_dir_all(&deps).unwrap();
        std::fs::write(target.join("CACHEDIR.TAG"), "").unwrap();
        assert_eq!(
            target_dir_of(&deps.join("integration-0123abcd")).as_deref(),
            Some(target.as_path())
        );
        let cross = target
            .join("x86_64-unknown-linux-gnu")
            .join("debug")
            .join("deps");
        std::fs::create_dir_all(&cross).unwrap();
        assert_eq!(
            target_dir_of(&cross.join("integration-0123abcd")).as_deref(),
            Some(target.as_path())
        );
        assert_eq!(target_dir_of(Path::new("/usr/bin/true")), None);
    }

    #[test]
    fn a_skip_is_one_line_per_test() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("skips.txt");
        record_skip(&log, "msmtp (/usr/bin/msmtp not found)", "integration::a").unwrap();
        record_skip(&log, "zsh\tand\nfish", "integration::b").unwrap();
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "msmtp (/usr/bin/msmtp not found)\tintegration::a\nzsh and fish\tintegration::b\n"
        );
    }
}
