//! AUTH for the listener (RFC 4954): the PLAIN (RFC 4616) and LOGIN exchanges decoded
//! here, the check itself left to an [`Authenticator`] so no stored password ever
//! enters this crate. Decoded credentials live only for the call.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Decides whether a user name and password may submit mail.
pub trait Authenticator: Send + Sync {
    /// `true` if `password` is right for `user`. Implementations should compare in
    /// constant time.
    fn authenticate(&self, user: &str, password: &[u8]) -> bool;
}

/// The mechanisms offered, as they appear after `AUTH` in the EHLO reply.
pub(crate) const MECHANISMS: &str = "PLAIN LOGIN";

/// A base64 line from the client; `None` if it is not base64 (or is `*`, the cancel).
pub(crate) fn decode(line: &str) -> Option<Vec<u8>> {
    if line == "*" {
        return None;
    }
    STANDARD.decode(line.trim()).ok()
}

/// `authzid NUL authcid NUL passwd` → (authcid, passwd). An authorization identity
/// other than empty or the user itself is refused (no proxy authorization here).
pub(crate) fn split_plain(response: &[u8]) -> Option<(String, Vec<u8>)> {
    let mut parts = response.splitn(3, |&b| b == 0);
    let authzid = parts.next()?;
    let user = std::str::from_utf8(parts.next()?).ok()?;
    let password = parts.next()?;
    if !authzid.is_empty() && authzid != user.as_bytes() {
        return None;
    }
    Some((user.to_string(), password.to_vec()))
}

/// The base64 form of a LOGIN prompt.
pub(crate) fn prompt(text: &str) -> String {
    STANDARD.encode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_response_is_split_and_proxy_authorization_refused() {
        assert_eq!(
            split_plain(b"\0alice\0s3cret"),
            Some(("alice".into(), b"s3cret".to_vec()))
        );
        assert_eq!(
            split_plain(b"alice\0alice\0pw"),
            Some(("alice".into(), b"pw".to_vec()))
        );
        assert_eq!(split_plain(b"bob\0alice\0pw"), None);
        assert_eq!(split_plain(b"alice"), None);
        assert_eq!(decode("*"), None);
        assert_eq!(decode("AGEAYg==").as_deref(), Some(&b"\0a\0b"[..]));
    }
}
