//! Hand a finished message to rsmtp's delivery path ([`rsmtp_deliver::submit`]) with an explicit
//! envelope ([`route`]): the same msmtprc files, accounts, queue and log as any other mail.

use std::io::Write;
use std::path::PathBuf;

use crate::error::Error;

/// What rsmtp did with the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delivered {
    Sent,
    Queued(String),
}

/// Which msmtprc, account and envelope an alert goes through: rsmtp's own request
/// ([`rsmtp_deliver::Delivery`]), with its recipients (never read from the headers).
/// An alert must not be lost because the network blipped: it is queued on a
/// temporary failure even where the msmtprc has no `queue` line.
pub(crate) fn route(
    config_file: Option<PathBuf>,
    account: Option<String>,
    envelope_from: Option<String>,
    full_name: Option<String>,
    recipients: Vec<String>,
) -> rsmtp_deliver::Delivery {
    rsmtp_deliver::Delivery {
        config_file,
        account,
        envelope_from,
        // Display name rsmtp puts on the From header it adds (`-F`), when the message
        // has none.
        full_name,
        recipients,
        queue_on_tempfail: true,
        ..rsmtp_deliver::Delivery::default()
    }
}

/// Submit `message` as `delivery` says.
pub(crate) fn submit(
    delivery: &rsmtp_deliver::Delivery,
    message: &[u8],
    warnings: &mut dyn Write,
) -> Result<Delivered, Error> {
    if delivery.recipients.is_empty() {
        return Err(Error::Usage(
            "no recipients: pass --to ADDRESS or set `to` in the settings file".into(),
        ));
    }
    let mut reader: &[u8] = message;
    let mut collected = Vec::new();
    let result = rsmtp_deliver::submit(delivery, &mut reader, &mut collected);
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
