//! sysexits(3) codes: the one definition lives in `rsmtp-core`, below every crate,
//! so the config, message, smtp and queue layers return the same type.

pub use rsmtp_core::ExitCode;
