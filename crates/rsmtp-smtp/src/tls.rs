//! TLS with rustls and the ring provider: trust roots, the three ways of
//! checking the server certificate (webpki chain + name, a pinned leaf
//! fingerprint, or none), client certificates, and the handshake itself with
//! errors that say which check failed (RFC 3207 §4.1, RFC 8314 §3.3).
//!
//! TLS 1.2 is the minimum (rustls' safe defaults). A pinned fingerprint is a
//! custom [`ServerCertVerifier`]: the leaf's hash is compared during the
//! handshake, before any SMTP byte (let alone a password) is sent.

use rsmtp_core::tr;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore,
    SignatureScheme, StreamOwned,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, UnixTime,
};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::certinfo::{hex_colon, utc_text, CertInfo};
use crate::deadline::{io_error, time_left};
use crate::error::{ErrorKind, SmtpError};
use crate::settings::{Fingerprint, SessionSettings, Trust};
use crate::stream::Stream;

/// An established TLS stream over TCP or a unix socket.
pub(crate) type TlsStream = StreamOwned<ClientConnection, Stream>;

/// Builds the rustls client configuration for these settings.
pub(crate) fn client_config(settings: &SessionSettings) -> Result<Arc<ClientConfig>, SmtpError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verify = &settings.verify;
    let check = if verify.fingerprint.is_some() || !verify.certcheck {
        CertCheck::Leaf {
            fingerprint: verify.fingerprint,
        }
    } else {
        let (roots, listed) = load_roots(&verify.trust)?;
        let mut builder =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone());
        if let Some(crl_file) = &verify.crl_file {
            let crls = CertificateRevocationListDer::pem_file_iter(crl_file)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| local_file("CRL file", crl_file, e))?;
            builder = builder.with_crls(crls);
        }
        let webpki = builder.build().map_err(|e| {
            SmtpError::new(
                ErrorKind::LocalFile,
                format!("cannot use the trust roots: {e}"),
            )
        })?;
        CertCheck::WebPki { webpki, listed }
    };
    let verifier = Arc::new(CertVerifier {
        check,
        provider: provider.clone(),
    });
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if settings.tls_versions.tls13 {
        versions.push(&rustls::version::TLS13);
    }
    if settings.tls_versions.tls12 {
        versions.push(&rustls::version::TLS12);
    }
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| SmtpError::new(ErrorKind::Tls, format!("TLS setup failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match &settings.client_cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| local_file("client certificate file", cert, e))?;
            if chain.is_empty() {
                return Err(SmtpError::new(
                    ErrorKind::LocalFile,
                    format!(
                        "no certificate in client certificate file {}",
                        cert.display()
                    ),
                ));
            }
            let key_der = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| local_file("client key file", key, e))?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                SmtpError::new(
                    ErrorKind::LocalFile,
                    format!("cannot use client certificate {}: {e}", cert.display()),
                )
            })?
        }
    };
    Ok(Arc::new(config))
}

/// The name checked against the certificate and sent as SNI.
pub(crate) fn server_name(settings: &SessionSettings) -> Result<ServerName<'static>, SmtpError> {
    let name = settings.tls_name();
    ServerName::try_from(name.to_owned()).map_err(|_| {
        SmtpError::new(
            ErrorKind::Tls,
            format!("{name:?} is not a valid host name for TLS"),
        )
    })
}

fn local_file(what: &str, path: &Path, e: impl fmt::Display) -> SmtpError {
    SmtpError::new(
        ErrorKind::LocalFile,
        format!("cannot read {what} {}: {e}", path.display()),
    )
}

/// Root certificates for [`Trust`], and the certificates of an explicit
/// `tls_trust_file` (empty for the system bundle and the compiled-in roots).
fn load_roots(trust: &Trust) -> Result<(RootCertStore, Vec<CertificateDer<'static>>), SmtpError> {
    let mut store = RootCertStore::empty();
    let file = match trust {
        Trust::WebpkiRoots => None,
        Trust::System(path) if !path.exists() => None,
        Trust::System(path) | Trust::File(path) => Some(path),
    };
    let Some(path) = file else {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok((store, Vec::new()));
    };
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| local_file("trust file", path, e))?;
    let (added, _ignored) = store.add_parsable_certificates(certs.iter().cloned());
    if added == 0 {
        return Err(SmtpError::new(
            ErrorKind::LocalFile,
            format!("no usable certificate in trust file {}", path.display()),
        ));
    }
    let listed = match trust {
        Trust::File(_) => certs,
        Trust::System(_) | Trust::WebpkiRoots => Vec::new(),
    };
    Ok((store, listed))
}

/// Whether rustls reports webpki's `CaUsedAsEndEntity`: the server presented
/// a CA certificate as its own.
fn is_ca_used_as_end_entity(e: &CertificateError) -> bool {
    match e {
        CertificateError::Other(other) => matches!(
            other.0.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
}

/// Name and dates of a leaf listed in the trust file (see [`CertCheck::WebPki`]).
fn verify_listed_leaf(
    end_entity: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<ServerCertVerified, rustls::Error> {
    let parsed = ParsedCertificate::try_from(end_entity)?;
    rustls::client::verify_server_name(&parsed, server_name)?;
    let info = CertInfo::from_der(end_entity);
    let now = utc_text(now.as_secs());
    if info.not_before == "unknown" || info.not_after == "unknown" {
        return Err(CertificateError::BadEncoding.into());
    }
    // Same fixed-width `YYYY-MM-DD HH:MM:SS UTC` form: text order is time order.
    if now < info.not_before {
        return Err(CertificateError::NotValidYet.into());
    }
    if now > info.not_after {
        return Err(CertificateError::Expired.into());
    }
    Ok(ServerCertVerified::assertion())
}

/// How the server certificate is checked.
#[derive(Debug)]
enum CertCheck {
    /// Only the leaf, never the chain or the name:
    /// - `tls_fingerprint`: only the leaf with this hash is accepted (msmtp's semantics);
    /// - `tls_certcheck off` (no fingerprint): any certificate is accepted.
    Leaf { fingerprint: Option<Fingerprint> },
    /// The webpki check (chain to a trusted root, host name, dates, CRLs),
    /// plus the rule msmtp's GnuTLS follows for a certificate listed in
    /// `tls_trust_file` itself: a self-signed server certificate that carries
    /// the CA flag (`openssl req -x509` sets it by default) is refused by
    /// webpki as `CaUsedAsEndEntity` even though it is its own trust anchor.
    /// When the leaf the server presents is byte-identical to a certificate
    /// in the trust file, that refusal is replaced by the checks that still
    /// mean something: the host name against its subjectAltName/CN and its
    /// validity dates.
    WebPki {
        webpki: Arc<WebPkiServerVerifier>,
        /// The certificates of `tls_trust_file` (none for the system roots).
        listed: Vec<CertificateDer<'static>>,
    },
}

/// The server certificate verifier for every mode ([`CertCheck`]). The
/// handshake signature is verified the same way in all of them (as webpki
/// does it), so the connection is encrypted to the holder of that
/// certificate's key.
#[derive(Debug)]
struct CertVerifier {
    check: CertCheck,
    provider: Arc<CryptoProvider>,
}

/// The pinned fingerprint did not match; shows the server's SHA-256 so the
/// user can compare it with what they expected.
#[derive(Debug)]
struct FingerprintMismatch {
    actual_sha256: String,
}

impl fmt::Display for FingerprintMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&tr!(
            "the certificate fingerprint does not match tls_fingerprint \
             (the server's SHA256 fingerprint is {fingerprint})",
            fingerprint = self.actual_sha256
        ))
    }
}

impl std::error::Error for FingerprintMismatch {}

/// [`CertCheck::Leaf`]: the pinned fingerprint, or anything without one.
fn verify_leaf(
    fingerprint: Option<&Fingerprint>,
    end_entity: &CertificateDer<'_>,
) -> Result<ServerCertVerified, rustls::Error> {
    if fingerprint.is_none_or(|f| fingerprint_matches(f, end_entity)) {
        return Ok(ServerCertVerified::assertion());
    }
    let mismatch = FingerprintMismatch {
        actual_sha256: hex_colon(&Sha256::digest(end_entity.as_ref())),
    };
    Err(rustls::Error::InvalidCertificate(CertificateError::Other(
        rustls::OtherError(Arc::new(mismatch)),
    )))
}

/// Whether `der` hashes to `fingerprint`, compared in constant time.
pub(crate) fn fingerprint_matches(fingerprint: &Fingerprint, der: &[u8]) -> bool {
    match fingerprint {
        Fingerprint::Sha256(want) => Sha256::digest(der).as_slice().ct_eq(want).into(),
        Fingerprint::Sha1(want) => Sha1::digest(der).as_slice().ct_eq(want).into(),
        Fingerprint::Md5(want) => md5::Md5::digest(der).as_slice().ct_eq(want).into(),
    }
}

impl ServerCertVerifier for CertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let (webpki, listed) = match &self.check {
            CertCheck::Leaf { fingerprint } => {
                return verify_leaf(fingerprint.as_ref(), end_entity)
            }
            CertCheck::WebPki { webpki, listed } => (webpki, listed),
        };
        let verdict =
            webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match verdict {
            Err(rustls::Error::InvalidCertificate(e))
                if is_ca_used_as_end_entity(&e)
                    && listed.iter().any(|c| c.as_ref() == end_entity.as_ref()) =>
            {
                verify_listed_leaf(end_entity, server_name, now)
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Reads through to the socket, remembering the first bytes received so a
/// failed handshake can tell "the server speaks plain SMTP" from other errors,
/// and stopping at the handshake's deadline however slowly bytes arrive.
struct Sniff<'a> {
    inner: &'a mut Stream,
    first: Vec<u8>,
    deadline: Option<Instant>,
}

impl Read for Sniff<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.deadline.is_some() {
            self.inner.set_read_timeout(time_left(self.deadline)?)?;
        }
        let n = self.inner.read(buf)?;
        if self.first.len() < 8 {
            let take = n.min(8 - self.first.len());
            self.first.extend_from_slice(&buf[..take]);
        }
        Ok(n)
    }
}

impl Write for Sniff<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.deadline.is_some() {
            self.inner.set_write_timeout(time_left(self.deadline)?)?;
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The first bytes of a plain SMTP greeting (`220 ` / `220-`, or a 4xx/5xx).
pub(crate) fn looks_like_smtp(first: &[u8]) -> bool {
    first.len() >= 4
        && first[..3].iter().all(u8::is_ascii_digit)
        && (first[3] == b' ' || first[3] == b'-')
}

/// The first bytes of a TLS record (handshake or alert, version 3.x).
pub(crate) fn looks_like_tls(first: &[u8]) -> bool {
    first.len() >= 2 && (first[0] == 0x15 || first[0] == 0x16) && first[1] == 0x03
}

/// Runs the TLS handshake on `tcp`. `implicit` says whether this is an
/// implicit-TLS connection (then a plain SMTP greeting means a port mismatch).
/// The whole handshake must be done by `deadline`.
pub(crate) fn handshake(
    mut tcp: Stream,
    config: Arc<ClientConfig>,
    settings: &SessionSettings,
    implicit: bool,
    deadline: Option<Instant>,
) -> Result<TlsStream, SmtpError> {
    let name = server_name(settings)?;
    let mut conn = ClientConnection::new(config, name)
        .map_err(|e| SmtpError::new(ErrorKind::Tls, format!("TLS setup failed: {e}")))?;
    let mut sniff = Sniff {
        inner: &mut tcp,
        first: Vec::new(),
        deadline,
    };
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut sniff) {
            return Err(handshake_error(e, &sniff.first, settings, implicit));
        }
    }
    Ok(StreamOwned::new(conn, tcp))
}

/// The channel binding SCRAM `-PLUS` can use on this session: `tls-exporter`
/// (RFC 9266: 32 bytes exported with label `EXPORTER-Channel-Binding` and an
/// empty context) on TLS 1.3; on TLS 1.2 `tls-server-end-point` (RFC 5929 §4.1:
/// the hash of the server's certificate), since 1.2's exporter and `tls-unique`
/// are only safe with the extended master secret.
pub(crate) fn channel_binding(conn: &ClientConnection) -> Option<(&'static str, Vec<u8>)> {
    match conn.protocol_version()? {
        rustls::ProtocolVersion::TLSv1_3 => {
            let mut out = vec![0u8; 32];
            conn.export_keying_material(&mut out, b"EXPORTER-Channel-Binding", Some(b""))
                .ok()?;
            Some(("tls-exporter", out))
        }
        rustls::ProtocolVersion::TLSv1_2 => {
            let leaf = conn.peer_certificates()?.first()?;
            crate::certinfo::server_end_point(leaf.as_ref())
                .map(|hash| ("tls-server-end-point", hash))
        }
        _ => None,
    }
}

/// Classifies a failed handshake.
fn handshake_error(
    e: io::Error,
    first: &[u8],
    settings: &SessionSettings,
    implicit: bool,
) -> SmtpError {
    if implicit && looks_like_smtp(first) {
        return port_mismatch_plain_server(settings, first);
    }
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(rustls::Error::InvalidCertificate(ce)) => certificate_rejected(settings, ce),
        Some(other) => SmtpError::new(
            ErrorKind::Tls,
            tr!("TLS handshake failed: {reason}", reason = other),
        ),
        None => io_error(&e, "during the TLS handshake"),
    }
}

/// Implicit TLS against a server that greets in plain text.
pub(crate) fn port_mismatch_plain_server(settings: &SessionSettings, first: &[u8]) -> SmtpError {
    // `first` is what the TLS probe read, often a piece of the greeting line: show
    // its first line, marked as cut when it is.
    let greeting = String::from_utf8_lossy(first);
    let line = greeting.lines().next().unwrap_or("").trim_end();
    let cut = if greeting.contains('\n') { "" } else { "…" };
    // Already on 587, the port is right and only the TLS mode is wrong.
    let fix = if settings.port == 587 {
        "set tls_starttls on"
    } else {
        "set tls_starttls on / use port 587"
    };
    SmtpError::new(
        ErrorKind::PortTlsMismatch,
        format!(
            "the server at {}:{} speaks plain SMTP (its greeting starts \"{line}{cut}\"), \
             not implicit TLS: {fix}",
            settings.host, settings.port,
        ),
    )
}

/// A certificate failure, saying which check failed.
fn certificate_rejected(settings: &SessionSettings, e: &CertificateError) -> SmtpError {
    let name = settings.tls_name();
    let why = match e {
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            tr!(
                "the certificate is not valid for the host name {name} \
                 (set tls_host_override if the server uses another name)",
                name = format!("{name:?}")
            )
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            tr!("the certificate has expired").into_owned()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            tr!("the certificate is not valid yet").into_owned()
        }
        CertificateError::UnknownIssuer => {
            tr!("the certificate is not signed by a trusted authority \
             (self-signed or unknown issuer; check tls_trust_file, or pin it with tls_fingerprint)")
            .into_owned()
        }
        CertificateError::Revoked => tr!("the certificate has been revoked").into_owned(),
        e if is_ca_used_as_end_entity(e) => "the server's certificate is a CA certificate \
             (basic constraints CA:TRUE), which cannot identify a server by itself; if it is \
             the server's own self-signed certificate, put exactly that certificate in \
             tls_trust_file or pin it with tls_fingerprint, or give the server a certificate \
             without the CA flag"
            .to_owned(),
        CertificateError::BadSignature => {
            "the certificate's signature does not verify (a damaged or forged certificate)"
                .to_owned()
        }
        CertificateError::BadEncoding => "the certificate cannot be decoded".to_owned(),
        CertificateError::Other(other) => other.to_string(),
        other => rustls::Error::InvalidCertificate(other.clone()).to_string(),
    };
    // rustls' own wording in parentheses, unless `why` already is that wording.
    let rustls_text = rustls::Error::InvalidCertificate(e.clone()).to_string();
    let detail = match e {
        CertificateError::Other(_) => String::new(),
        _ if why == rustls_text => String::new(),
        _ => format!(" ({rustls_text})"),
    };
    SmtpError::new(
        ErrorKind::CertificateRejected,
        format!("TLS certificate verification failed for {name}: {why}{detail}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert!(looks_like_smtp(b"220 mail ESMTP"));
        assert!(looks_like_smtp(b"220-mail"));
        assert!(looks_like_smtp(b"554 go away"));
        assert!(!looks_like_smtp(b"\x16\x03\x03\x00"));
        assert!(looks_like_tls(b"\x15\x03\x03\x00\x02"));
        assert!(looks_like_tls(b"\x16\x03\x01"));
        assert!(!looks_like_tls(b"220 "));
    }

    #[test]
    fn errors_say_each_thing_once() {
        let settings = SessionSettings::new("mail.example.org", 465);
        for e in [
            CertificateError::BadSignature,
            CertificateError::UnknownIssuer,
            CertificateError::Expired,
            CertificateError::UnhandledCriticalExtension,
        ] {
            let text = certificate_rejected(&settings, &e).to_string();
            let rustls_text = rustls::Error::InvalidCertificate(e).to_string();
            assert!(text.matches(&rustls_text).count() <= 1, "{text}");
            let after = text.split_once(": ").map_or("", |(_, w)| w);
            assert!(
                !after.is_empty() && text.matches(after).count() == 1,
                "{text}"
            );
        }
        let text = port_mismatch_plain_server(&settings, b"220 loca").to_string();
        assert!(text.contains("greeting starts \"220 loca…\""), "{text}");
        let text = port_mismatch_plain_server(&settings, b"220 localhost ESMTP\r\n").to_string();
        assert!(
            text.contains("greeting starts \"220 localhost ESMTP\")"),
            "{text}"
        );
    }

    #[test]
    fn the_plain_server_hint_names_port_587_only_when_it_is_another_port() {
        let greeting = b"220 mail.example.org ESMTP\r\n";
        let on_465 = SessionSettings::new("mail.example.org", 465);
        let text = port_mismatch_plain_server(&on_465, greeting).to_string();
        assert!(
            text.ends_with("set tls_starttls on / use port 587"),
            "{text}"
        );
        let on_587 = SessionSettings::new("mail.example.org", 587);
        let text = port_mismatch_plain_server(&on_587, greeting).to_string();
        assert!(text.ends_with("set tls_starttls on"), "{text}");
        assert!(!text.contains("use port 587"), "{text}");
    }

    #[test]
    fn fingerprint_compare() {
        let der = b"not really a certificate";
        let sha256: [u8; 32] = Sha256::digest(der).into();
        let sha1: [u8; 20] = Sha1::digest(der).into();
        let md5: [u8; 16] = md5::Md5::digest(der).into();
        assert!(fingerprint_matches(&Fingerprint::Sha256(sha256), der));
        assert!(fingerprint_matches(&Fingerprint::Sha1(sha1), der));
        assert!(fingerprint_matches(&Fingerprint::Md5(md5), der));
        assert!(!fingerprint_matches(&Fingerprint::Sha256([0; 32]), der));
    }

    #[test]
    fn certificate_messages_name_the_check() {
        let s = SessionSettings::new("mail.example.org", 465);
        let e = certificate_rejected(&s, &CertificateError::NotValidForName);
        assert_eq!(e.kind(), &ErrorKind::CertificateRejected);
        assert_eq!(e.exit_code(), 69);
        assert!(e
            .to_string()
            .contains("not valid for the host name \"mail.example.org\""));
        let e = certificate_rejected(&s, &CertificateError::Expired);
        assert!(e.to_string().contains("expired"), "{e}");
        let e = certificate_rejected(&s, &CertificateError::UnknownIssuer);
        assert!(e.to_string().contains("self-signed"), "{e}");
        assert!(!e.is_transient());
    }

    #[test]
    fn missing_trust_file_is_local_file_error() {
        let mut s = SessionSettings::new("h", 465);
        s.verify.trust = Trust::File("/nonexistent/ca.pem".into());
        let e = client_config(&s).unwrap_err();
        assert_eq!(
            (e.kind(), e.exit_code().code()),
            (&ErrorKind::LocalFile, 66)
        );
        // A missing *system* bundle falls back to the compiled-in roots.
        s.verify.trust = Trust::System("/nonexistent/ca.pem".into());
        assert!(client_config(&s).is_ok());
        s.verify.trust = Trust::WebpkiRoots;
        assert!(client_config(&s).is_ok());
    }

    #[test]
    fn empty_trust_file_and_missing_crl_are_local_file_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let mut s = SessionSettings::new("h", 465);
        s.verify.trust = Trust::File(empty);
        let e = client_config(&s).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::LocalFile);
        assert!(e.to_string().contains("no usable certificate"), "{e}");
        s.verify.trust = Trust::WebpkiRoots;
        s.verify.crl_file = Some(dir.path().join("missing.crl"));
        let e = client_config(&s).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::LocalFile);
        assert!(e.to_string().contains("CRL file"), "{e}");
    }
}
