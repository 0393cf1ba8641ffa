//! Address syntax checks for envelope addresses.
//!
//! A recipient is either a mailbox (`user@domain`, local part and domain checked here) or a
//! local name without a domain (`root`, `www-data`), which the aliases file or the
//! relay resolves — cron and atd send to bare user names. Anything that could
//! break an SMTP command line (blanks, control characters, angle brackets) is refused.

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
///
/// As permissive as the forms msmtp sends (RFC 5321 section 4.1.2 `Mailbox`, plus
/// RFC 6531 UTF-8): a local part that is a dot-atom-like word or a quoted string
/// (blanks allowed inside the quotes), a domain or a domain literal. Judging
/// further (`a..b@x`, an unknown domain) is the relay's job; what is refused here is
/// what would break or smuggle an SMTP command, or cannot be an address at all.
pub(crate) fn check_address(address: &str) -> Result<(), String> {
    if address.is_empty() {
        return Err("empty address".into());
    }
    if let Some(c) = address.chars().find(|c| c.is_control()) {
        return Err(format!("it contains the character {}", c.escape_default()));
    }
    match split_at_domain(address) {
        Some((local, domain)) => {
            check_local_part(local)?;
            check_domain(domain)
        }
        None => {
            // A local name: RFC 5322 dot-atom text (UTF-8 allowed, as in RFC 6532).
            if let Some(c) = address.chars().find(|c| c.is_whitespace()) {
                return Err(format!("it contains the character {}", c.escape_default()));
            }
            let dot_atom = address
                .split('.')
                .all(|atom| !atom.is_empty() && atom.chars().all(atext));
            if dot_atom {
                Ok(())
            } else {
                Err("not a mailbox (user@domain) nor a local user name".into())
            }
        }
    }
}

/// RFC 5322 atext, with any non-ASCII character (RFC 6532).
fn atext(c: char) -> bool {
    c.is_alphanumeric() || !c.is_ascii() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// Splits at the last `@` outside a quoted local part.
fn split_at_domain(address: &str) -> Option<(&str, &str)> {
    let (at, _) = rsmtp_core::quoting::unquoted(address)
        .filter(|&(_, c)| c == '@')
        .last()?;
    Some((&address[..at], &address[at + 1..]))
}

fn check_local_part(local: &str) -> Result<(), String> {
    if local.is_empty() {
        return Err("the part before @ is empty".into());
    }
    if let Some(inner) = local.strip_prefix('"') {
        // A quoted string: ends with the only unescaped quote.
        let mut escaped = false;
        for (i, c) in inner.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' if i + 1 == inner.len() => return Ok(()),
                '"' => break,
                _ => {}
            }
        }
        return Err("the quoted part before @ is not closed properly".into());
    }
    if let Some(c) = local.chars().find(|&c| !(atext(c) || c == '.')) {
        if c == ' ' {
            return Err("a blank is not allowed before @ unless quoted".into());
        }
        return Err(format!(
            "the character {} is not allowed before @ unless quoted",
            c.escape_default()
        ));
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("the domain after @ is empty".into());
    }
    if let Some(literal) = domain.strip_prefix('[') {
        return match literal.strip_suffix(']') {
            Some(inner) if !inner.contains(['[', ']', '\\']) && !inner.is_empty() => Ok(()),
            _ => Err("malformed address literal after @".into()),
        };
    }
    let label_char = |c: char| c.is_alphanumeric() || !c.is_ascii() || c == '-' || c == '_';
    let labels_ok = domain
        .strip_suffix('.')
        .unwrap_or(domain)
        .split('.')
        .all(|l| !l.is_empty() && l.chars().all(label_char));
    if labels_ok {
        Ok(())
    } else {
        Err(format!("'{}' is not a domain name", printable(domain)))
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
            "\"john doe\"@example.org",
            "\"a@b\"@example.org",
            "o'brien@example.org",
            "a@localhost",
            "a@example.org.",
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
            "a b@x.org",
            "\"open@x.org",
            "\"a\"b\"@x.org",
            "a@x y.org",
            "a@[1.2.3.4",
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
