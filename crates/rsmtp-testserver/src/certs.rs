//! Certificates made at test time with rcgen: a CA, the server certificates a test can
//! choose from (valid, expired, wrong host, self-signed) and client certificates.
//!
//! Everything is also written as PEM files into one directory so a client under test can
//! be pointed at them (`tls_trust_file`, `tls_cert_file`, `tls_key_file`).

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use md5::Md5;
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Which server certificate a [`TestServer`](crate::TestServer) presents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LeafKind {
    /// Issued by the test CA for `localhost`, `127.0.0.1` and `::1`; valid until 4096.
    #[default]
    Valid,
    /// Issued by the test CA for the same names, but expired in 2001.
    Expired,
    /// Issued by the test CA for `wrong-host.example` only.
    WrongHost,
    /// For `localhost`/`127.0.0.1`, but self-signed: not issued by the test CA.
    SelfSigned,
    /// Self-signed for `localhost`/`127.0.0.1` and marked as a CA (basic constraints
    /// `CA:TRUE`), as `openssl req -x509` makes one by default; webpki refuses it as a
    /// server certificate (`CaUsedAsEndEntity`) even when it is the trust anchor.
    SelfSignedCa,
}

impl LeafKind {
    /// All kinds.
    pub const ALL: [LeafKind; 5] = [
        LeafKind::Valid,
        LeafKind::Expired,
        LeafKind::WrongHost,
        LeafKind::SelfSigned,
        LeafKind::SelfSignedCa,
    ];

    fn file_stem(self) -> &'static str {
        match self {
            LeafKind::Valid => "localhost",
            LeafKind::Expired => "expired",
            LeafKind::WrongHost => "wrong-host",
            LeafKind::SelfSigned => "self-signed",
            LeafKind::SelfSignedCa => "self-signed-ca",
        }
    }
}

/// A certificate with its private key, as DER and as PEM files.
#[derive(Debug)]
pub struct CertKey {
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
    cert_path: PathBuf,
    key_path: PathBuf,
    subject: String,
}

impl CertKey {
    /// The certificate in DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The private key (PKCS#8).
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }

    /// The PEM certificate file.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// The PEM private key file (`-----BEGIN PRIVATE KEY-----`, PKCS#8).
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// The subject as the server records it for client certificates, e.g. `CN=rsmtp test client`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// SHA-256 of the DER certificate as `AA:BB:…` (msmtp's `tls_fingerprint` format).
    pub fn sha256_fingerprint(&self) -> String {
        colon_hex(&Sha256::digest(self.cert_der.as_ref()))
    }

    /// SHA-1 of the DER certificate as `AA:BB:…` (msmtp still accepts it, deprecated).
    pub fn sha1_fingerprint(&self) -> String {
        colon_hex(&Sha1::digest(self.cert_der.as_ref()))
    }

    /// MD5 of the DER certificate as `AA:BB:…` (msmtp's oldest, deprecated format).
    pub fn md5_fingerprint(&self) -> String {
        colon_hex(&Md5::digest(self.cert_der.as_ref()))
    }
}

/// A test certificate authority and everything issued for the tests.
///
/// Files in [`dir`](Self::dir): `ca.pem`, `localhost.pem`/`localhost-key.pem`,
/// `expired*.pem`, `wrong-host*.pem`, `self-signed*.pem`, `self-signed-ca*.pem`, `client.pem`/`client-key.pem`
/// (issued by the CA) and `untrusted-client*.pem` (self-signed).
#[derive(Debug)]
pub struct TestCa {
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    ca_path: PathBuf,
    leaves: Vec<(LeafKind, CertKey)>,
    client: CertKey,
    untrusted_client: CertKey,
    /// Kept to sign certificate revocation lists ([`TestCa::write_crl`]).
    signer: CaSigner,
}

/// The CA certificate and key (rcgen's `Certificate` has no `Debug`).
struct CaSigner {
    cert: Certificate,
    key: KeyPair,
}

impl std::fmt::Debug for CaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CaSigner")
    }
}

impl TestCa {
    /// Generate a CA and its certificates into a fresh temporary directory (removed when
    /// the `TestCa` is dropped). Panics if that fails: this is test support.
    pub fn new() -> TestCa {
        let temp = tempfile::Builder::new()
            .prefix("rsmtp-testca-")
            .tempdir()
            .expect("create a temporary directory for test certificates");
        let mut ca = TestCa::generate(temp.path()).expect("generate test certificates");
        ca._temp = Some(temp);
        ca
    }

    /// Generate into `dir` (created if missing) and leave the files there.
    pub fn new_in(dir: &Path) -> io::Result<TestCa> {
        fs::create_dir_all(dir)?;
        TestCa::generate(dir)
    }

    fn generate(dir: &Path) -> io::Result<TestCa> {
        let ca_key = KeyPair::generate().map_err(io::Error::other)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(io::Error::other)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "rsmtp test CA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "rsmtp tests");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = params.self_signed(&ca_key).map_err(io::Error::other)?;
        let ca_pem = ca_cert.pem();
        let ca_path = dir.join("ca.pem");
        fs::write(&ca_path, &ca_pem)?;

        let issuer = Issuer {
            cert: &ca_cert,
            key: &ca_key,
        };
        let local_names = || {
            vec![
                "localhost".to_string(),
                "127.0.0.1".to_string(),
                "::1".to_string(),
            ]
        };
        let mut leaves = Vec::new();
        for (serial, kind) in (1u64..).zip(LeafKind::ALL) {
            let spec = match kind {
                LeafKind::Valid => Spec::server("localhost", local_names()),
                LeafKind::Expired => Spec {
                    expired: true,
                    ..Spec::server("localhost", local_names())
                },
                LeafKind::WrongHost => {
                    Spec::server("wrong-host.example", vec!["wrong-host.example".to_string()])
                }
                LeafKind::SelfSigned => Spec {
                    self_signed: true,
                    ..Spec::server("localhost", local_names())
                },
                LeafKind::SelfSignedCa => Spec {
                    self_signed: true,
                    ca: true,
                    ..Spec::server("localhost", local_names())
                },
            };
            let spec = Spec {
                serial: Some(serial),
                ..spec
            };
            leaves.push((kind, issue(dir, kind.file_stem(), &spec, &issuer)?));
        }
        let client = issue(dir, "client", &Spec::client("rsmtp test client"), &issuer)?;
        let untrusted_client = issue(
            dir,
            "untrusted-client",
            &Spec {
                self_signed: true,
                ..Spec::client("rsmtp untrusted client")
            },
            &issuer,
        )?;

        Ok(TestCa {
            dir: dir.to_path_buf(),
            _temp: None,
            ca_pem,
            ca_der: ca_cert.der().clone(),
            ca_path,
            leaves,
            client,
            untrusted_client,
            signer: CaSigner {
                cert: ca_cert,
                key: ca_key,
            },
        })
    }

    /// Writes `name` (PEM) into the certificate directory: a CRL signed by the CA that
    /// revokes the server certificates `revoked` (empty: a CRL revoking nothing), for
    /// `tls_crl_file`. Its path.
    pub fn write_crl(&self, name: &str, revoked: &[LeafKind]) -> io::Result<PathBuf> {
        use rcgen::{CertificateRevocationListParams, RevokedCertParams, SerialNumber};
        let revoked_certs = LeafKind::ALL
            .iter()
            .zip(1u64..)
            .filter(|(kind, _)| revoked.contains(kind))
            .map(|(_, serial)| RevokedCertParams {
                serial_number: SerialNumber::from(serial),
                revocation_time: rcgen::date_time_ymd(2021, 1, 1),
                reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect();
        let params = CertificateRevocationListParams {
            this_update: rcgen::date_time_ymd(2021, 1, 1),
            next_update: rcgen::date_time_ymd(4000, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        let crl = params
            .signed_by(&self.signer.cert, &self.signer.key)
            .map_err(io::Error::other)?;
        let path = self.dir.join(name);
        fs::write(&path, crl.pem().map_err(io::Error::other)?)?;
        Ok(path)
    }

    /// The directory holding every PEM file.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The CA certificate file, for a client's `tls_trust_file`.
    pub fn ca_pem_path(&self) -> &Path {
        &self.ca_path
    }

    /// The CA certificate as PEM text.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate in DER (for a rustls `RootCertStore`).
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// A server certificate.
    pub fn leaf(&self, kind: LeafKind) -> &CertKey {
        self.leaves
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, c)| c)
            .expect("every LeafKind is generated")
    }

    /// A client certificate issued by the CA (subject `CN=rsmtp test client`).
    pub fn client_cert(&self) -> &CertKey {
        &self.client
    }

    /// A self-signed client certificate the server will not accept.
    pub fn untrusted_client_cert(&self) -> &CertKey {
        &self.untrusted_client
    }
}

impl Default for TestCa {
    /// Same as [`TestCa::new`].
    fn default() -> Self {
        TestCa::new()
    }
}

struct Issuer<'a> {
    cert: &'a Certificate,
    key: &'a KeyPair,
}

struct Spec {
    common_name: &'static str,
    names: Vec<String>,
    client: bool,
    expired: bool,
    self_signed: bool,
    /// Basic constraints `CA:TRUE` (and keyCertSign), like an `openssl req -x509` cert.
    ca: bool,
    /// A fixed serial number (server certificates: so a CRL can name them).
    serial: Option<u64>,
}

impl Spec {
    fn server(common_name: &'static str, names: Vec<String>) -> Spec {
        Spec {
            common_name,
            names,
            client: false,
            expired: false,
            self_signed: false,
            ca: false,
            serial: None,
        }
    }

    fn client(common_name: &'static str) -> Spec {
        Spec {
            common_name,
            names: Vec::new(),
            client: true,
            expired: false,
            self_signed: false,
            ca: false,
            serial: None,
        }
    }
}

fn issue(dir: &Path, stem: &str, spec: &Spec, issuer: &Issuer<'_>) -> io::Result<CertKey> {
    let key = KeyPair::generate().map_err(io::Error::other)?;
    let mut params = CertificateParams::new(spec.names.clone()).map_err(io::Error::other)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, spec.common_name);
    if spec.ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
    } else {
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    }
    params.extended_key_usages = vec![if spec.client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    params.use_authority_key_identifier_extension = !spec.self_signed;
    params.serial_number = spec.serial.map(rcgen::SerialNumber::from);
    if spec.expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    } else {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    }
    let cert = if spec.self_signed {
        params.self_signed(&key)
    } else {
        params.signed_by(&key, issuer.cert, issuer.key)
    }
    .map_err(io::Error::other)?;

    let cert_path = dir.join(format!("{stem}.pem"));
    let key_path = dir.join(format!("{stem}-key.pem"));
    fs::write(&cert_path, cert.pem())?;
    write_private(&key_path, key.serialize_pem().as_bytes())?;
    let cert_der = cert.der().clone();
    let subject = subject_of(cert_der.as_ref()).unwrap_or_default();
    Ok(CertKey {
        cert_der,
        key_der: key.serialize_der(),
        cert_path,
        key_path,
        subject,
    })
}

/// Private keys get mode 0600, as a client that checks key permissions expects.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    fs::write(path, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn colon_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// The subject of a DER certificate as `CN=…,O=…` (only the common attribute types).
///
/// A dozen lines of DER walking rather than an X.509 parser dependency: the server only
/// needs to report who presented a client certificate.
pub(crate) fn subject_of(cert: &[u8]) -> Option<String> {
    let (_, certificate, _) = der_element(cert)?;
    let (_, mut tbs, _) = der_element(certificate)?;
    // Optional [0] version, then serial, signature algorithm, issuer, validity, subject.
    let (tag, _, rest) = der_element(tbs)?;
    if tag == 0xA0 {
        tbs = rest;
    }
    for _ in 0..4 {
        let (_, _, rest) = der_element(tbs)?;
        tbs = rest;
    }
    let (_, mut rdns, _) = der_element(tbs)?;
    let mut parts = Vec::new();
    while !rdns.is_empty() {
        let (_, set, rest) = der_element(rdns)?;
        rdns = rest;
        let (_, attribute, _) = der_element(set)?;
        let (_, oid, value) = der_element(attribute)?;
        let (_, value, _) = der_element(value)?;
        let name = match oid {
            [0x55, 0x04, 0x03] => "CN",
            [0x55, 0x04, 0x06] => "C",
            [0x55, 0x04, 0x0A] => "O",
            [0x55, 0x04, 0x0B] => "OU",
            _ => continue,
        };
        parts.push(format!("{name}={}", String::from_utf8_lossy(value)));
    }
    Some(parts.join(","))
}

/// One DER TLV: (tag, contents, remaining input).
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7F;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *input.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let contents = input.get(header..end)?;
    Some((tag, contents, &input[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_files_and_fingerprints() {
        let ca = TestCa::new();
        assert!(ca.ca_pem_path().exists());
        assert!(ca.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let leaf = ca.leaf(LeafKind::Valid);
        assert!(fs::read_to_string(leaf.key_path())
            .unwrap()
            .contains("BEGIN PRIVATE KEY"));
        let fp = leaf.sha256_fingerprint();
        assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
        assert!(fp.split(':').all(|b| b.len() == 2
            && b.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())));
        assert_eq!(leaf.sha1_fingerprint().len(), 20 * 3 - 1);
        assert_ne!(
            leaf.sha256_fingerprint(),
            ca.leaf(LeafKind::SelfSigned).sha256_fingerprint()
        );
    }

    #[test]
    fn reads_subjects() {
        let ca = TestCa::new();
        assert_eq!(ca.client_cert().subject(), "CN=rsmtp test client");
        assert_eq!(
            subject_of(ca.ca_der()).unwrap(),
            "CN=rsmtp test CA,O=rsmtp tests"
        );
        assert_eq!(
            ca.leaf(LeafKind::WrongHost).subject(),
            "CN=wrong-host.example"
        );
    }
}
