//! What the token store asks of a keyring: keep one secret under a key, give it back,
//! forget it. The store tries the keyring first and keeps its file otherwise (see the
//! crate documentation); this crate has no D-Bus client of its own — the `rsmtp`
//! library passes the freedesktop Secret Service in [`crate::OAuthSettings::keyring`].

use rsmtp_core::Secret;

/// The keyring cannot be used now: no session bus, no Secret Service, a locked
/// collection that would need a prompt, no answer in time. The store then uses its
/// file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyringUnavailable;

/// A keyring for the token store.
pub trait Keyring: std::fmt::Debug + Send + Sync {
    /// The secret kept under `key`; `Ok(None)` when there is none.
    fn get(&self, key: &str) -> Result<Option<Secret>, KeyringUnavailable>;
    /// Keep `secret` under `key` (replacing what was there), shown as `label` in the
    /// keyring's own tools.
    fn set(&self, key: &str, label: &str, secret: &Secret) -> Result<(), KeyringUnavailable>;
    /// Forget what is kept under `key`; `true` when there was something.
    fn delete(&self, key: &str) -> Result<bool, KeyringUnavailable>;
}
