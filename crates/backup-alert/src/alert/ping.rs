//! `--ping-url URL` of `run`, `send` and `check`: a dead man's switch outside this host,
//! in the healthchecks.io protocol that Uptime Kuma push monitors and Cronitor also take.
//! `URL/start` before `run`'s command, `URL` after a success (or a warning), `URL/fail`
//! after a failure (a failure alert, a stale check); the last two carry the output tail,
//! the message or the problem as their body (at most 100 kB). The watcher notices when a ping does not come: cron stopped, the host
//! is down, the script never ran.
//!
//! A ping is best effort: one that cannot be sent is a warning on stderr and never
//! changes the backup's exit status or stops it. HTTPS only, except to this machine
//! (`http://127.0.0.1`, `localhost`), through the workspace's one HTTPS client.

use std::time::Duration;

/// The body's limit (healthchecks.io keeps at most 100 kB of a ping's body).
const MAX_BODY: usize = 100_000;

/// How long one ping may take: a watcher that hangs must not hold the backup.
const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// Which ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ping {
    /// Before the command runs.
    Start,
    /// The command succeeded (or ended with a warning).
    Success,
    /// The command failed.
    Fail,
}

/// A checked `--ping-url`.
#[derive(Debug, Clone)]
pub(crate) struct PingUrl(String);

impl PingUrl {
    /// `url` as given, refused when it is not HTTPS (or HTTP to this machine).
    pub(crate) fn parse(url: &str) -> Result<PingUrl, String> {
        rsmtp_oauth::check_url("--ping-url", url).map_err(|e| e.to_string())?;
        Ok(PingUrl(url.trim_end_matches('/').to_string()))
    }

    /// Send `ping` with `body` (cut to [`MAX_BODY`]); the error in words if it failed.
    pub(crate) fn send(&self, ping: Ping, body: &str) -> Result<(), String> {
        let url = match ping {
            Ping::Start => format!("{}/start", self.0),
            Ping::Success => self.0.clone(),
            Ping::Fail => format!("{}/fail", self.0),
        };
        let mut end = body.len().min(MAX_BODY);
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        let agent = rsmtp_oauth::https_agent(&rsmtp_oauth::TrustRoots::System, Some(PING_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let response = agent
            .post(&url)
            .header("Content-Type", "text/plain; charset=utf-8")
            .send(&body[..end])
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("{url}: HTTP {status}"))
        }
    }
}
