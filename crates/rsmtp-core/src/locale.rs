//! Which locale the user asked for, and whether glibc would honour it.
//!
//! msmtp calls `setlocale(LC_ALL, "")`: glibc takes each category from `LC_ALL`, else
//! `LC_<CATEGORY>`, else `LANG`, and keeps the C locale when the one named is not
//! installed (no directory under /usr/lib/locale, no entry in the locale-archive).
//! rsmtp does the same so its log times and its messages change language exactly when
//! msmtp's do. The log time (rsmtp's `locale.rs`) asks for `LC_TIME`, the messages
//! ([`crate::i18n`]) for `LC_MESSAGES`.

use std::path::Path;

/// Where glibc keeps compiled locales.
const LOCALE_DIR: &str = "/usr/lib/locale";

/// The installed locale the environment selects for `category` (`"LC_TIME"`,
/// `"LC_MESSAGES"`), as its language and territory (`fr_FR`, `ja_JP`, `de`), or `None`
/// for C, POSIX, unset, or a locale this system does not have.
pub fn for_category(category: &str) -> Option<String> {
    let name = ["LC_ALL", category, "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())?;
    installed(&name, Path::new(LOCALE_DIR))
}

/// `fr_FR.UTF-8@euro` → `fr_FR`, if glibc under `dir` has that locale.
pub fn installed(name: &str, dir: &Path) -> Option<String> {
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
    (is_installed(&wanted, dir) || is_installed(base, dir)).then(|| language.to_string())
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
    dir.join(name).join("LC_TIME").is_file() || archive_names(&dir.join("locale-archive"), name)
}

/// Whether the string table of glibc's locale-archive holds `name`. The header is
/// eight native-endian u32s: magic, serial, then the name hash table's offset, used
/// count and size, then the string table's offset, used bytes and size.
fn archive_names(archive: &Path, name: &str) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    const MAGIC: u32 = 0xde02_0109;
    let Ok(mut file) = std::fs::File::open(archive) else {
        return false;
    };
    let mut header = [0u8; 32];
    if file.read_exact(&mut header).is_err() {
        return false;
    }
    let word =
        |i: usize| u32::from_ne_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    if word(0) != MAGIC {
        return false;
    }
    let (offset, used) = (u64::from(word(20)), u64::from(word(24)));
    // The string table is the locale names: a few KiB; refuse anything absurd.
    if used > 1 << 20 || file.seek(SeekFrom::Start(offset)).is_err() {
        return false;
    }
    let mut strings = Vec::new();
    if file.take(used).read_to_end(&mut strings).is_err() {
        return false;
    }
    strings.split(|&b| b == 0).any(|s| s == name.as_bytes())
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
}
