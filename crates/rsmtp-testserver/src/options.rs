//! What a [`TestServer`](crate::TestServer) is told to be: TLS mode, certificate,
//! EHLO capabilities, AUTH credentials and the faults it should script.
//!
//! Every type here is plain data with public fields and a few builder methods, so a
//! test can write `ServerOptions::new().tls(Tls::StartTls).auth("u", "p")` or set a
//! field directly.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::certs::{LeafKind, TestCa};

/// How the server speaks TLS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tls {
    /// Plain text only; STARTTLS is not advertised.
    #[default]
    None,
    /// Plain text greeting, STARTTLS advertised and honoured (RFC 3207, port 587 style).
    StartTls,
    /// TLS from the first byte (RFC 8314, port 465 style).
    Implicit,
}

impl FromStr for Tls {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "off" | "plain" => Ok(Tls::None),
            "starttls" => Ok(Tls::StartTls),
            "implicit" | "smtps" | "tls" => Ok(Tls::Implicit),
            other => Err(format!(
                "unknown TLS mode '{other}' (expected none, starttls or implicit)"
            )),
        }
    }
}

/// Which TLS protocol versions the server accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsVersions {
    /// TLS 1.2 and 1.3.
    #[default]
    Any,
    /// Only TLS 1.2 (an older server).
    Tls12Only,
    /// Only TLS 1.3.
    Tls13Only,
}

/// Whether the server asks the client for a certificate during the TLS handshake.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientCertPolicy {
    /// Don't ask (the usual case).
    #[default]
    None,
    /// Ask; accept a client without a certificate, verify one that is sent against the CA.
    Optional,
    /// Ask and require a certificate issued by the test CA; the handshake fails otherwise.
    Required,
}

impl FromStr for ClientCertPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "off" => Ok(ClientCertPolicy::None),
            "optional" => Ok(ClientCertPolicy::Optional),
            "required" => Ok(ClientCertPolicy::Required),
            other => Err(format!(
                "unknown client certificate policy '{other}' (expected none, optional or required)"
            )),
        }
    }
}

/// SASL mechanisms the server can implement (RFC 4954 AUTH).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// RFC 4616.
    Plain,
    /// The de-facto LOGIN mechanism (draft-murchison-sasl-login).
    Login,
    /// RFC 2195.
    CramMd5,
    /// Google's XOAUTH2.
    XOAuth2,
    /// RFC 7628.
    OAuthBearer,
    /// RFC 5802.
    ScramSha1,
    /// RFC 7677.
    ScramSha256,
    /// RFC 5802 with `tls-exporter` channel binding (RFC 9266, TLS 1.3 only).
    ScramSha1Plus,
    /// RFC 7677 with `tls-exporter` channel binding (RFC 9266, TLS 1.3 only).
    ScramSha256Plus,
}

impl Mechanism {
    /// Every mechanism, in the order the server advertises them.
    pub const ALL: [Mechanism; 9] = [
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::CramMd5,
        Mechanism::XOAuth2,
        Mechanism::OAuthBearer,
        Mechanism::ScramSha1,
        Mechanism::ScramSha256,
        Mechanism::ScramSha1Plus,
        Mechanism::ScramSha256Plus,
    ];

    /// The name as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Mechanism::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mechanism {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mechanism::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown SASL mechanism '{s}'"))
    }
}

/// Decides whether an XOAUTH2/OAUTHBEARER bearer token is valid (for example
/// [`crate::OAuthServer::token_check`]: issued by that authorization server).
#[derive(Clone)]
pub struct TokenCheck(Arc<dyn Fn(&str) -> bool + Send + Sync>);

impl TokenCheck {
    /// A check from a function of the token.
    pub fn new(check: impl Fn(&str) -> bool + Send + Sync + 'static) -> TokenCheck {
        TokenCheck(Arc::new(check))
    }

    pub(crate) fn accepts(&self, token: &str) -> bool {
        (self.0)(token)
    }
}

impl PartialEq for TokenCheck {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for TokenCheck {}

/// The credentials the server accepts and how it offers AUTH.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The only user name accepted.
    pub user: String,
    /// Its password (PLAIN, LOGIN, CRAM-MD5).
    pub password: String,
    /// The bearer token for XOAUTH2/OAUTHBEARER; `None` means the password is the token
    /// (msmtp passes its `password` as the token).
    pub token: Option<String>,
    /// When set, XOAUTH2/OAUTHBEARER accept the tokens this check accepts (and `token`
    /// is not used): the tokens an [`crate::OAuthServer`] issued.
    pub token_check: Option<TokenCheck>,
    /// Mechanisms advertised and implemented, in this order.
    pub mechanisms: Vec<Mechanism>,
    /// MAIL before a successful AUTH is answered `530 5.7.0 Authentication required`.
    pub required: bool,
    /// In [`Tls::StartTls`] mode AUTH is advertised only after STARTTLS (as real
    /// submission servers do) unless this is set.
    pub before_tls: bool,
    /// SCRAM's iteration count (RFC 5802 `i=`).
    pub scram_iterations: u32,
    /// SCRAM: send a server signature that does not verify (a server that does
    /// not know the password, or a man in the middle), then accept anyway.
    pub scram_forged_signature: bool,
}

impl AuthConfig {
    /// PLAIN and LOGIN for `user`/`password`, required before MAIL.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        AuthConfig {
            user: user.into(),
            password: password.into(),
            token: None,
            token_check: None,
            mechanisms: vec![Mechanism::Plain, Mechanism::Login],
            required: true,
            before_tls: false,
            scram_iterations: 4096,
            scram_forged_signature: false,
        }
    }

    /// The secret XOAUTH2/OAUTHBEARER compare against.
    pub(crate) fn bearer_token(&self) -> &str {
        self.token.as_deref().unwrap_or(&self.password)
    }

    /// Whether XOAUTH2/OAUTHBEARER accept `token`.
    pub(crate) fn accepts_token(&self, token: &str) -> bool {
        match &self.token_check {
            Some(check) => check.accepts(token),
            None => token == self.bearer_token(),
        }
    }
}

// Keep the test secrets out of `{:?}` anyway: STYLE.md says secrets never reach Debug,
// and test failure output gets pasted into issues.
impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_check", &self.token_check.is_some())
            .field("mechanisms", &self.mechanisms)
            .field("required", &self.required)
            .field("before_tls", &self.before_tls)
            .field("scram_iterations", &self.scram_iterations)
            .field("scram_forged_signature", &self.scram_forged_signature)
            .finish()
    }
}

/// The EHLO capability set (RFC 5321 §4.1.1.1 and the extension RFCs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extensions {
    /// `false` makes a HELO-only server: EHLO is answered `502`.
    pub ehlo: bool,
    /// RFC 2920.
    pub pipelining: bool,
    /// RFC 1870: `Some(0)` advertises `SIZE` without a limit, `Some(n)` enforces `n` bytes.
    pub size: Option<u64>,
    /// RFC 6152.
    pub eight_bit_mime: bool,
    /// RFC 6531.
    pub smtputf8: bool,
    /// RFC 3461.
    pub dsn: bool,
    /// RFC 2034.
    pub enhanced_status_codes: bool,
    /// Extra EHLO lines, sent verbatim after the others (e.g. `"CHUNKING"`).
    pub extra: Vec<String>,
}

impl Default for Extensions {
    /// PIPELINING, 8BITMIME and ENHANCEDSTATUSCODES, like a stock Postfix minus SIZE.
    fn default() -> Self {
        Extensions {
            ehlo: true,
            pipelining: true,
            size: None,
            eight_bit_mime: true,
            smtputf8: false,
            dsn: false,
            enhanced_status_codes: true,
            extra: Vec::new(),
        }
    }
}

impl Extensions {
    /// Everything: PIPELINING, SIZE 10 MiB, 8BITMIME, SMTPUTF8, DSN, ENHANCEDSTATUSCODES.
    pub fn all() -> Self {
        Extensions {
            size: Some(10 * 1024 * 1024),
            smtputf8: true,
            dsn: true,
            ..Extensions::default()
        }
    }

    /// EHLO works but advertises no extension at all.
    pub fn none() -> Self {
        Extensions {
            ehlo: true,
            pipelining: false,
            size: None,
            eight_bit_mime: false,
            smtputf8: false,
            dsn: false,
            enhanced_status_codes: false,
            extra: Vec::new(),
        }
    }

    /// An RFC 821 server: EHLO → `502`, only HELO works.
    pub fn helo_only() -> Self {
        Extensions {
            ehlo: false,
            ..Extensions::none()
        }
    }
}

/// One SMTP reply: a code and one or more text lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// Text lines (without the code); at least one.
    pub lines: Vec<String>,
}

impl Reply {
    /// A single-line reply, e.g. `Reply::new(550, "5.1.1 No such user")`.
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        Reply {
            code,
            lines: vec![text.into()],
        }
    }

    /// A multi-line reply (`250-a`, `250-b`, `250 c`).
    pub fn multiline(code: u16, lines: Vec<String>) -> Self {
        let lines = if lines.is_empty() {
            vec![String::new()]
        } else {
            lines
        };
        Reply { code, lines }
    }

    /// 2xx or 3xx.
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    /// The exact bytes sent on the wire.
    pub fn to_wire(&self) -> String {
        if self.lines.is_empty() {
            return format!("{} \r\n", self.code);
        }
        let mut out = String::new();
        let last = self.lines.len() - 1;
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            out.push_str(&format!("{}{}{}\r\n", self.code, sep, line));
        }
        out
    }
}

/// A point in the SMTP dialogue a [`Fault`] can target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// The `220` banner.
    Greeting,
    /// The reply to EHLO.
    Ehlo,
    /// The reply to HELO.
    Helo,
    /// The reply to STARTTLS.
    StartTls,
    /// The final reply to AUTH (the `235`).
    Auth,
    /// The reply to MAIL FROM.
    Mail,
    /// The reply to every RCPT TO (see [`Fault::RejectRecipient`] for one address).
    Rcpt,
    /// The reply to DATA (the `354`).
    Data,
    /// The final reply after the message body (`250 queued`).
    EndOfData,
    /// The reply to RSET.
    Rset,
    /// The reply to NOOP.
    Noop,
    /// The reply to QUIT.
    Quit,
}

/// A scripted misbehaviour. Faults replace what the server would have answered to a
/// well-formed command; a command out of sequence still gets its `503`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer `step` with this reply instead. A `421` closes the connection after it is
    /// sent; a `554` greeting makes the server answer `503` to everything but QUIT.
    Reply(Step, Reply),
    /// Answer RCPT TO for this address (compared case-insensitively) with this reply.
    RejectRecipient(String, Reply),
    /// Never answer `step`: keep the connection open, read and discard whatever arrives,
    /// until the client closes or the server is dropped. `Hang(Step::Greeting)` is a
    /// server that never sends its banner; `Hang(Step::EndOfData)` never confirms a body.
    Hang(Step),
    /// Close the connection instead of answering `step`.
    Drop(Step),
    /// Close the connection once at least this many bytes of message data (after the
    /// `354`) have arrived.
    DropDuringData {
        /// Bytes of body to accept before closing.
        after_bytes: usize,
    },
    /// Wait this long before answering `step`.
    Delay(Step, Duration),
    /// Answer `step` with its usual code but a text of this many bytes on one line.
    LongReply(Step, usize),
    /// Send the reply to `step` one byte at a time, waiting this long before each
    /// byte: a server that is alive (a client's per-read timeout never fires) but
    /// would take minutes over one reply. Combine with [`Fault::LongReply`] for a
    /// long one.
    Trickle(Step, Duration),
    /// Break the TLS handshake: in STARTTLS mode answer `220` then send bytes that are not
    /// TLS; in implicit mode send them instead of the ServerHello. Then close.
    TlsGarbage,
}

impl Fault {
    /// `Fault::Reply(step, Reply::new(code, text))`.
    pub fn reply(step: Step, code: u16, text: impl Into<String>) -> Self {
        Fault::Reply(step, Reply::new(code, text))
    }

    /// A greeting with this code instead of `220` (e.g. 421 or 554).
    pub fn greeting(code: u16, text: impl Into<String>) -> Self {
        Fault::reply(Step::Greeting, code, text)
    }

    /// Refuse one recipient, e.g. `Fault::reject_recipient("bad@example.org", 550, "5.1.1 No such user")`.
    pub fn reject_recipient(
        address: impl Into<String>,
        code: u16,
        text: impl Into<String>,
    ) -> Self {
        Fault::RejectRecipient(address.into(), Reply::new(code, text))
    }

    /// Accept the connection but never send the greeting.
    pub fn no_greeting() -> Self {
        Fault::Hang(Step::Greeting)
    }

    /// Read the whole body but never send the final reply.
    pub fn hang_after_data() -> Self {
        Fault::Hang(Step::EndOfData)
    }

    /// Close the connection after `after_bytes` bytes of body.
    pub fn drop_during_data(after_bytes: usize) -> Self {
        Fault::DropDuringData { after_bytes }
    }

    /// Advertise STARTTLS but answer it `454 4.7.0 TLS not available due to temporary reason`.
    pub fn starttls_unavailable() -> Self {
        Fault::reply(
            Step::StartTls,
            454,
            "4.7.0 TLS not available due to temporary reason",
        )
    }

    /// A `421` at `step`, after which the server closes the connection.
    pub fn service_closing(step: Step) -> Self {
        Fault::reply(
            step,
            421,
            "4.3.2 Service not available, closing transmission channel",
        )
    }
}

/// Everything that configures a [`TestServer`](crate::TestServer). `ServerOptions::default()`
/// is a plain-text server with PIPELINING and 8BITMIME, no AUTH and no faults.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Port to bind on 127.0.0.1; 0 (the default) picks a free one.
    pub port: u16,
    /// The name in the greeting and the EHLO reply.
    pub hostname: String,
    /// TLS mode.
    pub tls: Tls,
    /// Which certificate the server presents.
    pub leaf: LeafKind,
    /// Which TLS versions the server accepts.
    pub tls_versions: TlsVersions,
    /// Certificates to use; `None` generates a fresh CA for this server.
    pub ca: Option<Arc<TestCa>>,
    /// Whether to ask for a client certificate.
    pub client_certs: ClientCertPolicy,
    /// MAIL before STARTTLS is answered `530 5.7.0 Must issue a STARTTLS command first`.
    pub require_tls: bool,
    /// EHLO capabilities.
    pub extensions: Extensions,
    /// AUTH, if offered.
    pub auth: Option<AuthConfig>,
    /// Scripted faults, applied to every connection (or the first
    /// [`faulty_connections`](Self::faulty_connections)).
    pub faults: Vec<Fault>,
    /// Apply `faults` only to the first `n` connections (to test a retry that succeeds).
    pub faulty_connections: Option<usize>,
    /// Read/write timeout on each connection; an idle client gets `421 4.4.2` and is closed.
    pub idle_timeout: Duration,
    /// Hold the reply to MAIL and RCPT up to this long, to see whether the client sends
    /// its next command without waiting (pipelining). Needed to detect pipelining
    /// reliably for a client that writes each command separately (msmtp does); a client
    /// that writes the whole group at once is detected without it. Costs a
    /// non-pipelining client this delay per MAIL/RCPT. Default: off.
    pub pipelining_window: Option<Duration>,
    /// Keep message bodies in [`ReceivedMessage`](crate::ReceivedMessage); switch off for
    /// very large messages (only the sizes are kept then).
    pub store_bodies: bool,
    /// Also keep each body as it came over the wire ([`ReceivedMessage::raw_data`](crate::ReceivedMessage::raw_data):
    /// dot-stuffed, with the terminating `.` line), for a test that checks the client's
    /// stuffing. Off by default, so a body is held once, not twice.
    pub keep_raw_data: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            port: 0,
            hostname: "localhost".to_string(),
            tls: Tls::None,
            leaf: LeafKind::Valid,
            tls_versions: TlsVersions::Any,
            ca: None,
            client_certs: ClientCertPolicy::None,
            require_tls: false,
            extensions: Extensions::default(),
            auth: None,
            faults: Vec::new(),
            faulty_connections: None,
            idle_timeout: Duration::from_secs(60),
            pipelining_window: None,
            store_bodies: true,
            keep_raw_data: false,
        }
    }
}

impl ServerOptions {
    /// Same as `default()`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set the TLS mode.
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = tls;
        self
    }

    /// Present this certificate instead of the valid `localhost` one.
    pub fn leaf(mut self, leaf: LeafKind) -> Self {
        self.leaf = leaf;
        self
    }

    /// Accept only these TLS versions.
    pub fn tls_versions(mut self, versions: TlsVersions) -> Self {
        self.tls_versions = versions;
        self
    }

    /// Use these certificates (share one CA between servers, or across runs).
    pub fn ca(mut self, ca: Arc<TestCa>) -> Self {
        self.ca = Some(ca);
        self
    }

    /// Ask for client certificates.
    pub fn client_certs(mut self, policy: ClientCertPolicy) -> Self {
        self.client_certs = policy;
        self
    }

    /// Refuse MAIL until STARTTLS.
    pub fn require_tls(mut self, require: bool) -> Self {
        self.require_tls = require;
        self
    }

    /// Set the EHLO capabilities.
    pub fn extensions(mut self, extensions: Extensions) -> Self {
        self.extensions = extensions;
        self
    }

    /// Offer AUTH PLAIN and LOGIN for this user and require it before MAIL.
    pub fn auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = Some(AuthConfig::new(user, password));
        self
    }

    /// Set the AUTH configuration in full.
    pub fn auth_config(mut self, auth: AuthConfig) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Change the mechanisms offered (call after [`auth`](Self::auth)).
    pub fn mechanisms(mut self, mechanisms: &[Mechanism]) -> Self {
        if let Some(auth) = self.auth.as_mut() {
            auth.mechanisms = mechanisms.to_vec();
        }
        self
    }

    /// Add a fault.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Apply the faults only to the first `n` connections.
    pub fn faulty_connections(mut self, n: usize) -> Self {
        self.faulty_connections = Some(n);
        self
    }

    /// Set the per-connection idle timeout.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Detect pipelining by holding MAIL/RCPT replies up to `window` (see
    /// [`pipelining_window`](Self::pipelining_window)).
    pub fn pipelining_window(mut self, window: Duration) -> Self {
        self.pipelining_window = Some(window);
        self
    }

    /// Keep the wire form of each body too (see [`keep_raw_data`](Self::keep_raw_data)).
    pub fn keep_raw_data(mut self) -> Self {
        self.keep_raw_data = true;
        self
    }

    /// Bind this port instead of a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Whether any part of the configuration needs certificates.
    pub(crate) fn needs_tls(&self) -> bool {
        self.tls != Tls::None
    }
}
