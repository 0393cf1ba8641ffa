//! Who may have written the queue: the ownership rule for the queue directory,
//! its subdirectories, each entry, and the `-C` file an entry names.
//!
//! A queue entry is a set of instructions the flusher carries out with its own
//! rights: which account to use, which settings to apply, whom to mail. If
//! another user could write the queue (a `queue_dir` under `/tmp`, a shared
//! volume, a directory someone else created), that user could plant an entry and
//! have root's `rsmtp -q` act on it. So, like msmtp's rule for a msmtprc holding
//! a password, everything the flusher reads must be owned by the user running
//! rsmtp (or by root) and writable by nobody else:
//!
//! * the queue directory and its `tmp/`, `queue/` and `failed/`: real directories
//!   (`lstat`, a symbolic link is refused), owned by us or root, no group/other
//!   write bit; otherwise [`Queue::open`](crate::Queue::open) fails with EX_CONFIG
//!   and names the `chown`/`chmod 700` that fixes it;
//! * each entry's directory, `message` and `envelope`: the same, checked on the
//!   opened file (`O_NOFOLLOW`, then `fstat`) so what is checked is what is read;
//! * the `-C` file an entry names: owned by us or root and not writable by
//!   others (followed if it is a link, as msmtp reads it), absolute.
//!
//! Parent directories of the queue are not checked (msmtp does not check the
//! msmtprc's either): a parent someone else can write lets them rename our queue
//! away, but whatever they put in its place is owned by them and refused here.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags};

use crate::QueueError;

pub(crate) use rsmtp_core::os::current_uid;

/// Why a queue directory or an entry file is not trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Distrust {
    /// A symbolic link where a real directory or file must be.
    Symlink,
    /// Not a directory (or not a regular file, for an entry's files).
    WrongType {
        /// "a directory" or "a regular file".
        expected: &'static str,
    },
    /// Owned by another user (neither the one running rsmtp nor root).
    Owner {
        /// The owner's uid.
        owner: u32,
        /// The owner's login name, if /etc/passwd has one.
        owner_name: Option<String>,
        /// The uid running rsmtp.
        user: u32,
        /// Its login name, if /etc/passwd has one.
        user_name: Option<String>,
    },
    /// Writable by group or others.
    Writable {
        /// The permission bits found.
        mode: u32,
    },
    /// A path that must be absolute is not (an entry's `-C` file).
    Relative,
}

/// "nobody (uid 65534)", or "uid 65534" when the passwd file has no name for it.
fn describe_user(uid: u32, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{name} (uid {uid})"),
        None => format!("uid {uid}"),
    }
}

impl Distrust {
    /// The user to `chown` to: the login name when known, else the uid.
    fn chown_target(&self) -> String {
        match self {
            Distrust::Owner {
                user, user_name, ..
            } => user_name.clone().unwrap_or_else(|| user.to_string()),
            _ => current_user_name(),
        }
    }

    /// The command (or step) that makes `path` acceptable as a queue directory.
    pub fn fix(&self, path: &Path) -> String {
        let p = path.display();
        match self {
            Distrust::Symlink => format!(
                "point queue_dir at the real directory, or replace the link: \
                 rm {p} && mkdir -m 700 {p}"
            ),
            Distrust::WrongType { .. } => {
                "remove it or choose another queue_dir, then rsmtp creates it (mode 700)"
                    .to_string()
            }
            Distrust::Owner { .. } => format!(
                "check what it holds, then: chown {} {p} && chmod 700 {p}",
                self.chown_target()
            ),
            Distrust::Writable { .. } => format!("chmod 700 {p}"),
            Distrust::Relative => "queue it again with an absolute -C path".to_string(),
        }
    }
}

impl fmt::Display for Distrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Distrust::Symlink => f.write_str("is a symbolic link"),
            Distrust::WrongType { expected } => write!(f, "is not {expected}"),
            Distrust::Owner {
                owner,
                owner_name,
                user,
                user_name,
            } => {
                let owner = describe_user(*owner, owner_name.as_deref());
                if *user == 0 {
                    write!(f, "is owned by {owner}, not by you (root)")
                } else {
                    let you = describe_user(*user, user_name.as_deref());
                    write!(f, "is owned by {owner}, not by you ({you}) or root")
                }
            }
            Distrust::Writable { mode } => write!(
                f,
                "can be written by group or others (mode {:04o})",
                mode & 0o7777
            ),
            Distrust::Relative => f.write_str("is not an absolute path"),
        }
    }
}

fn current_user_name() -> String {
    let uid = current_uid();
    rsmtp_config::user_name_of(uid).unwrap_or_else(|| uid.to_string())
}

/// The rule itself, on the result of `lstat` or `fstat`.
fn judge(stat: &rustix::fs::Stat, expected: FileType) -> Result<(), Distrust> {
    let file_type = FileType::from_raw_mode(stat.st_mode);
    if file_type == FileType::Symlink {
        return Err(Distrust::Symlink);
    }
    if file_type != expected {
        return Err(Distrust::WrongType {
            expected: if expected == FileType::Directory {
                "a directory"
            } else {
                "a regular file"
            },
        });
    }
    let user = current_uid();
    let owner = stat.st_uid;
    if owner != user && owner != 0 {
        return Err(Distrust::Owner {
            owner,
            owner_name: rsmtp_config::user_name_of(owner),
            user,
            user_name: rsmtp_config::user_name_of(user),
        });
    }
    let mode = stat.st_mode;
    if mode & 0o022 != 0 {
        return Err(Distrust::Writable { mode });
    }
    Ok(())
}

/// What went wrong checking a path: the rule, or the check itself.
#[derive(Debug)]
pub enum CheckError {
    /// The path breaks the rule.
    Distrust(Distrust),
    /// It could not be examined.
    Io(io::Error),
}

impl CheckError {
    /// As the error for a queue directory at `path`.
    pub(crate) fn for_dir(self, path: &Path) -> QueueError {
        match self {
            CheckError::Distrust(problem) => QueueError::UntrustedDir {
                path: path.to_owned(),
                problem,
            },
            CheckError::Io(e) => QueueError::io("examine", path, e),
        }
    }

    /// As the error for an entry's file or directory at `path`.
    pub(crate) fn for_entry(self, path: &Path) -> QueueError {
        match self {
            CheckError::Distrust(problem) => QueueError::UntrustedEntry {
                path: path.to_owned(),
                problem,
            },
            CheckError::Io(e) => QueueError::io("open", path, e),
        }
    }
}

impl From<rustix::io::Errno> for CheckError {
    fn from(e: rustix::io::Errno) -> Self {
        if e == rustix::io::Errno::LOOP {
            // O_NOFOLLOW on a symbolic link.
            CheckError::Distrust(Distrust::Symlink)
        } else {
            CheckError::Io(e.into())
        }
    }
}

/// Whether `path` is a directory rsmtp may keep mail in: see [`check_dir`]. The
/// sendmail path spools a body next to the queue only when this holds.
pub fn is_trusted_dir(path: &Path) -> bool {
    check_dir(path).is_ok()
}

/// The queue's rule for another private store (the OAuth token store): `path` is a
/// real directory (not a symbolic link), ours or root's, writable by nobody else.
pub fn check_trusted_dir(path: &Path) -> Result<(), CheckError> {
    check_dir(path)
}

/// The queue's rule for a file of another private store: opened without following a
/// symbolic link, and the very file opened is judged (ours or root's, a regular file,
/// writable by nobody else).
pub fn open_trusted_file(path: &Path) -> Result<File, CheckError> {
    open_entry_file(path)
}

/// A directory of the queue (the queue directory itself, `tmp/`, an entry's
/// directory), judged without following a final symbolic link.
pub(crate) fn check_dir(path: &Path) -> Result<(), CheckError> {
    let stat = rustix::fs::lstat(path)?;
    judge(&stat, FileType::Directory).map_err(CheckError::Distrust)
}

/// Opens an entry's file for reading without following a symbolic link, and
/// judges the very file opened.
pub(crate) fn open_entry_file(path: &Path) -> Result<File, CheckError> {
    open_entry_file_at(rustix::fs::CWD, path).map(|(file, _)| file)
}

/// [`open_entry_file`] for `path` under the open directory `dir` (a short path
/// walk: `mailq` opens 10,000 envelopes), with the file's size.
pub(crate) fn open_entry_file_at(dir: impl AsFd, path: &Path) -> Result<(File, u64), CheckError> {
    let fd: OwnedFd = rustix::fs::openat(
        dir,
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let stat = rustix::fs::fstat(&fd)?;
    judge(&stat, FileType::RegularFile).map_err(CheckError::Distrust)?;
    Ok((File::from(fd), u64::try_from(stat.st_size).unwrap_or(0)))
}

/// Judges the already opened `file` (a lock holder re-checks what it locked).
pub(crate) fn check_open_file(file: &File) -> Result<(), CheckError> {
    let stat = rustix::fs::fstat(file)?;
    judge(&stat, FileType::RegularFile).map_err(CheckError::Distrust)
}

/// The `-C` file an entry names. Followed if it is a link (dotfile managers link
/// `~/.msmtprc`), then judged like an entry file: it is what tells the flusher
/// which host to send the password to and which commands to run (`passwordeval`).
pub(crate) fn check_config_file(path: &Path) -> Result<(), CheckError> {
    if !path.is_absolute() {
        return Err(CheckError::Distrust(Distrust::Relative));
    }
    let stat = rustix::fs::stat(path)?;
    judge(&stat, FileType::RegularFile).map_err(CheckError::Distrust)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn distrust(r: Result<(), CheckError>) -> Distrust {
        match r {
            Err(CheckError::Distrust(d)) => d,
            other => panic!("expected a distrust verdict, got {other:?}"),
        }
    }

    #[test]
    fn private_directories_pass_and_writable_or_linked_ones_fail() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("q");
        fs::create_dir(&dir).expect("mkdir");
        for ok in [0o700, 0o755, 0o750] {
            chmod(&dir, ok);
            check_dir(&dir).expect("private directory accepted");
        }
        for bad in [0o777, 0o770, 0o702, 0o1777] {
            chmod(&dir, bad);
            let d = distrust(check_dir(&dir));
            assert!(matches!(d, Distrust::Writable { .. }), "{bad:o}: {d:?}");
            assert_eq!(d.fix(&dir), format!("chmod 700 {}", dir.display()));
        }
        chmod(&dir, 0o700);
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).expect("symlink");
        assert_eq!(distrust(check_dir(&link)), Distrust::Symlink);
        let file = tmp.path().join("file");
        fs::write(&file, "x").expect("write");
        assert!(matches!(
            distrust(check_dir(&file)),
            Distrust::WrongType { .. }
        ));
    }

    #[test]
    fn entry_files_are_opened_without_following_links() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("envelope");
        fs::write(&file, "x").expect("write");
        chmod(&file, 0o600);
        open_entry_file(&file).expect("own file accepted");
        chmod(&file, 0o622);
        assert!(matches!(
            distrust(open_entry_file(&file).map(drop)),
            Distrust::Writable { .. }
        ));
        chmod(&file, 0o600);
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&file, &link).expect("symlink");
        assert_eq!(
            distrust(open_entry_file(&link).map(drop)),
            Distrust::Symlink
        );
    }

    #[test]
    fn files_of_another_user_are_refused_and_named() {
        if current_uid() != 0 {
            // Only root can give a file away; CI runs the tests as root.
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true needs root for this test"
            );
            return;
        }
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("q");
        fs::create_dir(&dir).expect("mkdir");
        std::os::unix::fs::chown(&dir, Some(65534), None).expect("chown");
        let d = distrust(check_dir(&dir));
        let text = d.to_string();
        assert!(text.contains("uid 65534"), "{text}");
        assert!(text.ends_with("not by you (root)"), "{text}");
        assert!(d
            .fix(&dir)
            .contains(&format!("chown root {}", dir.display())));
        let file = tmp.path().join("rc");
        fs::write(&file, "x").expect("write");
        std::os::unix::fs::chown(&file, Some(65534), None).expect("chown");
        assert!(matches!(
            distrust(check_config_file(&file)),
            Distrust::Owner { owner: 65534, .. }
        ));
        assert_eq!(
            distrust(check_config_file(Path::new("rc"))),
            Distrust::Relative
        );
    }
}
