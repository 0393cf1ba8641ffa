//! A password or OAuth2 token, from the msmtprc (or `passwordeval`, netrc) to the AUTH
//! exchange: one type for the config crate that finds it and the SMTP crate that
//! sends it, so no conversion copies it on the way.

use std::fmt;

/// A secret. `Debug` and `Display` print `***`; the only way to the text is
/// [`Secret::expose`], so a secret cannot reach a log or an error message by accident.
/// The text is zeroed when the secret is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret text, for the one place that needs it (the AUTH exchange).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.to_owned())
    }
}

/// Overwrites the text when the secret goes away, so a core file or a later
/// allocation cannot hold it (a SIGABRT core once held four copies).
impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn never_printed() {
        let s = Secret::new("hunter22");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(s.expose(), "hunter22");
    }
}
