//! The `rsmtp` program as a library over [`rsmtp_deliver`]: the command line
//! ([`cli`]: what was typed → an [`Invocation`](cli::Invocation)), the modes that are not
//! a plain delivery (the queue commands, the retrier process, `-bs` and the listener,
//! the OAuth login), and [`run_cli`], the one place that prints an error and picks
//! the exit code. `main.rs` only passes argv in.

use std::ffi::OsString;
use std::io::{Read, Write};

pub mod cli;
pub mod oauth_login;
pub mod queue_cmd;
pub mod retrier;
pub mod smtpd;

// The delivery path's rooms, under the names this crate's modules use for them.
pub use rsmtp_deliver::{
    account, attempt, background, courier, delivery, exit, failure, flush, keyring, locale, log,
    oauth, prepare, queued, send, ui,
};
pub use rsmtp_deliver::{smtp, submit, ExitCode, Failure, Outcome};

use cli::Mode;
use delivery::Delivery;
use ui::{AskPassword, Ui};

/// msmtp's password prompt on the controlling terminal, for sendmail mode: the
/// library asks through this when no password, command, netrc entry or keyring item
/// gives one.
struct TerminalPrompt;

impl AskPassword for TerminalPrompt {
    fn ask(&self, user: &str, host: &str) -> std::io::Result<Option<rsmtp_core::Secret>> {
        rsmtp_core::terminal::ask_password(user, host)
    }
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
    let mut ui = Ui::new(out, err, inv.debug)
        .with_program(&program)
        .with_ask_password(&TerminalPrompt);
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
        Mode::Queue(queue) => queue_cmd::run(queue, &inv.delivery, &mut ui),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            ui.warn(&failure.message);
            // msmtp's second line names the account; only a send can "not send mail".
            let second_line = match inv.mode {
                Mode::Send => failure.could_not_send(),
                Mode::ServerInfo => failure.could_not_get_server_information(),
                _ => None,
            };
            if let Some(line) = second_line {
                ui.warn(&line);
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
