//! One pass over one queue through a [`SessionCourier`]: what was delivered, deferred,
//! failed (with the failure notice) or refused, said on stderr and in the log.

use std::sync::atomic::AtomicBool;

use rsmtp_config::{Config, LoadOptions};
use rsmtp_queue::{notice_recipient, FailedEntry, FlushOptions, Queue, Refusal, RefusedEntry};
use rsmtp_smtp::Envelope;

use crate::account::{self, log_target};
use crate::attempt::{attempt, log_record};
use crate::courier::SessionCourier;
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::log::LogRecord;
use crate::queued::{entry_account, entry_envelope};
use crate::ui::Ui;

/// What one pass over one queue did.
pub struct Pass {
    /// The pass's exit code: 0 when every entry went, else the last kind of problem
    /// met (75 deferred or busy, 69 failed or expired, 78 a refused setting, 74 an
    /// unreadable entry).
    pub code: ExitCode,
    /// Another flusher held the queue lock: nothing was done.
    pub lock_busy: bool,
    /// Servers (`host:port`) that accepted a message.
    pub back: Vec<String>,
}

/// One pass over `queue` through a [`SessionCourier`]: entries already known to
/// wait for a server in `servers_back` go whatever their backoff; `stop` ends the
/// pass after the message in flight.
pub fn flush_queue(
    queue: &Queue,
    command_line: &[(String, String)],
    ui: &mut Ui,
    options: &FlushOptions,
    servers_back: &[String],
    stop: Option<&AtomicBool>,
) -> Result<Pass, Failure> {
    let mut courier = SessionCourier::new(ui, command_line, servers_back, stop);
    let report = queue.flush_with(options, &mut courier);
    courier.finish();
    let back = courier.servers_back();
    let report = report?;
    let mut code = ExitCode::Ok;
    // Whoever waited for the other flusher and still found it busy did not do
    // what was asked: temporary, try again.
    let waited = !options.wait_busy.is_zero();
    if report.lock_busy {
        ui.warn(&format!(
            "another rsmtp is flushing {}; nothing done",
            queue.dir().display()
        ));
        if waited {
            code = ExitCode::TempFail;
        }
    }
    for id in &report.busy {
        ui.warn(&format!(
            "{id}: another rsmtp is delivering it; not attempted"
        ));
        if waited {
            code = ExitCode::TempFail;
        }
    }
    for (id, at) in &report.maybe_twice {
        ui.warn(&format!(
            "{id}: delivered; an earlier attempt ({}) sent it in full without an answer, \
             so it may have arrived twice",
            chrono::DateTime::<chrono::Local>::from(*at).format("%b %e %H:%M:%S")
        ));
    }
    for d in &report.deferred {
        ui.warn(&format!(
            "{}: deferred (attempt {}): {}",
            d.id, d.attempts, d.error
        ));
        code = ExitCode::TempFail;
    }
    for f in report.failed.iter().chain(&report.expired) {
        ui.warn(&format!("{}: failed: {}", f.id, f.reason));
        send_failure_notice(queue, f, ui);
        if code == ExitCode::Ok {
            code = ExitCode::Unavailable;
        }
    }
    for refused in &report.refused {
        report_refused(refused, ui);
        code = ExitCode::Config;
    }
    for (id, e) in &report.errors {
        ui.warn(&format!("{id}: {e}"));
        log_entry_problem(queue, id, e, command_line, ui);
        code = ExitCode::IoErr;
    }
    Ok(Pass {
        code,
        lock_busy: report.lock_busy,
        back,
    })
}

/// A queue entry the flush could not handle (a full disk while recording an attempt,
/// an unreadable file) gets a line in its account's log too: the log is where an
/// administrator looks for why a message still waits.
fn log_entry_problem(
    queue: &Queue,
    id: &rsmtp_queue::EntryId,
    error: &rsmtp_queue::QueueError,
    command_line: &[(String, String)],
    ui: &mut Ui,
) {
    let Ok(meta) = queue.envelope(id) else {
        return;
    };
    let Ok(account) = entry_account(&meta, command_line) else {
        return;
    };
    let mut record = log_record(&account, &entry_envelope(&meta));
    record.errormsg = Some(format!("queue entry {id}: {error}"));
    record.exit = Some(error.exit_code());
    ui.log(&log_target(&account), &record);
}

/// Say that an entry was refused: on stderr always, naming the entry and the refused
/// setting (never its value); in the account's log when the envelope is ours and only
/// a setting was refused, with the account read without the entry's settings (its
/// `logfile` may be the very setting refused).
fn report_refused(refused: &RefusedEntry, ui: &mut Ui) {
    let text = format!(
        "queue entry {} refused and moved to {}, not delivered: {}",
        refused.id,
        refused.path.display(),
        refused.reason
    );
    ui.warn(&text);
    let (Some(meta), Refusal::Setting(_)) = (&refused.meta, &refused.reason) else {
        return;
    };
    if meta.account.is_empty() && meta.config_file.is_none() {
        return; // a command-line account: no log but what the entry itself named
    }
    let opts = match &meta.config_file {
        Some(file) => LoadOptions::with_user_file(file),
        None => LoadOptions::default(),
    };
    let Ok(account) = Config::load(&opts).and_then(|c| c.account(Some(&meta.account))) else {
        return;
    };
    let envelope = Envelope {
        from: meta.envelope_from.clone(),
        recipients: meta.recipients.clone(),
        ..Envelope::default()
    };
    let record = LogRecord {
        errormsg: Some(text),
        exit: Some(ExitCode::Config),
        ..log_record(&account, &envelope)
    };
    ui.log(&log_target(&account), &record);
}

/// Mail the failure notice for a message that will not be delivered, from the null
/// sender so it can never bounce back and loop. If that fails too, the message stays
/// in the failed area, where `rsmtp -bp` shows it: it is never silently dropped.
fn send_failure_notice(queue: &Queue, failed: &FailedEntry, ui: &mut Ui) {
    let Some(to) = notice_recipient(&failed.meta).map(str::to_string) else {
        ui.warn(&format!("{}: no one to notify (null sender)", failed.id));
        return;
    };
    let result = (|| -> Result<(), Failure> {
        let notice = queue.failure_notice(failed)?;
        let account = entry_account(&failed.meta, &[])?;
        let settings = account::session_settings(&account, account::PasswordPrompt::Never)?;
        let envelope = Envelope {
            from: String::new(),
            recipients: vec![to.clone()],
            size: Some(notice.len() as u64),
            ..Envelope::default()
        };
        let (result, record) = attempt(&account, &settings, &envelope, &mut &notice[..], ui);
        ui.log(&log_target(&account), &record);
        result.map(|_| ()).map_err(Failure::from)
    })();
    match result {
        Ok(()) => ui.warn(&format!("{}: failure notice sent to {to}", failed.id)),
        Err(e) => ui.warn(&format!(
            "{}: could not send the failure notice to {to}: {e}",
            failed.id
        )),
    }
}
