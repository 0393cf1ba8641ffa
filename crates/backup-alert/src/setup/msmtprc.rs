//! The little backup-alert needs to know about msmtprc files: which `logfile` the default
//! account uses (for `stats`), and how to write a new file for `setup` — its text, quoted
//! the way msmtp reads it, and the file itself, private (0600) and replaced atomically.
//!
//! The grammar, the file search and the quoting belong to rsmtp-config; this module only
//! says which settings a backup-alert account has.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::setup::oauth::OAuthAccount;

/// TLS modes of an SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TlsMode {
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS (a relay on the local network only).
    Off,
}

impl std::fmt::Display for TlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TlsMode::Starttls => "starttls",
            TlsMode::Tls => "tls",
            TlsMode::Off => "off",
        })
    }
}

/// The `logfile` of `account` (or the default account) in the msmtprc files msmtp would
/// read, found and parsed by rsmtp-config (its file search, `RSMTP_SYSCONFIG` rule and
/// grammar). The permission rule is not applied: a file others could read does not
/// matter for reading a log's name.
pub(crate) fn default_logfile(explicit: Option<&Path>, account: Option<&str>) -> Option<PathBuf> {
    let opts = rsmtp_config::LoadOptions {
        user_file: explicit.map(Path::to_path_buf),
        // Root is exempt from the rule.
        check_uid: Some(0),
        ..rsmtp_config::LoadOptions::default()
    };
    logfile_of(&rsmtp_config::Config::load(&opts).ok()?, account)
}

/// The `logfile` that applies to `account` (the default account for `None`).
fn logfile_of(config: &rsmtp_config::Config, account: Option<&str>) -> Option<PathBuf> {
    match config.account(account).ok()?.logfile {
        Some(rsmtp_config::LogFile::File(p)) => Some(p),
        _ => None,
    }
}

/// An account for [`render`].
#[derive(Debug, Clone)]
pub(crate) struct NewAccount<'a> {
    pub(crate) name: &'a str,
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) tls: TlsMode,
    /// Empty: no authentication.
    pub(crate) user: &'a str,
    pub(crate) password: &'a str,
    pub(crate) from: &'a str,
    pub(crate) tls_trust_file: Option<&'a Path>,
    pub(crate) logfile: &'a Path,
    /// OAuth 2.0 instead of the password.
    pub(crate) oauth: Option<&'a OAuthAccount>,
}

/// The account's own lines, complete in themselves: every setting it needs is written in
/// the block, so the `defaults` of a file it is added to (another account's `auth`, `tls`,
/// `passwordeval`) cannot change what it does.
pub(crate) fn render_account(a: &NewAccount<'_>) -> String {
    let port = a.port.to_string();
    let mut settings = vec![("host", a.host), ("port", &port)];
    match a.tls {
        TlsMode::Off => settings.push(("tls", "off")),
        TlsMode::Starttls => settings.extend([("tls", "on"), ("tls_starttls", "on")]),
        TlsMode::Tls => settings.extend([("tls", "on"), ("tls_starttls", "off")]),
    }
    let trust = a.tls_trust_file.map(|t| t.to_string_lossy());
    if let Some(t) = &trust {
        settings.push(("tls_trust_file", t));
    }
    settings.push(("from", a.from));
    if a.user.is_empty() {
        settings.push(("auth", "off"));
    } else if let Some(oauth) = a.oauth {
        settings.extend([("auth", "xoauth2"), ("user", a.user)]);
        settings.extend(oauth.lines());
    } else {
        settings.extend([("auth", "on"), ("user", a.user), ("password", a.password)]);
    }
    let logfile = a.logfile.to_string_lossy();
    settings.push(("logfile", &logfile));
    rsmtp_config::render_account(a.name, &settings)
}

/// A complete new msmtprc: the account and `account default : NAME`.
pub(crate) fn render(a: &NewAccount<'_>, now: &str) -> String {
    let mut s = format!("# Written by backup-alert setup on {now}.\n\n");
    s.push_str(&render_account(a));
    if let Some(line) = rsmtp_config::render_default_account(a.name) {
        s.push('\n');
        s.push_str(&line);
    }
    s
}

/// Owner, group and mode of a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ownership {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) mode: u32,
}

/// What [`write_config`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    /// The copy of the previous version, when there was one.
    pub(crate) backup: Option<PathBuf>,
    pub(crate) ownership: Ownership,
    /// The existing file's mode, when it was tightened because the text holds a literal
    /// password (see [`mode_for_secret`]).
    pub(crate) tightened_from: Option<u32>,
}

/// Does the text hold a literal `password` or `oauth2_client_secret` (not their `eval`)?
pub(crate) fn holds_password(text: &str) -> bool {
    text.lines().any(|l| {
        matches!(
            l.split_whitespace().next(),
            Some("password" | "oauth2_client_secret")
        )
    })
}

/// The mode an existing msmtprc must have once it holds a literal password: nobody
/// outside its owner and group may read it (a system file's group is a choice, `--group
/// www-data`), and a user's own file is its user's alone, as msmtp requires of it.
pub(crate) fn mode_for_secret(mode: u32, owner: u32, me: u32) -> u32 {
    if owner == me && me != 0 {
        mode & !0o077
    } else {
        mode & !0o007
    }
}

/// The name of the copy of `path` made at `stamp` (`msmtprc.bak.2026-12-01T02:00:00`),
/// never one that exists: a second copy in the same second gets `.1`, `.2`, ….
pub(crate) fn backup_name(path: &Path, stamp: &str) -> PathBuf {
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
///
/// A text holding a literal password is never left readable by others: the existing
/// mode is tightened with [`mode_for_secret`], the owner kept, and [`Written`] says so.
pub(crate) fn write_config(
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
    let mut tightened_from = None;
    let ownership = match &existing {
        Some(m) => {
            let mut mode = m.mode() & 0o7777;
            if holds_password(text) {
                let tight = mode_for_secret(mode, m.uid(), me.0);
                if tight != mode {
                    tightened_from = Some(mode);
                    mode = tight;
                }
            }
            Ownership {
                uid: m.uid(),
                gid: m.gid(),
                mode,
            }
        }
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
    Ok(Written {
        backup,
        ownership,
        tightened_from,
    })
}

/// Our effective uid and gid.
fn rustix_uid_gid() -> (u32, u32) {
    (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    )
}

/// The name of group `gid`, from /etc/group.
pub(crate) fn group_name(gid: u32) -> Option<String> {
    let text = fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2].parse() == Ok(gid)).then(|| f[0].to_string())
    })
}

/// The gid of group `name` (a number is taken as it is), from /etc/group.
pub(crate) fn group_id(name: &str) -> Option<u32> {
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

    fn logfile_in(text: &str, account: &str) -> Option<PathBuf> {
        logfile_of(
            &rsmtp_config::Config::parse(text, "/rc").ok()?,
            Some(account),
        )
    }

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
    fn odd_values_in_a_rendered_account_read_back_through_rsmtp_config() {
        let mut a = new_account("backup");
        let (user, password) = (" me@example.com", "p\"a ss#\\ \t");
        a.user = user;
        a.password = password;
        let text = render(&a, "now");
        let config = rsmtp_config::Config::parse(&text, "/rc").expect(&text);
        let parsed = config.account(None).expect(&text);
        assert_eq!(parsed.user.as_deref(), Some(user), "{text}");
        let read = parsed.password.as_ref().map(|p| p.expose().to_string());
        assert_eq!(read.as_deref(), Some(password), "{text}");
        assert_eq!(
            parsed.logfile,
            Some(rsmtp_config::LogFile::File("/tmp/msmtp.log".into()))
        );
    }

    fn new_account(name: &str) -> NewAccount<'_> {
        NewAccount {
            name,
            host: "smtp.example.com",
            port: 587,
            tls: TlsMode::Starttls,
            user: "me@example.com",
            password: "pw",
            from: "me@example.com",
            tls_trust_file: None,
            logfile: Path::new("/tmp/msmtp.log"),
            oauth: None,
        }
    }

    fn account(name: &str) -> String {
        render(&new_account(name), "now")
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
