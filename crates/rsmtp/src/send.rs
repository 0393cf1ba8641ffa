//! Sendmail mode: stdin → spool → envelope and final bytes → SMTP session or queue,
//! with msmtp's log line and exit code.
//!
//! The whole message is read into the spool before the network is touched: a caller
//! that dies half way (cronie starts the mailer when the job starts) never produces a
//! half-sent mail, and memory stays flat for a 100 MB body.

use std::io::Read;

use rsmtp_config::{Account, HeaderPolicy, QueueMode, SetToHeader};
use rsmtp_message::{
    date_header_now, from_header_value, header_from, header_recipients, message_id, needs_smtputf8,
    read_message, validate_address, Aliases, FromEdit, HeaderEdits, Message, ToEdit,
};
use rsmtp_queue::{EntryMeta, Queue};
use rsmtp_smtp::{Delivered, Envelope, SmtpError};

use crate::account::{self, Chosen};
use crate::cli::Invocation;
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::log::LogRecord;
use crate::ui::Ui;
use crate::Outcome;

/// A message ready to go: the resolved account, the envelope and the final bytes.
pub struct Prepared {
    pub chosen: Chosen,
    pub envelope: Envelope,
    pub message: Message,
}

/// Read the message and build the envelope (everything before the network).
pub fn prepare(inv: &Invocation, input: &mut dyn Read) -> Result<Prepared, Failure> {
    let config = account::load_config(inv)?;
    let incoming = read_message(input, None)?;

    let header_sender = if inv.read_envelope_from {
        Some(header_from(&incoming.header).ok_or_else(|| {
            // msmtp: "envelope-from address is missing", EX_CONFIG.
            Failure::new(
                ExitCode::Config,
                "no From header found to read the envelope-from address from",
            )
        })?)
    } else {
        None
    };
    let from_arg = inv.envelope_from.as_deref().or(header_sender.as_deref());
    let chosen = account::choose(inv, config.as_ref(), from_arg, true)?;
    let context = Some(chosen.describe());
    let account = &chosen.account;
    let from = account.from.clone().unwrap_or_default();

    let mut recipients = command_line_recipients(&inv.recipients);
    if inv.read_recipients {
        recipients.extend(header_recipients(&incoming.header)?);
    }
    if let Some(path) = &account.aliases {
        let aliases =
            Aliases::load(path).map_err(|e| Failure::from(e).with_account(context.clone()))?;
        recipients = aliases.expand(&recipients)?;
    }
    if recipients.is_empty() {
        return Err(Failure::usage("no recipients found"));
    }
    for r in &recipients {
        validate_address(r)?;
    }
    if !from.is_empty() {
        validate_address(&from).map_err(|e| Failure::from(e).with_account(context.clone()))?;
    }

    let edits = header_edits(inv, account, &from, &recipients)?;
    let message = Message::from_incoming(incoming, &edits)?;
    let envelope = Envelope {
        from,
        smtputf8: needs_smtputf8(&recipients),
        recipients,
        dsn_notify: account.dsn_notify.clone(),
        dsn_return: account.dsn_return.map(|r| r.keyword().to_string()),
        size: Some(message.len()),
        eight_bit: message.eight_bit(),
    };
    Ok(Prepared {
        chosen,
        envelope,
        message,
    })
}

/// Command-line recipients are address lists, as msmtp reads them: `sendmail 'a@x.org,
/// Bob <b@y.org>'` sends to a@x.org and b@y.org, and `<c@z.org>` to c@z.org. An argument
/// that is not a valid list (or could smuggle a header line in) is kept whole, so the
/// address check names it as it was typed.
fn command_line_recipients(args: &[String]) -> Vec<String> {
    let mut recipients = Vec::with_capacity(args.len());
    for arg in args {
        let parsed = if arg.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            None
        } else {
            header_recipients(format!("To: {arg}\r\n").as_bytes()).ok()
        };
        match parsed {
            Some(list) if !list.is_empty() => recipients.extend(list),
            _ => recipients.push(arg.clone()),
        }
    }
    recipients
}

/// The header changes msmtp makes for this account.
fn header_edits(
    inv: &Invocation,
    account: &Account,
    from: &str,
    recipients: &[String],
) -> Result<HeaderEdits, Failure> {
    let full_name = inv
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

/// The log record for an attempt with this account and envelope.
pub fn log_record(account: &Account, envelope: &Envelope) -> LogRecord {
    LogRecord {
        host: account.host.clone().unwrap_or_default(),
        tls: account.tls,
        auth: account.auth.is_on(),
        user: account.user.clone(),
        from: envelope.from.clone(),
        recipients: envelope.recipients.clone(),
        ..LogRecord::default()
    }
}

/// Run one SMTP session and describe it as a log record. The session error is
/// returned untouched so the caller can decide between failing and queueing.
pub fn attempt(
    account: &Account,
    settings: &rsmtp_smtp::SessionSettings,
    envelope: &Envelope,
    message: &mut dyn Read,
    ui: &mut Ui,
) -> (Result<Delivered, SmtpError>, LogRecord) {
    let mut counted = Counted {
        inner: message,
        bytes: 0,
        line_ends: 0,
    };
    let result = rsmtp_smtp::send(settings, envelope, &mut counted, &mut ui.trace());
    let mut record = log_record(account, envelope);
    match &result {
        Ok(delivered) => {
            // msmtp counts the message with bare LF line ends.
            record.mailsize = Some(counted.bytes - counted.line_ends);
            let r = &delivered.final_reply;
            record.smtp_reply = Some((r.code(), reply_lines(r.code(), r.lines())));
            record.exit = Some(ExitCode::Ok);
        }
        Err(e) => {
            record.smtp_reply = e
                .reply()
                .map(|r| (r.code(), reply_lines(r.code(), r.lines())));
            record.errormsg = Some(log_errormsg(e));
            record.exit = Some(ExitCode::from_code(e.exit_code()));
        }
    }
    (result, record)
}

/// The error as msmtp logs it in `errormsg`: without the server's reply, which has its
/// own `smtpstatus`/`smtpmsg` fields, and without Rust's `(os error N)` after the
/// strerror text, so log readers (`backup-alert stats`, scripts) see msmtp's wording.
fn log_errormsg(e: &SmtpError) -> String {
    let mut text = e.to_string();
    if let Some(reply) = e.reply() {
        if let Some(stripped) = text.strip_suffix(&format!(": {reply}")) {
            text.truncate(stripped.len());
        }
    }
    crate::ui::strip_os_error(text)
}

/// Counts what the session read, for the log's `mailsize`.
struct Counted<'a> {
    inner: &'a mut dyn Read,
    bytes: u64,
    line_ends: u64,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        self.line_ends += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(n)
    }
}

/// A reply as msmtp logs it: each line with its code (`250-…`, `250 …`).
fn reply_lines(code: u16, lines: &[String]) -> Vec<String> {
    let last = lines.len().saturating_sub(1);
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{code}{}{l}", if i == last { ' ' } else { '-' }))
        .collect()
}

/// Sendmail mode, end to end.
pub fn run(inv: &Invocation, input: &mut dyn Read, ui: &mut Ui) -> Result<Outcome, Failure> {
    let prepared = prepare(inv, input)?;
    let account = &prepared.chosen.account;
    let context = Some(prepared.chosen.describe());
    let log = account::log_target(account);
    let queue_mode = match account.queue {
        QueueMode::Off if inv.queue_on_tempfail => QueueMode::Fallback,
        mode => mode,
    };
    if queue_mode == QueueMode::Always {
        let queued = enqueue(inv, &prepared, None).map_err(|f| f.with_account(context.clone()))?;
        // The background delivery gets the whole command line, so the note matters only
        // for a retry; stderr stays quiet (cron mails any output) unless -d asks.
        if let Some(note) = queued.left_out_note().filter(|_| ui.debug) {
            ui.warn(&note);
        }
        crate::queue_cmd::spawn_background_delivery(inv, account, &queued.id, ui);
        return Ok(Outcome::Queued { id: queued.id });
    }
    let settings =
        account::session_settings(account).map_err(|f| f.with_account(context.clone()))?;
    let mut reader = prepared.message.reader()?;
    let (result, mut record) = attempt(account, &settings, &prepared.envelope, &mut reader, ui);
    drop(reader);
    match result {
        Ok(_) => {
            ui.warn_all(log.write(&record));
            Ok(Outcome::Delivered)
        }
        Err(e) if e.is_transient() && queue_mode == QueueMode::Fallback => {
            let queued = enqueue(inv, &prepared, Some(&e.to_string()))
                .map_err(|f| f.with_account(context.clone()))?;
            let id = queued.id.clone();
            if let Some(msg) = record.errormsg.as_mut() {
                msg.push_str(&format!(" (queued as {id})"));
            }
            ui.warn_all(log.write(&record));
            ui.warn(&format!("{e}"));
            ui.warn(&format!(
                "message queued as {id} ({}); it will be sent by `rsmtp -q`",
                account::describe_account(account)
            ));
            if let Some(note) = queued.left_out_note() {
                ui.warn(&note);
            }
            Ok(Outcome::Queued { id })
        }
        Err(e) => {
            ui.warn_all(log.write(&record));
            Err(Failure::from(&e).with_account(context))
        }
    }
}

/// Keep the prepared message in the account's queue.
fn enqueue(inv: &Invocation, prepared: &Prepared, error: Option<&str>) -> Result<Queued, Failure> {
    let account = &prepared.chosen.account;
    let queue = Queue::open(&account::queue_dir(account))?;
    let mut meta = EntryMeta::new(
        &account.name,
        &prepared.envelope.from,
        prepared.envelope.recipients.clone(),
    );
    // Absolute: `rsmtp -q` may run from another directory (cron, the flush of
    // another user's shell) and must still find the account.
    meta.config_file = inv
        .config_file
        .as_ref()
        .map(|f| std::path::absolute(f).unwrap_or_else(|_| f.clone()));
    meta.dsn_notify = prepared.envelope.dsn_notify.clone();
    meta.dsn_return = prepared.envelope.dsn_return.clone();
    meta.notify = account.queue_notify.clone();
    meta.size = prepared.envelope.size;
    meta.eight_bit = prepared.envelope.eight_bit;
    meta.expire_after = Some(account.queue_expire);
    // The command line's account settings, so `rsmtp -q` delivers the same way — all
    // but those a queued message may never carry (`--passwordeval`, `--logfile`,
    // `--tls=off`, …): the flusher refuses an entry holding one (see rsmtp-queue's
    // `overrides`), so they are not written. The background delivery of `queue always`
    // gets them from its command line; a later `rsmtp -q` uses the account's own.
    let mut left_out = Vec::new();
    meta.overrides = Vec::new();
    let settings = inv
        .host
        .iter()
        .map(|h| ("host".to_string(), h.clone()))
        .chain(inv.overrides.iter().cloned());
    for (command, value) in settings {
        match rsmtp_queue::check_override(&command, &value) {
            Ok(()) => meta.overrides.push((command, value)),
            Err(refused) => left_out.push(refused.command),
        }
    }
    if let Some(error) = error {
        meta.record_temp_failure(error, std::time::SystemTime::now());
    }
    let mut reader = prepared.message.reader()?;
    let id = queue.enqueue(&meta, &mut reader)?;
    Ok(Queued {
        id: id.as_str().to_string(),
        left_out,
    })
}

/// A message kept in the queue, and the command-line settings its entry does not keep.
struct Queued {
    id: String,
    left_out: Vec<String>,
}

impl Queued {
    /// What the submitter should know when settings were left out of the entry.
    fn left_out_note(&self) -> Option<String> {
        (!self.left_out.is_empty()).then(|| {
            format!(
                "queued message {} does not keep --{}: a later `rsmtp -q` delivers it \
                 with the account's own setting (a queued message never carries \
                 commands, file names or TLS downgrades)",
                self.id,
                self.left_out.join(", --").replace('_', "-")
            )
        })
    }
}
