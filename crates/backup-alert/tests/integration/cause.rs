//! The alert's headline names the cause, taken from the real tools' output: borg's
//! `--stats` dashes, its ssh and passphrase errors, a wrapper that tees borg into its own
//! stdout and adds a generic line, restic's wrong password, tar's closing summary.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::*;

/// The headline: the first line of the text part, `Error: LINE` or `Problem: LINE`.
pub(crate) fn headline(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    first
        .split_once(": ")
        .map(|(_, l)| l.to_string())
        .unwrap_or_default()
}

/// A tool run in the test's HOME, for preparing repositories; panics when it fails.
pub(crate) fn prepare(env: &Env, program: &Path, args: &[&str], extra: &[(&str, &str)]) {
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

pub(crate) fn borg() -> Option<PathBuf> {
    rsmtp_testserver::peer::require_peer("/usr/bin/borg", "borg (borgbackup)")
}

pub(crate) fn restic() -> Option<PathBuf> {
    rsmtp_testserver::peer::require_peer("/usr/bin/restic", "restic")
}

/// A borg repository (repokey, passphrase `right`) with `data/f` to back up.
pub(crate) fn borg_repo(env: &Env, borg: &Path) -> String {
    std::fs::create_dir_all(env.path("data")).unwrap();
    std::fs::write(env.path("data/f"), b"payload").unwrap();
    let repo = env.path("repo").to_str().unwrap().to_string();
    prepare(
        env,
        borg,
        &["init", "--encryption=repokey", &repo],
        &[("BORG_PASSPHRASE", "right")],
    );
    repo
}

/// `backup-alert run` of `command` with the test HOME and `vars`; the one alert's text.
pub(crate) fn run_job(
    env: &Env,
    server: &rsmtp_testserver::TestServer,
    extra: &[&str],
    vars: &[(&str, &str)],
    command: &[&str],
) -> (Run, String) {
    let mut args = vec!["run", "--to", TO, "--no-flood", "--name", "nightly"];
    args.extend_from_slice(extra);
    let mut c = env.sub(&args);
    c.envs(vars.iter().copied()).arg("--").args(command);
    let r = run(c);
    let text = text_of(&one_message(server));
    (r, text)
}

/// `borg create --stats` ends with a line of dashes on stderr; the headline is borg's
/// complaint about the missing source above the statistics.
#[test]
fn borg_stats_dashes_are_not_the_headline() {
    let Some(borg) = borg() else { return };
    let server = server();
    let env = Env::new(&server);
    let repo = borg_repo(&env, &borg);
    let archive = format!("{repo}::a1");
    let (_, text) = run_job(
        &env,
        &server,
        &[],
        &[("BORG_PASSPHRASE", "right")],
        &[
            borg.to_str().unwrap(),
            "create",
            "--stats",
            &archive,
            "data",
            "nosuch",
        ],
    );
    assert!(
        text.contains("-------"),
        "the stats are in the tail\n{text}"
    );
    assert_eq!(
        headline(&text),
        "nosuch: [Errno 2] No such file or directory: 'nosuch'",
        "{text}"
    );
}

/// A wrong passphrase: borg's own line, even when a wrapper tees borg into its stdout
/// and says "borg create a échoué" on stderr.
#[test]
fn borg_wrong_passphrase_through_a_teeing_wrapper() {
    let Some(borg) = borg() else { return };
    let server = server();
    let env = Env::new(&server);
    let repo = borg_repo(&env, &borg);
    let script = format!(
        "{borg} create --stats {repo}::a1 data 2>&1 | tee -a borg.log; \
         echo 'ERREUR : borg create a échoué' >&2; exit 2",
        borg = borg.display()
    );
    let (r, text) = run_job(
        &env,
        &server,
        &[],
        &[("BORG_PASSPHRASE", "wrong")],
        &["sh", "-c", &script],
    );
    r.assert_code(2);
    assert_eq!(
        headline(&text),
        "passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND or via BORG_PASSPHRASE_FD is incorrect.",
        "{text}"
    );
}

/// A port nothing listens on (bound, then released).
pub(crate) fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// An ssh repository that refuses the connection: ssh's line (through borg's
/// `Remote:`, carriage return and all), not borg's "Connection closed by remote host".
#[test]
fn borg_unreachable_ssh_repository() {
    let Some(borg) = borg() else { return };
    if rsmtp_testserver::peer::require_peer("/usr/bin/ssh", "ssh (openssh-client)").is_none() {
        return;
    }
    let server = server();
    let env = Env::new(&server);
    std::fs::create_dir_all(env.path("data")).unwrap();
    let port = closed_port();
    let archive = format!("ssh://backup@127.0.0.1:{port}/./repo::a1");
    let (r, text) = run_job(
        &env,
        &server,
        &[],
        &[
            ("BORG_PASSPHRASE", "right"),
            ("BORG_RSH", "ssh -o BatchMode=yes"),
        ],
        &[borg.to_str().unwrap(), "create", &archive, "data"],
    );
    r.assert_code(2);
    // borg forwards ssh's stderr on its own: under load it sometimes exits before
    // ssh's line reaches it (seen in 2 of 6 loaded runs). When the line is there it is
    // the headline; when it is not, borg's own cause line is, never a generic one.
    let ssh_line =
        format!("Remote: ssh: connect to host 127.0.0.1 port {port}: Connection refused");
    if text.contains(&ssh_line) {
        assert_eq!(headline(&text), ssh_line, "{text}");
    } else {
        assert!(
            headline(&text).contains("Connection closed by remote host"),
            "{text}"
        );
    }
}

/// restic's `Fatal:` line.
#[test]
fn restic_wrong_password() {
    let Some(restic) = restic() else { return };
    let server = server();
    let env = Env::new(&server);
    std::fs::write(env.path("data.txt"), b"payload").unwrap();
    let repo = env.path("rrepo").to_str().unwrap().to_string();
    let pw = [("RESTIC_PASSWORD", "right")];
    prepare(&env, &restic, &["init", "--repo", &repo], &pw);
    let (r, text) = run_job(
        &env,
        &server,
        &[],
        &[("RESTIC_PASSWORD", "wrong")],
        &[
            restic.to_str().unwrap(),
            "backup",
            "--repo",
            &repo,
            "data.txt",
        ],
    );
    r.assert_code(1);
    assert_eq!(
        headline(&text),
        "Fatal: wrong password or no key found",
        "{text}"
    );
}

/// tar names the missing file first and sums up after it.
#[test]
fn tar_names_the_file_not_its_summary() {
    let server = server();
    let env = Env::new(&server);
    let (r, text) = run_job(
        &env,
        &server,
        &[],
        &[],
        &["tar", "czf", "out.tar.gz", "/nonexistent-backup-source"],
    );
    r.assert_code(2);
    assert_eq!(
        headline(&text),
        "tar: /nonexistent-backup-source: Cannot stat: No such file or directory",
        "{text}"
    );
}

/// restic's missing repository ends with the path on a line of its own; the headline is
/// the `Fatal:` line above it.
#[test]
fn restic_missing_repository() {
    let Some(restic) = restic() else { return };
    let server = server();
    let env = Env::new(&server);
    std::fs::write(env.path("data.txt"), b"payload").unwrap();
    let repo = env.path("no-repo").to_str().unwrap().to_string();
    let (r, text) = run_job(
        &env,
        &server,
        &[],
        &[("RESTIC_PASSWORD", "right")],
        &[
            restic.to_str().unwrap(),
            "backup",
            "--repo",
            &repo,
            "data.txt",
        ],
    );
    r.assert_code(1);
    assert_eq!(
        headline(&text),
        format!("Fatal: unable to open config file: stat {repo}/config: no such file or directory"),
        "{text}"
    );
}

/// Colour escapes and progress carriage returns are cleaned from the headline and the
/// tails, in both parts, and the cleaned line is still the one marked.
#[test]
fn terminal_escapes_are_cleaned() {
    let server = server();
    let env = Env::new(&server);
    let (r, text) = run_job(
        &env,
        &server,
        &[],
        &[],
        &[
            "sh",
            "-c",
            "printf ' 10%%\\r 50%%\\r100%%\\n' >&2; printf '\\033[1;31mError:\\033[0m disk gone\\n' >&2; exit 1",
        ],
    );
    r.assert_code(1);
    assert_eq!(headline(&text), "Error: disk gone", "{text:?}");
    assert!(text.contains("\n100%\n"), "{text:?}");
    assert!(text.contains("\u{25b6} Error: disk gone"), "{text:?}");
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
    let html = parse(&server.messages()[0])
        .body_html(0)
        .unwrap()
        .into_owned();
    assert!(!html.contains('\u{1b}'), "{html}");
}
