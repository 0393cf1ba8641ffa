//! rsmtp-config: msmtprc files → a resolved [`Account`].
//!
//! rsmtp reads the configuration people already have for msmtp 1.8.x and must
//! understand it exactly as msmtp does (Debian's msmtp 1.8.23 is the oracle;
//! commands added up to msmtp 1.8.32 — `from_full_name`, `set_to_header`,
//! `%F`, `scram-*-plus` — are accepted too). This crate reads files and runs
//! `eval`/`passwordeval` commands; it never touches the network, never prints
//! and never exits.
//!
//! # Use
//!
//! ```no_run
//! use rsmtp_config::{Config, LoadOptions, ResolveOptions};
//! # fn main() -> Result<(), rsmtp_config::ConfigError> {
//! let config = Config::load(&LoadOptions::default())?;          // or with_user_file(-C)
//! let (mut account, _how) = config.select(None, Some("me@example.org"))?; // -a / -f
//! account.apply_override("tls_starttls", "off")?;               // --tls-starttls=off
//! account.resolve(&ResolveOptions { require_from: true, ..Default::default() })?;
//! let password = account.password()?;                           // Option<Secret>
//! print!("{}", account.describe_for_pretend());                 // --pretend
//! # Ok(()) }
//! ```
//! With `--host`, msmtp reads no configuration file at all:
//! [`Account::from_command_line`] builds the account from the options alone.
//!
//! # Public API
//!
//! - [`Config::load`]`(&LoadOptions) -> Result<Config>`; [`Config::parse`]`(text, path)`;
//!   [`Config::account`]`(Option<&str>)`; [`Config::account_for_from`]`(&str)`;
//!   [`Config::select`]`(name, envelope_from) -> (Account, Selection)`;
//!   fields `accounts`, `files_read`, `files_ignored`.
//! - [`LoadOptions`] `{ system_file, user_file, check_uid }`.
//! - [`Account`]: one public field per msmtp command (typed: [`Auth`],
//!   [`Timeout`], [`TrustFile`], [`Fingerprint`], [`LogFile`], [`SyslogFacility`],
//!   [`HeaderPolicy`], [`SetToHeader`], [`DsnReturn`], [`QueueMode`], …);
//!   [`Account::apply_override`]`(command, value)`, [`Account::from_command_line`],
//!   [`Account::resolve`]`(&ResolveOptions)`, [`Account::port`],
//!   [`Account::queue_dir`], [`Account::password`] (and
//!   [`Account::password_with_netrc`]), [`Account::source_of`]`(command)`,
//!   [`Account::is_explicit`], [`Account::check_supported`], [`Account::warnings`],
//!   [`Account::describe_for_pretend`].
//! - Helpers: [`expand_tilde`], [`home_dir`], [`check_secure`]`(path, uid)`,
//!   [`eval_password`], [`canonical_command`], [`commands`].
//! - [`COMMAND_DEFS`]: the one table of commands (spellings, long options, `--pretend`
//!   labels, what a queued message may carry).
//! - [`Secret`] (`Debug`/`Display` print `***`; [`Secret::expose`]).
//! - [`Source`] `{ origin: File(path) | CommandLine, line }`, shown as `file:line`.
//! - [`ConfigError`] with [`ConfigError::exit_code`] (78 `EX_CONFIG`; 74 `EX_IOERR`
//!   for an unreadable `-C` file or a failing `eval`, as msmtp; 75 `EX_TEMPFAIL`
//!   for an `eval`/`passwordeval` killed at its time limit, [`eval_limit`]).
//!
//! # Files
//!
//! The system file is `/etc/msmtprc`, or the file named by the environment
//! variable `RSMTP_SYSCONFIG` (empty: no system file) — tests and CI set it to
//! keep a real `/etc/msmtprc` out. The user file is `~/.msmtprc`, else
//! `$XDG_CONFIG_HOME/msmtp/config`, else `~/.config/msmtp/config`; `-C FILE`
//! replaces it and must exist. Missing default files are skipped. A user
//! account replaces a system account of the same name.
//!
//! # Syntax (msmtp's, exactly)
//!
//! One `command argument` per line. `#` starts a comment only as a line's first
//! non-blank character. The argument is trimmed and one pair of surrounding
//! double quotes is removed; there are no escapes inside quotes. An empty
//! argument to an on/off command means on. A leading `~` is expanded in file
//! names (`tls_*_file`, `logfile`, `aliases`, `socket`, `queue_dir`).
//! `defaults` settings apply to the accounts that follow; `account a : b, c`
//! starts from the defaults, then takes what `b`, then `c`, set explicitly,
//! then its own lines; `account default : x` makes `x` the default. Settings
//! before any `account` line form an account named `default`. `eval CMD`
//! replaces the line with the first line CMD prints. Legacy spellings msmtp
//! still accepts work (`connect_timeout`, `tls_nocertcheck`, `tls_nostarttls`,
//! `keepbcc`, `add_missing_from_header`, `add_missing_date_header`,
//! `undisclosed_recipients`, `auto_from`, `maildomain`; `tls_force_sslv3` is
//! ignored as by msmtp). An unknown command is an error naming the file and
//! line: `~/.msmtprc:7: unknown command 'hots' (did you mean 'host'?)`.
//!
//! # Where rsmtp differs from msmtp (on purpose)
//!
//! - `timeout` defaults to 60 seconds (msmtp: off, which lets cron jobs hang
//!   forever); `timeout off` restores msmtp's behaviour.
//! - Settings msmtp accepts but rsmtp cannot honour — the
//!   `auth` methods `gssapi`, `ntlm`, `digest-md5`, and the parts of a
//!   `tls_priorities` string rustls cannot follow — parse fine (so an unused
//!   account does not break the others) and fail with an `EX_CONFIG` error
//!   "FILE:LINE: … is not supported by rsmtp" when the account is resolved.
//! - `passwordeval` and `eval` commands get `/dev/null` as standard input.
//! - netrc is read here; the keyring and the terminal prompt for a missing
//!   password are the `rsmtp` crate's (this crate never touches D-Bus or a terminal).
//! - `%C` is resolved from `/etc/hosts`, never by DNS.
//! - msmtp refuses lines longer than 500 bytes; rsmtp has no limit.
//!
//! # rsmtp's own commands
//!
//! - `queue off|fallback|always` (default `off`): `fallback` keeps a message in
//!   the durable queue when the relay fails temporarily; `always` only queues.
//! - `queue_dir PATH`: default `/var/spool/rsmtp` for root, else
//!   `$XDG_STATE_HOME/rsmtp/queue` or `~/.local/state/rsmtp/queue`.
//! - `queue_expire DURATION` (default `5d`): seconds or `30m`, `12h`, `5d`, `1w`.
//! - `queue_retry_for DURATION` (default: as long as `queue_expire`): how long
//!   the background retrier keeps trying after a message is queued.
//! - `queue_notify ADDRESS`: who gets the failure notice (default: the
//!   envelope sender).
//!
//! - `oauth2_flow client_credentials|device|authcode|off`, `oauth2_provider
//!   microsoft|google` (fills the endpoints, scope and flow left unset, see
//!   [`OAuthProvider`]), `oauth2_tenant`, `oauth2_token_url`, `oauth2_device_url`,
//!   `oauth2_auth_url`, `oauth2_redirect_port`, `oauth2_client_id`,
//!   `oauth2_client_secret` (a literal: the permission rule of `password` applies),
//!   `oauth2_client_secret_eval` (run like `passwordeval`,
//!   [`Account::oauth2_client_secret`]), `oauth2_scope`: an `auth xoauth2` or
//!   `oauthbearer` account gets its token itself (the `rsmtp-oauth` crate); resolving
//!   checks that the flow has what it needs.
//!
//! Like all commands they may appear in `defaults` and be inherited; msmtp
//! itself would reject them, so keep them in a file only rsmtp reads or accept
//! that msmtp cannot read that file.

#![warn(missing_docs)]

mod account;
pub mod command_defs;
mod commands;
mod error;
mod expand;
pub mod glob;
mod lexer;
mod load;
pub mod long_options;
mod netrc;
mod parser;
mod password;
mod permissions;
mod pretend;
mod render;
mod resolve;
mod suggest;
mod value;

pub use account::{canonical_command, commands, default_queue_dir, queue_fallback_dir, Account};
pub use command_defs::{Command, CommandDef, QueuePolicy, COMMAND_DEFS};
pub use error::{ConfigError, InsecureReason, Origin, Source};
pub use expand::{
    canonical_host_name, expand_tilde, home_dir, home_of, host_name, user_name, user_name_of,
    ExpandContext,
};
pub use load::{Config, LoadOptions, Selection, DEFAULT_SYSTEM_FILE, SYSCONFIG_ENV};
pub use netrc::NetrcEntry;
pub use password::{
    eval_limit, eval_password, netrc_files, Secret, EVAL_DEFAULT_LIMIT, EVAL_TERMINAL_LIMIT,
    EVAL_TIMEOUT_ENV,
};
pub use permissions::{check_secure, current_uid};
pub use render::{
    account_line, account_name_problem, quote_argument, render_account, render_default_account,
    render_line, split_command,
};
pub use resolve::ResolveOptions;
pub use value::{parse_duration, read_duration};
pub use value::{
    Auth, AuthMethod, DsnReturn, Fingerprint, HeaderPolicy, LogFile, OAuthFlow, OAuthProvider,
    Protocol, QueueMode, SetToHeader, SyslogFacility, Timeout, TrustFile, DEFAULT_QUEUE_EXPIRE,
    DEFAULT_TIMEOUT_SECS,
};

#[cfg(test)]
mod tests;
