//! The queue from the command line: `-q`/`--flush`, `-bp`/`mailq`, delete, retry,
//! purge, and the detached background delivery that `queue always` starts.
//!
//! Delivery of a queued message re-reads the account named in its envelope from the
//! configuration files (the `-C` file given at submission included), so a password
//! or host changed since is honoured, and applies the command-line settings the
//! submission had (`--port`, `--host`, …). Each attempt writes msmtp's log line; only
//! a real delivery logs `exitcode=EX_OK`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use rsmtp_config::{Account, Config, LoadOptions, ResolveOptions};
use rsmtp_queue::{
    notice_recipient, DeliveryResult, EntryId, EntryMeta, FailedEntry, FlushOptions, Mailq, Queue,
};
use rsmtp_smtp::Envelope;

use crate::account::{self, log_target};
use crate::cli::{Invocation, Mode};
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::send::attempt;
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
        let report = queue.flush(options, &mut |meta, message| {
            deliver_entry(meta, message, ui)
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
fn entry_account(meta: &EntryMeta) -> Result<Account, Failure> {
    let overrides = meta.overrides.iter().map(|(c, v)| (c.as_str(), v.as_str()));
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
fn deliver_entry(meta: &EntryMeta, message: &mut dyn std::io::Read, ui: &mut Ui) -> DeliveryResult {
    let account = match entry_account(meta) {
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
        let account = entry_account(&failed.meta)?;
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
        .arg(format!("--queue-dir={}", account.queue_dir().display()));
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
    if let Err(e) = cmd.spawn() {
        ui.warn(&format!(
            "message {id} queued; cannot start background delivery: {e}"
        ));
    }
}
