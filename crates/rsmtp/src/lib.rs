//! rsmtp as a library: turn a command line (or a [`Submission`]) plus the msmtprc files
//! into a delivered — or durably queued — message, with msmtp's log line and exit codes.
//!
//! The `rsmtp` binary and `backup-alert` both go through this crate, so an alert uses
//! the same config files, accounts, queue and log as any other message.
//!
//! Layers: [`cli`] (what was typed) → [`account`] (msmtprc → resolved account →
//! session settings) → [`send`] (stdin → spool → envelope → session or queue) and
//! [`queue_cmd`] (flush, list) → [`log`] (msmtp's log line). Errors travel as
//! [`failure::Failure`] (a message and an [`ExitCode`]); only [`run_cli`] prints them.

use rsmtp_core::tr;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;

pub mod account;
pub mod attempt;
pub mod background;
pub mod cli;
pub mod core_dumps;
pub mod courier;
pub mod delivery;
pub mod exit;
pub mod failure;
pub mod flush;
pub mod keyring;
pub mod locale;
pub mod log;
pub mod oauth;
pub mod oauth_login;
pub mod prepare;
pub mod queue_cmd;
pub mod queued;
pub mod retrier;
pub mod send;
pub mod smtpd;
pub mod terminal;
pub mod ui;

pub use exit::ExitCode;
pub use failure::Failure;
/// The SMTP layer, for callers that look at a [`SubmitError`]'s typed cause.
pub use rsmtp_smtp as smtp;

use cli::Mode;
use delivery::Delivery;
use ui::Ui;

/// One message to send, as a caller of the delivery path describes it
/// (the same information a sendmail command line carries).
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// `-C FILE`: replaces the user configuration file.
    pub config_file: Option<PathBuf>,
    /// `-a NAME`: the account to use; `None` means `default` (or the one matched by `-f`).
    pub account: Option<String>,
    /// `-f ADDR`: envelope sender.
    pub envelope_from: Option<String>,
    /// `-F NAME`: full name for an added From header.
    pub full_name: Option<String>,
    /// Recipients given on the command line.
    pub recipients: Vec<String>,
    /// `-t`: also take recipients from To/Cc/Bcc.
    pub read_recipients: bool,
    /// Keep the message in the account's queue after a temporary failure even when
    /// the account says `queue off` (what `queue fallback` does), so it is sent by the
    /// next `rsmtp -q` instead of being lost.
    pub queue_on_tempfail: bool,
}

/// What happened to a submitted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server accepted it.
    Delivered,
    /// Kept in the durable queue (fallback after a temporary failure, or `queue always`).
    Queued { id: String },
}

/// A failed submission: the text to show, the exit code to leave with, and the typed
/// error behind them (its `source`).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SubmitError {
    pub code: ExitCode,
    pub message: String,
    #[source]
    pub cause: Option<Box<failure::Cause>>,
}

impl SubmitError {
    pub fn exit_code(&self) -> ExitCode {
        self.code
    }

    /// The SMTP session's error, when that is what failed (a refused certificate,
    /// a refused login …).
    pub fn smtp_error(&self) -> Option<&rsmtp_smtp::SmtpError> {
        match self.cause.as_deref() {
            Some(failure::Cause::Smtp(e)) => Some(e),
            _ => None,
        }
    }
}

impl From<Failure> for SubmitError {
    fn from(f: Failure) -> SubmitError {
        let message = match &f.account {
            Some(account) => tr!(
                "{message} (could not send mail: {account})",
                message = f.message,
                account = account
            ),
            None => f.message,
        };
        SubmitError {
            code: f.code,
            message,
            cause: f.cause,
        }
    }
}

/// Deliver one message read from `message` (raw, LF or CRLF lines).
/// Warnings meant for the user (queued, log not writable) go to `warnings`.
pub fn submit(
    submission: &Submission,
    message: &mut dyn Read,
    warnings: &mut dyn Write,
) -> Result<Outcome, SubmitError> {
    let mut overrides = Vec::new();
    if let Some(name) = &submission.full_name {
        overrides.push(("from_full_name".to_string(), name.clone()));
    }
    let delivery = Delivery {
        config_file: submission.config_file.clone(),
        account: submission.account.clone(),
        envelope_from: submission
            .envelope_from
            .as_deref()
            .map(rsmtp_message::envelope_address),
        full_name: submission.full_name.clone(),
        read_recipients: submission.read_recipients,
        overrides,
        recipients: submission.recipients.clone(),
        queue_on_tempfail: submission.queue_on_tempfail,
        ..Delivery::default()
    };
    // Without -d nothing of the send path reaches stdout but a `logfile -` line, which
    // goes where msmtp would write it.
    let mut out = std::io::stdout();
    let mut ui = Ui::new(&mut out, warnings, false);
    Ok(send::run(&delivery, message, &mut ui)?)
}

/// Run the `rsmtp` command line (sendmail mode, `-q`, `-bp`, …) with these arguments
/// (argv[0] included: it selects `sendmail`/`mailq`/`newaliases` behaviour), on the
/// process's stdin, stdout and stderr.
pub fn run_cli(args: Vec<OsString>) -> ExitCode {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    run_with(args, &mut input, &mut out, &mut err)
}

/// [`run_cli`] with explicit streams (tests, the demo).
pub fn run_with(
    args: Vec<OsString>,
    input: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    let program = cli::program_name(args.first().map(OsString::as_os_str));
    let inv = match cli::parse(args) {
        Ok(inv) => inv,
        Err(e) => {
            let _ = writeln!(err, "{program}: {e}");
            let _ = writeln!(err, "Try '{program} --help' for more information.");
            return ExitCode::Usage;
        }
    };
    let mut ui = Ui::new(out, err, inv.debug).with_program(&program);
    let result = match &inv.mode {
        Mode::Help => {
            ui.print(&cli::help());
            Ok(ExitCode::Ok)
        }
        Mode::Version => {
            ui.print(&version());
            Ok(ExitCode::Ok)
        }
        Mode::NoOp => Ok(ExitCode::Ok),
        Mode::Completions(shell) => {
            ui.print(&cli::completions(shell));
            Ok(ExitCode::Ok)
        }
        Mode::Pretend => pretend(&inv.delivery, &mut ui),
        Mode::ServerInfo => serverinfo(&inv.delivery, &mut ui),
        Mode::Send => send::run(&inv.delivery, input, &mut ui).map(|_| ExitCode::Ok),
        Mode::SmtpSession | Mode::Daemon(_) => smtpd::run(&inv, input, &mut ui),
        Mode::OAuthLogin | Mode::OAuthToken | Mode::OAuthLogout => {
            oauth_login::run(&inv.mode, &inv.delivery, &mut ui)
        }
        _ => queue_cmd::run(&inv, &mut ui),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            ui.warn(&failure.message);
            // msmtp's second line names the account; only a send can "not send mail".
            if let Some(account) = &failure.account {
                match inv.mode {
                    Mode::Send => {
                        ui.warn(&tr!("could not send mail ({account})", account = account))
                    }
                    Mode::ServerInfo => ui.warn(&tr!(
                        "could not get server information ({account})",
                        account = account
                    )),
                    _ => {}
                }
            }
            failure.code
        }
    }
}

fn version() -> String {
    format!(
        "rsmtp version {}\n\
         A sendmail-compatible SMTP client reading msmtp configuration files.\n\
         TLS: rustls (ring), TLS 1.2 minimum. Authentication: {}.\n\
         System configuration file: {}\n",
        env!("CARGO_PKG_VERSION"),
        // From the one list of mechanisms the session can run, so none is left out.
        rsmtp_smtp::Mechanism::ALL
            .iter()
            .map(|m| m.name().to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(", "),
        rsmtp_config::LoadOptions::default()
            .system_file_path()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(none)".into()),
    )
}

/// `-P/--pretend`: which files, which account, every setting (password as `*`).
fn pretend(delivery: &Delivery, ui: &mut Ui) -> Result<ExitCode, Failure> {
    let (config, chosen) = account::load_and_choose(delivery)?;
    ui.print(&account::describe_choice(config.as_ref(), &chosen));
    ui.print(&chosen.account.describe_for_pretend());
    for warning in chosen.account.warnings() {
        ui.print(&format!("warning: {warning}\n"));
    }
    if delivery.read_recipients {
        ui.print("reading recipients from the command line and the mail\n");
    } else {
        ui.print("reading recipients from the command line\n");
    }
    Ok(ExitCode::Ok)
}

/// `-S/--serverinfo`: greeting, capabilities and certificate of the server.
fn serverinfo(delivery: &Delivery, ui: &mut Ui) -> Result<ExitCode, Failure> {
    let (_, chosen) = account::load_and_choose(delivery)?;
    let context = Some(chosen.describe());
    // -S does not authenticate: no password is looked up, run or asked for (msmtp's way).
    let mut account = chosen.account.clone();
    account.auth = rsmtp_config::Auth::Off;
    let settings = account::session_settings(&account, account::PasswordPrompt::Never)
        .map_err(|f| f.with_account(context.clone()))?;
    let info = rsmtp_smtp::server_info(&settings, &mut ui.trace())
        .map_err(|e| Failure::from(e).with_account(context))?;
    ui.print(&info.to_string());
    Ok(ExitCode::Ok)
}
