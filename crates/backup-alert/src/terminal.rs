//! Reading answers from the person at the terminal: a line with echo, and a password with
//! echo turned off (termios `ECHO` cleared through rustix, restored when the guard drops —
//! also when reading fails, and before the program dies of Ctrl-C).

use std::io::{self, BufRead, Write};

use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions, Termios};

/// Is stdin a terminal?
pub fn stdin_is_terminal() -> bool {
    rustix::termios::isatty(io::stdin())
}

/// Echo off until dropped. A signal that would end the program meanwhile (Ctrl-C) first
/// restores the terminal, then takes its default action: a shell is never left without echo.
struct EchoOff {
    saved: Termios,
    watcher: Option<(signal_hook::iterator::Handle, std::thread::JoinHandle<()>)>,
}

impl EchoOff {
    fn new() -> io::Result<EchoOff> {
        let stdin = io::stdin();
        let saved = tcgetattr(&stdin)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        // Keep the newline visible so the next prompt starts on its own line.
        quiet.local_modes.insert(LocalModes::ECHONL);
        let watcher = Self::watch(saved.clone()).ok();
        tcsetattr(&stdin, OptionalActions::Flush, &quiet)?;
        Ok(EchoOff { saved, watcher })
    }

    fn watch(
        saved: Termios,
    ) -> io::Result<(signal_hook::iterator::Handle, std::thread::JoinHandle<()>)> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])?;
        let handle = signals.handle();
        let thread = std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let _ = tcsetattr(io::stdin(), OptionalActions::Now, &saved);
                let _ = writeln!(io::stderr());
                let _ = signal_hook::low_level::emulate_default_handler(sig);
            }
        });
        Ok((handle, thread))
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = tcsetattr(io::stdin(), OptionalActions::Flush, &self.saved);
        if let Some((handle, thread)) = self.watcher.take() {
            handle.close();
            let _ = thread.join();
        }
    }
}

/// Read one line from `input` without its line ending; `None` at end of input.
pub fn read_line(input: &mut dyn BufRead) -> io::Result<Option<String>> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    while line.ends_with(['\n', '\r']) {
        line.pop();
    }
    Ok(Some(line))
}

/// Print `prompt` and read an answer.
pub fn ask(
    prompt: &str,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> io::Result<Option<String>> {
    write!(out, "{prompt}")?;
    out.flush()?;
    read_line(input)
}

/// Print `prompt` and read a password with echo off (when stdin is a terminal).
pub fn ask_password(
    prompt: &str,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> io::Result<Option<String>> {
    // Echo goes off before the prompt shows (as getpass(3) does): switching it off
    // flushes pending input, so whoever answers the prompt must find it already off.
    let guard = if stdin_is_terminal() {
        Some(EchoOff::new()?)
    } else {
        None
    };
    write!(out, "{prompt}")?;
    out.flush()?;
    let answer = read_line(input);
    drop(guard);
    answer
}
