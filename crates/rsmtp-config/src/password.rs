//! Secrets and where a password comes from: [`Secret`] (never printed), the
//! `eval`/`passwordeval` command runner, and [`Account::password`]'s lookup
//! order — `password`, else `passwordeval`, else `~/.netrc`, else `/etc/netrc`
//! (msmtp's order, minus its keyring and terminal prompt).

use std::io::{IsTerminal, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::account::Account;
use crate::error::{ConfigError, Source};
use crate::expand;
use crate::netrc;
use crate::value::DEFAULT_TIMEOUT_SECS;
use zeroize::Zeroizing;

/// The one secret type, shared with the SMTP layer.
pub use rsmtp_core::Secret;

/// Longest first line read from an `eval`/`passwordeval` command (an OAuth2
/// access token is a few KiB at most).
const MAX_EVAL_LINE: usize = 64 * 1024;

/// How long an `eval` or `passwordeval` command may run when standard input is a
/// terminal: someone is there to answer a gpg or pass prompt.
pub const EVAL_TERMINAL_LIMIT: Duration = Duration::from_secs(300);

/// How long an `eval` command (run while the file is read, before any account
/// timeout is known) or a `passwordeval` of an account with `timeout off` may run
/// when nobody is at a terminal. The same as the default network `timeout`.
pub const EVAL_DEFAULT_LIMIT: Duration = Duration::from_secs(DEFAULT_TIMEOUT_SECS as u64);

pub use crate::error::EVAL_TIMEOUT_ENV;

/// The time an `eval`/`passwordeval` command may take before its process group
/// is killed: `$RSMTP_EVAL_TIMEOUT` seconds when set; else
/// [`EVAL_TERMINAL_LIMIT`] when standard input is a terminal (a pinentry prompt
/// waits for a person); else `account_timeout` (a `passwordeval`'s account
/// `timeout`), or [`EVAL_DEFAULT_LIMIT`] without one. A hanging command can then
/// no more hold a cron job or a PHP request forever than a silent server can.
pub fn eval_limit(account_timeout: Option<Duration>) -> Duration {
    if let Some(secs) = std::env::var(EVAL_TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
    {
        return Duration::from_secs(secs);
    }
    if std::io::stdin().is_terminal() {
        return EVAL_TERMINAL_LIMIT.max(account_timeout.unwrap_or_default());
    }
    account_timeout.unwrap_or(EVAL_DEFAULT_LIMIT)
}

/// Why running an `eval`/`passwordeval` command failed (no output in it).
#[derive(Debug)]
pub(crate) enum EvalFailure {
    /// It could not be run, printed nothing, or printed too much.
    Failed(String),
    /// It was still running after this long; its process group was killed.
    TimedOut(Duration),
}

/// What the thread that talks to the command reports.
enum Progress {
    /// The first line (or why it could not be read).
    Line(std::io::Result<Zeroizing<Vec<u8>>>),
    /// The command exited.
    Exited(std::io::Result<std::process::ExitStatus>),
}

/// Run `command` with `sh -c` and return the first line of its standard
/// output without the line end, as msmtp's `eval()` does. Standard input is
/// `/dev/null` (msmtp passes its own, which holds the mail); standard error is
/// inherited so gpg and pass can prompt. An exit status is only reported when
/// the command printed nothing; a command that prints a line and then fails is
/// accepted, as msmtp accepts it.
///
/// The command runs in a process group of its own. When it has printed no line
/// within `limit`, the whole group is killed (SIGKILL) and
/// [`EvalFailure::TimedOut`] returned; when it printed its line but has not
/// exited by then, the group is killed and the line used (msmtp would wait).
pub(crate) fn run_first_line(command: &str, limit: Duration) -> Result<String, EvalFailure> {
    let deadline = Instant::now() + limit;
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .map_err(|e| EvalFailure::Failed(format!("cannot run /bin/sh: {e}")))?;
    let group = rustix::process::Pid::from_child(&child);
    let stdout = child.stdout.take();
    let (tx, rx) = mpsc::channel();
    // The pipe is read and the child waited for on a thread, so this one can
    // keep the time limit.
    let spawned = std::thread::Builder::new()
        .name("rsmtp-passwordeval".into())
        .spawn(move || {
            let read = match stdout {
                Some(out) => read_first_line(out),
                None => Ok(Zeroizing::new(Vec::new())),
            };
            let _ = tx.send(Progress::Line(read));
            let _ = tx.send(Progress::Exited(child.wait()));
        });
    if let Err(e) = spawned {
        // EAGAIN under a pids limit: the command cannot be watched, so it is not run.
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        return Err(EvalFailure::Failed(format!("cannot start a thread: {e}")));
    }
    let kill = || {
        // The group may be gone already; nothing to report then.
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    };
    let line = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Progress::Line(read)) => read,
        Ok(Progress::Exited(_)) | Err(_) => {
            kill();
            // Reap the shell (it dies with its group) so no zombie is left.
            let _ = rx.recv_timeout(Duration::from_secs(2));
            let _ = rx.recv_timeout(Duration::from_secs(2));
            return Err(EvalFailure::TimedOut(limit));
        }
    };
    let status = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Progress::Exited(status)) => Some(status),
        Ok(Progress::Line(_)) | Err(_) => {
            kill();
            let _ = rx.recv_timeout(Duration::from_secs(2));
            None
        }
    };
    let mut line = line.map_err(|e| EvalFailure::Failed(format!("cannot read its output: {e}")))?;
    if line.len() > MAX_EVAL_LINE {
        return Err(EvalFailure::Failed(format!(
            "its first line is longer than {MAX_EVAL_LINE} bytes"
        )));
    }
    if line.is_empty() {
        return Err(match status {
            None => EvalFailure::TimedOut(limit),
            Some(Err(e)) => EvalFailure::Failed(format!("cannot wait for the command: {e}")),
            Some(Ok(status)) if status.success() => {
                EvalFailure::Failed("it printed nothing".to_string())
            }
            Some(Ok(status)) => EvalFailure::Failed(
                match (
                    status.code(),
                    std::os::unix::process::ExitStatusExt::signal(&status),
                ) {
                    (Some(code), _) => {
                        format!("it printed nothing and exited with status {code}")
                    }
                    (None, Some(signal)) => {
                        format!("it printed nothing and was killed by signal {signal}")
                    }
                    _ => "it printed nothing and failed".to_string(),
                },
            ),
        });
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// The first line of `out`, with its line end, or all of it up to one byte past
/// [`MAX_EVAL_LINE`]: a command that prints without end (`cat /dev/zero`) must not
/// exhaust memory; closing the pipe then makes it stop (SIGPIPE). Every buffer
/// that held the bytes is zeroed when dropped (it is a password).
fn read_first_line(mut out: impl Read) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut line = Zeroizing::new(Vec::new());
    let mut chunk = Zeroizing::new([0u8; 4096]);
    while line.len() <= MAX_EVAL_LINE {
        let n = match out.read(&mut chunk[..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let got = &chunk[..n];
        match got.iter().position(|&b| b == b'\n') {
            Some(i) => {
                line.extend_from_slice(&got[..=i]);
                break;
            }
            None => line.extend_from_slice(got),
        }
    }
    line.truncate(MAX_EVAL_LINE + 1);
    Ok(line)
}

/// Run a `passwordeval` command. Errors name the command and the line, never
/// the output.
pub fn eval_password(command: &str, at: &Source, limit: Duration) -> Result<Secret, ConfigError> {
    run_first_line(command, limit)
        .map(Secret::new)
        .map_err(|failure| match failure {
            EvalFailure::Failed(reason) => ConfigError::PasswordEval {
                at: at.clone(),
                command: command.to_string(),
                reason,
            },
            EvalFailure::TimedOut(limit) => ConfigError::EvalTimedOut {
                at: at.clone(),
                directive: "passwordeval",
                command: command.to_string(),
                limit,
            },
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
    /// `~/.netrc` or `/etc/netrc`. `Ok(None)` when none applies (the `rsmtp`
    /// crate then asks the keyring, then the terminal, as msmtp does).
    pub fn password(&self) -> Result<Option<Secret>, ConfigError> {
        self.password_with_netrc(&netrc_files())
    }

    /// The OAuth 2.0 client secret: `oauth2_client_secret`, else the first line
    /// `oauth2_client_secret_eval` prints (run like `passwordeval`), else none (a
    /// public client: device and authcode flows need no secret).
    pub fn oauth2_client_secret(&self) -> Result<Option<Secret>, ConfigError> {
        if let Some(s) = &self.oauth2_client_secret {
            return Ok(Some(s.clone()));
        }
        let Some(cmd) = &self.oauth2_client_secret_eval else {
            return Ok(None);
        };
        let at = self
            .source_of("oauth2_client_secret_eval")
            .cloned()
            .unwrap_or_else(Source::command_line);
        eval_password(cmd, &at, eval_limit(self.timeout.duration())).map(Some)
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
            let limit = eval_limit(self.timeout.duration());
            return eval_password(cmd, &at, limit).map(Some);
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

    const LIMIT: Duration = Duration::from_secs(30);

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
        let p = eval_password("printf 'pw1\\r\\nsecond\\n'", &at, LIMIT).expect("eval");
        assert_eq!(p.expose(), "pw1");
        let p = eval_password("printf 'no-newline'", &at, LIMIT).expect("eval");
        assert_eq!(p.expose(), "no-newline");
    }

    #[test]
    fn eval_failure_names_command_and_line_not_output() {
        let at = Source::file("rc", 3);
        let e = eval_password("exit 3", &at, LIMIT).expect_err("fails");
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
        let e = eval_password("cat /dev/zero", &at, LIMIT).expect_err("no line end");
        assert!(e.to_string().contains("longer than 65536 bytes"), "{e}");
        let p = eval_password("head -c 70000 /dev/zero | tr '\\0' x; echo", &at, LIMIT);
        assert!(p.is_err());
        let p = eval_password(
            "head -c 4000 /dev/zero | tr '\\0' t; echo; cat /dev/zero",
            &at,
            LIMIT,
        )
        .expect("a long token, then endless output");
        assert_eq!(p.expose().len(), 4000);
    }

    #[test]
    fn eval_does_not_read_our_stdin() {
        let at = Source::file("rc", 1);
        let p = eval_password("cat; echo done", &at, LIMIT).expect("eval");
        assert_eq!(p.expose(), "done");
    }

    /// Whether a process with this pid is still alive (not a zombie).
    fn alive(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    }

    #[test]
    fn a_hanging_command_is_killed_with_its_process_group_at_the_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("pid");
        let at = Source::file("rc", 4);
        let started = Instant::now();
        // The sleep runs in the background of the shell, as a pinentry would.
        let cmd = format!("sleep 100 & echo $! > {}; wait", pidfile.display());
        let e = eval_password(&cmd, &at, Duration::from_millis(500)).expect_err("killed");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let msg = e.to_string();
        assert!(msg.starts_with("rc:4: passwordeval 'sleep 100"), "{msg}");
        assert!(msg.contains("did not finish within 500ms"), "{msg}");
        assert_eq!(e.exit_code(), 75);
        let pid = std::fs::read_to_string(&pidfile)
            .expect("pid")
            .trim()
            .to_string();
        let gone = (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            !alive(&pid)
        });
        assert!(gone, "sleep {pid} survived");
    }

    #[test]
    fn a_line_then_a_hang_uses_the_line() {
        let at = Source::file("rc", 1);
        let started = Instant::now();
        let p = eval_password("echo pw; exec sleep 100", &at, Duration::from_millis(500))
            .expect("the line is used");
        assert_eq!(p.expose(), "pw");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
