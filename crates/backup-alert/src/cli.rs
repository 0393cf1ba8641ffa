//! The subcommand command line (clap derive; doc comments are the help text), and the one
//! place that prints errors: `backup-alert: <message>` on stderr, exit status from the
//! error. A usage error is 64, as for sendmail.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands::check::CheckArgs;
use crate::commands::run::RunArgs;
use crate::commands::send::SendArgs;
use crate::commands::setup::SetupArgs;
use crate::commands::stats::StatsArgs;
use crate::context::Context;
use crate::error::Error;
use rsmtp_deliver::ui::Ui;

/// Mail the result of a backup: send an alert, wrap a command, check a backup's age,
/// configure msmtp, count sent mail. Also a drop-in for `mail -s` and for sendmail.
///
/// Defaults are given in each option's text as "(default: …)".
#[derive(Debug, Parser)]
#[command(
    name = "backup-alert",
    version,
    override_usage = "backup-alert [--settings FILE] <COMMAND> [OPTIONS]\n       \
                      backup-alert -s SUBJECT [mail options] ADDRESS...   (mail mode, as mail/mailx)\n       \
                      backup-alert -t [sendmail options]                  (sendmail mode)"
)]
pub(crate) struct Cli {
    /// backup-alert settings file, instead of ~/.config/backup-alert/config
    /// (/etc/backup-alert.conf is still read first).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) settings: Option<PathBuf>,
    /// Language of the alerts: en, fr or ja (default: `language` from the settings, else
    /// the locale, LC_ALL / LC_MESSAGES / LANG, else English).
    #[arg(long, global = true, value_name = "LANG", value_parser = crate::lang::Language::parse_setting)]
    pub(crate) language: Option<crate::lang::Language>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Send one alert.
    Send(SendArgs),
    /// Run a command and mail how it ended.
    Run(RunArgs),
    /// Mail a warning when the newest backup file (or borg/restic archive) is too old, too
    /// small or missing (and, with --verify, a failure when it is damaged).
    Check(CheckArgs),
    /// Write an msmtprc for Gmail, Outlook, Yahoo or another server, and send a test alert.
    Setup(SetupArgs),
    /// Count sent and failed mail in an msmtp-format log.
    Stats(StatsArgs),
    /// Mail (or print) a digest per host: every job's runs, failures, durations and sizes
    /// over a period, with a chart, and the mail log's counts.
    Report(crate::commands::report::ReportArgs),
    /// Remove a retired job from the state file, the run journal, the metrics and the
    /// digest.
    Forget(crate::commands::jobs::JobArgs),
    /// List a job's recorded results (time, status, exit status, duration, size).
    History(crate::commands::jobs::HistoryArgs),
    /// Print a shell completion script (bash, zsh or fish) generated from these options.
    Completions {
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
}

/// Parse and run the subcommand line, talking to the user through `ui`.
pub(crate) fn main(args: Vec<OsString>, ui: &mut Ui<'_>) -> u8 {
    let subcommand = subcommand_of(&args);
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            return 0;
        }
        Err(e) => {
            let mut line = rsmtp_core::cli::clap_error_line(&e);
            if let Some(s) = other_spelling(&e, subcommand.as_deref()) {
                line = format!("{line} (did you mean '{s}'?)");
            }
            ui.warn(&format!("{line} (see backup-alert --help)"));
            return rsmtp_deliver::ExitCode::Usage as u8;
        }
    };
    let result = dispatch(cli, ui);
    finish(result, ui)
}

/// Options one subcommand has under another's name: the same wish typed on the wrong
/// subcommand, which clap's similarity search cannot suggest. (subcommand, typed, meant)
const OTHER_SPELLINGS: &[(&str, &str, &str)] = &[
    ("run", "--quiet-ok", "--only-failure"),
    ("run", "--quiet", "--only-failure"),
    ("check", "--only-failure", "--quiet-ok"),
    ("check", "--only-failures", "--quiet-ok"),
    ("send", "--log-file", "--log"),
];

/// The subcommand word of a command line (the first known subcommand name), if any.
fn subcommand_of(args: &[OsString]) -> Option<String> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .filter_map(|a| a.to_str())
        .find(|a| cmd.find_subcommand(a).is_some())
        .map(str::to_string)
}

/// The suggestion for an unknown option clap found nothing similar to.
fn other_spelling(e: &clap::Error, subcommand: Option<&str>) -> Option<&'static str> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument || e.get(ContextKind::SuggestedArg).is_some() {
        return None;
    }
    let Some(ContextValue::String(typed)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let typed = typed.split('=').next().unwrap_or(typed);
    OTHER_SPELLINGS
        .iter()
        .find(|(sub, t, _)| Some(*sub) == subcommand && *t == typed)
        .map(|(_, _, meant)| *meant)
}

fn dispatch(cli: Cli, ui: &mut Ui<'_>) -> Result<u8, Error> {
    if let Command::Completions { shell } = &cli.command {
        print_completions(shell, ui);
        return Ok(0);
    }
    // `setup` may be the one creating the --settings file.
    let read_settings = match (&cli.command, &cli.settings) {
        (Command::Setup(_), Some(p)) if !p.exists() => None,
        (_, s) => s.as_deref(),
    };
    let mut ctx = Context::load(read_settings)?;
    if let Some(language) = cli.language {
        ctx.settings.language = Some(language);
    }
    match cli.command {
        Command::Send(a) => crate::commands::send::send(a, &ctx, ui),
        Command::Run(a) => crate::commands::run::run(a, &ctx, ui),
        Command::Check(a) => crate::commands::check::check(a, &ctx, ui),
        Command::Setup(a) => crate::commands::setup::main(a, &ctx, cli.settings.as_deref(), ui),
        Command::Stats(a) => crate::commands::stats::main(a, &ctx, ui),
        Command::Report(a) => crate::commands::report::main(a, &ctx, ui),
        Command::Forget(a) => crate::commands::jobs::forget(a, &ctx, ui),
        Command::History(a) => crate::commands::jobs::history(a, &ctx, ui),
        Command::Completions { .. } => Ok(0),
    }
}

fn print_completions(shell: &str, ui: &mut Ui<'_>) {
    use clap::CommandFactory;
    let script = rsmtp_core::cli::completion_script(shell, &mut Cli::command(), "backup-alert");
    ui.print(&script);
}

/// Print an error the house way and turn the result into an exit status.
pub(crate) fn finish(result: Result<u8, Error>, ui: &mut Ui<'_>) -> u8 {
    match result {
        Ok(code) => code,
        Err(e) => {
            ui.warn(&e.to_string());
            e.exit_code().code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(args)
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn run_takes_the_command_after_double_dash() {
        let c = parse(&[
            "backup-alert",
            "run",
            "--name",
            "db",
            "--timeout",
            "2h",
            "--",
            "pg_dump",
            "-Fc",
            "db",
        ])
        .unwrap();
        let Command::Run(r) = c.command else { panic!() };
        assert_eq!(r.command, vec!["pg_dump", "-Fc", "db"]);
        assert_eq!(r.timeout, Some(Duration::from_secs(7200)));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        assert!(parse(&[
            "backup-alert",
            "send",
            "--status",
            "great",
            "--subject",
            "s"
        ])
        .is_err());
        assert!(parse(&["backup-alert", "check", "--path", "/b", "--max-age", "soon"]).is_err());
        assert!(parse(&[
            "backup-alert",
            "send",
            "--status",
            "success",
            "--subject",
            "s",
            "--body",
            "b",
            "--body-file",
            "f"
        ])
        .is_err());
        assert!(parse(&[
            "backup-alert",
            "setup",
            "--password-stdin",
            "--password-file",
            "f"
        ])
        .is_err());
    }

    /// Every option of every subcommand must be in man/backup-alert.1 (roff writes `-`
    /// as `\-`).
    #[test]
    fn every_flag_is_in_the_man_page() {
        use clap::CommandFactory;
        let man = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../man/backup-alert.1"
        ))
        .expect("man/backup-alert.1")
        .replace("\\-", "-");
        let root = Cli::command();
        let mut missing = Vec::new();
        let mut commands = vec![root.clone()];
        commands.extend(root.get_subcommands().cloned());
        for cmd in &commands {
            let name = cmd.get_name().to_string();
            if !man.contains(&name) {
                missing.push(format!("subcommand {name}"));
            }
            for arg in cmd.get_arguments() {
                if let Some(long) = arg.get_long() {
                    if !["help", "version"].contains(&long) && !man.contains(&format!("--{long}")) {
                        missing.push(format!("{name} --{long}"));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "missing from man/backup-alert.1: {missing:?}"
        );
    }
}
