//! Reading answers from the person at the terminal: a line with echo, and a password with
//! echo turned off (rsmtp's [`EchoOff`]: restored when the guard drops — also when reading
//! fails, and before the program dies of Ctrl-C).

use std::io::{self, BufRead, Write};

pub(crate) use rsmtp_core::terminal::read_line;
use rsmtp_core::terminal::EchoOff;

/// Is stdin a terminal?
pub(crate) fn stdin_is_terminal() -> bool {
    rustix::termios::isatty(io::stdin())
}

/// Print `prompt` and read an answer.
pub(crate) fn ask(
    prompt: &str,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> io::Result<Option<String>> {
    write!(out, "{prompt}")?;
    out.flush()?;
    read_line(input)
}

/// Print `prompt` and read a password with echo off (when stdin is a terminal).
pub(crate) fn ask_password(
    prompt: &str,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> io::Result<Option<String>> {
    // Echo goes off before the prompt shows (as getpass(3) does): switching it off
    // flushes pending input, so whoever answers the prompt must find it already off.
    let guard = if stdin_is_terminal() {
        Some(EchoOff::new(io::stdin())?)
    } else {
        None
    };
    write!(out, "{prompt}")?;
    out.flush()?;
    let answer = read_line(input);
    drop(guard);
    answer
}
