//! Expansions msmtp applies to values: `~` at the start of file names, and the
//! `%U %H %C %M %F` patterns in `from` and `%H %C %M` in `domain`.
//!
//! Like msmtp: `%U` is `$USER`, else `$LOGNAME`, else the login name of the
//! process owner; `%H` is `$HOSTNAME`, else the system host name; `%C` is the
//! canonical name of `%H`; `%M` is the first line of `/etc/mailname`; `%F`
//! (msmtp ≥ 1.8.29, `from` only) is the envelope-from given with `-f` when
//! `allow_from_override` is off. Control characters in substituted values
//! become `?`. rsmtp never touches the network here, so `%C` is resolved from
//! `/etc/hosts` (the name listed first on the line that mentions `%H`) and falls
//! back to `%H` itself where msmtp would ask DNS.

use std::fs;
use std::path::{Path, PathBuf};

pub use rsmtp_core::os::{home_dir, home_of, host_name, user_name, user_name_of};

use crate::error::{ConfigError, Source};
// msmtp's `sanitize_string()`: control characters become `?`.
use rsmtp_core::shown as sanitize;

/// msmtp's `expand_tilde()`: a leading `~` is replaced by the home directory
/// (only the first character is looked at, so `~user` becomes `$HOMEuser`, as
/// in msmtp).
pub fn expand_tilde(s: &str) -> PathBuf {
    match s.strip_prefix('~') {
        Some(rest) => {
            let mut p = home_dir().into_os_string();
            p.push(rest);
            PathBuf::from(p)
        }
        None => PathBuf::from(s),
    }
}

/// The canonical name of `host` from a hosts(5) file, or `host` itself.
pub fn canonical_host_name(host: &str, hosts_file: &Path) -> String {
    if let Ok(text) = fs::read_to_string(hosts_file) {
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut fields = line.split_whitespace();
            if fields.next().is_none() {
                continue;
            }
            let names: Vec<&str> = fields.collect();
            if names.iter().any(|n| n.eq_ignore_ascii_case(host)) {
                if let Some(first) = names.first() {
                    return (*first).to_string();
                }
            }
        }
    }
    host.to_string()
}

/// Where the substitution values come from. [`Default`] reads the real system;
/// tests set the fields.
#[derive(Debug, Clone)]
pub struct ExpandContext {
    /// `%U`; `None` → [`user_name()`].
    pub user: Option<String>,
    /// `%H`; `None` → [`host_name()`].
    pub host: Option<String>,
    /// `%C`; `None` → [`canonical_host_name()`] of `%H` via `hosts_file`.
    pub canonical_host: Option<String>,
    /// The file `%M` reads (default `/etc/mailname`).
    pub mailname_file: PathBuf,
    /// The hosts file used for `%C` (default `/etc/hosts`).
    pub hosts_file: PathBuf,
}

impl Default for ExpandContext {
    fn default() -> Self {
        ExpandContext {
            user: None,
            host: None,
            canonical_host: None,
            mailname_file: PathBuf::from("/etc/mailname"),
            hosts_file: PathBuf::from("/etc/hosts"),
        }
    }
}

impl ExpandContext {
    fn host(&self) -> String {
        self.host.clone().unwrap_or_else(host_name)
    }

    fn mailname(&self, at: &Source) -> Result<String, ConfigError> {
        let err = |reason: String| ConfigError::Mailname {
            at: at.clone(),
            path: self.mailname_file.clone(),
            reason,
        };
        let text = fs::read_to_string(&self.mailname_file).map_err(|e| err(e.to_string()))?;
        let first = text.split('\n').next().unwrap_or("");
        let first = first.strip_suffix('\r').unwrap_or(first);
        if first.is_empty() {
            return Err(err("the file is empty".to_string()));
        }
        Ok(sanitize(first))
    }
}

/// Replace `%M`, `%U` (if `with_user`), `%H`, `%C` and `%F` (if `envelope_from`
/// is given) in `s`, in msmtp's order. `at` is the line that set the value.
pub(crate) fn expand_patterns(
    s: &str,
    with_user: bool,
    envelope_from: Option<&str>,
    ctx: &ExpandContext,
    at: &Source,
) -> Result<String, ConfigError> {
    let mut out = s.to_string();
    if out.contains("%M") {
        out = out.replace("%M", &ctx.mailname(at)?);
    }
    if with_user && out.contains("%U") {
        let u = sanitize(&ctx.user.clone().unwrap_or_else(user_name));
        out = out.replace("%U", &u);
    }
    if out.contains("%H") || out.contains("%C") {
        let h = sanitize(&ctx.host());
        if out.contains("%C") {
            let c = ctx
                .canonical_host
                .clone()
                .unwrap_or_else(|| canonical_host_name(&h, &ctx.hosts_file));
            out = out.replace("%C", &sanitize(&c));
        }
        out = out.replace("%H", &h);
    }
    if let Some(f) = envelope_from {
        if out.contains("%F") {
            out = out.replacen("%F", &sanitize(f), 1);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ExpandContext {
        ExpandContext {
            user: Some("alice".into()),
            host: Some("box".into()),
            canonical_host: None,
            mailname_file: PathBuf::from("/nonexistent/mailname"),
            hosts_file: PathBuf::from("/nonexistent/hosts"),
        }
    }

    #[test]
    fn user_and_host() {
        let at = Source::file("f", 1);
        let r = expand_patterns("%U@%H", true, None, &ctx(), &at).expect("expand");
        assert_eq!(r, "alice@box");
        // domain does not expand %U
        let r = expand_patterns("%H.%U", false, None, &ctx(), &at).expect("expand");
        assert_eq!(r, "box.%U");
    }

    #[test]
    fn canonical_from_hosts_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hosts = dir.path().join("hosts");
        fs::write(
            &hosts,
            "127.0.0.1 localhost\n10.0.0.5 box.example.org box # x\n",
        )
        .expect("write");
        let mut c = ctx();
        c.hosts_file = hosts;
        let at = Source::file("f", 1);
        let r = expand_patterns("%C", false, None, &c, &at).expect("expand");
        assert_eq!(r, "box.example.org");
    }

    #[test]
    fn mailname_and_missing_mailname() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = ctx();
        let at = Source::file("rc", 7);
        let e = expand_patterns("root@%M", true, None, &c, &at).expect_err("missing");
        assert!(
            e.to_string().starts_with("rc:7: cannot substitute %M"),
            "{e}"
        );
        c.mailname_file = dir.path().join("mailname");
        fs::write(&c.mailname_file, "mail.example.org\r\nignored\n").expect("write");
        let r = expand_patterns("root@%M", true, None, &c, &at).expect("expand");
        assert_eq!(r, "root@mail.example.org");
    }

    #[test]
    fn envelope_from_and_sanitizing() {
        let at = Source::file("f", 1);
        let mut c = ctx();
        c.user = Some("a\x07b".into());
        let r = expand_patterns("%F via %U", true, Some("x@y"), &c, &at).expect("expand");
        assert_eq!(r, "x@y via a?b");
    }

    #[test]
    fn tilde() {
        let home = home_dir();
        assert_eq!(expand_tilde("~/x"), home.join("x"));
        assert_eq!(expand_tilde("/abs/~x"), PathBuf::from("/abs/~x"));
    }
}
