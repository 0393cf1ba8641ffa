//! The token store: one private JSON file per account, replaced atomically, and the
//! lock that lets one process at a time refresh (see the crate documentation for the
//! whole design).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::FlockOperation;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::OAuthError;
use crate::keyring::Keyring;
use rsmtp_core::Secret;

/// The environment variable naming the store directory (before the root / XDG
/// defaults): containers and tests.
pub const STORE_DIR_ENV: &str = "RSMTP_OAUTH_DIR";

/// The largest store file read (a few tokens).
const MAX_STORE: u64 = 256 * 1024;

/// Where the tokens are kept when nothing says otherwise: `$RSMTP_OAUTH_DIR`, else
/// `/var/lib/rsmtp/oauth` for root, else `$XDG_STATE_HOME/rsmtp/oauth` when that is
/// absolute, else `~/.local/state/rsmtp/oauth`.
pub fn default_store_dir(root: bool, xdg_state: Option<PathBuf>, home: &Path) -> PathBuf {
    if let Some(d) = std::env::var_os(STORE_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if root {
        return PathBuf::from("/var/lib/rsmtp/oauth");
    }
    match xdg_state {
        Some(x) if x.is_absolute() => x.join("rsmtp").join("oauth"),
        _ => home.join(".local/state/rsmtp/oauth"),
    }
}

/// What is kept for one account. Tokens are plain strings here only between the file
/// and [`rsmtp_core::Secret`]; they are zeroed when this is dropped and never shown by
/// `Debug`.
#[derive(Default, Serialize, Deserialize, Clone)]
pub(crate) struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) access_token: Option<String>,
    /// Unix seconds when the access token was issued.
    #[serde(default)]
    pub(crate) issued_at: u64,
    /// Unix seconds when the access token expires.
    #[serde(default)]
    pub(crate) expires_at: u64,
    /// The endpoint and client the tokens belong to (a changed configuration is
    /// not served another client's tokens).
    #[serde(default)]
    pub(crate) token_url: String,
    #[serde(default)]
    pub(crate) client_id: String,
}

impl Drop for Stored {
    fn drop(&mut self) {
        for t in [&mut self.refresh_token, &mut self.access_token]
            .into_iter()
            .flatten()
        {
            zeroize::Zeroize::zeroize(t);
        }
    }
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .field("access_token", &self.access_token.as_ref().map(|_| "***"))
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// One account's file in the store directory.
#[derive(Debug, Clone)]
pub struct TokenStore {
    dir: PathBuf,
    stem: String,
    keyring: Option<std::sync::Arc<dyn Keyring>>,
}

/// Where a store's tokens are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// In the keyring, under the store's key.
    Keyring,
    /// In this file.
    File(PathBuf),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Keyring => f.write_str("the keyring (Secret Service)"),
            Location::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The exclusive lock of one account's store, released when dropped (or when the
/// process dies: the kernel closes the file).
pub(crate) struct StoreLock {
    _file: File,
}

impl TokenStore {
    /// The store of the tokens `owner` (the mailbox, else the account name) gets from
    /// `token_url` for `client_id` and `scope`, in `dir`. Named by the owner and a hash
    /// of all four: accounts that sign the same mailbox in with the same client share
    /// it (an alias such as `account default : backup`), any other pair does not.
    pub fn new(dir: &Path, owner: &str, token_url: &str, client_id: &str, scope: &str) -> Self {
        let mut hash = Sha256::new();
        for part in [owner, token_url, client_id, scope] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        let short: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let name: String = owner
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        let name = name.trim_start_matches('.');
        TokenStore {
            dir: dir.to_owned(),
            stem: format!("{}-{short}", if name.is_empty() { "default" } else { name }),
            keyring: None,
        }
    }

    /// The same store, trying `keyring` before its file.
    pub fn with_keyring(mut self, keyring: Option<std::sync::Arc<dyn Keyring>>) -> Self {
        self.keyring = keyring;
        self
    }

    /// The key of the tokens in the keyring (the file's name without `.json`).
    pub fn key(&self) -> &str {
        &self.stem
    }

    /// Where the tokens are now: the keyring when it holds them, else the file.
    pub fn location(&self) -> Location {
        let in_keyring = self
            .keyring
            .as_ref()
            .is_some_and(|k| matches!(k.get(&self.stem), Ok(Some(_))));
        if in_keyring {
            Location::Keyring
        } else {
            Location::File(self.path())
        }
    }

    /// The file holding the tokens.
    pub fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.json", self.stem))
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join(format!("{}.lock", self.stem))
    }

    /// The directory, made `0700` if missing, then judged by the queue's rule.
    fn ensure_dir(&self) -> Result<(), OAuthError> {
        if !self.dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir)
                .map_err(|e| OAuthError::store("create", &self.dir, e))?;
        }
        self.check_dir()
    }

    fn check_dir(&self) -> Result<(), OAuthError> {
        rsmtp_queue::check_trusted_dir(&self.dir).map_err(|e| distrust(&self.dir, e, "chmod 700"))
    }

    /// What the store holds (`None`: nothing yet): the keyring's item when the
    /// keyring can be used and has one, else the file's.
    pub(crate) fn load(&self) -> Result<Option<Stored>, OAuthError> {
        if let Some(Ok(Some(secret))) = self.keyring.as_ref().map(|k| k.get(&self.stem)) {
            // A damaged item is treated as empty, as a damaged file is.
            if let Ok(stored) = serde_json::from_str(secret.expose()) {
                return Ok(Some(stored));
            }
        }
        self.load_file()
    }

    fn load_file(&self) -> Result<Option<Stored>, OAuthError> {
        let path = self.path();
        if !self.dir.exists() {
            return Ok(None);
        }
        self.check_dir()?;
        let file = match rsmtp_queue::open_trusted_file(&path) {
            Ok(file) => file,
            Err(rsmtp_queue::CheckError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(None)
            }
            Err(e) => return Err(distrust(&path, e, "chmod 600")),
        };
        let mode = file
            .metadata()
            .map_err(|e| OAuthError::store("read", &path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(OAuthError::UntrustedStore {
                path: path.clone(),
                problem: format!(
                    "can be read by group or others (mode {:04o})",
                    mode & 0o7777
                ),
                fix: format!("chmod 600 {}", path.display()),
            });
        }
        let mut text = zeroize::Zeroizing::new(Vec::new());
        file.take(MAX_STORE)
            .read_to_end(&mut text)
            .map_err(|e| OAuthError::store("read", &path, e))?;
        // A damaged file (a disk that lied about fsync) is treated as empty: a
        // refresh token in it is lost, and the error then names --oauth-login.
        Ok(serde_json::from_slice(&text).ok())
    }

    /// Replace the stored state: in the keyring when it can be used (and then the
    /// file, a copy from before, is removed), else in the file.
    pub(crate) fn save(&self, stored: &Stored) -> Result<(), OAuthError> {
        let path = self.path();
        let text = zeroize::Zeroizing::new(serde_json::to_vec_pretty(stored).map_err(|e| {
            OAuthError::Store {
                action: "write",
                path: path.clone(),
                reason: e.to_string(),
            }
        })?);
        if let Some(keyring) = &self.keyring {
            let secret = Secret::new(String::from_utf8_lossy(&text));
            let label = format!("rsmtp OAuth 2.0 tokens ({})", self.stem);
            if keyring.set(&self.stem, &label, &secret).is_ok() {
                self.remove_file()?;
                return Ok(());
            }
        }
        self.save_file(&text)
    }

    /// A temporary file (0600, exclusive, no link followed), fsync, rename, fsync of
    /// the directory.
    fn save_file(&self, text: &[u8]) -> Result<(), OAuthError> {
        self.ensure_dir()?;
        let path = self.path();
        let tmp = self
            .dir
            .join(format!("{}.json.tmp-{}", self.stem, std::process::id()));
        // A temporary file left by a process of ours that died (same pid reused).
        let _ = std::fs::remove_file(&tmp);
        let write = || -> io::Result<()> {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
                .open(&tmp)?;
            file.write_all(text)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            OAuthError::store("write", &path, e)
        })
    }

    /// Forget the tokens, in the keyring (when it can be used) and in the file;
    /// where there were some.
    pub fn remove(&self) -> Result<Vec<Location>, OAuthError> {
        let mut removed = Vec::new();
        if let Some(Ok(true)) = self.keyring.as_ref().map(|k| k.delete(&self.stem)) {
            removed.push(Location::Keyring);
        }
        if self.remove_file()? {
            removed.push(Location::File(self.path()));
        }
        Ok(removed)
    }

    /// Remove the file; `true` when it was there.
    fn remove_file(&self) -> Result<bool, OAuthError> {
        let path = self.path();
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(OAuthError::store("remove", &path, e)),
        }
    }

    /// Wait for the exclusive lock of this account's store, for at most `wait` (the
    /// account's `timeout`; `None`: as long as it takes). A holder that keeps it
    /// longer (a refresh stuck on a silent endpoint, a stopped process) is
    /// [`OAuthError::LockBusy`]: temporary, so the message waits in the queue.
    pub(crate) fn lock(&self, wait: Option<std::time::Duration>) -> Result<StoreLock, OAuthError> {
        self.ensure_dir()?;
        let path = self.lock_path();
        let file =
            rsmtp_queue::open_lock_file(&path).map_err(|e| OAuthError::store("lock", &path, e))?;
        let taken = match wait {
            Some(wait) => rsmtp_queue::lock_within(&file, wait),
            None => rustix::fs::flock(&file, FlockOperation::LockExclusive)
                .map(|()| true)
                .map_err(Into::into),
        };
        match taken {
            Ok(true) => Ok(StoreLock { _file: file }),
            Ok(false) => Err(OAuthError::LockBusy {
                path,
                waited: wait.unwrap_or_default().as_secs(),
            }),
            Err(e) => Err(OAuthError::store("lock", &path, e)),
        }
    }
}

/// The queue's verdict on a store path as an error that names the fix.
fn distrust(path: &Path, e: rsmtp_queue::CheckError, chmod: &str) -> OAuthError {
    match e {
        rsmtp_queue::CheckError::Distrust(d) => {
            let fix = match d {
                rsmtp_queue::Distrust::Writable { .. } => format!("{chmod} {}", path.display()),
                _ => format!(
                    "remove {} (rsmtp makes a private one; log in again if it held a login)",
                    path.display()
                ),
            };
            OAuthError::UntrustedStore {
                path: path.to_owned(),
                problem: d.to_string(),
                fix,
            }
        }
        rsmtp_queue::CheckError::Io(e) => OAuthError::store("read", path, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> TokenStore {
        TokenStore::new(dir, "office365", "https://t.example/token", "id", "s")
    }

    fn sample() -> Stored {
        Stored {
            refresh_token: Some("r1".into()),
            access_token: Some("a1".into()),
            issued_at: 10,
            expires_at: 3610,
            token_url: "https://t.example/token".into(),
            client_id: "id".into(),
        }
    }

    #[test]
    fn saved_state_reads_back_private_and_atomic() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("state/rsmtp/oauth");
        let s = store(&dir);
        assert!(s.load().expect("empty").is_none());
        s.save(&sample()).expect("save");
        let back = s.load().expect("load").expect("stored");
        assert_eq!(back.refresh_token.as_deref(), Some("r1"));
        assert_eq!(back.expires_at, 3610);
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&s.path()), 0o600);
        assert_eq!(mode(&dir), 0o700);
        // Only the file itself: no temporary left behind.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(format!("{back:?}").contains("***") && !format!("{back:?}").contains("r1"));
        assert_eq!(s.remove().expect("remove"), [Location::File(s.path())]);
        assert!(s.remove().expect("remove again").is_empty());
    }

    #[test]
    fn a_readable_linked_or_open_store_is_refused_with_its_fix() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("oauth");
        let s = store(&dir);
        s.save(&sample()).expect("save");
        std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = s.load().expect_err("readable by others");
        assert!(e.to_string().contains("chmod 600"), "{e}");
        assert_eq!(e.exit_code(), rsmtp_core::ExitCode::Config);

        std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let e = s.load().expect_err("world-writable directory");
        assert!(e.to_string().contains("chmod 700"), "{e}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");

        let real = tmp.path().join("elsewhere.json");
        std::fs::rename(s.path(), &real).expect("move");
        std::os::unix::fs::symlink(&real, s.path()).expect("symlink");
        let e = s.load().expect_err("symbolic link");
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }

    #[test]
    fn names_keep_accounts_and_clients_apart() {
        let d = Path::new("/x");
        let a = TokenStore::new(d, "office365", "https://t/token", "id", "s").path();
        let b = TokenStore::new(d, "office365", "https://t/token", "other", "s").path();
        let c = TokenStore::new(d, "../../etc/passwd", "https://t/token", "id", "s").path();
        assert_ne!(a, b);
        assert!(a.to_string_lossy().starts_with("/x/office365-"));
        assert_eq!(c.parent(), Some(d), "{}", c.display());
    }

    #[test]
    fn default_directories() {
        if std::env::var_os(STORE_DIR_ENV).is_some() {
            return;
        }
        let home = Path::new("/home/alice");
        assert_eq!(
            default_store_dir(true, None, home),
            Path::new("/var/lib/rsmtp/oauth")
        );
        assert_eq!(
            default_store_dir(false, Some("/s".into()), home),
            Path::new("/s/rsmtp/oauth")
        );
        assert_eq!(
            default_store_dir(false, Some("rel".into()), home),
            Path::new("/home/alice/.local/state/rsmtp/oauth")
        );
    }
}
