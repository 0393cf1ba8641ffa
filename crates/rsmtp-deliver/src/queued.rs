//! Messages in the queue as the delivery path sees them: which queue directories a
//! command line means, keeping a prepared message (with the command-line settings an
//! entry may carry), and reading an entry back as an envelope and a resolved account.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use rsmtp_config::{Account, Config, LoadOptions, ResolveOptions};
use rsmtp_queue::{EntryMeta, FlushOptions, Queue, BACKOFF_BASE};
use rsmtp_smtp::Envelope;

use crate::account;
use crate::delivery::Delivery;
use crate::failure::Failure;
use crate::prepare::Prepared;

/// For tests only: the first retry delay in milliseconds instead of
/// [`BACKOFF_BASE`] (50 s), so that a test of the retrier takes seconds.
pub const FIRST_DELAY_ENV: &str = "RSMTP_RETRY_FIRST_DELAY_MS";

/// The first delay of the backoff ([`FIRST_DELAY_ENV`] or [`BACKOFF_BASE`]).
pub fn first_retry() -> Duration {
    std::env::var(FIRST_DELAY_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map_or(BACKOFF_BASE, Duration::from_millis)
}

/// Flush options: `force` tries every entry now (a person's `-q`), waiting for
/// another flusher to let go of what it holds; otherwise only the due ones, and
/// what another flusher holds is left to it (the timer, the retrier, `-q15m`).
pub fn flush_options(force: bool) -> FlushOptions {
    FlushOptions {
        force,
        first_retry: first_retry(),
        wait_busy: if force {
            rsmtp_queue::PERSON_WAITS
        } else {
            Duration::ZERO
        },
        ..FlushOptions::default()
    }
}

/// The queue directories this command line refers to: `--queue-dir`, else those of
/// the `-a` account, else of every configured account (default directory included).
pub fn queue_dirs(delivery: &Delivery) -> Result<Vec<PathBuf>, Failure> {
    if let Some(dir) = &delivery.queue_dir {
        return Ok(vec![dir.clone()]);
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
pub fn existing_queues(delivery: &Delivery) -> Result<Vec<Queue>, Failure> {
    let mut queues = Vec::new();
    for dir in queue_dirs(delivery)? {
        if dir.is_dir() {
            queues.push(Queue::open(&dir)?);
        }
    }
    Ok(queues)
}

/// The SMTP envelope of a queued message.
pub fn entry_envelope(meta: &EntryMeta) -> Envelope {
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
pub fn entry_account(
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

/// Keep the prepared message in the account's queue.
/// `error`: the attempt's error, and whether it came after the whole message was
/// sent, with no answer (the entry is then marked: the server may have it).
pub fn enqueue(
    delivery: &Delivery,
    prepared: &Prepared,
    error: Option<(&str, bool)>,
) -> Result<Queued, Failure> {
    enqueue_for(delivery, prepared, error, None)
}

/// [`enqueue`] for `recipients` only (those of the envelope when `None`).
pub fn enqueue_for(
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
        meta.record_temp_failure_after(error, now, first_retry());
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
pub struct Queued {
    /// The entry's id.
    pub id: String,
    /// Command-line settings the entry may not carry (`--passwordeval`, `--logfile`):
    /// a later `rsmtp -q` uses the account's own; the submitter is told.
    pub left_out: Vec<String>,
}

impl Queued {
    /// What the submitter should know when settings were left out of the entry.
    pub fn left_out_note(&self) -> Option<String> {
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
