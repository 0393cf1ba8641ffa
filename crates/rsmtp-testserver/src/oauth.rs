//! A small OAuth 2.0 authorization server on 127.0.0.1 for rsmtp's tests: the token
//! endpoint (RFC 6749 §3.2) with the client credentials, refresh token, authorization
//! code (with PKCE, RFC 7636) and device code (RFC 8628) grants, the device
//! authorization endpoint and an authorization endpoint that approves at once.
//!
//! Why not an existing one (npm's `oauth2-mock-server`): it has no device
//! authorization grant, does not rotate and invalidate refresh tokens, and would add
//! Node.js to CI. What rsmtp must be tested against is exactly those.
//!
//! It behaves like Microsoft's endpoint where rsmtp depends on it: a refresh without
//! `scope` is refused (`invalid_request`, AADSTS900144), each refresh rotates the
//! refresh token and the old one is then `invalid_grant`. It counts every request per
//! grant, and [`OAuthServer::token_check`] lets the SMTP [`crate::TestServer`] accept
//! exactly the access tokens issued here.
//!
//! Plain HTTP on the loopback (rsmtp allows `http://` only there); one thread per
//! connection, `Connection: close`.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::options::TokenCheck;

/// The client the server knows.
pub const OAUTH_CLIENT_ID: &str = "rsmtp-test-client";
/// Its secret (client credentials; optional for the other grants).
pub const OAUTH_CLIENT_SECRET: &str = "test-client-secret";

/// What happens to a pending device code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceState {
    Pending,
    Approved,
    Denied,
    Expired,
}

struct Device {
    user_code: String,
    scope: String,
    state: DeviceState,
    polls: u32,
}

#[derive(Default)]
struct State {
    /// Access tokens issued and not revoked.
    access: HashSet<String>,
    /// Live refresh tokens → their scope.
    refresh: HashMap<String, String>,
    /// Device codes by device_code.
    devices: HashMap<String, Device>,
    /// Authorization codes → (redirect_uri, code_challenge).
    codes: HashMap<String, (String, String)>,
    /// Requests to the token endpoint, by grant_type.
    token_requests: HashMap<String, u32>,
    /// The `scope` of each refresh request, as sent (None: missing).
    refresh_scopes: Vec<Option<String>>,
    /// Instants of device polls, for the interval checks.
    poll_times: Vec<Instant>,
    /// `slow_down` answers still to give before approving.
    slow_downs: u32,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    counter: AtomicU64,
    /// `expires_in` of new access tokens.
    lifetime: AtomicU64,
    /// `interval` of new device codes.
    interval: AtomicU64,
    stop: AtomicBool,
}

impl Shared {
    fn token(&self, kind: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let mut random = [0u8; 12];
        for (i, b) in random.iter_mut().enumerate() {
            *b = fastish(n.wrapping_mul(31).wrapping_add(i as u64));
        }
        format!("{kind}-{n}-{}", URL_SAFE_NO_PAD.encode(random))
    }

    fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let r = f(&mut s);
        self.changed.notify_all();
        r
    }
}

/// Bytes that make tokens unguessable enough for a test (not a secret generator).
fn fastish(seed: u64) -> u8 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    let mut x = seed ^ nanos ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 29;
    (x & 0xff) as u8
}

/// A running authorization server; stopped when dropped.
pub struct OAuthServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

impl Default for OAuthServer {
    fn default() -> Self {
        OAuthServer::start()
    }
}

impl OAuthServer {
    /// Listen on a free port of 127.0.0.1. Access tokens live an hour, device codes
    /// may be polled without pause (`interval` 0).
    pub fn start() -> OAuthServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the OAuth test server");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            counter: AtomicU64::new(1),
            lifetime: AtomicU64::new(3600),
            interval: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &s);
                });
            }
        });
        OAuthServer { addr, shared }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url())
    }

    /// The device authorization endpoint.
    pub fn device_url(&self) -> String {
        format!("{}/devicecode", self.base_url())
    }

    /// The authorization endpoint.
    pub fn auth_url(&self) -> String {
        format!("{}/authorize", self.base_url())
    }

    /// `expires_in` of the access tokens issued from now on (0: stale at once, so the
    /// client must refresh before every use).
    pub fn set_access_lifetime(&self, secs: u64) {
        self.shared.lifetime.store(secs, Ordering::SeqCst);
    }

    /// `interval` of the device codes issued from now on.
    pub fn set_device_interval(&self, secs: u64) {
        self.shared.interval.store(secs, Ordering::SeqCst);
    }

    /// Answer the next `n` device polls `slow_down` (before anything else).
    pub fn slow_down(&self, n: u32) {
        self.shared.update(|s| s.slow_downs = n);
    }

    /// Requests to the token endpoint with this `grant_type` (`client_credentials`,
    /// `refresh_token`, `authorization_code`, or the device grant's URN).
    pub fn token_requests(&self, grant_type: &str) -> u32 {
        self.shared
            .update(|s| s.token_requests.get(grant_type).copied().unwrap_or(0))
    }

    /// Every request to the token endpoint.
    pub fn all_token_requests(&self) -> u32 {
        self.shared.update(|s| s.token_requests.values().sum())
    }

    /// The `scope` each refresh request carried.
    pub fn refresh_scopes(&self) -> Vec<Option<String>> {
        self.shared.update(|s| s.refresh_scopes.clone())
    }

    /// The pauses between consecutive device polls.
    pub fn poll_gaps(&self) -> Vec<Duration> {
        self.shared.update(|s| {
            s.poll_times
                .windows(2)
                .map(|w| w[1].duration_since(w[0]))
                .collect()
        })
    }

    /// Wait until a device code is pending and has been polled once; its user code.
    pub fn wait_for_device_poll(&self, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        let mut s = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(d) = s
                .devices
                .values()
                .find(|d| d.state == DeviceState::Pending && d.polls > 0)
            {
                return Some(d.user_code.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            s = self
                .shared
                .changed
                .wait_timeout(s, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// The person signs in and approves this user code.
    pub fn approve_device(&self, user_code: &str) {
        self.set_device(user_code, DeviceState::Approved);
    }

    /// The person declines.
    pub fn deny_device(&self, user_code: &str) {
        self.set_device(user_code, DeviceState::Denied);
    }

    /// The code runs out before the person signs in.
    pub fn expire_device(&self, user_code: &str) {
        self.set_device(user_code, DeviceState::Expired);
    }

    fn set_device(&self, user_code: &str, state: DeviceState) {
        self.shared.update(|s| {
            for d in s.devices.values_mut() {
                if d.user_code == user_code {
                    d.state = state;
                }
            }
        });
    }

    /// Every refresh token stops working (expired after 90 days, revoked).
    pub fn revoke_refresh_tokens(&self) {
        self.shared.update(|s| s.refresh.clear());
    }

    /// Whether `token` is an access token issued here and not revoked.
    pub fn is_issued(&self, token: &str) -> bool {
        self.shared.update(|s| s.access.contains(token))
    }

    /// Every access token issued here (tests look for them in logs and output).
    pub fn issued_access_tokens(&self) -> Vec<String> {
        self.shared.update(|s| s.access.iter().cloned().collect())
    }

    /// For [`crate::AuthConfig::token_check`]: the SMTP server accepts a bearer token
    /// only if this server issued it.
    pub fn token_check(&self) -> TokenCheck {
        let shared = self.shared.clone();
        TokenCheck::new(move |token| shared.update(|s| s.access.contains(token)))
    }
}

/// The browser's part of an authorization-code sign-in: GET `url` (an authorization
/// URL of this server, which approves at once) and return the address it redirects
/// to — what the browser would load, or what a person pastes on a headless machine.
pub fn browser_redirect(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_once('/').expect("a path");
    let mut s = TcpStream::connect(host).expect("connect to the OAuth test server");
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read the answer");
    answer
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .unwrap_or_else(|| panic!("no redirect: {answer}"))
        .trim()
        .to_string()
}

/// The first line of a client's output that starts with `prefix` (the authorization
/// URL among what `--oauth-login` prints); panics if the output ends first.
pub fn printed_line(output: impl Read, prefix: &str) -> String {
    BufReader::new(output)
        .lines()
        .map(|l| l.expect("read the client's output"))
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix}"))
}

/// One HTTP request: method, target, form body.
fn serve(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0).min(1 << 20);
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let form: HashMap<String, String> = if method == "GET" {
        parse_form(query.as_bytes())
    } else {
        parse_form(&body)
    };
    let (status, headers, body) = match (method.as_str(), path) {
        ("POST", "/token") => token(&form, shared),
        ("POST", "/devicecode") => device_authorization(&form, shared),
        ("GET", "/authorize") => authorize(&form, shared),
        _ => (404, Vec::new(), r#"{"error":"not_found"}"#.to_string()),
    };
    let mut out = stream;
    let reason = match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body.as_bytes())?;
    out.flush()
}

fn parse_form(bytes: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

type Response = (u16, Vec<(String, String)>, String);

fn error(status: u16, code: &str, description: &str) -> Response {
    (
        status,
        Vec::new(),
        format!(r#"{{"error":"{code}","error_description":"{description}"}}"#),
    )
}

/// A token response, the tokens recorded as issued.
fn issue(shared: &Shared, s: &mut State, scope: &str, with_refresh: bool) -> Response {
    let access = shared.token("at");
    s.access.insert(access.clone());
    let lifetime = shared.lifetime.load(Ordering::SeqCst);
    let refresh = if with_refresh {
        let r = shared.token("rt");
        s.refresh.insert(r.clone(), scope.to_string());
        format!(r#","refresh_token":"{r}""#)
    } else {
        String::new()
    };
    (
        200,
        Vec::new(),
        format!(
            r#"{{"token_type":"Bearer","scope":"{scope}","expires_in":{lifetime},"ext_expires_in":{lifetime},"access_token":"{access}"{refresh}}}"#
        ),
    )
}

fn token(form: &HashMap<String, String>, shared: &Shared) -> Response {
    let get = |k: &str| form.get(k).map(String::as_str);
    let grant = get("grant_type").unwrap_or_default().to_string();
    shared.update(|s| {
        *s.token_requests.entry(grant.clone()).or_default() += 1;
        if get("client_id") != Some(OAUTH_CLIENT_ID) {
            return error(400, "invalid_client", "unknown client_id");
        }
        let secret_ok = get("client_secret").is_none_or(|c| c == OAUTH_CLIENT_SECRET);
        if !secret_ok {
            return error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
        }
        match grant.as_str() {
            "client_credentials" => {
                if get("client_secret").is_none() {
                    return error(401, "invalid_client", "client_secret required");
                }
                let scope = get("scope").unwrap_or_default().to_string();
                issue(shared, s, &scope, false)
            }
            "refresh_token" => {
                s.refresh_scopes.push(get("scope").map(str::to_string));
                let Some(scope) = get("scope").filter(|sc| !sc.is_empty()) else {
                    return error(
                        400,
                        "invalid_request",
                        "AADSTS900144: The request body must contain the following parameter: 'scope'.",
                    );
                };
                let presented = get("refresh_token").unwrap_or_default();
                if s.refresh.remove(presented).is_none() {
                    return error(
                        400,
                        "invalid_grant",
                        "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.",
                    );
                }
                let scope = scope.to_string();
                issue(shared, s, &scope, true)
            }
            "urn:ietf:params:oauth:grant-type:device_code" => {
                let code = get("device_code").unwrap_or_default().to_string();
                s.poll_times.push(Instant::now());
                if s.slow_downs > 0 && s.devices.contains_key(&code) {
                    s.slow_downs -= 1;
                    if let Some(d) = s.devices.get_mut(&code) {
                        d.polls += 1;
                    }
                    return error(400, "slow_down", "polling too fast");
                }
                let Some(d) = s.devices.get_mut(&code) else {
                    return error(400, "invalid_grant", "unknown device_code");
                };
                d.polls += 1;
                match d.state {
                    DeviceState::Pending => {
                        error(400, "authorization_pending", "the user has not signed in yet")
                    }
                    DeviceState::Denied => error(400, "access_denied", "the user declined"),
                    DeviceState::Expired => error(400, "expired_token", "the device code expired"),
                    DeviceState::Approved => {
                        let scope = d.scope.clone();
                        s.devices.remove(&code);
                        issue(shared, s, &scope, true)
                    }
                }
            }
            "authorization_code" => {
                let code = get("code").unwrap_or_default();
                let Some((redirect_uri, challenge)) = s.codes.remove(code) else {
                    return error(400, "invalid_grant", "unknown or used authorization code");
                };
                if get("redirect_uri") != Some(redirect_uri.as_str()) {
                    return error(400, "invalid_grant", "redirect_uri does not match");
                }
                let verifier = get("code_verifier").unwrap_or_default();
                if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge {
                    return error(400, "invalid_grant", "PKCE code_verifier does not match");
                }
                let scope = get("scope").unwrap_or_default().to_string();
                issue(shared, s, &scope, true)
            }
            _ => error(400, "unsupported_grant_type", "unknown grant_type"),
        }
    })
}

fn device_authorization(form: &HashMap<String, String>, shared: &Shared) -> Response {
    if form.get("client_id").map(String::as_str) != Some(OAUTH_CLIENT_ID) {
        return error(400, "invalid_client", "unknown client_id");
    }
    let device_code = shared.token("dc");
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    let user_code = format!("RSMT-{n:04}");
    let interval = shared.interval.load(Ordering::SeqCst);
    let scope = form.get("scope").cloned().unwrap_or_default();
    shared.update(|s| {
        s.devices.insert(
            device_code.clone(),
            Device {
                user_code: user_code.clone(),
                scope,
                state: DeviceState::Pending,
                polls: 0,
            },
        )
    });
    (
        200,
        Vec::new(),
        format!(
            r#"{{"device_code":"{device_code}","user_code":"{user_code}","verification_uri":"http://127.0.0.1/device","expires_in":900,"interval":{interval},"message":"To sign in, enter the code {user_code}."}}"#
        ),
    )
}

/// Approves at once: redirects to `redirect_uri` with a code bound to the PKCE
/// challenge.
fn authorize(form: &HashMap<String, String>, shared: &Shared) -> Response {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    if get("client_id") != OAUTH_CLIENT_ID || get("response_type") != "code" {
        return error(400, "invalid_request", "bad client_id or response_type");
    }
    if get("code_challenge_method") != "S256" || get("code_challenge").is_empty() {
        return error(400, "invalid_request", "PKCE S256 required");
    }
    let redirect_uri = get("redirect_uri");
    if !redirect_uri.starts_with("http://127.0.0.1:") {
        return error(
            400,
            "invalid_request",
            "redirect_uri must be a loopback address",
        );
    }
    let code = shared.token("ac");
    shared.update(|s| {
        s.codes
            .insert(code.clone(), (redirect_uri.clone(), get("code_challenge")))
    });
    let location = format!(
        "{redirect_uri}?code={code}&state={}",
        form_urlencoded::byte_serialize(get("state").as_bytes()).collect::<String>()
    );
    (302, vec![("Location".into(), location)], "{}".into())
}
