//! The little backup-alert needs to know about msmtprc files: which `logfile` the default
//! account uses (for `stats`), and how to write a new file for `setup` — its text, quoted
//! the way msmtp reads it, and the file itself, private (0600) and replaced atomically.
//!
//! The grammar belongs to rsmtp-config, which is asked first. The fallback scan follows
//! `defaults`, `account NAME [: parents]` and `account default : NAME` well enough to find a
//! `logfile`, and gives up (returns `None`) rather than guess on anything stranger.

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::cli::TlsMode;
use crate::error::Error;
use crate::settings::expand_tilde;

/// The msmtprc files msmtp would read, system first: `$RSMTP_SYSCONFIG` or /etc/msmtprc,
/// then `explicit` or the user file.
pub fn candidate_files(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut files = vec![std::env::var_os("RSMTP_SYSCONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/msmtprc"))];
    match explicit {
        Some(p) => files.push(p.to_path_buf()),
        None => {
            if let Some(home) = std::env::var_os("HOME") {
                let home = PathBuf::from(home);
                let xdg = std::env::var_os("XDG_CONFIG_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| home.join(".config"));
                for p in [home.join(".msmtprc"), xdg.join("msmtp/config")] {
                    if p.exists() {
                        files.push(p);
                        break;
                    }
                }
            }
        }
    }
    files
}

/// The `logfile` of `account` (or the default account) in the msmtprc files: read with
/// rsmtp-config (the real grammar), falling back to a plain scan when rsmtp-config refuses
/// the files (a permission problem does not matter for reading a log's name).
pub fn default_logfile(explicit: Option<&Path>, account: Option<&str>) -> Option<PathBuf> {
    let opts = rsmtp_config::LoadOptions {
        user_file: explicit.map(Path::to_path_buf),
        ..rsmtp_config::LoadOptions::default()
    };
    if let Ok(config) = rsmtp_config::Config::load(&opts) {
        return match config.account(account).ok()?.logfile {
            Some(rsmtp_config::LogFile::File(p)) => Some(p),
            _ => None,
        };
    }
    let mut text = String::new();
    for f in candidate_files(explicit) {
        if let Ok(t) = std::fs::read_to_string(&f) {
            text.push_str(&t);
            text.push('\n');
        }
    }
    logfile_in(&text, account.unwrap_or("default"))
}

/// Scan msmtprc text for the `logfile` that applies to `account`.
pub fn logfile_in(text: &str, account: &str) -> Option<PathBuf> {
    // Each account's own logfile, its parents, and the defaults in force when it began.
    struct Acc {
        logfile: Option<String>,
        parents: Vec<String>,
        inherited: Option<String>,
    }
    let mut accounts: HashMap<String, Acc> = HashMap::new();
    let mut defaults: Option<String> = None;
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (cmd, arg) = line
            .split_once(char::is_whitespace)
            .map(|(c, a)| (c, a.trim()))
            .unwrap_or((line, ""));
        let arg = unquote_arg(arg);
        match cmd {
            "defaults" => current = None,
            "account" => {
                let (name, parents) = match arg.split_once(':') {
                    Some((n, p)) => (
                        n.trim().to_string(),
                        p.split(',').map(|s| s.trim().to_string()).collect(),
                    ),
                    None => (arg.to_string(), Vec::new()),
                };
                accounts.insert(
                    name.clone(),
                    Acc {
                        logfile: None,
                        parents,
                        inherited: defaults.clone(),
                    },
                );
                current = Some(name);
            }
            "logfile" => match &current {
                None => defaults = Some(arg.to_string()),
                Some(a) => {
                    if let Some(acc) = accounts.get_mut(a) {
                        acc.logfile = Some(arg.to_string());
                    }
                }
            },
            _ => {}
        }
    }
    // Resolve: own logfile, else the last parent's, else the defaults it started with.
    let mut name = account.to_string();
    for _ in 0..16 {
        let acc = accounts.get(&name)?;
        if let Some(l) = &acc.logfile {
            return (!l.is_empty()).then(|| expand_tilde(l));
        }
        match acc.parents.last() {
            Some(p) if accounts.get(p).is_some_and(|pa| pa.logfile.is_some()) => {
                name = p.clone();
            }
            Some(p) if acc.parents.len() == 1 && accounts.contains_key(p) => name = p.clone(),
            _ => {
                return acc
                    .inherited
                    .as_ref()
                    .filter(|l| !l.is_empty())
                    .map(|l| expand_tilde(l))
            }
        }
    }
    None
}

/// Write `value` so that msmtp reads it back unchanged. msmtp (1.8.23, checked) takes
/// the rest of the line with surrounding blanks removed, then strips one pair of double
/// quotes when the argument both starts and ends with one — and does nothing else: no
/// escapes. So quotes are added only when blanks at either end or a quote pair at both
/// ends would otherwise be lost.
pub fn quote_arg(value: &str) -> String {
    let needs = value.is_empty()
        || value.starts_with(char::is_whitespace)
        || value.ends_with(char::is_whitespace)
        || (value.len() >= 2 && value.starts_with('"') && value.ends_with('"'));
    if needs {
        format!("\"{value}\"")
    } else {
        value.to_string()
    }
}

/// What msmtp makes of an argument as written (the inverse of [`quote_arg`]).
pub fn unquote_arg(written: &str) -> &str {
    let t = written.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        &t[1..t.len() - 1]
    } else {
        t
    }
}

/// An account for [`render`].
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub name: &'a str,
    pub host: &'a str,
    pub port: u16,
    pub tls: TlsMode,
    /// Empty: no authentication.
    pub user: &'a str,
    pub password: &'a str,
    pub from: &'a str,
    pub tls_trust_file: Option<&'a Path>,
    pub logfile: &'a Path,
}

/// The account's own lines, complete in themselves: every setting it needs is written in
/// the block, so the `defaults` of a file it is added to (another account's `auth`, `tls`,
/// `passwordeval`) cannot change what it does.
pub fn render_account(a: &NewAccount<'_>) -> String {
    let mut s = format!("account        {}\n", a.name);
    s.push_str(&format!("host           {}\n", a.host));
    s.push_str(&format!("port           {}\n", a.port));
    match a.tls {
        TlsMode::Off => s.push_str("tls            off\n"),
        TlsMode::Starttls => s.push_str("tls            on\ntls_starttls   on\n"),
        TlsMode::Tls => s.push_str("tls            on\ntls_starttls   off\n"),
    }
    if let Some(t) = a.tls_trust_file {
        s.push_str(&format!(
            "tls_trust_file {}\n",
            quote_arg(&t.to_string_lossy())
        ));
    }
    s.push_str(&format!("from           {}\n", a.from));
    if a.user.is_empty() {
        s.push_str("auth           off\n");
    } else {
        s.push_str("auth           on\n");
        s.push_str(&format!("user           {}\n", quote_arg(a.user)));
        s.push_str(&format!("password       {}\n", quote_arg(a.password)));
    }
    s.push_str(&format!(
        "logfile        {}\n",
        quote_arg(&a.logfile.to_string_lossy())
    ));
    s
}

/// A complete new msmtprc: the account and `account default : NAME`.
pub fn render(a: &NewAccount<'_>, now: &str) -> String {
    let mut s = format!("# Written by backup-alert setup on {now}.\n\n");
    s.push_str(&render_account(a));
    // An account called `default` is the default already; msmtp refuses
    // `account default : default` ("account default was already defined").
    if a.name != "default" {
        s.push_str(&format!("\naccount default : {}\n", a.name));
    }
    s
}

/// Why msmtp would refuse `name` as an account name, or `None` when it takes it.
/// msmtp 1.8.23 (checked): "an account name must not contain colons or commas"; an
/// empty or blank name, or one with a control character, would not survive the line.
pub fn account_name_problem(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("is empty")
    } else if name.contains([':', ',']) {
        Some("contains a colon or a comma")
    } else if name.chars().any(char::is_control) || name.trim() != name {
        Some("has control characters or blanks at either end")
    } else {
        None
    }
}

/// Owner, group and mode of a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ownership {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

/// What [`write_config`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The copy of the previous version, when there was one.
    pub backup: Option<PathBuf>,
    pub ownership: Ownership,
}

/// The name of the copy of `path` made at `stamp` (`msmtprc.bak.2026-12-01T02:00:00`),
/// never one that exists: a second copy in the same second gets `.1`, `.2`, ….
pub fn backup_name(path: &Path, stamp: &str) -> PathBuf {
    let base = format!("{}.bak.{stamp}", path.display());
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while candidate.symlink_metadata().is_ok() {
        candidate = PathBuf::from(format!("{base}.{n}"));
        n += 1;
    }
    candidate
}

/// Write `text` to `path`: a temporary file in the same directory, given its owner, group
/// and mode before anything is in it, synced, then renamed over the target, so readers
/// see the old file or the new one, never half. An existing file keeps its owner, group
/// and mode (PHP running as www-data keeps reading /etc/msmtprc) and is first copied to
/// [`backup_name`] (mode 0600: it holds the same secrets); every earlier copy is kept. A
/// new file gets `new_file` (the writer's own uid when `uid` is `None`).
pub fn write_config(
    path: &Path,
    text: &str,
    new_file: (Option<u32>, Option<u32>, u32),
    stamp: &str,
) -> Result<Written, Error> {
    use std::os::unix::fs::MetadataExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| Error::Usage(format!("{} is not a file name", path.display())))?;
    let existing = fs::metadata(path).ok();
    let me = rustix_uid_gid();
    let ownership = match &existing {
        Some(m) => Ownership {
            uid: m.uid(),
            gid: m.gid(),
            mode: m.mode() & 0o7777,
        },
        None => Ownership {
            uid: new_file.0.unwrap_or(me.0),
            gid: new_file.1.unwrap_or(me.1),
            mode: new_file.2,
        },
    };
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        if (ownership.uid, ownership.gid) != me {
            std::os::unix::fs::fchown(&f, Some(ownership.uid), Some(ownership.gid))?;
        }
        f.set_permissions(fs::Permissions::from_mode(ownership.mode))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::cant_create(path, e));
    }
    let mut backup = None;
    if existing.is_some() {
        let bak = backup_name(path, stamp);
        let copied = fs::read(path).and_then(|old| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&bak)?;
            f.write_all(&old)?;
            f.sync_all()
        });
        if let Err(e) = copied {
            let _ = fs::remove_file(&tmp);
            return Err(Error::cant_create(&bak, e));
        }
        backup = Some(bak);
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::cant_create(path, e)
    })?;
    Ok(Written { backup, ownership })
}

/// Our effective uid and gid.
fn rustix_uid_gid() -> (u32, u32) {
    (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    )
}

/// The name of group `gid`, from /etc/group.
pub fn group_name(gid: u32) -> Option<String> {
    let text = fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2].parse() == Ok(gid)).then(|| f[0].to_string())
    })
}

/// The gid of group `name` (a number is taken as it is), from /etc/group.
pub fn group_id(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    let text = fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        f.nth(1)?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RC: &str = "defaults\nauth on\ntls on\nlogfile /var/log/msmtp.log\n\naccount backup\nhost smtp.gmail.com\n\naccount other\nlogfile ~/other.log\n\naccount default : backup\n";

    #[test]
    fn finds_the_logfile_of_the_default_account() {
        assert_eq!(
            logfile_in(RC, "default"),
            Some(PathBuf::from("/var/log/msmtp.log"))
        );
        assert_eq!(
            logfile_in(RC, "backup"),
            Some(PathBuf::from("/var/log/msmtp.log"))
        );
        assert!(logfile_in(RC, "other").unwrap().ends_with("other.log"));
        assert_eq!(logfile_in(RC, "missing"), None);
        assert_eq!(logfile_in("account default\nhost x\n", "default"), None);
    }

    #[test]
    fn quoting_round_trips_the_msmtp_way() {
        assert_eq!(quote_arg("abcdefghijklmnop"), "abcdefghijklmnop");
        assert_eq!(quote_arg("with space inside"), "with space inside");
        assert_eq!(quote_arg(" lead"), "\" lead\"");
        assert_eq!(quote_arg("a\"b\\c"), "a\"b\\c");
        assert_eq!(quote_arg("\"both\""), "\"\"both\"\"");
        for v in [
            "x", " x ", "\"q\"", "\"open", "close\"", "a\\\"b", "#hash", "", "\"",
        ] {
            assert_eq!(unquote_arg(&quote_arg(v)), v, "{v:?}");
        }
    }

    fn account(name: &str) -> String {
        render(
            &NewAccount {
                name,
                host: "smtp.example.com",
                port: 587,
                tls: TlsMode::Starttls,
                user: "me@example.com",
                password: "pw",
                from: "me@example.com",
                tls_trust_file: None,
                logfile: Path::new("/tmp/msmtp.log"),
            },
            "now",
        )
    }

    #[test]
    fn an_account_named_default_is_not_aliased_to_itself() {
        let text = account("default");
        assert!(text.contains("\naccount        default\n"), "{text}");
        assert!(!text.contains("account default :"), "{text}");
        assert!(account("backup").ends_with("\naccount default : backup\n"));
        // msmtp 1.8.23 accepts the file (it refused `account default : default` with 78)
        if Path::new("/usr/bin/msmtp").exists() {
            let d = tempfile::tempdir().unwrap();
            let rc = d.path().join("rc");
            write_config(&rc, &text, (None, None, 0o600), "now").unwrap();
            let out = std::process::Command::new("/usr/bin/msmtp")
                .arg("-C")
                .arg(&rc)
                .arg("-P")
                .env("HOME", d.path())
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "msmtp refused it: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    #[test]
    fn account_names_msmtp_refuses_are_caught() {
        assert_eq!(account_name_problem("backup"), None);
        assert_eq!(account_name_problem("my backup"), None);
        assert!(account_name_problem("a:b").is_some());
        assert!(account_name_problem("a,b").is_some());
        assert!(account_name_problem(" ").is_some());
        assert!(account_name_problem("a\nhost evil").is_some());
    }

    #[test]
    fn writes_atomically_and_keeps_every_backup_and_the_mode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("msmtprc");
        let new = (None, None, 0o600);
        let w = write_config(&p, "one\n", new, "2026-12-01T02:00:00").unwrap();
        assert_eq!(w.backup, None);
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // an existing file keeps its mode
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let first = write_config(&p, "two\n", new, "2026-12-01T02:00:00").unwrap();
        let second = write_config(&p, "three\n", new, "2026-12-01T02:00:00").unwrap();
        let (b1, b2) = (first.backup.unwrap(), second.backup.unwrap());
        assert_eq!(b1, d.path().join("msmtprc.bak.2026-12-01T02:00:00"));
        assert_eq!(b2, d.path().join("msmtprc.bak.2026-12-01T02:00:00.1"));
        assert_eq!(fs::read_to_string(&b1).unwrap(), "one\n");
        assert_eq!(fs::read_to_string(&b2).unwrap(), "two\n");
        assert_eq!(fs::read_to_string(&p).unwrap(), "three\n");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(
            fs::metadata(&b1).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // no temporary file left behind
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 3);
        assert_eq!(group_id("0"), Some(0));
        assert_eq!(group_id("root"), Some(0));
        assert_eq!(group_id("no-such-group-here"), None);
    }
}
