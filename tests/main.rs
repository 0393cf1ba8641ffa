//! rsmtp's integration tests: one test binary that drives the built `rsmtp` and
//! `backup-alert` binaries against the in-repo test server, real Debian peers
//! (aiosmtpd, Postfix's smtp-sink) and msmtp itself as the oracle.

mod support;

mod callers;
mod differential;
mod fuzz;
mod hardening;
mod hardening2;
mod queue;
mod real_peers;
mod sendmail;
mod smtpd;
