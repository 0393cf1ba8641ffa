//! The subset of fnmatch(3) (flags 0) msmtp uses to match an envelope-from
//! address against an account's `from` pattern: `*`, `?`, bracket expressions
//! with ranges and `!`/`^` negation, and `\` escapes. Matching is
//! case-sensitive, like fnmatch; plain addresses are compared without case.
//! backup-alert's `check --path` wildcards use the same matcher, one path component
//! at a time.

/// Whether `s` contains a wildcard character (msmtp checks `?`, `*`, `[`).
pub fn is_pattern(s: &str) -> bool {
    s.contains(['?', '*', '['])
}

/// fnmatch(pattern, text, 0) == 0.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    match_from(&p, &t)
}

fn match_from(p: &[char], t: &[char]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    // Position to retry from after the last `*`: (pattern index, text index).
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => match bracket(&p[pi..], t[ti]) {
                Some((true, len)) => Some(len),
                Some((false, _)) => None,
                // An unterminated `[` is an ordinary character.
                None => (t[ti] == '[').then_some(1),
            },
            Some('\\') if pi + 1 < p.len() => (p[pi + 1] == t[ti]).then_some(2),
            Some(&c) => (c == t[ti]).then_some(1),
            None => None,
        };
        match step {
            Some(n) => {
                pi += n;
                ti += 1;
            }
            None => match star {
                Some((sp, st)) => {
                    pi = sp;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Match one character against a bracket expression at the start of `p`.
/// Returns (matched, length of the expression) or `None` if unterminated.
fn bracket(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        let lo = if ch == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            ch
        };
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&h| h != ']') {
            let hi = *p.get(i + 2)?;
            if lo <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(matches("*@example.org", "alice@example.org"));
        assert!(!matches("*@example.org", "alice@example.com"));
        assert!(matches("a?ice@*", "alice@x"));
        assert!(matches("[a-c]*@x", "bob@x"));
        assert!(!matches("[!a-c]*@x", "bob@x"));
        assert!(matches("[]]x", "]x"));
        assert!(matches("a\\*b", "a*b"));
        assert!(!matches("a\\*b", "axb"));
        assert!(matches("*", ""));
        assert!(matches("**a*", "bbbab"));
        assert!(!matches("*@X.org", "a@x.org"));
        assert!(matches("[x", "[x"));
    }

    #[test]
    fn pattern_detection() {
        assert!(is_pattern("*@x"));
        assert!(is_pattern("a[b]"));
        assert!(!is_pattern("a@b"));
    }
}
