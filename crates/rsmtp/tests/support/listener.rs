//! The msmtpd-compatible listener `rsmtpd`, started on a free port for one test and
//! killed when the test ends.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::{rsmtp_bin, Dir};

const WAIT: Duration = Duration::from_secs(10);

/// A running `rsmtpd` (the rsmtp binary under that name); killed when dropped.
pub(crate) struct Daemon {
    pub child: Child,
    pub port: u16,
}

impl Daemon {
    pub(crate) fn start(dir: &Dir, args: &[&str]) -> Daemon {
        let link = dir.join("rsmtpd");
        if !link.exists() {
            std::os::unix::fs::symlink(rsmtp_bin(), &link).expect("symlink rsmtpd");
        }
        let port = rsmtp_testserver::closed_port();
        let mut cmd = dir
            .command(&link)
            .arg(format!("--port={port}"))
            .args(args)
            .cmd;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rsmtpd");
        let mut daemon = Daemon { child, port };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("rsmtpd exited early: {status}");
            }
            assert!(Instant::now() < deadline, "rsmtpd never listened on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        daemon
    }

    pub(crate) fn connect(&self) -> (BufReader<TcpStream>, TcpStream) {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(WAIT)).unwrap();
        (BufReader::new(s.try_clone().unwrap()), s)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn read_reply(r: &mut BufReader<TcpStream>) -> String {
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return reply;
        }
        reply.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return reply;
        }
    }
}
