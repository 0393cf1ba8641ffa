//! The user's locale for the log time, as msmtp gets it: msmtp calls
//! `setlocale(LC_ALL, "")` and formats `logfile_time_format` with strftime, so a French
//! admin's log says `déc. 21 16:03:07` and their `grep "$(date +%b)"` finds it.
//!
//! The locale is `LC_ALL`, else `LC_TIME`, else `LANG`, and only when glibc has it
//! installed ([`rsmtp_core::locale`]); the month and day names come from chrono's copy
//! of glibc's locale data. The line's field names and values never change.

/// The locale whose names the log time uses, or `None` for C/POSIX.
pub fn time_locale() -> Option<chrono::Locale> {
    let language = rsmtp_core::locale::for_category("LC_TIME")?;
    chrono::Locale::try_from(language.as_str()).ok()
}
