//! msmtp's permission rule: when a non-root user runs it, a *user*
//! configuration file that contains a literal `password` line (not one produced
//! by `eval`) must be owned by that user and carry no permission bits beyond
//! user read/write (mode 600 or 400). The system file is not checked.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::error::{ConfigError, InsecureReason};

pub use rsmtp_core::os::current_uid;

/// Check `path` for user `uid`; root (uid 0) is exempt, as in msmtp.
pub fn check_secure(path: &Path, uid: u32) -> Result<(), ConfigError> {
    if uid == 0 {
        return Ok(());
    }
    let meta = fs::metadata(path).map_err(|error| ConfigError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    if meta.uid() != uid {
        return Err(ConfigError::Insecure {
            path: path.to_path_buf(),
            reason: InsecureReason::NotOwned {
                owner: meta.uid(),
                uid,
            },
        });
    }
    // S_IXUSR and every group/other bit.
    if meta.mode() & 0o177 != 0 {
        return Err(ConfigError::Insecure {
            path: path.to_path_buf(),
            reason: InsecureReason::Permissions { mode: meta.mode() },
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A file with `mode` owned by a non-root uid we can check for: our own
    /// uid, or (when the tests run as root) uid 4242 after a chown.
    fn file_with_mode(dir: &Path, mode: u32) -> (std::path::PathBuf, u32) {
        let p = dir.join(format!("rc{mode:o}"));
        fs::write(&p, "password x\n").expect("write");
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
        let mut uid = current_uid();
        if uid == 0 {
            uid = 4242;
            std::os::unix::fs::chown(&p, Some(uid), None).expect("chown as root");
        }
        (p, uid)
    }

    #[test]
    fn private_files_pass_and_others_fail_with_chmod_advice() {
        let dir = tempfile::tempdir().expect("tempdir");
        for ok in [0o600, 0o400] {
            let (p, uid) = file_with_mode(dir.path(), ok);
            check_secure(&p, uid).expect("private file accepted");
        }
        for bad in [0o644, 0o640, 0o700, 0o604] {
            let (p, uid) = file_with_mode(dir.path(), bad);
            let e = check_secure(&p, uid).expect_err("insecure");
            assert_eq!(e.exit_code(), 78);
            let msg = e.to_string();
            assert!(msg.contains("no more than user read/write"), "{msg}");
            assert!(msg.contains(&format!("chmod 600 {}", p.display())), "{msg}");
        }
    }

    #[test]
    fn files_of_another_user_fail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (p, uid) = file_with_mode(dir.path(), 0o600);
        let e = check_secure(&p, uid + 1).expect_err("not owned");
        let msg = e.to_string();
        assert!(msg.contains("must be owned by you"), "{msg}");
        assert!(msg.contains(&p.display().to_string()), "{msg}");
    }

    #[test]
    fn root_is_exempt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (p, _) = file_with_mode(dir.path(), 0o666);
        check_secure(&p, 0).expect("root exempt");
    }
}
