//! Which line of a failed job's output is most likely the error, so an alert read at
//! 02:00 can say what failed before it shows any log.
//!
//! The rule is deliberately simple and predictable: the last line of stderr that is not
//! blank (tools print their fatal message last, on stderr); failing that, the last line
//! of a log or of stdout that names a failure (`error`, `fail`, `denied`, `refused`,
//! `fatal`, any case).

/// Words that mark a line as reporting a failure (matched case-insensitively, anywhere).
const FAILURE_WORDS: [&str; 5] = ["error", "fail", "denied", "refused", "fatal"];

/// Does `line` name a failure?
pub fn names_failure(line: &str) -> bool {
    let lower = line.to_lowercase();
    FAILURE_WORDS.iter().any(|w| lower.contains(w))
}

/// The last non-blank line of `stderr`.
pub fn last_line(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// The last line of `text` that names a failure.
pub fn last_failure_line(text: &str) -> Option<String> {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && names_failure(l))
        .map(str::to_string)
}

/// The likely error of a run: the last stderr line, else the last failure line of stdout.
pub fn of_run(stderr: &str, stdout: &str) -> Option<String> {
    last_line(stderr).or_else(|| last_failure_line(stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_last_line_wins() {
        assert_eq!(
            of_run(
                "Creating archive\nborg: Remote: Permission denied (publickey)\n\n",
                "ok"
            ),
            Some("borg: Remote: Permission denied (publickey)".into())
        );
    }

    #[test]
    fn otherwise_the_last_line_naming_a_failure() {
        let log = "start\nrsync: connection REFUSED\nretrying\nFATAL: giving up\ncleanup done\n";
        assert_eq!(last_failure_line(log), Some("FATAL: giving up".into()));
        assert_eq!(of_run("", log), Some("FATAL: giving up".into()));
        assert_eq!(of_run("  \n", "all good\n"), None);
        assert!(names_failure("Access Denied"));
        assert!(!names_failure("archive created"));
    }
}
