//! What a command's exit status means: success, warning or failure, as the tool itself
//! documents it — not only "0 or not".
//!
//! borg exits 1 (and, with modern exit codes, 100–127) when the archive was made but
//! something was skipped; rsync 24 when source files vanished while it copied (a live
//! system, every night); restic 3 when the snapshot was made without some unreadable
//! files; GNU tar 1 when a file changed as it was read. These are warnings (⚠️), not
//! failures: an alert that cries ❌ every night is an alert people stop reading.
//!
//! The tool is recognised from the command's first word, past `sudo`, `nice`, `ionice`,
//! `env` and the like. `--ok-exit-codes` and `--warning-exit-codes` say the same for any
//! other command (a wrapper script that passes borg's status on), and replace the
//! defaults of a known tool.

use std::ffi::OsString;
use std::ops::RangeInclusive;
use std::path::Path;

/// A set of exit statuses: `1`, `1,24`, `100-127`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CodeSet(Vec<RangeInclusive<i32>>);

impl CodeSet {
    /// `24`, `1,24`, `3,100-127`; statuses are 0 to 255.
    pub(crate) fn parse(s: &str) -> Result<CodeSet, String> {
        let mut ranges = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let code = |t: &str| {
                t.trim()
                    .parse::<i32>()
                    .ok()
                    .filter(|c| (0..=255).contains(c))
                    .ok_or_else(|| format!("`{t}` is not an exit status (0 to 255)"))
            };
            let range = match part.split_once('-') {
                Some((a, b)) => code(a)?..=code(b)?,
                None => {
                    let c = code(part)?;
                    c..=c
                }
            };
            if range.is_empty() {
                return Err(format!("`{part}` is an empty range"));
            }
            ranges.push(range);
        }
        if ranges.is_empty() {
            return Err("no exit status given".into());
        }
        Ok(CodeSet(ranges))
    }

    pub(crate) fn contains(&self, code: i32) -> bool {
        self.0.iter().any(|r| r.contains(&code))
    }

    fn of(ranges: &[RangeInclusive<i32>]) -> CodeSet {
        CodeSet(ranges.to_vec())
    }
}

/// How a command's exit status is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Judgement {
    Ok,
    Warning,
    Failure,
}

/// A backup tool whose exit statuses are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tool {
    Borg,
    Restic,
    Rsync,
    Tar,
}

impl Tool {
    pub(crate) fn program(self) -> &'static str {
        match self {
            Tool::Borg => "borg",
            Tool::Restic => "restic",
            Tool::Rsync => "rsync",
            Tool::Tar => "tar",
        }
    }

    fn warnings(self) -> CodeSet {
        match self {
            Tool::Borg => CodeSet::of(&[1..=1, 100..=127]),
            Tool::Restic => CodeSet::of(&[3..=3]),
            Tool::Rsync => CodeSet::of(&[24..=24]),
            Tool::Tar => CodeSet::of(&[1..=1]),
        }
    }

    /// What the tool means by a warning status, in a few words.
    pub(crate) fn warning_meaning(self, code: i32) -> String {
        let what = match (self, code) {
            (Tool::Borg, _) => "the archive was made, but some files were skipped",
            (Tool::Restic, _) => "the snapshot was made, but some files could not be read",
            (Tool::Rsync, _) => "some source files vanished while they were copied",
            (Tool::Tar, _) => "some files changed while they were read",
        };
        format!("{} exit status {code}: {what}", self.program())
    }
}

/// Words that run a command rather than being it; their options are skipped too.
const RUNNERS: &[&str] = &[
    "sudo",
    "doas",
    "nice",
    "ionice",
    "env",
    "nocache",
    "chrt",
    "taskset",
    "flock",
    "setsid",
    "systemd-inhibit",
    "caffeinate",
];

/// The known tool a command line runs, if any: `borg create …`, `sudo -u b borg …`,
/// `ionice -c3 nice -n19 rsync …`, `/usr/bin/restic …`.
pub(crate) fn tool_of(command: &[OsString]) -> Option<Tool> {
    let mut words = command.iter().map(|w| w.to_string_lossy());
    let mut after_runner = false;
    for word in words.by_ref() {
        let name = Path::new(word.as_ref())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if RUNNERS.contains(&name.as_str()) {
            after_runner = true;
            continue;
        }
        // A runner's options and their values, `VAR=value` of env.
        if after_runner
            && (word.starts_with('-')
                || word.contains('=')
                || word.chars().all(|c| c.is_ascii_digit()))
        {
            continue;
        }
        return match name.as_str() {
            "borg" | "borg1" | "borgbackup" => Some(Tool::Borg),
            "restic" => Some(Tool::Restic),
            "rsync" => Some(Tool::Rsync),
            "tar" | "gtar" => Some(Tool::Tar),
            _ => None,
        };
    }
    None
}

/// The meaning of exit statuses for one run.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExitMeaning {
    pub(crate) tool: Option<Tool>,
    /// Statuses that are success besides 0.
    pub(crate) ok: CodeSet,
    pub(crate) warning: CodeSet,
}

impl ExitMeaning {
    /// The tool's own meaning, replaced by whichever set the options give.
    pub(crate) fn new(command: &[OsString], ok: Option<CodeSet>, warning: Option<CodeSet>) -> Self {
        let tool = tool_of(command);
        let explicit = ok.is_some() || warning.is_some();
        ExitMeaning {
            // Named sets replace the tool's guess: the caller knows better.
            tool: tool.filter(|_| !explicit),
            ok: ok.unwrap_or_default(),
            warning: match warning {
                Some(w) => w,
                None if explicit => CodeSet::default(),
                None => tool.map(Tool::warnings).unwrap_or_default(),
            },
        }
    }

    pub(crate) fn judge(&self, code: i32) -> Judgement {
        if code == 0 || self.ok.contains(code) {
            Judgement::Ok
        } else if self.warning.contains(code) {
            Judgement::Warning
        } else {
            Judgement::Failure
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn tools_behind_runners() {
        assert_eq!(tool_of(&cmd(&["borg", "create"])), Some(Tool::Borg));
        assert_eq!(
            tool_of(&cmd(&["sudo", "-u", "backup", "/usr/bin/borg", "create"])),
            None,
            "sudo -u's value is taken for the command: a wrapper is not guessed"
        );
        assert_eq!(
            tool_of(&cmd(&["ionice", "-c3", "nice", "-n", "19", "rsync", "-a"])),
            Some(Tool::Rsync)
        );
        assert_eq!(
            tool_of(&cmd(&[
                "env",
                "RESTIC_PASSWORD_FILE=/r",
                "restic",
                "backup"
            ])),
            Some(Tool::Restic)
        );
        assert_eq!(tool_of(&cmd(&["/backup/borg.sh"])), None);
    }

    #[test]
    fn judgement() {
        let borg = ExitMeaning::new(&cmd(&["borg", "create"]), None, None);
        assert_eq!(borg.judge(0), Judgement::Ok);
        assert_eq!(borg.judge(1), Judgement::Warning);
        assert_eq!(borg.judge(107), Judgement::Warning);
        assert_eq!(borg.judge(2), Judgement::Failure);
        let script = ExitMeaning::new(
            &cmd(&["/backup/b.sh"]),
            Some(CodeSet::parse("5").unwrap()),
            Some(CodeSet::parse("1,24").unwrap()),
        );
        assert_eq!(script.judge(5), Judgement::Ok);
        assert_eq!(script.judge(24), Judgement::Warning);
        assert_eq!(script.judge(2), Judgement::Failure);
        // explicit sets replace the tool's
        let strict = ExitMeaning::new(
            &cmd(&["borg", "create"]),
            Some(CodeSet::parse("0").unwrap()),
            None,
        );
        assert_eq!(strict.judge(1), Judgement::Failure);
        assert!(CodeSet::parse("3-1").is_err());
        assert!(CodeSet::parse("256").is_err());
        assert!(CodeSet::parse("x").is_err());
    }
}
