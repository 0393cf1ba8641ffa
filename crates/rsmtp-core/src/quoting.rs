//! The characters of an address that stand outside a quoted local part
//! (`"john doe"@example.org`, RFC 5321 §4.1.2): where a blank, an angle bracket or
//! the `@` that starts the domain mean something. One scanner for the message
//! crate's address check, the SMTP client's command check and the server's path
//! check.

/// `(byte index, char)` of every character outside double quotes. Quote characters
/// themselves are left out, as is everything between them, backslash escapes
/// included.
pub fn unquoted(s: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut quoted = false;
    let mut escaped = false;
    s.char_indices().filter(move |&(_, c)| {
        if escaped {
            escaped = false;
            return false;
        }
        match c {
            '\\' if quoted => {
                escaped = true;
                false
            }
            '"' => {
                quoted = !quoted;
                false
            }
            _ => !quoted,
        }
    })
}

/// Whether every quote `s` opens is closed again.
pub fn quotes_closed(s: &str) -> bool {
    let mut quoted = false;
    let mut escaped = false;
    for c in s.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            _ => {}
        }
    }
    !quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_stands_outside_the_quotes() {
        let outside: String = unquoted(r#""john \" doe"@example.org"#)
            .map(|(_, c)| c)
            .collect();
        assert_eq!(outside, "@example.org");
        assert_eq!(
            unquoted(r#""a@b"@c"#)
                .find(|&(_, c)| c == '@')
                .map(|(i, _)| i),
            Some(5)
        );
        assert!(quotes_closed(r#""a\"b"@c"#));
        assert!(!quotes_closed(r#""open@c"#));
        assert!(quotes_closed("plain@c"));
    }
}
