//! Who and where this process is, as msmtp asks the system: the user's login name and
//! home directory, another user's, and the host name. One place for every crate (the
//! `%U`/`%H` expansions, the permission rule's messages, the queue's trust checks,
//! the listener's greeting, backup-alert's alerts).
//!
//! /etc/passwd is read instead of calling getpwuid(3): unsafe code is not used here.

use std::fs;
use std::path::PathBuf;

/// The home directory: `$HOME`, else the passwd entry of the real uid, else "".
pub fn home_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h);
    }
    passwd_entry(rustix::process::getuid().as_raw())
        .map(|(_, home)| PathBuf::from(home))
        .unwrap_or_default()
}

/// (login name, home directory) of `uid` from /etc/passwd.
fn passwd_entry(uid: u32) -> Option<(String, String)> {
    let text = fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 6 && f[2].parse::<u32>().ok() == Some(uid))
            .then(|| (f[0].to_string(), f[5].to_string()))
    })
}

/// The login name of `uid` from /etc/passwd, for messages that name a file's
/// owner ("owned by nobody") rather than print a bare number.
pub fn user_name_of(uid: u32) -> Option<String> {
    passwd_entry(uid).map(|(name, _)| name)
}

/// The home directory of `uid` from /etc/passwd (not `$HOME`: for files written on
/// behalf of another user).
pub fn home_of(uid: u32) -> Option<PathBuf> {
    passwd_entry(uid).map(|(_, home)| PathBuf::from(home))
}

/// msmtp's `get_username()`.
pub fn user_name() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            return v;
        }
    }
    user_name_of(rustix::process::getuid().as_raw()).unwrap_or_else(|| "unknown".to_string())
}

/// msmtp's `get_hostname()`.
pub fn host_name() -> String {
    if let Ok(h) = std::env::var("HOSTNAME") {
        return h;
    }
    let uts = rustix::system::uname();
    let n = uts.nodename().to_string_lossy().into_owned();
    if n.is_empty() {
        "localhost".to_string()
    } else {
        n
    }
}

/// The effective uid, as the kernel checks files for it (the permission rule, the
/// queue's trust checks). Asked once: rsmtp never changes its uid, and `mailq` judges
/// 10,000 files.
pub fn current_uid() -> u32 {
    static EUID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *EUID.get_or_init(|| rustix::process::geteuid().as_raw())
}

/// The login name of `uid`, or `uid N` when it has none (a container's arbitrary uid),
/// for messages that name a file's owner.
pub fn owner_name(uid: u32) -> String {
    user_name_of(uid).unwrap_or_else(|| format!("uid {uid}"))
}

/// The kernel's node name (uname), `localhost` when it is empty: the listener's
/// greeting and `Received:` header, backup-alert's host line.
pub fn node_name() -> String {
    let n = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    if n.is_empty() {
        "localhost".to_string()
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_named_or_numbered() {
        assert_eq!(owner_name(0), "root");
        assert_eq!(owner_name(4_000_000_001), "uid 4000000001");
        assert!(!node_name().is_empty());
    }
}
