//! `check --borg REPO` / `--restic REPO`: ask the backup tool itself for its newest
//! archive instead of guessing from file times (a repository's segment files change on
//! every prune and compact, whether or not a new archive was made).
//!
//! `borg list --last 1 --json REPO` and `restic snapshots --latest 1 --json --repo REPO`;
//! passphrases come from the environment the tools read themselves (`BORG_PASSPHRASE`,
//! `BORG_PASSCOMMAND`, `RESTIC_PASSWORD`, `RESTIC_PASSWORD_FILE`, …), never from us.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use chrono::{DateTime, Local, NaiveDateTime, TimeZone};

use crate::checks::newest::Found;

/// The backup tools `check` can ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tool {
    Borg,
    Restic,
}

impl From<Tool> for crate::diagnosis::exit_codes::Tool {
    fn from(t: Tool) -> Self {
        match t {
            Tool::Borg => crate::diagnosis::exit_codes::Tool::Borg,
            Tool::Restic => crate::diagnosis::exit_codes::Tool::Restic,
        }
    }
}

impl Tool {
    pub(crate) fn program(self) -> &'static str {
        match self {
            Tool::Borg => "borg",
            Tool::Restic => "restic",
        }
    }
}

/// Why the tool could not tell.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RepoError {
    #[error("cannot run {program}: {}", rsmtp_core::strerror(source))]
    Spawn {
        program: &'static str,
        source: std::io::Error,
    },
    /// The tool ran and failed: its exit status and the line of its stderr stating the
    /// cause (see [`crate::diagnosis::error_line`]).
    #[error("{program} exited with status {status}: {line}")]
    Failed {
        program: &'static str,
        status: i32,
        line: String,
    },
    #[error("{program}'s listing could not be read: {detail}")]
    Output {
        program: &'static str,
        detail: String,
    },
}

/// What is wrong with a tool's `--json` output, in words, with the start of what it
/// printed instead (cleaned of terminal escapes and control bytes, cut short).
fn json_problem(e: &serde_json::Error, stdout: &[u8]) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof if stdout.iter().all(u8::is_ascii_whitespace) => {
            return "it printed nothing".into()
        }
        Category::Eof => "its output stops in the middle of the JSON",
        Category::Syntax => "its output is not JSON",
        Category::Data => "its output is JSON, but not the listing expected",
        Category::Io => "its output could not be read",
    };
    let text = String::from_utf8_lossy(stdout);
    let first = text
        .lines()
        .map(|l| crate::tail::plain_line(l).trim().to_string())
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let mut shown: String = first.chars().take(80).collect();
    if first.chars().count() > 80 {
        shown.push('\u{2026}');
    }
    format!(
        "{what} (it begins \u{201c}{shown}\u{201d}; line {}, column {})",
        e.line(),
        e.column()
    )
}

/// `check --deep`: the tool's own consistency check of `repo` — `borg check` (repository
/// and archives), `restic check` (with `--read-data-subset` when given: the restore test,
/// reading that part of the data back). `Ok` with the command line that passed; a failure
/// carries the line stating the cause.
pub(crate) fn deep_check(
    tool: Tool,
    repo: &str,
    subset: Option<&str>,
) -> Result<String, RepoError> {
    let program = tool.program();
    let mut args: Vec<&str> = match tool {
        Tool::Borg => vec!["check", repo],
        Tool::Restic => vec!["check", "--repo", repo],
    };
    if let Some(s) = subset {
        args.extend(["--read-data-subset", s]);
    }
    let out = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| RepoError::Spawn { program, source })?;
    if out.status.success() {
        return Ok(format!("{program} {}", args.join(" ")));
    }
    let (stderr, stdout) = (
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout),
    );
    let line = crate::diagnosis::error_line::of_run(&stderr, &stdout)
        .map_or_else(|| "(no message)".to_string(), |c| c.line);
    Err(RepoError::Failed {
        program,
        status: out.status.code().unwrap_or(-1),
        line,
    })
}

/// The newest archive in `repo`, as a [`Found`] whose path is `REPO::NAME` (borg) or
/// `REPO snapshot ID` (restic); `Ok(None)` for a repository without archives.
pub(crate) fn newest(tool: Tool, repo: &str) -> Result<Option<Found>, RepoError> {
    let program = tool.program();
    let mut cmd = Command::new(program);
    match tool {
        Tool::Borg => cmd.args(["list", "--last", "1", "--json", repo]),
        Tool::Restic => cmd.args(["snapshots", "--latest", "1", "--json", "--repo", repo]),
    };
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|source| RepoError::Spawn { program, source })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The line stating the cause: restic's `Fatal:` line, not the repository path
        // it prints after it.
        let line = crate::diagnosis::error_line::of_run(&stderr, "")
            .map_or_else(|| "(no message)".to_string(), |c| c.line);
        return Err(RepoError::Failed {
            program,
            status: out.status.code().unwrap_or(-1),
            line,
        });
    }
    let bad = |detail: String| RepoError::Output { program, detail };
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| bad(json_problem(&e, &out.stdout)))?;
    let archives = match tool {
        Tool::Borg => json.get("archives").and_then(|a| a.as_array()),
        Tool::Restic => json.as_array(),
    }
    .ok_or_else(|| bad("no list of archives".into()))?;
    let mut newest: Option<Found> = None;
    // restic's --latest 1 gives the latest snapshot of each host and path set.
    for archive in archives {
        let time = archive
            .get("time")
            .and_then(|t| t.as_str())
            .ok_or_else(|| bad("an archive without a time".into()))?;
        let modified = parse_time(time).ok_or_else(|| bad(format!("unreadable time {time}")))?;
        let label = match tool {
            Tool::Borg => format!(
                "{repo}::{}",
                archive.get("name").and_then(|n| n.as_str()).unwrap_or("?")
            ),
            Tool::Restic => format!(
                "{repo} snapshot {}",
                archive
                    .get("short_id")
                    .or_else(|| archive.get("id"))
                    .and_then(|n| n.as_str())
                    .unwrap_or("?")
            ),
        };
        // restic ≥ 0.17 records how much the snapshot covered.
        let size = archive
            .pointer("/summary/total_bytes_processed")
            .and_then(|s| s.as_u64())
            .unwrap_or(0);
        if newest.as_ref().is_none_or(|n| modified > n.modified) {
            newest = Some(Found {
                path: PathBuf::from(label),
                modified,
                size,
            });
        }
    }
    Ok(newest)
}

/// restic: RFC 3339 with nanoseconds and an offset; borg 1.x: local time without one.
fn parse_time(text: &str) -> Option<SystemTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.into());
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    let local: DateTime<Local> = Local.from_local_datetime(&naive).earliest()?;
    Some(local.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_time_formats() {
        let restic = parse_time("2026-12-01T02:00:03.123456789+01:00").unwrap();
        let utc = parse_time("2026-12-01T01:00:03.123456789Z").unwrap();
        assert_eq!(restic, utc);
        assert!(parse_time("2026-12-01T02:00:03.000000").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
