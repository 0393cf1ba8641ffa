//! Which locale the user asked for, and whether glibc would honour it.
//!
//! msmtp calls `setlocale(LC_ALL, "")`: glibc takes each category from `LC_ALL`, else
//! `LC_<CATEGORY>`, else `LANG`, and keeps the C locale when the one named is not
//! installed (no directory under /usr/lib/locale, no entry in the locale-archive).
//! rsmtp does the same so its log times and its messages change language exactly when
//! msmtp's do. The log time (rsmtp's `locale.rs`) asks for `LC_TIME`, the messages
//! ([`crate::i18n`]) for `LC_MESSAGES`.

use std::path::Path;

mod archive;
mod time_names;

use archive::Archive;
pub use time_names::TimeNames;

/// Where glibc keeps compiled locales.
const LOCALE_DIR: &str = "/usr/lib/locale";

/// The locale name the environment gives `category`: `LC_ALL`, else `LC_<CATEGORY>`,
/// else `LANG`.
fn selected(category: &str) -> Option<String> {
    ["LC_ALL", category, "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
}

/// The installed locale the environment selects for `category` (`"LC_TIME"`,
/// `"LC_MESSAGES"`), as its language and territory (`fr_FR`, `ja_JP`, `de`), or `None`
/// for C, POSIX, unset, or a locale this system does not have.
pub fn for_category(category: &str) -> Option<String> {
    installed(&selected(category)?, Path::new(LOCALE_DIR))
}

/// The `LC_TIME` strings of the locale the environment selects, as glibc has them
/// installed; `None` for C, POSIX, unset, or a locale this system does not have.
pub fn time_names() -> Option<TimeNames> {
    time_names_in(&selected("LC_TIME")?, Path::new(LOCALE_DIR))
}

/// [`time_names`] for locale `name` under `dir`: the locale's own `LC_TIME` file
/// (Debian's locales-all), else its part of the locale-archive (`locale-gen`).
fn time_names_in(name: &str, dir: &Path) -> Option<TimeNames> {
    const LC_TIME: usize = 2;
    let (_, candidates) = glibc_names(name)?;
    let data = candidates.iter().find_map(|n| {
        std::fs::read(dir.join(n).join("LC_TIME"))
            .ok()
            .or_else(|| Archive::open(&dir.join("locale-archive"))?.category(n, LC_TIME))
    })?;
    TimeNames::parse(&data)
}

/// `fr_FR.UTF-8@euro` → `fr_FR`, if glibc under `dir` has that locale.
pub fn installed(name: &str, dir: &Path) -> Option<String> {
    let (language, candidates) = glibc_names(name)?;
    candidates
        .iter()
        .any(|n| is_installed(n, dir))
        .then_some(language)
}

/// The language of locale `name` and the names glibc looks it up under, in order (the
/// normalised codeset first: `fr_FR.UTF-8` → `fr_FR.utf8`, then `fr_FR.UTF-8`); `None`
/// for C and POSIX.
fn glibc_names(name: &str) -> Option<(String, [String; 2])> {
    if name == "C" || name == "POSIX" || name.starts_with("C.") {
        return None;
    }
    let (base, _modifier) = name.split_once('@').unwrap_or((name, ""));
    let (language, codeset) = match base.split_once('.') {
        Some((l, c)) => (l, Some(c)),
        None => (base, None),
    };
    let wanted = match codeset {
        Some(c) => format!("{language}.{}", normalize_codeset(c)),
        None => language.to_string(),
    };
    Some((language.to_string(), [wanted, base.to_string()]))
}

/// glibc's `_nl_normalize_codeset`: letters and digits only, lower case; all digits
/// get `iso` in front (`UTF-8` → `utf8`, `8859-1` → `iso88591`).
fn normalize_codeset(codeset: &str) -> String {
    let kept: String = codeset
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if kept.chars().all(|c| c.is_ascii_digit()) {
        format!("iso{kept}")
    } else {
        kept
    }
}

/// Whether glibc would load locale `name`: its own directory (Debian's locales-all),
/// or a name in the locale archive that locale-gen writes.
fn is_installed(name: &str, dir: &Path) -> bool {
    dir.join(name).join("LC_TIME").is_file()
        || Archive::open(&dir.join("locale-archive")).is_some_and(|mut a| a.has(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codesets_are_normalised_like_glibc() {
        assert_eq!(normalize_codeset("UTF-8"), "utf8");
        assert_eq!(normalize_codeset("8859-1"), "iso88591");
        assert_eq!(normalize_codeset("ISO-8859-15"), "iso885915");
    }

    #[test]
    fn only_installed_locales_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(
            installed("fr_FR.UTF-8", dir.path()).is_none(),
            "not installed"
        );
        std::fs::create_dir_all(dir.path().join("fr_FR.utf8")).expect("mkdir");
        std::fs::write(dir.path().join("fr_FR.utf8/LC_TIME"), "").expect("write");
        assert_eq!(
            installed("fr_FR.UTF-8", dir.path()).as_deref(),
            Some("fr_FR")
        );
        assert_eq!(
            installed("fr_FR.utf8@euro", dir.path()).as_deref(),
            Some("fr_FR")
        );
        assert!(installed("C.UTF-8", dir.path()).is_none());
        assert!(installed("POSIX", dir.path()).is_none());
    }

    #[test]
    fn time_names_come_from_the_locale_directory_or_the_archive() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(time_names_in("fr_FR.UTF-8", dir.path()).is_none());
        let french = time_names::tests::french();
        std::fs::write(
            dir.path().join("locale-archive"),
            archive::tests::archive(&[("fr_FR.utf8", &french)]),
        )
        .expect("write");
        let from_archive = time_names_in("fr_FR.UTF-8", dir.path()).expect("in the archive");
        assert_eq!(from_archive.abbreviated_months[11], "déc.");
        assert_eq!(
            installed("fr_FR.UTF-8", dir.path()).as_deref(),
            Some("fr_FR")
        );
        std::fs::create_dir_all(dir.path().join("de_DE.utf8")).expect("mkdir");
        let mut german = vec![""; 14];
        german.extend([
            "Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep",
        ]);
        german.extend(["Okt", "Nov", "Dez"]);
        std::fs::write(
            dir.path().join("de_DE.utf8/LC_TIME"),
            time_names::tests::lc_time(&german),
        )
        .expect("write");
        let from_dir = time_names_in("de_DE.UTF-8@euro", dir.path()).expect("a directory");
        assert_eq!(from_dir.abbreviated_months[11], "Dez");
        assert!(time_names_in("C.UTF-8", dir.path()).is_none());
    }
}
