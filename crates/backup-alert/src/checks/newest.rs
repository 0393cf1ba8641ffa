//! `check`: is the newest backup fresh enough and big enough? — the `find -mtime -1 | wc -l`
//! test of check-backups.sh, with the file named in the alert.
//!
//! `--path` is a file, a directory or a wildcard pattern ([`crate::checks::glob`]). A directory is
//! searched recursively for regular files (hidden files are included; symbolic links
//! inside it are not followed, but the path given — or a pattern's match — may itself be a
//! link to a directory, as `/backup -> /mnt/nas/backup` often is: `find -H` semantics);
//! a pattern's matches that are directories are searched the same way. The newest file by
//! modification time is the one judged. A newest file dated in the future (a skewed clock
//! on the machine that wrote it) is a problem too: it would look fresh for as long as the
//! skew lasts while no new backup arrives. Exit status: 0 when fresh, 1 when too old, too
//! small, dated in the future, missing, or when fewer than `--min-files` files are found;
//! with `--verify` / `--manifest` also when the file is damaged or cannot be verified
//! ([`crate::checks::integrity`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::checks::glob;
use crate::lang::Language;
use crate::units::{format_duration, format_size};
use rsmtp_core::{tr_in, trn_in};

/// The newest matching file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) path: PathBuf,
    pub(crate) modified: SystemTime,
    pub(crate) size: u64,
}

/// The verdict on a backup location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finding {
    Fresh {
        file: Found,
        age: Duration,
    },
    Stale {
        file: Found,
        age: Duration,
        problems: Vec<String>,
    },
    Missing {
        searched: usize,
    },
}

impl Finding {
    /// The finding with `extra` problems: a fresh backup becomes stale with them, a
    /// stale one gets them first (`first`) or last; nothing changes without any.
    pub(crate) fn with_problems(self, mut extra: Vec<String>, first: bool) -> Finding {
        if extra.is_empty() {
            return self;
        }
        match self {
            Finding::Fresh { file, age } => Finding::Stale {
                file,
                age,
                problems: extra,
            },
            Finding::Stale {
                file,
                age,
                mut problems,
            } => {
                if first {
                    extra.append(&mut problems);
                    problems = extra;
                } else {
                    problems.append(&mut extra);
                }
                Finding::Stale {
                    file,
                    age,
                    problems,
                }
            }
            missing => missing,
        }
    }
}

impl Finding {
    pub(crate) fn is_fresh(&self) -> bool {
        matches!(self, Finding::Fresh { .. })
    }
}

/// What to require of the newest file.
#[derive(Debug, Clone)]
pub(crate) struct Requirement {
    pub(crate) max_age: Duration,
    pub(crate) min_size: Option<u64>,
    /// Fewer files than this under the path is a problem (a rotation that deleted too
    /// much, a backup that wrote only part of its files).
    pub(crate) min_files: Option<usize>,
}

/// Find the newest regular file under `path` (file, directory or pattern).
/// Returns it and how many files were looked at.
pub(crate) fn newest(path: &str) -> (Option<Found>, usize) {
    newest_where(path, &|_| true)
}

/// [`newest`], counting and judging only the files `candidate` accepts (`--verify` leaves
/// checksum files out: they are written just after the archive they describe).
pub(crate) fn newest_where(
    path: &str,
    candidate: &dyn Fn(&Path) -> bool,
) -> (Option<Found>, usize) {
    let mut best: Option<Found> = None;
    let mut count = 0;
    for_each_file(path, candidate, &mut |found| {
        count += 1;
        if best.as_ref().is_none_or(|b| found.modified > b.modified) {
            best = Some(found);
        }
    });
    (best, count)
}

/// The roots a `--path` names: the pattern's matches, or the path itself.
pub(crate) fn roots(path: &str) -> Vec<PathBuf> {
    if glob::has_wildcards(path) {
        glob::expand(Path::new(path))
    } else {
        vec![PathBuf::from(path)]
    }
}

/// Every regular file under `path` that `candidate` accepts, as [`newest`] walks them.
pub(crate) fn for_each_file(
    path: &str,
    candidate: &dyn Fn(&Path) -> bool,
    each: &mut dyn FnMut(Found),
) {
    for root in roots(path) {
        visit(&root, true, candidate, each);
    }
}

/// `root`: the path was given or matched, so a link to a directory is followed; links
/// met inside a directory are not (no loops, no wandering off the backup tree).
fn visit(path: &Path, root: bool, candidate: &dyn Fn(&Path) -> bool, each: &mut dyn FnMut(Found)) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    let meta = if meta.file_type().is_symlink() {
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() || (root && m.is_dir()) => m,
            _ => return,
        }
    } else {
        meta
    };
    if meta.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_symlink() {
                continue;
            }
            visit(&e.path(), false, candidate, each);
        }
    } else if meta.is_file() && candidate(path) {
        each(Found {
            path: path.to_path_buf(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            size: meta.len(),
        });
    }
}

/// How far in the future a modification time may lie before it counts as clock skew
/// (a file server's clock a little ahead is normal).
pub(crate) const FUTURE_TOLERANCE: Duration = Duration::from_secs(10 * 60);

/// How far in the future `file` is dated, when that is more than [`FUTURE_TOLERANCE`].
pub(crate) fn dated_in_future(file: &Found, now: SystemTime) -> Option<Duration> {
    file.modified
        .duration_since(now)
        .ok()
        .filter(|ahead| *ahead > FUTURE_TOLERANCE)
}

/// Judge the newest file against the requirement at time `now`; the problems are said
/// in `lang`, the alert's language.
pub(crate) fn judge(
    found: Option<Found>,
    searched: usize,
    req: &Requirement,
    now: SystemTime,
    lang: Language,
) -> Finding {
    let Some(file) = found else {
        return Finding::Missing { searched };
    };
    let age = now.duration_since(file.modified).unwrap_or(Duration::ZERO);
    let mut problems = Vec::new();
    if let Some(ahead) = dated_in_future(&file, now) {
        problems.push(tr_in!(
            lang,
            "newest file is dated {ahead} in the future (clock skew?); its age cannot be judged",
            ahead = format_duration(ahead)
        ));
    }
    if age > req.max_age {
        problems.push(tr_in!(
            lang,
            "newest file is {age} old (limit {limit})",
            age = format_duration(age),
            limit = format_duration(req.max_age)
        ));
    }
    if let Some(min) = req.min_size {
        if file.size < min {
            problems.push(tr_in!(
                lang,
                "newest file is {size} (minimum {min})",
                size = format_size(file.size),
                min = format_size(min)
            ));
        }
    }
    if let Some(min) = req.min_files {
        if searched < min {
            problems.push(trn_in!(
                lang,
                "only {n} file found (minimum {min})",
                "only {n} files found (minimum {min})",
                searched as u64,
                min = min
            ));
        }
    }
    if problems.is_empty() {
        Finding::Fresh { file, age }
    } else {
        Finding::Stale {
            file,
            age,
            problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    fn touch(path: &Path, bytes: usize, age: Duration) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, vec![b'x'; bytes]).unwrap();
        let f = File::options().write(true).open(path).unwrap();
        f.set_modified(SystemTime::now() - age).unwrap();
    }

    fn req(hours: u64, min: Option<u64>) -> Requirement {
        Requirement {
            max_age: Duration::from_secs(hours * 3600),
            min_size: min,
            min_files: None,
        }
    }

    #[test]
    fn newest_in_a_directory_recursively() {
        let d = tempfile::tempdir().unwrap();
        touch(
            &d.path().join("old.tar.gz"),
            10,
            Duration::from_secs(48 * 3600),
        );
        touch(
            &d.path().join("sub/new.tar.gz"),
            10,
            Duration::from_secs(60),
        );
        let (found, n) = newest(&d.path().to_string_lossy());
        assert_eq!(n, 2);
        assert_eq!(found.unwrap().path, d.path().join("sub/new.tar.gz"));
    }

    #[test]
    fn a_file_dated_in_the_future_is_not_fresh() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("db.sql.gz");
        std::fs::write(&p, b"x").unwrap();
        let f = File::options().write(true).open(&p).unwrap();
        f.set_modified(SystemTime::now() + Duration::from_secs(2 * 86_400))
            .unwrap();
        let (found, n) = newest(&d.path().to_string_lossy());
        match judge(
            found,
            n,
            &req(26, None),
            SystemTime::now(),
            Language::English,
        ) {
            Finding::Stale { problems, .. } => {
                assert!(problems[0].contains("in the future"), "{problems:?}")
            }
            other => panic!("{other:?}"),
        }
        // a clock a little ahead is tolerated
        f.set_modified(SystemTime::now() + Duration::from_secs(60))
            .unwrap();
        let (found, n) = newest(&d.path().to_string_lossy());
        assert!(judge(
            found,
            n,
            &req(26, None),
            SystemTime::now(),
            Language::English
        )
        .is_fresh());
    }

    #[test]
    fn a_given_link_to_a_directory_is_followed_but_links_inside_are_not() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("nas/backup");
        touch(&real.join("db.sql.gz"), 10, Duration::from_secs(60));
        let link = d.path().join("backup");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let (found, n) = newest(&link.to_string_lossy());
        assert_eq!(n, 1);
        assert_eq!(found.unwrap().path, link.join("db.sql.gz"));
        // as a pattern's match too
        let (found, _) = newest(&d.path().join("back*").to_string_lossy());
        assert!(found.is_some());
        // a link inside the tree is not followed (no loops)
        std::os::unix::fs::symlink(d.path(), real.join("loop")).unwrap();
        assert_eq!(newest(&link.to_string_lossy()).1, 1);
    }

    #[test]
    fn fresh_stale_small_and_missing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("postfix-config-1.tar.gz");
        touch(&p, 2048, Duration::from_secs(3600));
        let pat = d.path().join("postfix-config-*.tar.gz");
        let pat = pat.to_string_lossy();
        let now = SystemTime::now();
        let (f, n) = newest(&pat);
        assert!(judge(f.clone(), n, &req(26, Some(1024)), now, Language::English).is_fresh());
        match judge(
            f.clone(),
            n,
            &req(26, Some(1 << 20)),
            now,
            Language::English,
        ) {
            Finding::Stale { problems, .. } => assert!(problems[0].contains("minimum 1.0 MiB")),
            other => panic!("{other:?}"),
        }
        touch(&p, 2048, Duration::from_secs(30 * 3600));
        let (f, n) = newest(&pat);
        match judge(f, n, &req(26, None), now, Language::English) {
            Finding::Stale { problems, .. } => {
                assert!(problems[0].contains("old (limit 1d 02h)"), "{problems:?}")
            }
            other => panic!("{other:?}"),
        }
        let missing = d.path().join("nothing-*.gz");
        let (f, n) = newest(&missing.to_string_lossy());
        assert_eq!(
            judge(f, n, &req(26, None), now, Language::English),
            Finding::Missing { searched: 0 }
        );
        let (f, n) = newest("/nonexistent/backup/dir");
        assert_eq!(
            judge(f, n, &req(26, None), now, Language::English),
            Finding::Missing { searched: 0 }
        );
    }
}
