//! backup-alert: mail the result of a backup — sent, run, checked or configured from a
//! cron line — through rsmtp's delivery path (same msmtprc, queue and log).
//!
//! [`main`] is the whole program; `main.rs` only passes argv in and the exit status out.
//! The rooms, from the top floor down (imports only point down):
//!
//! - [`mode`] decides from argv whether this is a subcommand, a `mail -s` line or a
//!   sendmail line; [`cli`] parses the subcommand line and dispatches, and is the one place
//!   that prints an error.
//! - [`commands`]: one file per subcommand with its own options — `send`, `run` (and the
//!   `child` it wraps), `check`, `report`, `stats`, `setup`, `jobs` (`forget`, `history`),
//!   `mailx` — plus the options and steps several share.
//! - [`checks`]: what `check` looks at — the newest file, a borg/restic repository, file
//!   counts, archive integrity, checksum manifests.
//! - [`alert`]: the path of one alert — flood control, composition (the HTML page),
//!   delivery through rsmtp, the run journal.
//! - [`diagnosis`]: reading a failed job — what its exit status means, which line states
//!   the cause, what to do about it.
//! - [`setup`]: msmtprc files read, written and edited, and the terminal the wizard asks on.
//! - [`mail_log`]: msmtp's and Postfix's logs read and counted, for `stats`, `report` and
//!   [`metrics`] (node_exporter's textfile format).
//! - [`lang`]: every sentence a reader sees, in English, French or Japanese — the alerts',
//!   their detail lines, the digest's.
//! - At the bottom: [`context`] (settings and host name), [`settings`], [`model`] (Status,
//!   History, Measurement), [`error`], and small tools — [`units`], [`tail`], [`input`],
//!   [`addresses`], [`atomic_write`].

#![warn(missing_docs)]
#![allow(
    rustdoc::private_intra_doc_links,
    reason = "the overview maps the crate's own rooms, which are pub(crate): read it with cargo doc --document-private-items"
)]

pub(crate) mod addresses;
pub(crate) mod alert;
pub(crate) mod atomic_write;
pub(crate) mod checks;
pub(crate) mod cli;
pub(crate) mod commands;
pub(crate) mod context;
pub(crate) mod diagnosis;
pub(crate) mod error;
pub(crate) mod input;
pub mod lang;
pub(crate) mod mail_log;
pub(crate) mod metrics;
pub(crate) mod mode;
pub(crate) mod model;
pub mod settings;
pub(crate) mod setup;
pub(crate) mod tail;
pub(crate) mod units;

use std::ffi::OsString;

pub use error::Error;

/// Run backup-alert with this argv (argv[0] included) and return the exit status. All
/// output goes through one [`Ui`](rsmtp_deliver::ui::Ui) on the process's stdout and stderr
/// (messages start `backup-alert: `).
pub fn main(args: Vec<OsString>) -> u8 {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let mut ui = rsmtp_deliver::ui::Ui::new(&mut out, &mut err, false).with_program("backup-alert");
    match mode::detect(&args) {
        mode::Mode::Sendmail => sendmail(&args, &mut ui),
        mode::Mode::Mail => {
            let result = commands::mailx::main(&args[1..], &mut ui);
            cli::finish(result, &mut ui)
        }
        mode::Mode::Commands => cli::main(args, &mut ui),
    }
}

/// Sendmail mode: the whole command line is rsmtp's, so rsmtp runs it — this process
/// becomes the `rsmtp` next to this binary (else the one on `PATH`), with argv[0] kept
/// (it decides `sendmail`/`mailq` behaviour and the name messages start with) and
/// stdin untouched. Only if that cannot start: exit 75, so the caller keeps the
/// message.
fn sendmail(args: &[OsString], ui: &mut rsmtp_deliver::ui::Ui<'_>) -> u8 {
    use std::os::unix::process::CommandExt;
    let exe = match rsmtp_deliver::background::rsmtp_exe() {
        Ok(exe) => exe,
        Err(e) => {
            ui.warn(&format!("cannot find rsmtp: {e}"));
            return rsmtp_deliver::ExitCode::TempFail as u8;
        }
    };
    let mut command = std::process::Command::new(&exe);
    if let Some(argv0) = args.first() {
        command.arg0(argv0);
    }
    let e = command.args(args.iter().skip(1)).exec();
    ui.warn(&format!("cannot run {}: {e}", exe.display()));
    rsmtp_deliver::ExitCode::TempFail as u8
}
