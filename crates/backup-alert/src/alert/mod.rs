//! The path every alert takes (send, run, check, setup's test): resolve sender and
//! recipients from flags and settings, ask flood control, compose, deliver, record.
//!
//! The rooms of an alert, in the order it passes them: [`flood`] decides whether it goes
//! (its state directory trusted as [`state_trust`] says), [`compose`] writes the mail (on
//! the page [`html_page`] lays out, in the words of [`crate::lang`]),
//! [`deliver`] hands it to rsmtp, and [`journal`] records the run.

pub(crate) mod compose;
pub(crate) mod deliver;
pub(crate) mod flood;
pub(crate) mod html_page;
pub(crate) mod journal;
pub(crate) mod ping;
pub(crate) mod state_trust;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use self::compose::{compose_alert, parse_mailbox, Addresses, Alert, DEFAULT_FROM_NAME};
use self::deliver::Delivered;
use self::flood::{FloodState, StateFile, Verdict};
use crate::error::Error;
use crate::model::{History, Status};
use crate::settings::Settings;

/// Default flood window.
pub(crate) const DEFAULT_FLOOD_WINDOW: Duration = Duration::from_secs(3600);

/// Where an alert goes and through which account.
#[derive(Debug, Clone, Default)]
pub(crate) struct Target {
    pub(crate) addresses: Addresses,
    pub(crate) route: rsmtp_deliver::Delivery,
    /// The language the alert is written in: `language` from the settings (or
    /// `--language`), else the locale's.
    pub(crate) language: crate::lang::Language,
}

impl Target {
    /// Flags first, then settings. `to` empty means "from the settings".
    pub(crate) fn resolve(
        to: &[String],
        from: Option<&str>,
        account: Option<&str>,
        config: Option<PathBuf>,
        settings: &Settings,
    ) -> Result<Target, Error> {
        let to_list: Vec<String> = if to.is_empty() {
            settings.to.clone()
        } else {
            to.iter()
                .flat_map(|t| crate::addresses::split_addresses(t))
                .collect()
        };
        if to_list.is_empty() {
            return Err(Error::Usage(
                "no recipients: pass --to ADDRESS or set `to` in the settings file".into(),
            ));
        }
        let mut addresses = Addresses::default();
        for t in &to_list {
            addresses.to.push(parse_mailbox(t)?);
        }
        let from = from.map(str::to_string).or_else(|| settings.from.clone());
        // A From with a display name: the configured one, else "Backup alerts".
        let display_name = settings
            .from_name
            .clone()
            .unwrap_or_else(|| DEFAULT_FROM_NAME.to_string());
        if let Some(f) = &from {
            let mut mailbox = parse_mailbox(f)?;
            if mailbox.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
                mailbox.name = Some(display_name.clone());
            }
            addresses.from = Some(mailbox);
        }
        let route = deliver::route(
            config.or_else(|| settings.msmtprc.clone()),
            account
                .map(str::to_string)
                .or_else(|| settings.account.clone()),
            addresses.from.as_ref().map(|m| m.email.to_string()),
            // Without a From of ours rsmtp adds the account's, with this name.
            addresses.from.is_none().then_some(display_name),
            addresses.to.iter().map(|m| m.email.to_string()).collect(),
        );
        Ok(Target {
            addresses,
            route,
            language: settings
                .language
                .unwrap_or_else(crate::lang::Language::from_env),
        })
    }
}

/// Flood-control settings for one alert.
#[derive(Debug, Clone)]
pub(crate) struct FloodPolicy {
    /// Zero disables holding (recovery detection still works).
    pub(crate) window: Duration,
    /// `None`: no usable state directory; every alert is sent.
    pub(crate) state_dir: Option<PathBuf>,
}

impl FloodPolicy {
    pub(crate) fn resolve(
        window: Option<Duration>,
        no_flood: bool,
        state_dir: Option<PathBuf>,
        settings: &Settings,
    ) -> FloodPolicy {
        let window = if no_flood {
            Duration::ZERO
        } else {
            window
                .or(settings.flood_window)
                .unwrap_or(DEFAULT_FLOOD_WINDOW)
        };
        let state_dir = state_dir
            .or_else(|| settings.state_dir.clone())
            .or_else(flood::default_state_dir);
        FloodPolicy { window, state_dir }
    }
}

/// What became of an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sent {
    Delivered,
    Queued(String),
    /// Held by flood control: an identical alert went out less than a window ago.
    Held {
        held: u64,
    },
    /// Not a problem and the caller asked for silence (`--only-failure`, `--quiet-ok`).
    Silent,
}

impl Sent {
    /// A one-line description for stderr, or `None` when there is nothing to say.
    pub(crate) fn describe(&self) -> Option<String> {
        match self {
            // rsmtp itself says that a message was queued, and how it will be sent.
            Sent::Delivered | Sent::Silent | Sent::Queued(_) => None,
            Sent::Held { held } => Some(format!(
                "alert held by flood control ({held} repeat(s) since the last one sent)"
            )),
        }
    }
}

/// Send `alert` about `name`, under flood control.
/// `silent_unless_problem`: successes that are not recoveries are not sent.
pub(crate) fn send_alert(
    mut alert: Alert,
    name: &str,
    target: &Target,
    policy: &FloodPolicy,
    silent_unless_problem: bool,
    warnings: &mut dyn Write,
) -> Result<Sent, Error> {
    let now = chrono::Utc::now().timestamp();
    alert.language = target.language;
    let host = alert.host.clone();
    let status = alert.status;
    let measured = alert.measured;
    let mut state_file = match &policy.state_dir {
        Some(dir) => match StateFile::open_locked(dir) {
            Ok(f) => Some(f),
            Err(e) => {
                let _ = writeln!(
                    warnings,
                    "backup-alert: flood control off: cannot use {}: {}",
                    dir.display(),
                    rsmtp_core::strerror(&e)
                );
                None
            }
        },
        None => None,
    };
    let mut state = match state_file.as_mut().map(|f| f.read()) {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            let _ = writeln!(
                warnings,
                "backup-alert: flood state unreadable, starting afresh: {}",
                rsmtp_core::strerror(&e)
            );
            FloodState::default()
        }
        None => FloodState::default(),
    };
    let window = policy.window.as_secs() as i64;
    let verdict = state.decide(&host, name, status, now, window);
    let recovery = matches!(verdict, Verdict::Send { recovery: true, .. });

    let (runs, last_success) = state.history_with(&host, name, status, now);
    let local =
        |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|t| t.with_timezone(&chrono::Local));
    // Without a state file there is no history worth showing, only this run.
    if state_file.is_some() {
        alert.history = Some(History {
            runs: runs.into_iter().map(|(st, _)| st).collect(),
            // The later of the recorded success and a good backup known otherwise.
            last_success: last_success.and_then(local).max(alert.good_backup_at),
        });
    }

    let result = if silent_unless_problem && !status.is_problem() && !recovery {
        Ok(Sent::Silent)
    } else if let Verdict::Hold { held, .. } = verdict {
        Ok(Sent::Held { held })
    } else {
        if recovery {
            let prev = state.last_status(&host, name).unwrap_or(Status::Failure);
            let (streak, since) = state.problem_streak(&host, name);
            let since = since.and_then(local);
            alert.note = Some(target.language.recovery_note(name, streak, since, prev));
            alert.subject = target.language.recovered(&alert.subject);
        }
        if let Some(note) = flood::repeat_note(&verdict) {
            alert.note = Some(match alert.note.take() {
                Some(n) => format!("{n}\n{note}"),
                None => note,
            });
        }
        let bytes = compose_alert(&alert, &target.addresses)?;
        deliver::submit(&target.route, &bytes, warnings).map(|d| match d {
            Delivered::Sent => Sent::Delivered,
            Delivered::Queued(id) => Sent::Queued(id),
        })
    };
    let sent = matches!(result, Ok(Sent::Delivered | Sent::Queued(_)));
    let record_verdict = match (&result, &verdict) {
        // A silent success is recorded as "seen", not as a held repeat.
        (Ok(Sent::Silent), _) => Verdict::Send {
            recovery: false,
            held: 0,
            held_since: None,
        },
        _ => verdict,
    };
    state.record(&host, name, status, now, &record_verdict, sent);
    state.measure(&host, name, measured);
    if let Some(f) = state_file.as_mut() {
        if let Err(e) = f.write(&state) {
            let _ = writeln!(
                warnings,
                "backup-alert: cannot save flood state: {}",
                rsmtp_core::strerror(&e)
            );
        }
        // The run journal, for `report`: appended while the state file's lock is held.
        if let Some(dir) = &policy.state_dir {
            let entry = crate::alert::journal::Entry {
                at: now,
                host: host.clone(),
                job: name.to_string(),
                status,
                measurement: measured,
            };
            if let Err(e) = crate::alert::journal::append(dir, &entry) {
                let _ = writeln!(
                    warnings,
                    "backup-alert: cannot add to the run journal: {}",
                    rsmtp_core::strerror(&e)
                );
            }
        }
    }
    result
}
