//! Where a password comes from when the account has none: the keyring (the
//! freedesktop Secret Service: gnome-keyring under `dbus-run-session`, the item
//! stored with `secret-tool` as msmtp's documentation says), then a prompt on the
//! controlling terminal (a pty driven by Python), never when nobody can answer.
//! msmtp 1.8.23 is the oracle for the keyring and the prompt.

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rsmtp_testserver::{ServerOptions, TestServer};

use crate::support::*;

const MESSAGE: &str = "From: sender@example.org\nSubject: pw\n\nhello\n";
const WAIT: Duration = Duration::from_secs(10);

fn auth_server() -> TestServer {
    TestServer::start(ServerOptions::new().auth("alice", "s3cret"))
}

/// An account that authenticates as `user` with PLAIN and has no password.
fn account(dir: &Dir, server: &TestServer, user: &str) -> PathBuf {
    dir.write(
        "msmtprc",
        format!(
            "account default\nhost 127.0.0.1\nport {}\ntls off\nauth plain\nuser {user}\n\
             from sender@example.org\n",
            server.port()
        ),
    )
}

/// Every message arrived authenticated as alice.
fn assert_authenticated(server: &TestServer, n: usize) {
    let messages = server.wait_for_messages(n, WAIT);
    assert_eq!(messages.len(), n);
    for m in messages {
        assert_eq!(
            m.auth.as_ref().map(|a| (a.identity.as_str(), a.success)),
            Some(("alice", true))
        );
    }
}

#[test]
fn the_keyring_supplies_the_password_as_for_msmtp() {
    let server = auth_server();
    let dir = Dir::new();
    let config = account(&dir, &server, "alice");
    dir.write("message", MESSAGE);
    let msmtp = msmtp_bin()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let script = format!(
        r#"set -u
# The daemon's own keyring, created and unlocked with this password (headless).
printf keyring-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
printf s3cret | secret-tool store --label=msmtp host 127.0.0.1 service smtp user alice
{rsmtp} -C {config} bob@example.net < message; echo "rsmtp=$?"
if [ -n "{msmtp}" ]; then {msmtp} -C {config} bob@example.net < message; echo "msmtp=$?"; fi
# No item for another user: no password, and the error says how to store one.
sed -i 's/^user alice$/user carol/' {config}
{rsmtp} -C {config} bob@example.net < message; echo "carol=$?"
"#,
        rsmtp = rsmtp_bin().display(),
        config = config.display(),
    );
    let Some(run) = in_keyring_session(&dir, &script) else {
        return;
    };
    let out = run.stdout();
    assert!(out.contains("rsmtp=0"), "{out}\n{}", run.stderr());
    assert!(out.contains("carol=78"), "{out}\n{}", run.stderr());
    assert!(
        run.stderr()
            .contains("secret-tool store --label=msmtp host 127.0.0.1 service smtp user carol"),
        "{}",
        run.stderr()
    );
    if msmtp_bin().is_some() {
        assert!(out.contains("msmtp=0"), "{out}\n{}", run.stderr());
        assert_authenticated(&server, 2);
    } else {
        assert_authenticated(&server, 1);
    }
}

/// With a password in the account, no D-Bus connection is even tried; without one
/// the keyring is asked (the test's bus accepts the connection and hangs up, as a
/// broken bus would: no password, at once, not a hang).
#[test]
fn the_keyring_is_asked_only_when_nothing_else_gives_a_password() {
    let server = auth_server();
    let dir = Dir::new();
    let config = account(&dir, &server, "alice");
    let bus_path = dir.join("bus");
    let bus = UnixListener::bind(&bus_path).expect("bind the bus socket");
    bus.set_nonblocking(true).expect("nonblocking");
    let bus_address = format!("unix:path={}", bus_path.display());
    let send = || {
        dir.rsmtp()
            .arg("-C")
            .arg(&config)
            .arg("bob@example.net")
            .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
            .stdin(MESSAGE)
            .run()
    };

    let text = std::fs::read_to_string(&config).expect("read msmtprc");
    dir.write("msmtprc", format!("{text}password s3cret\n"));
    send().assert_code(0);
    assert!(
        bus.accept().is_err(),
        "a configured password opened a D-Bus connection"
    );

    dir.write("msmtprc", text);
    let r = send();
    r.assert_code(78);
    let asked = bus.accept();
    assert!(asked.is_ok(), "the keyring was not asked");
    assert!(r.stderr().contains("secret-tool store"), "{}", r.stderr());
    assert_authenticated(&server, 1);
}

/// Drives `program ARGS` on a pty (its controlling terminal) with stdin from the
/// message file, answers `answer` after the prompt, prints what the terminal showed
/// and the exit code. With `stderr_to`, stderr goes to that file instead.
const PTY_DRIVER: &str = r#"
import os, pty, select, sys
message, answer, stderr_to, argv = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.dup2(os.open(message, os.O_RDONLY), 0)
    if stderr_to:
        os.dup2(os.open(stderr_to, os.O_WRONLY | os.O_CREAT, 0o600), 2)
    os.execv(argv[0], argv)
shown, answered = b"", False
while True:
    ready, _, _ = select.select([fd], [], [], 30)
    if not ready:
        shown += b"<no output for 30 s>"
        os.kill(pid, 9)
        break
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    shown += chunk
    if not answered and shown.rstrip().endswith(b":") and b"password for" in shown:
        os.write(fd, answer.encode() + b"\n")
        answered = True
_, status = os.waitpid(pid, 0)
print(repr(shown))
print("exit=%d" % os.waitstatus_to_exitcode(status))
"#;

fn on_a_pty(dir: &Dir, program: &Path, config: &Path, stderr_to: Option<&Path>) -> Option<Run> {
    let python = require_peer("/usr/bin/python3", "Debian's python3")?;
    let driver = dir.write("pty_driver.py", PTY_DRIVER);
    let message = dir.write("message", MESSAGE);
    let stderr_to = stderr_to
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Some(
        dir.command(python)
            .arg(driver)
            .arg(message)
            .args(["s3cret", &stderr_to])
            .arg(program)
            .arg("-C")
            .arg(config)
            .arg("bob@example.net")
            .env_remove_dbus()
            .run(),
    )
}

#[test]
fn the_password_is_asked_on_the_terminal_with_echo_off_as_msmtp_does() {
    let server = auth_server();
    let dir = Dir::new();
    let config = account(&dir, &server, "alice");
    let mut programs = vec![rsmtp_bin()];
    programs.extend(msmtp_bin());
    for program in &programs {
        let Some(run) = on_a_pty(&dir, program, &config, None) else {
            return;
        };
        let out = run.stdout();
        assert!(out.contains("exit=0"), "{}: {out}", program.display());
        assert!(
            out.contains("password for alice at 127.0.0.1: "),
            "{}: {out}",
            program.display()
        );
        assert!(!out.contains("s3cret"), "the password was echoed: {out}");
    }
    assert_authenticated(&server, programs.len());
}

/// No terminal (cron, PHP, the queue) or stderr not a terminal (a redirected run):
/// no prompt, and the error says how to configure a password.
#[test]
fn without_someone_at_a_terminal_the_error_says_how_to_set_a_password() {
    let server = auth_server();
    let dir = Dir::new();
    let config = account(&dir, &server, "alice");
    let r = dir
        .rsmtp()
        .arg("-C")
        .arg(&config)
        .arg("bob@example.net")
        .stdin(MESSAGE)
        .run();
    r.assert_code(78);
    for want in [
        "no password for user alice on 127.0.0.1",
        "set password or passwordeval",
        "~/.netrc",
        "secret-tool store --label=msmtp host 127.0.0.1 service smtp user alice",
    ] {
        assert!(r.stderr().contains(want), "{want:?}: {}", r.stderr());
    }

    let errors = dir.join("stderr");
    let Some(run) = on_a_pty(&dir, &rsmtp_bin(), &config, Some(&errors)) else {
        return;
    };
    let out = run.stdout();
    assert!(out.contains("exit=78"), "{out}");
    assert!(!out.contains("password for"), "prompted: {out}");
    let stderr = std::fs::read_to_string(&errors).expect("stderr file");
    assert!(stderr.contains("secret-tool store"), "{stderr}");
    assert!(server.messages().is_empty());
}

/// `-S` does not authenticate, so it needs no password: none is looked up or asked
/// for, as with msmtp, even on a terminal.
#[test]
fn serverinfo_needs_no_password() {
    let server = auth_server();
    let dir = Dir::new();
    let config = account(&dir, &server, "alice");
    let mut programs = vec![rsmtp_bin()];
    programs.extend(msmtp_bin());
    for program in &programs {
        let r = dir
            .command(program)
            .arg("-C")
            .arg(&config)
            .arg("-S")
            .env_remove_dbus()
            .run();
        r.assert_code(0);
        assert!(
            r.stdout().contains("PLAIN"),
            "{}: {}",
            program.display(),
            r.stdout()
        );
    }
    assert_eq!(server.connections(), programs.len());
}
