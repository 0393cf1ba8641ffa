//! The common sendmail command lines, parsed without building clap's command tree.
//!
//! Nearly every call comes from cron, PHP, mdadm or a mail client with a handful of
//! short options: `-t -i`, `-oi`, `-f ADDR`, `-F NAME`, `-a ACCOUNT`, `-C FILE`, `--`
//! and recipients. Building the whole clap command (the derive part and every long
//! option of [`super::ACCOUNT_OPTIONS`]) costs more than the rest of start-up, so those
//! lines are read here, in one pass, the way clap reads them (clusters such as `-ti`,
//! glued or separate values, the last repeated option winning).
//!
//! Anything else (a long option, an unknown or hidden flag, a value that clap would
//! treat specially, a non-UTF-8 argument) declines with `None`, and clap parses the
//! line as before. The unit tests hold the two to the same result on a corpus of
//! command lines and on random ones.

use super::{Invocation, Mode, QueueMode};
use crate::delivery::Delivery;
use std::ffi::OsString;
use std::path::PathBuf;

/// What one short option is, for the options this path knows.
enum Short {
    /// `-t`: read recipients from the header.
    ReadRecipients,
    /// `-i`: accepted and ignored.
    Ignored,
    /// An option that takes a value (glued or the next argument).
    Value(ValueOption),
}

#[derive(Clone, Copy)]
enum ValueOption {
    From,
    FullName,
    Account,
    File,
    /// `-b MODE`.
    Mode,
    /// `-o…` and `-B…`: accepted and ignored.
    Ignored,
}

fn short(c: char) -> Option<Short> {
    Some(match c {
        't' => Short::ReadRecipients,
        'i' => Short::Ignored,
        'f' => Short::Value(ValueOption::From),
        'F' => Short::Value(ValueOption::FullName),
        'a' => Short::Value(ValueOption::Account),
        'C' => Short::Value(ValueOption::File),
        'b' => Short::Value(ValueOption::Mode),
        'o' | 'B' => Short::Value(ValueOption::Ignored),
        _ => return None,
    })
}

/// What the line said, each option's last value.
#[derive(Default)]
struct Typed {
    read_recipients: bool,
    from: Option<String>,
    full_name: Option<String>,
    account: Option<String>,
    file: Option<String>,
    mode: Option<String>,
    recipients: Vec<String>,
}

impl Typed {
    fn set(&mut self, option: ValueOption, value: &str) {
        let slot = match option {
            ValueOption::From => &mut self.from,
            ValueOption::FullName => &mut self.full_name,
            ValueOption::Account => &mut self.account,
            ValueOption::File => &mut self.file,
            ValueOption::Mode => &mut self.mode,
            ValueOption::Ignored => return,
        };
        *slot = Some(value.to_string());
    }
}

/// The line (argv[0] included) as clap would resolve it, or `None` when it is not one
/// of the common forms.
pub(super) fn parse(args: &[OsString]) -> Option<Invocation> {
    let mut typed = Typed::default();
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        let arg = arg.to_str()?;
        if arg == "--" {
            for r in rest.by_ref() {
                typed.recipients.push(r.to_str()?.to_string());
            }
            break;
        }
        let Some(cluster) = arg.strip_prefix('-') else {
            if arg.is_empty() {
                return None;
            }
            typed.recipients.push(arg.to_string());
            continue;
        };
        if cluster.is_empty() || cluster.starts_with('-') {
            return None;
        }
        for (at, c) in cluster.char_indices() {
            match short(c)? {
                Short::ReadRecipients => typed.read_recipients = true,
                Short::Ignored => {}
                Short::Value(option) => {
                    let glued = &cluster[at + c.len_utf8()..];
                    let value = if glued.is_empty() {
                        rest.next()?.to_str()?
                    } else {
                        glued
                    };
                    // clap strips a leading `=` from a glued value and refuses a value
                    // that looks like an option: leave both to it.
                    if value.is_empty() || value.starts_with(['=', '-']) {
                        return None;
                    }
                    typed.set(option, value);
                    break;
                }
            }
        }
    }
    let mode = match typed.mode.as_deref() {
        None | Some("m") => Mode::Send,
        Some("p") => Mode::Queue(QueueMode::List),
        Some("i") => Mode::NoOp,
        Some("s") => Mode::SmtpSession,
        Some(_) => return None,
    };
    let overrides = typed
        .full_name
        .iter()
        .map(|name| ("from_full_name".to_string(), name.clone()))
        .collect();
    Some(Invocation {
        mode,
        debug: false,
        delivery: Delivery {
            config_file: typed.file.map(PathBuf::from),
            account: typed.account,
            envelope_from: typed.from.map(|f| rsmtp_message::envelope_address(&f)),
            full_name: typed.full_name,
            read_recipients: typed.read_recipients,
            overrides,
            recipients: typed.recipients,
            ..Delivery::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What clap makes of the line (the path this one must agree with).
    fn by_clap(args: &[OsString]) -> Option<Invocation> {
        super::super::parse_with_clap(args.to_vec()).ok()
    }

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("sendmail")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    /// Either declines or yields exactly clap's result; returns whether it took it.
    fn agrees(words: &[&str]) -> bool {
        let args = argv(words);
        match parse(&args) {
            None => false,
            Some(fast) => {
                let slow = by_clap(&args);
                assert_eq!(Some(&fast), slow.as_ref(), "{words:?}");
                true
            }
        }
    }

    #[test]
    fn the_callers_lines_take_the_fast_path_with_claps_result() {
        for line in [
            "",
            "-t -i",
            "-t -i -oi -fpm@example.com -t",
            "-FCronDaemon -i -odi -oem -oi -t -f root",
            "-FCronDaemon -i -B8BITMIME -oem root",
            "-i -B 8BITMIME user",
            "-FAnacron -odi root",
            "-i alice",
            "-ti",
            "-t -fraid@host",
            "-i -- rcpt@example.org",
            "-t -i -f noreply@x -fpm@example.com",
            "-f me@x -f mutt@x -- a@y",
            "-F A -F B -C /a -C /b -a x -a y z@y",
            "-a work -C /etc/msmtprc.d/x a@b.c d@e.f",
            "-tif root",
            "-tfroot a@b",
            "-bi",
            "-bm -t",
            "-bp",
            "-bs -i",
            "-b i",
            "-f Name<a@x.org> a@y",
            "-- -t -x --foo",
            "a@b -t c@d",
        ] {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert!(agrees(&words), "{line:?} should take the fast path");
        }
        assert!(agrees(&[
            "-F",
            "Cron Daemon",
            "-f",
            "a (comment) <b@c>",
            "x@y"
        ]));
    }

    #[test]
    fn everything_else_is_left_to_clap() {
        for line in [
            "--tls=off a@b",
            "-d a@b",
            "-v a@b",
            "-q",
            "-bx",
            "-r a@x z@y",
            "-f",
            "-f -t",
            "-f=a@b",
            "-Z",
            "-t -",
            "--help",
            "-N never a@b",
            "-X /log a@b",
        ] {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert!(!agrees(&words), "{line:?} should be declined");
        }
        assert!(!agrees(&["-f", ""]));
        use std::os::unix::ffi::OsStringExt;
        let latin1 = vec![
            OsString::from("sendmail"),
            OsString::from_vec(b"-FRen\xe9".to_vec()),
        ];
        assert!(parse(&latin1).is_none());
    }

    /// Random lines over the options both paths know and their awkward spellings:
    /// the fast path never disagrees with clap.
    #[test]
    fn random_lines_agree_with_clap() {
        const WORDS: &[&str] = &[
            "-t",
            "-i",
            "-ti",
            "-it",
            "-oi",
            "-odi",
            "-o",
            "i",
            "-B8BITMIME",
            "-B",
            "-f",
            "-fa@b",
            "-froot",
            "a@b",
            "-F",
            "-FCron",
            "Cron Daemon",
            "-a",
            "-awork",
            "work",
            "-C",
            "-C/etc/x",
            "/etc/x",
            "--",
            "-",
            "",
            "-b",
            "-bi",
            "-bm",
            "-bp",
            "-bs",
            "-bq",
            "-tfx@y",
            "-tF",
            "-=x",
            "-f=x",
            "x@y",
            "-x",
            "--x",
            "-tv",
            "-r",
            "-q",
            "-d0.1",
            "-it-",
            "-oem",
            "z (c) <z@w>",
        ];
        // A small deterministic generator: the same lines on every run.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut fast = 0;
        for _ in 0..4000 {
            let len = next(7);
            let words: Vec<&str> = (0..len).map(|_| WORDS[next(WORDS.len())]).collect();
            if agrees(&words) {
                fast += 1;
            }
        }
        assert!(fast > 500, "only {fast} of 4000 lines took the fast path");
    }
}
