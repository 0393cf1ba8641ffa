//! One SMTP attempt with its log record: a fresh session (sendmail mode, a failure
//! notice), the wire-form body copied as it is, or the next message of an open session
//! (a queue flush). The session error comes back untouched, so the caller decides
//! between failing and queueing.

use std::io::Read;

use rsmtp_config::Account;
use rsmtp_message::Message;
use rsmtp_smtp::{Delivered, Envelope, SmtpError};

use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::log::{reply_lines, LogRecord};
use crate::ui::Ui;

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
