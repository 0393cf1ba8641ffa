//! The real programs tests compare with (msmtp, aiosmtpd, smtp-sink, PHP, setpriv):
//! one rule for every crate's tests. A missing peer skips the test with a note on
//! stderr on a developer's machine, and fails it under `CI=true`, where `.ci/run`
//! installs every peer: CI can never go green without running the comparison.

use std::path::PathBuf;

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
/// module): `false` skips with a note, and panics under [`in_ci`].
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
    }
    holds
}
