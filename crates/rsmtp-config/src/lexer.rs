//! Splits one msmtprc line into a command and its argument, exactly as msmtp's
//! `get_cmd()`/`trim_string()` do.
//!
//! msmtprc is not INI and has almost no syntax: blanks are only space and tab; a
//! line whose first non-blank is `#` is a comment (a `#` anywhere else is part of
//! the value, so `host h # note` sets the host to `h # note`); the command runs to
//! the first blank; the argument is the rest with surrounding blanks removed, and
//! if it then starts *and* ends with `"` those two quotes are removed. There is no
//! escaping: `"a\"b"` yields `a\"b`, and a lone `"x` stays `"x`.

/// One significant line: `command argument`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub command: String,
    pub argument: String,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Cut a line at its end-of-line (msmtp keeps only what precedes the first
/// `\n`, and drops a `\r` before it).
fn strip_eol(line: &str) -> &str {
    let line = match line.find('\n') {
        Some(i) => {
            let l = &line[..i];
            l.strip_suffix('\r').unwrap_or(l)
        }
        None => line,
    };
    line
}

/// msmtp's `trim_string()`: drop surrounding blanks, then one pair of
/// surrounding double quotes.
pub(crate) fn trim_argument(s: &str) -> String {
    let t = s.trim_matches(|c| c == ' ' || c == '\t');
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        t[1..t.len() - 1].to_string()
    } else {
        t.to_string()
    }
}

/// Split a line; `None` for blank lines and comments.
pub(crate) fn split_line(raw: &str) -> Option<Line> {
    let line = strip_eol(raw);
    let bytes = line.as_bytes();
    let start = bytes.iter().position(|&b| !is_blank(b))?;
    if bytes[start] == b'#' {
        return None;
    }
    let rest = &line[start..];
    let end = rest.bytes().position(is_blank).unwrap_or(rest.len());
    Some(Line {
        command: rest[..end].to_string(),
        argument: trim_argument(&rest[end..]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Option<(String, String)> {
        split_line(s).map(|l| (l.command, l.argument))
    }

    fn pair(c: &str, a: &str) -> Option<(String, String)> {
        Some((c.to_string(), a.to_string()))
    }

    #[test]
    fn blank_and_comment_lines_are_skipped() {
        assert_eq!(split(""), None);
        assert_eq!(split("   \t  \n"), None);
        assert_eq!(split("# comment"), None);
        assert_eq!(split("   \t# indented comment"), None);
    }

    #[test]
    fn hash_inside_a_line_is_not_a_comment() {
        assert_eq!(split("host h # note"), pair("host", "h # note"));
        assert_eq!(split("account a # c"), pair("account", "a # c"));
    }

    #[test]
    fn command_and_argument_are_split_on_first_blank() {
        assert_eq!(
            split("host           smtp.gmail.com"),
            pair("host", "smtp.gmail.com")
        );
        assert_eq!(
            split("\thost\tsmtp.example.org\t \r\n"),
            pair("host", "smtp.example.org")
        );
        assert_eq!(split("defaults"), pair("defaults", ""));
        assert_eq!(split("tls"), pair("tls", ""));
        assert_eq!(split("password a b  c"), pair("password", "a b  c"));
    }

    #[test]
    fn surrounding_quotes_are_stripped_without_escapes() {
        assert_eq!(split("host \"  sp ace \""), pair("host", "  sp ace "));
        assert_eq!(split("from \"a\\\"b\""), pair("from", "a\\\"b"));
        assert_eq!(split("user \"x"), pair("user", "\"x"));
        assert_eq!(split("user \""), pair("user", "\""));
        assert_eq!(split("user \"\""), pair("user", ""));
        assert_eq!(split("password \"pa ss\" "), pair("password", "pa ss"));
        assert_eq!(split("password x\"y\""), pair("password", "x\"y\""));
    }

    #[test]
    fn only_the_first_line_counts() {
        assert_eq!(split("host a\nhost b"), pair("host", "a"));
        assert_eq!(split("host a\r\n"), pair("host", "a"));
    }
}
