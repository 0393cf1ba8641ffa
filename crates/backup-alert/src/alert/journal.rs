//! The run journal: one line per result of `send`, `run` and `check` — when, which host
//! and job, the status, and what the run measured (duration and exit status of `run`, the
//! newest file's size of `check`). `report` reads it back for its digest: the state file
//! keeps only each job's last [`crate::alert::flood::HISTORY_RUNS`] results and last
//! measurement, too little for a week of an hourly job.
//!
//! The file is `runs.journal` next to `alerts.state`, appended to while the state's lock
//! is held (so concurrent cron jobs never interleave half lines). Past [`MAX_BYTES`] the
//! older half is dropped, which keeps years of a nightly job. A line that cannot be read
//! is skipped: the journal informs a digest, it never decides whether an alert is sent.
//!
//! Line format (tab-separated; empty for "not measured"):
//! `<unix time> <host> <job> <status> <duration ms> <exit status> <size bytes>`.

use std::io::{self, Write};
use std::path::Path;

use crate::model::{Measurement, Status};

/// The journal's file name inside the state directory.
pub(crate) const FILE_NAME: &str = "runs.journal";

/// Size past which the older half of the journal is dropped (2 MiB, about 30,000 lines).
pub(crate) const MAX_BYTES: u64 = 2 << 20;

/// One recorded result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Unix time of the result.
    pub(crate) at: i64,
    pub(crate) host: String,
    pub(crate) job: String,
    pub(crate) status: Status,
    pub(crate) measurement: Measurement,
}

impl Entry {
    fn render(&self) -> String {
        let opt = |v: Option<String>| v.unwrap_or_default();
        let m = self.measurement;
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            self.at,
            crate::alert::flood::clean(&self.host),
            crate::alert::flood::clean(&self.job),
            self.status.as_str(),
            opt(m.duration_ms.map(|v| v.to_string())),
            opt(m.exit_status.map(|v| v.to_string())),
            opt(m.size.map(|v| v.to_string())),
        )
    }

    fn parse(line: &str) -> Option<Entry> {
        let f: Vec<&str> = line.split('\t').collect();
        let [at, host, job, status, duration_ms, exit_status, size] = f.as_slice() else {
            return None;
        };
        Some(Entry {
            at: at.parse().ok()?,
            host: host.to_string(),
            job: job.to_string(),
            status: Status::parse(status)?,
            measurement: Measurement {
                duration_ms: duration_ms.parse().ok(),
                exit_status: exit_status.parse().ok(),
                size: size.parse().ok(),
            },
        })
    }
}

/// Append `entry` to the journal in `dir`. The caller holds the state file's lock.
pub(crate) fn append(dir: &Path, entry: &Entry) -> io::Result<()> {
    let path = dir.join(FILE_NAME);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_BYTES) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let kept = lines[lines.len() / 2..].join("\n");
        crate::atomic_write::write_atomically(&path, &format!("{kept}\n"))?;
    }
    // Never through a planted link (see crate::alert::state_trust).
    let mut f = crate::alert::state_trust::open_file(&path, true)?;
    f.write_all(entry.render().as_bytes())
}

/// Remove every entry of (host, job) from the journal in `dir`, rewriting it atomically;
/// how many there were. The caller holds the state file's lock.
pub(crate) fn forget(dir: &Path, host: &str, job: &str) -> io::Result<usize> {
    let path = dir.join(FILE_NAME);
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let (host, job) = (
        crate::alert::flood::clean(host),
        crate::alert::flood::clean(job),
    );
    let mut removed = 0;
    let mut kept = String::with_capacity(text.len());
    for line in text.lines() {
        if Entry::parse(line).is_some_and(|e| e.host == host && e.job == job) {
            removed += 1;
        } else {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    if removed > 0 {
        crate::atomic_write::write_atomically(&path, &kept)?;
    }
    Ok(removed)
}

/// Every readable entry of the journal in `dir`, oldest first (none when there is no
/// journal yet).
pub(crate) fn read(dir: &Path) -> io::Result<Vec<Entry>> {
    match std::fs::read(dir.join(FILE_NAME)) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(Entry::parse)
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: i64, status: Status, duration_ms: Option<u64>) -> Entry {
        Entry {
            at,
            host: "db01".into(),
            job: "pg\tdump".into(),
            status,
            measurement: Measurement {
                duration_ms,
                exit_status: Some(0),
                size: None,
            },
        }
    }

    #[test]
    fn entries_round_trip_and_garbage_is_skipped() {
        let d = tempfile::tempdir().unwrap();
        assert!(read(d.path()).unwrap().is_empty());
        append(d.path(), &entry(10, Status::Success, Some(1500))).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(d.path().join(FILE_NAME))
            .unwrap()
            .write_all(b"not a line\n12\th\tj\tnope\t\t\t\n")
            .unwrap();
        append(d.path(), &entry(20, Status::Failure, None)).unwrap();
        let got = read(d.path()).unwrap();
        assert_eq!(got.len(), 2);
        // a tab in a job name cannot split the line
        assert_eq!(got[0].job, "pg dump");
        assert_eq!(got[0].measurement.duration_ms, Some(1500));
        assert_eq!(got[1].status, Status::Failure);
        assert_eq!(got[1].measurement.duration_ms, None);
    }

    #[test]
    fn a_full_journal_drops_its_older_half() {
        let d = tempfile::tempdir().unwrap();
        let line = entry(1, Status::Success, Some(1)).render();
        let n = (MAX_BYTES as usize / line.len()) + 10;
        std::fs::write(d.path().join(FILE_NAME), line.repeat(n)).unwrap();
        append(d.path(), &entry(99, Status::Warning, None)).unwrap();
        let got = read(d.path()).unwrap();
        assert!(got.len() < n / 2 + 2, "{} of {n} kept", got.len());
        assert_eq!(got.last().unwrap().at, 99);
    }
}
