//! What `check --verify` / `--manifest` found about the newest file, as problems and facts
//! for the alert: [`crate::checks::verify`] reads the archive, [`crate::checks::manifest`]
//! compares its checksum. Damage (an archive that does not read to its end, a checksum that
//! does not match) makes the alert a failure; a check that could not be made (a format we
//! cannot read, a manifest without a line for the file) a warning.

use std::path::{Path, PathBuf};

use crate::checks::manifest::{self, ManifestError};
use crate::checks::verify::{self, Failure, Verified};

/// The results of the integrity checks asked for.
#[derive(Debug)]
pub(crate) struct Integrity {
    /// `--verify`: reading the archive.
    pub(crate) archive: Option<Result<Verified, Failure>>,
    /// The manifest used (given, or found next to the file) and what it said.
    pub(crate) checksum: Option<(PathBuf, Result<manifest::Verdict, ManifestError>)>,
}

impl Integrity {
    /// Check `file`: read it when `verify`, compare it with `manifest` (or, with `verify`,
    /// the checksum file next to it when there is one).
    pub(crate) fn check(file: &Path, verify: bool, manifest: Option<&Path>) -> Integrity {
        let archive = verify.then(|| verify::verify(file));
        let manifest = manifest
            .map(Path::to_path_buf)
            .or_else(|| verify.then(|| manifest::sidecar_for(file)).flatten());
        let checksum = manifest.map(|m| {
            let verdict = manifest::check(&m, file);
            (m, verdict)
        });
        Integrity { archive, checksum }
    }

    /// Is the file damaged (as opposed to: not checkable)?
    pub(crate) fn is_corrupt(&self) -> bool {
        matches!(&self.archive, Some(Err(f)) if f.is_corrupt())
            || matches!(
                &self.checksum,
                Some((_, Ok(manifest::Verdict::Mismatch { .. })))
            )
    }

    /// One phrase per thing wrong, damage first (the alert puts the file's path in front).
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut damage = Vec::new();
        let mut other = Vec::new();
        if let Some(Err(f)) = &self.archive {
            if f.is_corrupt() {
                damage.push(format!("damaged: {}", f.describe()));
            } else {
                other.push(f.describe());
            }
        }
        if let Some((m, verdict)) = &self.checksum {
            let m = m.display();
            match verdict {
                Ok(manifest::Verdict::Match { .. }) => {}
                Ok(manifest::Verdict::Mismatch {
                    algorithm,
                    expected,
                    actual,
                }) => damage.push(format!(
                    "{} does not match {m} (expected {expected}, got {actual})",
                    algorithm.name()
                )),
                Ok(manifest::Verdict::NotListed) => {
                    other.push(format!("{m} has no line for this file"))
                }
                Err(e) => other.push(e.to_string()),
            }
        }
        damage.extend(other);
        damage
    }

    /// `Integrity` and `Checksum` facts for the alert.
    pub(crate) fn facts(&self) -> Vec<(&'static str, String)> {
        let mut facts = Vec::new();
        match &self.archive {
            Some(Ok(v)) => facts.push(("Integrity", format!("ok: {}", v.describe()))),
            Some(Err(f)) if f.is_corrupt() => {
                facts.push(("Integrity", format!("DAMAGED: {}", f.describe())))
            }
            Some(Err(f)) => facts.push(("Integrity", f.describe())),
            None => {}
        }
        if let Some((m, verdict)) = &self.checksum {
            let m = m.display();
            facts.push((
                "Checksum",
                match verdict {
                    Ok(manifest::Verdict::Match { algorithm }) => {
                        format!("{} matches {m}", algorithm.name())
                    }
                    Ok(manifest::Verdict::Mismatch { algorithm, .. }) => {
                        format!("{} MISMATCH against {m}", algorithm.name())
                    }
                    Ok(manifest::Verdict::NotListed) => format!("not listed in {m}"),
                    Err(e) => e.to_string(),
                },
            ));
        }
        facts
    }
}
