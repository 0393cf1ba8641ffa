//! The user's locale for the log time, as msmtp gets it: msmtp calls
//! `setlocale(LC_ALL, "")` and formats `logfile_time_format` with strftime, so a French
//! admin's log says `déc. 21 16:03:07` and their `grep "$(date +%b)"` finds it.
//!
//! Like glibc, the locale comes from `LC_ALL`, else `LC_TIME`, else `LANG`, and it only
//! counts when the system has it installed (a directory under /usr/lib/locale, or an
//! entry of glibc's locale-archive): without it glibc stays in the C locale, and so
//! does msmtp, and so do we. The month and day names come from chrono's copy of
//! glibc's locale data. The line's field names and values never change.

use std::path::Path;

/// Where glibc keeps compiled locales.
const LOCALE_DIR: &str = "/usr/lib/locale";

/// The locale whose names the log time uses, or `None` for C/POSIX.
pub fn time_locale() -> Option<chrono::Locale> {
    let name = ["LC_ALL", "LC_TIME", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())?;
    locale_for(&name, Path::new(LOCALE_DIR))
}

/// `fr_FR.UTF-8@euro` → the chrono locale `fr_FR`, if glibc under `dir` has it.
fn locale_for(name: &str, dir: &Path) -> Option<chrono::Locale> {
    if name == "C" || name == "POSIX" || name.starts_with("C.") {
        return None;
    }
    let (base, _modifier) = name.split_once('@').unwrap_or((name, ""));
    let (language, codeset) = match base.split_once('.') {
        Some((l, c)) => (l, Some(c)),
        None => (base, None),
    };
    let installed = match codeset {
        Some(c) => format!("{language}.{}", normalize_codeset(c)),
        None => language.to_string(),
    };
    if !is_installed(&installed, dir) {
        return None;
    }
    chrono::Locale::try_from(language).ok()
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
            locale_for("fr_FR.UTF-8", dir.path()).is_none(),
            "not installed"
        );
        std::fs::create_dir_all(dir.path().join("fr_FR.utf8")).expect("mkdir");
        std::fs::write(dir.path().join("fr_FR.utf8/LC_TIME"), "").expect("write");
        assert_eq!(
            locale_for("fr_FR.UTF-8", dir.path()),
            Some(chrono::Locale::fr_FR)
        );
        assert_eq!(
            locale_for("fr_FR.utf8@euro", dir.path()),
            Some(chrono::Locale::fr_FR)
        );
        assert!(locale_for("C.UTF-8", dir.path()).is_none());
        assert!(locale_for("POSIX", dir.path()).is_none());
    }
}
