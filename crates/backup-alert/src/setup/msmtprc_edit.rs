//! Editing an msmtprc someone already has: `setup` adds its account, or replaces the
//! lines of an account of the same name, and leaves every other line as it was —
//! comments, order, other accounts, commands it does not know. The file stays the
//! owner's; [`diff`] shows what will change (passwords masked) before it is written.

/// What [`merge_account`] made of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Merged {
    pub(crate) text: String,
    /// An account of that name was there and its lines were replaced.
    pub(crate) replaced: bool,
    /// The file's default account is another one (left as it is): alerts must name ours.
    pub(crate) other_default: bool,
}

/// The command word of a line, or `None` for blanks and comments (rsmtp-config's lexer).
fn command(line: &str) -> Option<String> {
    rsmtp_config::split_command(line).map(|(command, _)| command)
}

/// The name and parents of the account an `account NAME [: parents]` line defines.
fn account_defined(line: &str) -> Option<(String, Vec<String>)> {
    match rsmtp_config::split_command(line)? {
        (command, argument) if command == "account" => Some(rsmtp_config::account_line(&argument)),
        _ => None,
    }
}

/// Add `block` (an account's lines, starting with `account NAME`) to `existing`, or
/// replace the lines of account `name` with it. A file without a default account gets
/// `account default : NAME`; an existing default is never changed.
pub(crate) fn merge_account(existing: &str, name: &str, block: &str) -> Merged {
    let lines: Vec<&str> = existing.lines().collect();
    let starts = |l: &str| account_defined(l).is_some_and(|(n, _)| n == name);
    let mut other_default = false;
    let mut has_default = false;
    for l in &lines {
        if let Some((defined, parents)) = account_defined(l) {
            if defined == "default" {
                has_default = true;
                if name != "default" {
                    other_default |= !parents.iter().any(|p| p == name);
                }
            }
        }
    }
    let mut out = String::with_capacity(existing.len() + block.len() + 64);
    let replaced = match lines.iter().position(|l| starts(l)) {
        Some(start) => {
            let mut end = lines[start + 1..]
                .iter()
                .position(|l| matches!(command(l).as_deref(), Some("account" | "defaults")))
                .map_or(lines.len(), |i| start + 1 + i);
            // Comments and blanks just before the next account belong to it.
            while end > start + 1 && command(lines[end - 1]).is_none() {
                end -= 1;
            }
            for l in &lines[..start] {
                out.push_str(l);
                out.push('\n');
            }
            out.push_str(block);
            for l in &lines[end..] {
                out.push_str(l);
                out.push('\n');
            }
            true
        }
        None => {
            out.push_str(existing);
            if !existing.is_empty() && !existing.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("\n# Added by backup-alert setup.\n");
            out.push_str(block);
            false
        }
    };
    if let Some(line) = rsmtp_config::render_default_account(name).filter(|_| !has_default) {
        out.push('\n');
        out.push_str(&line);
    }
    Merged {
        text: out,
        replaced,
        other_default,
    }
}

/// A line as it may be shown: a password's value is masked.
fn shown(line: &str) -> String {
    match command(line).as_deref() {
        Some(secret @ ("password" | "oauth2_client_secret")) => {
            let indent = &line[..line.len() - line.trim_start().len()];
            format!("{indent}{secret:<14} ********")
        }
        _ => line.to_string(),
    }
}

/// The changes from `old` to `new` as `-`/`+` lines with two lines of context, `@@ line N`
/// before each group; empty when nothing changes. Passwords are masked.
pub(crate) fn diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Longest common subsequence, table filled from the end: files are a few dozen lines.
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // (kind, line number in new, text): ' ' kept, '-' removed, '+' added.
    let mut ops: Vec<(char, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', j + 1, a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            ops.push(('+', j + 1, b[j]));
            j += 1;
        } else {
            ops.push(('-', j + 1, a[i]));
            i += 1;
        }
    }
    const CONTEXT: usize = 2;
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let near = |k: usize| {
        changed
            .iter()
            .any(|&c| k + CONTEXT >= c && k <= c + CONTEXT)
    };
    let mut out = String::new();
    let mut last_shown: Option<usize> = None;
    for (k, (kind, line_no, text)) in ops.iter().enumerate() {
        if !near(k) {
            continue;
        }
        if last_shown.is_none_or(|l| l + 1 != k) {
            out.push_str(&format!("@@ line {line_no}\n"));
        }
        out.push_str(&format!("{kind} {}\n", shown(text)));
        last_shown = Some(k);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHP_RC: &str = "# PHP image's msmtprc\ndefaults\nauth on\ntls on\n\naccount app\nhost smtp.example.com\nuser app@example.com\npasswordeval cat /run/secrets/smtp\nx_unknown_command kept\n\n# the default\naccount default : app\n";

    const BLOCK: &str =
        "account        backup\nhost           smtp.gmail.com\npassword       s3cret\n";

    #[test]
    fn an_account_is_added_and_everything_else_kept() {
        let m = merge_account(PHP_RC, "backup", BLOCK);
        assert!(m.text.starts_with(PHP_RC), "{}", m.text);
        assert!(m.text.ends_with(BLOCK), "{}", m.text);
        assert!(!m.replaced);
        assert!(m.other_default, "the default stays app");
        assert_eq!(m.text.matches("account default").count(), 1);
    }

    #[test]
    fn running_twice_updates_the_account_in_place() {
        let once = merge_account(PHP_RC, "backup", BLOCK).text;
        let new_block = "account        backup\nhost           smtp.office365.com\n";
        let twice = merge_account(&once, "backup", new_block);
        assert!(twice.replaced);
        assert!(twice.text.starts_with(PHP_RC));
        assert!(twice.text.contains(new_block));
        assert!(!twice.text.contains("smtp.gmail.com"));
        assert_eq!(twice.text.matches("Added by backup-alert").count(), 1);
        // an account in the middle: the comments before the next one stay with it
        let middle = "account backup\nhost old\n\n# the default\naccount default : app\n";
        let m = merge_account(middle, "backup", "account backup\nhost new\n");
        assert_eq!(
            m.text,
            "account backup\nhost new\n\n# the default\naccount default : app\n"
        );
    }

    #[test]
    fn a_file_without_default_gets_ours() {
        let m = merge_account("account a\nhost h\n", "backup", BLOCK);
        assert!(m.text.ends_with("\naccount default : backup\n"));
        assert!(!m.other_default);
        let ours = merge_account("account default : backup\n", "backup", BLOCK);
        assert!(!ours.other_default);
    }

    #[test]
    fn the_diff_shows_changes_with_passwords_masked() {
        let new = merge_account(PHP_RC, "backup", BLOCK).text;
        let d = diff(PHP_RC, &new);
        assert!(d.contains("+ account        backup\n"), "{d}");
        assert!(d.contains("+ password       ********\n"), "{d}");
        assert!(!d.contains("s3cret"), "{d}");
        assert!(!d.contains("- "), "nothing removed: {d}");
        assert!(d.starts_with("@@ line "), "{d}");
        assert_eq!(diff("a\nb\n", "a\nb\n"), "");
        assert_eq!(
            diff("a\nb\nc\n", "a\nB\nc\n"),
            "@@ line 1\n  a\n- b\n+ B\n  c\n"
        );
    }
}
