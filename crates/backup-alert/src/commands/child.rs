//! `run`: run a backup command, keep the tails of its output, and report how it ended.
//!
//! stdout and stderr are read by one thread each, so a child that fills one pipe while we
//! wait on the other can never block; each keeps a bounded tail ([`TailBuffer`]). The
//! child gets its own process group (as timeout(1) does) so that a timeout or a forwarded
//! SIGINT/SIGTERM/SIGHUP/SIGQUIT reaches the whole pipeline it starts, not only a shell that
//! would leave its children running with our pipes open. The price, also timeout(1)'s: a
//! child in the background group cannot read the terminal, so a terminal stdin is replaced
//! by /dev/null (any other stdin — a pipe, a file — is passed on). Once the command has
//! ended, those signals have their default action again: Ctrl-C stops a hanging delivery.
//!
//! The output is also copied as it comes (see [`Copies`]): to our own stdout and stderr,
//! and appended to a `--tee` file.
//!
//! Exit status, as timeout(1) and the shell: the command's own; 128+N when killed by signal
//! N; 124 when it timed out; 127 when it cannot be found; 126 when it cannot be executed.

use std::ffi::OsString;
use std::io::{ErrorKind, IsTerminal, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, Pid, Signal};

use crate::lang::Language;
use crate::model::Status;
use crate::tail::{Tail, TailBuffer, TailLimits};
use rsmtp_core::{tr_in, tr_noop};

/// How to run the command.
#[derive(Debug, Clone)]
pub(crate) struct RunSpec {
    pub(crate) command: Vec<OsString>,
    pub(crate) timeout: Option<Duration>,
    /// After the timeout's SIGTERM, how long to wait before SIGKILL.
    pub(crate) kill_after: Duration,
    pub(crate) limits: TailLimits,
    /// Where the output goes besides the tails.
    pub(crate) copies: Copies,
}

/// Where the command's output is copied as it comes, besides the tails the alert keeps:
/// our own stdout and stderr (so a `>> cron-backup.log 2>&1` line still logs), and a
/// `--tee` file both streams are appended to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Copies {
    pub(crate) stdout: bool,
    pub(crate) stderr: bool,
    pub(crate) tee: Option<Arc<Mutex<std::fs::File>>>,
}

impl Copies {
    /// The writers one stream is copied to (`err`: the stderr stream).
    fn sinks(&self, err: bool) -> Vec<Box<dyn Write + Send>> {
        let mut sinks: Vec<Box<dyn Write + Send>> = Vec::new();
        match err {
            false if self.stdout => sinks.push(Box::new(std::io::stdout())),
            true if self.stderr => sinks.push(Box::new(std::io::stderr())),
            _ => {}
        }
        if let Some(f) = &self.tee {
            sinks.push(Box::new(SharedFile(Arc::clone(f))));
        }
        sinks
    }
}

/// Is `fd` a regular file or a terminal (a `>> log 2>&1` redirection, someone watching)
/// rather than a pipe or a socket (cron's mailer: output there is a second mail)?
pub(crate) fn is_file_or_terminal(fd: impl rustix::fd::AsFd) -> bool {
    use rustix::fs::FileType;
    rustix::fs::fstat(fd).is_ok_and(|st| {
        matches!(
            FileType::from_raw_mode(st.st_mode),
            FileType::RegularFile | FileType::CharacterDevice
        )
    })
}

/// The `--tee` file, written by both readers; a chunk is written whole under the lock.
struct SharedFile(Arc<Mutex<std::fs::File>>);

impl Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut f) => f.write_all(buf).map(|()| buf.len()),
            Err(_) => Err(std::io::Error::other("tee file lock poisoned")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How the command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ending {
    Exited(i32),
    Signalled(i32),
    TimedOut,
    /// Could not be started (`kind` NotFound → 127, else 126).
    NotStarted {
        kind: ErrorKind,
        message: String,
    },
}

/// Everything the alert reports.
#[derive(Debug, Clone)]
pub(crate) struct RunReport {
    pub(crate) ending: Ending,
    pub(crate) duration: Duration,
    pub(crate) stdout: Tail,
    pub(crate) stderr: Tail,
    /// A signal we forwarded to the child, if any.
    pub(crate) forwarded: Option<i32>,
}

impl RunReport {
    /// The exit status backup-alert leaves with.
    pub(crate) fn exit_code(&self) -> u8 {
        match &self.ending {
            Ending::Exited(c) => (*c & 0xff) as u8,
            Ending::Signalled(s) => (128 + (*s & 0x7f)) as u8,
            Ending::TimedOut => 124,
            Ending::NotStarted { kind, .. } if *kind == ErrorKind::NotFound => 127,
            Ending::NotStarted { .. } => 126,
        }
    }

    #[cfg(test)]
    pub(crate) fn succeeded(&self) -> bool {
        self.ending == Ending::Exited(0)
    }

    /// "exit status 3", "killed by signal 9 (KILL)", … in `lang`.
    pub(crate) fn describe(&self, timeout: Option<Duration>, lang: Language) -> String {
        match &self.ending {
            Ending::Exited(0) => tr_in!(lang, "exit status 0 (success)").into_owned(),
            Ending::Exited(c) => tr_in!(lang, "exit status {code}", code = c),
            Ending::Signalled(s) => tr_in!(
                lang,
                "killed by signal {number} ({name})",
                number = s,
                name = signal_name(*s)
            ),
            Ending::TimedOut => lang.timed_out(timeout),
            Ending::NotStarted { kind, message } if *kind == ErrorKind::NotFound => {
                lang.not_found(message)
            }
            Ending::NotStarted { message, .. } => lang.cannot_execute(message),
        }
    }
}

impl RunReport {
    /// How the command ended, for the reader of the alert: the status with its meaning.
    pub(crate) fn describe_in_words(&self, timeout: Option<Duration>, lang: Language) -> String {
        match &self.ending {
            Ending::Exited(0) => lang.exited_with(0, Status::Success),
            Ending::Exited(c) => lang.exited_with(*c, Status::Failure),
            Ending::Signalled(s) => lang.stopped_by_signal(*s, signal_name(*s)),
            _ => self.describe(timeout, lang),
        }
    }
}

/// `signal 9 (SIGKILL: killed; often the kernel's out-of-memory killer)`, in `lang`.
pub(crate) fn signal_in_words(sig: i32, lang: Language) -> String {
    use signal_hook::consts::*;
    let meaning = match sig {
        SIGHUP => tr_noop!("hangup: its terminal or session went away"),
        SIGINT => tr_noop!("interrupted, as by Ctrl-C"),
        SIGQUIT => tr_noop!("quit, as by Ctrl-\\"),
        SIGABRT => tr_noop!("aborted: the program gave up (assertion or abort())"),
        SIGKILL => tr_noop!("killed; often the kernel's out-of-memory killer or a forced stop"),
        SIGSEGV => tr_noop!("segmentation fault: the program crashed"),
        SIGPIPE => tr_noop!("broken pipe: the reader of its output went away"),
        SIGALRM => tr_noop!("alarm clock: a timer of its own ran out"),
        SIGTERM => tr_noop!("terminated: asked to stop (shutdown, kill, a timeout)"),
        SIGUSR1 | SIGUSR2 => tr_noop!("a user-defined signal nobody handled"),
        SIGBUS => tr_noop!("bus error: the program crashed (bad memory access)"),
        SIGFPE => tr_noop!("arithmetic error: the program crashed"),
        SIGILL => tr_noop!("illegal instruction: the program crashed"),
        _ => tr_noop!("an unusual signal"),
    };
    lang.signal_meaning(sig, signal_name(sig), meaning)
}

/// Conventional names of the signals people meet.
pub(crate) fn signal_name(sig: i32) -> &'static str {
    use signal_hook::consts::*;
    match sig {
        SIGHUP => "HUP",
        SIGINT => "INT",
        SIGQUIT => "QUIT",
        SIGABRT => "ABRT",
        SIGKILL => "KILL",
        SIGSEGV => "SEGV",
        SIGPIPE => "PIPE",
        SIGALRM => "ALRM",
        SIGTERM => "TERM",
        SIGUSR1 => "USR1",
        SIGUSR2 => "USR2",
        SIGBUS => "BUS",
        SIGFPE => "FPE",
        SIGILL => "ILL",
        _ => "?",
    }
}

/// Signals forwarded to the child.
const FORWARDED: [i32; 4] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGQUIT,
];

fn rustix_signal(sig: i32) -> Signal {
    use signal_hook::consts::*;
    match sig {
        SIGINT => Signal::INT,
        SIGHUP => Signal::HUP,
        SIGQUIT => Signal::QUIT,
        _ => Signal::TERM,
    }
}

/// Run the command to its end (or timeout) and collect the report.
pub(crate) fn run(spec: &RunSpec) -> RunReport {
    let started = Instant::now();
    let Some((program, args)) = spec.command.split_first() else {
        return RunReport {
            ending: Ending::NotStarted {
                kind: ErrorKind::NotFound,
                message: "empty command".into(),
            },
            duration: Duration::ZERO,
            stdout: Tail::default(),
            stderr: Tail::default(),
            forwarded: None,
        };
    };
    // Register before spawning so a signal arriving in between is not lost.
    let mut registrations = Vec::new();
    // Once the command has ended the signals mean what they always mean (Ctrl-C stops a
    // delivery that hangs): unregistering alone would leave them ignored, because
    // signal-hook does not put the default action back.
    let command_ended = Arc::new(AtomicBool::new(false));
    for sig in FORWARDED {
        let flag = Arc::new(AtomicBool::new(false));
        if let Ok(id) = signal_hook::flag::register(sig, Arc::clone(&flag)) {
            registrations.push((id, sig, flag));
        }
        let _ = signal_hook::flag::register_conditional_default(sig, Arc::clone(&command_ended));
    }
    // stdin is passed on (`dump | backup-alert run -- restore` works) unless it is a
    // terminal: in its own process group the child would be stopped by SIGTTIN.
    let stdin = if std::io::stdin().is_terminal() {
        Stdio::null()
    } else {
        Stdio::inherit()
    };
    let spawned = Command::new(program)
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            unregister(registrations, &command_ended);
            return RunReport {
                ending: Ending::NotStarted {
                    kind: e.kind(),
                    message: format!(
                        "{}: {}",
                        program.to_string_lossy(),
                        rsmtp_core::strerror(&e)
                    ),
                },
                duration: started.elapsed(),
                stdout: Tail::default(),
                stderr: Tail::default(),
                forwarded: None,
            };
        }
    };
    let out = collect(child.stdout.take(), spec.limits, spec.copies.sinks(false));
    let err = collect(child.stderr.take(), spec.limits, spec.copies.sinks(true));
    let (ending, forwarded) = wait(&mut child, spec, &registrations);
    unregister(registrations, &command_ended);
    let duration = started.elapsed();
    // Give the readers a moment to drain what is left. A grandchild that keeps the pipe
    // open (a daemon started by the job) must not keep us here: take what we have.
    let deadline = Instant::now() + Duration::from_secs(2);
    while !(out.1.load(Ordering::Acquire) && err.1.load(Ordering::Acquire))
        && Instant::now() < deadline
    {
        thread::sleep(Duration::from_millis(10));
    }
    RunReport {
        ending,
        duration,
        stdout: snapshot(&out.0),
        stderr: snapshot(&err.0),
        forwarded,
    }
}

type Collector = (Arc<Mutex<TailBuffer>>, Arc<AtomicBool>);

fn collect<R: Read + Send + 'static>(
    pipe: Option<R>,
    limits: TailLimits,
    mut sinks: Vec<Box<dyn Write + Send>>,
) -> Collector {
    let buf = Arc::new(Mutex::new(TailBuffer::new(limits)));
    let done = Arc::new(AtomicBool::new(false));
    let (b, d) = (Arc::clone(&buf), Arc::clone(&done));
    let Some(mut pipe) = pipe else {
        done.store(true, Ordering::Release);
        return (buf, done);
    };
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    if let Ok(mut g) = b.lock() {
                        g.push(&chunk[..n]);
                    }
                    // A copy that fails (a closed pipe, a full disk) is dropped; the
                    // command's pipe is still drained, so it never blocks on us.
                    sinks.retain_mut(|w| w.write_all(&chunk[..n]).and_then(|()| w.flush()).is_ok());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        d.store(true, Ordering::Release);
    });
    (buf, done)
}

fn snapshot(buf: &Arc<Mutex<TailBuffer>>) -> Tail {
    match buf.lock() {
        Ok(g) => g.tail(),
        Err(poisoned) => poisoned.into_inner().tail(),
    }
}

/// Stop forwarding and give the signals their default action back.
fn unregister(regs: Vec<(signal_hook::SigId, i32, Arc<AtomicBool>)>, command_ended: &AtomicBool) {
    for (id, _, _) in regs {
        signal_hook::low_level::unregister(id);
    }
    command_ended.store(true, Ordering::Release);
}

fn wait(
    child: &mut Child,
    spec: &RunSpec,
    regs: &[(signal_hook::SigId, i32, Arc<AtomicBool>)],
) -> (Ending, Option<i32>) {
    let pgid = Pid::from_child(child);
    let started = Instant::now();
    let mut timed_out_at: Option<Instant> = None;
    let mut killed = false;
    let mut forwarded = None;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let ending = if timed_out_at.is_some() {
                    Ending::TimedOut
                } else if let Some(code) = status.code() {
                    Ending::Exited(code)
                } else {
                    Ending::Signalled(status.signal().unwrap_or(0))
                };
                return (ending, forwarded);
            }
            Ok(None) => {}
            Err(_) => {
                // Cannot happen for a child we own; avoid spinning if it does.
                let status = child.wait();
                let ending = match status {
                    Ok(s) => s
                        .code()
                        .map(Ending::Exited)
                        .unwrap_or(Ending::Signalled(s.signal().unwrap_or(0))),
                    Err(_) => Ending::Exited(1),
                };
                return (ending, forwarded);
            }
        }
        for (_, sig, flag) in regs {
            if flag.swap(false, Ordering::AcqRel) {
                let _ = kill_process_group(pgid, rustix_signal(*sig));
                forwarded = Some(*sig);
            }
        }
        if let Some(limit) = spec.timeout {
            match timed_out_at {
                None if started.elapsed() >= limit => {
                    let _ = kill_process_group(pgid, Signal::TERM);
                    timed_out_at = Some(Instant::now());
                }
                Some(t) if !killed && t.elapsed() >= spec.kill_after => {
                    let _ = kill_process_group(pgid, Signal::KILL);
                    killed = true;
                }
                _ => {}
            }
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Quote a command line for display (`sh` style, only where needed).
pub(crate) fn display_command(cmd: &[OsString]) -> String {
    cmd.iter()
        .map(|a| {
            let s = a.to_string_lossy();
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c))
            {
                s.into_owned()
            } else {
                format!("'{}'", s.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(args: &[&str]) -> RunSpec {
        RunSpec {
            command: args.iter().map(OsString::from).collect(),
            timeout: None,
            kill_after: Duration::from_secs(2),
            limits: TailLimits::OUTPUT,
            copies: Copies::default(),
        }
    }

    #[test]
    fn exit_status_and_tails() {
        let r = run(&spec(&["sh", "-c", "echo out; echo err >&2; exit 3"]));
        assert_eq!(r.ending, Ending::Exited(3));
        assert_eq!(r.exit_code(), 3);
        assert_eq!(r.stdout.text, "out");
        assert_eq!(r.stderr.text, "err");
        assert!(!r.succeeded());
    }

    #[test]
    fn chatty_child_does_not_block() {
        // 2 MiB on each stream, far more than a pipe buffer
        let r = run(&spec(&[
            "sh",
            "-c",
            "i=0; while [ $i -lt 20 ]; do head -c 104857 /dev/zero | tr '\\0' 'e' >&2; head -c 104857 /dev/zero | tr '\\0' 'o'; i=$((i+1)); done; echo; echo last-out; echo last-err >&2",
        ]));
        assert!(r.succeeded(), "{:?}", r.ending);
        assert!(r.stdout.text.ends_with("last-out"));
        assert!(r.stderr.text.ends_with("last-err"));
        assert!(r.stdout.text.len() <= 64 * 1024);
        assert!(r.stdout.total_bytes > 2_000_000);
    }

    #[test]
    fn signalled_child() {
        let r = run(&spec(&["sh", "-c", "kill -9 $$"]));
        assert_eq!(r.ending, Ending::Signalled(9));
        assert_eq!(r.exit_code(), 137);
        assert!(r
            .describe(None, Language::English)
            .contains("signal 9 (KILL)"));
        assert!(r
            .describe_in_words(None, Language::English)
            .starts_with("stopped by signal 9 (SIGKILL)"));
        assert!(signal_in_words(9, Language::English).starts_with("signal 9 (SIGKILL: killed;"));
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let mut s = spec(&["sh", "-c", "sleep 30; echo never"]);
        s.timeout = Some(Duration::from_millis(300));
        let t = Instant::now();
        let r = run(&s);
        assert_eq!(r.ending, Ending::TimedOut);
        assert_eq!(r.exit_code(), 124);
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    }

    #[test]
    fn timeout_escalates_to_kill() {
        let mut s = spec(&["sh", "-c", "trap '' TERM; sleep 30"]);
        s.timeout = Some(Duration::from_millis(200));
        s.kill_after = Duration::from_millis(300);
        let t = Instant::now();
        let r = run(&s);
        assert_eq!(r.exit_code(), 124);
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn missing_command_is_127() {
        let r = run(&spec(&["/nonexistent/backup-tool"]));
        assert_eq!(r.exit_code(), 127);
        let d = tempfile::tempdir().unwrap();
        let r = run(&spec(&[d.path().to_str().unwrap()]));
        assert_eq!(r.exit_code(), 126);
    }

    #[test]
    fn command_display_quotes() {
        let c: Vec<OsString> = ["borg", "create", "repo::x-{now}", "it's"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(
            display_command(&c),
            "borg create 'repo::x-{now}' 'it'\\''s'"
        );
    }
}
