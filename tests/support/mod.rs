//! Test harness: build the binaries once, run them in a scratch directory with a
//! controlled environment (no real /etc/msmtprc, no real HOME), and capture what they do.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Directory holding the built `rsmtp` and `backup-alert` binaries.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // target/debug/deps/integration-xxxx → target/debug
        let exe = std::env::current_exe().expect("current_exe");
        let dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target dir")
            .to_path_buf();
        // `cargo test` builds test targets, not necessarily every binary: build them.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "rsmtp", "-p", "backup-alert", "--bins"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build of the binaries failed");
        dir
    })
}

pub fn rsmtp_bin() -> PathBuf {
    bin_dir().join("rsmtp")
}

pub fn backup_alert_bin() -> PathBuf {
    bin_dir().join("backup-alert")
}

pub fn msmtp_bin() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/msmtp");
    p.exists().then_some(p)
}

/// A scratch directory that doubles as HOME for the programs under test.
pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir { tmp: tempfile::tempdir().expect("tempdir") }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Write a file with mode 0600 (what the permission rule wants).
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, contents).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        path
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.join(name)).unwrap_or_default()
    }

    /// A command for `program` with HOME pointing here and the system config kept out.
    pub fn command(&self, program: impl AsRef<OsStr>) -> TestCommand {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.path())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.join(".config"))
            .env("XDG_STATE_HOME", self.join(".state"))
            .env("RSMTP_SYSCONFIG", self.join("no-system-msmtprc"))
            .env("TZ", "UTC")
            .env_remove("RUST_BACKTRACE");
        TestCommand { cmd, stdin: Vec::new() }
    }

    pub fn rsmtp(&self) -> TestCommand {
        self.command(rsmtp_bin())
    }

    pub fn backup_alert(&self) -> TestCommand {
        self.command(backup_alert_bin())
    }
}

pub struct TestCommand {
    pub cmd: Command,
    stdin: Vec<u8>,
}

impl TestCommand {
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn stdin(mut self, input: impl AsRef<[u8]>) -> Self {
        self.stdin = input.as_ref().to_vec();
        self
    }

    /// Run to completion with a hard time limit, so a hang fails the test instead of CI.
    pub fn run(mut self) -> Run {
        let mut child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = std::mem::take(&mut self.stdin);
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            if rx.recv_timeout(std::time::Duration::from_secs(120)).is_err() {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        });
        let output = child.wait_with_output().expect("wait");
        let _ = tx.send(());
        let _ = writer.join();
        Run { output }
    }
}

pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// A minimal msmtprc for a plain-text loopback server.
pub fn plain_config(port: u16, extra: &str) -> String {
    format!(
        "defaults\nauth off\ntls off\n\naccount default\nhost 127.0.0.1\nport {port}\nfrom sender@example.org\n{extra}\n"
    )
}
