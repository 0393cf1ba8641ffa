//! What a newcomer does with the README holds: its test command is the one CI runs,
//! its apt-get line installs what CI installs, its Rust version is the checked one,
//! `contrib/install.sh` gives a working system mailer, the skip summary names each
//! missing peer, and its backup-alert examples work without a settings file.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::support::{repo_root, rsmtp_bin};

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo_root().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// The packages of the first `apt-get install` command in `text` (its `\`
/// continuation lines included; options, `sudo` and redirections left out).
fn apt_packages(text: &str) -> Vec<String> {
    let mut lines = text.lines().skip_while(|l| !l.contains("apt-get install"));
    let mut words = Vec::new();
    for line in lines.by_ref() {
        // A comment ends the line's words (`... # why`).
        let line = line.split(" #").next().unwrap_or_default();
        let (body, more) = match line.trim_end().strip_suffix('\\') {
            Some(body) => (body, true),
            None => (line, false),
        };
        words.extend(body.split_whitespace().map(str::to_string));
        if !more {
            break;
        }
    }
    words
        .into_iter()
        .skip_while(|w| w != "install")
        .skip(1)
        .filter(|w| !w.starts_with('-') && !w.starts_with('>'))
        .collect()
}

#[test]
fn the_readme_apt_line_installs_what_ci_installs() {
    let readme = apt_packages(&read("README.md"));
    let ci = apt_packages(&read(".ci/run"));
    assert!(ci.len() > 20, "the peers .ci/run installs: {ci:?}");
    let unique: BTreeSet<&String> = readme.iter().collect();
    assert_eq!(unique.len(), readme.len(), "a package twice: {readme:?}");
    let readme: BTreeSet<String> = readme.into_iter().collect();
    let ci: BTreeSet<String> = ci.into_iter().collect();
    assert_eq!(
        readme.difference(&ci).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in the README's apt-get line, not in .ci/run's"
    );
    assert_eq!(
        ci.difference(&readme).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in .ci/run's apt-get line, not in the README's"
    );
}

#[test]
fn the_apt_line_parser_reads_continuations() {
    let text = "x\n    apt-get install -y -qq --no-install-recommends \\\n  a b \\\n  c \\\n  >/dev/null\nd e\n";
    assert_eq!(apt_packages(text), ["a", "b", "c"]);
    assert_eq!(apt_packages("sudo apt-get install a b # why\n"), ["a", "b"]);
}

/// The README's test command is the one CI runs, and it is the script that prints the
/// skip summary.
#[test]
fn the_readme_test_command_is_what_ci_runs() {
    let readme = read("README.md");
    let command = readme
        .lines()
        .find(|l| l.contains("# the tests"))
        .and_then(|l| l.split('#').next())
        .map(str::trim)
        .expect("the README's test command, commented `# the tests`");
    assert_eq!(command, "contrib/test.sh");
    assert!(
        read(".ci/run").lines().any(|l| l.trim() == command),
        ".ci/run does not run `{command}`"
    );
    assert!(read("contrib/test.sh").contains("cargo test --workspace"));
}

#[test]
fn the_skip_summary_names_each_missing_peer_and_its_tests() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("skipped.txt");
    std::fs::write(
        &log,
        "msmtp (/usr/bin/msmtp not found)\tintegration::differential::a\n\
         zsh\tintegration::cli::completions\n\
         msmtp (/usr/bin/msmtp not found)\tintegration::differential::b\n\
         msmtp (/usr/bin/msmtp not found)\tintegration::differential::a\n",
    )
    .unwrap();
    let out = Command::new("sh")
        .arg(repo_root().join("contrib/test.sh"))
        .arg("--summary")
        .arg(&log)
        .output()
        .expect("run contrib/test.sh --summary");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let at = |s: &str| {
        lines
            .iter()
            .position(|l| *l == s)
            .unwrap_or_else(|| panic!("{s:?} in:\n{text}"))
    };
    // Each peer once, its tests under it, each test once.
    assert!(at("msmtp (/usr/bin/msmtp not found)") < at("integration::differential::a"));
    assert!(at("integration::differential::b") < at("zsh"));
    assert!(at("zsh") < at("integration::cli::completions"));
    assert_eq!(
        text.matches("integration::differential::a").count(),
        1,
        "{text}"
    );
    let none = Command::new("sh")
        .arg(repo_root().join("contrib/test.sh"))
        .arg("--summary")
        .arg(dir.path().join("absent.txt"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&none.stdout).contains("no test skipped"));
}

/// The Rust version the README names is `rust-version` in Cargo.toml, every crate
/// inherits it, and under CI the toolchain that builds is that very version.
#[test]
fn the_rust_version_claim_is_the_checked_one() {
    let manifest = read("Cargo.toml");
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("rust-version in the workspace Cargo.toml");
    assert!(
        read("README.md").contains(&format!("Rust {version} or newer")),
        "README must name Rust {version}"
    );
    for entry in std::fs::read_dir(repo_root().join("crates")).unwrap() {
        let path = entry.unwrap().path().join("Cargo.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("rust-version.workspace = true"),
            "{} does not inherit rust-version",
            path.display()
        );
    }
    if rsmtp_testserver::peer::in_ci() {
        let out = Command::new("rustc")
            .arg("--version")
            .output()
            .expect("rustc");
        let rustc = String::from_utf8_lossy(&out.stdout);
        assert!(
            rustc.starts_with(&format!("rustc {version}.")),
            "CI builds with {rustc}, the claim is {version}"
        );
    }
}

#[test]
fn the_readme_stays_under_400_lines() {
    let n = read("README.md").lines().count();
    assert!(
        n < 400,
        "README.md has {n} lines: move reference parts to man/"
    );
}

/// Without a settings file `--to` is required, so every backup-alert example that
/// sends (send, run, check, report) carries it.
#[test]
fn the_readme_backup_alert_examples_name_a_recipient() {
    let readme = read("README.md");
    let sending: Vec<&str> = readme
        .lines()
        .filter(|l| {
            ["send", "run", "check", "report"]
                .iter()
                .any(|c| l.contains(&format!("backup-alert {c} ")))
        })
        .filter(|l| !l.trim_start().starts_with('`') && !l.contains("`backup-alert"))
        .collect();
    assert!(sending.len() >= 5, "{sending:#?}");
    for line in sending {
        assert!(line.contains("--to "), "no --to: {line}");
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `contrib/install.sh` into a DESTDIR: the binary where PHP and cron reach it, the
/// rsmtpd and sendmail links, man pages and completions; another MTA's sendmail is
/// left alone.
#[test]
fn install_script_stages_a_system_mailer() {
    let build = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(rsmtp_bin(), build.path().join("rsmtp")).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let run = |extra: &[(&str, &str)]| {
        let mut cmd = Command::new("sh");
        cmd.arg(repo_root().join("contrib/install.sh"))
            .env("DESTDIR", dest.path())
            .env("BUILD_DIR", build.path());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().expect("run contrib/install.sh")
    };
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = dest.path();
    let bin = root.join("usr/local/bin/rsmtp");
    assert_eq!(mode(&bin), 0o755);
    let version = Command::new(&bin).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("rsmtp version"));
    assert_eq!(
        std::fs::read_link(root.join("usr/local/bin/rsmtpd")).unwrap(),
        Path::new("rsmtp")
    );
    assert_eq!(
        std::fs::read_link(root.join("usr/sbin/sendmail")).unwrap(),
        Path::new("/usr/local/bin/rsmtp"),
        "the link PHP and cron call points at the installed binary, not into DESTDIR"
    );
    for page in [
        "man1/rsmtp.1",
        "man1/backup-alert.1",
        "man5/rsmtprc.5",
        "man8/rsmtpd.8",
    ] {
        let p = root.join("usr/local/share/man").join(page);
        assert_eq!(mode(&p), 0o644, "{}", p.display());
    }
    for completion in [
        "bash-completion/completions/rsmtp",
        "zsh/site-functions/_rsmtp",
        "fish/vendor_completions.d/rsmtp.fish",
    ] {
        let p = root.join("usr/local/share").join(completion);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("rsmtp"), "{}", p.display());
    }
    // Another MTA's sendmail stays unless FORCE=1.
    let sendmail = root.join("usr/sbin/sendmail");
    std::fs::remove_file(&sendmail).unwrap();
    std::fs::write(&sendmail, "postfix's sendmail").unwrap();
    let out = run(&[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("left alone"));
    assert_eq!(
        std::fs::read_to_string(&sendmail).unwrap(),
        "postfix's sendmail"
    );
    let out = run(&[("FORCE", "1")]);
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_link(&sendmail).unwrap(),
        Path::new("/usr/local/bin/rsmtp")
    );
}
