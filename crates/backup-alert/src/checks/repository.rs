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
use crate::lang::Language;
use rsmtp_core::tr_in;

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
#[derive(Debug)]
pub(crate) enum RepoError {
    Spawn {
        program: &'static str,
        source: std::io::Error,
    },
    /// The tool ran and failed: its exit status and the line of its stderr stating the
    /// cause (see [`crate::diagnosis::error_line`]).
    Failed {
        program: &'static str,
        status: i32,
        line: String,
    },
    /// Its listing was not what we asked for: what is wrong with it (in the language
    /// asked for when it was read).
    Output {
        program: &'static str,
        detail: String,
    },
}

impl RepoError {
    /// `borg exited with status 2: Remote: ssh: …`, in `lang` (the tool's own line as
    /// it wrote it).
    pub(crate) fn describe(&self, lang: Language) -> String {
        match self {
            RepoError::Spawn { program, source } => tr_in!(
                lang,
                "cannot run {program}: {error}",
                program = program,
                error = rsmtp_core::strerror_in(source, lang.code())
            ),
            RepoError::Failed {
                program,
                status,
                line,
            } => tr_in!(
                lang,
                "{program} exited with status {status}: {line}",
                program = program,
                status = status,
                line = line
            ),
            RepoError::Output { program, detail } => tr_in!(
                lang,
                "{program}'s listing could not be read: {detail}",
                program = program,
                detail = detail
            ),
        }
    }
}

/// What is wrong with a tool's `--json` output, in words, with the start of what it
/// printed instead (cleaned of terminal escapes and control bytes, cut short).
fn json_problem(e: &serde_json::Error, stdout: &[u8], lang: Language) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof if stdout.iter().all(u8::is_ascii_whitespace) => {
            return tr_in!(lang, "it printed nothing").into_owned()
        }
        Category::Eof => tr_in!(lang, "its output stops in the middle of the JSON"),
        Category::Syntax => tr_in!(lang, "its output is not JSON"),
        Category::Data => tr_in!(lang, "its output is JSON, but not the listing expected"),
        Category::Io => tr_in!(lang, "its output could not be read"),
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
    tr_in!(
        lang,
        "{what} (it begins \u{201c}{shown}\u{201d}; line {line}, column {column})",
        what = what,
        shown = shown,
        line = e.line(),
        column = e.column()
    )
}

/// `check --deep`: the tool's own consistency check of `repo` — `borg check` (repository
/// and archives), `restic check` (with `--read-data-subset` when given: the restore test,
/// reading that part of the data back). `Ok` with the command line that passed; a failure
/// carries the line stating the cause (a tool that says nothing: so, in `lang`).
pub(crate) fn deep_check(
    tool: Tool,
    repo: &str,
    subset: Option<&str>,
    lang: Language,
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
        .map_or_else(|| no_message(lang), |c| c.line);
    Err(RepoError::Failed {
        program,
        status: out.status.code().unwrap_or(-1),
        line,
    })
}

/// The newest archive in `repo`, as a [`Found`] whose path is `REPO::NAME` (borg) or
/// `REPO snapshot ID` (restic); `Ok(None)` for a repository without archives. What is
/// wrong with a listing is said in `lang`.
pub(crate) fn newest(tool: Tool, repo: &str, lang: Language) -> Result<Option<Found>, RepoError> {
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
            .map_or_else(|| no_message(lang), |c| c.line);
        return Err(RepoError::Failed {
            program,
            status: out.status.code().unwrap_or(-1),
            line,
        });
    }
    let bad = |detail: String| RepoError::Output { program, detail };
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| bad(json_problem(&e, &out.stdout, lang)))?;
    let archives = match tool {
        Tool::Borg => json.get("archives").and_then(|a| a.as_array()),
        Tool::Restic => json.as_array(),
    }
    .ok_or_else(|| bad(tr_in!(lang, "no list of archives").into_owned()))?;
    let mut newest: Option<Found> = None;
    // restic's --latest 1 gives the latest snapshot of each host and path set.
    for archive in archives {
        let time = archive
            .get("time")
            .and_then(|t| t.as_str())
            .ok_or_else(|| bad(tr_in!(lang, "an archive without a time").into_owned()))?;
        let modified = parse_time(time)
            .ok_or_else(|| bad(tr_in!(lang, "unreadable time {time}", time = time)))?;
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

/// What stands for the line stating the cause when the tool printed none.
fn no_message(lang: Language) -> String {
    tr_in!(lang, "(no message)").into_owned()
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
