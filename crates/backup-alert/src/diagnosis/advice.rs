//! One line of advice per known failure class: what to do about it, with the command that
//! tests or fixes it, filled in with the repository and host the job uses when the
//! command line (or BORG_REPO / RESTIC_REPOSITORY) names them.
//!
//! The class comes from the cause line ([`crate::diagnosis::error_line::classify`]) for `run`, and
//! from what `check` found (too old, damaged). The advice is in the alert's language;
//! the commands in it are never translated.

use std::ffi::OsString;

use crate::diagnosis::error_line::FailureClass;
use crate::diagnosis::exit_codes::Tool;
use crate::lang::Language;
use rsmtp_core::tr_in;

/// What the job's command line says about where it backs up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Where {
    /// borg or restic, when known.
    pub(crate) tool: Option<Tool>,
    /// The repository as the tool names it (`/b/repo`, `ssh://u@h:22/./r`, `sftp:u@h:/r`).
    pub(crate) repository: Option<String>,
    /// The ssh destination, `user@host` or `host`, and its port when not 22.
    pub(crate) ssh: Option<(String, Option<u16>)>,
}

impl Where {
    /// From a `run` command line and the environment it runs in.
    pub(crate) fn of_command(command: &[OsString], tool: Option<Tool>) -> Where {
        let words: Vec<String> = command
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect();
        let repository = match tool {
            Some(Tool::Borg) => words
                .iter()
                .find_map(|w| w.split_once("::").map(|(r, _)| r.to_string()))
                .filter(|r| !r.is_empty())
                .or_else(|| std::env::var("BORG_REPO").ok()),
            Some(Tool::Restic) => words
                .iter()
                .enumerate()
                .find_map(|(i, w)| {
                    if w == "-r" || w == "--repo" {
                        words.get(i + 1).cloned()
                    } else {
                        w.strip_prefix("--repo=").map(str::to_string)
                    }
                })
                .or_else(|| std::env::var("RESTIC_REPOSITORY").ok()),
            _ => None,
        };
        Where::of_repository(tool, repository)
    }

    /// A repository given as such (`check --borg REPO`).
    pub(crate) fn of_repository(tool: Option<Tool>, repository: Option<String>) -> Where {
        let ssh = repository.as_deref().and_then(ssh_destination);
        Where {
            tool,
            repository,
            ssh,
        }
    }
}

/// `ssh://user@host:port/path`, `sftp:user@host:/path`, `user@host:path` → the ssh
/// destination and port.
pub(crate) fn ssh_destination(repo: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = repo.strip_prefix("ssh://") {
        let authority = rest.split('/').next()?;
        return Some(match authority.rsplit_once(':') {
            Some((dest, port)) => (dest.to_string(), port.parse().ok()),
            None => (authority.to_string(), None),
        });
    }
    let rest = repo.strip_prefix("sftp:").unwrap_or(repo);
    if rest.starts_with('/') || rest.starts_with('.') {
        return None;
    }
    let (dest, _) = rest.split_once(':')?;
    (!dest.is_empty() && !dest.contains('/')).then(|| (dest.to_string(), None))
}

/// `connect to host H port P` in an ssh message → (H, P).
fn host_in_line(line: &str) -> Option<(String, Option<u16>)> {
    let rest = &line[line.find("connect to host ")? + "connect to host ".len()..];
    let mut words = rest.split_whitespace();
    let host = words.next()?.to_string();
    let port = match (words.next(), words.next()) {
        (Some("port"), Some(p)) => p.trim_end_matches(':').parse().ok(),
        _ => None,
    };
    Some((host, port))
}

/// The tool a cause line comes from, when the command line did not say.
fn tool_in_line(line: &str) -> Option<Tool> {
    let lower = line.to_lowercase();
    if lower.contains("borg") || lower.contains("lock.exclusive") {
        Some(Tool::Borg)
    } else if lower.starts_with("fatal:") || lower.contains("restic") {
        Some(Tool::Restic)
    } else {
        None
    }
}

/// The advice for a failure of `class`, whose cause line is `line`.
pub(crate) fn advice(class: FailureClass, line: &str, place: &Where, lang: Language) -> String {
    let tool = place.tool.or_else(|| tool_in_line(line));
    let repo = place.repository.clone().unwrap_or_else(|| "REPO".into());
    match class {
        FailureClass::Unreachable => {
            let (dest, port) = place
                .ssh
                .clone()
                .or_else(|| host_in_line(line))
                .unwrap_or_else(|| ("USER@HOST".into(), None));
            let port = port
                .filter(|p| *p != 22)
                .map(|p| format!("-p {p} "))
                .unwrap_or_default();
            let test = format!("ssh -o BatchMode=yes {port}{dest} true");
            tr_in!(
                lang,
                "Check the network and the ssh key of the user the job runs as: `{test}` must \
                 end without asking for anything.",
                test = test
            )
        }
        FailureClass::Passphrase => match tool {
            Some(Tool::Restic) => tr_in!(
                lang,
                "Give the job RESTIC_PASSWORD_FILE (or RESTIC_PASSWORD_COMMAND) with the \
                 repository's password: cron does not see your shell's variables."
            )
            .into_owned(),
            _ => tr_in!(
                lang,
                "Give the job BORG_PASSCOMMAND, e.g. `BORG_PASSCOMMAND='cat \
                 /root/.borg-passphrase'` (a 0600 file): cron does not see your shell's \
                 BORG_PASSPHRASE."
            )
            .into_owned(),
        },
        FailureClass::Lock => match tool {
            Some(Tool::Restic) => tr_in!(
                lang,
                "If `pgrep -a restic` shows no restic running, remove the stale lock: \
                 `restic unlock -r {repo}`.",
                repo = repo
            ),
            _ => tr_in!(
                lang,
                "If `pgrep -a borg` shows no borg running (here and on the repository's host), \
                 remove the stale lock: `borg break-lock {repo}`.",
                repo = repo
            ),
        },
        FailureClass::Corrupt => match tool {
            Some(Tool::Restic) => tr_in!(
                lang,
                "Run `restic check -r {repo}`; restore from the previous good snapshot \
                 (`restic snapshots -r {repo}`) until it is repaired.",
                repo = repo
            ),
            Some(Tool::Borg) => tr_in!(
                lang,
                "Run `borg check {repo}`; restore from the previous good archive (`borg list \
                 --last 2 {repo}`) until it is repaired.",
                repo = repo
            ),
            _ => tr_in!(
                lang,
                "Keep the previous good backup: do not let rotation delete it until a new \
                 backup verifies."
            )
            .into_owned(),
        },
        FailureClass::DiskFull => match tool {
            Some(Tool::Borg) => tr_in!(
                lang,
                "The destination is full: see `df -h` (and quotas) where the backup is \
                 written. `borg prune` then `borg compact {repo}` free space.",
                repo = repo
            ),
            Some(Tool::Restic) => tr_in!(
                lang,
                "The destination is full: see `df -h` (and quotas) where the backup is \
                 written. `restic forget --prune -r {repo}` frees space.",
                repo = repo
            ),
            _ => tr_in!(
                lang,
                "The destination is full: see `df -h` (and quotas) where the backup is \
                 written."
            )
            .into_owned(),
        },
        FailureClass::Stale => tr_in!(
            lang,
            "Is the job still scheduled, and is cron running? `systemctl status cron`, then \
             `grep CRON /var/log/syslog | tail` (or `journalctl -u cron`) shows what it \
             started."
        )
        .into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn where_the_job_backs_up_to() {
        let w = Where::of_command(
            &cmd(&[
                "borg",
                "create",
                "ssh://backup@nas:2222/./repo::{now}",
                "/etc",
            ]),
            Some(Tool::Borg),
        );
        assert_eq!(
            w.repository.as_deref(),
            Some("ssh://backup@nas:2222/./repo")
        );
        assert_eq!(w.ssh, Some(("backup@nas".into(), Some(2222))));
        let w = Where::of_command(
            &cmd(&["restic", "-r", "sftp:u@h:/srv/r", "backup", "/etc"]),
            Some(Tool::Restic),
        );
        assert_eq!(w.ssh, Some(("u@h".into(), None)));
        assert_eq!(ssh_destination("/backup/borg"), None);
        assert_eq!(
            ssh_destination("backup@nas:repo"),
            Some(("backup@nas".into(), None))
        );
    }

    #[test]
    fn the_command_to_test_is_filled_in() {
        let w = Where::default();
        let a = advice(
            FailureClass::Unreachable,
            "Remote: ssh: connect to host 10.0.0.5 port 2222: Connection refused",
            &w,
            Language::English,
        );
        assert!(
            a.contains("`ssh -o BatchMode=yes -p 2222 10.0.0.5 true`"),
            "{a}"
        );
        let a = advice(
            FailureClass::Lock,
            "Failed to create/acquire the lock /b/r/lock.exclusive (timeout).",
            &Where::of_repository(Some(Tool::Borg), Some("/b/r".into())),
            Language::French,
        );
        assert!(a.contains("`borg break-lock /b/r`"), "{a}");
    }
}
