//! The server side of the SASL mechanisms: checking a decoded client response against
//! the configured credentials. The challenge/response dialogue itself is in `session`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::Digest as _;

use crate::options::AuthConfig;

/// The outcome of checking credentials: who the client said it was, and whether it proved it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub identity: String,
    pub success: bool,
}

/// Decode one base64 client response (RFC 4954 §4: `=` is an empty initial response).
pub(crate) fn decode(line: &[u8]) -> Result<Vec<u8>, String> {
    let line = line.trim_ascii();
    if line == b"=" || line.is_empty() {
        return Ok(Vec::new());
    }
    STANDARD
        .decode(line)
        .map_err(|e| format!("invalid base64: {e}"))
}

/// `N` bytes from the system's generator (ring's, through rustls).
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut out)
        .expect("the system random generator works");
    out
}

pub(crate) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// RFC 4616: `authzid NUL authcid NUL passwd`.
pub(crate) fn plain(response: &[u8], cfg: &AuthConfig) -> Result<Verdict, String> {
    let parts: Vec<&[u8]> = response.split(|&b| b == 0).collect();
    let [authzid, authcid, passwd] = parts.as_slice() else {
        return Err("PLAIN response must be authzid\\0authcid\\0password".to_string());
    };
    let identity = text(authcid);
    let authzid_ok = authzid.is_empty() || authzid == authcid;
    Ok(Verdict {
        success: authzid_ok && identity == cfg.user && *passwd == cfg.password.as_bytes(),
        identity,
    })
}

/// LOGIN: user name and password in two separate responses.
pub(crate) fn login(user: &[u8], password: &[u8], cfg: &AuthConfig) -> Verdict {
    let identity = text(user);
    Verdict {
        success: identity == cfg.user && password == cfg.password.as_bytes(),
        identity,
    }
}

/// RFC 2195: the challenge is a msg-id-like string.
pub(crate) fn cram_md5_challenge(hostname: &str, connection: usize) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "<{}.{}.{}@{}>",
        std::process::id(),
        connection,
        nanos,
        hostname
    )
}

/// RFC 2195: `user SP lowercase-hex(HMAC-MD5(password, challenge))`.
pub(crate) fn cram_md5(
    response: &[u8],
    challenge: &str,
    cfg: &AuthConfig,
) -> Result<Verdict, String> {
    let response = text(response);
    let (user, digest) = response
        .rsplit_once(' ')
        .ok_or_else(|| "CRAM-MD5 response must be 'user digest'".to_string())?;
    let mut mac = Hmac::<Md5>::new_from_slice(cfg.password.as_bytes())
        .map_err(|e| format!("HMAC key: {e}"))?;
    mac.update(challenge.as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Verdict {
        success: user == cfg.user && digest == expected,
        identity: user.to_string(),
    })
}

/// Google's XOAUTH2: `user=U ^A auth=Bearer T ^A ^A`.
pub(crate) fn xoauth2(response: &[u8], cfg: &AuthConfig) -> Result<Verdict, String> {
    let response = text(response);
    let mut user = None;
    let mut token = None;
    for field in response.split('\x01').filter(|f| !f.is_empty()) {
        if let Some(u) = field.strip_prefix("user=") {
            user = Some(u.to_string());
        } else if let Some(a) = field.strip_prefix("auth=") {
            token = Some(bearer(a)?);
        }
    }
    let user = user.ok_or("XOAUTH2 response has no user=")?;
    let token = token.ok_or("XOAUTH2 response has no auth=")?;
    Ok(Verdict {
        success: user == cfg.user && cfg.accepts_token(&token),
        identity: user,
    })
}

/// RFC 7628: `gs2-header ^A key=value ^A … ^A ^A`, gs2 header `n,a=user,`.
pub(crate) fn oauthbearer(response: &[u8], cfg: &AuthConfig) -> Result<Verdict, String> {
    let response = text(response);
    let (gs2, rest) = response
        .split_once('\x01')
        .ok_or("OAUTHBEARER response has no ^A after the GS2 header")?;
    let mut gs2_fields = gs2.split(',');
    match gs2_fields.next() {
        Some("n" | "y") => {}
        _ => {
            return Err(format!(
                "OAUTHBEARER GS2 header '{gs2}' must start with n or y"
            ))
        }
    }
    let authzid = gs2_fields
        .next()
        .and_then(|f| f.strip_prefix("a="))
        .map(|a| a.replace("=2C", ",").replace("=3D", "="));
    let mut token = None;
    for field in rest.split('\x01').filter(|f| !f.is_empty()) {
        if let Some(a) = field.strip_prefix("auth=") {
            token = Some(bearer(a)?);
        }
    }
    let token = token.ok_or("OAUTHBEARER response has no auth=")?;
    let identity = authzid.unwrap_or_else(|| cfg.user.clone());
    Ok(Verdict {
        success: identity == cfg.user && cfg.accepts_token(&token),
        identity,
    })
}

fn bearer(auth: &str) -> Result<String, String> {
    let (scheme, token) = auth
        .split_once(' ')
        .ok_or_else(|| format!("auth= value '{auth}' is not 'Bearer token'"))?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(format!("auth scheme '{scheme}' is not Bearer"));
    }
    Ok(token.to_string())
}

/// The server side of one SCRAM exchange (RFC 5802 §5, §7), between the
/// client's first message and its proof.
pub(crate) struct ScramServer {
    sha256: bool,
    /// `gs2-header` as the client sent it (it comes back, base64, in `c=`).
    gs2_header: String,
    /// The binding type the client asked for (`p=tls-exporter`,
    /// `p=tls-server-end-point`), if any.
    bound: Option<String>,
    client_first_bare: String,
    server_first: String,
    nonce: String,
    identity: String,
}

/// What a SCRAM proof check concluded: the verdict and the `server-final-message`.
pub(crate) struct ScramOutcome {
    pub verdict: Verdict,
    pub server_final: String,
}

fn keyed(sha256: bool, key: &[u8], data: &[u8]) -> Vec<u8> {
    if sha256 {
        let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("any key length");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    } else {
        let mut m = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key).expect("any key length");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    }
}

impl ScramServer {
    /// Reads `client-first-message`. `plus`: the mechanism is a `-PLUS` one;
    /// `plus_offered`: this session advertises one (then a `y` flag means the
    /// offer was stripped on the way, RFC 5802 §6, and the exchange fails).
    pub(crate) fn start(
        response: &[u8],
        sha256: bool,
        plus: bool,
        plus_offered: bool,
        cfg: &AuthConfig,
        server_nonce: &str,
        salt: &[u8],
    ) -> Result<ScramServer, String> {
        let text = std::str::from_utf8(response).map_err(|_| "client-first is not UTF-8")?;
        let mut parts = text.splitn(3, ',');
        let (flag, authzid, bare) = match (parts.next(), parts.next(), parts.next()) {
            (Some(f), Some(a), Some(b)) => (f, a, b),
            _ => return Err(format!("client-first {text:?} has no gs2 header")),
        };
        let bound = match flag {
            "n" => None,
            "y" if plus_offered => return Err("flag y although -PLUS is offered".into()),
            "y" => None,
            "p=tls-exporter" | "p=tls-server-end-point" => Some(flag[2..].to_owned()),
            other => return Err(format!("channel binding flag {other:?} not supported")),
        };
        if bound.is_some() != plus {
            return Err(format!("flag {flag:?} does not fit the mechanism"));
        }
        if !authzid.is_empty() {
            return Err(format!("authzid {authzid:?} not supported"));
        }
        let (user, client_nonce) = bare
            .strip_prefix("n=")
            .and_then(|r| r.split_once(",r="))
            .ok_or_else(|| format!("client-first-bare {bare:?} is not n=…,r=…"))?;
        let identity = user.replace("=2C", ",").replace("=3D", "=");
        let nonce = format!("{client_nonce}{server_nonce}");
        let server_first = format!(
            "r={nonce},s={},i={}",
            STANDARD.encode(salt),
            cfg.scram_iterations
        );
        Ok(ScramServer {
            sha256,
            gs2_header: format!("{flag},{authzid},"),
            bound,
            client_first_bare: bare.to_string(),
            server_first,
            nonce,
            identity,
        })
    }

    pub(crate) fn server_first(&self) -> &str {
        &self.server_first
    }

    /// Checks `client-final-message` against the password; `binding` is the
    /// session's channel binding, type and data (None without TLS).
    pub(crate) fn finish(
        &self,
        response: &[u8],
        cfg: &AuthConfig,
        salt: &[u8],
        binding: Option<(&str, &[u8])>,
    ) -> Result<ScramOutcome, String> {
        let text = std::str::from_utf8(response).map_err(|_| "client-final is not UTF-8")?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or_else(|| format!("client-final {text:?} has no proof"))?;
        let (c, r) = without_proof
            .strip_prefix("c=")
            .and_then(|rest| rest.split_once(",r="))
            .ok_or_else(|| format!("client-final {text:?} is not c=…,r=…,p=…"))?;
        let mut expected_c = self.gs2_header.clone().into_bytes();
        if let Some(kind) = &self.bound {
            let data = binding
                .filter(|(k, _)| k == kind)
                .map(|(_, data)| data)
                .ok_or_else(|| format!("no {kind} channel binding on this session"))?;
            expected_c.extend_from_slice(data);
        }
        let proof = STANDARD.decode(proof).map_err(|e| format!("proof: {e}"))?;
        let c_ok = STANDARD.decode(c).ok().as_deref() == Some(&expected_c[..]);
        let auth_message = format!(
            "{},{},{without_proof}",
            self.client_first_bare, self.server_first
        );
        let mut salted = vec![0u8; if self.sha256 { 32 } else { 20 }];
        if self.sha256 {
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                cfg.password.as_bytes(),
                salt,
                cfg.scram_iterations,
                &mut salted,
            );
        } else {
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(
                cfg.password.as_bytes(),
                salt,
                cfg.scram_iterations,
                &mut salted,
            );
        }
        let stored_key = {
            let client_key = keyed(self.sha256, &salted, b"Client Key");
            if self.sha256 {
                sha2::Sha256::digest(&client_key).to_vec()
            } else {
                sha1::Sha1::digest(&client_key).to_vec()
            }
        };
        let signature = keyed(self.sha256, &stored_key, auth_message.as_bytes());
        // The client key the proof reveals must hash to the stored key.
        let recovered: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
        let recovered_stored = if self.sha256 {
            sha2::Sha256::digest(&recovered).to_vec()
        } else {
            sha1::Sha1::digest(&recovered).to_vec()
        };
        let success = c_ok
            && r == self.nonce
            && proof.len() == signature.len()
            && recovered_stored == stored_key
            && self.identity == cfg.user;
        let mut server_signature = keyed(
            self.sha256,
            &keyed(self.sha256, &salted, b"Server Key"),
            auth_message.as_bytes(),
        );
        if cfg.scram_forged_signature {
            server_signature[0] ^= 0x55;
        }
        Ok(ScramOutcome {
            verdict: Verdict {
                identity: self.identity.clone(),
                success,
            },
            server_final: format!("v={}", STANDARD.encode(server_signature)),
        })
    }
}

/// The error document an OAuth server sends (base64 in a `334`) before the final `535`.
pub(crate) const OAUTH_ERROR_JSON: &str =
    r#"{"status":"invalid_token","schemes":"bearer","scope":"https://mail.example/"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> AuthConfig {
        AuthConfig {
            token: Some("tok".into()),
            ..AuthConfig::new("alice", "secret")
        }
    }

    #[test]
    fn plain_checks_authcid_and_password() {
        let ok = plain(b"\0alice\0secret", &cfg()).unwrap();
        assert_eq!(
            ok,
            Verdict {
                identity: "alice".into(),
                success: true
            }
        );
        assert!(!plain(b"\0alice\0wrong", &cfg()).unwrap().success);
        assert!(!plain(b"bob\0alice\0secret", &cfg()).unwrap().success);
        assert!(plain(b"alice", &cfg()).is_err());
    }

    #[test]
    fn cram_md5_matches_rfc2195_example() {
        // RFC 2195 §2: tim / tanstaaftanstaaf.
        let c = AuthConfig::new("tim", "tanstaaftanstaaf");
        let challenge = "<1896.697170952@postoffice.reston.mci.net>";
        let v = cram_md5(b"tim b913a602c7eda7a495b4e6e7334d3890", challenge, &c).unwrap();
        assert!(v.success);
        let v = cram_md5(b"tim b913a602c7eda7a495b4e6e7334d3891", challenge, &c).unwrap();
        assert!(!v.success);
    }

    #[test]
    fn oauth_responses() {
        let v = xoauth2(b"user=alice\x01auth=Bearer tok\x01\x01", &cfg()).unwrap();
        assert!(v.success);
        let v = xoauth2(b"user=alice\x01auth=Bearer nope\x01\x01", &cfg()).unwrap();
        assert!(!v.success);
        let v = oauthbearer(
            b"n,a=alice,\x01host=localhost\x01port=25\x01auth=Bearer tok\x01\x01",
            &cfg(),
        )
        .unwrap();
        assert_eq!(
            v,
            Verdict {
                identity: "alice".into(),
                success: true
            }
        );
        assert!(oauthbearer(b"garbage", &cfg()).is_err());
    }

    #[test]
    fn decode_accepts_empty_marker() {
        assert_eq!(decode(b"=").unwrap(), b"");
        assert_eq!(decode(b"AGFsaWNl\r\n").unwrap(), b"\0alice");
        assert!(decode(b"!!!").is_err());
    }
}
