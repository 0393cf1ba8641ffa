//! A `.netrc` reader with msmtp's rules (from fetchmail's netrc.c): tokens
//! are separated by blanks, may be quoted with `"` or `'`, `#` starts a
//! comment where a token would start, `macdef` bodies run to the next empty
//! line, and only entries with both `machine` and `login` are kept. A lookup
//! matches the exact host name and login.

use std::fs;
use std::path::Path;

use rsmtp_core::Secret;

/// One `machine … login … password …` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetrcEntry {
    /// `machine` (`None` for `default`).
    pub machine: Option<String>,
    /// `login` / `user`.
    pub login: String,
    /// `password` / `passwd`.
    pub password: Option<Secret>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Keyword,
    Login,
    Machine,
    Password,
    Account,
    Macdef,
}

#[derive(Default)]
struct Partial {
    machine: Option<String>,
    login: Option<String>,
    password: Option<String>,
    started: bool,
}

impl Partial {
    fn finish(self, out: &mut Vec<NetrcEntry>) {
        if let Some(login) = self.login {
            out.push(NetrcEntry {
                machine: self.machine,
                login,
                password: self.password.map(Secret::new),
            });
        }
    }
}

fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            None | Some('#') => break,
            _ => {}
        }
        let mut tok = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            if quote.is_none() && c.is_whitespace() {
                break;
            }
            chars.next();
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => tok.push(c),
                None if c == '"' || c == '\'' => quote = Some(c),
                None => tok.push(c),
            }
        }
        out.push(tok);
    }
    out
}

/// Parse netrc text.
pub(crate) fn parse(text: &str) -> Vec<NetrcEntry> {
    let mut entries = Vec::new();
    let mut cur = Partial::default();
    let mut expect = Expect::Keyword;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            if expect == Expect::Macdef {
                expect = Expect::Keyword;
            }
            continue;
        }
        if expect == Expect::Macdef {
            continue;
        }
        for tok in tokens(line) {
            if expect == Expect::Macdef {
                break;
            }
            match expect {
                Expect::Login => {
                    if cur.started {
                        cur.login = Some(tok);
                    }
                    expect = Expect::Keyword;
                }
                Expect::Password => {
                    if cur.started {
                        cur.password = Some(tok);
                    }
                    expect = Expect::Keyword;
                }
                Expect::Machine => {
                    std::mem::take(&mut cur).finish(&mut entries);
                    cur.started = true;
                    cur.machine = Some(tok);
                    expect = Expect::Keyword;
                }
                Expect::Account => expect = Expect::Keyword,
                Expect::Keyword | Expect::Macdef => {
                    expect = match tok.as_str() {
                        "default" => {
                            std::mem::take(&mut cur).finish(&mut entries);
                            cur.started = true;
                            Expect::Keyword
                        }
                        "login" | "user" => Expect::Login,
                        "macdef" => Expect::Macdef,
                        "machine" => Expect::Machine,
                        "password" | "passwd" => Expect::Password,
                        "account" => Expect::Account,
                        _ => Expect::Keyword,
                    };
                }
            }
        }
    }
    cur.finish(&mut entries);
    entries
}

/// The password of the first entry for `host` whose login is `login`.
pub(crate) fn lookup(file: &Path, host: &str, login: &str) -> Option<Secret> {
    let text = fs::read_to_string(file).ok()?;
    parse(&text)
        .into_iter()
        .find(|e| e.machine.as_deref() == Some(host) && e.login == login)
        .and_then(|e| e.password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_quotes_comments_and_macdef() {
        let text = "# comment\n\
            machine smtp.example.org login alice password 's3 cret'\n\
            machine other\n  login bob\n  passwd \"x#y\"\n\
            macdef init\nmachine evil login alice password nope\n\n\
            machine nologin password p\n\
            default login anon password guest\n";
        let e = parse(text);
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!(e[0].machine.as_deref(), Some("smtp.example.org"));
        assert_eq!(e[0].password.as_ref().map(Secret::expose), Some("s3 cret"));
        assert_eq!(e[1].login, "bob");
        assert_eq!(e[1].password.as_ref().map(Secret::expose), Some("x#y"));
        assert_eq!(e[2].machine, None);
    }

    #[test]
    fn lookup_needs_host_and_login() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("netrc");
        fs::write(
            &f,
            "machine h login u password p1\nmachine h login v password p2\n",
        )
        .expect("write");
        assert_eq!(
            lookup(&f, "h", "v").as_ref().map(Secret::expose),
            Some("p2")
        );
        assert_eq!(lookup(&f, "h", "w"), None);
        assert_eq!(lookup(&f, "H", "u"), None);
        assert_eq!(lookup(&dir.path().join("missing"), "h", "u"), None);
    }
}
