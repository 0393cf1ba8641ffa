//! The queue from the command line: `-q`/`--flush`, `-bp`/`mailq`, delete, retry,
//! purge, and the detached background delivery that `queue always` starts.
//!
//! Delivery of a queued message re-reads the account named in its envelope from the
//! configuration files (the `-C` file given at submission included), so a password
//! or host changed since is honoured, and applies the command-line settings the
//! submission had (`--port`, `--host`, …). Each attempt writes msmtp's log line; only
//! a real delivery logs `exitcode=EX_OK`.
//!
//! Trust: an entry is a set of instructions carried out with the flusher's rights
//! (often root's, from cron). rsmtp-queue acts only on queue directories and entries
//! the running user (or root) owns and nobody else can write, refuses entries whose
//! `-C` file is not ours, and never takes from an entry a setting that runs a command,
//! names a file or weakens the server check (`passwordeval`, `logfile`, `tls off`, …;
//! see rsmtp-queue's `overrides`). Refused entries are moved to `failed/` with a
//! warning and, when their account can be trusted, a log line; they get no failure
//! notice, since their envelope is not trusted to say whom to mail.
//!
//! `--deliver-queued` (the background delivery `queue always` starts) applies its own
//! command line on top of the entry's settings: the submitter passes its whole command
//! line again, so a `--passwordeval` that the entry could not keep still works for
//! that first attempt.

use rsmtp_core::tr;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use rsmtp_config::{Account, Config, LoadOptions, ResolveOptions};
use rsmtp_queue::{
    notice_recipient, EntryId, EntryMeta, FailedEntry, FlushOptions, Mailq, Queue, Refusal,
    RefusedEntry,
};
use rsmtp_smtp::Envelope;

use crate::account::{self, log_target};
use crate::cli::{Delivery, Invocation, Mode};
use crate::courier::SessionCourier;
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::log::LogRecord;
use crate::retrier;
use crate::send::{attempt, log_record};
use crate::ui::Ui;

/// The queue directories this command line refers to: `--queue-dir`, else those of
/// the `-a` account, else of every configured account (default directory included).
pub(crate) fn queue_dirs(delivery: &Delivery) -> Result<Vec<PathBuf>, Failure> {
    if let Some((_, dir)) = delivery
        .overrides
        .iter()
        .rev()
        .find(|(c, _)| c == "queue_dir")
    {
        return Ok(vec![rsmtp_config::expand_tilde(dir)]);
    }
    let mut dirs = BTreeSet::new();
    match account::load_config(delivery) {
        Ok(Some(config)) => {
            if let Some(name) = &delivery.account {
                dirs.insert(config.account(Some(name))?.queue_dir());
            } else {
                dirs.extend(config.accounts.iter().map(Account::queue_dir));
            }
        }
        Ok(None) => {}
        Err(e) if delivery.account.is_some() => return Err(e),
        // A broken configuration must not keep queued mail from being listed.
        Err(_) => {}
    }
    if dirs.is_empty() {
        dirs.insert(Account::new("", None).queue_dir());
    }
    Ok(dirs.into_iter().collect())
}

/// Queues that exist (listing or flushing must not create directories).
pub(crate) fn existing_queues(delivery: &Delivery) -> Result<Vec<Queue>, Failure> {
    let mut queues = Vec::new();
    for dir in queue_dirs(delivery)? {
        if dir.is_dir() {
            queues.push(Queue::open(&dir)?);
        }
    }
    Ok(queues)
}

fn parse_id(id: &str) -> Result<EntryId, Failure> {
    EntryId::parse(id).map_err(|e| Failure::usage(e.to_string()))
}

/// Run a queue mode.
pub fn run(inv: &Invocation, ui: &mut Ui) -> Result<ExitCode, Failure> {
    match &inv.mode {
        Mode::QueueList => {
            let queues = existing_queues(&inv.delivery)?;
            let mut entries = Vec::new();
            for q in &queues {
                entries.extend(q.list()?);
            }
            ui.print(&Mailq(&entries).to_string());
            Ok(ExitCode::Ok)
        }
        Mode::QueueFlush => flush(inv, ui, &retrier::flush_options(true)).map(|(c, _)| c),
        Mode::QueueFlushDue => flush(inv, ui, &retrier::flush_options(false)).map(|(c, _)| c),
        Mode::QueueRun(every) => retrier::run_every(&inv.delivery, ui, *every),
        Mode::QueueCheck(age) => check(&inv.delivery, ui, *age),
        Mode::QueueRetrier(servers_back) => {
            retrier::detach();
            retrier::run(&inv.delivery, ui, servers_back)
        }
        Mode::QueueRetry(ids) => {
            let mut code = ExitCode::Ok;
            for id in ids {
                let id = parse_id(id)?;
                let options = FlushOptions {
                    only: Some(id),
                    ..retrier::flush_options(true)
                };
                let (c, _) = flush(inv, ui, &options)?;
                if c != ExitCode::Ok {
                    code = c;
                }
            }
            Ok(code)
        }
        Mode::DeliverQueued(id) => {
            retrier::detach();
            let options = FlushOptions {
                only: Some(parse_id(id)?),
                ..retrier::flush_options(true)
            };
            let (code, back) = flush(inv, ui, &options)?;
            // Then this process is the queue's retrier (unless one runs already):
            // the message retries by itself, and a delivery brings the others along.
            retrier::run(&inv.delivery, ui, &back)?;
            Ok(code)
        }
        Mode::QueueDelete(ids) => {
            for id in ids {
                let id = parse_id(id)?;
                let mut removed = false;
                for q in existing_queues(&inv.delivery)? {
                    if q.remove(&id).is_ok() {
                        removed = true;
                        break;
                    }
                }
                if !removed {
                    return Err(Failure::new(
                        ExitCode::NoInput,
                        tr!("no queued message with id {id}", id = id),
                    ));
                }
                ui.print(&format!("deleted {id}\n"));
            }
            Ok(ExitCode::Ok)
        }
        Mode::QueuePurgeFailed => {
            let mut n = 0;
            for q in existing_queues(&inv.delivery)? {
                n += q.purge_failed()?;
            }
            ui.print(&format!("purged {n} failed message(s)\n"));
            Ok(ExitCode::Ok)
        }
        _ => Err(Failure::new(ExitCode::Software, "not a queue mode")),
    }
}

/// Deliver what is due in every queue (everything, with `options.force`); exit 75
/// while messages stay queued after a temporary failure, 0 when nothing is left to
/// do. With `options.only`, the entry is looked for in every queue and must be in one
/// of them. Returns the servers that accepted a message.
pub(crate) fn flush(
    inv: &Invocation,
    ui: &mut Ui,
    options: &FlushOptions,
) -> Result<(ExitCode, Vec<String>), Failure> {
    let mut code = ExitCode::Ok;
    let mut back = Vec::new();
    let mut found = options.only.is_none();
    for queue in existing_queues(&inv.delivery)? {
        if let Some(id) = &options.only {
            if !queue.contains(id) {
                continue;
            }
            found = true;
        }
        // Only the background delivery's own command line is applied on top of the
        // entry: a plain `-q` delivers every entry with the settings it was queued with.
        let command_line: &[(String, String)] = match inv.mode {
            Mode::DeliverQueued(_) => &inv.delivery.overrides,
            _ => &[],
        };
        let pass = flush_queue(&queue, command_line, ui, options, &[], None)?;
        if pass.code != ExitCode::Ok && code != ExitCode::TempFail {
            code = pass.code;
        }
        back.extend(pass.back);
    }
    if !found {
        if let Some(id) = &options.only {
            return Err(Failure::new(
                ExitCode::NoInput,
                tr!("no queued message with id {id}", id = id),
            ));
        }
    }
    Ok((code, back))
}

/// What one pass over one queue did.
pub(crate) struct Pass {
    pub(crate) code: ExitCode,
    /// Another flusher held the queue lock: nothing was done.
    pub(crate) lock_busy: bool,
    /// Servers (`host:port`) that accepted a message.
    pub(crate) back: Vec<String>,
}

/// One pass over `queue` through a [`SessionCourier`]: entries already known to
/// wait for a server in `servers_back` go whatever their backoff; `stop` ends the
/// pass after the message in flight.
pub(crate) fn flush_queue(
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

/// `--queue-check[=AGE]`: one line per problem on stdout — a message waiting longer
/// than `age`, a message in the failed area — and exit 1 if there is any, for a
/// Docker `HEALTHCHECK` or a Nagios/monit check. A queue that cannot be read is a
/// problem too (exit 1 with the reason).
fn check(delivery: &Delivery, ui: &mut Ui, age: std::time::Duration) -> Result<ExitCode, Failure> {
    let mut problems = Vec::new();
    for dir in queue_dirs(delivery)? {
        if !dir.is_dir() {
            continue;
        }
        let entries = match Queue::open(&dir).and_then(|q| q.list()) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(format!("{}: {e}", dir.display()));
                continue;
            }
        };
        for e in entries {
            let waited = rsmtp_queue::describe_age(e.age);
            let error = e.last_error.as_deref().unwrap_or("not tried yet");
            if e.failed {
                problems.push(format!(
                    "{} failed: {} to {} ({error}); see rsmtp -bp",
                    e.id,
                    show_sender(&e.sender),
                    e.recipients.join(", ")
                ));
            } else if e.age > age {
                let attempts = match e.attempts {
                    1 => "1 attempt".to_string(),
                    n => format!("{n} attempts"),
                };
                problems.push(format!(
                    "{} waiting for {waited}: {} to {} ({attempts}; {error})",
                    e.id,
                    show_sender(&e.sender),
                    e.recipients.join(", "),
                ));
            }
        }
    }
    for p in &problems {
        ui.print(&format!("{p}\n"));
    }
    Ok(if problems.is_empty() {
        ExitCode::Ok
    } else {
        ExitCode::QueueProblem
    })
}

fn show_sender(sender: &str) -> &str {
    if sender.is_empty() {
        "<>"
    } else {
        sender
    }
}

/// The SMTP envelope of a queued message.
pub(crate) fn entry_envelope(meta: &EntryMeta) -> Envelope {
    Envelope {
        from: meta.envelope_from.clone(),
        recipients: meta.recipients.clone(),
        dsn_notify: meta.dsn_notify.clone(),
        dsn_return: meta.dsn_return.clone(),
        smtputf8: rsmtp_message::needs_smtputf8(&meta.recipients),
        size: meta.size,
        eight_bit: meta.eight_bit,
    }
}

/// The account an entry was submitted with, read again from the configuration with
/// the submitting command line's settings applied on top (or built from them alone
/// for a `--host` submission).
pub(crate) fn entry_account(
    meta: &EntryMeta,
    command_line: &[(String, String)],
) -> Result<Account, Failure> {
    let overrides = meta
        .overrides
        .iter()
        .chain(command_line)
        .map(|(c, v)| (c.as_str(), v.as_str()));
    let command_line_only =
        meta.account.is_empty() && meta.overrides.iter().any(|(c, _)| c == "host");
    let mut account = if command_line_only {
        Account::from_command_line(overrides)?
    } else {
        let opts = match &meta.config_file {
            Some(file) => LoadOptions::with_user_file(file),
            None => LoadOptions::default(),
        };
        let mut account = Config::load(&opts)?.account(Some(&meta.account))?;
        for (command, value) in overrides {
            account.apply_override(command, value)?;
        }
        account
    };
    account.resolve(&ResolveOptions::default())?;
    Ok(account)
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

/// `queue always`: deliver in a detached process so the caller (a web request, a cron
/// job) never waits for the network. If the process cannot be started, the message is
/// still queued and the next `rsmtp -q` sends it.
pub fn spawn_background_delivery(delivery: &Delivery, account: &Account, id: &str, ui: &mut Ui) {
    let exe = match retrier::rsmtp_exe() {
        Ok(e) => e,
        Err(e) => {
            ui.warn(&format!(
                "message {id} queued; cannot start background delivery: {e}"
            ));
            return;
        }
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg(format!("--deliver-queued={id}"))
        .arg(format!("--queue-dir={}", account.queue_dir().display()))
        .args(crate::cli::override_args(&delivery.overrides));
    if let Some(file) = &delivery.config_file {
        cmd.arg("-C").arg(file);
    }
    if let Some(name) = &delivery.account {
        cmd.arg("-a").arg(name);
    }
    if let Err(e) = retrier::spawn_detached(cmd) {
        ui.warn(&format!(
            "message {id} queued; cannot start background delivery: {e}"
        ));
    }
}
