//! A reader for gettext `.po` catalogs, the format translators already know (Poedit,
//! Weblate, `msgmerge`). Only what a catalog needs at run time: `msgctxt`, `msgid`,
//! `msgid_plural`, `msgstr` / `msgstr[N]`, strings continued over several lines,
//! C escapes, `#, fuzzy` entries (skipped, as `msgfmt` skips them) and obsolete `#~`
//! entries (ignored). Comments are otherwise ignored.

/// One translated message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `msgctxt`, if any.
    pub context: Option<String>,
    /// `msgid`: the English text.
    pub id: String,
    /// `msgid_plural`, for a plural entry.
    pub plural: Option<String>,
    /// `msgstr`, or `msgstr[0]`, `msgstr[1]`, … for a plural entry.
    pub translations: Vec<String>,
    /// Marked `#, fuzzy`: a guess the translator has not confirmed.
    pub fuzzy: bool,
}

/// A line of the catalog that is not valid `.po`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for PoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for PoError {}

/// Which string the continuation lines belong to.
#[derive(Clone, Copy, PartialEq)]
enum Field {
    Context,
    Id,
    Plural,
    Str(usize),
}

#[derive(Default)]
struct Partial {
    context: Option<String>,
    id: Option<String>,
    plural: Option<String>,
    translations: Vec<String>,
    fuzzy: bool,
}

impl Partial {
    fn is_empty(&self) -> bool {
        self.context.is_none() && self.id.is_none() && self.translations.is_empty()
    }

    fn finish(self, line: usize, out: &mut Vec<Entry>) -> Result<(), PoError> {
        if self.is_empty() {
            return Ok(());
        }
        let Some(id) = self.id else {
            return Err(error(line, "an entry without msgid"));
        };
        if self.translations.is_empty() {
            return Err(error(line, "an entry without msgstr"));
        }
        out.push(Entry {
            context: self.context,
            id,
            plural: self.plural,
            translations: self.translations,
            fuzzy: self.fuzzy,
        });
        Ok(())
    }

    fn slot(&mut self, field: Field) -> &mut String {
        match field {
            Field::Context => self.context.get_or_insert_with(String::new),
            Field::Id => self.id.get_or_insert_with(String::new),
            Field::Plural => self.plural.get_or_insert_with(String::new),
            Field::Str(n) => {
                if self.translations.len() <= n {
                    self.translations.resize(n + 1, String::new());
                }
                &mut self.translations[n]
            }
        }
    }
}

fn error(line: usize, message: &str) -> PoError {
    PoError {
        line,
        message: message.to_string(),
    }
}

/// Every entry of `text`, the header entry (`msgid ""`) included.
pub fn parse(text: &str) -> Result<Vec<Entry>, PoError> {
    let mut entries = Vec::new();
    let mut current = Partial::default();
    let mut field: Option<Field> = None;
    let mut fuzzy_next = false;
    let mut last_line = 0;
    for (index, raw) in text.lines().enumerate() {
        let n = index + 1;
        last_line = n;
        let line = raw.trim();
        if line.is_empty() || line.starts_with("#~") {
            continue;
        }
        if let Some(flags) = line.strip_prefix("#,") {
            if field.is_some() {
                std::mem::take(&mut current).finish(n, &mut entries)?;
                field = None;
            }
            fuzzy_next |= flags.split(',').any(|f| f.trim() == "fuzzy");
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with('"') {
            let Some(f) = field else {
                return Err(error(n, "a string outside any msgid or msgstr"));
            };
            let s = unquote(line, n)?;
            current.slot(f).push_str(&s);
            continue;
        }
        let (keyword, rest) = line
            .split_once(|c: char| c.is_ascii_whitespace())
            .ok_or_else(|| error(n, "a keyword without a string"))?;
        let next = match keyword {
            "msgctxt" => Field::Context,
            "msgid" => Field::Id,
            "msgid_plural" => Field::Plural,
            "msgstr" => Field::Str(0),
            k => match k
                .strip_prefix("msgstr[")
                .and_then(|k| k.strip_suffix(']'))
                .and_then(|k| k.parse::<usize>().ok())
            {
                Some(i) => Field::Str(i),
                None => return Err(error(n, &format!("unknown keyword {keyword}"))),
            },
        };
        // A msgctxt or msgid after a msgstr starts the next entry.
        let starts_entry = matches!(next, Field::Context | Field::Id);
        if starts_entry && matches!(field, Some(Field::Str(_))) {
            std::mem::take(&mut current).finish(n, &mut entries)?;
        }
        if starts_entry && current.is_empty() {
            current.fuzzy = std::mem::take(&mut fuzzy_next);
        }
        if next == Field::Id && current.id.is_some() {
            return Err(error(n, "a second msgid in one entry"));
        }
        let s = unquote(rest.trim(), n)?;
        current.slot(next).push_str(&s);
        field = Some(next);
    }
    current.finish(last_line, &mut entries)?;
    Ok(entries)
}

/// `"a\"b\n"` → `a"b` + newline.
fn unquote(s: &str, line: usize) -> Result<String, PoError> {
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .filter(|_| s.len() >= 2)
        .ok_or_else(|| error(line, "a string must be in double quotes"))?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('a') => out.push('\u{7}'),
                Some(other) => return Err(error(line, &format!("unknown escape \\{other}"))),
                None => return Err(error(line, "a backslash at the end of a string")),
            },
            '"' => return Err(error(line, "an unescaped double quote inside a string")),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `s` as a `.po` string (without the quotes): the inverse of the reader's escapes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_with_continuations_escapes_and_context() {
        let text = r#"# header comment
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"

#: src/a.rs:1
msgid "account {name} not found"
msgstr "compte {name} "
"introuvable"

msgctxt "subject"
msgid "say \"hi\"\tnow\\"
msgstr "dis \"salut\"\n"

#, fuzzy, rust-format
msgid "guess"
msgstr "devine"

#~ msgid "old"
#~ msgstr "vieux"

msgid "1 line"
msgid_plural "{n} lines"
msgstr[0] "1 ligne"
msgstr[1] "{n} lignes"
"#;
        let e = parse(text).expect("parses");
        assert_eq!(e.len(), 5, "{e:#?}");
        assert_eq!(e[0].id, "");
        assert!(e[0].translations[0].starts_with("Content-Type"));
        assert_eq!(e[1].id, "account {name} not found");
        assert_eq!(e[1].translations, ["compte {name} introuvable"]);
        assert!(!e[1].fuzzy);
        assert_eq!(e[2].context.as_deref(), Some("subject"));
        assert_eq!(e[2].id, "say \"hi\"\tnow\\");
        assert_eq!(e[2].translations, ["dis \"salut\"\n"]);
        assert!(e[3].fuzzy);
        assert_eq!(e[4].plural.as_deref(), Some("{n} lines"));
        assert_eq!(e[4].translations, ["1 ligne", "{n} lignes"]);
    }

    #[test]
    fn broken_catalogs_name_the_line() {
        for (text, line) in [
            ("msgid \"a\"\nmsgstr \"b\n", 2),
            ("msgid \"a\"\nmsgstr \"b\\q\"\n", 2),
            ("\"orphan\"\n", 1),
            ("msgid \"a\"\n", 1),
            ("msgid \"a\"\nmsgid \"b\"\nmsgstr \"\"\n", 2),
            ("msgfoo \"a\"\n", 1),
        ] {
            let e = parse(text).expect_err(text);
            assert_eq!(e.line, line, "{text:?}: {e}");
        }
    }

    #[test]
    fn escape_round_trips() {
        let s = "a \"q\"\n\tb\\";
        let e = parse(&format!("msgid \"x\"\nmsgstr \"{}\"\n", escape(s))).expect("parses");
        assert_eq!(e[0].translations[0], s);
    }
}
