//! Finding and reading the configuration files and choosing an account, as
//! msmtp's `msmtp_get_conffile_accounts()` and `main()` do: the system file,
//! then the user file (or the `-C` file); a user account replaces a system
//! account of the same name; `-a NAME`, else the first account whose `from`
//! matches `-f`, else `default`, else the `SMTPSERVER`/`EMAIL` environment.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::account::Account;
use crate::error::ConfigError;
use crate::expand;
use crate::glob;
use crate::parser;
use crate::permissions;

/// Environment variable naming the system configuration file instead of
/// `/etc/msmtprc` (an empty value means: no system file). Tests and CI set it so
/// that a real `/etc/msmtprc` never leaks in.
pub const SYSCONFIG_ENV: &str = "RSMTP_SYSCONFIG";

/// The system file used when neither [`LoadOptions::system_file`] nor
/// `RSMTP_SYSCONFIG` says otherwise.
pub const DEFAULT_SYSTEM_FILE: &str = "/etc/msmtprc";

/// Which files to read.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The system file; `None` → `$RSMTP_SYSCONFIG` if set (empty: none), else
    /// `/etc/msmtprc`. A missing system file is not an error.
    pub system_file: Option<PathBuf>,
    /// `-C FILE`: replaces the user file and must exist. `None` → the first of
    /// `~/.msmtprc`, `$XDG_CONFIG_HOME/msmtp/config`, `~/.config/msmtp/config`
    /// that exists (none existing is not an error).
    pub user_file: Option<PathBuf>,
    /// The uid the permission rule is checked for; `None` → the effective uid
    /// (root is exempt).
    pub check_uid: Option<u32>,
}

impl LoadOptions {
    /// Options for `-C FILE`.
    pub fn with_user_file(path: impl Into<PathBuf>) -> Self {
        LoadOptions {
            user_file: Some(path.into()),
            ..LoadOptions::default()
        }
    }

    /// The system file these options name, if any.
    pub fn system_file_path(&self) -> Option<PathBuf> {
        if let Some(p) = &self.system_file {
            return Some(p.clone());
        }
        match std::env::var_os(SYSCONFIG_ENV) {
            Some(v) if v.is_empty() => None,
            Some(v) => Some(PathBuf::from(v)),
            None => Some(PathBuf::from(DEFAULT_SYSTEM_FILE)),
        }
    }

    /// The user file these options name: the `-C` file, or msmtp's search.
    pub fn user_file_path(&self) -> PathBuf {
        match &self.user_file {
            Some(p) => p.clone(),
            None => search_user_file(
                &expand::home_dir(),
                std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
            ),
        }
    }
}

/// msmtp's `get_userconfig()`: `~/.msmtprc` if it exists, else
/// `$XDG_CONFIG_HOME/msmtp/config` (`~/.config/msmtp/config` when the variable
/// is unset) if that exists, else `~/.msmtprc` (which then counts as missing).
fn search_user_file(home: &Path, xdg_config_home: Option<PathBuf>) -> PathBuf {
    let dot = home.join(".msmtprc");
    if dot.exists() {
        return dot;
    }
    let xdg = xdg_config_home
        .unwrap_or_else(|| home.join(".config"))
        .join("msmtp")
        .join("config");
    if xdg.exists() {
        xdg
    } else {
        dot
    }
}

/// How [`Config::select`] chose the account (msmtp prints this with `--pretend`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Named with `-a`.
    Named,
    /// Chosen because its `from` matches the `-f` address.
    ByEnvelopeFrom,
    /// No `-a` and no match: the account `default`.
    Default,
    /// No account `default`: built from `$SMTPSERVER` and `$EMAIL`.
    Environment,
}

/// The accounts of all configuration files read.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// All accounts: system-only accounts first, then the user file's, in file
    /// order (msmtp's order, which decides which `from` matches first).
    pub accounts: Vec<Account>,
    /// The files that were read (system file first).
    pub files_read: Vec<PathBuf>,
    /// Default files that could not be opened and were skipped, with the reason
    /// (msmtp prints "ignoring system configuration file …" for `--pretend`).
    pub files_ignored: Vec<(PathBuf, String)>,
    /// Those of them that exist but may not be read (a 0600 root `/etc/msmtprc` while
    /// PHP runs as www-data): named in "account not found" with the fix.
    pub files_unreadable: Vec<PathBuf>,
}

/// Read a default file: `Ok(Err(error))` when it is missing or may not be read
/// (msmtp skips such files), an error when reading it fails otherwise.
fn read_optional(path: &Path) -> Result<Result<String, io::Error>, ConfigError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Ok(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
            ) =>
        {
            Ok(Err(e))
        }
        Err(error) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            error,
        }),
    }
}

impl Config {
    fn ignore(&mut self, path: PathBuf, error: &io::Error) {
        if error.kind() == io::ErrorKind::PermissionDenied {
            self.files_unreadable.push(path.clone());
        }
        self.files_ignored.push((path, error.to_string()));
    }

    /// Read the system and user files as msmtp does.
    ///
    /// Errors: a `-C` file that cannot be read (exit 74, like msmtp); any
    /// syntax error in a file that was read (78); a user file with a literal
    /// `password` that is not private to the user (78).
    pub fn load(opts: &LoadOptions) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let mut system_accounts = Vec::new();
        if let Some(sys) = opts.system_file_path() {
            match read_optional(&sys)? {
                Ok(text) => {
                    system_accounts = parser::parse(&text, &sys)?.accounts;
                    config.files_read.push(sys);
                }
                Err(error) => config.ignore(sys, &error),
            }
        }

        let user = opts.user_file_path();
        let text = if opts.user_file.is_some() {
            match fs::read(&user) {
                Ok(b) => Ok::<_, io::Error>(String::from_utf8_lossy(&b).into_owned()),
                Err(error) => return Err(ConfigError::Read { path: user, error }),
            }
        } else {
            read_optional(&user)?
        };
        let mut user_accounts = Vec::new();
        match text {
            Ok(text) => {
                let parsed = parser::parse(&text, &user)?;
                if parsed.contains_secrets {
                    let uid = opts.check_uid.unwrap_or_else(permissions::current_uid);
                    permissions::check_secure(&user, uid)?;
                }
                user_accounts = parsed.accounts;
                config.files_read.push(user);
            }
            Err(error) => config.ignore(user, &error),
        }

        system_accounts.retain(|s| !user_accounts.iter().any(|u| u.name == s.name));
        system_accounts.extend(user_accounts);
        config.accounts = system_accounts;
        Ok(config)
    }

    /// Parse one configuration text as if it were the file `path` (no
    /// permission check; `eval` lines are run). For tests and tools.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        Ok(Config {
            accounts: parser::parse(text, path)?.accounts,
            files_read: vec![path.to_path_buf()],
            files_ignored: Vec::new(),
            files_unreadable: Vec::new(),
        })
    }

    /// The account `name` (`None` → `default`), as configured (not yet
    /// resolved). Errors in msmtp's words: "account NAME not found in FILE",
    /// "account default not found: no configuration file available".
    pub fn account(&self, name: Option<&str>) -> Result<Account, ConfigError> {
        let name = name.unwrap_or("default");
        self.accounts
            .iter()
            .find(|a| a.name == name)
            .cloned()
            .ok_or_else(|| ConfigError::AccountNotFound {
                name: crate::commands::shown(name),
                files: self.files_read.clone(),
                known: self.accounts.iter().map(|a| a.name.clone()).collect(),
                unreadable: self.files_unreadable.clone(),
            })
    }

    /// msmtp's `-f` account matching: the first account whose `from` equals
    /// `address` ignoring case, or matches it as a wildcard pattern (`*`, `?`,
    /// `[…]`, case-sensitive); failing that, the same test with a `+detail`
    /// removed from the local part of `address` (`joe+list@x` matches an account
    /// for `joe@x`) unless the account's `from` itself contains `+`.
    pub fn account_for_from(&self, address: &str) -> Option<&Account> {
        fn matches(from: &str, acc_from: &str) -> bool {
            if glob::is_pattern(acc_from) {
                glob::matches(acc_from, from)
            } else {
                from.eq_ignore_ascii_case(acc_from)
            }
        }
        let without_detail = match (address.find('+'), address.find('@')) {
            (Some(plus), Some(at)) if plus < at => {
                Some(format!("{}{}", &address[..plus], &address[at..]))
            }
            _ => None,
        };
        self.accounts.iter().find(|a| {
            let Some(acc_from) = a.from.as_deref() else {
                return false;
            };
            matches(address, acc_from)
                || (!acc_from.contains('+')
                    && without_detail
                        .as_deref()
                        .is_some_and(|w| matches(w, acc_from)))
        })
    }

    /// Choose the account as msmtp does when no `--host` is given: `-a NAME`;
    /// else the account matching the `-f` address; else `default`; else, when
    /// `$SMTPSERVER` is set (and `$EMAIL` or `-f` gives a sender), an account
    /// built from them. The account is returned unresolved: apply command-line
    /// overrides (including `from` for `-f`, as msmtp does), then
    /// [`Account::resolve`].
    pub fn select(
        &self,
        name: Option<&str>,
        envelope_from: Option<&str>,
    ) -> Result<(Account, Selection), ConfigError> {
        if let Some(n) = name {
            return Ok((self.account(Some(n))?, Selection::Named));
        }
        if let Some(a) = envelope_from.and_then(|f| self.account_for_from(f)) {
            return Ok((a.clone(), Selection::ByEnvelopeFrom));
        }
        match self.account(None) {
            Ok(a) => Ok((a, Selection::Default)),
            Err(e) => {
                let server = std::env::var("SMTPSERVER").ok();
                let email = std::env::var("EMAIL").ok();
                match (server, envelope_from.map(str::to_string).or(email)) {
                    (Some(host), Some(from)) => {
                        let acc = Account::from_command_line([
                            ("host", host.as_str()),
                            ("from", from.as_str()),
                        ])?;
                        Ok((acc, Selection::Environment))
                    }
                    _ => Err(e),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_file_search_order() {
        let home = tempfile::tempdir().expect("tempdir");
        let h = home.path();
        let xdg_dir = h.join("xdg");
        // Nothing exists: ~/.msmtprc (reported as missing).
        assert_eq!(search_user_file(h, None), h.join(".msmtprc"));
        // ~/.config/msmtp/config when XDG_CONFIG_HOME is unset.
        fs::create_dir_all(h.join(".config/msmtp")).expect("mkdir");
        fs::write(h.join(".config/msmtp/config"), "").expect("write");
        assert_eq!(search_user_file(h, None), h.join(".config/msmtp/config"));
        // $XDG_CONFIG_HOME/msmtp/config when set (and ~/.config is not consulted).
        assert_eq!(
            search_user_file(h, Some(xdg_dir.clone())),
            h.join(".msmtprc")
        );
        fs::create_dir_all(xdg_dir.join("msmtp")).expect("mkdir");
        fs::write(xdg_dir.join("msmtp/config"), "").expect("write");
        assert_eq!(
            search_user_file(h, Some(xdg_dir.clone())),
            xdg_dir.join("msmtp/config")
        );
        // ~/.msmtprc wins over both.
        fs::write(h.join(".msmtprc"), "").expect("write");
        assert_eq!(search_user_file(h, Some(xdg_dir)), h.join(".msmtprc"));
    }
}
