//! Address syntax checks for envelope addresses.
//!
//! A recipient is either a mailbox (`user@domain`, checked by `lettre::Address`) or a
//! local name without a domain (`root`, `www-data`), which the aliases file or the
//! relay resolves — cron and atd send to bare user names. Anything that could
//! break an SMTP command line (blanks, control characters, angle brackets) is refused.

use std::str::FromStr;

use crate::error::{printable, MessageError};

/// Checks that `address` can be used in `MAIL FROM` / `RCPT TO`.
///
/// Non-ASCII addresses are valid; [`needs_smtputf8`] tells whether the session then
/// needs the SMTPUTF8 extension (RFC 6531). The null reverse-path (`MAIL FROM:<>`,
/// for bounces) is not an address: the caller handles it before calling this.
pub fn validate_address(address: &str) -> Result<(), MessageError> {
    check_address(address).map_err(|reason| MessageError::InvalidAddress {
        address: printable(address),
        reason,
    })
}

/// Whether any of `addresses` has a non-ASCII character, so that `MAIL FROM` needs
/// the `SMTPUTF8` parameter (RFC 6531 section 3.4).
pub fn needs_smtputf8<S: AsRef<str>>(addresses: &[S]) -> bool {
    addresses.iter().any(|a| !a.as_ref().is_ascii())
}

/// The check behind [`validate_address`], with the reason as plain text.
pub(crate) fn check_address(address: &str) -> Result<(), String> {
    if address.is_empty() {
        return Err("empty address".into());
    }
    if let Some(c) = address
        .chars()
        .find(|c| c.is_control() || c.is_whitespace())
    {
        return Err(format!("it contains the character {}", c.escape_default()));
    }
    if address.contains('@') {
        return lettre::Address::from_str(address)
            .map(drop)
            .map_err(|e| e.to_string());
    }
    // A local name: RFC 5322 dot-atom text (UTF-8 allowed, as in RFC 6532).
    let atext = |c: char| c.is_alphanumeric() || !c.is_ascii() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let dot_atom = address
        .split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(atext));
    if dot_atom {
        Ok(())
    } else {
        Err("not a mailbox (user@domain) nor a local user name".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes_and_local_names_are_valid() {
        for a in [
            "a@example.org",
            "first.last+tag@sub.example.co.uk",
            "root",
            "www-data",
            "jörg@bücher.de",
            "user@[192.0.2.1]",
        ] {
            assert!(validate_address(a).is_ok(), "{a}");
        }
    }

    #[test]
    fn blanks_controls_and_junk_are_invalid() {
        for a in [
            "",
            "a b@x.org",
            "a@x.org\r\nRCPT TO:<evil@x.org>",
            "a\0@x.org",
            "root\n",
            " root",
            "<a@x.org>",
            "a@",
            "@x.org",
            "a..b",
            "a@x@y",
        ] {
            let e = validate_address(a);
            assert!(e.is_err(), "{a:?}");
        }
        match validate_address("a\nb@x.org") {
            Err(e) => {
                assert_eq!(e.exit_code(), 65);
                assert!(!e.to_string().contains('\n'), "{e}");
            }
            Ok(()) => panic!("accepted"),
        }
    }

    #[test]
    fn smtputf8_needed_only_for_non_ascii() {
        assert!(!needs_smtputf8(&["a@x.org", "root"]));
        assert!(needs_smtputf8(&[
            "a@x.org".to_string(),
            "jörg@x.org".to_string()
        ]));
        assert!(needs_smtputf8(&["a@bücher.de"]));
        assert!(!needs_smtputf8::<&str>(&[]));
    }
}
