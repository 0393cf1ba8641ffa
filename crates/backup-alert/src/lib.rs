//! backup-alert: mail the result of a backup — sent, run, checked or configured from a
//! cron line — through rsmtp's delivery path (same msmtprc, queue and log).
//!
//! [`main`] is the whole program; `main.rs` only passes argv in and the exit status out.
//! [`mode`] decides from argv whether this is a subcommand, a `mail -s` line or a sendmail
//! line; the subcommands live in [`cli`] (arguments) and [`commands`] (send/run/check),
//! with [`setup`], [`stats`] and [`mailx`] for the others; `check --verify` reads archives
//! with [`verify`] and checksum files with [`manifest`]. Composition is [`compose`] (on
//! the page [`html_page`] lays out), delivery [`deliver`], flood control [`flood`] (its
//! directory trusted as [`state_trust`] says), settings [`settings`]. A failure's cause
//! line is found by [`error_line`], what to do about it by [`advice`], what an exit
//! status means by [`exit_codes`]; `forget` and `history` are [`jobs`]; `stats` reads
//! Postfix's log with [`postfix_log`]; the words of an alert are in [`lang`] and
//! [`lang_details`].

pub mod addresses;
pub mod advice;
pub mod alert;
pub mod args;
pub mod atomic_write;
pub mod check;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod context;
pub mod deliver;
pub mod error;
pub mod error_line;
pub mod exit_codes;
pub mod file_count;
pub mod flood;
pub mod glob;
pub mod html_page;
pub mod input;
pub mod integrity;
pub mod jobs;
pub mod journal;
pub mod lang;
pub mod lang_details;
pub mod mail_log;
pub mod mailx;
pub mod manifest;
pub mod metrics;
pub mod mode;
pub mod model;
pub mod msmtprc;
pub mod msmtprc_edit;
pub mod report;
pub mod report_lang;
pub mod repository;
pub mod run;
pub mod settings;
pub mod setup;
pub mod state_trust;
pub mod stats;
pub mod tail;
pub mod terminal;
pub mod units;
pub mod verify;

use std::ffi::OsString;

pub use error::Error;

/// Run backup-alert with this argv (argv[0] included) and return the exit status. All
/// output goes through one [`Ui`](rsmtp::ui::Ui) on the process's stdout and stderr
/// (messages start `backup-alert: `).
pub fn main(args: Vec<OsString>) -> u8 {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let mut ui = rsmtp::ui::Ui::new(&mut out, &mut err, false).with_program("backup-alert");
    match mode::detect(&args) {
        mode::Mode::Sendmail => rsmtp::run_cli(args) as u8,
        mode::Mode::Mail => {
            let result = mailx::main(&args[1..], &mut ui);
            cli::finish(result, &mut ui)
        }
        mode::Mode::Commands => cli::main(args, &mut ui),
    }
}
