//! A peer server process started by a test (aiosmtpd, smtp-sink): killed when
//! the test ends, panic or not.

use std::process::{Child, ChildStdin};
use std::time::{Duration, Instant};

/// A server process that dies with the test.
pub(crate) struct Peer {
    pub child: Child,
    /// Held open: a controller that exits when its stdin closes (aiosmtpd's
    /// scripts here) lives as long as the test.
    pub stdin: Option<ChildStdin>,
    pub port: u16,
    pub name: &'static str,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// Wait until `127.0.0.1:port` accepts connections (or panic after `limit`).
    pub(crate) fn wait_listening(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited before listening: {status}", self.name);
            }
            assert!(
                Instant::now() < deadline,
                "{} is not listening on port {} after {limit:?}",
                self.name,
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
