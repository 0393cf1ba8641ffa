//! The one place rsmtp talks to the user: warnings and errors on stderr prefixed
//! `rsmtp: `, and the `-d` protocol trace on stdout (as msmtp prints it). Library code
//! writes through a [`Ui`] so tests and backup-alert can capture or silence it.

use std::io::{self, Write};

use rsmtp_core::Secret;

/// Asks the person running the program for a password nothing else supplies (msmtp's
/// prompt on the controlling terminal). The `rsmtp` binary hands one in for sendmail
/// mode; the queue, its retrier and failure notices never ask (nobody is there).
pub trait AskPassword {
    /// The password for `user` at `host`, or `None` when nobody can answer.
    fn ask(&self, user: &str, host: &str) -> io::Result<Option<Secret>>;
}

/// Output channels of one run.
pub struct Ui<'a> {
    /// Standard output: `--pretend`, `--serverinfo`, `logfile -`, a token.
    pub out: &'a mut dyn Write,
    /// Standard error: warnings and errors, `-d`'s trace.
    pub err: &'a mut dyn Write,
    /// `-d`/`-v`: show the SMTP dialogue (secrets redacted).
    pub debug: bool,
    /// The name messages start with: the program as it was called (`sendmail: …`
    /// when run as /usr/sbin/sendmail, as msmtp does).
    pub program: String,
    /// `out` is the client's side of an SMTP session (`-bs`, `--inetd`): a log line
    /// there would reach the client as a malformed reply, so `logfile -` goes to `err`.
    pub stdout_is_smtp: bool,
    /// Who may be asked for a password (`None`: nobody).
    pub ask_password: Option<&'a dyn AskPassword>,
    /// Who delivers a `queue always` message once it is queued (`None`: a detached
    /// `rsmtp --deliver-queued` process, as for sendmail mode).
    pub deliver_later: Option<&'a dyn DeliverLater>,
}

/// A long-lived caller's own delivery of `queue always` messages: the listener hands
/// each one to a worker thread that keeps its SMTP sessions open between messages,
/// instead of starting a process per message (fork, exec, the msmtprc read again, a
/// new connection).
pub trait DeliverLater {
    /// Deliver the message queued as `id` in `account`'s queue soon. `false`: not
    /// taken (the worker is gone); the caller then starts a background process.
    fn deliver_later(&self, account: &rsmtp_config::Account, id: &str) -> bool;
}

impl<'a> Ui<'a> {
    /// Output to `out` and `err`, messages named `rsmtp`, no password prompt.
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write, debug: bool) -> Ui<'a> {
        Ui {
            out,
            err,
            debug,
            program: "rsmtp".to_string(),
            stdout_is_smtp: false,
            ask_password: None,
            deliver_later: None,
        }
    }

    /// A password nothing else supplies may be asked for through `ask`.
    pub fn with_ask_password(mut self, ask: &'a dyn AskPassword) -> Ui<'a> {
        self.ask_password = Some(ask);
        self
    }

    /// `queue always` messages are handed to `worker` instead of a process each.
    pub fn with_deliver_later(mut self, worker: &'a dyn DeliverLater) -> Ui<'a> {
        self.deliver_later = Some(worker);
        self
    }

    /// `out` carries an SMTP session from now on (see [`Ui::stdout_is_smtp`]).
    pub fn with_stdout_smtp(mut self) -> Ui<'a> {
        self.stdout_is_smtp = true;
        self
    }

    /// Messages start with `program` (argv[0]'s file name) instead of `rsmtp`.
    pub fn with_program(mut self, program: &str) -> Ui<'a> {
        self.program = program.to_string();
        self
    }

    /// One `rsmtp: …` line on stderr. Output errors are ignored: a closed stderr must
    /// never turn a sent message into a failure.
    pub fn warn(&mut self, message: &str) {
        for line in message.lines() {
            let line = rsmtp_core::strip_os_error(line.to_string());
            let _ = writeln!(self.err, "{}: {line}", self.program);
        }
    }

    /// Each message as [`Ui::warn`] shows it.
    pub fn warn_all(&mut self, messages: Vec<String>) {
        for m in messages {
            self.warn(&m);
        }
    }

    /// Write a log record where the account says (`logfile -` through this `Ui`'s
    /// stdout) and show the warnings, if any.
    pub fn log(&mut self, target: &crate::log::LogTarget, record: &crate::log::LogRecord) {
        let ident = crate::log::syslog_ident(&self.program);
        let standard: &mut dyn Write = if self.stdout_is_smtp {
            &mut *self.err
        } else {
            &mut *self.out
        };
        let warnings = target.write_as(ident, record, standard);
        self.warn_all(warnings);
    }

    /// `text` on standard output as it is (no name, no newline added).
    pub fn print(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
    }

    /// The SMTP trace for `-d`: lines already redacted by the session.
    pub fn trace(&mut self) -> DebugTrace<'_, 'a> {
        DebugTrace { ui: self }
    }
}

/// Prints the dialogue like msmtp's `--debug` (`--> ` sent, `<-- ` received).
pub struct DebugTrace<'u, 'a> {
    ui: &'u mut Ui<'a>,
}

impl rsmtp_smtp::Trace for DebugTrace<'_, '_> {
    fn sent(&mut self, line: &str) {
        if self.ui.debug {
            let _ = writeln!(self.ui.out, "--> {line}");
        }
    }
    fn received(&mut self, line: &str) {
        if self.ui.debug {
            let _ = writeln!(self.ui.out, "<-- {line}");
        }
    }
    fn note(&mut self, note: &str) {
        if self.ui.debug {
            let _ = writeln!(self.ui.out, "{note}");
        }
    }
}
