//! The person at the terminal: echo off while a password is typed (termios `ECHO`
//! cleared through rustix, restored when the guard drops — also when reading fails,
//! and before the program dies of Ctrl-C), and the account password prompt msmtp
//! gives on the controlling terminal when nothing else supplies one.
//!
//! The prompt goes to `/dev/tty`, not stdin/stderr: in sendmail mode stdin is the
//! message. It is offered only when stderr is a terminal too, so cron, PHP under a
//! web server, the queue's retrier (detached, no controlling terminal) and a
//! redirected run never wait for an answer nobody will type.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

use crate::Secret;
use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions, Termios};

/// Echo off on a terminal until dropped. A signal that would end the program
/// meanwhile (Ctrl-C) first restores the terminal, then takes its default action: a
/// shell is never left without echo.
pub struct EchoOff {
    fd: OwnedFd,
    saved: Termios,
    watcher: Option<(signal_hook::iterator::Handle, std::thread::JoinHandle<()>)>,
}

impl EchoOff {
    /// Turns echo off on the terminal `fd` (stdin, or an opened `/dev/tty`).
    pub fn new(fd: impl AsFd) -> io::Result<EchoOff> {
        let fd = fd.as_fd().try_clone_to_owned()?;
        let saved = tcgetattr(&fd)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        // Keep the newline visible so the next line starts on its own line.
        quiet.local_modes.insert(LocalModes::ECHONL);
        let watcher = Self::watch(fd.try_clone()?, saved.clone()).ok();
        tcsetattr(&fd, OptionalActions::Flush, &quiet)?;
        Ok(EchoOff { fd, saved, watcher })
    }

    fn watch(
        fd: OwnedFd,
        saved: Termios,
    ) -> io::Result<(signal_hook::iterator::Handle, std::thread::JoinHandle<()>)> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])?;
        let handle = signals.handle();
        let thread = std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let _ = tcsetattr(&fd, OptionalActions::Now, &saved);
                let _ = writeln!(io::stderr());
                let _ = signal_hook::low_level::emulate_default_handler(sig);
            }
        });
        Ok((handle, thread))
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = tcsetattr(&self.fd, OptionalActions::Flush, &self.saved);
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

/// The controlling terminal, when there is one and stderr is a terminal as well
/// (someone is watching this run).
fn controlling_terminal() -> Option<File> {
    if !rustix::termios::isatty(io::stderr()) {
        return None;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOCTTY.bits() as i32)
        .open("/dev/tty")
        .ok()
        .filter(|tty| rustix::termios::isatty(tty))
}

/// msmtp's prompt: "password for USER at HOST: " on the controlling terminal, the
/// answer read there with echo off. `None` without a terminal to ask on (or when
/// the person ends the input with Ctrl-D).
pub fn ask_password(user: &str, host: &str) -> io::Result<Option<Secret>> {
    let Some(tty) = controlling_terminal() else {
        return Ok(None);
    };
    // Echo off first, as getpass(3) does: turning it off flushes pending input, which
    // must not swallow an answer typed right after the prompt appeared.
    let guard = EchoOff::new(&tty)?;
    write!(&tty, "password for {user} at {host}: ")?;
    (&tty).flush()?;
    let answer = read_secret_line(&mut &tty);
    drop(guard);
    answer
}

/// The longest password line read from the terminal.
const MAX_PASSWORD_LINE: usize = 4096;

/// One line from `input` (the terminal, in canonical mode: a read returns at most
/// the line) into a buffer that is overwritten afterwards, and the text copied once
/// into an exact-size `Secret`: no reader buffer or grown string keeps a copy.
fn read_secret_line(input: &mut dyn Read) -> io::Result<Option<Secret>> {
    let mut buf = zeroize::Zeroizing::new(vec![0u8; MAX_PASSWORD_LINE]);
    let mut len = 0;
    while len < buf.len() && !buf[..len].contains(&b'\n') {
        match input.read(&mut buf[len..])? {
            0 => break,
            n => len += n,
        }
    }
    if len == 0 {
        return Ok(None);
    }
    let mut end = buf[..len].iter().position(|&b| b == b'\n').unwrap_or(len);
    while end > 0 && buf[end - 1] == b'\r' {
        end -= 1;
    }
    let text = std::str::from_utf8(&buf[..end])
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the password is not UTF-8"))?;
    let mut secret = String::with_capacity(text.len());
    secret.push_str(text);
    Ok(Some(Secret::new(secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_line_ends_at_its_line_end() {
        let read = |input: &[u8]| {
            read_secret_line(&mut &input[..]).map(|s| s.map(|s| s.expose().to_owned()))
        };
        assert_eq!(read(b"s3cret\n").unwrap().as_deref(), Some("s3cret"));
        assert_eq!(read(b"s3cret\r\n").unwrap().as_deref(), Some("s3cret"));
        assert_eq!(
            read(b"no line end").unwrap().as_deref(),
            Some("no line end")
        );
        assert_eq!(read(b"\n").unwrap().as_deref(), Some(""));
        assert_eq!(read(b"").unwrap(), None);
        assert!(read(b"\xff\xfe\n").is_err());
        let long = vec![b'x'; MAX_PASSWORD_LINE + 10];
        assert_eq!(
            read(&long).unwrap().map(|s| s.len()),
            Some(MAX_PASSWORD_LINE)
        );
    }
}
