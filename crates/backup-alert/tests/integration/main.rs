//! backup-alert's integration tests: the built binary against rsmtp-testserver, through
//! rsmtp's real delivery path, in a throw-away HOME. One test binary; the harness is
//! [`Env`] (temp HOME, msmtprc, settings) and [`Run`] (exit status and output).

#![allow(
    clippy::unwrap_used,
    reason = "a test that meets an unexpected error should stop there, loudly"
)]

mod alerts;
mod cause;
mod check;
mod cli;
mod exit_status;
mod expect_files;
mod fuzz;
mod history;
mod jobs;
mod language;
mod language_checks;
mod logs;
mod mailx;
mod metrics;
mod render;
mod report;
mod repository;
mod run;
mod send;
mod setup;
mod setup_oauth;
mod silence;
mod state_dir;
mod stats;
mod verify;
mod what_to_do;

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use rsmtp_testserver::{ReceivedMessage, ServerOptions, TestServer};

pub const BIN: &str = env!("CARGO_BIN_EXE_backup-alert");
pub const TO: &str = "admin@example.com";
pub const FROM: &str = "backup@example.com";
pub const WAIT: Duration = Duration::from_secs(10);

/// A temporary HOME with an msmtprc pointing at a test server.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
    pub rc: PathBuf,
    pub log: PathBuf,
}

impl Env {
    /// An environment whose `~/.msmtprc` sends to `server` (plain SMTP, no auth).
    pub fn new(server: &TestServer) -> Env {
        let env = Env::bare();
        let rc = format!(
            "defaults\nauth off\ntls off\ntimeout 10\nlogfile {log}\n\naccount test\nhost 127.0.0.1\nport {port}\nfrom {FROM}\n\naccount default : test\n",
            log = env.log.display(),
            port = server.port()
        );
        env.write_private(&env.rc, &rc);
        env
    }

    /// An environment without any msmtprc.
    pub fn bare() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".config")).expect("mkdir home");
        let rc = home.join(".msmtprc");
        let log = dir.path().join("msmtp.log");
        Env { dir, home, rc, log }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write_private(&self, path: &Path, text: &str) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, text).expect("write file");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }

    /// The binary with a clean environment: the temp HOME, no system files.
    pub fn cmd(&self) -> Command {
        self.cmd_as(BIN)
    }

    /// The same, run through another file name (argv[0]), e.g. a `mail` symlink.
    pub fn cmd_as(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_STATE_HOME", self.home.join(".local/state"))
            .env("RSMTP_SYSCONFIG", "/nonexistent")
            // Alerts queued after a temporary failure stay in the temp dir, never in
            // the real /var/spool/rsmtp (the tests run as root in CI).
            .env("RSMTP_QUEUE_DIR", self.dir.path().join("queue"))
            // Inside the temp dir, never a shared path: `setup` as root writes there.
            .env(
                "BACKUP_ALERT_SYSCONFIG",
                self.dir.path().join("system-backup-alert.conf"),
            )
            .env("BACKUP_ALERT_STATE_DIR", self.dir.path().join("state"))
            .env("LC_ALL", "C")
            .current_dir(self.dir.path());
        c
    }

    /// `backup-alert <args…> --config <rc>`: a subcommand through the test msmtprc.
    pub fn sub(&self, args: &[&str]) -> Command {
        let mut c = self.cmd();
        c.args(args).arg("--config").arg(&self.rc);
        c
    }
}

/// What a run left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit status {} (wanted {code})\nstdout: {}\nstderr: {}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run with `stdin` as input.
pub fn run_with_input(mut cmd: Command, stdin: &[u8]) -> Run {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn backup-alert");
    if let Some(mut si) = child.stdin.take() {
        let _ = si.write_all(stdin);
    }
    finish(child.wait_with_output().expect("wait"))
}

/// Run with empty stdin.
pub fn run(cmd: Command) -> Run {
    run_with_input(cmd, b"")
}

/// A plain test server.
pub fn server() -> TestServer {
    TestServer::start(ServerOptions::new())
}

/// Exactly one message arrived; return it.
pub fn one_message(server: &TestServer) -> ReceivedMessage {
    let msgs = server.wait_for_messages(1, WAIT);
    assert_eq!(msgs.len(), 1, "expected one message, got {}", msgs.len());
    // The sender has exited, and the server records a message before its 250 leaves:
    // a (wrong) second message would be here already.
    let msgs = server.messages();
    assert_eq!(msgs.len(), 1, "expected exactly one message");
    msgs.into_iter().next().expect("one message")
}

/// The message decoded.
pub fn parse(msg: &ReceivedMessage) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(&msg.data)
        .expect("the received message parses")
}

/// Header lines (unfolded names only) of the raw header block.
pub fn header_names(msg: &ReceivedMessage) -> Vec<String> {
    msg.headers()
        .lines()
        .filter(|l| !l.starts_with([' ', '\t']) && !l.is_empty())
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.to_ascii_lowercase()))
        .collect()
}

/// This machine's host name, as backup-alert puts it in subjects.
pub fn host() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// The real python3 interpreter (not a version-manager shim that depends on HOME).
pub fn python3() -> PathBuf {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 is needed for the pseudo-terminal tests");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Line endings as LF, for comparing decoded text.
pub fn norm(s: impl AsRef<str>) -> String {
    s.as_ref().replace("\r\n", "\n")
}

/// The decoded text/plain body of a received message.
pub fn text_of(msg: &ReceivedMessage) -> String {
    norm(parse(msg).body_text(0).expect("a text part"))
}

/// The value of a `Label : value` fact line of a text part (labels are padded).
pub fn fact(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(" : ")?;
            (k.trim_end() == label).then(|| v.to_string())
        })
        .unwrap_or_default()
}
