//! The client side of SCRAM (RFC 5802; SHA-256 from RFC 7677) and of its
//! channel-bound `-PLUS` variants (RFC 5802 §6, `tls-exporter` from RFC 9266).
//!
//! SCRAM never sends the password: the client proves it knows it
//! (`ClientProof`), and the server proves it knows it too (`ServerSignature`,
//! checked here — a relay that cannot prove it is not trusted with the mail).
//! With `-PLUS`, both proofs also cover the TLS session, so a man in the middle
//! holding its own certificate cannot relay the exchange.
//!
//! Nothing here is `Debug`: the salted password, the keys and the proof must
//! not reach a trace or an error message. The user name and password arrive
//! here already SASLprepped (RFC 4013, in `auth`).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The largest iteration count accepted from a server: PBKDF2 at this count
/// takes about a second; a larger one is a server trying to make us spin.
pub(crate) const MAX_ITERATIONS: u32 = 1_000_000;

/// The hash a SCRAM mechanism is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScramHash {
    Sha1,
    Sha256,
}

impl ScramHash {
    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
            // HMAC takes keys of any length, so this cannot fail.
            match <M as hmac::digest::KeyInit>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(data);
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            ScramHash::Sha1 => run::<Hmac<Sha1>>(key, data),
            ScramHash::Sha256 => run::<Hmac<Sha256>>(key, data),
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => Sha1::digest(data).to_vec(),
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    /// `Hi(password, salt, i)`: PBKDF2 with this hash's HMAC (RFC 5802 §2.2).
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => {
                let mut out = [0u8; 20];
                pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out);
                out.to_vec()
            }
            ScramHash::Sha256 => {
                let mut out = [0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
                out.to_vec()
            }
        }
    }
}

/// How the exchange is tied to the TLS session (the GS2 channel-binding flag,
/// RFC 5802 §7 `gs2-cbind-flag`).
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum ChannelBinding {
    /// `n`: no TLS, no binding type for this TLS session, or the server offers
    /// `-PLUS` and a plain variant was chosen explicitly.
    No,
    /// `y`: we could bind, but the server does not offer `-PLUS` (a server
    /// that does offer it then knows the offer was stripped, RFC 5802 §6).
    NotOffered,
    /// `p=TYPE`: bound to this TLS session.
    Bound { kind: &'static str, data: Vec<u8> },
}

impl ChannelBinding {
    fn gs2_flag(&self) -> String {
        match self {
            ChannelBinding::No => "n".to_owned(),
            ChannelBinding::NotOffered => "y".to_owned(),
            ChannelBinding::Bound { kind, .. } => format!("p={kind}"),
        }
    }
}

/// Why an exchange cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScramError {
    /// The server's message does not follow RFC 5802 §7.
    Malformed(String),
    /// The server answered `e=…` (RFC 5802 §7 `server-error`).
    ServerError(String),
    /// The server's signature does not match: it does not know the password.
    BadServerSignature,
}

/// `saslname` (RFC 5802 §5.1): `=` and `,` escaped.
fn sasl_name(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// A printable nonce: 24 random bytes, base64 (never `,`).
pub(crate) fn nonce(random: &[u8]) -> String {
    B64.encode(random)
}

/// One SCRAM exchange, from the client's first message to the check of the
/// server's signature.
pub(crate) struct ScramClient {
    hash: ScramHash,
    binding: ChannelBinding,
    nonce: String,
    client_first_bare: String,
}

/// What the server must send back in `v=` (compared in constant time).
pub(crate) struct ExpectedSignature(Vec<u8>);

impl ScramClient {
    pub(crate) fn new(
        hash: ScramHash,
        user: &str,
        binding: ChannelBinding,
        nonce: String,
    ) -> ScramClient {
        let client_first_bare = format!("n={},r={nonce}", sasl_name(user));
        ScramClient {
            hash,
            binding,
            nonce,
            client_first_bare,
        }
    }

    fn gs2_header(&self) -> String {
        format!("{},,", self.binding.gs2_flag())
    }

    /// `client-first-message`.
    pub(crate) fn first(&self) -> String {
        format!("{}{}", self.gs2_header(), self.client_first_bare)
    }

    /// `client-final-message` for the server's first message, and the
    /// signature the server must then show.
    pub(crate) fn last(
        &self,
        server_first: &[u8],
        password: &str,
    ) -> Result<(String, ExpectedSignature), ScramError> {
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| ScramError::Malformed("the server's first message is not UTF-8".into()))?;
        if let Some(e) = server_first.strip_prefix("e=") {
            return Err(ScramError::ServerError(e.to_owned()));
        }
        let mut fields = server_first.split(',');
        let mut field = |name: &str| {
            fields
                .next()
                .and_then(|f| f.strip_prefix(name))
                .ok_or_else(|| {
                    ScramError::Malformed(format!(
                        "the server's first message has no {name} where expected"
                    ))
                })
        };
        if server_first.starts_with("m=") {
            return Err(ScramError::Malformed(
                "the server requires an extension (m=) that is not supported".into(),
            ));
        }
        let nonce = field("r=")?;
        let salt = field("s=")?;
        let iterations = field("i=")?;
        if !nonce.starts_with(&self.nonce) || nonce.len() <= self.nonce.len() {
            return Err(ScramError::Malformed(
                "the server's nonce does not extend the client's".into(),
            ));
        }
        let salt = B64
            .decode(salt)
            .map_err(|_| ScramError::Malformed("the salt is not base64".into()))?;
        let iterations: u32 = iterations
            .parse()
            .ok()
            .filter(|i| (1..=MAX_ITERATIONS).contains(i))
            .ok_or_else(|| {
                ScramError::Malformed(format!(
                    "iteration count {iterations:?} is not a number from 1 to {MAX_ITERATIONS}"
                ))
            })?;
        let mut cbind_input = self.gs2_header().into_bytes();
        if let ChannelBinding::Bound { data, .. } = &self.binding {
            cbind_input.extend_from_slice(data);
        }
        let without_proof = format!("c={},r={nonce}", B64.encode(&cbind_input));
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let h = self.hash;
        let salted = h.salted_password(password.as_bytes(), &salt, iterations);
        let client_key = h.hmac(&salted, b"Client Key");
        let stored_key = h.digest(&client_key);
        let client_signature = h.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = h.hmac(&salted, b"Server Key");
        let server_signature = h.hmac(&server_key, auth_message.as_bytes());
        Ok((
            format!("{without_proof},p={}", B64.encode(proof)),
            ExpectedSignature(server_signature),
        ))
    }
}

impl ExpectedSignature {
    /// Checks `server-final-message` (`v=…` or `e=…`).
    pub(crate) fn verify(&self, server_final: &[u8]) -> Result<(), ScramError> {
        let text = std::str::from_utf8(server_final)
            .map_err(|_| ScramError::Malformed("the server's final message is not UTF-8".into()))?;
        if let Some(e) = text.strip_prefix("e=") {
            return Err(ScramError::ServerError(e.to_owned()));
        }
        let value = text
            .split(',')
            .next()
            .and_then(|v| v.strip_prefix("v="))
            .ok_or_else(|| ScramError::Malformed("the server's final message has no v=".into()))?;
        let shown = B64
            .decode(value)
            .map_err(|_| ScramError::Malformed("the server signature is not base64".into()))?;
        if bool::from(shown.ct_eq(&self.0)) {
            Ok(())
        } else {
            Err(ScramError::BadServerSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5802 §5: user "user", password "pencil", SHA-1.
    #[test]
    fn rfc5802_example() {
        let c = ScramClient::new(
            ScramHash::Sha1,
            "user",
            ChannelBinding::No,
            "fyko+d2lbbFgONRv9qkxdawL".into(),
        );
        assert_eq!(c.first(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        let server_first =
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
        let (last, expected) = c.last(server_first, "pencil").unwrap();
        assert_eq!(
            last,
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
        expected.verify(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").unwrap();
        assert_eq!(
            expected.verify(b"v=AmF9pqV8S7suAoZWja4dJRkFsKQ="),
            Err(ScramError::BadServerSignature)
        );
    }

    /// RFC 7677 §3: the same exchange with SHA-256.
    #[test]
    fn rfc7677_example() {
        let c = ScramClient::new(
            ScramHash::Sha256,
            "user",
            ChannelBinding::No,
            "rOprNGfwEbeRWgbNEkqO".into(),
        );
        let server_first =
            b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let (last, expected) = c.last(server_first, "pencil").unwrap();
        assert_eq!(
            last,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        expected
            .verify(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
    }

    #[test]
    fn channel_binding_goes_into_c() {
        let data = vec![0xAB; 32];
        let c = ScramClient::new(
            ScramHash::Sha256,
            "a=b,c",
            ChannelBinding::Bound {
                kind: "tls-exporter",
                data: data.clone(),
            },
            "abc".into(),
        );
        assert_eq!(c.first(), "p=tls-exporter,,n=a=3Db=2Cc,r=abc");
        let (last, _) = c.last(b"r=abcdef,s=c2FsdA==,i=4096", "pw").unwrap();
        let mut input = b"p=tls-exporter,,".to_vec();
        input.extend_from_slice(&data);
        assert!(last.starts_with(&format!("c={},r=abcdef,p=", B64.encode(input))));
        let y = ScramClient::new(ScramHash::Sha1, "u", ChannelBinding::NotOffered, "n".into());
        assert_eq!(y.first(), "y,,n=u,r=n");
        let (last, _) = y.last(b"r=nn,s=c2FsdA==,i=1", "pw").unwrap();
        assert!(last.starts_with("c=eSws,"), "{last}");
    }

    #[test]
    fn hostile_server_first_messages() {
        let c = ScramClient::new(ScramHash::Sha256, "u", ChannelBinding::No, "abc".into());
        for bad in [
            &b"r=xyz123,s=c2FsdA==,i=4096"[..],
            b"r=abc,s=c2FsdA==,i=4096",
            b"r=abcd,s=!!,i=4096",
            b"r=abcd,s=c2FsdA==,i=0",
            b"r=abcd,s=c2FsdA==,i=99999999999",
            b"r=abcd,s=c2FsdA==",
            b"m=ext,r=abcd,s=c2FsdA==,i=1",
            b"\xff",
        ] {
            assert!(
                matches!(c.last(bad, "pw"), Err(ScramError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            c.last(b"e=unknown-user", "pw").err(),
            Some(ScramError::ServerError("unknown-user".into()))
        );
    }
}
