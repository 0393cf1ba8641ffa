//! Who may have written the state directory: the queue's trust rule
//! ([`rsmtp_queue::is_trusted_dir`]) applied to backup-alert's own state.
//!
//! backup-alert runs as root from cron and rewrites `alerts.state` and appends to
//! `runs.journal` in its state directory. If another user could put something there — a
//! `--state-dir` under /tmp, a directory someone else created — a planted
//! `alerts.state -> /etc/shadow` link would have root truncate and rewrite the file it
//! points to. So, as for the queue:
//!
//! * the directory is created 0700; an existing one must be a real directory (not a
//!   link), owned by us or root, writable by nobody else;
//! * its files are opened with `O_NOFOLLOW` (a link is refused, never followed) and the
//!   opened file is checked: a regular file owned by us or root.
//!
//! A directory or file that fails is not used: the alert is still sent, without flood
//! control, and the warning names the fix.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use rsmtp_queue::Distrust;

fn me() -> u32 {
    rustix::process::geteuid().as_raw()
}

fn owner_problem(owner: u32) -> Option<Distrust> {
    let user = me();
    (owner != user && owner != 0).then(|| Distrust::Owner {
        owner,
        owner_name: rsmtp_config::user_name_of(owner),
        user,
        user_name: rsmtp_config::user_name_of(user),
    })
}

fn refused(path: &Path, problem: &Distrust, fix: &str) -> io::Error {
    io::Error::other(format!(
        "{} {problem}, so it is not used (anyone who can write it could have root \
         overwrite other files through it): {fix}",
        path.display()
    ))
}

/// Create `dir` (0700) if needed and check that only we or root can have written it.
pub(crate) fn check_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    if rsmtp_queue::is_trusted_dir(dir) {
        return Ok(());
    }
    let meta = std::fs::symlink_metadata(dir)?;
    let p = dir.display();
    let problem = if meta.file_type().is_symlink() {
        Distrust::Symlink
    } else if !meta.is_dir() {
        Distrust::WrongType {
            expected: "a directory",
        }
    } else if let Some(p) = owner_problem(meta.uid()) {
        p
    } else {
        Distrust::Writable { mode: meta.mode() }
    };
    let fix = match problem {
        Distrust::Owner { .. } | Distrust::Symlink | Distrust::WrongType { .. } => {
            format!("choose a state directory of your own (--state-dir, `state_dir`), or check what {p} holds and remove it")
        }
        _ => format!("chmod 700 {p}"),
    };
    Err(refused(dir, &problem, &fix))
}

/// Open a state file for reading and writing (`append`: for appending), created 0600,
/// never through a symbolic link, and only when it is a regular file of ours or root's.
pub(crate) fn open_file(path: &Path, append: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options
        .read(!append)
        .write(true)
        .append(append)
        .create(true)
        .truncate(false)
        .mode(0o600)
        // The flag's bits fit an i32 (O_NOFOLLOW is 0o400000 on Linux).
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    let file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
            return Err(refused(
                path,
                &Distrust::Symlink,
                &format!("check where it points, then rm {}", path.display()),
            ))
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    let problem = if !meta.is_file() {
        Some(Distrust::WrongType {
            expected: "a regular file",
        })
    } else {
        owner_problem(meta.uid())
    };
    match problem {
        Some(problem) => Err(refused(
            path,
            &problem,
            &format!("check what it holds, then rm {}", path.display()),
        )),
        None => Ok(file),
    }
}
