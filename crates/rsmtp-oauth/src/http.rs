//! The HTTPS side: one blocking POST of a form, its JSON answer read as RFC 6749
//! §5.1 (success) or §5.2 (error). ureq on rustls with the ring provider; the trust
//! roots come from the account, redirects are not followed (a token endpoint has no
//! reason to redirect, and a redirect would carry the form elsewhere).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde_json::{Map, Value};
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::error::{describe, OAuthError};
use crate::settings::TrustRoots;

/// The largest answer read from an endpoint; a token response is a few KiB.
const MAX_ANSWER: u64 = 64 * 1024;

/// The system bundle behind `tls_trust_file system`.
const SYSTEM_TRUST_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// What an endpoint answered.
pub(crate) enum Answer {
    /// HTTP 200 with a JSON object.
    Ok(Map<String, Value>),
    /// An OAuth error (§5.2: HTTP 400/401 with `error`).
    Error {
        /// The `error` code.
        error: String,
        /// `: error_description`, or empty.
        description: String,
    },
}

/// A blocking HTTPS client for one account's endpoints.
pub(crate) struct Http {
    agent: ureq::Agent,
}

/// The workspace's one HTTPS client: ureq on rustls with the ring provider, trusting
/// `trust`, no redirects, at most `timeout` per request. The OAuth token endpoints use
/// it, and so do backup-alert's healthchecks-style pings.
pub fn https_agent(
    trust: &TrustRoots,
    timeout: Option<Duration>,
) -> Result<ureq::Agent, OAuthError> {
    let roots = match trust {
        TrustRoots::System if Path::new(SYSTEM_TRUST_FILE).exists() => {
            RootCerts::Specific(Arc::new(read_roots(Path::new(SYSTEM_TRUST_FILE))?))
        }
        TrustRoots::System => RootCerts::WebPki,
        TrustRoots::File(path) => RootCerts::Specific(Arc::new(read_roots(path)?)),
    };
    let tls = TlsConfig::builder()
        .root_certs(roots)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build();
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(timeout)
        .user_agent(concat!("rsmtp/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
        .build();
    Ok(config.into())
}

impl Http {
    pub(crate) fn new(trust: &TrustRoots, timeout: Option<Duration>) -> Result<Http, OAuthError> {
        Ok(Http {
            agent: https_agent(trust, timeout)?,
        })
    }

    /// POST `form` to `url` and read the answer.
    pub(crate) fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Result<Answer, OAuthError> {
        let response = self
            .agent
            .post(url)
            .header("Accept", "application/json")
            .send_form(form.iter().copied())
            .map_err(|e| transport_error(url, e))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .map_err(|e| transport_error(url, e))?;
        answer(url, status, &body)
    }
}

/// The certificates of a PEM file, for ureq.
fn read_roots(path: &Path) -> Result<Vec<Certificate<'static>>, OAuthError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| OAuthError::TrustFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(OAuthError::TrustFile {
            path: path.to_owned(),
            reason: "no certificate in it".into(),
        });
    }
    Ok(certs
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect())
}

/// A failure below HTTP: TLS is named as such (not temporary: a wrong trust file
/// stays wrong), everything else is a network problem (temporary).
fn transport_error(url: &str, e: ureq::Error) -> OAuthError {
    match e {
        ureq::Error::Tls(reason) => OAuthError::Tls {
            url: url.to_string(),
            reason: reason.to_string(),
        },
        ureq::Error::Rustls(e) => OAuthError::Tls {
            url: url.to_string(),
            reason: e.to_string(),
        },
        ureq::Error::BodyExceedsLimit(_) => OAuthError::BadAnswer {
            url: url.to_string(),
            why: format!("the answer is larger than {MAX_ANSWER} bytes"),
        },
        ureq::Error::Io(e) => OAuthError::Unreachable {
            url: url.to_string(),
            reason: rsmtp_core::strerror(&e),
        },
        other => OAuthError::Unreachable {
            url: url.to_string(),
            reason: other.to_string(),
        },
    }
}

/// An HTTP answer as RFC 6749 §5.1/§5.2 describe it.
pub(crate) fn answer(url: &str, status: u16, body: &[u8]) -> Result<Answer, OAuthError> {
    if status >= 500 || status == 429 {
        return Err(OAuthError::ServerTrouble {
            url: url.to_string(),
            status,
        });
    }
    let bad = |why: String| OAuthError::BadAnswer {
        url: url.to_string(),
        why,
    };
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    match (status, object) {
        (200..=299, Some(map)) => Ok(Answer::Ok(map)),
        (_, Some(map)) if map.get("error").and_then(Value::as_str).is_some() => {
            let error = map
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(64)
                .collect();
            let description = describe(map.get("error_description").and_then(Value::as_str));
            Ok(Answer::Error { error, description })
        }
        (200..=299, None) => Err(bad("not a JSON object".into())),
        (status, _) => Err(bad(format!("HTTP {status} without an OAuth error"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://login.example/token";

    #[test]
    fn answers_are_read_as_rfc_6749_says() {
        match answer(URL, 200, br#"{"access_token":"a","expires_in":3600}"#) {
            Ok(Answer::Ok(map)) => assert_eq!(map["access_token"], "a"),
            _ => panic!("success expected"),
        }
        match answer(
            URL,
            400,
            br#"{"error":"invalid_grant","error_description":"AADSTS70008: expired"}"#,
        ) {
            Ok(Answer::Error { error, description }) => {
                assert_eq!(error, "invalid_grant");
                assert_eq!(description, ": AADSTS70008: expired");
            }
            _ => panic!("error expected"),
        }
        for status in [500, 503, 429] {
            let e = answer(URL, status, b"busy").err().expect("temporary");
            assert!(e.is_transient(), "{status}");
        }
        let e = answer(URL, 200, b"<html>").err().expect("bad");
        assert_eq!(e.exit_code(), rsmtp_core::ExitCode::Protocol);
        let e = answer(URL, 404, b"{}").err().expect("bad");
        assert_eq!(e.exit_code(), rsmtp_core::ExitCode::Protocol);
    }
}
