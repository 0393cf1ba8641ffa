//! Sendmail mode: stdin → spool → envelope and final bytes → SMTP session or queue,
//! with msmtp's log line and exit code.
//!
//! The whole message is read into the spool before the network is touched: a caller
//! that dies half way (cronie starts the mailer when the job starts) never produces a
//! half-sent mail, and memory stays flat for a 100 MB body.

use rsmtp_core::tr;
use std::io::Read;

use rsmtp_config::{Account, QueueMode};
use rsmtp_smtp::SmtpError;

use crate::account::{self};
use crate::attempt::{attempt, attempt_wire, log_record};
use crate::background;
use crate::delivery::Delivery;
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::prepare::prepare;
use crate::queued::{enqueue, enqueue_for};
use crate::ui::Ui;
use crate::Outcome;

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
        let taken = ui
            .deliver_later
            .is_some_and(|worker| worker.deliver_later(account, &queued.id));
        if !taken {
            background::spawn_background_delivery(delivery, account, &queued.id, ui);
        }
        return Ok(Outcome::Queued { id: queued.id });
    }
    let settings =
        match account::session_settings(account, account::PasswordPrompt::Ask(ui.ask_password)) {
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
                    account = account.describe()
                ));
                background::after_queueing(delivery, account, ui);
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
            background::after_delivery(
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
                account = account.describe()
            ));
            background::after_queueing(delivery, account, ui);
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
                    account.describe()
                ));
            }
            ui.log(&log, &record);
            if let Some(note) = queued_note {
                ui.warn(&note);
                background::after_queueing(delivery, account, ui);
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
