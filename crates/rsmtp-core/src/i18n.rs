//! rsmtp's messages in the user's language, from gettext `.po` catalogs (`po/*.po` at
//! the repository root) built into the binary.
//!
//! English is the source: a message is written in English at the place it is made,
//! wrapped in [`tr!`](crate::tr), which looks it up in the catalog of the user's language
//! and fills its `{name}` placeholders afterwards, so a translation may move them.
//! The language is chosen as GNU tools choose it: `LC_ALL`, else `LC_MESSAGES`, else
//! `LANG`, honoured only when glibc has that locale installed (as msmtp, which calls
//! `setlocale`), then `LANGUAGE` (a colon list such as `fr:de`) takes precedence
//! unless that locale is C. `C`, `POSIX`, unset, English or a language without a
//! catalog: English. The catalog is parsed on the first lookup and only for a
//! language other than English, so the English path costs a few `getenv` calls.
//!
//! Adding a language: copy `po/rsmtp.pot` to `po/LL.po`, translate it, add it to
//! [`CATALOGS`]; the integration test `i18n::catalogs_are_complete` names what is
//! missing.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Display;
use std::sync::OnceLock;

/// The built-in catalogs: language code (as in `LANGUAGE` / the locale name) and text.
pub const CATALOGS: &[(&str, &str)] = &[
    ("de", include_str!("../../../po/de.po")),
    ("es", include_str!("../../../po/es.po")),
    ("fr", include_str!("../../../po/fr.po")),
];

/// msgid → msgstr of the chosen language, or `None` for English.
static CATALOG: OnceLock<Option<Catalog>> = OnceLock::new();

/// One language's translations (fuzzy and empty entries left out, as `msgfmt` does).
#[derive(Debug, Default)]
pub struct Catalog {
    messages: HashMap<String, String>,
}

impl Catalog {
    /// A catalog from `.po` text; a malformed catalog is an error naming the line.
    pub fn parse(text: &str) -> Result<Catalog, crate::po::PoError> {
        let messages = crate::po::parse(text)?
            .into_iter()
            .filter(|e| !e.fuzzy && !e.id.is_empty() && e.context.is_none())
            .filter_map(|e| {
                let s = e.translations.into_iter().next()?;
                (!s.is_empty()).then_some((e.id, s))
            })
            .collect();
        Ok(Catalog { messages })
    }

    /// The translation of `msgid`, if the catalog has one.
    pub fn get(&self, msgid: &str) -> Option<&str> {
        self.messages.get(msgid).map(String::as_str)
    }
}

/// The catalog text for the first of `wanted` (`fr_FR`, `fr`, …) that has one.
/// English (`en`, `en_GB`) is the source: it stops the search.
pub fn catalog_for<'a>(wanted: impl IntoIterator<Item = &'a str>) -> Option<&'static str> {
    for name in wanted {
        let name = name.split(['.', '@']).next().unwrap_or(name);
        let language = name.split('_').next().unwrap_or(name);
        if language == "en" || language == "C" || language == "POSIX" {
            return None;
        }
        if let Some((_, text)) = CATALOGS
            .iter()
            .find(|(code, _)| *code == name)
            .or_else(|| CATALOGS.iter().find(|(code, _)| *code == language))
        {
            return Some(text);
        }
    }
    None
}

/// The catalog text the environment selects, or `None` for English.
fn selected() -> Option<&'static str> {
    let language_list = std::env::var("LANGUAGE").unwrap_or_default();
    // The common English case decides without looking at the installed locales.
    if language_list.is_empty() {
        let named = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())?;
        catalog_for([named.as_str()])?;
    }
    let locale = crate::locale::for_category("LC_MESSAGES")?;
    catalog_for(
        language_list
            .split(':')
            .filter(|s| !s.is_empty())
            .chain(std::iter::once(locale.as_str())),
    )
}

/// `msgid` in the user's language, or `msgid` itself.
pub fn tr(msgid: &'static str) -> Cow<'static, str> {
    let catalog = CATALOG.get_or_init(|| selected().and_then(|text| Catalog::parse(text).ok()));
    match catalog.as_ref().and_then(|c| c.get(msgid)) {
        Some(s) => Cow::Owned(s.to_string()),
        None => Cow::Borrowed(msgid),
    }
}

/// `template` with each `{name}` replaced by its value; `{{` and `}}` are braces.
/// A placeholder without a value stays as written.
pub fn fill(template: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(end) = tail.find('}').filter(|_| tail.starts_with('{')) {
            let name = &tail[1..end];
            if let Some((_, value)) = args.iter().find(|(n, _)| *n == name) {
                out.push_str(&value.to_string());
                rest = &tail[end + 1..];
                continue;
            }
        }
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

/// The placeholders a message uses (`{name}`), for checking a translation keeps them.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        if rest[i..].starts_with("{{") {
            rest = &rest[i + 2..];
            continue;
        }
        match rest[i..].find('}') {
            Some(end) => {
                names.push(&rest[i + 1..i + end]);
                rest = &rest[i + end + 1..];
            }
            None => break,
        }
    }
    names.sort_unstable();
    names.dedup();
    names
}

/// A user-facing message in the user's language: `tr!("no recipients found")`, or with
/// values, `tr!("account {name} not found", name = name)`. The English literal is the
/// catalog's msgid; the completeness test finds every `tr!("…"` in the sources.
#[macro_export]
macro_rules! tr {
    ($msgid:literal) => {
        $crate::i18n::tr($msgid)
    };
    ($msgid:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::i18n::fill(
            &$crate::i18n::tr($msgid),
            &[$((stringify!($name), &$value as &dyn ::std::fmt::Display)),+],
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_after_lookup() {
        let name = "nosuch";
        assert_eq!(
            fill(
                "compte {name} introuvable dans {files}",
                &[("files", &"rc"), ("name", &name)]
            ),
            "compte nosuch introuvable dans rc"
        );
        assert_eq!(fill("{{literal}} {x} {", &[("x", &1)]), "{literal} 1 {");
        assert_eq!(fill("{unknown}", &[]), "{unknown}");
        assert_eq!(placeholders("a {x} {y} {x} {{z}}"), ["x", "y"]);
    }

    #[test]
    fn the_macro_is_english_without_a_catalog() {
        // The test process's locale is whatever the environment says; a msgid no
        // catalog has is returned as written in every language.
        assert_eq!(
            crate::tr!("no such message {n} here", n = 3),
            "no such message 3 here"
        );
    }

    #[test]
    fn the_language_list_is_searched_in_order() {
        let fr = CATALOGS.iter().find(|(c, _)| *c == "fr").map(|(_, t)| *t);
        let de = CATALOGS.iter().find(|(c, _)| *c == "de").map(|(_, t)| *t);
        assert_eq!(catalog_for(["fr_FR.UTF-8"]), fr);
        assert_eq!(
            catalog_for(["fr_CA"]),
            fr,
            "the language when the territory has none"
        );
        assert_eq!(
            catalog_for(["ja", "de_DE"]),
            de,
            "skips a language without a catalog"
        );
        assert_eq!(
            catalog_for(["en_US.UTF-8", "fr"]),
            None,
            "English is the source"
        );
        assert_eq!(catalog_for(["ja_JP"]), None);
        assert_eq!(catalog_for([]), None);
    }

    #[test]
    fn every_built_in_catalog_parses() {
        for (code, text) in CATALOGS {
            let c = Catalog::parse(text).unwrap_or_else(|e| panic!("po/{code}.po: {e}"));
            assert!(c.get("no recipients found").is_some(), "{code}");
        }
    }
}
