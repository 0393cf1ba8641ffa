//! `rsmtpd --command=CMD`: each message piped into a command, as msmtpd does, but with
//! no shell between an address and the command (Postfix's pipe(8) rule).
//!
//! CMD is read once, at start-up, into a [`Template`]. The first `%F` is the envelope
//! sender and every recipient is appended, as with msmtpd. How they reach the command:
//! - CMD is a plain command line (words, quotes, backslashes; no redirection, pipe,
//!   `;`, expansion or glob): it is split into argv here and run without a shell. `%F`
//!   becomes part of one argv element whatever quotes surround it (`-f %F`, `-f '%F'`,
//!   `-f "%F"` all give `-f` and the sender), and each recipient is one more element.
//! - CMD uses shell syntax (`cat > mail.txt; …`): it runs under `/bin/sh -c`, but the
//!   addresses are never part of the script. `%F` is rewritten, for the quoting context
//!   it sits in, into a reference to the environment variable `RSMTPD_SENDER`, and the
//!   recipients are appended as `"$RSMTPD_RECIPIENT_1" …`. The shell expands a variable
//!   once and never evaluates its value, so `$(id)`, backticks, `;` or quotes in an
//!   address stay text.
//!
//! The message (with the `Received:` header) is the command's standard input with LF
//! line ends. Exit 0 → 250, 75 (EX_TEMPFAIL) → 451, anything else → 554. The session
//! already refuses addresses starting with `-`, so a recipient can never turn into an
//! option of CMD even without `--`.

use std::io::{self, Read, Write};
use std::process::{Command, Stdio};

use rsmtp_server::{Deliver, Mail, Reply};

use super::{received_header, reply};

/// The environment variable that carries the sender in shell mode.
const SENDER_VAR: &str = "RSMTPD_SENDER";
/// The prefix of the variables that carry the recipients in shell mode (`_1`, `_2`, …).
const RECIPIENT_VAR: &str = "RSMTPD_RECIPIENT_";

/// One piece of an argv element: text from the template, or the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    Sender,
}

/// `--command`, read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Template {
    /// Run directly: each word is a list of pieces, joined into one argv element.
    Argv(Vec<Vec<Piece>>),
    /// Run under `/bin/sh -c` with the addresses in the environment; the script with
    /// `%F` rewritten (the recipients are appended per message).
    Shell(String),
}

/// Where the lexer is in the template.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

impl Template {
    /// Read `command` as `/bin/sh` would, to find the `%F` and whether a shell is needed.
    pub(crate) fn parse(command: &str) -> Template {
        let mut words: Vec<Vec<Piece>> = Vec::new();
        let mut word: Option<Vec<Piece>> = None;
        let mut script = String::with_capacity(command.len() + 16);
        let mut needs_shell = false;
        let mut sender_done = false;
        let mut quote = Quote::None;
        let push_char = |word: &mut Option<Vec<Piece>>, c: char| {
            let pieces = word.get_or_insert_with(Vec::new);
            match pieces.last_mut() {
                Some(Piece::Text(t)) => t.push(c),
                _ => pieces.push(Piece::Text(c.to_string())),
            }
        };
        let mut chars = command.chars().peekable();
        while let Some(c) = chars.next() {
            if !sender_done && c == '%' && chars.peek() == Some(&'F') {
                chars.next();
                sender_done = true;
                word.get_or_insert_with(Vec::new).push(Piece::Sender);
                script.push_str(&match quote {
                    Quote::None => format!("\"${{{SENDER_VAR}}}\""),
                    Quote::Double => format!("${{{SENDER_VAR}}}"),
                    Quote::Single => format!("'\"${{{SENDER_VAR}}}\"'"),
                });
                continue;
            }
            script.push(c);
            match (quote, c) {
                (Quote::Single, '\'') => quote = Quote::None,
                (Quote::Single, c) => push_char(&mut word, c),
                (Quote::Double, '"') => quote = Quote::None,
                (Quote::Double, '\\') => match chars.peek().copied() {
                    Some(next @ ('$' | '`' | '"' | '\\')) => {
                        chars.next();
                        script.push(next);
                        push_char(&mut word, next);
                    }
                    _ => push_char(&mut word, '\\'),
                },
                (Quote::Double, '$' | '`') => needs_shell = true,
                (Quote::Double, c) => push_char(&mut word, c),
                (Quote::None, '\'') => {
                    quote = Quote::Single;
                    word.get_or_insert_with(Vec::new);
                }
                (Quote::None, '"') => {
                    quote = Quote::Double;
                    word.get_or_insert_with(Vec::new);
                }
                (Quote::None, '\\') => match chars.next() {
                    // The escaped character is copied as it is, so an escaped `%`
                    // never starts a `%F`.
                    Some('\n') => script.push('\n'),
                    Some(next) => {
                        script.push(next);
                        push_char(&mut word, next);
                    }
                    None => needs_shell = true,
                },
                (Quote::None, ' ' | '\t') => {
                    if let Some(w) = word.take() {
                        words.push(w);
                    }
                }
                (Quote::None, c) => {
                    // Operators, expansions, globs, comments, `~`, brace groups and
                    // assignments all need the shell.
                    let at_word_start = word.is_none();
                    if "|&;<>()$`*?[]{}\n".contains(c)
                        || (at_word_start && "#~".contains(c))
                        || (c == '=' && words.is_empty())
                    {
                        needs_shell = true;
                    }
                    push_char(&mut word, c);
                }
            }
        }
        if quote != Quote::None {
            // An unterminated quote: let the shell report it, as msmtpd would.
            needs_shell = true;
        }
        if let Some(w) = word.take() {
            words.push(w);
        }
        if needs_shell || words.is_empty() {
            Template::Shell(script)
        } else {
            Template::Argv(words)
        }
    }

    /// The command for one message.
    fn command(&self, from: &str, recipients: &[String]) -> Command {
        match self {
            Template::Argv(words) => {
                let mut argv = words.iter().map(|pieces| {
                    pieces
                        .iter()
                        .map(|p| match p {
                            Piece::Text(t) => t.as_str(),
                            Piece::Sender => from,
                        })
                        .collect::<String>()
                });
                let program = argv.next().unwrap_or_default();
                let mut command = Command::new(program);
                command.args(argv).args(recipients);
                command
            }
            Template::Shell(script) => {
                let mut line = script.clone();
                let mut command = Command::new("/bin/sh");
                for (i, r) in recipients.iter().enumerate() {
                    let name = format!("{RECIPIENT_VAR}{}", i + 1);
                    line.push_str(&format!(" \"${{{name}}}\""));
                    command.env(name, r);
                }
                command.arg("-c").arg(line).env(SENDER_VAR, from);
                command
            }
        }
    }
}

/// Pipes each message into `command`.
pub(crate) struct PipeDelivery {
    pub command: Template,
    pub received_by: String,
    /// The command's stderr: inherited, except in `--inetd` mode where fd 2 may be the
    /// client's socket.
    pub quiet: bool,
}

impl Deliver for PipeDelivery {
    fn deliver(&mut self, mail: &mut Mail<'_>) -> Reply {
        let spawned = self
            .command
            .command(&mail.envelope.from, &mail.envelope.recipients)
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
            Err(e) => {
                return reply(
                    451,
                    "4.3.0",
                    &format!("cannot run the delivery command: {e}"),
                )
            }
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

    fn argv(template: &str, from: &str, recipients: &[&str]) -> Vec<String> {
        let recipients: Vec<String> = recipients.iter().map(|r| r.to_string()).collect();
        let cmd = Template::parse(template).command(from, &recipients);
        std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_plain_command_line_is_split_and_the_sender_is_one_element() {
        let hostile = "\"$(id) `id`; a|b & 'q' \\ * {}\"@x.org";
        for template in ["msmtp -f %F --", "msmtp -f '%F' --", "msmtp -f \"%F\" --"] {
            assert_eq!(
                argv(template, hostile, &["a@x.org"]),
                ["msmtp", "-f", hostile, "--", "a@x.org"],
                "{template}"
            );
        }
        assert_eq!(
            argv("/usr/bin/deliver -f%F 'a b' c\\ d %F", "s@x", &[]),
            ["/usr/bin/deliver", "-fs@x", "a b", "c d", "%F"]
        );
    }

    #[test]
    fn shell_syntax_keeps_addresses_out_of_the_script() {
        for (template, script) in [
            ("cat > m; x -f %F", "cat > m; x -f \"${RSMTPD_SENDER}\""),
            (
                "cat > m; x -f '%F'",
                "cat > m; x -f ''\"${RSMTPD_SENDER}\"''",
            ),
            ("cat > m; x -f \"%F\"", "cat > m; x -f \"${RSMTPD_SENDER}\""),
            ("cat > m; echo \\%F", "cat > m; echo \\%F"),
        ] {
            assert_eq!(
                Template::parse(template),
                Template::Shell(script.into()),
                "{template}"
            );
        }
        assert_eq!(
            argv("cat; x %F", "$(id)@x", &["a@x", "b@x"]),
            [
                "/bin/sh",
                "-c",
                "cat; x \"${RSMTPD_SENDER}\" \"${RSMTPD_RECIPIENT_1}\" \"${RSMTPD_RECIPIENT_2}\""
            ]
        );
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
