//! `rsmtpd --command=CMD`: each message piped into a shell command, as msmtpd does.
//!
//! The first `%F` in CMD becomes the shell-quoted envelope sender and every recipient
//! is appended as a shell-quoted word; the message (with the `Received:` header) is the
//! command's standard input with LF line ends. Exit 0 → 250, 75 (EX_TEMPFAIL) → 451,
//! anything else → 554. The session already refuses addresses starting with `-`, so a
//! recipient can never turn into an option of CMD even without `--`.

use std::io::{self, Read, Write};
use std::process::{Command, Stdio};

use rsmtp_server::{Deliver, Mail, Reply};

use super::{received_header, reply};

/// Pipes each message into `command`.
pub(crate) struct PipeDelivery {
    pub command: String,
    pub received_by: String,
    /// The command's stderr: inherited, except in `--inetd` mode where fd 2 may be the
    /// client's socket.
    pub quiet: bool,
}

impl Deliver for PipeDelivery {
    fn deliver(&mut self, mail: &mut Mail<'_>) -> Reply {
        let line = command_line(
            &self.command,
            &mail.envelope.from,
            &mail.envelope.recipients,
        );
        let spawned = Command::new("/bin/sh")
            .arg("-c")
            .arg(&line)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(if self.quiet {
                Stdio::null()
            } else {
                Stdio::inherit()
            })
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => return reply(451, "4.3.0", &format!("cannot run /bin/sh: {e}")),
        };
        if let Some(mut stdin) = child.stdin.take() {
            let header = received_header(&self.received_by, mail.client);
            // A command that exits without reading everything closes the pipe; its
            // exit status is what counts, not the broken pipe.
            let _ = stdin
                .write_all(header.as_bytes())
                .and_then(|()| copy_with_lf(&mut *mail.body, &mut stdin));
        }
        match child.wait() {
            Ok(status) if status.success() => reply(250, "2.0.0", "Ok"),
            Ok(status) if status.code() == Some(75) => {
                reply(451, "4.3.0", "temporary failure of the delivery command")
            }
            Ok(status) => reply(
                554,
                "5.3.0",
                &format!("the delivery command failed ({status})"),
            ),
            Err(e) => reply(451, "4.3.0", &format!("cannot wait for the command: {e}")),
        }
    }
}

/// `'it'\''s'`: one word for `/bin/sh` whatever the text holds.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// CMD with the first `%F` replaced and the recipients appended.
fn command_line(template: &str, from: &str, recipients: &[String]) -> String {
    let mut line = template.replacen("%F", &shell_quote(from), 1);
    for r in recipients {
        line.push(' ');
        line.push_str(&shell_quote(r));
    }
    line
}

/// Copy `from` to `to` turning CRLF into LF, in bounded chunks (a CR at the end of
/// one chunk is held until the next shows whether an LF follows).
fn copy_with_lf(from: &mut dyn Read, to: &mut dyn Write) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(buf.len() + 1);
    let mut pending_cr = false;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.clear();
        for &b in &buf[..n] {
            if pending_cr && b != b'\n' {
                out.push(b'\r');
            }
            pending_cr = b == b'\r';
            if !pending_cr {
                out.push(b);
            }
        }
        to.write_all(&out)?;
    }
    if pending_cr {
        to.write_all(b"\r")?;
    }
    to.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_and_recipients_are_single_words() {
        assert_eq!(
            command_line(
                "msmtp -f %F -- %F",
                "o'hara@x.org",
                &["a@x.org".into(), "$(rm -rf ~)@x.org".into()]
            ),
            r"msmtp -f 'o'\''hara@x.org' -- %F 'a@x.org' '$(rm -rf ~)@x.org'"
        );
        assert_eq!(command_line("cat", "", &[]), "cat");
    }

    #[test]
    fn crlf_becomes_lf_across_chunk_boundaries() {
        let mut input = b"a\r\nb\rc\r\n".repeat(20_000);
        input.push(b'\r');
        let mut out = Vec::new();
        copy_with_lf(&mut &input[..], &mut out).unwrap();
        let mut expected = b"a\nb\rc\n".repeat(20_000);
        expected.push(b'\r');
        assert_eq!(out, expected);
    }
}
