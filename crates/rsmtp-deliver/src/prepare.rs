//! Sendmail mode's first half: stdin → spool → the resolved account, the envelope and
//! the final bytes, before the network is touched.
//!
//! The whole message is read into the spool first: a caller that dies half way
//! (cronie starts the mailer when the job starts) never produces a half-sent mail, and
//! memory stays flat for a 100 MB body.

use rsmtp_core::tr;
use std::io::Read;
use std::path::PathBuf;

use rsmtp_config::{Account, HeaderPolicy, QueueMode, SetToHeader};
use rsmtp_message::{
    address_list, date_header_now, from_header_value, header_from, header_recipients, message_id,
    needs_smtputf8, read_message_into, validate_address, Aliases, FromEdit, HeaderEdits, Message,
    Spool, ToEdit,
};
use rsmtp_smtp::Envelope;

use crate::account::{self, Chosen};
use crate::delivery::Delivery;
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::ui::Ui;

/// A message ready to go: the resolved account, the envelope and the final bytes.
pub struct Prepared {
    /// The account it goes through.
    pub chosen: Chosen,
    /// MAIL FROM and the RCPT TO list.
    pub envelope: Envelope,
    /// The bytes to send, headers rewritten as the account says (spooled to disk).
    pub message: Message,
    /// The `-t` header elements left out because they name no usable address (as
    /// written), for the log line.
    pub skipped: Vec<String>,
}

/// Read the message and build the envelope (everything before the network).
///
/// Input refused here (no recipients, a bad address, NUL in the header) gets no log
/// line, as with msmtp, which logs attempts to send only: scripts that count the
/// lines of `msmtp.log` count the same with rsmtp. The refusal is on stderr.
pub fn prepare(
    delivery: &Delivery,
    input: &mut dyn Read,
    ui: &mut Ui,
) -> Result<Prepared, Failure> {
    let config = account::load_config(delivery)?;
    let body = match Spool::create_in_first(&spool_dirs(delivery, config.as_ref())) {
        Ok(body) => body,
        Err(e) => {
            // Read the input to its end all the same: the caller must not get SIGPIPE.
            let _ = std::io::copy(input, &mut std::io::sink());
            return Err(e.into());
        }
    };
    let incoming = read_message_into(input, body)?;

    let header_sender = if delivery.read_envelope_from {
        Some(header_from(&incoming.header).ok_or_else(|| {
            // msmtp: "envelope-from address is missing", EX_CONFIG.
            Failure::new(
                ExitCode::Config,
                tr!("no From header found to read the envelope-from address from"),
            )
        })?)
    } else {
        None
    };
    let from_arg = delivery
        .envelope_from
        .as_deref()
        .or(header_sender.as_deref());
    let chosen = account::choose(delivery, config.as_ref(), from_arg, true)?;
    if ui.debug {
        // msmtp's -d starts with where the settings came from.
        ui.print(&account::describe_choice(config.as_ref(), &chosen));
        ui.print(&format!("using {}\n", chosen.describe()));
        if let Some(bits) = chosen.account.tls_min_dh_prime_bits {
            ui.print(&format!(
                "tls_min_dh_prime_bits {bits} has no effect: rustls has no finite-field \
                 Diffie-Hellman (key exchange is always ECDHE)\n"
            ));
        }
    }
    let mut skipped = Vec::new();
    let (envelope, message) = envelope_and_message(delivery, &chosen, incoming, &mut skipped, ui)?;
    Ok(Prepared {
        chosen,
        envelope,
        message,
        skipped,
    })
}

/// Recipients, checks and header edits for the chosen account. Header elements
/// that name no usable address are named on stderr and in `skipped`; the message
/// goes to the others (msmtp sends what it can read, junk included).
fn envelope_and_message(
    delivery: &Delivery,
    chosen: &Chosen,
    incoming: rsmtp_message::Incoming,
    skipped: &mut Vec<String>,
    ui: &mut Ui,
) -> Result<(Envelope, Message), Failure> {
    let context = Some(chosen.describe());
    let account = &chosen.account;
    let from = account.from.clone().unwrap_or_default();

    let mut recipients = command_line_recipients(&delivery.recipients);
    let recipients = &mut recipients;
    if delivery.read_recipients {
        let found = header_recipients(&incoming.header);
        for element in &found.skipped {
            ui.warn(&element.to_string());
            skipped.push(element.text.clone());
        }
        recipients.extend(found.addresses);
    }
    if let Some(path) = &account.aliases {
        let aliases =
            Aliases::load(path).map_err(|e| Failure::from(e).with_account(context.clone()))?;
        *recipients = aliases.expand(recipients)?;
    }
    if recipients.is_empty() {
        return Err(Failure::usage(tr!("no recipients found")));
    }
    for r in recipients.iter() {
        validate_address(r)?;
    }
    if !from.is_empty() {
        validate_address(&from).map_err(|e| Failure::from(e).with_account(context.clone()))?;
    }

    let edits = header_edits(delivery, account, &from, recipients)?;
    let message = Message::from_incoming(incoming, &edits)?;
    let envelope = Envelope {
        from,
        smtputf8: needs_smtputf8(recipients),
        recipients: recipients.clone(),
        dsn_notify: account.dsn_notify.clone(),
        dsn_return: account.dsn_return.map(|r| r.keyword().to_string()),
        size: Some(message.len()),
        eight_bit: message.eight_bit(),
    };
    Ok((envelope, message))
}

/// Where the body is spooled, best first: the account's queue when it keeps one (the
/// same file system as the entries, and a directory rsmtp owns), then `$TMPDIR`, then
/// `/tmp`. msmtp ignores `TMPDIR`; a stale one (a PHP-FPM pool, a container) must not
/// stop the mail.
fn spool_dirs(delivery: &Delivery, config: Option<&rsmtp_config::Config>) -> Vec<PathBuf> {
    let mut dirs = Vec::with_capacity(3);
    let account = config.and_then(|c| {
        let (mut account, _) = c
            .select(
                delivery.account.as_deref(),
                delivery.envelope_from.as_deref(),
            )
            .ok()?;
        for (command, value) in &delivery.overrides {
            let _ = account.apply_override(command, value);
        }
        Some(account)
    });
    if let Some(account) =
        account.filter(|a| a.queue != QueueMode::Off || delivery.queue_on_tempfail)
    {
        let tmp = account.queue_dir().join("tmp");
        if rsmtp_queue::is_trusted_dir(&tmp) {
            dirs.push(tmp);
        }
    }
    dirs.push(std::env::temp_dir());
    dirs.push(PathBuf::from("/tmp"));
    dirs
}

/// Command-line recipients are address lists, as msmtp reads them: `sendmail 'a@x.org,
/// Bob <b@y.org>'` sends to a@x.org and b@y.org, and `<c@z.org>` to c@z.org. An argument
/// that is not a valid list (or could smuggle a header line in) is kept whole, so the
/// address check names it as it was typed.
fn command_line_recipients(args: &[String]) -> Vec<String> {
    let mut recipients = Vec::with_capacity(args.len());
    for arg in args {
        let parsed = if arg.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            Vec::new()
        } else {
            address_list(arg)
        };
        if parsed.is_empty() || parsed.iter().any(|a| validate_address(a).is_err()) {
            recipients.push(arg.clone());
        } else {
            recipients.extend(parsed);
        }
    }
    recipients
}

/// The header changes msmtp makes for this account.
fn header_edits(
    delivery: &Delivery,
    account: &Account,
    from: &str,
    recipients: &[String],
) -> Result<HeaderEdits, Failure> {
    let full_name = delivery
        .full_name
        .as_deref()
        .or(account.from_full_name.as_deref());
    let from_value = || from_header_value(from, full_name);
    let from_edit = match account.set_from_header {
        HeaderPolicy::Off => FromEdit::Keep,
        _ if from.is_empty() => FromEdit::Keep,
        HeaderPolicy::Auto => FromEdit::AddIfMissing(from_value()?),
        HeaderPolicy::On => FromEdit::Replace(from_value()?),
    };
    let to = match account.set_to_header {
        SetToHeader::Off => ToEdit::Keep,
        SetToHeader::On => ToEdit::Recipients(recipients.to_vec()),
        SetToHeader::UndisclosedRecipients => ToEdit::Undisclosed,
    };
    let date = (account.set_date_header != HeaderPolicy::Off).then(date_header_now);
    let message_id = if account.set_msgid_header != HeaderPolicy::Off {
        let domain = from
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .unwrap_or_else(|| account.domain.clone());
        Some(message_id(&domain)?)
    } else {
        None
    };
    Ok(HeaderEdits {
        remove_bcc: account.remove_bcc_headers,
        from: from_edit,
        to,
        date,
        message_id,
    })
}
