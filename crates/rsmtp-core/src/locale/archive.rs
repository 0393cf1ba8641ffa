//! glibc's `locale-archive` (what `locale-gen` writes): which locales it holds and
//! one category's compiled data, read with a few seeks instead of mapping the file.
//!
//! The layout is glibc's `locarfile.h`: a header of native-endian u32s (magic, serial,
//! then offset, used and size of the name hash table, of the string table and of the
//! locale records); a name hash entry is `(hash, name offset, record offset)`; a
//! locale record is a reference count and, for each category, `(offset, length)` of
//! its data in the file. All offsets are from the start of the file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const MAGIC: u32 = 0xde02_0109;
/// Nothing in an archive this reads is larger (the string table is a few KiB, one
/// category a few KiB): refuse anything absurd rather than allocate it.
const LIMIT: u64 = 1 << 20;
/// glibc's `__LC_LAST`: the categories a locale record has a slot for.
const CATEGORIES: usize = 13;

pub(super) struct Archive {
    file: File,
    header: [u32; 8],
}

impl Archive {
    pub(super) fn open(path: &Path) -> Option<Archive> {
        let mut file = File::open(path).ok()?;
        let mut bytes = [0u8; 32];
        file.read_exact(&mut bytes).ok()?;
        let mut header = [0u32; 8];
        for (word, chunk) in header.iter_mut().zip(bytes.chunks_exact(4)) {
            *word = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        (header[0] == MAGIC).then_some(Archive { file, header })
    }

    fn read(&mut self, offset: u64, len: u64) -> Option<Vec<u8>> {
        if len > LIMIT {
            return None;
        }
        self.file.seek(SeekFrom::Start(offset)).ok()?;
        let mut bytes = Vec::new();
        (&mut self.file).take(len).read_to_end(&mut bytes).ok()?;
        (bytes.len() as u64 == len).then_some(bytes)
    }

    /// The string table: every locale name, NUL-separated.
    fn names(&mut self) -> Option<Vec<u8>> {
        self.read(u64::from(self.header[5]), u64::from(self.header[6]))
    }

    /// Whether the archive holds a locale called `name` (`fr_FR.utf8`).
    pub(super) fn has(&mut self, name: &str) -> bool {
        self.names()
            .is_some_and(|names| names.split(|&b| b == 0).any(|s| s == name.as_bytes()))
    }

    /// The compiled data of `category` (glibc's number: `LC_TIME` is 2) for `name`.
    pub(super) fn category(&mut self, name: &str, category: usize) -> Option<Vec<u8>> {
        let (hash_offset, hash_size) = (u64::from(self.header[2]), u64::from(self.header[4]));
        let table = self.read(hash_offset, hash_size * 12)?;
        let names = self.names()?;
        let names_offset = u64::from(self.header[5]);
        let word = |b: &[u8], i: usize| {
            b.get(i..i + 4)
                .map(|w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))
        };
        let record = table.chunks_exact(12).find_map(|entry| {
            let name_at = u64::from(word(entry, 4)?).checked_sub(names_offset)?;
            let rest = names.get(usize::try_from(name_at).ok()?..)?;
            let found = rest.split(|&b| b == 0).next()?;
            let record = word(entry, 8)?;
            (record != 0 && found == name.as_bytes()).then_some(record)
        })?;
        let slots = self.read(u64::from(record), 4 + 8 * CATEGORIES as u64)?;
        if category >= CATEGORIES {
            return None;
        }
        let offset = word(&slots, 4 + 8 * category)?;
        let len = word(&slots, 8 + 8 * category)?;
        self.read(u64::from(offset), u64::from(len))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A minimal archive holding `locales` (name, LC_TIME data), laid out as glibc's.
    pub(in crate::locale) fn archive(locales: &[(&str, &[u8])]) -> Vec<u8> {
        let mut names = Vec::new();
        let mut name_at = Vec::new();
        for (name, _) in locales {
            name_at.push(names.len());
            names.extend_from_slice(name.as_bytes());
            names.push(0);
        }
        let hash_offset = 32 + 8 * 4; // after a header with room to spare
        let names_offset = hash_offset + 12 * (locales.len() + 1);
        let records_offset = names_offset + names.len();
        let record_len = 4 + 8 * CATEGORIES;
        let data_offset = records_offset + record_len * locales.len();
        let u = |v: usize| u32::try_from(v).expect("small").to_ne_bytes();
        let mut out = Vec::new();
        for w in [
            MAGIC as usize,
            0,
            hash_offset,
            locales.len(),
            locales.len() + 1,
            names_offset,
            names.len(),
            names.len(),
        ] {
            out.extend_from_slice(&u(w));
        }
        out.resize(hash_offset, 0);
        for (i, at) in name_at.iter().enumerate() {
            out.extend_from_slice(&u(0x1234));
            out.extend_from_slice(&u(names_offset + at));
            out.extend_from_slice(&u(records_offset + i * record_len));
        }
        out.extend_from_slice(&[0; 12]); // an empty slot of the hash table
        out.extend_from_slice(&names);
        let mut data_at = data_offset;
        for (_, data) in locales {
            out.extend_from_slice(&u(1));
            for category in 0..CATEGORIES {
                let (offset, len) = if category == 2 {
                    (data_at, data.len())
                } else {
                    (0, 0)
                };
                out.extend_from_slice(&u(offset));
                out.extend_from_slice(&u(len));
            }
            data_at += data.len();
        }
        for (_, data) in locales {
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn a_category_is_found_by_locale_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("locale-archive");
        std::fs::write(
            &path,
            archive(&[("de_DE.utf8", b"german"), ("fr_FR.utf8", b"french data")]),
        )
        .expect("write");
        let mut archive = Archive::open(&path).expect("an archive");
        assert!(archive.has("fr_FR.utf8"));
        assert!(!archive.has("fr_FR"));
        assert_eq!(
            archive.category("fr_FR.utf8", 2).as_deref(),
            Some(&b"french data"[..])
        );
        assert_eq!(
            archive.category("de_DE.utf8", 2).as_deref(),
            Some(&b"german"[..])
        );
        assert!(archive.category("es_ES.utf8", 2).is_none());
        std::fs::write(&path, b"not an archive at all, not at all").expect("write");
        assert!(Archive::open(&path).is_none());
    }
}
