//! backup-alert's own settings: a small INI file with defaults for recipients, sender,
//! account and flood window, so cron lines stay short.
//!
//! Files, later ones overriding earlier ones key by key: `/etc/backup-alert.conf`
//! (`$BACKUP_ALERT_SYSCONFIG` replaces that path, as tests do), then the user file
//! `~/.config/backup-alert/config` (`$XDG_CONFIG_HOME` honoured) — or, instead of the
//! user file, the one given with `--settings FILE`. In each file `[default]` applies
//! first, then `[host:NAME]` for this machine's host name. Command-line flags win over all.
//!
//! ```ini
//! [default]
//! to = admin@example.com, ops@example.com
//! from = backups@example.com
//! from_name = Backup alerts
//! flood_window = 1h
//! metrics_file = /var/lib/prometheus/node-exporter/backup_alert.prom
//!
//! [host:db01]
//! to = dba@example.com
//! language = fr
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use crate::units::parse_duration;

/// Keys a settings file may contain.
const KEYS: &[&str] = &[
    "to",
    "from",
    "from_name",
    "account",
    "msmtprc",
    "flood_window",
    "log_lines",
    "state_dir",
    "hostname",
    "logfile",
    "metrics_file",
    "language",
];

/// Resolved settings (each `None` when no file sets it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub(crate) to: Vec<String>,
    pub(crate) from: Option<String>,
    /// Display name of the From header when `from` has none (default "Backup alerts").
    pub(crate) from_name: Option<String>,
    pub(crate) account: Option<String>,
    pub(crate) msmtprc: Option<PathBuf>,
    pub(crate) flood_window: Option<Duration>,
    pub(crate) log_lines: Option<usize>,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) hostname: Option<String>,
    /// The msmtp-format log `stats` reads by default.
    pub(crate) logfile: Option<PathBuf>,
    /// node_exporter textfile rewritten after every `run` and `check`.
    pub(crate) metrics_file: Option<PathBuf>,
    /// The language alerts are written in (`fr`, `ja`, `en`); else the locale's.
    pub(crate) language: Option<crate::lang::Language>,
    /// Files that were read, for messages.
    pub(crate) sources: Vec<PathBuf>,
}

/// The system settings file.
pub(crate) fn system_path() -> PathBuf {
    std::env::var_os("BACKUP_ALERT_SYSCONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/backup-alert.conf"))
}

/// The user settings file (`$XDG_CONFIG_HOME/backup-alert/config`).
pub(crate) fn user_path() -> Option<PathBuf> {
    xdg_dir("XDG_CONFIG_HOME", ".config").map(|d| d.join("backup-alert/config"))
}

/// `$HOME`, when it is set and not empty: backup-alert's own files (settings, state,
/// the msmtprc setup writes) are placed from it. (Reading an msmtprc follows msmtp's
/// rules instead, in rsmtp-config.)
pub(crate) fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// An XDG base directory: `$var` when it is set and not empty, else `$HOME/under_home`.
pub(crate) fn xdg_dir(var: &str, under_home: &str) -> Option<PathBuf> {
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => home().map(|h| h.join(under_home)),
    }
}

/// Load the system file, then `explicit` or the user file, for host `host`.
/// A missing file is skipped; an explicit file that is missing is an error.
pub(crate) fn load(explicit: Option<&Path>, host: &str) -> Result<Settings, Error> {
    let mut s = Settings::default();
    let system = system_path();
    if system.exists() {
        s.apply_file(&system, host)?;
    }
    match explicit {
        Some(p) => {
            if !p.exists() {
                return Err(Error::Config(format!(
                    "settings file {} does not exist",
                    p.display()
                )));
            }
            s.apply_file(p, host)?;
        }
        None => {
            if let Some(u) = user_path().filter(|u| u.exists()) {
                s.apply_file(&u, host)?;
            }
        }
    }
    Ok(s)
}

impl Settings {
    fn apply_file(&mut self, path: &Path, host: &str) -> Result<(), Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::no_input(path, e))?;
        self.apply_text(&text, path, host)?;
        self.sources.push(path.to_path_buf());
        Ok(())
    }

    /// Apply the `[default]` then `[host:HOST]` sections of an INI text.
    pub fn apply_text(&mut self, text: &str, path: &Path, host: &str) -> Result<(), Error> {
        let ini = ini::Ini::load_from_str(text)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        for (section, props) in ini.iter() {
            let name = section.unwrap_or("");
            if name.is_empty() && props.is_empty() {
                continue;
            }
            if name != "default" && !name.starts_with("host:") {
                return Err(Error::Config(format!(
                    "{}: unknown section [{name}] (use [default] or [host:NAME])",
                    path.display()
                )));
            }
        }
        let host_section = format!("host:{host}");
        for section in ["default", host_section.as_str()] {
            let Some(props) = ini.section(Some(section)) else {
                continue;
            };
            for (key, value) in props.iter() {
                self.set(key, value.trim()).map_err(|msg| {
                    Error::Config(format!("{}: [{section}] {key}: {msg}", path.display()))
                })?;
            }
        }
        Ok(())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let path = |v: &str| Some(expand_tilde(v));
        match key {
            "to" => self.to = crate::addresses::split_addresses(value),
            "from" => self.from = Some(value.to_string()).filter(|v| !v.is_empty()),
            "from_name" => self.from_name = Some(value.to_string()).filter(|v| !v.is_empty()),
            "account" => self.account = Some(value.to_string()).filter(|v| !v.is_empty()),
            "msmtprc" => self.msmtprc = path(value),
            "flood_window" => self.flood_window = Some(parse_duration(value)?),
            "log_lines" => {
                self.log_lines = Some(
                    value
                        .parse()
                        .map_err(|_| format!("`{value}` is not a number of lines"))?,
                )
            }
            "state_dir" => self.state_dir = path(value),
            "hostname" => self.hostname = Some(value.to_string()).filter(|v| !v.is_empty()),
            "logfile" => self.logfile = path(value),
            "metrics_file" => self.metrics_file = path(value).filter(|p| !p.as_os_str().is_empty()),
            "language" => self.language = Some(crate::lang::Language::parse_setting(value)?),
            _ => return Err(format!("unknown key (known keys: {})", KEYS.join(", "))),
        }
        Ok(())
    }
}

/// `~/x` → `$HOME/x`.
pub(crate) fn expand_tilde(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), home()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_then_host_section() {
        let mut s = Settings::default();
        let text = "[default]\nto = a@x.example, b@x.example\nfrom = f@x.example\nflood_window = 2h\n\n[host:db01]\nto = dba@x.example\nlog_lines = 20\n\n[host:web01]\nto = web@x.example\n";
        s.apply_text(text, Path::new("t.conf"), "db01").unwrap();
        assert_eq!(s.to, vec!["dba@x.example"]);
        assert_eq!(s.from.as_deref(), Some("f@x.example"));
        assert_eq!(s.flood_window, Some(Duration::from_secs(7200)));
        assert_eq!(s.log_lines, Some(20));

        let mut other = Settings::default();
        other.apply_text(text, Path::new("t.conf"), "nas").unwrap();
        assert_eq!(other.to, vec!["a@x.example", "b@x.example"]);
        assert_eq!(other.log_lines, None);
    }

    #[test]
    fn later_files_override_key_by_key() {
        let mut s = Settings::default();
        s.apply_text(
            "[default]\nto=a@x.example\naccount=sys\n",
            Path::new("a"),
            "h",
        )
        .unwrap();
        s.apply_text("[default]\nto=b@x.example\n", Path::new("b"), "h")
            .unwrap();
        assert_eq!(s.to, vec!["b@x.example"]);
        assert_eq!(s.account.as_deref(), Some("sys"));
    }

    #[test]
    fn typos_are_reported_with_file_and_section() {
        let mut s = Settings::default();
        let err = s
            .apply_text(
                "[default]\nrecipient = a@x\n",
                Path::new("/etc/b.conf"),
                "h",
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/etc/b.conf: [default] recipient: unknown key"),
            "{err}"
        );
        let err = s
            .apply_text("[defaults]\nto = a@x\n", Path::new("f"), "h")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown section [defaults]"), "{err}");
        assert!(s
            .apply_text("[default]\nflood_window = soon\n", Path::new("f"), "h")
            .is_err());
    }
}
