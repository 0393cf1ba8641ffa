//! `tls_fingerprint`: a pinned server certificate, as the digest of its DER bytes.
//! One type for the config file's value and the TLS verifier that checks it.

use std::fmt;

/// The server certificate's digest; the length decides the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fingerprint {
    /// SHA-256 (the recommended form).
    Sha256([u8; 32]),
    /// SHA-1 (legacy).
    Sha1([u8; 20]),
    /// MD5 (legacy).
    Md5([u8; 16]),
}

impl Fingerprint {
    /// Parses msmtp's format, hex byte pairs separated by `:` or a space, any case
    /// (`AB:CD:…`, what `openssl x509 -fingerprint` prints); the pairs may also be
    /// written without separators. 32 bytes are SHA-256, 20 SHA-1, 16 MD5.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let separated = b.len() % 3 == 2;
        let n = if separated { (b.len() + 1) / 3 } else { b.len() / 2 };
        if !separated && !b.len().is_multiple_of(2) {
            return None;
        }
        let step = if separated { 3 } else { 2 };
        let mut bytes = Vec::with_capacity(n);
        for i in 0..n {
            let hi = char::from(b[step * i]).to_digit(16)?;
            let lo = char::from(b[step * i + 1]).to_digit(16)?;
            if separated && i < n - 1 && !matches!(b[step * i + 2], b':' | b' ') {
                return None;
            }
            bytes.push(u8::try_from(hi * 16 + lo).ok()?);
        }
        match n {
            32 => bytes.try_into().ok().map(Fingerprint::Sha256),
            20 => bytes.try_into().ok().map(Fingerprint::Sha1),
            16 => bytes.try_into().ok().map(Fingerprint::Md5),
            _ => None,
        }
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Fingerprint::Sha256(b) => b,
            Fingerprint::Sha1(b) => b,
            Fingerprint::Md5(b) => b,
        }
    }
}

impl fmt::Display for Fingerprint {
    /// `AB:CD:…`, as msmtp prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msmtps_form_and_bare_hex() {
        let sha1 = "ab:CD:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01";
        let fp = Fingerprint::parse(sha1).expect("sha1");
        assert!(matches!(fp, Fingerprint::Sha1(_)));
        assert_eq!(fp.to_string(), sha1.to_ascii_uppercase());
        assert_eq!(Fingerprint::parse(&sha1.replace(':', "")), Some(fp));
        let md5 = "ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 89";
        assert!(matches!(Fingerprint::parse(md5), Some(Fingerprint::Md5(_))));
        assert_eq!(
            Fingerprint::parse(&["00"; 32].join(":")),
            Some(Fingerprint::Sha256([0; 32]))
        );
        for bad in ["ab:cd", "", "a", "abc", "ab:c:d"] {
            assert_eq!(Fingerprint::parse(bad), None, "{bad}");
        }
        assert_eq!(Fingerprint::parse(&sha1.replace(':', "-")), None);
        assert_eq!(Fingerprint::parse(&sha1.replacen('a', "g", 1)), None);
        assert_eq!(Fingerprint::parse("é:é"), None);
    }
}
