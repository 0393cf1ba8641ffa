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

use rsmtp_queue::{EntryId, FlushOptions, Mailq, Queue};

use crate::cli::{Invocation, Mode};
use crate::delivery::Delivery;
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::flush::flush_queue;
use crate::queued::{existing_queues, flush_options, queue_dirs};
use crate::retrier;
use crate::ui::Ui;

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
        Mode::QueueFlush => flush(inv, ui, &flush_options(true)).map(|(c, _)| c),
        Mode::QueueFlushDue => flush(inv, ui, &flush_options(false)).map(|(c, _)| c),
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
                    ..flush_options(true)
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
                ..flush_options(true)
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
