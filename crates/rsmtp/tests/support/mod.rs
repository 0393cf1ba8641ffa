//! Test harness: run the built `rsmtp` in a scratch directory with a controlled
//! environment (no real /etc/msmtprc, no real HOME), and capture what they do.

#![allow(dead_code)]

pub(crate) mod listener;
pub(crate) mod net;
pub(crate) mod peer;

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `rsmtp` binary cargo built for these tests.
pub(crate) fn rsmtp_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rsmtp"))
}

/// The repository's root (README.md, man/, the other crates' fixtures).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn msmtp_bin() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/msmtp");
    p.exists().then_some(p)
}

/// A scratch directory that doubles as HOME for the programs under test.
pub(crate) struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub(crate) fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Write a file with mode 0600 (what the permission rule wants).
    pub(crate) fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, contents).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        path
    }

    pub(crate) fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.join(name)).unwrap_or_default()
    }

    /// A command for `program` with HOME pointing here and the system config kept out.
    pub(crate) fn command(&self, program: impl AsRef<OsStr>) -> TestCommand {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.path())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.join(".config"))
            .env("XDG_STATE_HOME", self.join(".state"))
            .env("RSMTP_SYSCONFIG", self.join("no-system-msmtprc"))
            // Never the real /var/spool/rsmtp, even when the tests run as root.
            .env("RSMTP_QUEUE_DIR", self.join("default-queue"))
            .env("TZ", "UTC")
            // English unless a test asks for a language: the tester's own locale must
            // not change the messages tests compare.
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("LANGUAGE")
            .env_remove("LANG")
            .env_remove("RUST_BACKTRACE");
        TestCommand {
            cmd,
            stdin: Vec::new(),
        }
    }

    pub(crate) fn rsmtp(&self) -> TestCommand {
        self.command(rsmtp_bin())
    }
}

pub(crate) struct TestCommand {
    pub cmd: Command,
    stdin: Vec<u8>,
}

impl TestCommand {
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    pub(crate) fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub(crate) fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    pub(crate) fn stdin(mut self, input: impl AsRef<[u8]>) -> Self {
        self.stdin = input.as_ref().to_vec();
        self
    }

    /// Run to completion with a hard time limit, so a hang fails the test instead of CI.
    pub(crate) fn run(mut self) -> Run {
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
        let watchdog = Watchdog::start(child.id(), 120);
        let output = child.wait_with_output().expect("wait");
        watchdog.stop();
        let _ = writer.join();
        Run { output }
    }
}

/// Kills a child with SIGKILL unless stopped within `secs`, so a hang fails the test
/// instead of stalling CI.
struct Watchdog(std::sync::mpsc::Sender<()>);

impl Watchdog {
    fn start(pid: u32, secs: u64) -> Watchdog {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            if rx
                .recv_timeout(std::time::Duration::from_secs(secs))
                .is_err()
            {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        });
        Watchdog(tx)
    }

    fn stop(self) {
        let _ = self.0.send(());
    }
}

pub(crate) struct Run {
    pub output: Output,
}

impl Run {
    pub(crate) fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub(crate) fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    #[track_caller]
    pub(crate) fn assert_code(&self, code: i32) -> &Self {
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

/// A plain-text test server with the default capabilities (PIPELINING, 8BITMIME).
pub(crate) fn plain_server() -> rsmtp_testserver::TestServer {
    rsmtp_testserver::TestServer::start(rsmtp_testserver::ServerOptions::new())
}

/// A scratch HOME whose `~/.msmtprc` points at `server` in plain text, with `extra`
/// lines in the account.
pub(crate) fn home_for(server: &rsmtp_testserver::TestServer, extra: &str) -> Dir {
    let dir = Dir::new();
    dir.write(".msmtprc", plain_config(server.port(), extra));
    dir
}

/// A message split at its first empty line: (header block with its last CRLF, body).
pub(crate) fn split_message(data: &[u8]) -> (&[u8], &[u8]) {
    match data.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&data[..i + 2], &data[i + 4..]),
        None => (data, &[]),
    }
}

/// A minimal msmtprc for a plain-text loopback server.
pub(crate) fn plain_config(port: u16, extra: &str) -> String {
    format!(
        "defaults\nauth off\ntls off\n\naccount default\nhost 127.0.0.1\nport {port}\nfrom sender@example.org\n{extra}\n"
    )
}

pub(crate) use rsmtp_testserver::peer::{require, require_peer};

/// A copy of the rsmtp binary that user `nobody` can run, in `dir` (made 0755): the
/// build directory may sit under a home nobody cannot enter (`/root` in CI), where
/// `setpriv --reuid=nobody target/debug/rsmtp` fails with 127.
pub(crate) fn rsmtp_for_nobody(dir: &Dir) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod the test directory");
    let copy = dir.join("rsmtp-for-nobody");
    std::fs::copy(rsmtp_bin(), &copy).expect("copy the rsmtp binary");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    copy
}

/// Whether the tests run as root (CI does): chown, setpriv, unshare need it.
pub(crate) fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// What [`TestCommand::run_fed`] saw: the run and the child's peak resident set size.
pub(crate) struct FedRun {
    pub run: Run,
    /// The largest `VmHWM` read from `/proc/<pid>/status` while the child ran, in KiB
    /// (0 if it could never be read).
    pub peak_rss_kib: u64,
}

impl TestCommand {
    /// Like [`run`](Self::run), but stdin is written by `feed` on its own thread, so an
    /// input too large to hold in memory (a 100 MB message) can be generated as it is
    /// written. While the child runs its peak RSS is sampled from /proc.
    pub(crate) fn run_fed<F>(mut self, feed: F) -> FedRun
    where
        F: FnOnce(&mut dyn Write) -> std::io::Result<()> + Send + 'static,
    {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        use std::sync::Arc;

        let mut child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || {
            let _ = feed(&mut stdin);
            // Dropping stdin closes the pipe: the child sees end of input.
        });
        let pid = child.id();
        let done = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let sampler = {
            let (done, peak) = (done.clone(), peak.clone());
            std::thread::spawn(move || {
                let status = format!("/proc/{pid}/status");
                while !done.load(Ordering::SeqCst) {
                    if let Some(kib) = std::fs::read_to_string(&status)
                        .ok()
                        .as_deref()
                        .and_then(vm_hwm_kib)
                    {
                        peak.fetch_max(kib, Ordering::SeqCst);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            })
        };
        let watchdog = Watchdog::start(pid, 300);
        let output = child.wait_with_output().expect("wait");
        watchdog.stop();
        done.store(true, Ordering::SeqCst);
        let _ = sampler.join();
        let _ = writer.join();
        FedRun {
            run: Run { output },
            peak_rss_kib: peak.load(Ordering::SeqCst),
        }
    }
}

/// `VmHWM:    1234 kB` → 1234.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Another process holding a file's `flock` (a log shipper running `flock mail.log …`,
/// an rsmtp stuck in a token refresh) until dropped.
pub(crate) struct LockHolder(std::process::Child);

impl LockHolder {
    /// `flock FILE`, once the lock is taken; `None` (skip) without flock(1).
    pub(crate) fn hold(file: &Path) -> Option<LockHolder> {
        use std::io::Read;
        let flock = require_peer("/usr/bin/flock", "flock (util-linux)")?;
        let mut child = Command::new(flock)
            .arg(file)
            .args(["sh", "-c", "echo locked; exec cat"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("flock");
        let mut locked = [0u8; 7];
        child
            .stdout
            .as_mut()
            .expect("flock's stdout")
            .read_exact(&mut locked)
            .expect("lock taken");
        Some(LockHolder(child))
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

/// Runs `script` (bash) in a fresh session bus with gnome-keyring's Secret Service,
/// HOME and XDG_RUNTIME_DIR in `dir`; its stdout.
pub(crate) fn in_keyring_session(dir: &Dir, script: &str) -> Option<Run> {
    let tools = [
        "/usr/bin/dbus-run-session",
        "/usr/bin/gnome-keyring-daemon",
        "/usr/bin/secret-tool",
    ];
    let found = tools.iter().all(|t| Path::new(t).exists());
    if !require(found, "dbus-run-session, gnome-keyring and secret-tool (Debian packages dbus, gnome-keyring, libsecret-tools)") {
        return None;
    }
    let runtime = dir.join("runtime");
    std::fs::create_dir_all(&runtime).expect("mkdir runtime");
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("chmod runtime");
    std::fs::create_dir_all(dir.join(".cache")).expect("mkdir .cache");
    let script = dir.write("session.sh", script);
    Some(
        dir.command("/usr/bin/dbus-run-session")
            .args(["--", "bash"])
            .arg(script)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env_remove_dbus()
            .run(),
    )
}

pub(crate) trait NoInheritedBus {
    fn env_remove_dbus(self) -> Self;
}

impl NoInheritedBus for TestCommand {
    /// The test's own session bus (a developer's desktop) must not be the one used.
    fn env_remove_dbus(mut self) -> Self {
        self.cmd.env_remove("DBUS_SESSION_BUS_ADDRESS");
        self
    }
}
