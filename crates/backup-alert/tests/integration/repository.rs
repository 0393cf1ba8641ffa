//! `check --borg` / `--restic` against real repositories made in the test: the newest
//! archive's time comes from the tool, and a repository the tool cannot read is a failure.

use std::path::Path;
use std::process::Command;

use crate::*;

/// The tool, run with the test's HOME (borg remembers repositories under it) and the
/// given extra environment; panics when it fails.
fn tool(env: &Env, program: &Path, args: &[&str], extra: &[(&str, &str)]) {
    let out = Command::new(program)
        .args(args)
        .env("HOME", &env.home)
        .envs(extra.iter().copied())
        .current_dir(env.dir.path())
        .output()
        .expect("run the backup tool");
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check(env: &Env, flag: &str, repo: &str, extra_env: &[(&str, &str)]) -> Run {
    let mut c = env.sub(&[
        "check",
        flag,
        repo,
        "--max-age",
        "1h",
        "--name",
        "nightly",
        "--to",
        TO,
        "--no-flood",
    ]);
    c.envs(extra_env.iter().copied());
    run(c)
}

#[test]
fn borg_repository_newest_archive() {
    let Some(borg) = rsmtp_testserver::peer::require_peer("/usr/bin/borg", "borg (borgbackup)")
    else {
        return;
    };
    let server = server();
    let env = Env::new(&server);
    let repo = env.path("borg-repo");
    let repo = repo.to_str().unwrap();
    std::fs::write(env.path("data.txt"), b"payload").unwrap();
    tool(&env, &borg, &["init", "--encryption=none", repo], &[]);
    // an empty repository has no archive
    check(&env, "--borg", repo, &[]).assert_code(1);
    // the repository's files are dated now either way; only the archive's own time
    // tells: one made "three hours ago" is too old for --max-age 1h
    tool(
        &env,
        &borg,
        &[
            "create",
            "--timestamp",
            &three_hours_ago(),
            &format!("{repo}::nightly-old"),
            "data.txt",
        ],
        &[],
    );
    let msgs = |n| server.wait_for_messages(n, WAIT);
    check(&env, "--borg", repo, &[]).assert_code(1);
    let m = msgs(2);
    assert!(parse(&m[0])
        .subject()
        .unwrap()
        .contains("No backup found: nightly"));
    let text = text_of(&m[1]);
    assert!(
        parse(&m[1])
            .subject()
            .unwrap()
            .contains("Backup too old: nightly"),
        "{text}"
    );
    assert_eq!(
        fact(&text, "Newest archive"),
        format!("{repo}::nightly-old")
    );
    assert!(fact(&text, "Age").contains("too old"), "{text}");
    // a newer archive: fresh
    tool(
        &env,
        &borg,
        &["create", &format!("{repo}::nightly-2"), "data.txt"],
        &[],
    );
    check(&env, "--borg", repo, &[]).assert_code(0);
    let text = text_of(&msgs(3)[2]);
    assert_eq!(
        fact(&text, "Newest archive"),
        format!("{repo}::nightly-2"),
        "{text}"
    );
}

fn three_hours_ago() -> String {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 3600);
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    // borg --timestamp takes UTC as yyyy-mm-ddThh:mm:ss
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%S"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn restic_repository_newest_snapshot_and_a_wrong_password() {
    let Some(restic) = rsmtp_testserver::peer::require_peer("/usr/bin/restic", "restic") else {
        return;
    };
    let server = server();
    let env = Env::new(&server);
    let repo = env.path("restic-repo");
    let repo = repo.to_str().unwrap();
    std::fs::write(env.path("data.txt"), b"payload").unwrap();
    let pw = [("RESTIC_PASSWORD", "correct horse")];
    tool(&env, &restic, &["init", "--repo", repo], &pw);
    tool(&env, &restic, &["backup", "--repo", repo, "data.txt"], &pw);
    check(&env, "--restic", repo, &pw).assert_code(0);
    let m = server.wait_for_messages(1, WAIT);
    let text = text_of(&m[0]);
    assert!(
        fact(&text, "Newest archive").starts_with(&format!("{repo} snapshot ")),
        "{text}"
    );
    assert!(fact(&text, "Repository").ends_with("(restic)"), "{text}");
    // the tool's own complaint is the alert's first line
    check(&env, "--restic", repo, &[("RESTIC_PASSWORD", "wrong")]).assert_code(1);
    let m = server.wait_for_messages(2, WAIT);
    let parsed = parse(&m[1]);
    assert!(
        parsed
            .subject()
            .unwrap()
            .ends_with("Backup repository unreadable: nightly"),
        "{:?}",
        parsed.subject()
    );
    let text = text_of(&m[1]);
    assert!(text.contains("restic exited with status 1"), "{text}");
    assert!(text.to_lowercase().contains("wrong password"), "{text}");
}

/// The first check of a repository, before any success is recorded, knows its newest
/// archive as the last good backup ("none recorded" was a false alarm of its own).
#[test]
fn the_first_stale_check_knows_the_newest_archive_as_the_last_good_backup() {
    let Some(borg) = rsmtp_testserver::peer::require_peer("/usr/bin/borg", "borg (borgbackup)")
    else {
        return;
    };
    let server = server();
    let env = Env::new(&server);
    let repo = env.path("borg-repo");
    let repo = repo.to_str().unwrap();
    std::fs::write(env.path("data.txt"), b"payload").unwrap();
    tool(&env, &borg, &["init", "--encryption=none", repo], &[]);
    tool(
        &env,
        &borg,
        &[
            "create",
            "--timestamp",
            &three_hours_ago(),
            &format!("{repo}::nightly-old"),
            "data.txt",
        ],
        &[],
    );
    check(&env, "--borg", repo, &[]).assert_code(1);
    let text = text_of(&one_message(&server));
    let last_good = fact(&text, "Last good backup");
    assert!(last_good.starts_with("3 hours ago ("), "{text}");
}

/// A tool whose `--json` output is not JSON (a wrapper printing a coloured warning
/// first): said in words, with the start of what it printed, escapes removed.
#[test]
fn a_listing_that_is_not_json_is_said_in_words() {
    let server = server();
    let env = Env::new(&server);
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("borg");
    std::fs::write(
        &fake,
        "#!/bin/sh\nprintf '\\033[33mWarning: using a deprecated option\\033[0m\\n{\"archives\": '\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    check(&env, "--borg", "/backup/borg", &[("PATH", path.as_str())]).assert_code(1);
    let text = text_of(&one_message(&server));
    assert!(
        text.contains(
            "borg's listing could not be read: its output is not JSON (it begins \u{201c}Warning: using a deprecated option\u{201d}"
        ),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "{text:?}");
}

/// An unencrypted borg repository `borg-repo` with one archive, `nightly-1`, of 200 kB
/// that do not compress (so the biggest segment is the data's); its path.
pub(crate) fn borg_repo_of_incompressible_data(env: &Env, borg: &Path) -> String {
    let repo = env.path("borg-repo");
    let repo = repo.to_str().unwrap();
    let data: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(env.path("data.bin"), data).unwrap();
    tool(env, borg, &["init", "--encryption=none", repo], &[]);
    tool(
        env,
        borg,
        &["create", &format!("{repo}::nightly-1"), "data.bin"],
        &[],
    );
    repo.to_string()
}

/// Damage `borg-repo`: one byte flipped in the middle of its biggest segment.
pub(crate) fn flip_a_byte_of_borg_data(env: &Env) {
    let segment = std::fs::read_dir(env.path("borg-repo/data/0"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&segment, bytes).unwrap();
}

/// `--deep` runs the tool's own check: a borg repository with one flipped byte in its
/// data is "damaged", with borg's integrity line first and what to do.
#[test]
fn deep_check_finds_a_damaged_borg_repository() {
    let Some(borg) = rsmtp_testserver::peer::require_peer("/usr/bin/borg", "borg (borgbackup)")
    else {
        return;
    };
    let server = server();
    let env = Env::new(&server);
    let repo = borg_repo_of_incompressible_data(&env, &borg);
    let repo = repo.as_str();
    let deep = |env: &Env| {
        let c = env.sub(&[
            "check",
            "--borg",
            repo,
            "--deep",
            "--max-age",
            "1h",
            "--name",
            "nightly",
            "--to",
            TO,
            "--no-flood",
        ]);
        run(c)
    };
    deep(&env).assert_code(0);
    let text = text_of(&server.wait_for_messages(1, WAIT)[0]);
    assert_eq!(
        fact(&text, "Repository check"),
        format!("passed (borg check {repo})"),
        "{text}"
    );
    flip_a_byte_of_borg_data(&env);
    deep(&env).assert_code(1);
    let msgs = server.wait_for_messages(2, WAIT);
    let subject = parse(&msgs[1]).subject().unwrap_or_default().to_string();
    assert!(
        subject.ends_with("Backup repository damaged: nightly"),
        "{subject}"
    );
    let text = text_of(&msgs[1]);
    assert!(
        text.lines()
            .next()
            .unwrap_or_default()
            .contains("Data integrity error"),
        "{text}"
    );
    assert!(
        fact(&text, "What to do").contains(&format!("`borg check {repo}`")),
        "{text}"
    );
}

/// restic's restore test: `--read-data-subset` is passed to `restic check`.
#[test]
fn deep_check_reads_a_restic_data_subset() {
    let Some(restic) = rsmtp_testserver::peer::require_peer("/usr/bin/restic", "restic") else {
        return;
    };
    let server = server();
    let env = Env::new(&server);
    let repo = env.path("restic-repo");
    let repo = repo.to_str().unwrap();
    std::fs::write(env.path("data.txt"), b"payload").unwrap();
    let pw = [("RESTIC_PASSWORD", "correct horse")];
    tool(&env, &restic, &["init", "--repo", repo], &pw);
    tool(&env, &restic, &["backup", "--repo", repo, "data.txt"], &pw);
    let mut c = env.sub(&[
        "check",
        "--restic",
        repo,
        "--deep",
        "--read-data-subset",
        "100%",
        "--max-age",
        "1h",
        "--to",
        TO,
        "--no-flood",
    ]);
    c.envs(pw);
    run(c).assert_code(0);
    let text = text_of(&one_message(&server));
    assert_eq!(
        fact(&text, "Repository check"),
        format!("passed (restic check --repo {repo} --read-data-subset 100%)"),
        "{text}"
    );
    // --deep needs a repository
    let mut c = env.sub(&[
        "check",
        "--path",
        repo,
        "--deep",
        "--max-age",
        "1h",
        "--to",
        TO,
    ]);
    c.envs(pw);
    run(c).assert_code(64);
}
