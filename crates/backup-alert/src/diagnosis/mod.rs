//! Reading a failed job: what its exit status means for that tool ([`exit_codes`]), which
//! line of its output states the cause ([`error_line`]), and what to do about it
//! ([`advice`]).

pub(crate) mod advice;
pub(crate) mod error_line;
pub(crate) mod exit_codes;
