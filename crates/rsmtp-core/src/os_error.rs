//! Operating-system errors in msmtp's words: strerror's text, without the
//! ` (os error 111)` Rust appends (`Connection refused`, not
//! `Connection refused (os error 111)`), on stderr and in the log's `errormsg`.

use crate::tr_in;
use std::io;

/// The text of `e` without Rust's ` (os error N)` suffix, in the user's language
/// for the errors a user meets most (glibc's own translations, so the text is the
/// one msmtp prints).
pub fn strerror(e: &io::Error) -> String {
    strerror_in(e, crate::i18n::process_language())
}

/// [`strerror`] in `language` (`fr`, `ja`, `en`) instead of the process's: an alert
/// says `Aucun fichier ou dossier de ce type`, never `(os error 2)`, in the reader's
/// language.
pub fn strerror_in(e: &io::Error, language: &str) -> String {
    let text = strip_os_error(e.to_string());
    if e.raw_os_error().is_some() {
        translated(text, language)
    } else {
        text
    }
}

/// glibc's `strerror` text (which Rust prints in the C locale) in `language`.
fn translated(text: String, language: &str) -> String {
    let l = language;
    let t = match text.as_str() {
        "Connection refused" => tr_in!(l, "Connection refused"),
        "Connection timed out" => tr_in!(l, "Connection timed out"),
        "Connection reset by peer" => tr_in!(l, "Connection reset by peer"),
        "No route to host" => tr_in!(l, "No route to host"),
        "Network is unreachable" => tr_in!(l, "Network is unreachable"),
        "Permission denied" => tr_in!(l, "Permission denied"),
        "No such file or directory" => tr_in!(l, "No such file or directory"),
        "Is a directory" => tr_in!(l, "Is a directory"),
        "Not a directory" => tr_in!(l, "Not a directory"),
        "No space left on device" => tr_in!(l, "No space left on device"),
        "Disk quota exceeded" => tr_in!(l, "Disk quota exceeded"),
        "Read-only file system" => tr_in!(l, "Read-only file system"),
        "Input/output error" => tr_in!(l, "Input/output error"),
        "Operation not permitted" => tr_in!(l, "Operation not permitted"),
        "Too many open files" => tr_in!(l, "Too many open files"),
        _ => return text,
    };
    t.into_owned()
}

/// `… Connection refused (os error 111)` → `… Connection refused`, for text that
/// already holds an error (a message built around it).
pub fn strip_os_error(mut text: String) -> String {
    if let Some(i) = text.rfind(" (os error ") {
        let tail = &text[i + " (os error ".len()..];
        if tail
            .strip_suffix(')')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        {
            text.truncate(i);
        }
    }
    text
}

/// Whether a local I/O error is a fault that goes away on its own or with an admin's
/// routine care — a full disk or quota, an I/O error, too many open files, no memory —
/// rather than a setting that is wrong (no such directory, permission denied). A
/// message that meets one is a temporary failure (exit 75, SMTP 451/452): the caller
/// keeps it and tries again, as sendmail and Postfix answer.
pub fn is_transient_local(e: &io::Error) -> bool {
    const EIO: i32 = 5;
    const ENOMEM: i32 = 12;
    const ENFILE: i32 = 23;
    const EMFILE: i32 = 24;
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull
            | io::ErrorKind::QuotaExceeded
            | io::ErrorKind::OutOfMemory
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
            | io::ErrorKind::ResourceBusy
    ) || matches!(e.raw_os_error(), Some(EIO | ENOMEM | ENFILE | EMFILE))
}

/// Whether `e` is a full disk or quota (ENOSPC, EDQUOT): SMTP's `452 4.3.1`.
pub fn is_out_of_space(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_error_suffix_is_dropped() {
        assert_eq!(
            strip_os_error(
                "cannot connect to h, port 25: Connection refused (os error 111)".into()
            ),
            "cannot connect to h, port 25: Connection refused"
        );
        assert_eq!(
            strip_os_error("odd (os error x)".into()),
            "odd (os error x)"
        );
        assert_eq!(strip_os_error("plain".into()), "plain");
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(strerror(&e), "No such file or directory");
    }
}
