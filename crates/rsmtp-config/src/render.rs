//! Writing msmtprc text, the inverse of the [lexer](crate::lexer): an argument quoted so
//! that msmtp (and [`Config::parse`](crate::Config::parse)) reads it back unchanged, an
//! account block, and the rule for names msmtp takes. Tools that write or edit an
//! msmtprc (backup-alert's setup) use these, so their files follow the one grammar.

use crate::lexer;

/// Write `value` so that the lexer reads it back unchanged. msmtp (1.8.23, checked) takes
/// the rest of the line with blanks (space, tab) removed at both ends, then strips one
/// pair of double quotes when the argument both starts and ends with one — and does
/// nothing else: no escapes. So quotes are added only when blanks at either end, an empty
/// value, or a quote pair at both ends would otherwise be lost. A line break cannot be
/// written at all (the caller refuses such values).
pub fn quote_argument(value: &str) -> String {
    let blank = |c: char| c == ' ' || c == '\t';
    let needs = value.is_empty()
        || value.starts_with(blank)
        || value.ends_with(blank)
        || (value.len() >= 2 && value.starts_with('"') && value.ends_with('"'));
    if needs {
        format!("\"{value}\"")
    } else {
        value.to_string()
    }
}

/// The command and argument of one msmtprc line as msmtp reads it (`None` for blank lines
/// and comments).
pub fn split_command(line: &str) -> Option<(String, String)> {
    lexer::split_line(line).map(|l| (l.command, l.argument))
}

/// The name an `account NAME [: PARENT, …]` argument defines, and its parents, each
/// trimmed as msmtp trims them.
pub fn account_line(argument: &str) -> (String, Vec<String>) {
    match argument.split_once(':') {
        Some((name, list)) => (
            lexer::trim_argument(name),
            list.split(',').map(lexer::trim_argument).collect(),
        ),
        None => (argument.to_string(), Vec::new()),
    }
}

/// Why msmtp would refuse `name` as an account name, or `None` when it takes it.
/// msmtp 1.8.23 (checked): "an account name must not contain colons or commas"; an
/// empty or blank name, or one with a control character, would not survive the line.
pub fn account_name_problem(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("is empty")
    } else if name.contains([':', ',']) {
        Some("contains a colon or a comma")
    } else if name.chars().any(char::is_control) || name.trim() != name {
        Some("has control characters or blanks at either end")
    } else {
        None
    }
}

/// One `command value` line, the command padded to a column so blocks line up, the value
/// quoted by [`quote_argument`].
pub fn render_line(command: &str, value: &str) -> String {
    format!("{command:<14} {}\n", quote_argument(value))
}

/// `account NAME` and then each `(command, value)` as a [`render_line`].
pub fn render_account(name: &str, settings: &[(&str, &str)]) -> String {
    let mut s = format!("{:<14} {name}\n", "account");
    for (command, value) in settings {
        s.push_str(&render_line(command, value));
    }
    s
}

/// `account default : NAME`, or `None` for the account called `default`, which is the
/// default already (msmtp refuses `account default : default`: "account default was
/// already defined").
pub fn render_default_account(name: &str) -> Option<String> {
    (name != "default").then(|| format!("account default : {name}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    /// Values the real parser must read back unchanged from `render_account`'s output.
    const VALUES: &[&str] = &[
        "x",
        "with space inside",
        " lead",
        "trail ",
        " both ",
        "\tTab\t",
        "in\tside",
        "\"q\"",
        "\"open",
        "close\"",
        "a\\\"b",
        "back\\slash\\",
        "#hash",
        "x # not a comment",
        "\"",
        "\"\"",
        " \" ",
        "",
    ];

    #[test]
    fn quoting_adds_quotes_only_where_needed() {
        assert_eq!(quote_argument("abcdefghijklmnop"), "abcdefghijklmnop");
        assert_eq!(quote_argument("with space inside"), "with space inside");
        assert_eq!(quote_argument(" lead"), "\" lead\"");
        assert_eq!(quote_argument("a\"b\\c"), "a\"b\\c");
        assert_eq!(quote_argument("\"both\""), "\"\"both\"\"");
        assert_eq!(quote_argument(""), "\"\"");
    }

    #[test]
    fn every_rendered_value_reads_back_unchanged_through_the_parser() {
        for v in VALUES {
            let text = render_account(
                "acct",
                &[("host", "h"), ("user", v), ("password", v), ("from", v)],
            );
            let config = Config::parse(&text, "/rendered").expect(&text);
            let a = config.account(Some("acct")).expect(&text);
            // An empty `user` means no user, as in msmtp.
            let user = (!v.is_empty()).then_some(*v);
            assert_eq!(a.user.as_deref(), user, "{text}");
            assert_eq!(a.from.as_deref(), Some(*v), "{text}");
            // The lexer is the other half of the round trip.
            let line = render_line("password", v);
            assert_eq!(
                split_command(&line),
                Some(("password".to_string(), v.to_string())),
                "{line:?}"
            );
        }
    }

    #[test]
    fn a_rendered_account_and_its_default_line_parse() {
        let mut text = render_account("backup", &[("host", "smtp.example.org")]);
        assert!(text.starts_with("account        backup\nhost           smtp.example.org\n"));
        text.push_str(&render_default_account("backup").unwrap());
        let config = Config::parse(&text, "/rendered").unwrap();
        assert_eq!(
            config.account(None).unwrap().host.as_deref(),
            Some("smtp.example.org")
        );
        assert_eq!(render_default_account("default"), None);
    }

    #[test]
    fn account_lines_split_as_msmtp_splits_them() {
        assert_eq!(account_line("a"), ("a".to_string(), vec![]));
        assert_eq!(
            account_line("default : a, b"),
            (
                "default".to_string(),
                vec!["a".to_string(), "b".to_string()]
            )
        );
    }

    #[test]
    fn account_names_msmtp_refuses_are_caught() {
        assert_eq!(account_name_problem("backup"), None);
        assert_eq!(account_name_problem("my backup"), None);
        assert!(account_name_problem("a:b").is_some());
        assert!(account_name_problem("a,b").is_some());
        assert!(account_name_problem(" ").is_some());
        assert!(account_name_problem("a\nhost evil").is_some());
        // What the rule lets through, the parser takes as that name.
        let text = render_account("my backup", &[("host", "h")]);
        assert!(Config::parse(&text, "/r")
            .unwrap()
            .account(Some("my backup"))
            .is_ok());
    }
}
