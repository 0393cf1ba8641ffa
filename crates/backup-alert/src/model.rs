//! The plain words of the domain that every room shares: how a run ended ([`Status`]), a
//! job's recent results ([`History`]) and what a run measured ([`Measurement`]). Nothing
//! here reads a file, composes a mail or knows the command line; it sits under all of
//! them so they can speak of the same things without importing each other.

use chrono::{DateTime, Local};

/// What happened, as the subject mark and the colour of the HTML heading show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub(crate) enum Status {
    Success,
    Failure,
    Warning,
    Rotation,
    Restore,
    Info,
}

impl Status {
    /// The mark the subject starts with (the ✅ ❌ ⚠️ 🔄 of the alert mails users already get, plus restore and info).
    pub(crate) fn mark(self) -> &'static str {
        match self {
            Status::Success => "\u{2705}",         // ✅
            Status::Failure => "\u{274c}",         // ❌
            Status::Warning => "\u{26a0}\u{fe0f}", // ⚠️
            Status::Rotation => "\u{1f504}",       // 🔄
            Status::Restore => "\u{267b}\u{fe0f}", // ♻️
            Status::Info => "\u{2139}\u{fe0f}",    // ℹ️
        }
    }

    /// The lower-case name used on the command line and in the state file.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failure => "failure",
            Status::Warning => "warning",
            Status::Rotation => "rotation",
            Status::Restore => "restore",
            Status::Info => "info",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Status> {
        [
            Status::Success,
            Status::Failure,
            Status::Warning,
            Status::Rotation,
            Status::Restore,
            Status::Info,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// Failure and warning are problems: a success after one of them is a recovery.
    pub(crate) fn is_problem(self) -> bool {
        matches!(self, Status::Failure | Status::Warning)
    }

    pub(crate) fn colour(self) -> &'static str {
        match self {
            Status::Success | Status::Restore => "#1a7f37",
            Status::Failure => "#cf222e",
            Status::Warning => "#9a6700",
            Status::Rotation | Status::Info => "#0969da",
        }
    }

    /// Background of the summary box (light, paired with dark text in every mode).
    pub(crate) fn tint(self) -> &'static str {
        match self {
            Status::Success | Status::Restore => "#dafbe1",
            Status::Failure => "#ffebe9",
            Status::Warning => "#fff8c5",
            Status::Rotation | Status::Info => "#ddf4ff",
        }
    }

    /// How the summary line is introduced.
    pub(crate) fn summary_label(self) -> &'static str {
        match self {
            Status::Failure => "Error",
            Status::Warning => "Problem",
            _ => "Summary",
        }
    }
}

/// A job's recent results from the state file, for the history strip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct History {
    /// Oldest first; the alert being sent is the last one.
    pub(crate) runs: Vec<Status>,
    /// When the job last succeeded (this run included), if ever recorded.
    pub(crate) last_success: Option<DateTime<Local>>,
}

impl History {
    /// `✅✅✅❌✅`.
    pub(crate) fn strip(&self) -> String {
        self.runs.iter().map(|s| s.mark()).collect()
    }
}

/// What a job's last run measured, kept for `stats --prometheus` and `metrics_file`
/// (`run`: duration and exit status; `check`: the newest file's size and 0/1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Measurement {
    pub(crate) duration_ms: Option<u64>,
    pub(crate) exit_status: Option<i32>,
    pub(crate) size: Option<u64>,
}
