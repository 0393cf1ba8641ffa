//! No core file, no ptrace by the same user, while rsmtp runs: a password from
//! the msmtprc, a `passwordeval` or a queue entry may be in memory at any time
//! (a SIGABRT core once held four copies). msmtp does not do this; gpg-agent and
//! ssh-agent do.

/// Sets `RLIMIT_CORE` to 0 (soft and hard, so nothing below can raise it again)
/// and makes the process not dumpable (`PR_SET_DUMPABLE` 0: no core even if a
/// limit is raised, `/proc/PID/mem` and ptrace closed to other processes of the
/// user). Best effort: a sandbox that forbids either call leaves it as it was,
/// and the error is returned for the caller to ignore or report.
pub fn disable_core_dumps() -> std::io::Result<()> {
    use rustix::process::{setrlimit, Resource, Rlimit};
    let limit = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    // Both are tried: a sandbox that forbids one still gets the other.
    let dumpable = disable_own_core_dumps();
    limit.map_err(std::io::Error::from).and(dumpable)
}

/// For a program that runs other people's commands (backup-alert wrapping a
/// backup): no core and no ptrace for this process only (`PR_SET_DUMPABLE` 0),
/// with `RLIMIT_CORE` left as it is, so the wrapped command (made dumpable again
/// by its `execve`) can still leave the core its owner asked for.
pub fn disable_own_core_dumps() -> std::io::Result<()> {
    use rustix::process::{set_dumpable_behavior, DumpableBehavior};
    set_dumpable_behavior(DumpableBehavior::NotDumpable).map_err(std::io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_is_left_without_core_dumps() {
        assert!(disable_core_dumps().is_ok());
        let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
        assert_eq!((limit.current, limit.maximum), (Some(0), Some(0)));
        assert!(matches!(
            rustix::process::dumpable_behavior(),
            Ok(rustix::process::DumpableBehavior::NotDumpable)
        ));
    }
}
