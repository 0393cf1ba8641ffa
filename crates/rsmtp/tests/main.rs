//! rsmtp's integration tests: one test binary that drives the built `rsmtp` and
//! `backup-alert` binaries against the in-repo test server, real Debian peers
//! (aiosmtpd, Postfix's smtp-sink) and msmtp itself as the oracle.

#![allow(
    clippy::unwrap_used,
    reason = "a test that meets an unexpected error should stop there, loudly"
)]

mod support;

mod account_features;
mod callers;
mod differential;
mod differential_fuzz;
mod docs;
mod fuzz;
mod fuzz_server;
mod header_parity;
mod hostile_servers;
mod i18n;
mod listener_hostility;
mod lmtp;
mod msmtp_header_suite;
mod oauth;
mod password_sources;
mod process_hygiene;
mod queue;
mod queue_self;
mod readme;
mod real_peers;
mod round_trips;
mod sendmail;
mod smtpd;
mod smtpd_stdout;
mod symfony;
