//! Address lists as they appear in To/Cc/Bcc fields and on sendmail's command line
//! (RFC 5322 section 3.4, with the obsolete forms of section 4.4).
//!
//! Only the envelope addresses are wanted, so this is a tokenizer, not a full parser:
//! display names, comments and group names are skipped; an angle address is taken
//! from between its brackets (minus an obsolete source route, `<@a,@b:x@y>` → `x@y`,
//! which RFC 5321 section 4.1.1.3 lets a client drop); a bare addr-spec is taken as
//! written, quoted local part included (`"john doe"@example.org` must reach RCPT TO
//! whole — msmtp 1.8.23 sends `@example.org` there). Whether an address is usable is
//! decided afterwards by [`crate::address`].

/// One element of the list, before the check.
#[derive(Default)]
struct Mailbox {
    /// The text between `<` and `>`, when there was one.
    angle: Option<String>,
    /// The words outside brackets, comments and quotes-with-blanks-around, in order.
    words: Vec<String>,
    /// The word being read.
    word: String,
}

impl Mailbox {
    fn end_word(&mut self) {
        if !self.word.is_empty() {
            self.words.push(std::mem::take(&mut self.word));
        }
    }

    /// The address this element names, if any.
    fn address(mut self) -> Option<String> {
        self.end_word();
        if let Some(angle) = self.angle {
            let angle = angle.trim();
            let addr = match angle.strip_prefix('@') {
                // The route ends at the first colon (routes hold domains only).
                Some(_) => angle.split_once(':').map_or(angle, |(_, a)| a).trim(),
                None => angle,
            };
            return (!addr.is_empty()).then(|| addr.to_string());
        }
        // `a . b @ x` (obsolete CFWS around dots and the at sign) is one address.
        let mut joined: Vec<String> = Vec::new();
        for w in self.words {
            match joined.last_mut() {
                Some(last) if last.ends_with(['.', '@']) || w.starts_with(['.', '@']) => {
                    last.push_str(&w)
                }
                _ => joined.push(w),
            }
        }
        match joined.len() {
            0 => None,
            1 => joined.pop(),
            // A phrase without brackets: `"Name" a@x.org` names a@x.org; a phrase
            // with no at sign (`Undisclosed recipients`) names nobody.
            _ => joined.into_iter().rev().find(|w| w.contains('@')),
        }
    }
}

/// The addresses of an address list, in order. Group names and `;` are skipped
/// (`team: a@x, b@y;` gives both members), empty elements too.
pub fn address_list(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = Mailbox::default();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                current.word.push('"');
                read_quoted(&mut chars, &mut current.word);
            }
            '(' => {
                skip_comment(&mut chars);
                current.end_word();
            }
            '[' => {
                current.word.push('[');
                for d in chars.by_ref() {
                    current.word.push(d);
                    if d == ']' {
                        break;
                    }
                }
            }
            '<' => {
                current.end_word();
                let mut angle = String::new();
                while let Some(d) = chars.next() {
                    match d {
                        '>' => break,
                        '"' => {
                            angle.push('"');
                            read_quoted(&mut chars, &mut angle);
                        }
                        _ => angle.push(d),
                    }
                }
                current.angle = Some(angle);
            }
            ',' | ';' => {
                out.extend(std::mem::take(&mut current).address());
            }
            ':' if current.angle.is_none() => {
                // A group's display name: what came before is not an address.
                current = Mailbox::default();
            }
            c if c.is_whitespace() => current.end_word(),
            c => current.word.push(c),
        }
    }
    out.extend(current.address());
    out
}

/// Copies a quoted string's rest (after the opening quote) up to and including the
/// closing quote, keeping backslash escapes as written.
fn read_quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, into: &mut String) {
    while let Some(c) = chars.next() {
        into.push(c);
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    into.push(next);
                }
            }
            '"' => return,
            _ => {}
        }
    }
}

/// Skips a comment's rest (after the opening parenthesis); comments nest.
fn skip_comment(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    let mut depth = 1;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::address_list;

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
}
