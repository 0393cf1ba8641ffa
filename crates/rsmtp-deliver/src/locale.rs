//! The user's locale for the log time, as msmtp gets it: msmtp calls
//! `setlocale(LC_ALL, "")` and formats `logfile_time_format` with strftime, so a French
//! admin's log says `déc. 21 16:03:07` and their `grep "$(date +%b)"` finds it.
//!
//! The locale is `LC_ALL`, else `LC_TIME`, else `LANG`, and only when glibc has it
//! installed; the names and formats are glibc's own, read from the installed locale
//! ([`rsmtp_core::locale::time_names`]), and put into the format before chrono writes
//! the numbers. The line's field names and values never change.

use chrono::{Datelike, Timelike};
use rsmtp_core::locale::TimeNames;

/// The `LC_TIME` names the log time uses, or `None` for C/POSIX.
pub fn time_names() -> Option<TimeNames> {
    rsmtp_core::locale::time_names()
}

/// `format` with what glibc's strftime takes from the locale written in (`%a %A %b %h
/// %B %p %P`, and `%c %x %X %r` expanded to the locale's own formats), for chrono to
/// write the rest. Anything else is left as it is.
pub fn localize(format: &str, names: &TimeNames, when: &(impl Datelike + Timelike)) -> String {
    expand(format, names, when, 0)
}

fn expand(format: &str, names: &TimeNames, when: &(impl Datelike + Timelike), depth: u8) -> String {
    let literal = |s: &str| s.replace('%', "%%");
    let day = when.weekday().num_days_from_sunday() as usize;
    let month = when.month0() as usize;
    let am_pm = &names.am_pm[usize::from(when.hour() >= 12)];
    let mut out = String::with_capacity(format.len() + 16);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            out.push('%');
            break;
        };
        let nested = |f: &str| {
            if depth < 2 {
                expand(f, names, when, depth + 1)
            } else {
                literal(f)
            }
        };
        match spec {
            'a' => out.push_str(&literal(&names.abbreviated_days[day])),
            'A' => out.push_str(&literal(&names.days[day])),
            'b' | 'h' => out.push_str(&literal(&names.abbreviated_months[month])),
            'B' => out.push_str(&literal(&names.months[month])),
            'p' => out.push_str(&literal(am_pm)),
            'P' => out.push_str(&literal(&am_pm.to_lowercase())),
            'c' => out.push_str(&nested(&names.date_time_format)),
            'x' => out.push_str(&nested(&names.date_format)),
            'X' => out.push_str(&nested(&names.time_format)),
            // glibc's fallback when the locale has no 12-hour format.
            'r' if names.time_format_am_pm.is_empty() => out.push_str(&nested("%I:%M:%S %p")),
            'r' => out.push_str(&nested(&names.time_format_am_pm)),
            other => {
                out.push('%');
                out.push(other);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn french() -> TimeNames {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        TimeNames {
            abbreviated_days: s(&["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."])
                .try_into()
                .expect("7"),
            days: s(&[
                "dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
            ])
            .try_into()
            .expect("7"),
            abbreviated_months: s(&[
                "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
                "nov.", "déc.",
            ])
            .try_into()
            .expect("12"),
            months: s(&[
                "janvier",
                "février",
                "mars",
                "avril",
                "mai",
                "juin",
                "juillet",
                "août",
                "septembre",
                "octobre",
                "novembre",
                "100%",
            ])
            .try_into()
            .expect("12"),
            am_pm: [String::new(), String::new()],
            date_time_format: "%a %d %b %Y %T".into(),
            date_format: "%d/%m/%Y".into(),
            time_format: "%T".into(),
            time_format_am_pm: String::new(),
        }
    }

    #[test]
    fn the_locale_names_and_formats_are_put_in_as_glibc_does() {
        let when = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .and_then(|d| d.and_hms_opt(15, 4, 5))
            .expect("a date");
        let names = french();
        let shown = |f: &str| when.format(&localize(f, &names, &when)).to_string();
        assert_eq!(shown("%b %d %H:%M:%S"), "déc. 07 15:04:05");
        assert_eq!(shown("%a|%A|%h|%B|%%b"), "lun.|lundi|déc.|100%|%b");
        assert_eq!(shown("%c"), "lun. 07 déc. 2026 15:04:05");
        assert_eq!(shown("%x %X"), "07/12/2026 15:04:05");
        assert_eq!(shown("[%r]"), "[03:04:05 ]");
        assert_eq!(shown("%-d %e %Y"), "7  7 2026");
    }
}
