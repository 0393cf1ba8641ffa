//! Which of backup-alert's three faces a command line is for, decided from argv before
//! clap sees it (clap cannot parse both subcommands and a bare `mail -s` line).
//!
//! The rule, first match wins:
//! 1. argv[0]'s file name is `mail` or `mailx` → mail mode; `sendmail` → sendmail mode.
//! 2. No arguments, or the first argument is not an option (a subcommand, or a typo of
//!    one: `sned` is an error with a suggestion, never a mail to `<sned>`), a long
//!    option (`--…`), `-h` or `-V` → subcommand mode.
//! 3. Any argument before a lone `--` is `-s` or starts with `-s` → mail mode
//!    (`mail -s SUBJECT …`; no sendmail flag looks like it).
//! 4. Anything else (`-t -i`, `-oi -f root`) → sendmail mode: the whole argv goes to
//!    the `rsmtp` binary next to this one, as PHP's `sendmail_path` or cron would call it. A bare
//!    recipient list (`sendmail root`) needs the `sendmail` name (rule 1).

use std::ffi::OsString;
use std::path::Path;

/// The three faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `backup-alert send|run|check|setup|stats`.
    Commands,
    /// `mail -s SUBJECT RECIPIENT…` drop-in.
    Mail,
    /// sendmail command line, handed to rsmtp.
    Sendmail,
}

pub(crate) fn detect(args: &[OsString]) -> Mode {
    let argv0 = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match argv0.as_str() {
        "mail" | "mailx" => return Mode::Mail,
        "sendmail" => return Mode::Sendmail,
        _ => {}
    }
    let Some(first) = args.get(1) else {
        return Mode::Commands;
    };
    let first = first.to_string_lossy();
    if !first.starts_with('-') || first.starts_with("--") || first == "-h" || first == "-V" {
        return Mode::Commands;
    }
    for a in &args[1..] {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        if a.starts_with("-s") {
            return Mode::Mail;
        }
    }
    Mode::Sendmail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(args: &[&str]) -> Mode {
        detect(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn a_word_is_a_subcommand_or_a_typo_of_one_never_a_recipient() {
        assert_eq!(m(&["backup-alert", "sned"]), Mode::Commands);
        assert_eq!(m(&["backup-alert", "stat"]), Mode::Commands);
        assert_eq!(m(&["backup-alert", "root"]), Mode::Commands);
    }

    #[test]
    fn subcommands() {
        assert_eq!(m(&["backup-alert"]), Mode::Commands);
        assert_eq!(
            m(&["backup-alert", "send", "--status", "success"]),
            Mode::Commands
        );
        assert_eq!(
            m(&["backup-alert", "--settings", "f", "run", "--", "x"]),
            Mode::Commands
        );
        assert_eq!(m(&["backup-alert", "--help"]), Mode::Commands);
        assert_eq!(m(&["backup-alert", "-V"]), Mode::Commands);
    }

    #[test]
    fn mail_lines() {
        assert_eq!(
            m(&["backup-alert", "-s", "Backup OK", "admin@x"]),
            Mode::Mail
        );
        assert_eq!(
            m(&["backup-alert", "-r", "f@x", "-s", "S", "admin@x"]),
            Mode::Mail
        );
        assert_eq!(m(&["backup-alert", "-sSubject", "admin@x"]), Mode::Mail);
        assert_eq!(
            m(&["backup-alert", "-E", "-c", "x@y", "-s", "S", "admin@x"]),
            Mode::Mail
        );
        assert_eq!(m(&["/usr/bin/mail", "admin@x"]), Mode::Mail);
        assert_eq!(m(&["mailx", "-t"]), Mode::Mail);
    }

    #[test]
    fn sendmail_lines() {
        assert_eq!(m(&["backup-alert", "-t", "-i"]), Mode::Sendmail);
        assert_eq!(
            m(&[
                "backup-alert",
                "-FCronDaemon",
                "-i",
                "-odi",
                "-oem",
                "-oi",
                "-t",
                "-f",
                "root"
            ]),
            Mode::Sendmail
        );
        assert_eq!(m(&["backup-alert", "-i", "--", "-s"]), Mode::Sendmail);
        assert_eq!(m(&["/usr/sbin/sendmail", "root"]), Mode::Sendmail);
        assert_eq!(m(&["/usr/sbin/sendmail", "send"]), Mode::Sendmail);
    }
}
