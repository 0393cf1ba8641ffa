//! Which command-line settings a queue entry may carry to the flusher.
//!
//! A message submitted with `--port=2525` is delivered by a later `rsmtp -q` with
//! port 2525 too, so the entry keeps the submitting command line's settings
//! ([`EntryMeta::overrides`](crate::EntryMeta::overrides)). The flusher may run as
//! another process, later, as root (cron's `rsmtp -q`), so an entry is only acted
//! on at all when its files and directory are the running user's (see `trust`).
//! That alone would make every setting safe: only we could have written it.
//! This module is the second wall, for the day the first one has a hole (a race,
//! an entry restored from a backup, a directory shared by mistake): some settings
//! are never taken from an entry, whoever wrote it, because they run commands,
//! write files, or weaken the check of the server that receives the password:
//!
//! * `eval`, `passwordeval`, `password`: run a command / carry a secret;
//! * `logfile`, `aliases`, `tls_key_file`, `tls_cert_file`, `socket`: name files
//!   the flusher would open with its rights;
//! * `tls off`, `tls_certcheck off`, `tls_trust_file`, `tls_crl_file`,
//!   `tls_fingerprint`, `tls_host_override`, `tls_priorities`,
//!   `tls_min_dh_prime_bits`: a changed trust decision.
//!
//! The rule is an allow-list ([`check_override`]), kept as the `queue` column of
//! rsmtp-config's table of commands: anything not marked carried there, including
//! commands a newer rsmtp may add, is refused. `host` and `port` are
//! allowed although pointing them elsewhere sends the account's password there:
//! the entry is trusted only when it is ours, so they are what we typed, and
//! without them a `--host` submission could not be queued at all.
//!
//! The writer applies the same rule ([`check_override`]): it never stores what
//! the reader refuses. A user's own `--passwordeval` or `--logfile` still works
//! for the submission and for the background delivery `queue always` starts
//! (which gets the command line again); a later `rsmtp -q` uses the account's
//! own setting instead, and the submitter is told so.

use std::fmt;

use rsmtp_config::QueuePolicy;

/// A setting an entry may not carry. The value is never kept: a `passwordeval`
/// command may hold a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedSetting {
    /// The msmtprc command (`passwordeval`, `tls`).
    pub command: String,
    /// Why it is refused.
    pub reason: &'static str,
}

impl fmt::Display for RefusedSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "setting {} {}", self.command, self.reason)
    }
}

/// Whether the flusher may apply `command value` taken from an entry, and so
/// whether the writer may store it: the writer never stores what this refuses.
/// The policy of each command is a column of rsmtp-config's one table of commands
/// ([`COMMAND_DEFS`](rsmtp_config::COMMAND_DEFS)); a command it does not know, or
/// one added without a policy, is refused.
pub fn check_override(command: &str, value: &str) -> Result<(), RefusedSetting> {
    let policy = rsmtp_config::command_defs::lookup(command).map_or(
        // `eval` is a directive, not a command: it runs one.
        if command == "eval" {
            QueuePolicy::RunsCommand
        } else {
            QueuePolicy::NotCarried
        },
        |d| d.queue,
    );
    match policy.refusal(value) {
        None => Ok(()),
        Some(reason) => Err(RefusedSetting {
            command: command.to_owned(),
            reason,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_downgrades_are_refused_and_ordinary_settings_kept() {
        for (c, v) in [
            ("host", "mail.example.org"),
            ("port", "2525"),
            ("auth", "plain"),
            ("tls", "on"),
            ("tls", ""),
            ("tls_certcheck", "on"),
            ("tls_starttls", "off"),
            ("queue_dir", "/home/a/q"),
        ] {
            check_override(c, v).unwrap_or_else(|e| panic!("{c} {v}: {e}"));
        }
        for (c, v) in [
            ("passwordeval", "id > /tmp/pwned"),
            ("eval", "echo host evil"),
            ("password", "hunter2"),
            ("logfile", "/root/.bashrc"),
            ("aliases", "/etc/shadow"),
            ("tls", "off"),
            ("tls", "maybe"),
            ("tls_certcheck", "off"),
            ("tls_fingerprint", "AA:BB"),
            ("tls_trust_file", "/tmp/evil.pem"),
            ("tls_host_override", "evil.example"),
            ("tls_key_file", "/root/key.pem"),
            ("no_such_command", "x"),
            ("Passwordeval", "x"),
        ] {
            let e = check_override(c, v).expect_err(c);
            assert_eq!(e.command, c);
            let text = e.to_string();
            assert!(text.contains(c), "{text}");
            assert!(v.len() < 4 || !text.contains(v), "value leaked: {text}");
        }
    }
}
