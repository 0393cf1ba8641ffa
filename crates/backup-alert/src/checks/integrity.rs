//! What `check --verify` / `--manifest` found about the newest file, as problems and facts
//! for the alert: [`crate::checks::verify`] reads the archive, [`crate::checks::manifest`]
//! compares its checksum. Damage (an archive that does not read to its end, a checksum that
//! does not match) makes the alert a failure; a check that could not be made (a format we
//! cannot read, a manifest without a line for the file) a warning.

use std::path::{Path, PathBuf};

use crate::checks::manifest::{self, ManifestError};
use crate::checks::verify::{self, Failure, Verified};
use crate::lang::Language;
use rsmtp_core::tr_in;

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
    /// the checksum file next to it when there is one); what went wrong is said in `lang`.
    pub(crate) fn check(
        file: &Path,
        verify: bool,
        manifest: Option<&Path>,
        lang: Language,
    ) -> Integrity {
        let archive = verify.then(|| verify::verify(file, lang));
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
    pub(crate) fn problems(&self, lang: Language) -> Vec<String> {
        let mut damage = Vec::new();
        let mut other = Vec::new();
        if let Some(Err(f)) = &self.archive {
            if f.is_corrupt() {
                damage.push(tr_in!(lang, "damaged: {what}", what = f.describe(lang)));
            } else {
                other.push(f.describe(lang));
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
                }) => damage.push(tr_in!(
                    lang,
                    "{algorithm} does not match {manifest} (expected {expected}, got {actual})",
                    algorithm = algorithm.name(),
                    manifest = m,
                    expected = expected,
                    actual = actual
                )),
                Ok(manifest::Verdict::NotListed) => other.push(tr_in!(
                    lang,
                    "{manifest} has no line for this file",
                    manifest = m
                )),
                Err(e) => other.push(e.describe(lang)),
            }
        }
        damage.extend(other);
        damage
    }

    /// `Integrity` and `Checksum` facts for the alert.
    pub(crate) fn facts(&self, lang: Language) -> Vec<(&'static str, String)> {
        let mut facts = Vec::new();
        match &self.archive {
            Some(Ok(v)) => facts.push((
                "Integrity",
                tr_in!(lang, "ok: {what}", what = v.describe(lang)),
            )),
            Some(Err(f)) if f.is_corrupt() => facts.push((
                "Integrity",
                tr_in!(lang, "DAMAGED: {what}", what = f.describe(lang)),
            )),
            Some(Err(f)) => facts.push(("Integrity", f.describe(lang))),
            None => {}
        }
        if let Some((m, verdict)) = &self.checksum {
            let m = m.display();
            facts.push((
                "Checksum",
                match verdict {
                    Ok(manifest::Verdict::Match { algorithm }) => tr_in!(
                        lang,
                        "{algorithm} matches {manifest}",
                        algorithm = algorithm.name(),
                        manifest = m
                    ),
                    Ok(manifest::Verdict::Mismatch { algorithm, .. }) => tr_in!(
                        lang,
                        "{algorithm} MISMATCH against {manifest}",
                        algorithm = algorithm.name(),
                        manifest = m
                    ),
                    Ok(manifest::Verdict::NotListed) => {
                        tr_in!(lang, "not listed in {manifest}", manifest = m)
                    }
                    Err(e) => e.describe(lang),
                },
            ));
        }
        facts
    }
}
