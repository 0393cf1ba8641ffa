//! rsmtp-oauth: the OAuth 2.0 access token an `auth xoauth2`/`oauthbearer` account
//! authenticates with, obtained and kept fresh by rsmtp itself.
//!
//! Microsoft 365 turns basic authentication for SMTP AUTH off (`550 5.7.30`) and Google
//! wants OAuth; msmtp needs a helper script per account for that. This crate is that
//! helper, built in: it knows three grants, keeps the tokens in a private file, and
//! hands the SMTP layer a token that is valid now. It reads no configuration (the
//! caller passes an [`OAuthSettings`]), never prints (a person's part of a login goes
//! through [`Interaction`]) and never exits; errors are [`OAuthError`] with
//! [`OAuthError::exit_code`].
//!
//! # Use
//!
//! ```no_run
//! use rsmtp_oauth::{OAuthSettings, TokenClient};
//! # fn main() -> Result<(), rsmtp_oauth::OAuthError> {
//! # let settings: OAuthSettings = unimplemented!();
//! let client = TokenClient::new(settings)?;
//! let token = client.access_token()?;       // cached, or refreshed under the lock
//! let _ = token.secret.expose();            // for the AUTH exchange only
//! # Ok(()) }
//! ```
//!
//! # Grants
//!
//! - **Client credentials** (RFC 6749 §4.4): `client_id` + secret + scope → access
//!   token. No person, no refresh token; a new access token is fetched when the cached
//!   one runs out.
//! - **Device authorization** (RFC 8628), for `--oauth-login` on a machine without a
//!   browser: the device endpoint returns a user code and a verification URL, shown
//!   through [`Interaction::show_device_code`]; then the token endpoint is polled every
//!   `interval` seconds (5 when the server names none). `authorization_pending` keeps
//!   polling, `slow_down` adds 5 s to the interval for good (§3.5), `expired_token` and
//!   `access_denied` end the login, and so does the code's own `expires_in`.
//! - **Authorization code with PKCE** (RFC 6749 §4.1, RFC 7636 `S256`), for Google,
//!   whose device flow does not grant the mail scope: a loopback listener on
//!   `127.0.0.1` (RFC 8252 §7.3; any free port, or `oauth2_redirect_port`) receives the
//!   redirect; on a headless machine the person pastes the URL the browser was sent to
//!   ([`Interaction::read_redirect`]). The `state` is checked either way.
//! - **Refresh** (RFC 6749 §6) for the last two. The request always carries `scope`:
//!   Microsoft refuses a refresh without it (AADSTS900144). A refresh token in the
//!   answer replaces the stored one (Microsoft rotates them); none keeps the old one.
//!   `invalid_grant` means the person must log in again: [`OAuthError::LoginExpired`],
//!   exit 77, and the message says which command to run.
//!
//! # The token store
//!
//! (The file is described here; see the last point for the keyring.)
//!
//! One JSON file per signed-in mailbox (`USER-HASH.json`, the hash over user, token
//! URL, client id and scope: an account and its alias `account default : backup` share
//! one login, two files with an account of the same name for other mailboxes or
//! clients do not; the account name stands for the user when there is none) in `$XDG_STATE_HOME/rsmtp/oauth/` (`~/.local/state/rsmtp/oauth/`), or
//! `/var/lib/rsmtp/oauth/` for root (the `rsmtp` binary falls back to
//! `/var/tmp/rsmtp-<uid>/oauth` for a user whose home cannot hold it, as the queue
//! does); `$RSMTP_OAUTH_DIR` overrides both (tests,
//! containers). It holds the refresh token and the last access token with its expiry,
//! so the next process — every mail is a new rsmtp process — reuses it: 1000 messages
//! in an hour cost one token request.
//!
//! - **Trust**: the directory is made `0700`; it and the file are judged by the queue's
//!   rule ([`rsmtp_queue::check_trusted_dir`], [`rsmtp_queue::open_trusted_file`]:
//!   ours or root's, no group/other write, no symbolic link, checked on the opened
//!   file) and, as the file holds secrets, the file must also be unreadable by group
//!   and others (`0600`). A store that fails is refused with the `chmod`/`chown` that
//!   fixes it (exit 78), never silently used or replaced.
//! - **Atomic writes**: a new state is written to `NAME.json.tmp-PID` (created
//!   `0600`, `O_EXCL`, `O_NOFOLLOW`), fsynced, renamed over `NAME.json`, and the
//!   directory fsynced. A reader sees the old file or the new one, whole; a crash
//!   loses at most the new tokens, and a rotated refresh token is on disk before it
//!   is used.
//! - **One refresh at a time**: [`TokenClient::access_token`] first reads the file
//!   without a lock; a token with more than [`REFRESH_MARGIN`] left (at most half its
//!   lifetime) is used as it is. Otherwise it takes an exclusive `flock` on
//!   `USER-HASH.lock`, *reads the file again* — another process may have refreshed while
//!   this one waited — and only then asks the token endpoint. Twenty PHP workers that
//!   find the token stale at once make one request; nineteen wait for the lock and
//!   find the new token. The lock is released when its file is closed, also when the
//!   holder dies. The holder's request is bounded by the account's `timeout`, and so is
//!   every other process's wait for the lock ([`rsmtp_queue::lock_within`]): a lock
//!   held longer (a stopped process) is [`OAuthError::LockBusy`], a temporary failure
//!   — exit 75, and the message waits under `queue fallback`.
//! - **A cached send costs nothing measurable**: [`TokenClient::cached_token`] reads the
//!   file and nothing else — the trust roots are loaded and the client secret is
//!   looked up (its `_eval` command run) only when a request must be made.
//!   `benches/oauth.py` measured a cached-token XOAUTH2 send at +0.13 ms against a
//!   PLAIN password send (3.21 ms against 3.09 ms, release build, same run); before
//!   the HTTPS client was made lazily, parsing the system CA bundle on every send
//!   cost +34 ms (debug build).
//! - **Secrets**: tokens leave the store only as [`rsmtp_core::Secret`] (`***` in
//!   `Debug`/`Display`, zeroed on drop). No token is put in an error, a log line, an
//!   argument list or the environment.
//! - **The keyring first**: with an [`OAuthSettings::keyring`] (rsmtp passes the
//!   freedesktop Secret Service) the same JSON is kept as one keyring item instead of
//!   the file, when the keyring can be used; a save there removes the file, a load
//!   that finds no item (or no keyring: cron and PHP have no session bus) reads the
//!   file, and a logout clears both. The lock stays a file in the directory: the
//!   keyring has no lock of its own.
//!
//! # HTTP
//!
//! [`ureq`] (blocking, rustls with the ring provider, as the SMTP side): POSTs of
//! `application/x-www-form-urlencoded` bodies, JSON answers of at most 64 KiB, no
//! redirects followed, the account's `timeout` for the whole request. Only `https://`
//! endpoints are accepted, except `http://` to `127.0.0.1`, `[::1]` or `localhost`
//! (a local test server; nothing crosses a network in clear). The trust roots are the
//! account's `tls_trust_file` (the system bundle by default, the Mozilla roots when
//! there is none). A connection failure, a timeout, HTTP 5xx or 429 is temporary
//! (exit 75: the message waits in the queue under `queue fallback`); a refusal by the
//! server (4xx with an OAuth `error`) is not.

#![warn(missing_docs)]

mod authcode;
mod device;
mod error;
mod http;
mod interaction;
mod keyring;
mod settings;
mod store;
mod token;

pub use authcode::pkce_challenge;
pub use device::DeviceCode;
pub use error::OAuthError;
pub use http::https_agent;
pub use keyring::{Keyring, KeyringUnavailable};
pub use settings::{check_url, Flow, OAuthSettings, TrustRoots};
pub use store::{default_store_dir, Location, TokenStore, STORE_DIR_ENV};
pub use token::{AccessToken, Interaction, Obtained, TokenClient, REFRESH_MARGIN};

/// The sysexits codes, shared with every rsmtp layer.
pub use rsmtp_core::ExitCode;
/// The secret wrapper tokens travel in.
pub use rsmtp_core::Secret;
