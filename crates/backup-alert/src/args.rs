//! The command-line options several subcommands share: who gets the mail and through
//! which account ([`MailArgs`]: send, run, check, report), and how repeats are held back
//! ([`DeliveryArgs`]: send, run, check). Each subcommand's own options live with it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::error::Error;

/// Who gets a mail and through which account (shared by send, run, check and report).
#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// Recipient, repeatable or comma-separated (default: `to` from the settings).
    #[arg(long, value_name = "ADDRESS")]
    pub to: Vec<String>,
    /// Sender, for the From header and the envelope (default: `from` from the settings,
    /// else the msmtprc account's `from`).
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<String>,
    /// msmtprc account to send through (default: `default`).
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// msmtprc file, instead of ~/.msmtprc (like msmtp -C); its `logfile` is the mail
    /// log that stats and report count.
    #[arg(long, value_name = "MSMTPRC")]
    pub config: Option<PathBuf>,
}

impl MailArgs {
    /// The recipients, sender and route these options and the settings give.
    pub fn target(
        &self,
        settings: &crate::settings::Settings,
    ) -> Result<crate::alert::Target, Error> {
        crate::alert::Target::resolve(
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
pub struct DeliveryArgs {
    #[command(flatten)]
    pub mail: MailArgs,
    /// Hold identical alerts repeated within this window; 0 disables (default: 1h).
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration)]
    pub flood_window: Option<Duration>,
    /// Never hold an alert back.
    #[arg(long)]
    pub no_flood: bool,
    /// Directory of the flood-control state file (default: /var/lib/backup-alert as root,
    /// else ~/.local/state/backup-alert).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}
