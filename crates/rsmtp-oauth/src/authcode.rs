//! The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636 `S256`) and a
//! loopback redirect (RFC 8252 §7.3): the person opens a URL, signs in, and the
//! browser is sent to `http://127.0.0.1:PORT/?code=…&state=…`, where rsmtp listens.
//! On a machine without a browser the person pastes that URL (whatever the browser
//! shows after its failed redirect) instead; the first of the two wins.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsmtp_core::Secret;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::OAuthError;
use crate::http::{Answer, Http};
use crate::interaction::Interaction;
use crate::settings::OAuthSettings;

/// How long a login waits for the redirect.
const LOGIN_WAIT: Duration = Duration::from_secs(600);

/// The longest request line read from the browser.
const MAX_REQUEST_LINE: u64 = 16 * 1024;

/// The PKCE `code_challenge` of a verifier: BASE64URL(SHA256(verifier)), unpadded
/// (RFC 7636 §4.2, `S256`).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `n` random bytes as unpadded base64url, from the operating system's generator
/// (through ring, as TLS uses it).
fn random_text(n: usize) -> Result<String, OAuthError> {
    let mut bytes = vec![0u8; n];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| OAuthError::Interaction("no random numbers from the system".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What came back from the authorization server.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Redirect {
    pub(crate) code: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) error_description: Option<String>,
}

/// Reads `code`, `state` and `error` from a redirect URL, its query alone, or an HTTP
/// request target (`/?code=…`).
pub(crate) fn parse_redirect(text: &str) -> Redirect {
    let text = text.trim();
    let query = match text.split_once('?') {
        Some((_, q)) => q,
        None => text,
    };
    let query = query.split('#').next().unwrap_or_default();
    let mut r = Redirect {
        code: None,
        state: None,
        error: None,
        error_description: None,
    };
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        let v = Some(v.into_owned());
        match k.as_ref() {
            "code" => r.code = v,
            "state" => r.state = v,
            "error" => r.error = v,
            "error_description" => r.error_description = v,
            _ => {}
        }
    }
    r
}

/// The whole flow: URL, redirect (loopback or pasted), code exchange.
pub(crate) fn run(
    http: &Http,
    settings: &OAuthSettings,
    ui: &mut dyn Interaction,
) -> Result<Map<String, Value>, OAuthError> {
    let auth_url = settings.auth_url.as_deref().ok_or(OAuthError::Missing {
        flow: "authcode",
        command: "oauth2_auth_url",
    })?;
    let listener =
        TcpListener::bind(("127.0.0.1", settings.redirect_port.unwrap_or(0))).map_err(|e| {
            OAuthError::Interaction(format!(
                "cannot listen on 127.0.0.1:{} for the redirect: {}",
                settings.redirect_port.unwrap_or(0),
                rsmtp_core::strerror(&e)
            ))
        })?;
    let port = listener
        .local_addr()
        .map_err(|e| OAuthError::Interaction(rsmtp_core::strerror(&e)))?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/");
    let verifier = Secret::new(random_text(32)?);
    let state = random_text(16)?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", &settings.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", &settings.scope)
        .append_pair("state", &state)
        .append_pair("code_challenge", &pkce_challenge(verifier.expose()))
        .append_pair("code_challenge_method", "S256");
    for (k, v) in &settings.auth_params {
        query.append_pair(k, v);
    }
    let separator = if auth_url.contains('?') { '&' } else { '?' };
    let url = format!("{auth_url}{separator}{}", query.finish());
    ui.show_auth_url(&url, &redirect_uri);

    let (tx, rx) = mpsc::channel::<String>();
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(target) = answer_browser(stream) {
                    let _ = tx.send(target);
                    return;
                }
            }
        });
    }
    if let Some(read) = ui.redirect_reader() {
        std::thread::spawn(move || {
            if let Some(line) = read() {
                let _ = tx.send(line);
            }
        });
    }
    let text = rx
        .recv_timeout(LOGIN_WAIT)
        .map_err(|_| OAuthError::Redirect("no redirect arrived within 10 minutes".into()))?;
    let redirect = parse_redirect(&text);
    if let Some(error) = redirect.error {
        return Err(OAuthError::Declined {
            error,
            description: crate::error::describe(redirect.error_description.as_deref()),
        });
    }
    if redirect.state.as_deref() != Some(state.as_str()) {
        return Err(OAuthError::Redirect(
            "its state does not match this login (an old or foreign URL); run the login again"
                .into(),
        ));
    }
    let code = Secret::new(
        redirect
            .code
            .ok_or_else(|| OAuthError::Redirect("it carries no code".into()))?,
    );
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", settings.client_id.as_str()),
        ("code_verifier", verifier.expose()),
        ("scope", settings.scope.as_str()),
    ];
    if let Some(secret) = &settings.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    match http.post_form(&settings.token_url, &form)? {
        Answer::Ok(map) => Ok(map),
        Answer::Error { error, description } => Err(OAuthError::Refused {
            url: settings.token_url.clone(),
            error,
            description,
        }),
    }
}

/// Reads one browser request; answers it, and returns its target when it carries a
/// `code` or an `error` (a favicon request gets 404 and is not the redirect).
fn answer_browser(mut stream: TcpStream) -> Option<String> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut line = String::new();
    BufReader::new((&stream).take(MAX_REQUEST_LINE))
        .read_line(&mut line)
        .ok()?;
    let target = line.split_whitespace().nth(1)?.to_string();
    let r = parse_redirect(&target);
    let (status, body) = if r.code.is_some() || r.error.is_some() {
        (
            "200 OK",
            "rsmtp received the sign-in; you can close this window.",
        )
    } else {
        ("404 Not Found", "not the sign-in redirect")
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    (r.code.is_some() || r.error.is_some()).then_some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn redirects_pasted_or_requested() {
        let r = parse_redirect(
            "  http://127.0.0.1:8765/?code=abc%2Fd&state=xyz&session_state=q#frag\n",
        );
        assert_eq!(r.code.as_deref(), Some("abc/d"));
        assert_eq!(r.state.as_deref(), Some("xyz"));
        let r = parse_redirect("/?error=access_denied&error_description=User+said+no&state=s");
        assert_eq!(r.error.as_deref(), Some("access_denied"));
        assert_eq!(r.error_description.as_deref(), Some("User said no"));
        let r = parse_redirect("code=c&state=s");
        assert_eq!(r.code.as_deref(), Some("c"));
    }

    #[test]
    fn verifiers_are_random_and_long_enough() {
        let a = random_text(32).expect("random");
        let b = random_text(32).expect("random");
        assert_ne!(a, b);
        // RFC 7636 §4.1: 43 to 128 characters.
        assert_eq!(a.len(), 43);
    }
}
