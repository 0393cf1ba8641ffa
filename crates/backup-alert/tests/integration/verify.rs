//! `check --verify` / `--manifest`: a damaged archive is a failure alert naming the file
//! and the first bad member; a good one is fresh (exit 0) and says what was read.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::*;

pub(crate) fn tar_gz(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// Data that does not compress, so a cut lands inside it.
pub(crate) fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn write(env: &Env, name: &str, data: &[u8]) -> PathBuf {
    let dir = env.path("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

fn check(env: &Env, path: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "check",
        "--path",
        path.to_str().unwrap(),
        "--max-age",
        "26h",
        "--to",
        TO,
        "--no-flood",
        "--verify",
    ];
    args.extend_from_slice(extra);
    run(env.sub(&args))
}

fn sha256_line(path: &Path) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(std::fs::read(path).unwrap());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}  {}\n", path.file_name().unwrap().to_string_lossy())
}

#[test]
fn a_good_archive_with_its_checksum_is_fresh() {
    let server = server();
    let env = Env::new(&server);
    let p = write(
        &env,
        "postfix-config-20261201.tar.gz",
        &tar_gz(&[
            ("etc/postfix/main.cf", b"myhostname = mx\n".to_vec()),
            ("etc/postfix/master.cf", noise(20_000, 1)),
        ]),
    );
    // the checksum file is newer than the archive, and is not taken for the backup
    std::fs::write(
        env.path("backups/postfix-config-20261201.tar.gz.sha256"),
        sha256_line(&p),
    )
    .unwrap();
    check(&env, &env.path("backups"), &[]).assert_code(0);
    let msg = one_message(&server);
    let parsed = parse(&msg);
    assert!(
        parsed.subject().unwrap().starts_with("✅ ["),
        "{:?}",
        parsed.subject()
    );
    let text = text_of(&msg);
    assert!(
        fact(&text, "Newest file").ends_with("postfix-config-20261201.tar.gz"),
        "{text}"
    );
    assert_eq!(
        fact(&text, "Integrity"),
        "ok: tar.gz, 2 members read",
        "{text}"
    );
    assert!(
        fact(&text, "Checksum").starts_with("SHA-256 matches "),
        "{text}"
    );
}

#[test]
fn a_truncated_tar_gz_is_a_failure_naming_the_file_and_member() {
    let server = server();
    let env = Env::new(&server);
    let whole = tar_gz(&[
        ("etc/postfix/main.cf", b"myhostname = mx\n".to_vec()),
        ("var/mail/vmail.db", noise(200_000, 7)),
    ]);
    let p = write(&env, "mail-20261201.tar.gz", &whole[..whole.len() / 2]);
    let r = check(&env, &p, &["--name", "mail"]);
    r.assert_code(1);
    let msg = one_message(&server);
    let parsed = parse(&msg);
    let subject = parsed.subject().unwrap();
    assert!(subject.starts_with("❌ ["), "{subject}");
    assert!(subject.ends_with("Backup corrupt: mail"), "{subject}");
    let text = text_of(&msg);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    assert!(first.contains(&p.display().to_string()), "{text}");
    assert!(
        first.contains("damaged: tar.gz: member \"var/mail/vmail.db\""),
        "{text}"
    );
    assert!(
        fact(&text, "Integrity").starts_with("DAMAGED: tar.gz: member \"var/mail/vmail.db\""),
        "{text}"
    );
}

#[test]
fn a_zip_with_a_bad_crc_names_the_member() {
    let server = server();
    let env = Env::new(&server);
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        z.start_file("dkim/mail.private", stored).unwrap();
        z.write_all(b"-----BEGIN PRIVATE KEY----- not really\n")
            .unwrap();
        z.start_file("certs/fullchain.pem", stored).unwrap();
        z.write_all(b"THE-CERTIFICATE-CHAIN-THAT-GETS-DAMAGED\n")
            .unwrap();
        z.finish().unwrap();
    }
    let mut bytes = buf.into_inner();
    let at = bytes
        .windows(9)
        .position(|w| w == b"THE-CERTI")
        .expect("the stored data");
    bytes[at + 4] ^= 0x20; // one byte of the second member's stored data
    let p = write(&env, "keys.zip", &bytes);
    check(&env, &p, &[]).assert_code(1);
    let text = text_of(&one_message(&server));
    let integrity = fact(&text, "Integrity");
    assert!(
        integrity.starts_with("DAMAGED: zip: member \"certs/fullchain.pem\""),
        "{text}"
    );
    assert!(integrity.contains("CRC32 does not match"), "{integrity}");
}

#[test]
fn a_manifest_mismatch_is_a_failure() {
    let server = server();
    let env = Env::new(&server);
    let p = write(&env, "db.sql.gz", &tar_gz(&[("x", b"y".to_vec())]));
    let manifest = env.path("SHA256SUMS");
    let good = sha256_line(&p);
    // the manifest lists another file too, and the wrong digest for ours
    std::fs::write(
        &manifest,
        format!(
            "{}  other.tar.gz\n{}",
            "0".repeat(64),
            good.replacen(&good[..4], "ffff", 1)
        ),
    )
    .unwrap();
    let r = check(&env, &p, &["--manifest", manifest.to_str().unwrap()]);
    r.assert_code(1);
    let msg = one_message(&server);
    assert!(parse(&msg).subject().unwrap().contains("Backup corrupt"));
    let text = text_of(&msg);
    assert!(
        text.contains(&format!(
            "SHA-256 does not match {} (expected ffff",
            manifest.display()
        )),
        "{text}"
    );
    assert_eq!(
        fact(&text, "Checksum"),
        format!("SHA-256 MISMATCH against {}", manifest.display())
    );
    // CRC32 in SFV layout, matching: fresh
    let crc = format!("{:08X}", crc32fast::hash(&std::fs::read(&p).unwrap()));
    std::fs::write(&manifest, format!("; cksfv\ndb.sql.gz {crc}\n")).unwrap();
    check(&env, &p, &["--manifest", manifest.to_str().unwrap()]).assert_code(0);
    let msgs = server.wait_for_messages(2, WAIT);
    let text = text_of(&msgs[1]);
    assert!(
        fact(&text, "Checksum").starts_with("CRC32 matches"),
        "{text}"
    );
}
