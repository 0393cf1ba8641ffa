//! What `--serverinfo` shows about the server certificate: subject, issuer,
//! validity and fingerprints. A small DER walk over the X.509 TBSCertificate
//! (RFC 5280 §4.1) is all that needs; we don't bring in a full X.509 parser
//! for four fields. Anything unparsable shows as "unknown".

use std::fmt;

use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Printable facts about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject distinguished name, RFC 4514 style (`CN=…,O=…`).
    pub subject: String,
    /// Issuer distinguished name (the CA that signed it), same style as
    /// `subject`; equal to it for a self-signed certificate.
    pub issuer: String,
    /// `notBefore`, as `YYYY-MM-DD HH:MM:SS UTC`.
    pub not_before: String,
    /// `notAfter`, same format.
    pub not_after: String,
    /// SHA-256 of the whole DER certificate (32 bytes): what a SHA-256
    /// `tls_fingerprint` pins.
    pub sha256: [u8; 32],
    /// SHA-1 of the whole DER certificate (20 bytes), shown because older
    /// msmtprc files pin it; SHA-1 is deprecated, prefer `sha256`.
    pub sha1: [u8; 20],
}

impl CertInfo {
    /// Reads the certificate `der`.
    pub fn from_der(der: &[u8]) -> CertInfo {
        let parsed = parse_tbs(der);
        let unknown = || "unknown".to_owned();
        let (subject, issuer, not_before, not_after) = match parsed {
            Some(p) => (p.subject, p.issuer, p.not_before, p.not_after),
            None => (unknown(), unknown(), unknown(), unknown()),
        };
        CertInfo {
            subject,
            issuer,
            not_before,
            not_after,
            sha256: Sha256::digest(der).into(),
            sha1: Sha1::digest(der).into(),
        }
    }

    /// SHA-256 fingerprint as `AA:BB:…` (the form `tls_fingerprint` takes).
    pub fn sha256_hex(&self) -> String {
        hex_colon(&self.sha256)
    }

    /// SHA-1 fingerprint as `AA:BB:…` (the deprecated `tls_fingerprint` form,
    /// printed as "SHA1 (deprecated)").
    pub fn sha1_hex(&self) -> String {
        hex_colon(&self.sha1)
    }
}

impl fmt::Display for CertInfo {
    /// msmtp's "TLS certificate information" block.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "TLS certificate information:")?;
        writeln!(f, "    Subject:\n        {}", self.subject)?;
        writeln!(f, "    Issuer:\n        {}", self.issuer)?;
        writeln!(f, "    Validity:")?;
        writeln!(f, "        Activation time: {}", self.not_before)?;
        writeln!(f, "        Expiration time: {}", self.not_after)?;
        writeln!(f, "    Fingerprints:")?;
        writeln!(f, "        SHA256: {}", self.sha256_hex())?;
        writeln!(f, "        SHA1 (deprecated): {}", self.sha1_hex())
    }
}

/// `AA:BB:CC` upper-case hex.
pub(crate) fn hex_colon(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

struct Parsed {
    subject: String,
    issuer: String,
    not_before: String,
    not_after: String,
}

/// One DER element: tag, contents, and what follows it.
fn tlv(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// RFC 5929 §4.1 `tls-server-end-point`: the certificate hashed with the hash of
/// its own signature algorithm, SHA-256 for MD5 and SHA-1. `None` for an algorithm
/// without one (Ed25519: RFC 5929 defines nothing for it) or an unreadable certificate.
pub(crate) fn server_end_point(der: &[u8]) -> Option<Vec<u8>> {
    use sha2::{Digest, Sha256, Sha384, Sha512};
    let (tag, cert, _) = tlv(der)?;
    if tag != SEQUENCE {
        return None;
    }
    let (_, _tbs, rest) = tlv(cert)?;
    let (tag, algorithm, _) = tlv(rest)?;
    let (oid_tag, oid, _) = tlv(algorithm)?;
    if tag != SEQUENCE || oid_tag != 0x06 {
        return None;
    }
    // 1.2.840.113549.1.1.n (RSA; 4 md5, 5 sha1, 11 sha256, 12 sha384, 13 sha512,
    // 10 PSS: its hash is in the parameters, SHA-256 assumed) and
    // 1.2.840.10045.4.{1, 3.2, 3.3, 3.4} (ECDSA with SHA-1, -256, -384, -512).
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    const ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];
    let hash = match oid {
        [rsa @ .., n] if rsa == RSA => match n {
            12 => 384,
            13 => 512,
            4 | 5 | 10 | 11 | 14 => 256,
            _ => return None,
        },
        [ecdsa @ .., 1] if ecdsa == ECDSA => 256,
        [ecdsa @ .., 3, n] if ecdsa == ECDSA => match n {
            2 => 256,
            3 => 384,
            4 => 512,
            _ => return None,
        },
        _ => return None,
    };
    Some(match hash {
        384 => Sha384::digest(der).to_vec(),
        512 => Sha512::digest(der).to_vec(),
        _ => Sha256::digest(der).to_vec(),
    })
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;

fn parse_tbs(der: &[u8]) -> Option<Parsed> {
    let (tag, cert, _) = tlv(der)?;
    if tag != SEQUENCE {
        return None;
    }
    let (tag, tbs, _) = tlv(cert)?;
    if tag != SEQUENCE {
        return None;
    }
    let mut rest = tbs;
    // Optional explicit [0] version.
    if rest.first() == Some(&0xa0) {
        rest = tlv(rest)?.2;
    }
    let (_serial, _, r) = tlv(rest)?;
    let (_sig_alg, _, r) = tlv(r)?;
    let (_, issuer, r) = tlv(r)?;
    let (_, validity, r) = tlv(r)?;
    let (_, subject, _) = tlv(r)?;
    let (t1, nb, vr) = tlv(validity)?;
    let (t2, na, _) = tlv(vr)?;
    Some(Parsed {
        subject: name(subject),
        issuer: name(issuer),
        not_before: time(t1, nb),
        not_after: time(t2, na),
    })
}

/// A Name (SEQUENCE OF RDN), most specific first as RFC 4514 writes it.
fn name(mut seq: &[u8]) -> String {
    let mut parts = Vec::new();
    while let Some((tag, set, rest)) = tlv(seq) {
        seq = rest;
        if tag != SET {
            continue;
        }
        let mut set = set;
        while let Some((_, atv, rest)) = tlv(set) {
            set = rest;
            if let Some((0x06, oid, value)) = tlv(atv) {
                if let Some((vtag, v, _)) = tlv(value) {
                    parts.push(format!("{}={}", oid_name(oid), string_value(vtag, v)));
                }
            }
        }
    }
    parts.reverse();
    if parts.is_empty() {
        "unknown".to_owned()
    } else {
        parts.join(",")
    }
}

fn oid_name(oid: &[u8]) -> String {
    match oid {
        [0x55, 0x04, 0x03] => "CN".into(),
        [0x55, 0x04, 0x06] => "C".into(),
        [0x55, 0x04, 0x07] => "L".into(),
        [0x55, 0x04, 0x08] => "ST".into(),
        [0x55, 0x04, 0x0a] => "O".into(),
        [0x55, 0x04, 0x0b] => "OU".into(),
        [0x55, 0x04, 0x05] => "serialNumber".into(),
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "EMAIL".into(),
        _ => dotted(oid),
    }
}

fn dotted(oid: &[u8]) -> String {
    let Some((&first, rest)) = oid.split_first() else {
        return "?".into();
    };
    let mut parts = vec![(first / 40).to_string(), (first % 40).to_string()];
    let mut acc: u64 = 0;
    for &b in rest {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            parts.push(acc.to_string());
            acc = 0;
        }
    }
    parts.join(".")
}

fn string_value(tag: u8, v: &[u8]) -> String {
    match tag {
        // BMPString: UTF-16BE.
        0x1e => {
            let units: Vec<u16> = v
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::from_utf8_lossy(v).into_owned(),
    }
}

/// Seconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC`, the form of
/// [`CertInfo::not_before`] (proleptic Gregorian calendar, days to civil date
/// by eras of 400 years).
pub(crate) fn utc_text(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    // Shift the epoch to 0000-03-01 so that leap days end a year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// UTCTime (0x17, `YYMMDDHHMMSSZ`) or GeneralizedTime (0x18, `YYYYMMDDHHMMSSZ`).
fn time(tag: u8, v: &[u8]) -> String {
    let digits = |n: usize| v.len() >= n && v[..n].iter().all(u8::is_ascii_digit);
    let full = match tag {
        0x17 if digits(12) => {
            let century = if v[0] >= b'5' { "19" } else { "20" };
            format!("{century}{}", String::from_utf8_lossy(&v[..12]))
        }
        0x18 if digits(14) => String::from_utf8_lossy(&v[..14]).into_owned(),
        _ => return "unknown".into(),
    };
    format!(
        "{}-{}-{} {}:{}:{} UTC",
        &full[..4],
        &full[4..6],
        &full[6..8],
        &full[8..10],
        &full[10..12],
        &full[12..14]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_rcgen_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["mail.example.org".into()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "mail.example.org");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example Org");
        params.not_before = rcgen::date_time_ymd(2024, 1, 2);
        params.not_after = rcgen::date_time_ymd(2051, 3, 4);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let info = CertInfo::from_der(cert.der());
        assert_eq!(info.subject, "O=Example Org,CN=mail.example.org");
        assert_eq!(info.issuer, info.subject);
        assert_eq!(info.not_before, "2024-01-02 00:00:00 UTC");
        assert_eq!(info.not_after, "2051-03-04 00:00:00 UTC");
        assert_eq!(info.sha256_hex().len(), 32 * 3 - 1);
        let shown = info.to_string();
        assert!(shown.contains("    Subject:\n        O=Example Org,CN=mail.example.org\n"));
        assert!(shown.contains("SHA256: "));
    }

    #[test]
    fn unix_seconds_as_utc_text() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_text(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_text(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc_text(4_102_444_799), "2099-12-31 23:59:59 UTC");
    }

    /// RFC 5929 §4.1: the certificate's own signature hash, SHA-256 in place of
    /// MD5/SHA-1, nothing for Ed25519.
    #[test]
    fn server_end_point_follows_the_signature_algorithm() {
        use sha2::{Digest, Sha256, Sha384, Sha512};
        // Certificate ::= SEQUENCE { tbs SEQUENCE {}, AlgorithmIdentifier { OID } }.
        let cert = |oid: &[u8]| {
            let mut alg = vec![0x30, oid.len() as u8 + 2, 0x06, oid.len() as u8];
            alg.extend_from_slice(oid);
            let mut body = vec![0x30, 0x00];
            body.extend_from_slice(&alg);
            let mut der = vec![0x30, body.len() as u8];
            der.extend_from_slice(&body);
            der
        };
        let rsa = |n: u8| cert(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, n]);
        let ecdsa = |tail: &[u8]| {
            let mut oid = vec![0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];
            oid.extend_from_slice(tail);
            cert(&oid)
        };
        for der in [rsa(5), rsa(11), ecdsa(&[1]), ecdsa(&[3, 2])] {
            assert_eq!(server_end_point(&der), Some(Sha256::digest(&der).to_vec()));
        }
        for der in [rsa(12), ecdsa(&[3, 3])] {
            assert_eq!(server_end_point(&der), Some(Sha384::digest(&der).to_vec()));
        }
        for der in [rsa(13), ecdsa(&[3, 4])] {
            assert_eq!(server_end_point(&der), Some(Sha512::digest(&der).to_vec()));
        }
        assert_eq!(
            server_end_point(&cert(&[0x2b, 0x65, 0x70])),
            None,
            "Ed25519"
        );
        assert_eq!(server_end_point(b"garbage"), None);
    }

    #[test]
    fn garbage_is_unknown_not_a_panic() {
        for der in [
            &b""[..],
            b"\x30",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x03\x30\x01\x00",
        ] {
            let info = CertInfo::from_der(der);
            assert_eq!(info.subject, "unknown");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(hex_colon(&[0xab, 0x01]), "AB:01");
        assert_eq!(
            dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]),
            "1.2.840.113549"
        );
        assert_eq!(time(0x17, b"991231235959Z"), "1999-12-31 23:59:59 UTC");
        assert_eq!(time(0x18, b"20500101000000Z"), "2050-01-01 00:00:00 UTC");
        assert_eq!(time(0x17, b"bad"), "unknown");
    }
}
