//! The subcommands, one file each with its own options: the alerting ones — [`send`],
//! [`run`] (its command run by [`child`]), [`check`] — turned into an alert and handed to
//! [`send_alert`](crate::alert::send_alert); [`report`], [`stats`], [`setup`], [`jobs`]
//! (`forget`, `history`) and [`mailx`] (the `mail -s` face). Each returns the exit status
//! to leave with; [`crate::cli`] dispatches to them.
//!
//! Here: the options several share — who gets the mail and through which account
//! ([`MailArgs`]: send, run, check, report) and how repeats are held back
//! ([`DeliveryArgs`]: send, run, check) — and the steps send, run and check share.

pub(crate) mod check;
pub(crate) mod child;
pub(crate) mod jobs;
pub(crate) mod mailx;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod send;
pub(crate) mod setup;
pub(crate) mod stats;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Local};
use clap::Args;
use rsmtp_deliver::ui::Ui;

use crate::alert::{FloodPolicy, Sent, Target};
use crate::context::Context;
use crate::error::Error;
use crate::tail::Tail;

/// Who gets a mail and through which account (shared by send, run, check and report).
#[derive(Debug, Clone, Args)]
pub(crate) struct MailArgs {
    /// Recipient, repeatable or comma-separated (default: `to` from the settings).
    #[arg(long, value_name = "ADDRESS")]
    pub(crate) to: Vec<String>,
    /// Sender, for the From header and the envelope (default: `from` from the settings,
    /// else the msmtprc account's `from`).
    #[arg(long, value_name = "ADDRESS")]
    pub(crate) from: Option<String>,
    /// msmtprc account to send through (default: `default`).
    #[arg(long, value_name = "NAME")]
    pub(crate) account: Option<String>,
    /// msmtprc file, instead of ~/.msmtprc (like msmtp -C); its `logfile` is the mail
    /// log that stats and report count.
    #[arg(long, value_name = "MSMTPRC")]
    pub(crate) config: Option<PathBuf>,
}

impl MailArgs {
    /// The recipients, sender and route these options and the settings give.
    pub(crate) fn target(&self, settings: &crate::settings::Settings) -> Result<Target, Error> {
        Target::resolve(
            &self.to,
            self.from.as_deref(),
            self.account.as_deref(),
            self.config.clone(),
            settings,
        )
    }
}

/// Where alerts go and how repeats are held back (shared by send, run and check).
#[derive(Debug, Clone, Args)]
pub(crate) struct DeliveryArgs {
    #[command(flatten)]
    pub(crate) mail: MailArgs,
    /// Hold identical alerts repeated within this window; 0 disables (default: 1h).
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration)]
    pub(crate) flood_window: Option<Duration>,
    /// Never hold an alert back.
    #[arg(long)]
    pub(crate) no_flood: bool,
    /// Directory of the flood-control state file (default: /var/lib/backup-alert as root,
    /// else ~/.local/state/backup-alert).
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
}

/// The recipients, sender and route, and how repeats are held back, from the delivery
/// options and the settings.
pub(crate) fn target_and_policy(
    d: &DeliveryArgs,
    ctx: &Context,
) -> Result<(Target, FloodPolicy), Error> {
    let target = d.mail.target(&ctx.settings)?;
    let policy = FloodPolicy::resolve(
        d.flood_window,
        d.no_flood,
        d.state_dir.clone(),
        &ctx.settings,
    );
    Ok((target, policy))
}

/// A dead man's switch elsewhere (shared by send, run and check).
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct PingArgs {
    /// A dead man's switch elsewhere (healthchecks.io, Uptime Kuma, Cronitor): ping URL
    /// after success, URL/fail after failure (`run` also pings URL/start before the
    /// command), with the output or message as the body. HTTPS (or HTTP to this machine);
    /// a failed ping is a warning, never the job's status.
    #[arg(long, value_name = "URL", value_parser = crate::alert::ping::PingUrl::parse)]
    pub(crate) ping_url: Option<crate::alert::ping::PingUrl>,
}

impl PingArgs {
    /// Send `ping` with `body` when a URL was given; a ping that fails is a warning.
    pub(crate) fn ping(&self, ping: crate::alert::ping::Ping, body: &str, ui: &mut Ui<'_>) {
        if let Some(url) = &self.ping_url {
            if let Err(e) = url.send(ping, body) {
                ui.warn(&format!("ping not sent: {e}"));
            }
        }
    }

    /// The ping after the job: `URL/fail` when `failed`, else `URL`.
    pub(crate) fn outcome(&self, failed: bool, body: &str, ui: &mut Ui<'_>) {
        use crate::alert::ping::Ping;
        self.ping(if failed { Ping::Fail } else { Ping::Success }, body, ui);
    }
}

/// Say what became of an alert. A held alert is only mentioned on a terminal: under cron,
/// any output becomes a mail, which would defeat flood control.
pub(crate) fn report_sent(sent: &Sent, ui: &mut Ui<'_>) {
    if matches!(sent, Sent::Held { .. }) && !std::io::stderr().is_terminal() {
        return;
    }
    if let Some(text) = sent.describe() {
        ui.warn(&text);
    }
}

/// The title of a log or output tail, in the reader's language.
pub(crate) fn tail_title(what: &str, t: &Tail, lang: crate::lang::Language) -> String {
    lang.tail_title(what, t.lines, t.truncated)
}

/// A file or run time as the alerts show it: local time with its offset.
pub(crate) fn local(t: SystemTime) -> String {
    DateTime::<Local>::from(t)
        .format("%Y-%m-%d %H:%M:%S %z")
        .to_string()
}

/// Rewrite the `metrics_file` of the settings, if there is one. A failure is said on
/// stderr and changes nothing else: the metrics must not cost the alert or the exit status.
pub(crate) fn publish_metrics(
    delivery: &DeliveryArgs,
    policy: &FloodPolicy,
    ctx: &Context,
    ui: &mut Ui<'_>,
) {
    let Some(target) = &ctx.settings.metrics_file else {
        return;
    };
    let log = crate::mail_log::log_path(None, delivery.mail.config.as_deref(), ctx);
    if let Err(e) = crate::metrics::publish(target, policy.state_dir.as_deref(), &log) {
        ui.warn(&format!("metrics not written: {e}"));
    }
}
