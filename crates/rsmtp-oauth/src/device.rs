//! The device authorization grant (RFC 8628): ask for a code, show it, poll the token
//! endpoint at the pace the server sets until the person has signed in elsewhere.

use std::time::{Duration, Instant};

use rsmtp_core::Secret;
use serde_json::{Map, Value};

use crate::error::OAuthError;
use crate::http::{Answer, Http};
pub use crate::interaction::DeviceCode;
use crate::interaction::Interaction;
use crate::settings::OAuthSettings;

/// RFC 8628 §3.2: the polling interval when the server names none.
const DEFAULT_INTERVAL: u64 = 5;
/// RFC 8628 §3.5: what `slow_down` adds to the interval, for good.
const SLOW_DOWN_STEP: u64 = 5;
/// The grant type of the polls (RFC 8628 §3.4).
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What one poll of the token endpoint means (RFC 8628 §3.5).
#[derive(Debug)]
pub(crate) enum Poll {
    /// Signed in: the token response.
    Granted(Map<String, Value>),
    /// `authorization_pending`: ask again after the interval.
    Pending,
    /// `slow_down`: ask again after the interval plus 5 s, from now on.
    SlowDown,
}

/// Reads one poll's answer.
pub(crate) fn poll_step(answer: Answer, account: &str, url: &str) -> Result<Poll, OAuthError> {
    match answer {
        Answer::Ok(map) => Ok(Poll::Granted(map)),
        Answer::Error { error, description } => match error.as_str() {
            "authorization_pending" => Ok(Poll::Pending),
            "slow_down" => Ok(Poll::SlowDown),
            "expired_token" => Err(OAuthError::DeviceCodeExpired {
                account: account.to_string(),
            }),
            "access_denied" => Err(OAuthError::Declined { error, description }),
            _ => Err(OAuthError::Refused {
                url: url.to_string(),
                error,
                description,
            }),
        },
    }
}

/// The whole flow: the code, then polls until a token response.
pub(crate) fn run(
    http: &Http,
    settings: &OAuthSettings,
    ui: &mut dyn Interaction,
) -> Result<Map<String, Value>, OAuthError> {
    let device_url = settings.device_url.as_deref().ok_or(OAuthError::Missing {
        flow: "device",
        command: "oauth2_device_url",
    })?;
    let mut form = vec![
        ("client_id", settings.client_id.as_str()),
        ("scope", settings.scope.as_str()),
    ];
    if let Some(secret) = &settings.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    let map = match http.post_form(device_url, &form)? {
        Answer::Ok(map) => map,
        Answer::Error { error, description } => {
            return Err(OAuthError::Refused {
                url: device_url.to_string(),
                error,
                description,
            })
        }
    };
    let (code, device_code, mut interval) = read_authorization(device_url, &map)?;
    ui.show_device_code(&code);
    let deadline = Instant::now() + Duration::from_secs(code.expires_in);
    let mut form = vec![
        ("grant_type", DEVICE_GRANT),
        ("device_code", device_code.expose()),
        ("client_id", settings.client_id.as_str()),
    ];
    if let Some(secret) = &settings.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    loop {
        ui.wait(Duration::from_secs(interval));
        if Instant::now() >= deadline {
            return Err(OAuthError::DeviceCodeExpired {
                account: settings.account.clone(),
            });
        }
        let answer = http.post_form(&settings.token_url, &form)?;
        match poll_step(answer, &settings.account, &settings.token_url)? {
            Poll::Granted(map) => return Ok(map),
            Poll::Pending => {}
            Poll::SlowDown => interval += SLOW_DOWN_STEP,
        }
    }
}

/// The device authorization response: what to show, the device code, the interval.
fn read_authorization(
    url: &str,
    map: &Map<String, Value>,
) -> Result<(DeviceCode, Secret, u64), OAuthError> {
    let text = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_string);
    let number = |key: &str| match map.get(key) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let bad = |why: &str| OAuthError::BadAnswer {
        url: url.to_string(),
        why: why.to_string(),
    };
    let device_code = text("device_code").ok_or_else(|| bad("no device_code"))?;
    let user_code = text("user_code").ok_or_else(|| bad("no user_code"))?;
    let verification_uri = text("verification_uri")
        .or_else(|| text("verification_url"))
        .ok_or_else(|| bad("no verification_uri"))?;
    let code = DeviceCode {
        user_code,
        verification_uri,
        verification_uri_complete: text("verification_uri_complete"),
        expires_in: number("expires_in").unwrap_or(900),
    };
    let interval = number("interval").unwrap_or(DEFAULT_INTERVAL);
    Ok((code, Secret::new(device_code), interval))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(e: &str) -> Answer {
        Answer::Error {
            error: e.into(),
            description: String::new(),
        }
    }

    #[test]
    fn polls_follow_rfc_8628_section_3_5() {
        assert!(matches!(
            poll_step(error("authorization_pending"), "a", "u"),
            Ok(Poll::Pending)
        ));
        assert!(matches!(
            poll_step(error("slow_down"), "a", "u"),
            Ok(Poll::SlowDown)
        ));
        let e = poll_step(error("expired_token"), "a", "u").expect_err("expired");
        assert!(matches!(e, OAuthError::DeviceCodeExpired { .. }));
        let e = poll_step(error("access_denied"), "a", "u").expect_err("denied");
        assert!(matches!(e, OAuthError::Declined { .. }));
        let e = poll_step(error("invalid_client"), "a", "u").expect_err("refused");
        assert!(matches!(e, OAuthError::Refused { .. }));
        assert!(matches!(
            poll_step(Answer::Ok(Map::new()), "a", "u"),
            Ok(Poll::Granted(_))
        ));
    }

    #[test]
    fn device_authorization_responses() {
        let map = match serde_json::from_str(
            r#"{"device_code":"d","user_code":"ABCD-EFGH","verification_url":"https://g.example/device","expires_in":"1800"}"#,
        ) {
            Ok(Value::Object(m)) => m,
            _ => panic!("object"),
        };
        let (code, device, interval) = read_authorization("u", &map).expect("read");
        assert_eq!(code.verification_uri, "https://g.example/device");
        assert_eq!(code.expires_in, 1800);
        assert_eq!(device.expose(), "d");
        assert_eq!(interval, DEFAULT_INTERVAL);
    }
}
