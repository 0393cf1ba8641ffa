//! Durations (`26h`, `90m`, `1h30m`, `2d`) and sizes (`1M`, `500K`, `2GiB`) as people type
//! them on a cron line, and durations written back for a human.
//!
//! Sizes use binary multiples (1K = 1024 bytes), as `du -h` and `find -size` do.

use std::time::Duration;

/// Parse a duration (`26h`, `1h30m`, `45`): the one parser, shared with the msmtprc's
/// `queue_expire`; the error says what to type instead.
pub(crate) use rsmtp_config::read_duration as parse_duration;

/// Parse a size: a number with an optional `K`, `M`, `G` or `T` suffix (binary multiples),
/// optionally followed by `B` or `iB`.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let s = text.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size `{text}` (use e.g. 500K, 1M, 2G)"))?;
    let suffix = suffix.trim().to_ascii_lowercase();
    let shift = match suffix.as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(format!("invalid size `{text}` (use e.g. 500K, 1M, 2G)")),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("size `{text}` is too large"))
}

/// A duration for a human: `850ms`, `12.3s`, `4m 05s`, `2h 03m`, `3d 04h`.
pub(crate) fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 1 {
        format!("{}ms", d.as_millis())
    } else if secs < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else if secs < 86_400 {
        format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60)
    } else {
        format!("{}d {:02}h", secs / 86_400, (secs % 86_400) / 3600)
    }
}

/// A duration in words, for the reader of an alert, in `language`: `0.3 seconds`,
/// `12 seconds`, `4 minutes 5 seconds`, `2 hours 3 minutes`, `3 days 4 hours` (the two
/// largest units); `fr`: `2 minutes 5 secondes`, `ja`: `2分5秒`, from the catalogs.
pub(crate) fn duration_words_in(language: &str, d: Duration) -> String {
    use rsmtp_core::{tr_in, trn_in};
    let l = language;
    let secs = d.as_secs();
    if d < Duration::from_millis(100) {
        return tr_in!(l, "under 0.1 seconds").into_owned();
    }
    if secs < 10 {
        let shown = format!("{:.1}", d.as_secs_f64());
        let count = if shown == "1.0" { 1 } else { 2 };
        return trn_in!(l, "{n} second", "{n} seconds", count, n = shown);
    }
    let units = [86_400, 3600, 60, 1];
    let mut parts = Vec::new();
    let mut rest = secs;
    for size in units {
        let n = rest / size;
        rest %= size;
        if n > 0 || !parts.is_empty() {
            parts.push((n, size));
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, size)| match size {
            86_400 => trn_in!(l, "{n} day", "{n} days", n),
            3600 => trn_in!(l, "{n} hour", "{n} hours", n),
            60 => trn_in!(l, "{n} minute", "{n} minutes", n),
            _ => trn_in!(l, "{n} second", "{n} seconds", n),
        })
        .reduce(|larger, smaller| {
            tr_in!(l, "{larger} {smaller}", larger = larger, smaller = smaller)
        })
        .unwrap_or_default()
}

/// `1 line`, `2 lines`: a count with its noun, singular when it is one.
pub(crate) fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A size for a human, in binary multiples: `512 B`, `1.5 KiB`, `3.0 MiB`.
pub(crate) fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_people_type() {
        assert_eq!(parse_duration("26h"), Ok(Duration::from_secs(26 * 3600)));
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("1w"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration(" 10s "), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2H"), Ok(Duration::from_secs(7200)));
    }

    #[test]
    fn bad_durations_are_refused() {
        for bad in [
            "",
            "h",
            "1x",
            "1h30",
            "-5m",
            "1.5h",
            "99999999999999999999w",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn sizes_are_binary() {
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("500K"), Ok(500 * 1024));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("10"), Ok(10));
        assert_eq!(parse_size("1mb"), Ok(1 << 20));
        assert!(parse_size("1Q").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("-1M").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(format_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(format_duration(Duration::from_millis(12_340)), "12.3s");
        assert_eq!(format_duration(Duration::from_secs(245)), "4m 05s");
        assert_eq!(format_duration(Duration::from_secs(7380)), "2h 03m");
        assert_eq!(format_size(512), "512 B");
        assert_eq!(
            duration_words_in("en", Duration::from_millis(320)),
            "0.3 seconds"
        );
        assert_eq!(
            duration_words_in("en", Duration::from_secs(1)),
            "1.0 second"
        );
        assert_eq!(
            duration_words_in("en", Duration::from_secs(12)),
            "12 seconds"
        );
        assert_eq!(
            duration_words_in("en", Duration::from_secs(245)),
            "4 minutes 5 seconds"
        );
        assert_eq!(duration_words_in("en", Duration::from_secs(3600)), "1 hour");
        assert_eq!(
            duration_words_in("en", Duration::from_secs(7380)),
            "2 hours 3 minutes"
        );
        assert_eq!(
            duration_words_in("en", Duration::from_secs(86_400 + 60)),
            "1 day"
        );
        assert_eq!(
            duration_words_in("en", Duration::from_millis(20)),
            "under 0.1 seconds"
        );
        assert_eq!(plural(1, "line"), "1 line");
        assert_eq!(plural(0, "line"), "0 lines");
        assert_eq!(format_size(1536), "1.5 KiB");
        assert_eq!(format_size(3 << 20), "3.0 MiB");
    }
}
