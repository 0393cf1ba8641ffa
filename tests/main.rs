//! rsmtp's integration tests: one test binary that drives the built `rsmtp` and
//! `backup-alert` binaries against the in-repo test server, real Debian peers
//! (aiosmtpd, Postfix's smtp-sink) and msmtp itself as the oracle.

mod support;

mod account_features;
mod callers;
mod differential;
mod hardening;
mod queue;
mod real_peers;
mod sendmail;
mod smtpd;
