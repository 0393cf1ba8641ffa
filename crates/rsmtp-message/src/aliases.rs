//! msmtp's `aliases` file: `name: address, address` lines mapping local recipients
//! to addresses, with `default:` as the catch-all.
//!
//! Semantics follow msmtp's aliases.c: `#` starts a comment anywhere on a line,
//! each non-blank line needs exactly one `:`, a name must not contain `@` and may be
//! defined once, there are no continuation lines, and only recipients without `@`
//! are looked up. A name maps to addresses and other names, expanded recursively up
//! to 16 levels (deeper is a loop error); a name that is not defined goes to
//! `default`, or stays as it is when there is no `default`. Names match with
//! their case, as in msmtp. One improvement: every address is checked at load time
//! with its line number, rather than becoming a broken `RCPT TO` later.

use std::path::{Path, PathBuf};

use crate::address::check_address;
use crate::error::MessageError;

/// msmtp's MAXDEPTH.
const MAX_DEPTH: usize = 16;
/// At most this many recipients from one expansion: an aliases file whose entries
/// name each other several times (`a: b, b` … 16 levels deep) would otherwise grow
/// exponentially in time and memory.
const MAX_EXPANDED: usize = 10_000;

/// A parsed aliases file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aliases {
    entries: Vec<(String, Vec<String>)>,
}

impl Aliases {
    /// Parses the text of an aliases file. Errors carry the 1-based line number.
    pub fn parse(text: &str) -> Result<Aliases, MessageError> {
        Self::parse_from(text, None)
    }

    /// Reads and parses an aliases file; errors name the file (exit 78, as msmtp).
    pub fn load(path: &Path) -> Result<Aliases, MessageError> {
        let text = std::fs::read(path).map_err(|source| MessageError::AliasesRead {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_from(&String::from_utf8_lossy(&text), Some(path.to_path_buf()))
    }

    fn parse_from(text: &str, path: Option<PathBuf>) -> Result<Aliases, MessageError> {
        let mut entries: Vec<(String, Vec<String>)> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let error = |reason: String| MessageError::AliasesSyntax {
                path: path.clone(),
                line: index + 1,
                reason,
            };
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split(':');
            let (Some(name), Some(list), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(error("single ':' delimiter expected".into()));
            };
            let name = name.trim();
            if name.is_empty() || name.contains('@') {
                return Err(error(format!("invalid alias '{name}'")));
            }
            if entries.iter().any(|(n, _)| n == name) {
                return Err(error(format!("duplicate alias '{name}'")));
            }
            let mut addresses = Vec::new();
            for address in list.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                check_address(address)
                    .map_err(|reason| error(format!("invalid address '{address}': {reason}")))?;
                addresses.push(address.to_owned());
            }
            entries.push((name.to_owned(), addresses));
        }
        Ok(Aliases { entries })
    }

    /// The addresses `name` maps to. Names match exactly, case included, as in
    /// msmtp (`strcmp`): `Root` is not `root`, and goes to `default` if there is one.
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.as_slice())
    }

    /// Number of aliases defined.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no alias is defined.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Replaces every local recipient (no `@`) by what it expands to, in place and
    /// in order; addresses with `@` pass unchanged. Errors with
    /// [`MessageError::AliasLoop`] (exit 78) when expansion goes too deep.
    pub fn expand(&self, recipients: &[String]) -> Result<Vec<String>, MessageError> {
        let mut out = Vec::with_capacity(recipients.len());
        for recipient in recipients {
            if is_alias(recipient) {
                self.expand_one(recipient, 0, &mut out)
                    .map_err(|()| MessageError::AliasLoop {
                        alias: recipient.clone(),
                    })?;
            } else {
                out.push(recipient.clone());
            }
        }
        Ok(out)
    }

    fn expand_one(&self, name: &str, depth: usize, out: &mut Vec<String>) -> Result<(), ()> {
        if depth > MAX_DEPTH || out.len() > MAX_EXPANDED {
            return Err(());
        }
        let Some(targets) = self.get(name).or_else(|| self.get("default")) else {
            out.push(name.to_owned());
            return Ok(());
        };
        for target in targets {
            if is_alias(target) {
                self.expand_one(target, depth + 1, out)?;
            } else if out.len() < MAX_EXPANDED {
                out.push(target.clone());
            } else {
                return Err(());
            }
        }
        Ok(())
    }
}

/// msmtp's test for "look this up": non-empty and without `@`.
fn is_alias(s: &str) -> bool {
    !s.is_empty() && !s.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Aliases {
        match Aliases::parse(text) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn exponential_fan_out_is_cut_off_not_followed() {
        // l0: l1, l1 … l15: l16, l16; l16: x@y — 2^16 copies without a cap.
        let mut text = String::new();
        for i in 0..16 {
            text.push_str(&format!("l{i}: l{n}, l{n}\n", n = i + 1));
        }
        text.push_str("l16: x@example.org\n");
        let a = parse(&text);
        let started = std::time::Instant::now();
        let err = a.expand(&["l0".to_string()]).unwrap_err();
        assert!(matches!(err, MessageError::AliasLoop { .. }), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    fn expand(a: &Aliases, r: &[&str]) -> Vec<String> {
        let r: Vec<String> = r.iter().map(|s| s.to_string()).collect();
        match a.expand(&r) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    const FILE: &str = "\
# msmtp aliases
root: admin@example.org   # the admin
ops: root, oncall@example.org,  pager@example.org
  team :ops,dev@example.org

default: catchall@example.org
";

    #[test]
    fn expands_recursively_in_order() {
        let a = parse(FILE);
        assert_eq!(a.len(), 4);
        assert_eq!(
            expand(&a, &["team", "x@y.org"]),
            [
                "admin@example.org",
                "oncall@example.org",
                "pager@example.org",
                "dev@example.org",
                "x@y.org"
            ]
        );
    }

    #[test]
    fn unknown_local_names_go_to_default_or_stay() {
        let a = parse(FILE);
        assert_eq!(expand(&a, &["nobody"]), ["catchall@example.org"]);
        let a = parse("root: a@x.org\n");
        assert_eq!(expand(&a, &["nobody", "root"]), ["nobody", "a@x.org"]);
    }

    #[test]
    fn addresses_with_at_are_never_looked_up() {
        let a = parse("default: c@x.org\n");
        assert_eq!(expand(&a, &["a@x.org", "root"]), ["a@x.org", "c@x.org"]);
    }

    #[test]
    fn lookup_is_case_sensitive_as_in_msmtp() {
        let a = parse("Root: upper@x.org\nroot: lower@x.org\nadmin: a@x.org\n");
        assert_eq!(
            expand(&a, &["root", "Root", "ADMIN"]),
            ["lower@x.org", "upper@x.org", "ADMIN"]
        );
        let a = parse("admin: a@x.org\ndefault: d@x.org\n");
        assert_eq!(expand(&a, &["Admin", "admin"]), ["d@x.org", "a@x.org"]);
    }

    #[test]
    fn loops_are_errors_with_exit_78() {
        let a = parse("a: b\nb: a\n");
        match a.expand(&["a".to_string()]) {
            Err(e @ MessageError::AliasLoop { .. }) => {
                assert_eq!(e.exit_code(), 78);
                assert!(e.to_string().contains("alias a"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        // default pointing at an undefined local name loops too, as in msmtp.
        assert!(parse("default: root\n").expand(&["x".to_string()]).is_err());
    }

    #[test]
    fn syntax_errors_carry_line_numbers() {
        for (text, line, what) in [
            ("ok: a@x.org\nno delimiter here\n", 2, "single ':'"),
            ("a: b: c\n", 1, "single ':'"),
            ("\n\nx@y: a@x.org\n", 3, "invalid alias"),
            (": a@x.org\n", 1, "invalid alias"),
            ("a: b@x.org\n# c\na: c@x.org\n", 3, "duplicate alias"),
            ("a: b c@x.org\n", 1, "invalid address"),
        ] {
            match Aliases::parse(text) {
                Err(e @ MessageError::AliasesSyntax { .. }) => {
                    let msg = e.to_string();
                    assert!(msg.starts_with(&format!("line {line}: ")), "{msg}");
                    assert!(msg.contains(what), "{msg}");
                    assert_eq!(e.exit_code(), 78);
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn empty_entries_and_comments() {
        let a = parse("# only comments\n   \nnull:\nx: , a@x.org ,\n");
        assert_eq!(a.get("null"), Some(&[][..]));
        assert_eq!(expand(&a, &["null", "x"]), ["a@x.org"]);
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        let path = dir.path().join("aliases");
        assert!(std::fs::write(&path, "root: a@x.org\nbad\n").is_ok());
        match Aliases::load(&path) {
            Err(e) => assert_eq!(
                e.to_string(),
                format!("{}: line 2: single ':' delimiter expected", path.display())
            ),
            Ok(_) => panic!("accepted"),
        }
        match Aliases::load(&dir.path().join("missing")) {
            Err(e @ MessageError::AliasesRead { .. }) => assert_eq!(e.exit_code(), 78),
            other => panic!("{other:?}"),
        }
    }
}
