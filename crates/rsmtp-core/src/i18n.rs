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
//! A program that writes for someone other than the user running it (backup-alert's
//! alerts, read by an admin whose language is a setting, under cron without `LANG`)
//! asks for a language explicitly: [`tr_in!`](crate::tr_in) (and
//! [`trn_in!`](crate::trn_in) for a count) look the message up in that language's
//! catalog. The process-wide [`tr!`](crate::tr) is the same lookup in the language the
//! environment selects; each catalog is parsed once, on its first use.
//!
//! Adding a language: copy `po/rsmtp.pot` to `po/LL.po`, translate it, add it to
//! [`CATALOGS`] (and its plural rule to [`plural_index`]); the integration test
//! `i18n::catalogs_are_complete` names what is missing.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Display;
use std::sync::OnceLock;

/// The built-in catalogs: language code (as in `LANGUAGE` / the locale name) and text.
pub const CATALOGS: &[(&str, &str)] = &[
    ("de", include_str!("../../../po/de.po")),
    ("es", include_str!("../../../po/es.po")),
    ("fr", include_str!("../../../po/fr.po")),
    ("ja", include_str!("../../../po/ja.po")),
];

/// Each of [`CATALOGS`] once parsed (`None`: malformed, so English).
static PARSED: [OnceLock<Option<Catalog>>; CATALOGS.len()] =
    [const { OnceLock::new() }; CATALOGS.len()];

/// The language the environment selects for the process-wide [`tr!`](crate::tr), as an
/// index into [`CATALOGS`], or `None` for English.
static SELECTED: OnceLock<Option<usize>> = OnceLock::new();

/// One language's translations (fuzzy and empty entries left out, as `msgfmt` does).
#[derive(Debug, Default)]
pub struct Catalog {
    /// msgid → msgstr, or the plural forms `msgstr[0]`, `msgstr[1]`, … in order.
    messages: HashMap<String, Vec<String>>,
}

impl Catalog {
    /// A catalog from `.po` text; a malformed catalog is an error naming the line.
    pub fn parse(text: &str) -> Result<Catalog, crate::po::PoError> {
        let messages = crate::po::parse(text)?
            .into_iter()
            .filter(|e| !e.fuzzy && !e.id.is_empty() && e.context.is_none())
            .filter(|e| !e.translations.is_empty() && e.translations.iter().all(|s| !s.is_empty()))
            .map(|e| (e.id, e.translations))
            .collect();
        Ok(Catalog { messages })
    }

    /// The translation of `msgid`, if the catalog has one.
    pub fn get(&self, msgid: &str) -> Option<&str> {
        self.messages
            .get(msgid)
            .and_then(|t| t.first())
            .map(String::as_str)
    }

    /// Plural form `index` of the entry whose msgid is `singular`.
    fn get_plural(&self, singular: &str, index: usize) -> Option<&str> {
        let forms = self.messages.get(singular)?;
        forms.get(index).or(forms.last()).map(String::as_str)
    }
}

/// The catalog of `language` (`fr`, `ja`; not a locale name), parsed on first use;
/// `None` for English or a language without one.
pub fn catalog(language: &str) -> Option<&'static Catalog> {
    let i = CATALOGS.iter().position(|(code, _)| *code == language)?;
    PARSED[i]
        .get_or_init(|| Catalog::parse(CATALOGS[i].1).ok())
        .as_ref()
}

/// Which plural form `n` takes in `language` (gettext's `Plural-Forms`): Japanese has
/// one, French uses the singular for 0 and 1, German, Spanish and English for 1 only.
pub fn plural_index(language: &str, n: u64) -> usize {
    match language {
        "ja" => 0,
        "fr" => usize::from(n > 1),
        _ => usize::from(n != 1),
    }
}

/// The code (`fr`, `de`) of the built-in catalog for the first of `wanted` (`fr_FR`,
/// `fr`, …) that has one. English (`en`, `en_GB`) is the source: it stops the search.
pub fn catalog_for<'a>(wanted: impl IntoIterator<Item = &'a str>) -> Option<&'static str> {
    for name in wanted {
        let name = name.split(['.', '@']).next().unwrap_or(name);
        let language = name.split('_').next().unwrap_or(name);
        if language == "en" || language == "C" || language == "POSIX" {
            return None;
        }
        if let Some((code, _)) = CATALOGS
            .iter()
            .find(|(code, _)| *code == name)
            .or_else(|| CATALOGS.iter().find(|(code, _)| *code == language))
        {
            return Some(code);
        }
    }
    None
}

/// The catalog language the environment selects, or `None` for English.
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

/// The language of the process-wide [`tr!`](crate::tr): `fr`, `ja`, … or `en`.
pub fn process_language() -> &'static str {
    SELECTED
        .get_or_init(|| {
            let code = selected()?;
            CATALOGS.iter().position(|(c, _)| *c == code)
        })
        .map_or("en", |i| CATALOGS[i].0)
}

/// `msgid` in the user's language, or `msgid` itself.
pub fn tr(msgid: &'static str) -> Cow<'static, str> {
    tr_in(process_language(), msgid)
}

/// `msgid` in `language` (`fr`, `ja`, `en`), or `msgid` itself.
pub fn tr_in(language: impl AsRef<str>, msgid: &'static str) -> Cow<'static, str> {
    match lookup(language.as_ref(), msgid) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Borrowed(msgid),
    }
}

/// The translation of a msgid known only at run time (a label kept in English until
/// it is shown; its msgid is marked with [`tr_noop!`](crate::tr_noop) where it is
/// written), or `None`.
pub fn lookup(language: &str, msgid: &str) -> Option<&'static str> {
    catalog(language)?.get(msgid)
}

/// The form of `singular`/`plural` for `n` in `language` (ngettext).
pub fn trn_in(
    language: impl AsRef<str>,
    singular: &'static str,
    plural: &'static str,
    n: u64,
) -> Cow<'static, str> {
    let language = language.as_ref();
    let translated =
        catalog(language).and_then(|c| c.get_plural(singular, plural_index(language, n)));
    match translated {
        Some(s) => Cow::Borrowed(s),
        None if n == 1 => Cow::Borrowed(singular),
        None => Cow::Borrowed(plural),
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

/// A message in an explicit language (backup-alert's `language` setting): `tr_in!(lang,
/// "Host")`, `tr_in!(lang, "{name} succeeded", name = job)`. `lang` is anything that is
/// `AsRef<str>` of a language code. The English literal is the catalog's msgid.
#[macro_export]
macro_rules! tr_in {
    ($lang:expr, $msgid:literal) => {
        $crate::i18n::tr_in($lang, $msgid)
    };
    ($lang:expr, $msgid:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::i18n::fill(
            &$crate::i18n::tr_in($lang, $msgid),
            &[$((stringify!($name), &$value as &dyn ::std::fmt::Display)),+],
        )
    };
}

/// A count in an explicit language (ngettext): `trn_in!(lang, "{n} line", "{n} lines",
/// n)`; `{n}` is filled with the count, further `name = value` pairs as in
/// [`tr_in!`](crate::tr_in).
#[macro_export]
macro_rules! trn_in {
    ($lang:expr, $singular:literal, $plural:literal, $n:expr $(, $name:ident = $value:expr)* $(,)?) => {{
        let n: u64 = $n;
        // The named values first: `n = "1.5"` shows a count other than the one that
        // chose the form.
        $crate::i18n::fill(
            &$crate::i18n::trn_in($lang, $singular, $plural, n),
            &[$((stringify!($name), &$value as &dyn ::std::fmt::Display),)* ("n", &n as &dyn ::std::fmt::Display)],
        )
    }};
}

/// Marks an English msgid that is translated later, where it is shown (gettext's
/// `N_()`): the value is the literal itself; `update-po.py` puts it in the catalogs.
#[macro_export]
macro_rules! tr_noop {
    ($msgid:literal) => {
        $msgid
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
        let fr = Some("fr");
        let de = Some("de");
        assert_eq!(catalog_for(["fr_FR.UTF-8"]), fr);
        assert_eq!(
            catalog_for(["fr_CA"]),
            fr,
            "the language when the territory has none"
        );
        assert_eq!(
            catalog_for(["xx", "de_DE"]),
            de,
            "skips a language without a catalog"
        );
        assert_eq!(
            catalog_for(["en_US.UTF-8", "fr"]),
            None,
            "English is the source"
        );
        assert_eq!(catalog_for(["ja_JP"]), Some("ja"));
        assert_eq!(catalog_for(["nl_NL"]), None);
        assert_eq!(catalog_for([]), None);
    }

    #[test]
    fn an_explicit_language_and_counts() {
        assert_eq!(
            crate::tr_in!("fr", "no recipients found"),
            "aucun destinataire trouvé"
        );
        assert_eq!(
            crate::tr_in!("en", "no recipients found"),
            "no recipients found"
        );
        assert_eq!(plural_index("fr", 0), 0);
        assert_eq!(plural_index("fr", 2), 1);
        assert_eq!(plural_index("de", 0), 1);
        assert_eq!(plural_index("ja", 5), 0);
        assert_eq!(
            crate::trn_in!("en", "{n} thing", "{n} things", 1),
            "1 thing"
        );
        assert_eq!(
            crate::trn_in!("fr", "{n} thing", "{n} things", 2),
            "2 things"
        );
    }

    #[test]
    fn every_built_in_catalog_parses() {
        for (code, text) in CATALOGS {
            let c = Catalog::parse(text).unwrap_or_else(|e| panic!("po/{code}.po: {e}"));
            assert!(c.get("no recipients found").is_some(), "{code}");
        }
    }
}
