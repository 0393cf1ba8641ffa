//! The long options of rsmtp's command line that set an account command
//! (`--tls-starttls=off` sets `tls_starttls`), read from the one table of commands
//! ([`COMMAND_DEFS`](crate::command_defs::COMMAND_DEFS)): the parser, the help and the
//! completions take them from [`account_options`], and the argv a background
//! delivery is started with from [`override_args`].

use crate::command_defs::{self, Cli, Replay};

/// A long option that sets an account command, and how its argument behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountOption {
    /// `--tls-starttls`
    pub long: &'static str,
    /// The msmtprc spelling it sets (`tls_starttls`; `keepbcc` for `--keepbcc`).
    pub command: &'static str,
    /// `Some(v)`: the argument is optional and `v` is what a bare `--opt` means.
    pub bare: Option<&'static str>,
    /// The line in `--help` and the completions.
    pub help: &'static str,
    /// Left out of `--help` (an old spelling).
    pub hidden: bool,
}

/// msmtp's long options that change the account, in `--help` order (`--host` is
/// handled apart: it means "use only command-line settings").
pub fn account_options() -> impl Iterator<Item = AccountOption> {
    command_defs::long_options().map(|(d, o)| AccountOption {
        long: o.long,
        command: d.name,
        bare: o.bare,
        help: o.help,
        hidden: o.hidden,
    })
}

/// The command line that reproduces `overrides` (as rsmtp's parser builds them), for
/// a child rsmtp that must deliver with the same settings: each command as the
/// option the table gives it. `queue_dir` is left out: the caller names the queue
/// directory itself; a command the command line cannot set is left out too.
pub fn override_args(overrides: &[(String, String)]) -> Vec<String> {
    let mut args = Vec::with_capacity(overrides.len());
    for (command, value) in overrides {
        if command == "queue_dir" {
            continue;
        }
        match command_defs::lookup(command).map(|d| d.cli) {
            Some(Cli::Long(o)) => args.push(format!("--{}={value}", o.long)),
            Some(Cli::Declared(Replay::Long(long))) => args.push(format!("--{long}={value}")),
            Some(Cli::Declared(Replay::Short(letter))) => {
                args.extend([format!("-{letter}"), value.clone()])
            }
            Some(Cli::None) | None => {}
        }
    }
    args
}
