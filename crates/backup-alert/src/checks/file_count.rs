//! `check --expect-files`: does the newest backup hold about as many files as the one
//! before it? A backup that is fresh and big enough can still have left out half the tree
//! (an unmounted share, a permission change, an exclude gone wrong); its file count shows it.
//!
//! What a "backup" is, and so what is counted:
//! - the newest file is an archive (tar, tar.gz/.tgz, tar.zst, tar.xz, zip): its members,
//!   read with [`crate::checks::verify`]; the previous backup is the newest other archive under
//!   the path (checksum files are never taken for one);
//! - otherwise, one directory per backup (rsync or `cp -al` snapshots): with a pattern
//!   (`/backup/daily.*`) each matching directory is a backup, with a directory
//!   (`/backup/snapshots`) each directory in it; the newest backup is the one holding the
//!   newest file, the previous one the backup whose newest file is next, and the count is
//!   of the regular files in it (recursively, links not followed, as `check` walks).
//!
//! The newest backup may hold fewer files than the previous one by the tolerance: a
//! percentage of the previous count (`--expect-files=10%`, the default) or a number of
//! files (`--expect-files=0` for "never fewer"). More files is never a problem. With no
//! previous backup there is nothing to compare, and the count is only shown.

use std::path::{Path, PathBuf};

use crate::checks::newest::{self, Found};
use crate::lang::Language;
use rsmtp_core::{tr_in, trn_in};

/// How many fewer files the newest backup may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tolerance {
    /// Of the previous backup's count.
    Percent(u8),
    Files(u64),
}

impl Tolerance {
    /// `10%`, `0`, `250`.
    pub(crate) fn parse(text: &str) -> Result<Tolerance, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "invalid tolerance `{text}`: a percentage of the previous backup's files \
                 (10%) or a number of files (0, 250)"
            )
        };
        match t.strip_suffix('%') {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= 100)
                .map(Tolerance::Percent)
                .ok_or_else(bad),
            None => t.parse().map(Tolerance::Files).map_err(|_| bad()),
        }
    }

    /// Files fewer than `previous` that are still fine.
    fn allowed(self, previous: u64) -> u64 {
        match self {
            Tolerance::Percent(p) => previous * u64::from(p) / 100,
            Tolerance::Files(n) => n,
        }
    }

    fn describe(self, lang: Language) -> String {
        match self {
            Tolerance::Percent(p) => format!("{p}%"),
            Tolerance::Files(n) => trn_in!(lang, "{n} file", "{n} files", n),
        }
    }
}

/// One backup and its file count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counted {
    pub(crate) path: PathBuf,
    pub(crate) files: u64,
}

/// What `--expect-files` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileCount {
    /// Both backups counted (or only the newest, when there is no previous one).
    Compared {
        newest: Counted,
        previous: Option<Counted>,
        /// The previous backup could not be counted (a damaged archive): why.
        previous_unreadable: Option<(PathBuf, String)>,
        tolerance: Tolerance,
    },
    /// The newest backup could not be counted.
    Uncountable(String),
}

impl FileCount {
    /// Count the newest backup under `location` (whose newest file is `newest`) and the
    /// one before it; why one cannot be counted is said in `lang`.
    pub(crate) fn check(
        location: &str,
        newest: &Found,
        tolerance: Tolerance,
        lang: Language,
    ) -> FileCount {
        if is_archive(&newest.path) {
            return compare_archives(location, newest, tolerance, lang);
        }
        compare_directories(location, newest, tolerance, lang)
    }

    /// The problem, when the newest backup holds too few files or cannot be counted.
    pub(crate) fn problem(&self, lang: Language) -> Option<String> {
        match self {
            FileCount::Uncountable(why) => {
                Some(tr_in!(lang, "files not counted: {why}", why = why))
            }
            FileCount::Compared {
                newest,
                previous: Some(previous),
                tolerance,
                ..
            } if newest.files + tolerance.allowed(previous.files) < previous.files => {
                let lost = previous.files - newest.files;
                let percent = lost as f64 * 100.0 / previous.files as f64;
                Some(trn_in!(
                    lang,
                    "the newest backup, {newest}, holds {n} file; the previous one, \
                     {previous}, {previous_files} ({lost} fewer, {percent}%; tolerance \
                     {tolerance})",
                    "the newest backup, {newest}, holds {n} files; the previous one, \
                     {previous}, {previous_files} ({lost} fewer, {percent}%; tolerance \
                     {tolerance})",
                    newest.files,
                    newest = shown(&newest.path),
                    previous = shown(&previous.path),
                    previous_files = previous.files,
                    lost = lost,
                    percent = format!("{percent:.1}"),
                    tolerance = tolerance.describe(lang)
                ))
            }
            FileCount::Compared { .. } => None,
        }
    }

    /// `Files in backup` and `Previous backup` facts.
    pub(crate) fn facts(&self, lang: Language) -> Vec<(&'static str, String)> {
        let mut facts = Vec::new();
        match self {
            FileCount::Uncountable(why) => facts.push(("Files in backup", why.clone())),
            FileCount::Compared {
                newest,
                previous,
                previous_unreadable,
                ..
            } => {
                facts.push((
                    "Files in backup",
                    tr_in!(
                        lang,
                        "{count} ({path})",
                        count = newest.files,
                        path = newest.path.display()
                    ),
                ));
                facts.push((
                    "Previous backup",
                    match (previous, previous_unreadable) {
                        (Some(p), _) => trn_in!(
                            lang,
                            "{n} file ({path})",
                            "{n} files ({path})",
                            p.files,
                            path = p.path.display()
                        ),
                        (None, Some((path, why))) => tr_in!(
                            lang,
                            "not counted: {path}: {why}",
                            path = path.display(),
                            why = why
                        ),
                        (None, None) => tr_in!(lang, "none to compare with").into_owned(),
                    },
                ));
            }
        }
        facts
    }
}

/// A backup's path as the reader of the alert needs it: absolute.
fn shown(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Does the name say the file is an archive whose members can be counted?
pub(crate) fn is_archive(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    [
        ".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst", ".tar.xz", ".txz", ".zip",
    ]
    .iter()
    .any(|s| name.ends_with(s))
}

fn members(path: &Path, lang: Language) -> Result<u64, String> {
    match crate::checks::verify::verify(path, lang) {
        Ok(v) => v.members.ok_or_else(|| {
            tr_in!(
                lang,
                "{path}: {format} has no members to count",
                path = path.display(),
                format = v.format
            )
        }),
        Err(f) => Err(f.describe(lang)),
    }
}

fn compare_archives(
    location: &str,
    newest: &Found,
    tolerance: Tolerance,
    lang: Language,
) -> FileCount {
    let files = match members(&newest.path, lang) {
        Ok(n) => n,
        Err(why) => return FileCount::Uncountable(why),
    };
    let mut others: Vec<Found> = Vec::new();
    newest::for_each_file(
        location,
        &|p| is_archive(p) && !crate::checks::manifest::is_sidecar(p),
        &mut |f| {
            if f.path != newest.path {
                others.push(f)
            }
        },
    );
    let previous = others.into_iter().max_by_key(|f| f.modified);
    let (previous, previous_unreadable) = match previous {
        None => (None, None),
        Some(p) => match members(&p.path, lang) {
            Ok(n) => (
                Some(Counted {
                    path: p.path,
                    files: n,
                }),
                None,
            ),
            Err(why) => (None, Some((p.path, why))),
        },
    };
    FileCount::Compared {
        newest: Counted {
            path: newest.path.clone(),
            files,
        },
        previous,
        previous_unreadable,
        tolerance,
    }
}

/// One directory per backup: the pattern's matches, or the directories in the path.
fn compare_directories(
    location: &str,
    newest: &Found,
    tolerance: Tolerance,
    lang: Language,
) -> FileCount {
    let backups: Vec<PathBuf> = if crate::checks::glob::has_wildcards(location) {
        newest::roots(location)
            .into_iter()
            .filter(|p| p.is_dir())
            .collect()
    } else {
        std::fs::read_dir(location)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default()
    };
    let Some(current) = backups.iter().find(|b| newest.path.starts_with(b)) else {
        return FileCount::Uncountable(tr_in!(
            lang,
            "{path} is neither an archive (tar, zip) nor in a backup directory of its own \
             (one directory per backup under the path, or a pattern matching them)",
            path = newest.path.display()
        ));
    };
    // Each backup's file count and newest modification time.
    let tally = |dir: &Path| {
        let (mut files, mut latest) = (0u64, None);
        newest::for_each_file(&dir.to_string_lossy(), &|_| true, &mut |f| {
            files += 1;
            latest = latest.max(Some(f.modified));
        });
        (files, latest)
    };
    let (files, _) = tally(current);
    let previous = backups
        .iter()
        .filter(|b| *b != current)
        .filter_map(|b| {
            let (files, latest) = tally(b);
            Some((latest?, b.clone(), files))
        })
        .max_by_key(|(latest, _, _)| *latest)
        .map(|(_, path, files)| Counted { path, files });
    FileCount::Compared {
        newest: Counted {
            path: current.clone(),
            files,
        },
        previous,
        previous_unreadable: None,
        tolerance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances() {
        assert_eq!(Tolerance::parse("10%"), Ok(Tolerance::Percent(10)));
        assert_eq!(Tolerance::parse("0"), Ok(Tolerance::Files(0)));
        assert_eq!(Tolerance::parse(" 250 "), Ok(Tolerance::Files(250)));
        assert!(Tolerance::parse("101%").is_err());
        assert!(Tolerance::parse("some").is_err());
        assert_eq!(Tolerance::Percent(10).allowed(1000), 100);
        assert_eq!(Tolerance::Files(5).allowed(1000), 5);
    }

    fn compared(newest: u64, previous: u64, tolerance: Tolerance) -> FileCount {
        FileCount::Compared {
            newest: Counted {
                path: "/b/new".into(),
                files: newest,
            },
            previous: Some(Counted {
                path: "/b/old".into(),
                files: previous,
            }),
            previous_unreadable: None,
            tolerance,
        }
    }

    #[test]
    fn a_drop_beyond_the_tolerance_is_a_problem_and_growth_never_is() {
        let ten = Tolerance::Percent(10);
        let en = Language::English;
        assert_eq!(compared(900, 1000, ten).problem(en), None);
        assert_eq!(
            compared(899, 1000, ten).problem(en).as_deref(),
            Some(
                "the newest backup, /b/new, holds 899 files; the previous one, /b/old, 1000 \
                 (101 fewer, 10.1%; tolerance 10%)"
            )
        );
        assert_eq!(compared(5000, 1000, Tolerance::Files(0)).problem(en), None);
        assert!(compared(999, 1000, Tolerance::Files(0))
            .problem(en)
            .is_some());
    }
}
