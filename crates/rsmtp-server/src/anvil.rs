//! What every session of one listener counts together, as Postfix's anvil(8) does
//! for smtpd: failed AUTH attempts per client address (each answer delayed longer than
//! the last, across connections), and the spool space all sessions hold at once.
//!
//! A guesser that opens 100 connections no longer gets 100 × 3 tries at the base
//! delay: the 2nd failure from its address waits twice as long as the first, the 3rd
//! four times, up to [`MAX_AUTH_DELAY`]. An address's count is forgotten
//! [`FORGET_AFTER`] after its last failure, or at once after a successful login.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest an AUTH failure is answered after.
pub const MAX_AUTH_DELAY: Duration = Duration::from_secs(60);
/// How long an address's failures are remembered after the last one.
pub const FORGET_AFTER: Duration = Duration::from_secs(600);
/// Addresses remembered at most (the oldest are forgotten first).
const MAX_CLIENTS: usize = 10_000;

/// Failed AUTH attempts per client address, shared by a listener's sessions.
#[derive(Debug, Default)]
pub struct AuthThrottle {
    failures: Mutex<HashMap<Option<IpAddr>, (u32, Instant)>>,
}

impl AuthThrottle {
    /// Record a failure from `client` (`None`: stdin/stdout) and return how long to
    /// wait before answering it: `base` doubled for each earlier recent failure.
    pub fn failed(&self, client: Option<IpAddr>, base: Duration) -> Duration {
        let now = Instant::now();
        let Ok(mut failures) = self.failures.lock() else {
            return MAX_AUTH_DELAY;
        };
        failures.retain(|_, (_, last)| now.duration_since(*last) < FORGET_AFTER);
        if failures.len() >= MAX_CLIENTS {
            if let Some(oldest) = failures
                .iter()
                .min_by_key(|(_, (_, last))| *last)
                .map(|(k, _)| *k)
            {
                failures.remove(&oldest);
            }
        }
        let entry = failures.entry(client).or_insert((0, now));
        let earlier = entry.0;
        *entry = (earlier.saturating_add(1), now);
        base.saturating_mul(1u32 << earlier.min(16))
            .min(MAX_AUTH_DELAY)
    }

    /// A successful login from `client`: its failures are forgotten.
    pub fn succeeded(&self, client: Option<IpAddr>) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&client);
        }
    }
}

/// Spool space all sessions may hold at once; a message that would pass it is
/// refused with `452 4.3.1` (the client keeps it and tries later).
#[derive(Debug)]
pub struct SpoolBudget {
    limit: u64,
    used: AtomicU64,
}

impl SpoolBudget {
    /// A budget of `limit` bytes, shared by the sessions that hold the `Arc`.
    pub fn new(limit: u64) -> Arc<SpoolBudget> {
        Arc::new(SpoolBudget {
            limit,
            used: AtomicU64::new(0),
        })
    }

    /// Take `bytes` more; `false` (nothing taken) when that would pass the limit.
    pub(crate) fn take(&self, bytes: u64) -> bool {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    /// Give `bytes` back.
    pub(crate) fn give_back(&self, bytes: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                Some(used.saturating_sub(bytes))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_delays_double_per_address_and_reset_on_success() {
        let t = AuthThrottle::default();
        let a = Some("192.0.2.1".parse().unwrap());
        let b = Some("192.0.2.2".parse().unwrap());
        let base = Duration::from_millis(100);
        let delays: Vec<u128> = (0..4).map(|_| t.failed(a, base).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800]);
        assert_eq!(t.failed(b, base).as_millis(), 100, "per address");
        t.succeeded(a);
        assert_eq!(t.failed(a, base).as_millis(), 100);
        for _ in 0..40 {
            t.failed(b, base);
        }
        assert_eq!(t.failed(b, base), MAX_AUTH_DELAY);
    }

    #[test]
    fn the_spool_budget_is_shared_and_given_back() {
        let budget = SpoolBudget::new(100);
        assert!(budget.take(60));
        assert!(!budget.take(50));
        budget.give_back(60);
        assert!(budget.take(100));
    }
}
