//! Address lists as they appear in To/Cc/Bcc fields and on sendmail's command line
//! (RFC 5322 section 3.4, with the obsolete forms of section 4.4).
//!
//! Only the envelope addresses are wanted, so this reads tokens, not a full grammar:
//! comments (CFWS) are dropped wherever RFC 5322 allows them, inside angle brackets
//! too (`<to10(his account)@localhost(this host)>` is `to10@localhost`); display
//! names and group names are skipped; an angle address is taken from between its
//! brackets (minus an obsolete source route, `<@a,@b:x@y>` → `x@y`, which RFC 5321
//! section 4.1.1.3 lets a client drop); a bare addr-spec is taken as written, quoted
//! local part included (`"john doe"@example.org` must reach RCPT TO whole — msmtp
//! 1.8.23 sends `@example.org` there). Blanks and comments around `.` and `@` are
//! the obsolete syntax and vanish; between two words they stay, so that `<a b@x>`
//! is refused by the check rather than sent as `ab@x`.
//!
//! Each element of the list is kept with its text, so that one without a usable
//! address (`"Undisclosed"`, `a..b`) can be named and skipped while the others are
//! sent, as msmtp sends what it can read. Whether an address is usable is decided
//! afterwards by [`crate::address`].

use std::ops::Range;

/// One element of an address list: its text as written and the address it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    /// The element as written (comments included), blanks around it trimmed.
    pub text: String,
    /// The address, not yet checked; `None` when the element names none (a display
    /// name alone, `Undisclosed recipients`).
    pub address: Option<String>,
}

/// A lexical token of an address list (comments already dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A run of characters that are neither blanks nor specials (atext, 8-bit too).
    Word,
    /// A quoted string, quotes and backslash escapes kept as written.
    Quoted,
    /// A domain literal `[...]`, as written.
    Literal,
    /// One of `< > @ , ; : .`.
    Special(char),
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// Where the token is in the value.
    span: Range<usize>,
    /// Blanks or a comment came right before it.
    spaced: bool,
}

impl Token {
    fn is(&self, c: char) -> bool {
        self.kind == Kind::Special(c)
    }

    fn is_word(&self) -> bool {
        matches!(self.kind, Kind::Word | Kind::Quoted | Kind::Literal)
    }
}

/// Splits `value` into tokens; comments and blanks only set `spaced` on what follows.
fn tokens(value: &str) -> Vec<Token> {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut spaced = false;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let kind = match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => {
                spaced = true;
                i += 1;
                continue;
            }
            b'(' => {
                i = comment_end(bytes, i);
                spaced = true;
                continue;
            }
            b'"' => {
                i = quoted_end(bytes, i);
                Kind::Quoted
            }
            b'[' => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b']')
                    .map_or(bytes.len(), |p| i + p + 1);
                Kind::Literal
            }
            c @ (b'<' | b'>' | b'@' | b',' | b';' | b':' | b'.') => {
                i += 1;
                Kind::Special(char::from(c))
            }
            _ => {
                while i < bytes.len() && !is_delimiter(bytes[i]) {
                    i += 1;
                }
                Kind::Word
            }
        };
        out.push(Token {
            kind,
            span: start..i,
            spaced,
        });
        spaced = false;
    }
    out
}

/// Bytes that end a word. All are ASCII, so a word never ends inside a UTF-8
/// sequence and every span is on a character boundary.
fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'\r'
            | b'\n'
            | b'('
            | b'"'
            | b'['
            | b'<'
            | b'>'
            | b'@'
            | b','
            | b';'
            | b':'
            | b'.'
    )
}

/// The index after a comment that starts at `start` (comments nest; a backslash
/// quotes the next byte); the end of the value when it is not closed.
fn comment_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// The index after a quoted string that starts at `start`; the end of the value
/// when it is not closed.
fn quoted_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'"' => return i + 1,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// The elements of an address list, in order. Group names and `;` are skipped
/// (`team: a@x, b@y;` gives both members); empty elements are left out.
pub(crate) fn elements(value: &str) -> Vec<Element> {
    let tokens = tokens(value);
    let mut out = Vec::new();
    // The element being read: its first token, and where its text starts.
    let (mut start, mut text_start) = (0, 0);
    let mut in_angle = false;
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            Kind::Special('<') => in_angle = true,
            Kind::Special('>') => in_angle = false,
            // Inside brackets a comma or colon belongs to a source route.
            Kind::Special(',' | ';') if !in_angle => {
                let text = &value[text_start..t.span.start];
                out.extend(element(value, text, &tokens[start..i]));
                (start, text_start) = (i + 1, t.span.end);
            }
            Kind::Special(':') if !in_angle => {
                // A group's display name: what came before is not an address.
                (start, text_start) = (i + 1, t.span.end);
            }
            _ => {}
        }
    }
    out.extend(element(value, &value[text_start..], &tokens[start..]));
    out
}

/// The addresses of an address list, in order, unchecked: what [`elements`] finds,
/// without the elements that name no address.
pub fn address_list(value: &str) -> Vec<String> {
    elements(value)
        .into_iter()
        .filter_map(|e| e.address)
        .collect()
}

/// The envelope address a `-f`/`-r` argument names: `a@x.org (comment)` and
/// `Name <a@x.org>` are `a@x.org`, as an address field would read them. An argument
/// that is not exactly one usable address (`<>`, a list, junk) is returned as
/// typed, for the caller's own rules and checks to see it.
pub fn envelope_address(arg: &str) -> String {
    if arg.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return arg.to_string();
    }
    match elements(arg).as_slice() {
        [Element {
            address: Some(address),
            ..
        }] if crate::address::check_address(address).is_ok() => address.clone(),
        _ => arg.to_string(),
    }
}

/// One element from its text and tokens; `None` when it has no token (`a,,b`, a
/// comment alone).
fn element(value: &str, text: &str, tokens: &[Token]) -> Option<Element> {
    tokens.first()?;
    let text = text.trim().to_string();
    let address = match tokens.iter().position(|t| t.is('<')) {
        Some(open) => {
            let inner = &tokens[open + 1..];
            let close = inner.iter().position(|t| t.is('>')).unwrap_or(inner.len());
            let mut inner = &inner[..close];
            // An obsolete route ends at the first colon (routes hold domains only).
            if inner.first().is_some_and(|t| t.is('@')) {
                if let Some(colon) = inner.iter().position(|t| t.is(':')) {
                    inner = &inner[colon + 1..];
                }
            }
            if inner.is_empty() {
                // `<>`: the null address names no recipient; not worth a warning.
                return None;
            }
            Some(join(value, inner))
        }
        None => {
            // `a . b @ x` (obsolete CFWS around dots and the at sign) is one word;
            // other blanks separate words.
            let mut words: Vec<&[Token]> = Vec::new();
            let mut from = 0;
            for i in 1..tokens.len() {
                let (prev, t) = (&tokens[i - 1], &tokens[i]);
                if t.spaced && prev.is_word() && t.is_word() {
                    words.push(&tokens[from..i]);
                    from = i;
                }
            }
            words.push(&tokens[from..]);
            match words.as_slice() {
                // A quoted string alone is a display name, not a local part.
                [[one]] if one.kind == Kind::Quoted => None,
                [one] => Some(join(value, one)),
                // A phrase without brackets: `"Name" a@x.org` names a@x.org; a
                // phrase with no at sign (`Undisclosed recipients`) names nobody.
                _ => words
                    .iter()
                    .rev()
                    .find(|w| w.iter().any(|t| t.is('@')))
                    .map(|w| join(value, w)),
            }
        }
    };
    Some(Element { text, address })
}

/// The tokens' text joined without the blanks and comments between them, except
/// that two words apart keep one blank (so the address check refuses them).
fn join(value: &str, tokens: &[Token]) -> String {
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 && t.spaced && t.is_word() && tokens[i - 1].is_word() {
            out.push(' ');
        }
        out.push_str(&value[t.span.clone()]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{address_list, elements, envelope_address};

    #[track_caller]
    fn check(value: &str, expected: &[&str]) {
        assert_eq!(address_list(value), expected, "{value}");
    }

    #[test]
    fn the_forms_msmtp_sends() {
        check("\"john doe\"@example.org", &["\"john doe\"@example.org"]);
        check("<\"john doe\"@example.org>", &["\"john doe\"@example.org"]);
        check(
            "John <\"john.doe\"@example.org>",
            &["\"john.doe\"@example.org"],
        );
        check("<@route.example:x@example.org>", &["x@example.org"]);
        check(
            "Route <@a.example,@b.example:y@example.org>",
            &["y@example.org"],
        );
        check("x@example.org (comment)", &["x@example.org"]);
        check("(lead) x@example.org", &["x@example.org"]);
        check(
            "\"a,b\" <ab@example.org>, c@example.org",
            &["ab@example.org", "c@example.org"],
        );
        check("o'brien@example.org", &["o'brien@example.org"]);
        check(
            "\"quoted\\\\back\"@example.org",
            &["\"quoted\\\\back\"@example.org"],
        );
        check("\"q\\\"uote\"@example.org", &["\"q\\\"uote\"@example.org"]);
        check(
            "group: a@example.org, b@example.org;",
            &["a@example.org", "b@example.org"],
        );
        check(
            "undisclosed-recipients:;, c@example.org",
            &["c@example.org"],
        );
        check(
            "a@[127.0.0.1], b@[IPv6:::1]",
            &["a@[127.0.0.1]", "b@[IPv6:::1]"],
        );
        check("a . b @ example.org", &["a.b@example.org"]);
        check("\"Name\" a@example.org", &["a@example.org"]);
        check("a@x.org,, ,b@x.org,", &["a@x.org", "b@x.org"]);
        check("root, www-data", &["root", "www-data"]);
        check("Undisclosed recipients", &[]);
        check("<>", &[]);
        check("Doe (a (nested) comment) <d@x.org>", &["d@x.org"]);
        check("\"Doe, John\"\r\n <j@x.org>", &["j@x.org"]);
    }

    #[test]
    fn comments_wherever_rfc_5322_allows_cfws() {
        check(
            "Some(wonderful \\) chap) <to10(his account)@localhost(this host)>",
            &["to10@localhost"],
        );
        check("<bob@example.com (work)>", &["bob@example.com"]);
        check("< (lead) bob @ example . com >", &["bob@example.com"]);
        check(
            "A Group(Some people)\r\n     :Some Person <to11@(their's host.)example.com>,\r\n              to12, \r\n\t        Person <to13@localhost> (a friend); (the end of the group)",
            &["to11@example.com", "to12", "to13@localhost"],
        );
        check(
            "(Empty list)(start)Undisclosed recipients  :(nobody(that I know))  ;",
            &[],
        );
        check("a@x.org (un(closed", &["a@x.org"]);
        check("<a b@x.org>", &["a b@x.org"]);
        check(
            "<\"a (not a comment)\"@x.org>",
            &["\"a (not a comment)\"@x.org"],
        );
    }

    #[test]
    fn envelope_sender_arguments() {
        for (arg, address) in [
            ("a@x.org (comment)", "a@x.org"),
            ("Name <a@x.org>", "a@x.org"),
            ("(c) root", "root"),
            ("a@x.org", "a@x.org"),
            ("<>", "<>"),
            ("", ""),
            ("a@x.org, b@x.org", "a@x.org, b@x.org"),
            ("a..b", "a..b"),
            ("a@x.org\n(c)", "a@x.org\n(c)"),
        ] {
            assert_eq!(envelope_address(arg), address, "{arg:?}");
        }
    }

    #[test]
    fn every_element_is_kept_with_its_text() {
        let e = elements("\"Undisclosed\", a@x, a..b (old), Undisclosed recipients, <>");
        let got: Vec<(&str, Option<&str>)> = e
            .iter()
            .map(|e| (e.text.as_str(), e.address.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("\"Undisclosed\"", None),
                ("a@x", Some("a@x")),
                ("a..b (old)", Some("a..b")),
                ("Undisclosed recipients", None),
            ]
        );
    }
}
