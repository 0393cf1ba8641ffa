//! Sendmail mode: stdin → spool → envelope and final bytes → SMTP session or queue,
//! with msmtp's log line and exit code.
//!
//! The whole message is read into the spool before the network is touched: a caller
//! that dies half way (cronie starts the mailer when the job starts) never produces a
//! half-sent mail, and memory stays flat for a 100 MB body.

use rsmtp_core::tr;
use std::io::Read;
use std::path::PathBuf;

use rsmtp_config::{Account, HeaderPolicy, QueueMode, SetToHeader};
use rsmtp_message::{
    address_list, date_header_now, from_header_value, header_from, header_recipients, message_id,
    needs_smtputf8, read_message_into, validate_address, Aliases, FromEdit, HeaderEdits, Message,
    Spool, ToEdit,
};
use rsmtp_queue::{EntryMeta, Queue};
use rsmtp_smtp::{Delivered, Envelope, SmtpError};

use crate::account::{self, Chosen};
use crate::cli::Delivery;
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
    attempt_through(account, envelope, message, &mut |envelope, message| {
        rsmtp_smtp::send(settings, envelope, message, &mut ui.trace())
    })
}

/// [`attempt`] for a message whose spooled body is already in wire form (see
/// `Spool::is_wire_form`): the body file is copied to the server as it is
/// (sendfile on a plain connection), and `mailsize` comes from what spooling
/// counted instead of a scan of every byte sent.
pub fn attempt_wire(
    account: &Account,
    settings: &rsmtp_smtp::SessionSettings,
    envelope: &Envelope,
    message: &Message,
    ui: &mut Ui,
) -> Result<(Result<Delivered, SmtpError>, LogRecord), Failure> {
    let body = message.body().open()?;
    let wire = rsmtp_smtp::WireMessage::new(message.header(), &body, message.body().len());
    let result = rsmtp_smtp::send_wire(settings, envelope, &wire, &mut ui.trace());
    let line_ends =
        memchr::memchr_iter(b'\n', message.header()).count() as u64 + message.body().line_ends();
    let record = attempt_record(account, envelope, &result, message.len() - line_ends);
    Ok((result, record))
}

/// [`attempt`] over any session: `send` delivers the message (a fresh session, or
/// the next message of an open [`rsmtp_smtp::Client`] during a queue flush).
pub fn attempt_through(
    account: &Account,
    envelope: &Envelope,
    message: &mut dyn Read,
    send: &mut dyn FnMut(&Envelope, &mut dyn Read) -> Result<Delivered, SmtpError>,
) -> (Result<Delivered, SmtpError>, LogRecord) {
    let mut counted = Counted {
        inner: message,
        bytes: 0,
        line_ends: 0,
    };
    let result = send(envelope, &mut counted);
    let record = attempt_record(
        account,
        envelope,
        &result,
        counted.bytes - counted.line_ends,
    );
    (result, record)
}

/// The log record of an attempt that ended with `result`, `mailsize` bytes sent
/// (counted with bare LF line ends, as msmtp does).
pub fn attempt_record(
    account: &Account,
    envelope: &Envelope,
    result: &Result<Delivered, SmtpError>,
    mailsize: u64,
) -> LogRecord {
    let mut record = log_record(account, envelope);
    match result {
        Ok(delivered) => {
            record.mailsize = Some(mailsize);
            let r = &delivered.final_reply;
            record.smtp_reply = Some((r.code(), reply_lines(r.code(), r.lines())));
            record.exit = Some(ExitCode::Ok);
        }
        Err(e) => {
            record.smtp_reply = e
                .reply()
                .map(|r| (r.code(), reply_lines(r.code(), r.lines())));
            record.errormsg = Some(log_errormsg(e));
            record.exit = Some(e.exit_code());
        }
    }
    record
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
    rsmtp_core::strip_os_error(text)
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
        self.line_ends += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        Ok(n)
    }
}

/// A reply as msmtp logs it: each line with its code (`250-…`, `250 …`).
pub(crate) fn reply_lines(code: u16, lines: &[String]) -> Vec<String> {
    let last = lines.len().saturating_sub(1);
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{code}{}{l}", if i == last { ' ' } else { '-' }))
        .collect()
}

/// Sendmail mode, end to end.
pub fn run(delivery: &Delivery, input: &mut dyn Read, ui: &mut Ui) -> Result<Outcome, Failure> {
    let prepared = prepare(delivery, input, ui)?;
    let account = &prepared.chosen.account;
    let context = Some(prepared.chosen.describe());
    let log = account::log_target(account);
    let queue_mode = match account.queue {
        QueueMode::Off if delivery.queue_on_tempfail => QueueMode::Fallback,
        mode => mode,
    };
    if queue_mode == QueueMode::Always {
        let queued =
            enqueue(delivery, &prepared, None).map_err(|f| f.with_account(context.clone()))?;
        // The background delivery gets the whole command line, so the note matters only
        // for a retry; stderr stays quiet (cron mails any output) unless -d asks.
        if let Some(note) = queued.left_out_note().filter(|_| ui.debug) {
            ui.warn(&note);
        }
        crate::queue_cmd::spawn_background_delivery(delivery, account, &queued.id, ui);
        return Ok(Outcome::Queued { id: queued.id });
    }
    let settings = match account::session_settings(account, account::PasswordPrompt::Terminal) {
        Ok(settings) => settings,
        // A `passwordeval` that did not answer in time (a keyring not unlocked yet)
        // is temporary: under `queue fallback` the message waits, as for a relay
        // that is down, and the retrier asks again later.
        Err(f) if f.code == ExitCode::TempFail && queue_mode == QueueMode::Fallback => {
            let queued = enqueue(delivery, &prepared, Some((&f.message, false)))
                .map_err(|f| f.with_account(context.clone()))?;
            let mut record = log_record(account, &prepared.envelope);
            record.skipped = prepared.skipped.clone();
            record.errormsg = Some(format!("{} (queued as {})", f.message, queued.id));
            record.exit = Some(ExitCode::TempFail);
            ui.log(&log, &record);
            ui.warn(&f.message);
            ui.warn(&tr!(
                "message queued as {id} ({account}); rsmtp retries it in the background",
                id = queued.id,
                account = account::describe_account(account)
            ));
            crate::retrier::after_queueing(delivery, account, ui);
            return Ok(Outcome::Queued { id: queued.id });
        }
        Err(f) => return Err(f.with_account(context)),
    };
    let (result, mut record) = if prepared.message.body().is_wire_form() {
        attempt_wire(
            account,
            &settings,
            &prepared.envelope,
            &prepared.message,
            ui,
        )?
    } else {
        let mut reader = prepared.message.reader()?;
        attempt(account, &settings, &prepared.envelope, &mut reader, ui)
    };
    record.skipped = prepared.skipped.clone();
    match result {
        Ok(_) => {
            ui.log(&log, &record);
            // The server is back: what waits for it goes now, in the background.
            crate::retrier::after_delivery(
                delivery,
                account,
                &crate::courier::server_of(&settings),
                ui,
            );
            Ok(Outcome::Delivered)
        }
        Err(e) if e.is_transient() && queue_mode == QueueMode::Fallback => {
            // LMTP: only the recipients refused for now are kept; the others have it.
            let retry = e
                .partly_delivered()
                .map(|(_, temp)| temp.into_iter().map(str::to_owned).collect());
            let queued = enqueue_for(
                delivery,
                &prepared,
                Some((&e.to_string(), e.is_unanswered())),
                retry,
            )
            .map_err(|f| f.with_account(context.clone()))?;
            let id = queued.id.clone();
            if let Some(msg) = record.errormsg.as_mut() {
                msg.push_str(&format!(" (queued as {id})"));
            }
            // A queued attempt is a temporary failure whatever its cause, as the
            // README promises scripts that grep `exitcode=EX_TEMPFAIL`.
            record.exit = Some(ExitCode::TempFail);
            ui.log(&log, &record);
            ui.warn(&format!("{e}"));
            ui.warn(&tr!(
                "message queued as {id} ({account}); rsmtp retries it in the background",
                id = id,
                account = account::describe_account(account)
            ));
            crate::retrier::after_queueing(delivery, account, ui);
            if let Some(note) = queued.left_out_note() {
                ui.warn(&note);
            }
            Ok(Outcome::Queued { id })
        }
        Err(e) => {
            // LMTP, refused permanently for some and only for now for others: the
            // message still waits for the latter (and the error names the former).
            let waiting: Vec<String> = match e.partly_delivered() {
                Some((_, temp)) if queue_mode == QueueMode::Fallback => {
                    temp.into_iter().map(str::to_owned).collect()
                }
                _ => Vec::new(),
            };
            let mut queued_note = None;
            if !waiting.is_empty() {
                let queued = enqueue_for(
                    delivery,
                    &prepared,
                    Some((&e.to_string(), false)),
                    Some(waiting.clone()),
                )
                .map_err(|f| f.with_account(context.clone()))?;
                let note = format!("queued as {} for {}", queued.id, waiting.join(", "));
                if let Some(msg) = record.errormsg.as_mut() {
                    msg.push_str(&format!(" ({note})"));
                }
                queued_note = Some(format!(
                    "message {note} ({}); rsmtp retries it in the background",
                    account::describe_account(account)
                ));
            }
            ui.log(&log, &record);
            if let Some(note) = queued_note {
                ui.warn(&note);
                crate::retrier::after_queueing(delivery, account, ui);
            }
            let hint = auth_hint(&e, account);
            let mut failure = Failure::from(e);
            if let Some(hint) = hint {
                failure.message.push('\n');
                failure.message.push_str(&hint);
            }
            Err(failure.with_account(context))
        }
    }
}

/// What to do about a refused login: basic authentication switched off (`550 5.7.30`,
/// Microsoft 365), an OAuth token refused (`535 5.7.3` to XOAUTH2/OAUTHBEARER), or a
/// big provider that refuses the account password once two-step verification is on
/// (the README's troubleshooting table).
fn auth_hint(e: &SmtpError, account: &Account) -> Option<String> {
    let reply = e.reply().map(|r| (r.code(), r.lines().join(" ")));
    let oauth = matches!(
        account.auth,
        rsmtp_config::Auth::Method(
            rsmtp_config::AuthMethod::XOAuth2 | rsmtp_config::AuthMethod::OAuthBearer
        )
    );
    if let Some((code, text)) = &reply {
        if *code == 550 && text.contains("5.7.30") && !oauth {
            return Some(crate::oauth::basic_auth_off_hint(account));
        }
        if *code == 535 && text.contains("5.7.3") && oauth {
            return Some(crate::oauth::XOAUTH2_REFUSED_HINT.to_string());
        }
    }
    if !matches!(e.kind(), rsmtp_smtp::ErrorKind::AuthFailed) || oauth {
        return None;
    }
    let host = account.host.as_deref()?.to_ascii_lowercase();
    let is = |domains: &[&str]| {
        domains
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
    };
    let hint = if is(&["gmail.com", "googlemail.com", "google.com"]) {
        "Gmail refuses the account password here: create an app password (Google account → Security → 2-Step Verification → App passwords) and use it as `password` or through `passwordeval`, or use OAuth 2.0 (`oauth2_provider google`, see rsmtprc(5))"
    } else if is(&["outlook.com", "office365.com", "hotmail.com", "live.com"]) {
        "Outlook/Microsoft 365: with two-step verification on, use an app password (account.microsoft.com → Security → App passwords); some tenants have SMTP AUTH disabled by the administrator; Microsoft 365 accounts should use OAuth 2.0 (`oauth2_provider microsoft`, see rsmtprc(5))"
    } else if is(&["yahoo.com", "yahoo.co.jp", "mail.yahoo.com"]) {
        "Yahoo: create an app password (login.yahoo.com/account/security → Generate app password) and use it instead of the account password"
    } else {
        return None;
    };
    Some(hint.to_string())
}

/// Keep the prepared message in the account's queue.
/// `error`: the attempt's error, and whether it came after the whole message was
/// sent, with no answer (the entry is then marked: the server may have it).
fn enqueue(
    delivery: &Delivery,
    prepared: &Prepared,
    error: Option<(&str, bool)>,
) -> Result<Queued, Failure> {
    enqueue_for(delivery, prepared, error, None)
}

/// [`enqueue`] for `recipients` only (those of the envelope when `None`).
fn enqueue_for(
    delivery: &Delivery,
    prepared: &Prepared,
    error: Option<(&str, bool)>,
    recipients: Option<Vec<String>>,
) -> Result<Queued, Failure> {
    let account = &prepared.chosen.account;
    let queue = Queue::open(&account::queue_dir(account))?;
    let mut meta = EntryMeta::new(
        &account.name,
        &prepared.envelope.from,
        recipients.unwrap_or_else(|| prepared.envelope.recipients.clone()),
    );
    // Absolute: `rsmtp -q` may run from another directory (cron, the flush of
    // another user's shell) and must still find the account.
    meta.config_file = delivery
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
    let settings = delivery
        .host
        .iter()
        .map(|h| ("host".to_string(), h.clone()))
        .chain(delivery.overrides.iter().cloned());
    for (command, value) in settings {
        match rsmtp_queue::check_override(&command, &value) {
            Ok(()) => meta.overrides.push((command, value)),
            Err(refused) => left_out.push(refused.command),
        }
    }
    if let Some((error, unanswered)) = error {
        let now = std::time::SystemTime::now();
        meta.record_temp_failure_after(error, now, crate::retrier::first_retry());
        meta.unanswered_since = unanswered.then_some(now);
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
