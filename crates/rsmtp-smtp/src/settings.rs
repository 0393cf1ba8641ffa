//! What the caller decides before a session starts: where to connect, how to
//! secure and authenticate the connection ([`SessionSettings`]), and what the
//! envelope says ([`Envelope`], RFC 5321 §3.3). Plain data: the config crate
//! fills it in, this crate never reads a file to get it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::mechanism::Mechanism;
use crate::reply::Reply;

/// The system CA bundle used by `tls_trust_file system` (Debian's path).
pub const SYSTEM_TRUST_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// How long to wait for the greeting before suspecting that the port expects
/// implicit TLS (a TLS server waits silently for our ClientHello). Long enough
/// for servers that pause before greeting (sendmail's `greet_pause`, Postfix's
/// postscreen), short enough to report a port/TLS mismatch within seconds.
pub const DEFAULT_GREETING_WAIT: Duration = Duration::from_secs(8);

/// The session limit allows this many account timeouts for the dialogue
/// (greeting, EHLO, STARTTLS, EHLO, AUTH, the envelope, DATA, the final
/// reply: about ten replies, most of them answered at once) …
pub const SESSION_TIMEOUTS: u32 = 5;
/// … plus the message at this throughput: 32 KiB/s (256 kbit/s) is a poor
/// mobile or rural uplink; a real link is faster, a trickling server slower.
pub const SESSION_MIN_THROUGHPUT: u64 = 32 * 1024;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// Plain SMTP, never TLS (`tls off`).
    Off,
    /// Plain connect, then STARTTLS (RFC 3207). Never falls back to plain text:
    /// a server that does not offer STARTTLS is an error.
    #[default]
    StartTls,
    /// TLS from the first byte (RFC 8314 §3.3, usually port 465).
    Implicit,
}

/// Where trusted root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The system bundle at this path; if the file does not exist, the
    /// compiled-in Mozilla roots (webpki-roots) are used instead.
    System(PathBuf),
    /// Exactly the PEM certificates in this file (`tls_trust_file`).
    File(PathBuf),
    /// The compiled-in Mozilla roots.
    WebpkiRoots,
}

impl Default for Trust {
    fn default() -> Self {
        Trust::System(PathBuf::from(SYSTEM_TRUST_FILE))
    }
}

/// `tls_fingerprint`: the one definition, shared with the config crate.
pub use rsmtp_core::Fingerprint;

/// The TLS versions a session may use: the one definition, shared with the config crate.
pub(crate) use rsmtp_core::TlsVersions;

/// Certificate checks for TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verify {
    /// Trusted roots for the normal webpki check.
    pub trust: Trust,
    /// `tls_certcheck`: `false` accepts any certificate (still encrypted, not
    /// authenticated). Ignored when a fingerprint is pinned.
    pub certcheck: bool,
    /// `tls_fingerprint`: when set, only this leaf certificate is accepted and
    /// neither the chain nor the host name is checked (msmtp's rule).
    pub fingerprint: Option<Fingerprint>,
    /// `tls_host_override`: verify the certificate against this name instead
    /// of `host` (also sent as SNI).
    pub host_override: Option<String>,
    /// `tls_crl_file`: PEM certificate revocation lists.
    pub crl_file: Option<PathBuf>,
}

impl Default for Verify {
    fn default() -> Self {
        Verify {
            trust: Trust::default(),
            certcheck: true,
            fingerprint: None,
            host_override: None,
            crl_file: None,
        }
    }
}

/// A SOCKS5 proxy (RFC 1928), without authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// The proxy's host name or IP address (`proxy_host`).
    pub host: String,
    /// The proxy's TCP port (`proxy_port`; 1080 for SOCKS by convention).
    pub port: u16,
}

/// Whether and how to authenticate (RFC 4954).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Auth {
    /// No AUTH command.
    #[default]
    Off,
    /// Pick the best offered method, as msmtp does: with TLS active PLAIN,
    /// then CRAM-MD5, then LOGIN; without TLS only CRAM-MD5 (no cleartext
    /// password over a plain connection unless the method is chosen
    /// explicitly). XOAUTH2 / OAUTHBEARER / EXTERNAL are never picked
    /// automatically.
    Auto,
    /// Exactly this method.
    Method(Mechanism),
}

/// A password or OAuth2 token: the one secret type, shared with the config crate.
pub use rsmtp_core::Secret;

/// User name and password (or token, for XOAUTH2 / OAUTHBEARER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The login name (`user`), which need not be the sender address; for
    /// EXTERNAL, the authorization identity (empty: the certificate's own).
    pub user: String,
    /// The password (`password`, `passwordeval`) or OAuth2 access token;
    /// never printed, and redacted from the trace.
    pub secret: Secret,
    /// Where the secret came from, said in the `-d` trace before AUTH (`OAuth 2.0
    /// access token: from the cache`); never the secret itself.
    pub origin: Option<String>,
}

impl Credentials {
    /// Credentials for `user` with the password or token `secret`.
    pub fn new(user: impl Into<String>, secret: impl Into<Secret>) -> Credentials {
        Credentials {
            user: user.into(),
            secret: secret.into(),
            origin: None,
        }
    }

    /// The same, with [`Credentials::origin`].
    pub fn with_origin(mut self, origin: impl Into<String>) -> Credentials {
        self.origin = Some(origin.into());
        self
    }
}

/// Everything one session needs to know about the server and the connection.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Host name or IP address of the server.
    pub host: String,
    /// TCP port of the server (`port`): 25 for relaying, 587 for submission
    /// with STARTTLS, 465 for implicit TLS (RFC 8314).
    pub port: u16,
    /// Whether and how TLS is used (`tls`, `tls_starttls`).
    pub tls: TlsMode,
    /// How the server certificate is checked (trust roots, pinning,
    /// revocation).
    pub verify: Verify,
    /// TLS protocol versions allowed (`tls_priorities`).
    pub tls_versions: TlsVersions,
    /// Client certificate and key, PEM files (`tls_cert_file`, `tls_key_file`).
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// Argument of EHLO/HELO (`domain`).
    pub helo_domain: String,
    /// The account `timeout`: the limit for the connect, for each complete
    /// reply (counted from when we start waiting for it, not per read) and
    /// for each write; it also scales the session limit
    /// ([`SessionSettings::session_limit`]). `None` waits forever.
    pub timeout: Option<Duration>,
    /// How long to wait for the greeting before probing for a port/TLS
    /// mismatch (see [`DEFAULT_GREETING_WAIT`]). Capped by `timeout`.
    pub greeting_wait: Duration,
    /// Whether a server still silent after `greeting_wait` is probed (a QUIT
    /// line) to tell an implicit-TLS port from a slow one. [`SessionSettings::new`]
    /// turns it on for port 465 only: elsewhere a silent server may just be slow
    /// to greet (sendmail's `greet_pause`, tarpits), and speaking before the
    /// greeting would break the session, so the client waits for the full
    /// timeout and then names implicit TLS as a possible cause.
    pub probe_silent_greeting: bool,
    /// Local address to connect from (`source_ip`).
    pub source_ip: Option<IpAddr>,
    /// `socket`: SMTP over this local unix socket instead of TCP; `host`
    /// then only names the server for TLS (msmtp uses `localhost`).
    pub socket: Option<PathBuf>,
    /// `proxy_host`/`proxy_port`: connect through this SOCKS5 proxy, which is
    /// given `host` as a name (nothing is resolved locally).
    pub proxy: Option<Proxy>,
    /// Whether and how to authenticate (`auth`).
    pub auth: Auth,
    /// User name and password or token for AUTH, `None` when the caller has
    /// none. A mechanism that needs a user name and a password and finds none
    /// (or an empty user name) fails with
    /// [`ErrorKind::AuthUnavailable`](crate::ErrorKind::AuthUnavailable) (exit 69).
    pub credentials: Option<Credentials>,
    /// `protocol lmtp`: LMTP (RFC 2033) instead of SMTP: `LHLO` instead of
    /// `EHLO`, and one reply per recipient after the end of data.
    pub lmtp: bool,
}

impl SessionSettings {
    /// Settings with msmtp-like defaults: STARTTLS, certificate checks on with
    /// the system roots, `localhost` as EHLO domain, no AUTH, no timeout.
    pub fn new(host: impl Into<String>, port: u16) -> SessionSettings {
        SessionSettings {
            host: host.into(),
            port,
            tls: TlsMode::default(),
            verify: Verify::default(),
            tls_versions: TlsVersions::default(),
            client_cert: None,
            helo_domain: "localhost".to_owned(),
            timeout: None,
            greeting_wait: DEFAULT_GREETING_WAIT,
            probe_silent_greeting: port == 465,
            source_ip: None,
            socket: None,
            proxy: None,
            auth: Auth::Off,
            credentials: None,
            lmtp: false,
        }
    }

    /// How long a whole session for a message of `size` bytes may take, from
    /// connect to the final reply: `timeout` × [`SESSION_TIMEOUTS`] + `size`
    /// at [`SESSION_MIN_THROUGHPUT`]. With the default 60 s: 5 min for
    /// ordinary mail, 5 min 32 s for 1 MiB, 58 min for 100 MiB. A server
    /// that answers each reply just within `timeout`, or reads the body a
    /// byte at a time, is cut off at this limit (exit 75, queued when
    /// queueing is on). `None` when `timeout` is off.
    pub fn session_limit(&self, size: u64) -> Option<Duration> {
        let timeout = self.timeout?;
        let transfer = Duration::from_secs_f64(size as f64 / SESSION_MIN_THROUGHPUT as f64);
        Some(
            timeout
                .saturating_mul(SESSION_TIMEOUTS)
                .saturating_add(transfer),
        )
    }

    /// The name the certificate is checked against and sent as SNI.
    pub(crate) fn tls_name(&self) -> &str {
        self.verify.host_override.as_deref().unwrap_or(&self.host)
    }
}

pub use rsmtp_core::Envelope;

/// A delivered message: the server accepted every recipient and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Each recipient with the server's RCPT reply.
    pub recipients: Vec<(String, Reply)>,
    /// The reply to the end of data (`250 2.0.0 Ok: queued as …`).
    pub final_reply: Reply,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_debug_printed() {
        let c = Credentials::new("alice", "hunter2");
        let shown = format!("{c:?} {}", c.secret);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("alice"));
        let mut s = SessionSettings::new("h", 25);
        s.credentials = Some(c);
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn session_limit_scales_with_timeout_and_size() {
        let mut s = SessionSettings::new("h", 25);
        assert_eq!(s.session_limit(1 << 20), None, "no timeout, no limit");
        s.timeout = Some(Duration::from_secs(60));
        assert_eq!(s.session_limit(0), Some(Duration::from_secs(300)));
        assert_eq!(s.session_limit(1 << 20), Some(Duration::from_secs(332)));
        assert_eq!(
            s.session_limit(100 << 20),
            Some(Duration::from_secs(300 + 3200))
        );
        s.timeout = Some(Duration::from_secs(2));
        assert_eq!(s.session_limit(64 * 1024), Some(Duration::from_secs(12)));
    }

    #[test]
    fn fingerprint_parse() {
        let sha256 = ["AB"; 32].join(":");
        assert_eq!(
            Fingerprint::parse(&sha256),
            Some(Fingerprint::Sha256([0xab; 32]))
        );
        assert_eq!(
            Fingerprint::parse(&"0a".repeat(20)),
            Some(Fingerprint::Sha1([0x0a; 20]))
        );
        assert_eq!(
            Fingerprint::parse(&["01"; 16].join(":")),
            Some(Fingerprint::Md5([1; 16]))
        );
        assert_eq!(Fingerprint::parse("AB:CD"), None);
        assert_eq!(Fingerprint::parse("zz"), None);
        assert_eq!(Fingerprint::parse("é"), None);
    }
}
