//! Reads one msmtprc file into its accounts, following msmtp's
//! `read_conffile()`: `defaults` starts the section whose settings every
//! *later* account starts from; `account NAME [: PARENT, …]` starts an account
//! as a copy of the current defaults, then applies what each named parent (of
//! the same file, defined earlier) set explicitly, then its own lines; a
//! setting before any `account`/`defaults` line creates an account named
//! `default` (msmtp 1.2 compatibility); `eval CMD` runs CMD and parses the first
//! line it prints as if it stood in the file.

use rsmtp_core::tr;
use std::path::Path;

use crate::account::Account;
use crate::error::{ConfigError, Source};
use crate::lexer::split_line;
use crate::password::{eval_limit, run_first_line, EvalFailure};

/// The accounts of one file, in file order.
#[derive(Debug, Clone)]
pub(crate) struct ParsedFile {
    pub accounts: Vec<Account>,
    /// A literal `password` line (not from `eval`) was seen: the permission
    /// rule applies to this file.
    pub contains_secrets: bool,
}

enum Section {
    None,
    Defaults,
    Account(usize),
}

/// Parse the text of `path`.
pub(crate) fn parse(text: &str, path: &Path) -> Result<ParsedFile, ConfigError> {
    let mut defaults = Account::new("", None);
    let mut accounts: Vec<Account> = Vec::new();
    let mut section = Section::None;
    let mut contains_secrets = false;

    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let at = Source::file(path, index + 1);
        let Some(mut line) = split_line(raw) else {
            continue;
        };
        let mut from_eval = false;
        if line.command == "eval" {
            if line.argument.is_empty() {
                return Err(ConfigError::syntax(
                    &at,
                    tr!("command {command} needs an argument", command = "eval"),
                ));
            }
            // No account timeout is known yet: the default limit applies.
            let output =
                run_first_line(&line.argument, eval_limit(None)).map_err(
                    |failure| match failure {
                        EvalFailure::Failed(reason) => ConfigError::Eval {
                            at: at.clone(),
                            command: line.argument.clone(),
                            reason,
                        },
                        EvalFailure::TimedOut(limit) => ConfigError::EvalTimedOut {
                            at: at.clone(),
                            directive: "eval",
                            command: line.argument.clone(),
                            limit,
                        },
                    },
                )?;
            match split_line(&output) {
                Some(l) => line = l,
                None => continue,
            }
            from_eval = true;
        }

        if matches!(section, Section::None)
            && line.command != "account"
            && line.command != "defaults"
        {
            accounts.push(Account::from_defaults(
                &defaults,
                "default",
                path.to_path_buf(),
            ));
            section = Section::Account(accounts.len() - 1);
        }

        match line.command.as_str() {
            "defaults" => {
                if !line.argument.is_empty() {
                    return Err(ConfigError::syntax(
                        &at,
                        tr!(
                            "command {command} does not take an argument",
                            command = "defaults"
                        ),
                    ));
                }
                section = Section::Defaults;
            }
            "account" => {
                let account = new_account(&line.argument, &defaults, &accounts, path, &at)?;
                accounts.push(account);
                section = Section::Account(accounts.len() - 1);
            }
            command => {
                let target = match section {
                    Section::Account(i) => match accounts.get_mut(i) {
                        Some(a) => a,
                        None => &mut defaults,
                    },
                    _ => &mut defaults,
                };
                target.set(command, &line.argument, &at)?;
                if matches!(command, "password" | "oauth2_client_secret") && !from_eval {
                    contains_secrets = true;
                }
            }
        }
    }
    Ok(ParsedFile {
        accounts,
        contains_secrets,
    })
}

/// `account NAME` or `account NAME : PARENT, PARENT…`.
fn new_account(
    argument: &str,
    defaults: &Account,
    accounts: &[Account],
    path: &Path,
    at: &Source,
) -> Result<Account, ConfigError> {
    let (name, parent_names) = crate::render::account_line(argument);
    let mut parents = Vec::new();
    for id in parent_names {
        if id.is_empty() {
            return Err(ConfigError::syntax(at, tr!("missing account name")));
        }
        let parent = accounts.iter().find(|a| a.name == id).ok_or_else(|| {
            let names = accounts.iter().map(|a| a.name.as_str());
            let shown = crate::commands::shown(&id);
            let message = match crate::suggest::closest(&id, names) {
                Some(c) => tr!(
                    "account {account} not (yet) defined (did you mean '{suggestion}'?)",
                    account = shown,
                    suggestion = c
                ),
                None => tr!("account {account} not (yet) defined", account = shown),
            };
            ConfigError::syntax(at, message)
        })?;
        parents.push(parent);
    }
    if name.is_empty() {
        return Err(ConfigError::syntax(at, tr!("missing account name")));
    }
    if name.contains([':', ',']) {
        return Err(ConfigError::syntax(
            at,
            tr!("an account name must not contain colons or commas"),
        ));
    }
    if accounts.iter().any(|a| a.name == name) {
        return Err(ConfigError::syntax(
            at,
            tr!("account {account} was already defined", account = name),
        ));
    }
    let mut account = Account::from_defaults(defaults, &name, path.to_path_buf());
    for parent in parents {
        account.inherit_from(parent);
    }
    Ok(account)
}
