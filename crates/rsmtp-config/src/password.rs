//! Secrets and where a password comes from: [`Secret`] (never printed), the
//! `eval`/`passwordeval` command runner, and [`Account::password`]'s lookup
//! order — `password`, else `passwordeval`, else `~/.netrc`, else `/etc/netrc`
//! (msmtp's order, minus its keyring and terminal prompt).

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::account::Account;
use crate::error::{ConfigError, Source};
use crate::expand;
use crate::netrc;

/// A password or other secret. `Debug` and `Display` print `***`; the only way
/// to the text is [`Secret::expose`], so a secret cannot reach a log or an
/// error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret text, for the one place that needs it (the AUTH exchange).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Longest first line read from an `eval`/`passwordeval` command (an OAuth2
/// access token is a few KiB at most).
const MAX_EVAL_LINE: usize = 64 * 1024;

/// Why running an `eval`/`passwordeval` command failed (no output in it).
#[derive(Debug)]
pub(crate) struct EvalFailure(pub String);

/// Run `command` with `sh -c` and return the first line of its standard
/// output without the line end, as msmtp's `eval()` does. Standard input is
/// `/dev/null` (msmtp passes its own, which holds the mail); standard error is
/// inherited so gpg and pass can prompt. An exit status is only reported when
/// the command printed nothing; a command that prints a line and then fails is
/// accepted, as msmtp accepts it.
pub(crate) fn run_first_line(command: &str) -> Result<String, EvalFailure> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| EvalFailure(format!("cannot run /bin/sh: {e}")))?;
    let mut line = Vec::new();
    // Bounded: a command that prints without end (`cat /dev/zero`) must not
    // exhaust memory. Closing the pipe makes it stop (SIGPIPE) before `wait`.
    let read = match child.stdout.take() {
        Some(out) => {
            BufReader::new(out.take(MAX_EVAL_LINE as u64 + 1)).read_until(b'\n', &mut line)
        }
        None => Ok(0),
    };
    let status = child
        .wait()
        .map_err(|e| EvalFailure(format!("cannot wait for the command: {e}")))?;
    let n = read.map_err(|e| EvalFailure(format!("cannot read its output: {e}")))?;
    if line.len() > MAX_EVAL_LINE {
        return Err(EvalFailure(format!(
            "its first line is longer than {MAX_EVAL_LINE} bytes"
        )));
    }
    if n == 0 {
        return Err(EvalFailure(if status.success() {
            "it printed nothing".to_string()
        } else {
            match (
                status.code(),
                std::os::unix::process::ExitStatusExt::signal(&status),
            ) {
                (Some(code), _) => format!("it printed nothing and exited with status {code}"),
                (None, Some(signal)) => {
                    format!("it printed nothing and was killed by signal {signal}")
                }
                _ => "it printed nothing and failed".to_string(),
            }
        }));
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Run a `passwordeval` command. Errors name the command and the line, never
/// the output.
pub fn eval_password(command: &str, at: &Source) -> Result<Secret, ConfigError> {
    run_first_line(command)
        .map(Secret::new)
        .map_err(|EvalFailure(reason)| ConfigError::PasswordEval {
            at: at.clone(),
            command: command.to_string(),
            reason,
        })
}

/// The netrc files consulted, in order: `~/.netrc`, then `/etc/netrc`.
pub fn netrc_files() -> Vec<PathBuf> {
    vec![
        expand::home_dir().join(".netrc"),
        PathBuf::from("/etc/netrc"),
    ]
}

impl Account {
    /// The password to authenticate with: `password`, else the first line
    /// printed by `passwordeval`, else the `machine HOST login USER` entry of
    /// `~/.netrc` or `/etc/netrc`. `Ok(None)` when none applies (msmtp would
    /// then prompt on a terminal; rsmtp never does).
    pub fn password(&self) -> Result<Option<Secret>, ConfigError> {
        self.password_with_netrc(&netrc_files())
    }

    /// [`Account::password`] with an explicit list of netrc files.
    pub fn password_with_netrc(
        &self,
        netrc_files: &[PathBuf],
    ) -> Result<Option<Secret>, ConfigError> {
        if let Some(p) = &self.password {
            return Ok(Some(p.clone()));
        }
        if let Some(cmd) = &self.passwordeval {
            let at = self
                .source_of("passwordeval")
                .cloned()
                .unwrap_or_else(Source::command_line);
            return eval_password(cmd, &at).map(Some);
        }
        let (Some(host), Some(user)) = (&self.host, &self.user) else {
            return Ok(None);
        };
        Ok(netrc_files
            .iter()
            .find_map(|f: &PathBuf| netrc::lookup(Path::new(f), host, user)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_never_printed() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn eval_takes_the_first_line() {
        let at = Source::file("rc", 3);
        let p = eval_password("printf 'pw1\\r\\nsecond\\n'", &at).expect("eval");
        assert_eq!(p.expose(), "pw1");
        let p = eval_password("printf 'no-newline'", &at).expect("eval");
        assert_eq!(p.expose(), "no-newline");
    }

    #[test]
    fn eval_failure_names_command_and_line_not_output() {
        let at = Source::file("rc", 3);
        let e = eval_password("exit 3", &at).expect_err("fails");
        let msg = e.to_string();
        assert!(
            msg.starts_with("rc:3: passwordeval 'exit 3' failed"),
            "{msg}"
        );
        assert!(msg.contains("exited with status 3"), "{msg}");
        assert_eq!(e.exit_code(), 78);
    }

    #[test]
    fn endless_output_is_refused_not_buffered() {
        let at = Source::file("rc", 2);
        let e = eval_password("cat /dev/zero", &at).expect_err("no line end");
        assert!(e.to_string().contains("longer than 65536 bytes"), "{e}");
        let p = eval_password("head -c 70000 /dev/zero | tr '\\0' x; echo", &at);
        assert!(p.is_err());
        let p = eval_password(
            "head -c 4000 /dev/zero | tr '\\0' t; echo; cat /dev/zero",
            &at,
        )
        .expect("a long token, then endless output");
        assert_eq!(p.expose().len(), 4000);
    }

    #[test]
    fn eval_does_not_read_our_stdin() {
        let at = Source::file("rc", 1);
        let p = eval_password("cat; echo done", &at).expect("eval");
        assert_eq!(p.expose(), "done");
    }
}
