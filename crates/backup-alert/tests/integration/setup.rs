//! `setup`: non-interactive (flags, password on stdin) and interactive through a
//! pseudo-terminal (python3's pty module), against a STARTTLS + AUTH test server: the
//! file written (mode 0600, contents, .bak), the test alert received, echo off.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use rsmtp_testserver::{ServerOptions, TestServer, Tls};

use crate::*;

fn tls_server() -> TestServer {
    TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .auth("alice@example.com", "s3cret pw"),
    )
}

fn setup_cmd(env: &Env, server: &TestServer, out: &std::path::Path, extra: &[&str]) -> Command {
    let mut c = setup_cmd_default_logfile(env, server, out);
    c.args(["--logfile", env.log.to_str().unwrap()]).args(extra);
    c
}

/// [`setup_cmd`] without `--logfile` and without extra arguments.
fn setup_cmd_default_logfile(env: &Env, server: &TestServer, out: &std::path::Path) -> Command {
    let mut c = env.cmd();
    c.args([
        "setup",
        "--provider",
        "other",
        "--host",
        "127.0.0.1",
        "--tls",
        "starttls",
    ])
    .args(["--port", &server.port().to_string()])
    .args([
        "--tls-trust-file",
        server.ca().ca_pem_path().to_str().unwrap(),
    ])
    .args([
        "--user",
        "alice@example.com",
        "--to",
        TO,
        "--password-stdin",
    ])
    .args(["--output", out.to_str().unwrap()])
    .args([
        "--settings",
        env.home
            .join(".config/backup-alert/config")
            .to_str()
            .unwrap(),
    ]);
    c
}

/// Root writing a msmtprc into another user's directory (`--output`, no `--logfile`)
/// gives it a log that user can write, not root's `/var/log/msmtp.log`.
#[test]
fn root_writing_a_file_for_another_user_does_not_log_to_roots_log() {
    use std::os::unix::fs::MetadataExt;
    let root = rustix::process::geteuid().is_root();
    if !rsmtp_testserver::peer::require(root, "root (to write a file for another user)") {
        return;
    }
    let server = tls_server();
    let env = Env::bare();
    let theirs = env.path("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let out = theirs.join("msmtprc");
    let mut c = setup_cmd_default_logfile(&env, &server, &out);
    c.arg("--no-test");
    run_with_input(c, b"s3cret pw\n").assert_code(0);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("/var/log/msmtp.log"), "{text}");
    let Some(rsmtp_config::LogFile::File(log)) = parsed_account(&out).logfile else {
        panic!("no logfile:\n{text}");
    };
    let dir = log.parent().expect("the log's directory");
    assert_eq!(
        std::fs::metadata(dir).unwrap().uid(),
        65534,
        "{} is not in a directory of the file's user",
        log.display()
    );
}

#[test]
fn non_interactive_setup_writes_0600_and_sends_a_test() {
    let server = tls_server();
    let env = Env::bare();
    let out = env.path("msmtprc");
    let r = run_with_input(setup_cmd(&env, &server, &out, &[]), b"s3cret pw\n");
    r.assert_code(0);
    assert!(r.stderr.contains("test alert sent"), "{}", r.stderr);
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains(&format!("port           {}\n", server.port())),
        "{text}"
    );
    assert!(text.contains("tls_starttls   on\n"));
    assert!(text.contains("password       s3cret pw\n"));
    assert!(text.contains("account default : backup\n"));
    assert!(
        !r.stderr.contains("s3cret"),
        "password printed: {}",
        r.stderr
    );

    let msg = one_message(&server);
    assert!(msg.tls);
    assert_eq!(
        msg.auth.as_ref().map(|a| a.identity.as_str()),
        Some("alice@example.com")
    );
    assert_eq!(msg.mail_from, "alice@example.com");
    assert!(parse(&msg)
        .subject()
        .unwrap()
        .ends_with("backup-alert configured"));

    // the recipient was recorded for later alerts
    let settings = std::fs::read_to_string(env.home.join(".config/backup-alert/config")).unwrap();
    assert!(settings.contains(TO), "{settings}");

    // never overwrite without --force; with it, a .bak is kept
    let again = run_with_input(setup_cmd(&env, &server, &out, &["--no-test"]), b"other\n");
    again.assert_code(64);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    run_with_input(
        setup_cmd(&env, &server, &out, &["--no-test", "--force"]),
        b"new pw\n",
    )
    .assert_code(0);
    let bak = backups(&out);
    assert_eq!(bak.len(), 1, "{bak:?}");
    let bak = &bak[0];
    assert_eq!(std::fs::read_to_string(bak).unwrap(), text);
    assert_eq!(
        std::fs::metadata(bak).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("password       new pw\n"));
}

/// The `FILE.bak.TIME` copies next to `file`, oldest first.
fn backups(file: &std::path::Path) -> Vec<std::path::PathBuf> {
    let prefix = format!("{}.bak.", file.file_name().unwrap().to_string_lossy());
    let mut found: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    found.sort_by_key(|p| (p.to_string_lossy().len(), p.clone()));
    found
}

/// The PHP image's msmtprc: comments, defaults, an account with passwordeval, a command
/// backup-alert does not know, and the default pointing at that account.
const PHP_RC: &str = "# msmtprc of the PHP image: do not lose me\ndefaults\nauth on\ntls on\ntimeout 10\n\naccount app\nhost smtp.example.net\nport 587\nfrom app@example.net\nuser app@example.net\npasswordeval cat /run/secrets/smtp\n# keep this comment\nsyslog LOG_MAIL\n\naccount default : app\n";

#[test]
fn setup_twice_over_a_working_file_keeps_the_other_account_owner_and_mode() {
    use std::os::unix::fs::MetadataExt;
    let server = tls_server();
    let env = Env::bare();
    let out = env.path("msmtprc");
    std::fs::write(&out, PHP_RC).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    let root = rustix::process::geteuid().is_root();
    if root {
        // as PHP's file would be: readable by the web server's group
        std::os::unix::fs::chown(&out, Some(65534), Some(65534)).unwrap();
    }
    let before = std::fs::metadata(&out).unwrap();

    let first = run_with_input(
        setup_cmd(&env, &server, &out, &["--no-test"]),
        b"s3cret pw\n",
    );
    first.assert_code(0);
    // the diff, before writing, with the password masked
    assert!(
        first.stderr.contains("+ account        backup"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("+ password       ********"),
        "{}",
        first.stderr
    );
    assert!(!first.stderr.contains("s3cret"), "{}", first.stderr);
    let once = std::fs::read_to_string(&out).unwrap();
    assert!(once.starts_with(PHP_RC), "the file was rewritten:\n{once}");
    assert_eq!(once.matches("account default").count(), 1, "{once}");

    // a second run updates our account and only ours
    let second = run_with_input(
        setup_cmd(&env, &server, &out, &["--no-test", "--force"]),
        b"new pw\n",
    );
    second.assert_code(0);
    assert!(
        second.stderr.contains("- password       ********"),
        "{}",
        second.stderr
    );
    let twice = std::fs::read_to_string(&out).unwrap();
    assert!(twice.starts_with(PHP_RC), "{twice}");
    assert!(twice.contains("password       new pw\n"), "{twice}");
    assert!(!twice.contains("s3cret"), "{twice}");
    assert_eq!(twice.matches("account        backup").count(), 1, "{twice}");

    // every previous version kept
    let bak = backups(&out);
    assert_eq!(bak.len(), 2, "{bak:?}");
    assert_eq!(std::fs::read_to_string(&bak[0]).unwrap(), PHP_RC);
    assert_eq!(std::fs::read_to_string(&bak[1]).unwrap(), once);

    // owner, group and mode as they were (a file of our own, not root's, is made 0600
    // once it holds a password: msmtp refuses it otherwise)
    let after = std::fs::metadata(&out).unwrap();
    assert_eq!(after.mode() & 0o7777, if root { 0o640 } else { 0o600 });
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    if root {
        assert_eq!((after.uid(), after.gid()), (65534, 65534));
    }
    assert!(second.stderr.contains("mode 0640"), "{}", second.stderr);

    // the default stays PHP's: backup-alert's settings name our account
    let settings = std::fs::read_to_string(env.home.join(".config/backup-alert/config")).unwrap();
    assert!(settings.contains("account = backup"), "{settings}");
}

#[test]
fn a_certificate_failure_points_at_the_trust_file() {
    let server = tls_server();
    let env = Env::bare();
    let out = env.path("msmtprc");
    let mut c = env.cmd();
    c.args([
        "setup",
        "--provider",
        "other",
        "--host",
        "127.0.0.1",
        "--tls",
        "starttls",
    ])
    .args(["--port", &server.port().to_string()])
    .args([
        "--user",
        "alice@example.com",
        "--to",
        TO,
        "--password-stdin",
        "--no-settings",
    ])
    .args(["--tls-trust-file", "/etc/ssl/certs/ca-certificates.crt"])
    .args(["--logfile", env.log.to_str().unwrap()])
    .args(["--output", out.to_str().unwrap()]);
    let r = run_with_input(c, b"s3cret pw\n");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("tls_trust_file"), "{}", r.stderr);
    assert!(!r.stderr.contains("check the password"), "{}", r.stderr);
}

#[test]
fn a_new_system_file_takes_the_group_given() {
    use std::os::unix::fs::MetadataExt;
    let server = tls_server();
    let env = Env::bare();
    let out = env.path("msmtprc");
    let gid = rustix::process::getegid().as_raw().to_string();
    let r = run_with_input(
        setup_cmd(&env, &server, &out, &["--no-test", "--group", &gid]),
        b"s3cret pw\n",
    );
    r.assert_code(0);
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o640);
    assert_eq!(meta.gid().to_string(), gid);
    assert!(r.stderr.contains("mode 0640"), "{}", r.stderr);
    let bad = run_with_input(
        setup_cmd(
            &env,
            &server,
            &env.path("rc2"),
            &["--no-test", "--group", "no-such-group-x"],
        ),
        b"pw\n",
    );
    bad.assert_code(64);
}

#[test]
fn wrong_password_is_reported_with_the_auth_exit_code() {
    let server = tls_server();
    let env = Env::bare();
    let out = env.path("msmtprc");
    let r = run_with_input(setup_cmd(&env, &server, &out, &[]), b"wrong\n");
    r.assert_code(77);
    assert!(r.stderr.contains("the test alert failed"), "{}", r.stderr);
    assert!(out.exists(), "the file is kept for editing");
}

#[test]
fn non_interactive_setup_needs_its_flags() {
    let env = Env::bare();
    let out = env.path("msmtprc");
    let mut c = env.cmd();
    c.args([
        "setup",
        "--provider",
        "gmail",
        "--user",
        "me@gmail.com",
        "--to",
        TO,
    ])
    .args([
        "--output",
        out.to_str().unwrap(),
        "--no-test",
        "--no-settings",
    ]);
    let r = run(c);
    r.assert_code(64);
    assert!(r.stderr.contains("--password-file"), "{}", r.stderr);
    assert!(!out.exists());
}

#[test]
fn gmail_preset_from_a_password_file() {
    let env = Env::bare();
    let out = env.path("msmtprc");
    let pw = env.path("pw");
    std::fs::write(&pw, "abcd efgh ijkl mnop\n").unwrap();
    let mut c = env.cmd();
    c.args([
        "setup",
        "--provider",
        "gmail",
        "--user",
        "me@gmail.com",
        "--to",
        TO,
        "--no-test",
        "--no-settings",
    ])
    .args([
        "--password-file",
        pw.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    run(c).assert_code(0);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("host           smtp.gmail.com\nport           587\n"),
        "{text}"
    );
    assert!(text.contains("password       abcdefghijklmnop\n"));
}

/// Drive the wizard through a pseudo-terminal: answer each prompt when it appears,
/// and report everything the terminal showed.
pub(crate) const PTY_DRIVER: &str = r#"
import os, pty, sys, time, select, json
answers = json.loads(sys.argv[1])
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
seen = b""
def read_until(needle, timeout=20):
    global seen
    end = time.time() + timeout
    while needle.encode() not in seen:
        if time.time() > end:
            sys.stdout.write(seen.decode(errors="replace"))
            sys.exit("timeout waiting for %r" % needle)
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                sys.stdout.write(seen.decode(errors="replace"))
                sys.exit("eof waiting for %r" % needle)
            seen += data
for prompt, answer in answers:
    read_until(prompt)
    os.write(fd, (answer + "\r").encode())
    seen = seen.replace(prompt.encode(), b"<<" + prompt.encode() + b">>", 1)
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    seen += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;

#[test]
fn interactive_setup_through_a_pty() {
    let server = tls_server();
    let env = Env::bare();
    let out = env.path("msmtprc");
    let answers = format!(
        r#"[["Choice [1-4]", "4"], ["SMTP server", "127.0.0.1"], ["Encryption", "1"], ["Port", "{}"], ["Login: 1) user and password", "1"], ["Login (mail address)", "alice@example.com"], ["Password (not shown)", "s3cret pw"], ["Send alerts to", "{TO}"]]"#,
        server.port()
    );
    let mut c = env.cmd_as(python3());
    c.args(["-c", PTY_DRIVER, &answers, BIN, "setup"])
        .args([
            "--tls-trust-file",
            server.ca().ca_pem_path().to_str().unwrap(),
        ])
        .args([
            "--logfile",
            env.log.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ])
        .arg("--no-settings");
    let r = run(c);
    r.assert_code(0);
    // the typed login was echoed, the password was not
    assert!(r.stdout.contains("alice@example.com"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("s3cret"),
        "password echoed: {}",
        r.stdout
    );
    assert!(r.stdout.contains("SMTP password"), "{}", r.stdout);
    assert!(r.stdout.contains("test alert sent"), "{}", r.stdout);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("password       s3cret pw\n"), "{text}");
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // STARTTLS as rsmtp's parser reads the file
    let a = parsed_account(&out);
    assert!(a.tls && a.tls_starttls, "STARTTLS");
    assert_eq!(a.port(), server.port());
    assert_eq!(a.auth, rsmtp_config::Auth::Auto);
    let msg = one_message(&server);
    assert_eq!(
        msg.auth.as_ref().map(|a| a.identity.as_str()),
        Some("alice@example.com")
    );
}

#[test]
fn interactive_setup_asks_before_replacing() {
    let env = Env::bare();
    let out = env.path("msmtprc");
    std::fs::write(&out, "# mine\n").unwrap();
    let answers = r#"[["Sign-in", "1"], ["Login", "me@gmail.com"], ["Password (not shown)", "abcdefghijklmnop"], ["Send alerts to", "admin@example.com"], ["Write these changes", "n"]]"#;
    let mut c = env.cmd_as(python3());
    c.args([
        "-c",
        PTY_DRIVER,
        answers,
        BIN,
        "setup",
        "--provider",
        "gmail",
        "--no-test",
        "--no-settings",
    ])
    .args(["--output", out.to_str().unwrap()]);
    let r = run(c);
    r.assert_code(1);
    assert!(r.stdout.contains("Nothing written."), "{}", r.stdout);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "# mine\n");
}

/// The file setup writes is an msmtprc that msmtp itself (1.8.23, Debian) accepts — with
/// a password that needs quoting — and rsmtp reads the same password from it.
/// Skipped when /usr/bin/msmtp is absent, except under `CI=true` (`.ci/run` installs it).
#[test]
fn msmtp_and_rsmtp_both_use_the_written_file() {
    let Some(msmtp) = rsmtp_testserver::peer::require_peer("/usr/bin/msmtp", "msmtp") else {
        return;
    };
    let password = r#" p"w\ x #y"#; // leading blank, quote, backslash, hash
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::StartTls)
            .auth("alice@example.com", password),
    );
    let env = Env::bare();
    let out = env.path("msmtprc");
    let r = run_with_input(
        setup_cmd(&env, &server, &out, &["--no-settings"]),
        format!("{password}\n").as_bytes(),
    );
    r.assert_code(0);
    let first = one_message(&server);
    assert!(first.auth.as_ref().is_some_and(|a| a.success));

    let mut c = env.cmd_as(msmtp);
    c.args(["-C", out.to_str().unwrap(), "-a", "backup", TO]);
    run_with_input(c, b"Subject: from msmtp\n\nsame file\n").assert_code(0);
    let msgs = server.wait_for_messages(2, WAIT);
    assert_eq!(msgs.len(), 2, "msmtp could not send with the written file");
    assert_eq!(
        msgs[1].auth.as_ref().map(|a| a.identity.as_str()),
        Some("alice@example.com")
    );
}

/// Ctrl-C at the password prompt: the wizard dies of SIGINT, but the terminal has its
/// echo back and nothing was written.
const PTY_INTERRUPT: &str = r#"
import os, pty, sys, time, select, termios
argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
seen = b""
end = time.time() + 20
signed_in = False
while b"Password (not shown)" not in seen:
    if time.time() > end:
        sys.exit("no password prompt: %r" % seen)
    if b"Sign-in:" in seen and not signed_in:
        # Enter: Gmail's default, its app password.
        os.write(fd, b"\r")
        signed_in = True
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        seen += os.read(fd, 4096)
# Echo is switched off before the prompt is printed.
off = not (termios.tcgetattr(fd)[3] & termios.ECHO)
os.write(fd, b"\x03")
_, status = os.waitpid(pid, 0)
on = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
print("echo-off-while-typing=%s echo-restored=%s signal=%s" % (off, on, os.WTERMSIG(status) if os.WIFSIGNALED(status) else None))
"#;

#[test]
fn ctrl_c_at_the_password_prompt_restores_echo() {
    let env = Env::bare();
    let out = env.path("msmtprc");
    let mut c = env.cmd_as(python3());
    c.args([
        "-c",
        PTY_INTERRUPT,
        BIN,
        "setup",
        "--provider",
        "gmail",
        "--no-settings",
    ])
    .args([
        "--user",
        "me@gmail.com",
        "--to",
        TO,
        "--output",
        out.to_str().unwrap(),
    ]);
    let r = run(c);
    r.assert_code(0);
    assert!(
        r.stdout
            .contains("echo-off-while-typing=True echo-restored=True signal=2"),
        "{}",
        r.stdout
    );
    assert!(!out.exists());
}

/// A relay that does not answer: the test alert is queued, and said to be so once.
#[test]
fn a_queued_test_alert_is_named_once() {
    let env = Env::bare();
    let out = env.path("msmtprc");
    let port = rsmtp_testserver::closed_port().to_string();
    let mut c = env.cmd();
    c.args([
        "setup",
        "--provider",
        "other",
        "--host",
        "127.0.0.1",
        "--tls",
        "off",
    ])
    .args(["--port", &port, "--user", "alice@example.com", "--to", TO])
    .args(["--password-stdin", "--no-settings"])
    .args(["--logfile", env.log.to_str().unwrap()])
    .args(["--output", out.to_str().unwrap()]);
    let r = run_with_input(c, b"pw\n");
    r.assert_code(75);
    assert_eq!(r.stderr.matches("queued").count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("not verified yet"), "{}", r.stderr);
    assert!(r.stderr.contains("`rsmtp -q` sends it"), "{}", r.stderr);
}

/// The account `backup` of the file setup wrote, as rsmtp's own msmtprc parser reads it.
fn parsed_account(out: &std::path::Path) -> rsmtp_config::Account {
    let text = std::fs::read_to_string(out).unwrap();
    rsmtp_config::Config::parse(&text, out)
        .unwrap_or_else(|e| panic!("rsmtp-config refuses the file: {e}\n{text}"))
        .account(Some("backup"))
        .unwrap()
}

/// A relay without TLS and without login, answered interactively: `tls off`, port 25 by
/// default (here the test server's), `auth off`, the sender asked for since there is no
/// login to take it from.
#[test]
fn interactive_setup_of_a_relay_without_login_or_tls() {
    let server = server();
    let env = Env::bare();
    let out = env.path("msmtprc");
    let answers = format!(
        r#"[["Choice [1-4]", "4"], ["SMTP server", "127.0.0.1"], ["Encryption", "3"], ["Port [25]", "{}"], ["Login: 1) user and password  2) none", "2"], ["Sender address", "{FROM}"], ["Send alerts to", "{TO}"]]"#,
        server.port()
    );
    let mut c = env.cmd_as(python3());
    c.args(["-c", PTY_DRIVER, &answers, BIN, "setup"])
        .args(["--logfile", env.log.to_str().unwrap()])
        .args(["--output", out.to_str().unwrap(), "--no-settings"]);
    let r = run(c);
    r.assert_code(0);
    assert!(
        !r.stdout.contains("Password"),
        "asked for a password: {}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("tls_trust_file"),
        "no TLS, no trust file: {}",
        r.stdout
    );
    let a = parsed_account(&out);
    assert_eq!(a.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(a.port(), server.port());
    assert!(!a.tls);
    assert_eq!(a.auth, rsmtp_config::Auth::Off);
    assert_eq!(a.user, None);
    assert!(a.password().unwrap().is_none(), "a password in the file");
    assert_eq!(a.from.as_deref(), Some(FROM));
    let msg = one_message(&server);
    assert!(msg.auth.is_none(), "no AUTH was given");
    assert_eq!(msg.mail_from, FROM);
}

/// Implicit TLS with the server's own CA as the trust file, typed at the prompt (a
/// missing file first: it is refused and asked again), and a login.
#[test]
fn interactive_setup_of_implicit_tls_with_a_custom_trust_file() {
    let server = TestServer::start(
        ServerOptions::new()
            .tls(Tls::Implicit)
            .auth("alice@example.com", "s3cret pw"),
    );
    let env = Env::bare();
    let out = env.path("msmtprc");
    let ca = server.ca().ca_pem_path();
    let not_pem = env.path("not-a-cert.txt");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let answers = serde_json::json!([
        ["Choice [1-4]", "4"],
        ["SMTP server", "127.0.0.1"],
        ["Encryption", "2"],
        ["Port [465]", server.port().to_string()],
        [
            "CA certificates to trust (tls_trust_file)",
            "/nonexistent/ca.pem"
        ],
        ["No such file or directory", not_pem.to_str().unwrap()],
        ["no PEM certificate in it", ca.to_str().unwrap()],
        ["Login: 1) user and password", "1"],
        ["Login (mail address)", "alice@example.com"],
        ["Password (not shown)", "s3cret pw"],
        ["Send alerts to", TO],
    ])
    .to_string();
    let mut c = env.cmd_as(python3());
    c.args(["-c", PTY_DRIVER, &answers, BIN, "setup"])
        .args(["--logfile", env.log.to_str().unwrap()])
        .args(["--output", out.to_str().unwrap(), "--no-settings"]);
    let r = run(c);
    r.assert_code(0);
    assert!(r.stdout.contains("test alert sent"), "{}", r.stdout);
    let a = parsed_account(&out);
    assert!(a.tls);
    assert!(!a.tls_starttls, "implicit TLS");
    assert_eq!(a.port(), server.port());
    assert_eq!(
        a.tls_trust_file,
        Some(rsmtp_config::TrustFile::File(ca.to_path_buf()))
    );
    assert_eq!(a.auth, rsmtp_config::Auth::Auto);
    assert_eq!(a.user.as_deref(), Some("alice@example.com"));
    assert_eq!(
        a.password().unwrap().map(|p| p.expose().to_string()),
        Some("s3cret pw".to_string())
    );
    let msg = one_message(&server);
    assert_eq!(
        msg.auth.as_ref().map(|a| a.identity.as_str()),
        Some("alice@example.com")
    );
}

/// Without a terminal: `--no-auth` writes `auth off` and no password; `--tls off` without
/// `--port` means port 25.
#[test]
fn non_interactive_setup_of_a_relay_without_login() {
    let env = Env::bare();
    let out = env.path("msmtprc");
    let mut c = env.cmd();
    c.args([
        "setup",
        "--provider",
        "other",
        "--host",
        "relay.lan",
        "--tls",
        "off",
    ])
    .args(["--no-auth", "--from", FROM, "--to", TO])
    .args(["--no-test", "--no-settings"])
    .args(["--logfile", env.log.to_str().unwrap()])
    .args(["--output", out.to_str().unwrap()]);
    let r = run(c);
    r.assert_code(0);
    let a = parsed_account(&out);
    assert_eq!(a.host.as_deref(), Some("relay.lan"));
    assert_eq!(a.port(), 25);
    assert!(
        a.is_explicit("port"),
        "the port is written, not left to msmtp's default"
    );
    assert_eq!(a.auth, rsmtp_config::Auth::Off);
    assert!(a.password().unwrap().is_none(), "a password in the file");
    assert!(!std::fs::read_to_string(&out).unwrap().contains("password"));

    // a login flag and --no-auth contradict each other
    let mut c = env.cmd();
    c.args([
        "setup",
        "--provider",
        "other",
        "--host",
        "relay.lan",
        "--no-auth",
    ])
    .args(["--user", "alice", "--to", TO, "--no-test"]);
    run(c).assert_code(64);
    // a trust file given must hold a certificate
    let mut c = env.cmd();
    c.args([
        "setup",
        "--provider",
        "other",
        "--host",
        "relay.lan",
        "--no-auth",
    ])
    .args(["--from", FROM, "--to", TO, "--no-test", "--no-settings"])
    .args(["--tls-trust-file", "/etc/hostname"])
    .args(["--output", out.to_str().unwrap()]);
    let r = run(c);
    r.assert_code(64);
    assert!(r.stderr.contains("no PEM certificate"), "{}", r.stderr);
}

/// `--no-auth` against a server that wants a login: the advice is to give one, not to
/// check a password that was never sent.
#[test]
fn a_login_wanted_by_the_server_is_said_so() {
    let server = TestServer::start(ServerOptions::new().auth("alice@example.com", "pw"));
    let env = Env::bare();
    let out = env.path("msmtprc");
    let mut c = env.cmd();
    c.args([
        "setup",
        "--provider",
        "other",
        "--host",
        "127.0.0.1",
        "--tls",
        "off",
    ])
    .args(["--port", &server.port().to_string()])
    .args(["--no-auth", "--from", FROM, "--to", TO, "--no-settings"])
    .args(["--logfile", env.log.to_str().unwrap()])
    .args(["--output", out.to_str().unwrap()]);
    let r = run(c);
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the server wants a login before it takes mail"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("check the password"), "{}", r.stderr);
    assert!(server.messages().is_empty());
}

/// A msmtprc others can read is never left so once setup has put a password in it: the
/// "other" bits go (and a user's own file becomes 0600, as msmtp requires), the owner
/// stays, and setup says what it changed and why.
#[test]
fn setup_never_leaves_a_password_readable_by_others() {
    use std::os::unix::fs::MetadataExt;
    let server = tls_server();
    let env = Env::bare();
    let out = env.path("msmtprc");
    std::fs::write(&out, PHP_RC).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = std::fs::metadata(&out).unwrap();
    let r = run_with_input(
        setup_cmd(&env, &server, &out, &["--no-test"]),
        b"s3cret pw\n",
    );
    r.assert_code(0);
    let after = std::fs::metadata(&out).unwrap();
    let root = rustix::process::geteuid().is_root();
    assert_eq!(
        after.mode() & 0o7777,
        if root { 0o640 } else { 0o600 },
        "{}",
        r.stderr
    );
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    assert!(
        r.stderr.contains("its mode was 0644: now 06"),
        "{}",
        r.stderr
    );
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("password       s3cret pw"));
}

/// Seed 004's msmtprc (`account default` and then `account default : default`) is
/// invalid before setup touches it: setup says so first, naming the line, and the failed
/// test alert points at that line, not at the network.
#[test]
fn setup_warns_before_adding_to_an_invalid_msmtprc() {
    let server = tls_server();
    let env = Env::bare();
    let out = env.path("msmtprc");
    env.write_private(
        &out,
        "defaults\nauth           on\ntls            on\n\naccount        default\nhost           smtp.example.com\nport           587\nfrom           user@example.com\nuser           user@example.com\npassword       x\n\naccount default : default\n",
    );
    let r = run_with_input(setup_cmd(&env, &server, &out, &[]), b"s3cret pw\n");
    let warned = r
        .stderr
        .find("is already invalid, before any change")
        .unwrap_or_else(|| panic!("no warning: {}", r.stderr));
    assert!(
        r.stderr.contains("account default was already defined"),
        "{}",
        r.stderr
    );
    // said before the diff is shown
    let diff = r.stderr.find("changes to").unwrap_or(usize::MAX);
    assert!(warned < diff, "{}", r.stderr);
    assert_ne!(r.code, 0, "the test alert cannot go through this file");
    assert!(!r.stderr.contains("check the server name"), "{}", r.stderr);
    assert!(r.stderr.contains("fix that line"), "{}", r.stderr);
}

/// Setup run in a French locale records `language = fr`: cron runs the jobs without
/// LANG, and their alerts must still be French.
#[test]
fn setup_records_the_language_for_cron() {
    let server = tls_server();
    let env = Env::bare();
    let out = env.path("msmtprc");
    let mut c = setup_cmd(&env, &server, &out, &["--no-test"]);
    c.env("LC_ALL", "fr_FR.UTF-8");
    run_with_input(c, b"s3cret pw\n").assert_code(0);
    let settings = std::fs::read_to_string(env.home.join(".config/backup-alert/config")).unwrap();
    assert!(settings.contains("\nlanguage = fr\n"), "{settings}");
    // the same in the C locale, as cron has it: nothing recorded
    let env = Env::bare();
    let out = env.path("msmtprc");
    run_with_input(
        setup_cmd(&env, &server, &out, &["--no-test"]),
        b"s3cret pw\n",
    )
    .assert_code(0);
    let settings = std::fs::read_to_string(env.home.join(".config/backup-alert/config")).unwrap();
    assert!(!settings.contains("language"), "{settings}");
}

/// The test alert is written in the language setup runs in (here Japanese).
#[test]
fn the_test_alert_is_in_the_setup_language() {
    let server = tls_server();
    let env = Env::bare();
    let out = env.path("msmtprc");
    let mut c = setup_cmd(&env, &server, &out, &[]);
    c.env("LC_ALL", "ja_JP.UTF-8");
    run_with_input(c, b"s3cret pw\n").assert_code(0);
    let msg = one_message(&server);
    let subject = parse(&msg).subject().unwrap_or_default().to_string();
    assert!(subject.ends_with("backup-alert の設定完了"), "{subject}");
    let text = text_of(&msg);
    assert!(
        text.contains("からのメール通知は正常に動作しています。"),
        "{text}"
    );
    assert!(
        fact(&text, "SMTP サーバー").starts_with("127.0.0.1:"),
        "{text}"
    );
}

/// The wizard in French, through a real pseudo-terminal, as seed 000's script asks it:
/// the questions, the provider's password help and the test alert.
#[test]
fn the_wizard_speaks_french() {
    let server = tls_server();
    let env = Env::bare();
    let out = env.path("msmtprc");
    let answers = format!(
        r#"[["Choix [1-4]", "4"], ["Serveur SMTP", "127.0.0.1"], ["Chiffrement", "1"], ["Port", "{}"], ["Connexion : 1)", "1"], ["Identifiant (adresse mail)", "alice@example.com"], ["Mot de passe (masqué)", "s3cret pw"], ["Envoyer les alertes à", "{TO}"]]"#,
        server.port()
    );
    let mut c = env.cmd_as(python3());
    c.env("LC_ALL", "fr_FR.UTF-8")
        .args(["-c", PTY_DRIVER, &answers, BIN, "setup"])
        .args([
            "--tls-trust-file",
            server.ca().ca_pem_path().to_str().unwrap(),
        ])
        .args([
            "--logfile",
            env.log.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ])
        .arg("--no-settings");
    let r = run(c);
    r.assert_code(0);
    assert!(
        r.stdout.contains("Fournisseur de messagerie :"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Utilisez le mot de passe SMTP de la boîte"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("s3cret"),
        "password echoed: {}",
        r.stdout
    );
    let msg = one_message(&server);
    let subject = parse(&msg).subject().unwrap_or_default().to_string();
    assert!(subject.ends_with("backup-alert configuré"), "{subject}");
}
