//! Flood control: the same alert (host + name + status) repeated within the window is
//! counted instead of sent, and the next one sent after the window says how many were held
//! ("repeated 4 times since …"). A recovery — success after a failure or warning for the
//! same name — is always sent at once, and ends the incident: the next failure is news.
//!
//! The same file keeps each job's last [`HISTORY_RUNS`] results and its last success, for
//! the history strip alerts show (✅✅✅❌✅, "last good backup: 3 days ago").
//!
//! The state is one small text file (`alerts.state`) in the state directory
//! (`/var/lib/backup-alert` for root, else `$XDG_STATE_HOME/backup-alert` or
//! `~/.local/state/backup-alert`), locked with flock(2) for the whole decide–send–record
//! sequence so concurrent cron jobs cannot both send or lose a count. When the state cannot
//! be used at all the alert is sent anyway: flood control must never swallow an alert.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

use crate::model::{Measurement, Status};

/// Records untouched for this long are forgotten (keeps the file small).
const FORGET_AFTER_SECS: i64 = 90 * 86_400;

/// How many results per job the history keeps.
pub(crate) const HISTORY_RUNS: usize = 10;

/// The last results of one (host, name), oldest first, and when it last succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Runs {
    host: String,
    name: String,
    last_success: Option<i64>,
    runs: Vec<(Status, i64)>,
}

/// The last measurement of one (host, name).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Measured {
    host: String,
    name: String,
    measurement: Measurement,
}

/// One job as the state file knows it, for metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Job {
    pub(crate) host: String,
    pub(crate) name: String,
    pub(crate) last_run: i64,
    pub(crate) last_status: Status,
    pub(crate) last_success: Option<i64>,
    pub(crate) measurement: Measurement,
}

/// What to do with an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Send it. `held` is how many identical alerts were held since `held_since`.
    Send {
        recovery: bool,
        held: u64,
        held_since: Option<i64>,
    },
    /// Hold it: an identical alert went out less than a window ago.
    Hold { held: u64, last_sent: i64 },
}

/// Sent-time and held count of one (host, name, status).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    host: String,
    name: String,
    status: Status,
    last_sent: i64,
    held: u64,
    held_since: i64,
}

/// The last status seen for one (host, name), for recovery detection.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Last {
    host: String,
    name: String,
    status: Status,
    at: i64,
}

/// The whole state file in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FloodState {
    records: Vec<Record>,
    last: Vec<Last>,
    history: Vec<Runs>,
    measured: Vec<Measured>,
}

/// A host or job name as the state files keep it: control characters (tabs, line breaks)
/// become spaces.
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl FloodState {
    /// Parse the state file; unreadable lines are dropped (the worst case is one extra mail).
    pub(crate) fn parse(text: &str) -> Self {
        let mut st = FloodState::default();
        for line in text.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            match f.as_slice() {
                ["sent", host, name, status, last_sent, held, held_since] => {
                    let (Some(status), Ok(last_sent), Ok(held), Ok(held_since)) = (
                        Status::parse(status),
                        last_sent.parse(),
                        held.parse(),
                        held_since.parse(),
                    ) else {
                        continue;
                    };
                    st.records.push(Record {
                        host: host.to_string(),
                        name: name.to_string(),
                        status,
                        last_sent,
                        held,
                        held_since,
                    });
                }
                ["last", host, name, status, at] => {
                    let (Some(status), Ok(at)) = (Status::parse(status), at.parse()) else {
                        continue;
                    };
                    st.last.push(Last {
                        host: host.to_string(),
                        name: name.to_string(),
                        status,
                        at,
                    });
                }
                ["history", host, name, last_success, runs] => {
                    let Ok(last_success) = last_success.parse::<i64>() else {
                        continue;
                    };
                    let runs = runs
                        .split(',')
                        .filter_map(|r| {
                            let (status, at) = r.split_once(':')?;
                            Some((Status::parse(status)?, at.parse().ok()?))
                        })
                        .collect();
                    st.history.push(Runs {
                        host: host.to_string(),
                        name: name.to_string(),
                        last_success: (last_success > 0).then_some(last_success),
                        runs,
                    });
                }
                ["measure", host, name, duration_ms, exit_status, size] => {
                    st.measured.push(Measured {
                        host: host.to_string(),
                        name: name.to_string(),
                        measurement: Measurement {
                            duration_ms: duration_ms.parse().ok(),
                            exit_status: exit_status.parse().ok(),
                            size: size.parse().ok(),
                        },
                    });
                }
                _ => {}
            }
        }
        st
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::from("# backup-alert flood-control state; safe to delete\n");
        for r in &self.records {
            out.push_str(&format!(
                "sent\t{}\t{}\t{}\t{}\t{}\t{}\n",
                r.host,
                r.name,
                r.status.as_str(),
                r.last_sent,
                r.held,
                r.held_since
            ));
        }
        for l in &self.last {
            out.push_str(&format!(
                "last\t{}\t{}\t{}\t{}\n",
                l.host,
                l.name,
                l.status.as_str(),
                l.at
            ));
        }
        for h in &self.history {
            let runs: Vec<String> = h
                .runs
                .iter()
                .map(|(st, at)| format!("{}:{at}", st.as_str()))
                .collect();
            out.push_str(&format!(
                "history\t{}\t{}\t{}\t{}\n",
                h.host,
                h.name,
                h.last_success.unwrap_or(0),
                runs.join(",")
            ));
        }
        let opt = |v: Option<String>| v.unwrap_or_default();
        for m in &self.measured {
            let x = m.measurement;
            out.push_str(&format!(
                "measure\t{}\t{}\t{}\t{}\t{}\n",
                m.host,
                m.name,
                opt(x.duration_ms.map(|v| v.to_string())),
                opt(x.exit_status.map(|v| v.to_string())),
                opt(x.size.map(|v| v.to_string())),
            ));
        }
        out
    }

    /// Keep what the last run of (host, name) measured (after [`FloodState::record`]).
    pub(crate) fn measure(&mut self, host: &str, name: &str, measurement: Measurement) {
        let (h, n) = (clean(host), clean(name));
        self.measured.retain(|m| !(m.host == h && m.name == n));
        if measurement != Measurement::default() {
            self.measured.push(Measured {
                host: h,
                name: n,
                measurement,
            });
        }
        // A job forgotten by the history is forgotten here too.
        let history = &self.history;
        self.measured
            .retain(|m| history.iter().any(|r| r.host == m.host && r.name == m.name));
    }

    /// Remove everything recorded about (host, name): its runs, flood records, last
    /// status and measurement. Whether there was anything.
    pub(crate) fn forget(&mut self, host: &str, name: &str) -> bool {
        let (h, n) = (clean(host), clean(name));
        let before =
            self.records.len() + self.last.len() + self.history.len() + self.measured.len();
        self.records.retain(|r| !(r.host == h && r.name == n));
        self.last.retain(|l| !(l.host == h && l.name == n));
        self.history.retain(|r| !(r.host == h && r.name == n));
        self.measured.retain(|m| !(m.host == h && m.name == n));
        before != self.records.len() + self.last.len() + self.history.len() + self.measured.len()
    }

    /// Every job with a recorded run, by host and name.
    pub(crate) fn jobs(&self) -> Vec<Job> {
        let mut jobs: Vec<Job> = self
            .history
            .iter()
            .filter_map(|r| {
                let (last_status, last_run) = *r.runs.last()?;
                let measurement = self
                    .measured
                    .iter()
                    .find(|m| m.host == r.host && m.name == r.name)
                    .map(|m| m.measurement)
                    .unwrap_or_default();
                Some(Job {
                    host: r.host.clone(),
                    name: r.name.clone(),
                    last_run,
                    last_status,
                    last_success: r.last_success,
                    measurement,
                })
            })
            .collect();
        jobs.sort_by(|a, b| (&a.host, &a.name).cmp(&(&b.host, &b.name)));
        jobs
    }

    /// The history of (host, name) as it will be once `status` at `now` is recorded:
    /// statuses oldest first, and the time of the last success.
    pub(crate) fn history_with(
        &self,
        host: &str,
        name: &str,
        status: Status,
        now: i64,
    ) -> (Vec<(Status, i64)>, Option<i64>) {
        let (h, n) = (clean(host), clean(name));
        let (mut runs, mut last_success) = self
            .history
            .iter()
            .find(|r| r.host == h && r.name == n)
            .map(|r| (r.runs.clone(), r.last_success))
            .unwrap_or_default();
        runs.push((status, now));
        if runs.len() > HISTORY_RUNS {
            runs.drain(..runs.len() - HISTORY_RUNS);
        }
        if status == Status::Success {
            last_success = Some(now);
        }
        (runs, last_success)
    }

    /// How many problem results came right before now, and since when (for a recovery).
    pub(crate) fn problem_streak(&self, host: &str, name: &str) -> (usize, Option<i64>) {
        let (h, n) = (clean(host), clean(name));
        let Some(r) = self.history.iter().find(|r| r.host == h && r.name == n) else {
            return (0, None);
        };
        let streak: Vec<i64> = r
            .runs
            .iter()
            .rev()
            .take_while(|(st, _)| st.is_problem())
            .map(|(_, at)| *at)
            .collect();
        (streak.len(), streak.last().copied())
    }

    /// The previous status recorded for (host, name).
    pub(crate) fn last_status(&self, host: &str, name: &str) -> Option<Status> {
        let (host, name) = (clean(host), clean(name));
        self.last
            .iter()
            .find(|l| l.host == host && l.name == name)
            .map(|l| l.status)
    }

    /// Is `status` for (host, name) a recovery from a failure or warning?
    pub(crate) fn is_recovery(&self, host: &str, name: &str, status: Status) -> bool {
        status == Status::Success && self.last_status(host, name).is_some_and(|s| s.is_problem())
    }

    /// Decide whether to send. `window_secs == 0` disables holding.
    pub(crate) fn decide(
        &self,
        host: &str,
        name: &str,
        status: Status,
        now: i64,
        window_secs: i64,
    ) -> Verdict {
        let recovery = self.is_recovery(host, name, status);
        let (h, n) = (clean(host), clean(name));
        let rec = self
            .records
            .iter()
            .find(|r| r.host == h && r.name == n && r.status == status);
        match rec {
            Some(r) if !recovery && window_secs > 0 && now - r.last_sent < window_secs => {
                Verdict::Hold {
                    held: r.held + 1,
                    last_sent: r.last_sent,
                }
            }
            Some(r) => Verdict::Send {
                recovery,
                held: r.held,
                held_since: (r.held > 0).then_some(r.held_since),
            },
            None => Verdict::Send {
                recovery,
                held: 0,
                held_since: None,
            },
        }
    }

    /// Record the outcome: a held alert is counted; a sent one resets its count;
    /// `sent == false` (delivery failed) leaves the send time alone so the next try goes out.
    pub(crate) fn record(
        &mut self,
        host: &str,
        name: &str,
        status: Status,
        now: i64,
        verdict: &Verdict,
        sent: bool,
    ) {
        let (h, n) = (clean(host), clean(name));
        match verdict {
            Verdict::Hold { .. } => {
                if let Some(r) = self
                    .records
                    .iter_mut()
                    .find(|r| r.host == h && r.name == n && r.status == status)
                {
                    if r.held == 0 {
                        r.held_since = now;
                    }
                    r.held += 1;
                }
            }
            Verdict::Send { recovery, .. } => {
                if *recovery {
                    // The incident is over: the next failure or warning is sent at once.
                    self.records
                        .retain(|r| !(r.host == h && r.name == n && r.status.is_problem()));
                }
                if sent {
                    self.records
                        .retain(|r| !(r.host == h && r.name == n && r.status == status));
                    self.records.push(Record {
                        host: h.clone(),
                        name: n.clone(),
                        status,
                        last_sent: now,
                        held: 0,
                        held_since: 0,
                    });
                }
            }
        }
        let (runs, last_success) = self.history_with(&h, &n, status, now);
        self.history.retain(|r| !(r.host == h && r.name == n));
        self.history.push(Runs {
            host: h.clone(),
            name: n.clone(),
            last_success,
            runs,
        });
        self.last.retain(|l| !(l.host == h && l.name == n));
        self.last.push(Last {
            host: h,
            name: n,
            status,
            at: now,
        });
        self.history.retain(|r| {
            r.runs
                .last()
                .is_some_and(|(_, at)| now - at < FORGET_AFTER_SECS)
        });
        self.records
            .retain(|r| r.held > 0 || now - r.last_sent < FORGET_AFTER_SECS);
        self.last.retain(|l| now - l.at < FORGET_AFTER_SECS);
    }
}

/// The sentence a sent alert carries about held repeats, or `None`.
pub(crate) fn repeat_note(verdict: &Verdict) -> Option<String> {
    match verdict {
        Verdict::Send {
            held,
            held_since: Some(since),
            ..
        } if *held > 0 => {
            let when = chrono::DateTime::from_timestamp(*since, 0)
                .map(|t| {
                    t.with_timezone(&chrono::Local)
                        .format("%Y-%m-%d %H:%M:%S %z")
                        .to_string()
                })
                .unwrap_or_else(|| since.to_string());
            let times = crate::units::plural(*held, "time");
            Some(format!(
                "This alert was repeated {times} since {when}; flood control held those \
                 repeats, and this is the first one sent since."
            ))
        }
        _ => None,
    }
}

/// The default state directory.
pub(crate) fn default_state_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("BACKUP_ALERT_STATE_DIR").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if rustix::process::geteuid().is_root() {
        return Some(PathBuf::from("/var/lib/backup-alert"));
    }
    crate::settings::xdg_dir("XDG_STATE_HOME", ".local/state").map(|d| d.join("backup-alert"))
}

/// The state file, open and exclusively locked until dropped.
pub(crate) struct StateFile {
    file: File,
}

impl StateFile {
    /// Open (creating the directory and file) and take the lock; blocks while another
    /// backup-alert holds it.
    /// The directory and the file must pass [`crate::alert::state_trust`]: root never follows a
    /// planted link.
    pub(crate) fn open_locked(dir: &Path) -> io::Result<StateFile> {
        crate::alert::state_trust::check_dir(dir)?;
        let file = crate::alert::state_trust::open_file(&dir.join("alerts.state"), false)?;
        flock(&file, FlockOperation::LockExclusive)?;
        Ok(StateFile { file })
    }

    /// The state in `dir` for reading only (`stats`): an absent file is an empty state,
    /// and nothing is created.
    pub(crate) fn read_existing(dir: &Path) -> io::Result<FloodState> {
        if !dir.join("alerts.state").is_file() {
            return Ok(FloodState::default());
        }
        StateFile::open_locked(dir)?.read()
    }

    pub(crate) fn read(&mut self) -> io::Result<FloodState> {
        let mut text = String::new();
        self.file.seek(SeekFrom::Start(0))?;
        self.file.read_to_string(&mut text)?;
        Ok(FloodState::parse(&text))
    }

    pub(crate) fn write(&mut self, state: &FloodState) -> io::Result<()> {
        let text = state.render();
        self.file.seek(SeekFrom::Start(0))?;
        self.file.set_len(0)?;
        self.file.write_all(text.as_bytes())?;
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;

    #[test]
    fn measurements_survive_the_file_and_follow_the_history() {
        let mut st = FloodState::default();
        step(&mut st, "db", Status::Failure, 1000);
        let m = Measurement {
            duration_ms: Some(1500),
            exit_status: Some(3),
            size: None,
        };
        st.measure("host", "db", m);
        let back = FloodState::parse(&st.render());
        let jobs = back.jobs();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].measurement, m);
        assert_eq!(
            (jobs[0].last_run, jobs[0].last_status),
            (1000, Status::Failure)
        );
        // files written before measurements existed still read
        let old = "history\thost\tdb\t0\tfailure:1000\n";
        assert_eq!(
            FloodState::parse(old).jobs()[0].measurement,
            Measurement::default()
        );
    }

    fn step(st: &mut FloodState, name: &str, status: Status, now: i64) -> Verdict {
        let v = st.decide("host", name, status, now, H);
        st.record(
            "host",
            name,
            status,
            now,
            &v,
            matches!(v, Verdict::Send { .. }),
        );
        v
    }

    #[test]
    fn repeats_within_the_window_are_held_and_counted() {
        let mut st = FloodState::default();
        let first = step(&mut st, "nightly", Status::Failure, 0);
        assert!(matches!(
            first,
            Verdict::Send {
                held: 0,
                recovery: false,
                ..
            }
        ));
        assert!(matches!(
            step(&mut st, "nightly", Status::Failure, 600),
            Verdict::Hold { held: 1, .. }
        ));
        assert!(matches!(
            step(&mut st, "nightly", Status::Failure, 1200),
            Verdict::Hold { held: 2, .. }
        ));
        // after the window: sent, saying how many were held and since when
        let v = step(&mut st, "nightly", Status::Failure, H + 1);
        assert_eq!(
            v,
            Verdict::Send {
                recovery: false,
                held: 2,
                held_since: Some(600)
            }
        );
        assert!(repeat_note(&v)
            .unwrap()
            .starts_with("This alert was repeated 2 times since "));
        // count reset after sending
        assert!(matches!(
            step(&mut st, "nightly", Status::Failure, 2 * H + 2),
            Verdict::Send { held: 0, .. }
        ));
    }

    #[test]
    fn recovery_is_always_sent_and_ends_the_incident() {
        let mut st = FloodState::default();
        step(&mut st, "job", Status::Failure, 0);
        let v = step(&mut st, "job", Status::Success, 10);
        assert!(matches!(v, Verdict::Send { recovery: true, .. }));
        // a new failure right after the recovery is news: sent, not held
        assert!(matches!(
            step(&mut st, "job", Status::Failure, 20),
            Verdict::Send { .. }
        ));
        // a success after a held success within the window is not a recovery
        let mut ok = FloodState::default();
        step(&mut ok, "job", Status::Success, 0);
        assert!(matches!(
            step(&mut ok, "job", Status::Success, 10),
            Verdict::Hold { .. }
        ));
    }

    #[test]
    fn names_hosts_and_statuses_are_separate() {
        let mut st = FloodState::default();
        step(&mut st, "a", Status::Failure, 0);
        assert!(matches!(
            step(&mut st, "b", Status::Failure, 1),
            Verdict::Send { .. }
        ));
        assert!(matches!(
            step(&mut st, "a", Status::Warning, 2),
            Verdict::Send { .. }
        ));
        let v = st.decide("other-host", "a", Status::Failure, 3, H);
        assert!(matches!(v, Verdict::Send { .. }));
    }

    #[test]
    fn history_keeps_the_last_runs_and_the_last_success() {
        let mut st = FloodState::default();
        step(&mut st, "job", Status::Success, 100);
        for t in 0..12 {
            step(&mut st, "job", Status::Failure, 200 + t * H);
        }
        let (runs, last_success) = st.history_with("host", "job", Status::Success, 99 * H);
        assert_eq!(runs.len(), HISTORY_RUNS);
        assert_eq!(runs.last(), Some(&(Status::Success, 99 * H)));
        assert_eq!(last_success, Some(99 * H));
        // the success fell out of the strip, but its date is kept
        let (_, before) = st.history_with("host", "job", Status::Failure, 99 * H);
        assert_eq!(before, Some(100));
        assert_eq!(st.problem_streak("host", "job"), (10, Some(200 + 2 * H)));
        assert_eq!(FloodState::parse(&st.render()), st);
    }

    #[test]
    fn zero_window_never_holds() {
        let mut st = FloodState::default();
        for t in 0..5 {
            let v = st.decide("h", "n", Status::Failure, t, 0);
            assert!(matches!(v, Verdict::Send { .. }));
            st.record("h", "n", Status::Failure, t, &v, true);
        }
    }

    #[test]
    fn failed_delivery_is_retried_next_time() {
        let mut st = FloodState::default();
        let v = st.decide("h", "n", Status::Failure, 0, H);
        st.record("h", "n", Status::Failure, 0, &v, false);
        assert!(matches!(
            st.decide("h", "n", Status::Failure, 5, H),
            Verdict::Send { .. }
        ));
    }

    #[test]
    fn state_round_trips_and_survives_garbage() {
        let mut st = FloodState::default();
        step(&mut st, "tab\tname\nx", Status::Failure, 100);
        step(&mut st, "tab\tname\nx", Status::Failure, 200);
        let text = st.render();
        assert_eq!(FloodState::parse(&text), st);
        let noisy = format!("garbage\nsent\tx\n{text}last\th\tn\tnope\t1\n");
        assert_eq!(FloodState::parse(&noisy), st);
    }

    #[test]
    fn concurrent_senders_send_once() {
        // Eight cron jobs failing at the same moment: the lock lets exactly one through.
        let dir = tempfile::tempdir().unwrap();
        let sent: Vec<bool> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        let mut f = StateFile::open_locked(dir.path()).unwrap();
                        let mut st = f.read().unwrap();
                        let v = st.decide("h", "n", Status::Failure, 1000, H);
                        let send = matches!(v, Verdict::Send { .. });
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        st.record("h", "n", Status::Failure, 1000, &v, send);
                        f.write(&st).unwrap();
                        send
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(sent.iter().filter(|s| **s).count(), 1);
        let st = StateFile::open_locked(dir.path()).unwrap().read().unwrap();
        assert!(matches!(
            st.decide("h", "n", Status::Failure, 1001, H),
            Verdict::Hold { held: 8, .. }
        ));
    }

    #[test]
    fn state_file_locks_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut f = StateFile::open_locked(dir.path()).unwrap();
            let mut st = f.read().unwrap();
            step(&mut st, "n", Status::Failure, 0);
            f.write(&st).unwrap();
        }
        let mut f = StateFile::open_locked(dir.path()).unwrap();
        let st = f.read().unwrap();
        assert_eq!(st.last_status("host", "n"), Some(Status::Failure));
    }
}
