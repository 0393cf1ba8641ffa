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

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use rsmtp_config::{Account, Config, LoadOptions, ResolveOptions};
use rsmtp_queue::{
    notice_recipient, DeliveryResult, EntryId, EntryMeta, FailedEntry, FlushOptions, Mailq, Queue,
    Refusal, RefusedEntry,
};
use rsmtp_smtp::Envelope;

use crate::account::{self, log_target};
use crate::cli::{Invocation, Mode};
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::log::LogRecord;
use crate::send::{attempt, log_record};
use crate::ui::Ui;

/// The queue directories this command line refers to: `--queue-dir`, else those of
/// the `-a` account, else of every configured account (default directory included).
fn queue_dirs(inv: &Invocation) -> Result<Vec<PathBuf>, Failure> {
    if let Some((_, dir)) = inv.overrides.iter().rev().find(|(c, _)| c == "queue_dir") {
        return Ok(vec![rsmtp_config::expand_tilde(dir)]);
    }
    let mut dirs = BTreeSet::new();
    match account::load_config(inv) {
        Ok(Some(config)) => {
            if let Some(name) = &inv.account {
                dirs.insert(config.account(Some(name))?.queue_dir());
            } else {
                dirs.extend(config.accounts.iter().map(Account::queue_dir));
            }
        }
        Ok(None) => {}
        Err(e) if inv.account.is_some() => return Err(e),
        // A broken configuration must not keep queued mail from being listed.
        Err(_) => {}
    }
    if dirs.is_empty() {
        dirs.insert(Account::new("", None).queue_dir());
    }
    Ok(dirs.into_iter().collect())
}

/// Queues that exist (listing or flushing must not create directories).
fn existing_queues(inv: &Invocation) -> Result<Vec<Queue>, Failure> {
    let mut queues = Vec::new();
    for dir in queue_dirs(inv)? {
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
            let queues = existing_queues(inv)?;
            let mut entries = Vec::new();
            for q in &queues {
                entries.extend(q.list()?);
            }
            ui.print(&Mailq(&entries).to_string());
            Ok(ExitCode::Ok)
        }
        Mode::QueueFlush => flush(inv, ui, &FlushOptions::default()),
        Mode::QueueRetry(ids) => {
            let mut code = ExitCode::Ok;
            for id in ids {
                let id = parse_id(id)?;
                let options = FlushOptions {
                    force: true,
                    only: Some(id),
                    ..FlushOptions::default()
                };
                let c = flush(inv, ui, &options)?;
                if c != ExitCode::Ok {
                    code = c;
                }
            }
            Ok(code)
        }
        Mode::DeliverQueued(id) => {
            let options = FlushOptions {
                force: true,
                only: Some(parse_id(id)?),
                ..FlushOptions::default()
            };
            flush(inv, ui, &options)
        }
        Mode::QueueDelete(ids) => {
            for id in ids {
                let id = parse_id(id)?;
                let mut removed = false;
                for q in existing_queues(inv)? {
                    if q.remove(&id).is_ok() {
                        removed = true;
                        break;
                    }
                }
                if !removed {
                    return Err(Failure::new(
                        ExitCode::NoInput,
                        format!("no queued message with id {id}"),
                    ));
                }
                ui.print(&format!("deleted {id}\n"));
            }
            Ok(ExitCode::Ok)
        }
        Mode::QueuePurgeFailed => {
            let mut n = 0;
            for q in existing_queues(inv)? {
                n += q.purge_failed()?;
            }
            ui.print(&format!("purged {n} failed message(s)\n"));
            Ok(ExitCode::Ok)
        }
        _ => Err(Failure::new(ExitCode::Software, "not a queue mode")),
    }
}

/// Deliver what is due in every queue; exit 75 while messages stay queued after a
/// temporary failure, 0 when nothing is left to do. With `options.only`, the entry is
/// looked for in every queue and must be in one of them.
fn flush(inv: &Invocation, ui: &mut Ui, options: &FlushOptions) -> Result<ExitCode, Failure> {
    let mut code = ExitCode::Ok;
    let mut found = options.only.is_none();
    for queue in existing_queues(inv)? {
        if let Some(id) = &options.only {
            if !queue.contains(id) {
                continue;
            }
            found = true;
        }
        // Each entry carries its account's queue_expire; the default covers entries
        // written before it was recorded.
        // Only the background delivery's own command line is applied on top of the
        // entry: a plain `-q` delivers every entry with the settings it was queued with.
        let command_line: &[(String, String)] = match inv.mode {
            Mode::DeliverQueued(_) => &inv.overrides,
            _ => &[],
        };
        let report = queue.flush(options, &mut |meta, message| {
            deliver_entry(meta, command_line, message, ui)
        })?;
        if report.lock_busy {
            ui.warn(&format!(
                "another rsmtp is flushing {}; nothing done",
                queue.dir().display()
            ));
            continue;
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
            send_failure_notice(&queue, f, ui);
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
            code = ExitCode::IoErr;
        }
    }
    if !found {
        if let Some(id) = &options.only {
            return Err(Failure::new(
                ExitCode::NoInput,
                format!("no queued message with id {id}"),
            ));
        }
    }
    Ok(code)
}

/// The account an entry was submitted with, read again from the configuration with
/// the submitting command line's settings applied on top (or built from them alone
/// for a `--host` submission).
fn entry_account(meta: &EntryMeta, command_line: &[(String, String)]) -> Result<Account, Failure> {
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

/// One delivery attempt of a queued message, logged like any other.
fn deliver_entry(
    meta: &EntryMeta,
    command_line: &[(String, String)],
    message: &mut dyn std::io::Read,
    ui: &mut Ui,
) -> DeliveryResult {
    let account = match entry_account(meta, command_line) {
        Ok(a) => a,
        // The configuration may be fixed before the message expires.
        Err(f) => return DeliveryResult::TempFail(f.message),
    };
    let settings = match account::session_settings(&account) {
        Ok(s) => s,
        Err(f) => return DeliveryResult::TempFail(f.message),
    };
    let envelope = Envelope {
        from: meta.envelope_from.clone(),
        recipients: meta.recipients.clone(),
        dsn_notify: meta.dsn_notify.clone(),
        dsn_return: meta.dsn_return.clone(),
        smtputf8: rsmtp_message::needs_smtputf8(&meta.recipients),
        size: meta.size,
        eight_bit: meta.eight_bit,
    };
    let (result, record) = attempt(&account, &settings, &envelope, message, ui);
    ui.warn_all(log_target(&account).write(&record));
    match result {
        Ok(_) => DeliveryResult::Delivered,
        Err(e) if e.is_transient() => DeliveryResult::TempFail(e.to_string()),
        Err(e) => DeliveryResult::PermFail(e.to_string()),
    }
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
    ui.warn_all(log_target(&account).write(&record));
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
        let settings = account::session_settings(&account)?;
        let envelope = Envelope {
            from: String::new(),
            recipients: vec![to.clone()],
            size: Some(notice.len() as u64),
            ..Envelope::default()
        };
        let (result, record) = attempt(&account, &settings, &envelope, &mut &notice[..], ui);
        ui.warn_all(log_target(&account).write(&record));
        result.map(|_| ()).map_err(|e| Failure::from(&e))
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
pub fn spawn_background_delivery(inv: &Invocation, account: &Account, id: &str, ui: &mut Ui) {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            ui.warn(&format!(
                "message {id} queued; cannot start background delivery: {e}"
            ));
            return;
        }
    };
    let mut cmd = Command::new(exe);
    cmd.arg(format!("--deliver-queued={id}"))
        .arg(format!("--queue-dir={}", account.queue_dir().display()))
        .args(crate::cli::override_args(&inv.overrides));
    if let Some(file) = &inv.config_file {
        cmd.arg("-C").arg(file);
    }
    if let Some(name) = &inv.account {
        cmd.arg("-a").arg(name);
    }
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    // The caller may have left descriptors open without close-on-exec (a web
    // server's request pipe at fd 251 was seen): the deliverer would hold them
    // for as long as it retries. Marking them here keeps them out of it; this
    // process is about to exit and starts nothing else that needs them.
    close_fds::set_fds_cloexec(3, &[]);
    if let Err(e) = cmd.spawn() {
        ui.warn(&format!(
            "message {id} queued; cannot start background delivery: {e}"
        ));
    }
}
