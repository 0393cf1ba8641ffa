//! `check --verify`: read the newest archive to its end, the way a restore would, so a
//! backup that is fresh and big enough but cannot be unpacked is reported before the day
//! it is needed.
//!
//! The format comes from the first bytes (gzip, zstd, xz, zip, tar), and whether a
//! compressed stream holds a tar from the name (`.tar.gz`, `.tgz`, `.tar.zst`, `.tzst`,
//! `.tar.xz`, `.txz`). What is checked: a compressed stream decodes to its end and its
//! own checksum matches (gzip's CRC32 and length, zstd's content checksum when the frame
//! has one, xz's check); every tar member's header checksum and full length; every zip
//! member's CRC32. The first failure is reported with the member it happened in. Every
//! codec is pure Rust (miniz_oxide, ruzstd, lzma-rs): nothing to install, no C library.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::lang::Language;
use rsmtp_core::{tr_in, tr_noop, trn_in};

/// What a readable archive turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verified {
    /// `tar.gz`, `zip`, `gzip`, …
    pub(crate) format: &'static str,
    /// Members read (tar and zip).
    pub(crate) members: Option<u64>,
}

impl Verified {
    /// `tar.gz, 12 members read`.
    pub(crate) fn describe(&self, lang: Language) -> String {
        match self.members {
            Some(n) => trn_in!(
                lang,
                "{format}, {n} member read",
                "{format}, {n} members read",
                n,
                format = self.format
            ),
            None => self.format.to_string(),
        }
    }
}

/// Where in the archive reading failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// In this member's data (or its header).
    Member(String),
    /// In the header after this member (or before the first one: `None`).
    After(Option<String>),
    /// In the archive as a whole (the compressed stream, a zip's directory).
    Archive,
}

/// Why an archive could not be verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Damaged: reading it failed, as a restore would.
    Corrupt {
        format: &'static str,
        place: Place,
        reason: String,
    },
    /// Not damaged as far as we know, but not something we can read (an unknown format,
    /// an encrypted zip member, a zip method without a decoder here).
    Unverifiable(String),
}

impl Failure {
    /// One line for the alert: `tar.gz: member "etc/main.cf": unexpected end of file`.
    pub(crate) fn describe(&self, lang: Language) -> String {
        match self {
            Failure::Corrupt {
                format,
                place,
                reason,
            } => {
                let reason = lang.marked(DECODER_REASONS, reason);
                match place {
                    Place::Member(m) => tr_in!(
                        lang,
                        "{format}: member \"{member}\": {reason}",
                        format = format,
                        member = m,
                        reason = reason
                    ),
                    Place::After(Some(m)) => tr_in!(
                        lang,
                        "{format}: after member \"{member}\": {reason}",
                        format = format,
                        member = m,
                        reason = reason
                    ),
                    Place::After(None) => tr_in!(
                        lang,
                        "{format}: before the first member: {reason}",
                        format = format,
                        reason = reason
                    ),
                    Place::Archive => {
                        tr_in!(lang, "{format}: {reason}", format = format, reason = reason)
                    }
                }
            }
            Failure::Unverifiable(why) => tr_in!(lang, "cannot verify: {why}", why = why),
        }
    }

    pub(crate) fn is_corrupt(&self) -> bool {
        matches!(self, Failure::Corrupt { .. })
    }
}

/// What the decoders and the tar reader say about a damaged archive most often, marked
/// for the catalogs: said in the alert's language, where other library messages are
/// shown as the library wrote them.
const DECODER_REASONS: &[&str] = &[
    tr_noop!("incomplete deflate stream"),
    tr_noop!("corrupt deflate stream"),
    tr_noop!("invalid gzip header"),
    tr_noop!("corrupt gzip stream does not have a matching checksum"),
    tr_noop!("archive header checksum mismatch"),
    tr_noop!("failed to read entire block"),
    tr_noop!("unexpected EOF during skip"),
    tr_noop!("failed to fill whole buffer"),
];

/// Compressed stream formats, by magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Gzip,
    Zstd,
    Xz,
}

impl Stream {
    fn name(self, tar: bool) -> &'static str {
        match (self, tar) {
            (Stream::Gzip, true) => "tar.gz",
            (Stream::Gzip, false) => "gzip",
            (Stream::Zstd, true) => "tar.zst",
            (Stream::Zstd, false) => "zstd",
            (Stream::Xz, true) => "tar.xz",
            (Stream::Xz, false) => "xz",
        }
    }
}

/// Does the name say the stream holds a tar?
fn holds_tar(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    [".tar.gz", ".tgz", ".tar.zst", ".tzst", ".tar.xz", ".txz"]
        .iter()
        .any(|s| name.ends_with(s))
}

fn corrupt(format: &'static str, place: Place, e: impl std::fmt::Display) -> Failure {
    Failure::Corrupt {
        format,
        place,
        reason: e.to_string(),
    }
}

/// `cannot open PATH: REASON`, said in `lang`.
fn cannot_open(path: &Path, e: &io::Error, lang: Language) -> Failure {
    Failure::Unverifiable(tr_in!(
        lang,
        "cannot open {path}: {error}",
        path = path.display(),
        error = rsmtp_core::strerror_in(e, lang.code())
    ))
}

/// Read the archive at `path` to its end and check everything it carries a check for;
/// what went wrong is said in `lang`.
pub(crate) fn verify(path: &Path, lang: Language) -> Result<Verified, Failure> {
    let file = File::open(path).map_err(|e| cannot_open(path, &e, lang))?;
    let mut input = BufReader::with_capacity(1 << 16, file);
    let head = input.fill_buf().map_err(|e| {
        Failure::Unverifiable(tr_in!(
            lang,
            "cannot read {path}: {error}",
            path = path.display(),
            error = rsmtp_core::strerror_in(&e, lang.code())
        ))
    })?;
    let stream = if head.starts_with(&[0x1f, 0x8b]) {
        Some(Stream::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Stream::Zstd)
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some(Stream::Xz)
    } else {
        None
    };
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        drop(input);
        return verify_zip(path, lang);
    }
    let Some(stream) = stream else {
        if head.get(257..262) == Some(b"ustar") {
            return verify_tar(input, "tar", lang);
        }
        return Err(Failure::Unverifiable(
            tr_in!(lang, "not a gzip, zstd, xz, tar or zip file").into_owned(),
        ));
    };
    let tar = holds_tar(path);
    let format = stream.name(tar);
    let decoded: Box<dyn Read> = match stream {
        Stream::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
        Stream::Zstd => Box::new(ZstdFrames::new(input, lang)),
        Stream::Xz => Box::new(xz_reader(input)),
    };
    if tar {
        verify_tar(decoded, format, lang)
    } else {
        let mut decoded = decoded;
        io::copy(&mut decoded, &mut io::sink()).map_err(|e| corrupt(format, Place::Archive, e))?;
        Ok(Verified {
            format,
            members: None,
        })
    }
}

/// Notes whether the tar reader met the end of its input: a tar must end with its
/// end-of-archive blocks, and one cut at a member boundary ends without them.
struct EofWatch<R> {
    inner: R,
    eof: bool,
}

impl<R: Read> Read for EofWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof = true;
        }
        Ok(n)
    }
}

/// Every member's header and data, then what follows the end-of-archive blocks (so the
/// compressed stream's own checksum at its end is read too).
fn verify_tar<R: Read>(
    input: R,
    format: &'static str,
    lang: Language,
) -> Result<Verified, Failure> {
    let mut archive = tar::Archive::new(EofWatch {
        inner: input,
        eof: false,
    });
    let mut last: Option<String> = None;
    let mut members = 0u64;
    {
        let entries = archive
            .entries()
            .map_err(|e| corrupt(format, Place::After(None), e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| corrupt(format, Place::After(last.clone()), e))?;
            let name = entry.path().map_or_else(
                |_| String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
                |p| p.display().to_string(),
            );
            let want = entry.size();
            let got = io::copy(&mut entry, &mut io::sink())
                .map_err(|e| corrupt(format, Place::Member(name.clone()), e))?;
            if got < want {
                return Err(corrupt(
                    format,
                    Place::Member(name),
                    tr_in!(
                        lang,
                        "cut short: {got} of {want} bytes",
                        got = got,
                        want = want
                    ),
                ));
            }
            members += 1;
            last = Some(name);
        }
    }
    let mut rest = archive.into_inner();
    if rest.eof {
        return Err(corrupt(
            format,
            Place::After(last),
            tr_in!(
                lang,
                "the archive ends without its end-of-archive blocks (cut short)"
            ),
        ));
    }
    io::copy(&mut rest, &mut io::sink()).map_err(|e| corrupt(format, Place::Archive, e))?;
    Ok(Verified {
        format,
        members: Some(members),
    })
}

fn verify_zip(path: &Path, lang: Language) -> Result<Verified, Failure> {
    const FORMAT: &str = "zip";
    let file = File::open(path).map_err(|e| cannot_open(path, &e, lang))?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| corrupt(FORMAT, Place::Archive, e))?;
    for i in 0..archive.len() {
        let name = archive
            .name_for_index(i)
            .map_or_else(|| format!("#{}", i + 1), str::to_string);
        let mut member = match archive.by_index(i) {
            Ok(m) => m,
            Err(zip::result::ZipError::UnsupportedArchive(why)) => {
                return Err(Failure::Unverifiable(tr_in!(
                    lang,
                    "zip member \"{name}\": {why}",
                    name = name,
                    why = why
                )))
            }
            Err(e) => return Err(corrupt(FORMAT, Place::Member(name), e)),
        };
        // The zip reader compares the CRC32 once the member has been read to its end, and
        // says only "Invalid checksum".
        io::copy(&mut member, &mut io::sink()).map_err(|e| {
            let reason = if e.to_string() == "Invalid checksum" {
                tr_in!(lang, "CRC32 does not match the stored checksum").into_owned()
            } else {
                e.to_string()
            };
            corrupt(FORMAT, Place::Member(name.clone()), reason)
        })?;
    }
    Ok(Verified {
        format: FORMAT,
        members: Some(archive.len() as u64),
    })
}

/// A zstd file: one or more frames back to back, each checked against its content
/// checksum when it carries one (ruzstd computes it but leaves the comparison to us).
struct ZstdFrames<R> {
    source: R,
    decoder: ruzstd::decoding::FrameDecoder,
    in_frame: bool,
    /// The language a checksum mismatch is said in.
    lang: Language,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(source: R, lang: Language) -> Self {
        ZstdFrames {
            source,
            decoder: ruzstd::decoding::FrameDecoder::new(),
            in_frame: false,
            lang,
        }
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if self.source.fill_buf()?.is_empty() {
                    return Ok(0);
                }
                self.decoder
                    .reset(&mut self.source)
                    .map_err(io::Error::other)?;
                self.in_frame = true;
            }
            while self.decoder.can_collect() < buf.len() && !self.decoder.is_finished() {
                let wanted = buf.len() - self.decoder.can_collect();
                self.decoder
                    .decode_blocks(
                        &mut self.source,
                        ruzstd::decoding::BlockDecodingStrategy::UptoBytes(wanted),
                    )
                    .map_err(io::Error::other)?;
            }
            let n = self.decoder.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            // The frame is decoded and collected.
            if let (Some(stored), Some(computed)) = (
                self.decoder.get_checksum_from_data(),
                self.decoder.get_calculated_checksum(),
            ) {
                if stored != computed {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        tr_in!(
                            self.lang,
                            "zstd content checksum mismatch (stored {stored}, computed \
                             {computed})",
                            stored = format!("{stored:08x}"),
                            computed = format!("{computed:08x}")
                        ),
                    ));
                }
            }
            self.in_frame = false;
        }
    }
}

/// lzma-rs decodes xz into a writer only; a thread decodes into a bounded channel so the
/// tar reader can pull from it without the whole archive in memory.
fn xz_reader<R: BufRead + Send + 'static>(mut input: R) -> ChannelReader {
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(4);
    std::thread::spawn(move || {
        let mut writer = ChannelWriter { tx: tx.clone() };
        if let Err(e) = lzma_rs::xz_decompress(&mut input, &mut writer) {
            let _ = tx.send(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                e.to_string(),
            )));
        }
    });
    ChannelReader {
        rx,
        chunk: Vec::new(),
        pos: 0,
    }
}

struct ChannelWriter {
    tx: std::sync::mpsc::SyncSender<io::Result<Vec<u8>>>,
}

impl io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx
            .send(Ok(buf.to_vec()))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "reader gone"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct ChannelReader {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The decoder finished without an error: the end of the stream.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tar_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in members {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn write(dir: &Path, name: &str, data: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    #[test]
    fn a_good_tar_gz_and_plain_tar() {
        let d = tempfile::tempdir().unwrap();
        let t = tar_bytes(&[("a.txt", b"hello"), ("b/c.txt", &[7u8; 5000])]);
        let v = verify(&write(d.path(), "x.tar.gz", &gz(&t)), Language::English).unwrap();
        assert_eq!(v.describe(Language::English), "tar.gz, 2 members read");
        let v = verify(&write(d.path(), "x.tar", &t), Language::English).unwrap();
        assert_eq!(v.format, "tar");
        let v = verify(
            &write(d.path(), "db.sql.gz", &gz(b"select 1;")),
            Language::English,
        )
        .unwrap();
        assert_eq!(v.describe(Language::English), "gzip");
    }

    #[test]
    fn a_tar_cut_at_a_member_boundary_is_corrupt() {
        let d = tempfile::tempdir().unwrap();
        let t = tar_bytes(&[("a.txt", b"hello"), ("b.txt", b"world")]);
        // header + one data block of the first member, nothing after
        let cut = &t[..1024];
        let err = verify(&write(d.path(), "x.tar", cut), Language::English).unwrap_err();
        assert!(err.is_corrupt());
        assert!(
            err.describe(Language::English)
                .contains("after member \"a.txt\""),
            "{err:?}"
        );
    }

    #[test]
    fn a_gzip_with_a_bad_crc_is_corrupt() {
        let d = tempfile::tempdir().unwrap();
        let mut g = gz(b"select 1;");
        let n = g.len();
        g[n - 8] ^= 0xff; // the CRC32 in the trailer
        let err = verify(&write(d.path(), "db.sql.gz", &g), Language::English).unwrap_err();
        assert!(err.is_corrupt(), "{err:?}");
    }

    #[test]
    fn zstd_frames_and_their_checksums() {
        let d = tempfile::tempdir().unwrap();
        let t = tar_bytes(&[("a.txt", b"hello"), ("b.txt", &[3u8; 70_000])]);
        let level = ruzstd::encoding::CompressionLevel::Fastest;
        let z = ruzstd::encoding::compress_to_vec(&t[..], level);
        let v = verify(&write(d.path(), "x.tar.zst", &z), Language::English).unwrap();
        assert_eq!(v.describe(Language::English), "tar.zst, 2 members read");
        // two frames back to back, as `cat a.zst b.zst` makes
        let mut two = ruzstd::encoding::compress_to_vec(&b"one"[..], level);
        two.extend(ruzstd::encoding::compress_to_vec(&b"two"[..], level));
        assert_eq!(
            verify(&write(d.path(), "x.zst", &two), Language::English)
                .unwrap()
                .format,
            "zstd"
        );
        // the content checksum is the frame's last 4 bytes
        let mut bad = z.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        let err = verify(&write(d.path(), "bad.tar.zst", &bad), Language::English).unwrap_err();
        assert!(
            err.describe(Language::English)
                .contains("checksum mismatch"),
            "{err:?}"
        );
        let err = verify(
            &write(d.path(), "cut.tar.zst", &z[..z.len() / 2]),
            Language::English,
        )
        .unwrap_err();
        assert!(err.is_corrupt(), "{err:?}");
    }

    #[test]
    fn xz_streams() {
        let d = tempfile::tempdir().unwrap();
        let t = tar_bytes(&[("a.txt", b"hello"), ("b.txt", &[3u8; 70_000])]);
        let mut x = Vec::new();
        lzma_rs::xz_compress(&mut &t[..], &mut x).unwrap();
        let v = verify(&write(d.path(), "x.txz", &x), Language::English).unwrap();
        assert_eq!(v.describe(Language::English), "tar.xz, 2 members read");
        let err = verify(
            &write(d.path(), "cut.tar.xz", &x[..x.len() - 30]),
            Language::English,
        )
        .unwrap_err();
        assert!(err.is_corrupt(), "{err:?}");
        // lzma-rs writes no check of the data; the stream header's CRC32 is always there
        let mut bad = x.clone();
        bad[7] ^= 0x01;
        let err = verify(&write(d.path(), "bad.xz", &bad), Language::English).unwrap_err();
        assert!(err.is_corrupt(), "{err:?}");
    }

    #[test]
    fn unknown_files_cannot_be_verified() {
        let d = tempfile::tempdir().unwrap();
        let err = verify(
            &write(d.path(), "dump.sql", b"create table t;"),
            Language::English,
        )
        .unwrap_err();
        assert!(!err.is_corrupt());
        assert_eq!(
            err.describe(Language::English),
            "cannot verify: not a gzip, zstd, xz, tar or zip file"
        );
    }
}
