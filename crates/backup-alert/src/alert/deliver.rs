//! Hand a finished message to rsmtp's delivery path ([`rsmtp_deliver::submit`]) with an explicit
//! envelope: the same msmtprc files, accounts, queue and log as any other mail.

use std::io::Write;
use std::path::PathBuf;

use crate::error::Error;

/// Which msmtprc account to send through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Route {
    /// `--config FILE`: replaces the user msmtprc (`-C`).
    pub(crate) config_file: Option<PathBuf>,
    /// `--account NAME` (`-a`); `None` is the `default` account.
    pub(crate) account: Option<String>,
    /// Envelope sender (`-f`); `None` lets the account's `from` decide.
    pub(crate) envelope_from: Option<String>,
    /// Display name rsmtp puts on the From header it adds (`-F`), when the message has none.
    pub(crate) full_name: Option<String>,
}

/// What rsmtp did with the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delivered {
    Sent,
    Queued(String),
}

/// Submit `message` to `recipients` (never read from the headers).
pub(crate) fn submit(
    route: &Route,
    recipients: &[String],
    message: &[u8],
    warnings: &mut dyn Write,
) -> Result<Delivered, Error> {
    if recipients.is_empty() {
        return Err(Error::Usage(
            "no recipients: pass --to ADDRESS or set `to` in the settings file".into(),
        ));
    }
    let submission = rsmtp_deliver::Submission {
        config_file: route.config_file.clone(),
        account: route.account.clone(),
        envelope_from: route.envelope_from.clone(),
        full_name: route.full_name.clone(),
        recipients: recipients.to_vec(),
        read_recipients: false,
        // An alert must not be lost because the network blipped: queue it on a
        // temporary failure even where the msmtprc has no `queue` line.
        queue_on_tempfail: true,
    };
    let mut reader: &[u8] = message;
    let mut collected = Vec::new();
    let result = rsmtp_deliver::submit(&submission, &mut reader, &mut collected);
    relay_warnings(&collected, warnings);
    match result? {
        rsmtp_deliver::Outcome::Delivered => Ok(Delivered::Sent),
        rsmtp_deliver::Outcome::Queued { id } => Ok(Delivered::Queued(id)),
    }
}

/// Pass rsmtp's warnings on under our name, so every line on stderr starts the same way.
fn relay_warnings(collected: &[u8], out: &mut dyn Write) {
    for line in String::from_utf8_lossy(collected).lines() {
        let line = line.strip_prefix("rsmtp: ").unwrap_or(line);
        if !line.trim().is_empty() {
            let _ = writeln!(out, "backup-alert: {line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_renamed() {
        let mut out = Vec::new();
        relay_warnings(b"rsmtp: message queued as 1-2\nplain note\n\n", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "backup-alert: message queued as 1-2\nbackup-alert: plain note\n"
        );
    }
}
