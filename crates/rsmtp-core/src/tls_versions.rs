//! Which TLS protocol versions a session may use, and msmtp's `tls_priorities`
//! (GnuTLS priority strings) read into that. The config crate checks the
//! string (naming the part rsmtp cannot honour); the TLS layer builds rustls
//! with the versions. rustls offers TLS 1.2 and 1.3 and only AEAD suites with
//! ECDHE, so most of a priority string either already holds or cannot be had.

/// The protocol versions allowed (rustls knows no older ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsVersions {
    /// TLS 1.2 allowed.
    pub tls12: bool,
    /// TLS 1.3 allowed.
    pub tls13: bool,
}

impl Default for TlsVersions {
    fn default() -> Self {
        TlsVersions {
            tls12: true,
            tls13: true,
        }
    }
}

/// A part of a priority string that cannot be honoured, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityError {
    /// The part of the string, as written.
    pub part: String,
    /// Why rustls cannot honour it.
    pub why: String,
}

/// Algorithms rustls never offers: removing them changes nothing, asking
/// for them cannot be honoured.
const ABSENT: &[&str] = &[
    "ARCFOUR",
    "3DES",
    "CBC",
    "CAMELLIA",
    "DHE-",
    "RSA-PSK",
    "DHE",
    "MD5",
    "NULL",
    "ANON",
    "SRP",
    "PSK",
    "GOST",
    "SSL3",
    "TLS1.0",
    "TLS1.1",
    "DTLS",
    "COMP-DEFLATE",
    "RSA",
    "SHA1",
    "DSA",
    "AES-128-CCM",
    "AES-256-CCM",
    "AES-128-CCM-8",
    "AES-256-CCM-8",
];

/// What rustls has (with the ring provider): asking for it changes nothing.
const PRESENT: &[&str] = &[
    "AES-128-GCM",
    "AES-256-GCM",
    "CHACHA20-POLY1305",
    "AEAD",
    "ECDHE-RSA",
    "ECDHE-ECDSA",
    "SHA256",
    "SHA384",
    "SIGN-",
    "GROUP-",
    "CURVE-",
    "COMP-NULL",
    "CTYPE-",
    "ECDHE",
    "CIPHER-ALL",
    "MAC-ALL",
    "KX-ALL",
    "SIGN-ALL",
    "GROUP-ALL",
    "CURVE-ALL",
    "COMP-ALL",
    "CTYPE-ALL",
];

/// Base keywords (the first element): each allows TLS 1.2 and 1.3 here.
const KEYWORDS: &[&str] = &[
    "NORMAL",
    "PFS",
    "SECURE128",
    "SECURE192",
    "SECURE256",
    "SECURE",
    "PERFORMANCE",
    "SYSTEM",
    "@SYSTEM",
    "LEGACY",
    "SUITEB128",
    "SUITEB192",
];

/// `%FLAG`s that only tune compatibility; rustls' fixed behaviour is fine for them.
const HARMLESS_FLAGS: &[&str] = &[
    "COMPAT",
    "DUMBFW",
    "NO_EXTENSIONS",
    "NO_TICKETS",
    "NO_TICKETS_TLS12",
    "SERVER_PRECEDENCE",
    "SAFE_RENEGOTIATION",
    "PARTIAL_RENEGOTIATION",
    "LATEST_RECORD_VERSION",
    "SSL3_RECORD_VERSION",
    "NO_ETM",
    "FORCE_ETM",
    "NO_SESSION_HASH",
    "FORCE_SESSION_HASH",
    "STATELESS_COMPRESSION",
    "NO_STATUS_REQUEST",
    "NO_SHUFFLE_EXTENSIONS",
];

fn matches_any(name: &str, list: &[&str]) -> bool {
    list.iter().any(|p| {
        if p.ends_with('-') {
            name.starts_with(p)
        } else {
            name == *p || name.starts_with(&format!("{p}-")) || name.ends_with(&format!("-{p}"))
        }
    })
}

/// Reads a GnuTLS priority string (`NORMAL:-VERS-TLS1.2`, `SECURE256:+VERS-TLS1.3`,
/// `NONE:+VERS-TLS1.3:+AES-256-GCM`, `%COMPAT`, …).
pub fn parse_tls_priorities(s: &str) -> Result<TlsVersions, PriorityError> {
    let refuse = |part: &str, why: &str| PriorityError {
        part: part.to_owned(),
        why: why.to_owned(),
    };
    let mut v = TlsVersions::default();
    for (i, part) in s.split(':').map(str::trim).enumerate() {
        if part.is_empty() {
            continue;
        }
        let upper = part.to_ascii_uppercase();
        if i == 0 && upper == "NONE" {
            v = TlsVersions {
                tls12: false,
                tls13: false,
            };
            continue;
        }
        if i == 0 && KEYWORDS.contains(&upper.as_str()) {
            continue;
        }
        if let Some(flag) = upper.strip_prefix('%') {
            if HARMLESS_FLAGS.contains(&flag) || flag.starts_with("PROFILE_") {
                continue;
            }
            return Err(refuse(
                part,
                "rustls always verifies certificates fully and cannot relax or tune that",
            ));
        }
        let (add, name) = match upper.as_bytes().first() {
            Some(b'+') => (true, &upper[1..]),
            Some(b'-' | b'!') => (false, &upper[1..]),
            _ => {
                return Err(refuse(
                    part,
                    "it is not a GnuTLS priority keyword or +/-/!/% element",
                ))
            }
        };
        if let Some(version) = name.strip_prefix("VERS-") {
            match version {
                "TLS1.2" => v.tls12 = add,
                "TLS1.3" => v.tls13 = add,
                "ALL" | "TLS-ALL" => {
                    v.tls12 = add;
                    v.tls13 = add;
                }
                "SSL3.0" | "TLS1.0" | "TLS1.1" | "DTLS0.9" | "DTLS1.0" | "DTLS1.2" | "DTLS-ALL" => {
                    if add {
                        return Err(refuse(part, "rustls speaks only TLS 1.2 and TLS 1.3"));
                    }
                }
                _ => return Err(refuse(part, "unknown protocol version")),
            }
            continue;
        }
        // What rustls has is looked up first: `ECDHE-RSA` is present although
        // `RSA` key exchange is not.
        let present = matches_any(name, PRESENT);
        match (add, present, !present && matches_any(name, ABSENT)) {
            // Asking for what rustls has, or removing what it never offers.
            (true, true, _) | (false, false, true) => {}
            (true, false, true) => {
                return Err(refuse(part, "rustls does not offer this legacy algorithm"));
            }
            (false, true, _) => {
                return Err(refuse(
                    part,
                    "rsmtp cannot remove single algorithms from rustls' set (only protocol versions)",
                ));
            }
            (_, false, false) => return Err(refuse(part, "unknown priority element")),
        }
    }
    if !v.tls12 && !v.tls13 {
        return Err(refuse(
            s,
            "it leaves no protocol version rustls can use (TLS 1.2 or 1.3)",
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: TlsVersions = TlsVersions {
        tls12: true,
        tls13: true,
    };
    const ONLY13: TlsVersions = TlsVersions {
        tls12: false,
        tls13: true,
    };

    #[test]
    fn common_strings() {
        for s in [
            "NORMAL",
            "SECURE128",
            "SECURE256",
            "PFS",
            "NORMAL:%COMPAT",
            "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1",
            "SECURE256:+VERS-TLS1.3",
            "NORMAL:-VERS-SSL3.0:-ARCFOUR-128:-3DES-CBC:-MD5",
            "NORMAL:+AES-256-GCM:+ECDHE-RSA:+SIGN-ALL:+COMP-NULL",
        ] {
            assert_eq!(parse_tls_priorities(s), Ok(BOTH), "{s}");
        }
        for s in [
            "-VERS-ALL:+VERS-TLS1.3",
            "NORMAL:-VERS-ALL:+VERS-TLS1.3",
            "NORMAL:-VERS-TLS1.2",
            "NONE:+VERS-TLS1.3:+AES-256-GCM",
            "SECURE256:!VERS-TLS1.2",
        ] {
            assert_eq!(parse_tls_priorities(s), Ok(ONLY13), "{s}");
        }
        assert_eq!(
            parse_tls_priorities("NORMAL:-VERS-TLS1.3"),
            Ok(TlsVersions {
                tls12: true,
                tls13: false
            })
        );
    }

    #[test]
    fn what_cannot_be_honoured_is_named() {
        for (s, part) in [
            ("NORMAL:+VERS-TLS1.0", "+VERS-TLS1.0"),
            ("NORMAL:+ARCFOUR-128", "+ARCFOUR-128"),
            ("NORMAL:-AES-128-GCM", "-AES-128-GCM"),
            (
                "NORMAL:%VERIFY_ALLOW_SIGN_WITH_SHA1",
                "%VERIFY_ALLOW_SIGN_WITH_SHA1",
            ),
            ("NORMAL:+FROBNICATE", "+FROBNICATE"),
            ("NORMAL:-VERS-ALL", "NORMAL:-VERS-ALL"),
            ("-VERS-ALL:+VERS-TLS1.1", "+VERS-TLS1.1"),
        ] {
            let e = parse_tls_priorities(s).expect_err(s);
            assert_eq!(e.part, part, "{s}: {}", e.why);
        }
    }
}
