//! Address lists as people type them (`--to`, `mail -c`, the settings file's `to`):
//! comma-separated, where a comma inside a quoted display name or between angle
//! brackets is part of the address (`"Doe, John" <john@example.org>`).

/// Split `list` at the commas that separate addresses; trims each and drops empties.
pub(crate) fn split_addresses(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut escaped, mut angle) = (false, false, 0u32);
    for c in list.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle += 1,
            '>' if !quoted => angle = angle.saturating_sub(1),
            ',' if !quoted && angle == 0 => {
                push_trimmed(&mut out, &current);
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    push_trimmed(&mut out, &current);
    out
}

fn push_trimmed(out: &mut Vec<String>, item: &str) {
    let item = item.trim();
    if !item.is_empty() {
        out.push(item.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::split_addresses;

    #[test]
    fn commas_inside_quotes_and_brackets_do_not_split() {
        assert_eq!(
            split_addresses(r#""Doe, John" <john@example.org>, ops@example.org,, "#),
            vec![r#""Doe, John" <john@example.org>"#, "ops@example.org"]
        );
        assert_eq!(
            split_addresses(r#""a \", b" <a@x>,b@y"#),
            vec![r#""a \", b" <a@x>"#, "b@y"]
        );
        assert_eq!(split_addresses("a@x , b@y"), vec!["a@x", "b@y"]);
        assert!(split_addresses(" , ").is_empty());
    }
}
