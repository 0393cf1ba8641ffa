//! The definitions every rsmtp crate shares, kept below all of them so each concept
//! has one owner: the sysexits codes ([`ExitCode`]) every layer's `exit_code()`
//! returns, the pinned certificate digest ([`Fingerprint`]) the config file names and
//! the TLS verifier checks, the TLS versions `tls_priorities` allows ([`TlsVersions`]),
//! the password on its way from the msmtprc to AUTH ([`Secret`], zeroed on drop), and
//! the operating system's error text as msmtp prints it ([`strerror`]), and the
//! user's language: the locale glibc would use ([`locale`]) and the message catalogs
//! ([`i18n`], [`tr!`]).
//! Its only dependency is `zeroize`: the config crate must stay free of rustls, the
//! message crate of the network.

#![warn(missing_docs)]

#[cfg(feature = "cli")]
pub mod cli;
pub mod core_dumps;
mod envelope;
mod exit;
mod fingerprint;
pub mod i18n;
pub mod locale;
pub mod os;
mod os_error;
pub mod po;
pub mod quoting;
mod reply;
mod secret;
mod shown;
pub mod terminal;
mod tls_versions;

pub use envelope::Envelope;
pub use exit::ExitCode;
pub use fingerprint::Fingerprint;
pub use os_error::{is_out_of_space, is_transient_local, strerror, strerror_in, strip_os_error};
pub use reply::Reply;
pub use secret::Secret;
pub use shown::shown;
pub use tls_versions::{parse_tls_priorities, PriorityError, TlsVersions};
