//! Integration tests: real sessions against `rsmtp-testserver` on loopback.
//! One test binary; the harness builds settings that trust the server's CA.

mod aiosmtpd;
mod auth;
mod delivery;
mod faults;
mod harness;
mod scram;
mod tls;
