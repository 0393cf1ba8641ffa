//! Integration tests: real sessions against `rsmtp-testserver` on loopback.
//! One test binary; the harness builds settings that trust the server's CA.

#![allow(
    clippy::unwrap_used,
    reason = "a test that meets an unexpected error should stop there, loudly"
)]

mod aiosmtpd;
mod auth;
mod delivery;
mod faults;
mod harness;
mod scram;
mod tls;
