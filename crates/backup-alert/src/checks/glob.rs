//! Shell-style wildcards for `check --path`: fnmatch's `*`, `?` and `[...]` (the
//! matcher rsmtp-config uses for msmtp's `from` patterns) within a path component —
//! never across `/` — and, as in the shell, a leading `.` is only matched by a pattern
//! that starts with `.`. No `**`: a directory given as the path is searched
//! recursively instead.

use std::path::{Component, Path, PathBuf};

/// Does `s` contain a wildcard?
pub(crate) fn has_wildcards(s: &str) -> bool {
    rsmtp_config::glob::is_pattern(s)
}

/// Match one path component against one pattern component.
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    rsmtp_config::glob::matches(pattern, name)
}

/// Every existing path matching `pattern` (files and directories), sorted.
/// Unreadable directories along the way are skipped.
pub(crate) fn expand(pattern: &Path) -> Vec<PathBuf> {
    let mut current: Vec<PathBuf> = vec![PathBuf::new()];
    for comp in pattern.components() {
        let mut next = Vec::new();
        match comp {
            Component::Normal(part) => {
                let part = part.to_string_lossy();
                if has_wildcards(&part) {
                    for base in &current {
                        let dir = if base.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            base.as_path()
                        };
                        let Ok(entries) = std::fs::read_dir(dir) else {
                            continue;
                        };
                        for e in entries.flatten() {
                            let name = e.file_name();
                            if matches(&part, &name.to_string_lossy()) {
                                next.push(base.join(&name));
                            }
                        }
                    }
                } else {
                    next = current.iter().map(|b| b.join(part.as_ref())).collect();
                }
            }
            other => {
                next = current.iter().map(|b| b.join(other.as_os_str())).collect();
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    let mut out: Vec<PathBuf> = current
        .into_iter()
        .filter(|p| !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_ok())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_question_mark() {
        assert!(matches(
            "postfix-config-*.tar.gz",
            "postfix-config-20250113.tar.gz"
        ));
        assert!(!matches(
            "postfix-config-*.tar.gz",
            "postfix-config-20250113.tar"
        ));
        assert!(matches("*", "anything"));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "ac"));
        assert!(matches("*.sql*", "maildb.sql.gz"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("**", ""));
        assert!(matches("backup-é?", "backup-éé"));
    }

    #[test]
    fn hidden_files_need_an_explicit_dot() {
        assert!(!matches("*", ".hidden"));
        assert!(matches(".*", ".hidden"));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let name = "a".repeat(200);
        let pat = format!("{}b", "*a".repeat(30));
        assert!(!matches(&pat, &name));
    }

    #[test]
    fn expands_in_any_component() {
        let d = tempfile::tempdir().unwrap();
        for p in [
            "2025-01/db.sql.gz",
            "2025-02/db.sql.gz",
            "2025-02/notes.txt",
            "x/db.sql.gz",
        ] {
            let f = d.path().join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(&f, b"x").unwrap();
        }
        let got = expand(&d.path().join("2025-*/*.sql.gz"));
        assert_eq!(
            got,
            vec![
                d.path().join("2025-01/db.sql.gz"),
                d.path().join("2025-02/db.sql.gz")
            ]
        );
        assert!(expand(&d.path().join("nothing-*")).is_empty());
        assert_eq!(expand(&d.path().join("x/db.sql.gz")).len(), 1);
    }
}
