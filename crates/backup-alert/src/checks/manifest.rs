//! Checksum manifests for `check --verify`: the files `sha256sum`, `sha512sum` and
//! `md5sum` write (`HEX  NAME`, or `HEX *NAME` in binary mode), bare CRC32 lists in the
//! same layout (8 hex digits), and SFV (`NAME HEX`, `;` comments) as older CRC32 tools
//! write it. The algorithm follows from the length of the hex digest.
//!
//! Without `--manifest`, a file next to the archive named after it is used when there is
//! one: `NAME.sha256`, `NAME.sha256sum`, `NAME.sha512`, `NAME.md5`, `NAME.md5sum`,
//! `NAME.crc32`, `NAME.sfv`. Those same endings are never "the newest backup" themselves
//! (the manifest is usually written just after the archive).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use md5::Digest;
use rsmtp_core::tr_in;

use crate::lang::Language;

/// File endings of checksum manifests that sit next to an archive.
pub(crate) const SIDECAR_ENDINGS: &[&str] = &[
    ".sha256",
    ".sha256sum",
    ".sha512",
    ".sha512sum",
    ".md5",
    ".md5sum",
    ".crc32",
    ".sfv",
];

/// Names of whole-directory checksum lists (`sha256sum * > SHA256SUMS`), any case.
pub(crate) const MANIFEST_NAMES: &[&str] = &[
    "sha256sums",
    "sha512sums",
    "md5sums",
    "sha1sums",
    "checksums",
    "checksums.txt",
];

/// Is this file a checksum manifest by its name (`NAME.sha256`, `SHA256SUMS`, …)?
pub(crate) fn is_sidecar(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    SIDECAR_ENDINGS.iter().any(|e| name.ends_with(e)) || MANIFEST_NAMES.contains(&name.as_str())
}

/// The manifest next to `archive`, if there is one.
pub(crate) fn sidecar_for(archive: &Path) -> Option<PathBuf> {
    let name = archive.file_name()?.to_os_string();
    SIDECAR_ENDINGS.iter().find_map(|ending| {
        let mut n = name.clone();
        n.push(ending);
        let p = archive.with_file_name(n);
        p.is_file().then_some(p)
    })
}

/// Digest algorithms a manifest line can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Crc32,
    Md5,
    Sha256,
    Sha512,
}

impl Algorithm {
    fn from_hex_len(n: usize) -> Option<Algorithm> {
        match n {
            8 => Some(Algorithm::Crc32),
            32 => Some(Algorithm::Md5),
            64 => Some(Algorithm::Sha256),
            128 => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha512 => "SHA-512",
        }
    }
}

/// One `digest name` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) algorithm: Algorithm,
    /// Lowercase hex.
    pub(crate) digest: String,
    pub(crate) name: String,
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parse one manifest line; `None` for blank lines, comments and anything unrecognised.
pub(crate) fn parse_line(line: &str) -> Option<Line> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() || line.starts_with(';') || line.starts_with('#') {
        return None;
    }
    // sha256sum: `HEX  NAME` (text mode) or `HEX *NAME` (binary mode).
    if let Some((hex, rest)) = line.split_once(' ') {
        if let Some(algorithm) = Algorithm::from_hex_len(hex.len()).filter(|_| is_hex(hex)) {
            let name = rest.strip_prefix([' ', '*']).unwrap_or(rest);
            if !name.is_empty() {
                return Some(Line {
                    algorithm,
                    digest: hex.to_ascii_lowercase(),
                    name: name.to_string(),
                });
            }
        }
    }
    // SFV: `NAME HEX8`.
    let (name, hex) = line.rsplit_once(' ')?;
    (hex.len() == 8 && is_hex(hex) && !name.trim().is_empty()).then(|| Line {
        algorithm: Algorithm::Crc32,
        digest: hex.to_ascii_lowercase(),
        name: name.trim().to_string(),
    })
}

/// What checking a file against a manifest found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Match {
        algorithm: Algorithm,
    },
    Mismatch {
        algorithm: Algorithm,
        expected: String,
        actual: String,
    },
    /// The manifest has no line for the file.
    NotListed,
}

/// Why the check could not be made.
#[derive(Debug)]
pub(crate) enum ManifestError {
    Manifest { path: PathBuf, source: io::Error },
    File { path: PathBuf, source: io::Error },
}

impl ManifestError {
    /// `cannot read the manifest PATH: REASON`, in `lang`.
    pub(crate) fn describe(&self, lang: Language) -> String {
        match self {
            ManifestError::Manifest { path, source } => tr_in!(
                lang,
                "cannot read the manifest {path}: {error}",
                path = path.display(),
                error = rsmtp_core::strerror_in(source, lang.code())
            ),
            ManifestError::File { path, source } => tr_in!(
                lang,
                "cannot read {path}: {error}",
                path = path.display(),
                error = rsmtp_core::strerror_in(source, lang.code())
            ),
        }
    }
}

/// Check `file` against the line of `manifest` that names it (by the name as written,
/// else by its last path component, as `sha256sum -c` run in the archive's directory
/// would find it).
pub(crate) fn check(manifest: &Path, file: &Path) -> Result<Verdict, ManifestError> {
    let text = std::fs::read(manifest).map_err(|source| ManifestError::Manifest {
        path: manifest.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&text);
    let base = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lines: Vec<Line> = text.lines().filter_map(parse_line).collect();
    let listed = lines
        .iter()
        .find(|l| Path::new(&l.name) == file)
        .or_else(|| {
            lines.iter().find(|l| {
                Path::new(&l.name)
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy() == base)
            })
        });
    let Some(line) = listed else {
        return Ok(Verdict::NotListed);
    };
    let actual = digest(line.algorithm, file).map_err(|source| ManifestError::File {
        path: file.to_path_buf(),
        source,
    })?;
    Ok(if actual == line.digest {
        Verdict::Match {
            algorithm: line.algorithm,
        }
    } else {
        Verdict::Mismatch {
            algorithm: line.algorithm,
            expected: line.digest.clone(),
            actual,
        }
    })
}

/// The file's digest as lowercase hex.
pub(crate) fn digest(algorithm: Algorithm, path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut crc = crc32fast::Hasher::new();
    let mut md5 = md5::Md5::new();
    let mut sha256 = sha2::Sha256::new();
    let mut sha512 = sha2::Sha512::new();
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        match algorithm {
            Algorithm::Crc32 => crc.update(chunk),
            Algorithm::Md5 => md5.update(chunk),
            Algorithm::Sha256 => sha256.update(chunk),
            Algorithm::Sha512 => sha512.update(chunk),
        }
    }
    Ok(match algorithm {
        Algorithm::Crc32 => format!("{:08x}", crc.finalize()),
        Algorithm::Md5 => hex(&md5.finalize()),
        Algorithm::Sha256 => hex(&sha256.finalize()),
        Algorithm::Sha512 => hex(&sha512.finalize()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_layouts() {
        let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let l = parse_line(&format!("{sha}  db.tar.gz")).unwrap();
        assert_eq!(
            (l.algorithm, l.name.as_str()),
            (Algorithm::Sha256, "db.tar.gz")
        );
        let l = parse_line(&format!("{sha} *sub/db file.tar.gz")).unwrap();
        assert_eq!(l.name, "sub/db file.tar.gz");
        let l = parse_line("D41D8CD98F00B204E9800998ECF8427E  x").unwrap();
        assert_eq!(
            (l.algorithm, l.digest.as_str()),
            (Algorithm::Md5, "d41d8cd98f00b204e9800998ecf8427e")
        );
        let l = parse_line("backup 2026.tar.gz 1A2B3C4D").unwrap();
        assert_eq!(
            (l.algorithm, l.name.as_str(), l.digest.as_str()),
            (Algorithm::Crc32, "backup 2026.tar.gz", "1a2b3c4d")
        );
        assert!(parse_line("; generated by cksfv").is_none());
        assert!(parse_line("not a manifest line").is_none());
    }

    #[test]
    fn digests_of_known_values() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, b"123456789").unwrap();
        assert_eq!(digest(Algorithm::Crc32, &p).unwrap(), "cbf43926");
        assert_eq!(
            digest(Algorithm::Md5, &p).unwrap(),
            "25f9e794323b453885f5181f1b624d0b"
        );
        assert_eq!(
            digest(Algorithm::Sha256, &p).unwrap(),
            "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"
        );
    }

    #[test]
    fn sidecars_are_found_and_recognised() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("db.tar.gz");
        std::fs::write(&a, b"x").unwrap();
        assert_eq!(sidecar_for(&a), None);
        std::fs::write(d.path().join("db.tar.gz.md5"), b"x").unwrap();
        assert_eq!(sidecar_for(&a), Some(d.path().join("db.tar.gz.md5")));
        assert!(is_sidecar(Path::new("/b/db.tar.gz.SHA256")));
        assert!(!is_sidecar(&a));
    }
}
