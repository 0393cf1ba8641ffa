//! Which line of a failed job's output states the cause, so an alert read at 02:00 says
//! what failed before it shows any log — and which known class of failure it is, so it
//! can say what to do (see [`crate::diagnosis::advice`]).
//!
//! Backup tools print the cause first and a summary after it: tar's `Cannot stat: No such
//! file or directory` comes before `Exiting with failure status due to previous errors`,
//! rsync's `link_stat … failed` before `rsync error: … (code 23)`, borg's `Remote: ssh:
//! connect to host …: Connection refused` before `Connection closed by remote host`, and
//! `borg create --stats` ends with a line of dashes. A wrapper script that tees the tool's
//! output puts the tool's line in stdout and its own generic line ("borg create a échoué")
//! after it. So the rule, first match wins:
//!
//! 1. the first line, in stderr then in stdout, that has a known cause's shape (the
//!    tools' messages for an unreachable host, a wrong passphrase, a lock, corruption, a
//!    full disk, a missing file or a refused permission);
//! 2. the first line, in stderr then in stdout, with a failure word (`error`, `fatal`,
//!    `cannot`, `erreur`, `エラー`, …), leaving out the tools' summary lines
//!    ("see previous errors") and counts ("0 errors");
//! 3. the last line of stderr that is not blank and not decoration (`-----`).

/// A kind of failure the alert knows what to advise about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureClass {
    /// The repository's host cannot be reached or refuses the ssh key.
    Unreachable,
    /// Wrong or missing passphrase / password.
    Passphrase,
    /// The repository is locked (by a running or a dead process).
    Lock,
    /// The repository or archive is damaged.
    Corrupt,
    /// No space left where the backup is written.
    DiskFull,
    /// No new backup in time (found by `check`, never in a line).
    Stale,
}

/// Shapes of the tools' messages (lower case, matched anywhere in the line), with the
/// class each one means.
const CLASS_SHAPES: &[(&str, FailureClass)] = &[
    // ssh (through borg's `Remote:`, restic's `subprocess ssh:`, rsync) and the network
    ("connection refused", FailureClass::Unreachable),
    ("could not resolve hostname", FailureClass::Unreachable),
    ("name or service not known", FailureClass::Unreachable),
    (
        "temporary failure in name resolution",
        FailureClass::Unreachable,
    ),
    ("no route to host", FailureClass::Unreachable),
    ("network is unreachable", FailureClass::Unreachable),
    ("connection timed out", FailureClass::Unreachable),
    ("connection reset by peer", FailureClass::Unreachable),
    ("permission denied (publickey", FailureClass::Unreachable),
    ("host key verification failed", FailureClass::Unreachable),
    (
        "connection closed by remote host",
        FailureClass::Unreachable,
    ),
    (
        "unable to start the sftp session",
        FailureClass::Unreachable,
    ),
    ("connection unexpectedly closed", FailureClass::Unreachable),
    // borg: "passphrase supplied in BORG_PASSPHRASE, … is incorrect."; restic: "wrong
    // password or no key found"
    ("passphrase supplied in", FailureClass::Passphrase),
    ("wrong password", FailureClass::Passphrase),
    ("passphrase is incorrect", FailureClass::Passphrase),
    ("no key found", FailureClass::Passphrase),
    ("enter passphrase for key", FailureClass::Passphrase),
    // borg: "Failed to create/acquire the lock …lock.exclusive (timeout)."; restic:
    // "unable to create lock in backend: repository is already locked by PID …"
    ("failed to create/acquire the lock", FailureClass::Lock),
    ("repository is already locked", FailureClass::Lock),
    ("unable to create lock", FailureClass::Lock),
    ("lock.exclusive", FailureClass::Lock),
    // borg "Data integrity error", "… is corrupted"; restic "pack … contains errors";
    // gzip/zstd "unexpected end of file"
    ("integrity error", FailureClass::Corrupt),
    ("corrupt", FailureClass::Corrupt),
    ("checksum mismatch", FailureClass::Corrupt),
    ("ciphertext verification failed", FailureClass::Corrupt),
    ("unexpected end of file", FailureClass::Corrupt),
    ("unexpected eof", FailureClass::Corrupt),
    // ENOSPC, EDQUOT; borg "Insufficient free space to complete transaction"
    ("no space left on device", FailureClass::DiskFull),
    ("disk quota exceeded", FailureClass::DiskFull),
    ("insufficient free space", FailureClass::DiskFull),
    ("not enough free space", FailureClass::DiskFull),
];

/// Other shapes that state a cause, without advice of their own.
const CAUSE_SHAPES: &[&str] = &[
    "no such file or directory",
    "does not exist",
    "permission denied",
    "cannot stat",
    "cannot open",
    "is not a valid repository",
    "command not found",
    "read-only file system",
    "input/output error",
];

/// Words that mark a line as reporting a failure (matched in lower case, anywhere).
const FAILURE_WORDS: &[&str] = &[
    "error",
    "fail",
    "fatal",
    "denied",
    "refused",
    "cannot",
    "can't",
    "unable",
    "not found",
    "incorrect",
    "invalid",
    "exception",
    "timed out",
    "aborted",
    "erreur",
    "échec",
    "échoué",
    "impossible",
    "エラー",
    "失敗",
];

/// Lines that name errors without being one: the tools' closing summaries and counts.
const NOT_A_CAUSE: &[&str] = &[
    "see previous errors",
    "due to previous errors",
    "0 errors",
    "no errors",
    "without errors",
    "errors: 0",
    "failed: 0",
    "0 failed",
    "traceback (most recent call last)",
];

/// The line that states why a job failed, and its class when it is a known one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cause {
    pub(crate) line: String,
    pub(crate) class: Option<FailureClass>,
}

/// The class of failure `line` reports, if it is a known one.
pub(crate) fn classify(line: &str) -> Option<FailureClass> {
    let lower = line.to_lowercase();
    CLASS_SHAPES
        .iter()
        .find(|(shape, _)| lower.contains(shape))
        .map(|(_, class)| *class)
}

fn states_cause(line: &str) -> bool {
    let lower = line.to_lowercase();
    classify(line).is_some() || CAUSE_SHAPES.iter().any(|s| lower.contains(s))
}

/// Does `line` name a failure (and is it not a summary or a count of them)?
pub(crate) fn names_failure(line: &str) -> bool {
    let lower = line.to_lowercase();
    FAILURE_WORDS.iter().any(|w| lower.contains(w))
        && !NOT_A_CAUSE.iter().any(|n| lower.contains(n))
}

/// A line that carries no words: blank, or a rule of dashes, equals signs, stars.
fn is_decoration(line: &str) -> bool {
    !line.chars().any(char::is_alphanumeric)
}

/// The text's lines worth reading, cleaned of terminal escapes (see
/// [`crate::tail::plain_line`]).
fn lines(text: &str) -> impl DoubleEndedIterator<Item = String> + '_ {
    text.lines()
        .map(|l| crate::tail::plain_line(l).trim().to_string())
        .filter(|l| !is_decoration(l))
}

/// The last non-blank line of `stderr` that is not decoration.
pub(crate) fn last_line(stderr: &str) -> Option<String> {
    lines(stderr).next_back()
}

/// The last line of `text` that names a failure.
#[cfg(test)]
pub(crate) fn last_failure_line(text: &str) -> Option<String> {
    lines(text).rev().find(|l| names_failure(l))
}

/// The cause in a log that holds many runs (`send --log`): the last line with a known
/// cause's shape, else the last line naming a failure — the newest run is at the end.
pub(crate) fn last_cause(text: &str) -> Option<Cause> {
    let all: Vec<String> = lines(text).collect();
    all.iter()
        .rev()
        .find(|l| states_cause(l) && !NOT_A_CAUSE.iter().any(|n| l.to_lowercase().contains(n)))
        .or_else(|| all.iter().rev().find(|l| names_failure(l)))
        .map(|l| Cause {
            class: classify(l),
            line: l.clone(),
        })
}

/// The cause among `texts`, searched in order (rules 1 and 2 of the module text).
pub(crate) fn first_cause(texts: &[&str]) -> Option<Cause> {
    let first = |pick: &dyn Fn(&str) -> bool| {
        texts
            .iter()
            .find_map(|t| lines(t).find(|l| pick(l)))
            .map(|l| Cause {
                class: classify(&l),
                line: l,
            })
    };
    first(&|l| states_cause(l) && !NOT_A_CAUSE.iter().any(|n| l.to_lowercase().contains(n)))
        .or_else(|| first(&names_failure))
}

/// The cause of a failed run: [`first_cause`] in stderr then stdout, else stderr's last
/// line.
pub(crate) fn of_run(stderr: &str, stdout: &str) -> Option<Cause> {
    first_cause(&[stderr, stdout]).or_else(|| {
        last_line(stderr).map(|line| Cause {
            class: classify(&line),
            line,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(stderr: &str, stdout: &str) -> Option<String> {
        of_run(stderr, stdout).map(|c| c.line)
    }

    #[test]
    fn the_first_cause_not_the_closing_summary() {
        assert_eq!(
            line(
                "tar: /srv/x: Cannot stat: No such file or directory\n\
                 tar: Exiting with failure status due to previous errors\n",
                ""
            ),
            Some("tar: /srv/x: Cannot stat: No such file or directory".into())
        );
        assert_eq!(
            line(
                "rsync: [sender] link_stat \"/srv/x\" failed: No such file or directory (2)\n\
                 rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]\n",
                ""
            ),
            Some(
                "rsync: [sender] link_stat \"/srv/x\" failed: No such file or directory (2)"
                    .into()
            )
        );
    }

    #[test]
    fn a_cause_in_stdout_beats_a_generic_line_in_stderr() {
        let c = of_run(
            "ERREUR : borg create a échoué\n",
            "Creating archive\nRemote: ssh: connect to host nas port 22: Connection refused\r\n\
             Connection closed by remote host. Is borg working on the server?\n\
             borg create a échoué\n",
        )
        .unwrap();
        assert_eq!(
            c.line,
            "Remote: ssh: connect to host nas port 22: Connection refused"
        );
        assert_eq!(c.class, Some(FailureClass::Unreachable));
    }

    #[test]
    fn generic_failure_words_and_decoration() {
        let log = "start\nrsync: connection REFUSED\nretrying\nFATAL: giving up\ncleanup done\n";
        assert_eq!(last_failure_line(log), Some("FATAL: giving up".into()));
        assert_eq!(line("", "all good\n0 errors\n"), None);
        assert_eq!(line("  \n", "all good\n"), None);
        assert_eq!(line("warn\n----------\n", ""), Some("warn".into()));
        assert!(names_failure("Access Denied"));
        assert!(!names_failure("archive created"));
    }

    #[test]
    fn classes() {
        for (l, class) in [
            (
                "passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND or via BORG_PASSPHRASE_FD is incorrect.",
                FailureClass::Passphrase,
            ),
            ("Fatal: wrong password or no key found", FailureClass::Passphrase),
            (
                "Failed to create/acquire the lock /b/repo/lock.exclusive (timeout).",
                FailureClass::Lock,
            ),
            (
                "unable to create lock in backend: repository is already locked by PID 7 on h by root (UID 0, GID 0)",
                FailureClass::Lock,
            ),
            ("Data integrity error: Segment entry checksum mismatch [segment 3, offset 8]", FailureClass::Corrupt),
            ("borg: [Errno 28] No space left on device", FailureClass::DiskFull),
            ("Permission denied (publickey).", FailureClass::Unreachable),
        ] {
            assert_eq!(classify(l), Some(class), "{l}");
        }
        assert_eq!(
            classify("nosuch: [Errno 2] No such file or directory"),
            None
        );
    }
}
