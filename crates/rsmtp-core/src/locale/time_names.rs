//! The names and formats glibc's strftime takes from the locale (`LC_TIME`), read from
//! the compiled locale itself, so a log time matches msmtp's byte for byte.
//!
//! A compiled category is glibc's `locfile` layout: a magic number, the number of
//! items, each item's offset, then the items; the string items are NUL-terminated. The
//! item numbers are `langinfo.h`'s: `ABDAY_1` is item 0 of `LC_TIME`.
//!
//! Reading the installed data, rather than compiling in a copy of every locale's
//! names (chrono's `unstable-locales`), also keeps start-up small: that copy is
//! 8,500 pointers the dynamic loader relocates, and 40 page faults, on every call.

/// glibc's `LIMAGIC(LC_TIME)`.
const MAGIC: u32 = 0x2003_1115 ^ 2;
const ABDAY: usize = 0;
const DAY: usize = 7;
const ABMON: usize = 14;
const MON: usize = 26;
const AM_STR: usize = 38;
const D_T_FMT: usize = 40;
const D_FMT: usize = 41;
const T_FMT: usize = 42;
const T_FMT_AMPM: usize = 43;

/// A locale's `LC_TIME` strings, as glibc's strftime uses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeNames {
    /// `%a`, Sunday first.
    pub abbreviated_days: [String; 7],
    /// `%A`, Sunday first.
    pub days: [String; 7],
    /// `%b`, January first.
    pub abbreviated_months: [String; 12],
    /// `%B`, January first (genitive where the language has one).
    pub months: [String; 12],
    /// `%p`: before and after noon.
    pub am_pm: [String; 2],
    /// `%c`.
    pub date_time_format: String,
    /// `%x`.
    pub date_format: String,
    /// `%X`.
    pub time_format: String,
    /// `%r` (empty in many locales: glibc then uses `%I:%M:%S %p`).
    pub time_format_am_pm: String,
}

impl TimeNames {
    /// Parse a compiled `LC_TIME` category (a locale's `LC_TIME` file, or its part of
    /// the locale-archive); `None` when it is not one.
    pub fn parse(data: &[u8]) -> Option<TimeNames> {
        let word = |at: usize| {
            data.get(at..at + 4)
                .map(|w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))
        };
        if word(0)? != MAGIC || (word(4)? as usize) <= T_FMT_AMPM {
            return None;
        }
        let item = |n: usize| -> Option<String> {
            let start = word(8 + 4 * n)? as usize;
            let rest = data.get(start..)?;
            let text = rest.split(|&b| b == 0).next()?;
            Some(String::from_utf8_lossy(text).into_owned())
        };
        let items = |first: usize, count: usize| -> Option<Vec<String>> {
            (first..first + count).map(item).collect()
        };
        Some(TimeNames {
            abbreviated_days: items(ABDAY, 7)?.try_into().ok()?,
            days: items(DAY, 7)?.try_into().ok()?,
            abbreviated_months: items(ABMON, 12)?.try_into().ok()?,
            months: items(MON, 12)?.try_into().ok()?,
            am_pm: items(AM_STR, 2)?.try_into().ok()?,
            date_time_format: item(D_T_FMT)?,
            date_format: item(D_FMT)?,
            time_format: item(T_FMT)?,
            time_format_am_pm: item(T_FMT_AMPM)?,
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A compiled `LC_TIME` with these strings as items 0.. (the rest empty).
    pub(in crate::locale) fn lc_time(strings: &[&str]) -> Vec<u8> {
        let count = 60;
        let mut offsets = Vec::new();
        let mut body = Vec::new();
        let start = 8 + 4 * count;
        for n in 0..count {
            offsets.push(start + body.len());
            body.extend_from_slice(strings.get(n).copied().unwrap_or("").as_bytes());
            body.push(0);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC.to_ne_bytes());
        out.extend_from_slice(&(count as u32).to_ne_bytes());
        for o in offsets {
            out.extend_from_slice(&(o as u32).to_ne_bytes());
        }
        out.extend_from_slice(&body);
        out
    }

    pub(in crate::locale) fn french() -> Vec<u8> {
        let mut items = vec!["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."];
        items.extend([
            "dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi",
        ]);
        items.push("samedi");
        items.extend(["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil."]);
        items.extend(["août", "sept.", "oct.", "nov.", "déc."]);
        items.extend([
            "janvier", "février", "mars", "avril", "mai", "juin", "juillet",
        ]);
        items.extend(["août", "septembre", "octobre", "novembre", "décembre"]);
        items.extend(["", "", "%a %d %b %Y %T", "%d/%m/%Y", "%T", ""]);
        lc_time(&items)
    }

    #[test]
    fn the_items_are_read_in_langinfo_order() {
        let names = TimeNames::parse(&french()).expect("an LC_TIME");
        assert_eq!(names.abbreviated_days[0], "dim.");
        assert_eq!(names.days[6], "samedi");
        assert_eq!(names.abbreviated_months[11], "déc.");
        assert_eq!(names.months[1], "février");
        assert_eq!(names.date_time_format, "%a %d %b %Y %T");
        assert_eq!(names.time_format_am_pm, "");
        assert!(TimeNames::parse(b"").is_none());
        assert!(TimeNames::parse(&french()[..100]).is_none());
        let mut other = french();
        other[0] ^= 1;
        assert!(TimeNames::parse(&other).is_none(), "another category");
    }
}
