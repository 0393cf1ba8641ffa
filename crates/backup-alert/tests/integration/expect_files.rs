//! `check --expect-files`: the newest backup's file count against the previous backup's,
//! on archives made by GNU tar (whose own listing is the expected count) and on snapshot
//! directories.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::*;

/// A directory tree with `n` files in two subdirectories.
fn tree(root: &Path, n: usize) {
    for i in 0..n {
        let sub = root.join(if i % 2 == 0 { "etc" } else { "var/lib" });
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("file{i}")), format!("content {i}\n")).unwrap();
    }
}

pub(crate) fn age(path: &Path, by: Duration) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - by)
        .unwrap();
}

/// `tar -czf ARCHIVE -C DIR .` of a tree of `n` files; returns the archive and GNU tar's
/// own count of its members (`tar -tzf | wc -l`).
pub(crate) fn tar_of(env: &Env, name: &str, n: usize) -> (PathBuf, u64) {
    let src = env.path(&format!("src-{name}"));
    tree(&src, n);
    let dir = env.path("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let archive = dir.join(name);
    let ok = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&src)
        .arg(".")
        .status()
        .expect("GNU tar");
    assert!(ok.success());
    let list = Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .unwrap();
    let members = String::from_utf8_lossy(&list.stdout).lines().count() as u64;
    (archive, members)
}

fn check(env: &Env, path: &str, expect: &str) -> Run {
    run(env.sub(&[
        "check",
        "--path",
        path,
        "--max-age",
        "26h",
        "--to",
        TO,
        "--no-flood",
        expect,
    ]))
}

#[test]
fn an_archive_with_fewer_members_than_the_previous_one_is_a_warning_naming_both_counts() {
    let server = server();
    let env = Env::new(&server);
    let (old, old_members) = tar_of(&env, "site-2026-12-01.tar.gz", 40);
    age(&old, Duration::from_secs(86_400));
    let (new, new_members) = tar_of(&env, "site-2026-12-02.tar.gz", 20);
    assert!(new_members < old_members * 9 / 10);
    let dir = env.path("backups");
    let r = check(&env, dir.to_str().unwrap(), "--expect-files");
    r.assert_code(1);
    let msg = one_message(&server);
    let subject = parse(&msg).subject().unwrap_or_default().to_string();
    assert!(subject.contains("Backup holds fewer files: "), "{subject}");
    let text = text_of(&msg);
    let problem = format!(
        "the newest backup, {}, holds {new_members} files; the previous one, {}, {old_members} ({} fewer",
        new.display(),
        old.display(),
        old_members - new_members
    );
    assert!(text.contains(&problem), "{text}");
    assert!(text.contains("tolerance 10%)"), "{text}");
    assert_eq!(
        fact(&text, "Files in backup"),
        format!("{new_members} ({})", new.display())
    );
    assert_eq!(
        fact(&text, "Previous backup"),
        format!("{old_members} files ({})", old.display())
    );

    // within a wider tolerance it is fresh, and the counts are still shown
    let server = self::server();
    let env2 = Env::new(&server);
    let r = run(env2.sub(&[
        "check",
        "--path",
        dir.to_str().unwrap(),
        "--max-age",
        "26h",
        "--to",
        TO,
        "--no-flood",
        "--expect-files=60%",
    ]));
    r.assert_code(0);
    let text = text_of(&one_message(&server));
    assert_eq!(
        fact(&text, "Previous backup"),
        format!("{old_members} files ({})", old.display())
    );
}

#[test]
fn snapshot_directories_are_counted_file_by_file() {
    let server = server();
    let env = Env::new(&server);
    let snaps = env.path("snapshots");
    let old = snaps.join("2026-12-01");
    tree(&old, 30);
    for e in walk(&old) {
        age(&e, Duration::from_secs(86_400));
    }
    let new = snaps.join("2026-12-02");
    tree(&new, 29);
    // one file fewer: fine at 10%, not with --expect-files=0
    check(&env, snaps.to_str().unwrap(), "--expect-files").assert_code(0);
    let text = text_of(&one_message(&server));
    assert_eq!(
        fact(&text, "Files in backup"),
        format!("29 ({})", new.display())
    );
    assert_eq!(
        fact(&text, "Previous backup"),
        format!("30 files ({})", old.display())
    );
    let server = self::server();
    let env2 = Env::new(&server);
    let pattern = snaps.join("2026-*");
    let r = run(env2.sub(&[
        "check",
        "--path",
        pattern.to_str().unwrap(),
        "--max-age",
        "26h",
        "--to",
        TO,
        "--no-flood",
        "--expect-files=0",
    ]));
    r.assert_code(1);
    let text = text_of(&one_message(&server));
    // the headline names the two backups, not a file inside the newest one
    assert_eq!(
        text.lines().next().unwrap_or_default(),
        format!(
            "Problem: the newest backup, {}, holds 29 files; the previous one, {}, 30 (1 fewer, 3.3%; tolerance 0 files)",
            new.display(),
            old.display()
        ),
        "{text}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn without_a_previous_backup_or_a_countable_one() {
    let server = server();
    let env = Env::new(&server);
    let (_, _) = tar_of(&env, "only.tar.gz", 5);
    check(
        &env,
        env.path("backups").to_str().unwrap(),
        "--expect-files",
    )
    .assert_code(0);
    let text = text_of(&one_message(&server));
    assert_eq!(fact(&text, "Previous backup"), "none to compare with");

    // a plain dump in the path itself is neither an archive nor a backup directory
    let server = self::server();
    let env = Env::new(&server);
    let dumps = env.path("dumps");
    std::fs::create_dir_all(&dumps).unwrap();
    std::fs::write(dumps.join("db.sql"), "-- dump\n").unwrap();
    check(&env, dumps.to_str().unwrap(), "--expect-files").assert_code(1);
    let msg = one_message(&server);
    let subject = parse(&msg).subject().unwrap_or_default().to_string();
    assert!(subject.contains("Backup files not counted: "), "{subject}");
    assert!(
        text_of(&msg).contains("is neither an archive (tar, zip) nor in a backup directory"),
        "{}",
        text_of(&msg)
    );

    // the tolerance is given with `=`, and must be one
    let r = check(&env, dumps.to_str().unwrap(), "--expect-files=many");
    r.assert_code(64);
    assert!(r.stderr.contains("invalid tolerance"), "{}", r.stderr);
}
