//! A scriptable SMTP server on 127.0.0.1 for rsmtp's tests and demo.
//!
//! It speaks plain SMTP, STARTTLS or implicit TLS (rustls with ring; certificates made at
//! start with rcgen), offers a configurable EHLO capability set and AUTH (PLAIN, LOGIN,
//! CRAM-MD5, XOAUTH2, OAUTHBEARER), records every message and the whole transcript, and
//! can be told to misbehave ([`Fault`]).
//!
//! Std threads only: one accept thread, one thread per connection, any number of
//! sequential or concurrent connections. Every socket has a read and write timeout
//! ([`ServerOptions::idle_timeout`], 60 s), so a broken test cannot hang forever; dropping
//! the [`TestServer`] closes the listener and every connection, hung ones included.
//!
//! ```
//! use std::io::{BufRead, BufReader, Write};
//! use std::time::Duration;
//! use rsmtp_testserver::{Fault, ServerOptions, TestServer};
//!
//! let server = TestServer::start(
//!     ServerOptions::new().fault(Fault::reject_recipient("nobody@example.org", 550, "5.1.1 No such user")),
//! );
//! // Any client will do; here a raw socket (see `msmtprc_account` for msmtp/rsmtp).
//! let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
//! s.write_all(b"EHLO me\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n\
//!               RCPT TO:<nobody@example.org>\r\nDATA\r\nSubject: hi\r\n\r\n..x\r\n.\r\nQUIT\r\n").unwrap();
//! let replies: Vec<String> = BufReader::new(s).lines().map(|l| l.unwrap()).collect();
//! assert!(replies.iter().any(|l| l.starts_with("550 5.1.1")));
//!
//! let m = &server.wait_for_messages(1, Duration::from_secs(5))[0];
//! assert_eq!(m.mail_from, "a@example.org");
//! assert_eq!(m.recipients(), ["b@example.org"]);   // the refused one is in m.rcpt_to
//! assert_eq!(m.data, b"Subject: hi\r\n\r\n.x\r\n"); // dot-unstuffed, terminator removed
//! assert!(m.pipelined);
//! println!("{}", server.transcript());            // [1] S: 220 … / [1] C: EHLO me …
//! ```
//!
//! # What can be configured ([`ServerOptions`])
//! - [`Tls`]: `None`, `StartTls` (RFC 3207), `Implicit` (port-465 style); [`LeafKind`]:
//!   the valid `localhost`/`127.0.0.1` certificate, or an expired, wrong-host or
//!   self-signed one (also one with the CA flag, as `openssl req -x509` makes); [`TlsVersions`]; [`ClientCertPolicy`] (the client certificate's
//!   subject is recorded). [`TestCa`] writes every PEM into one directory:
//!   [`TestCa::ca_pem_path`] is the client's `tls_trust_file`,
//!   [`CertKey::sha256_fingerprint`] its `tls_fingerprint`.
//! - [`Extensions`]: PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN, ENHANCEDSTATUSCODES, or
//!   a HELO-only server. MAIL/RCPT parameters the server did not advertise get `555`.
//! - [`AuthConfig`]: user, password, bearer token (or a [`TokenCheck`], such as
//!   [`OAuthServer::token_check`]: the tokens the in-repo OAuth 2.0 server issued),
//!   mechanisms; AUTH required before MAIL
//!   (`530`), offered only inside TLS in STARTTLS mode unless `before_tls`.
//! - [`Fault`]s, for every connection or the first *n*
//!   ([`ServerOptions::faulty_connections`]), changeable at run time
//!   ([`TestServer::set_faults`]): a reply of your choice at any [`Step`] (a `421`
//!   closes the connection, a `554` greeting refuses everything but QUIT), one refused
//!   recipient, never answering a step (no greeting, no reply after the body), closing
//!   instead of answering, closing after *n* bytes of DATA, a delay, a 100 KB reply line,
//!   STARTTLS answered `454`, garbage instead of a TLS handshake. [`closed_port`] gives a
//!   port where connections are refused.
//!
//! # What is recorded
//! [`ReceivedMessage`] (envelope with parameters, the body dot-unstuffed and raw, TLS,
//! AUTH mechanism and identity, client certificate, whether the client pipelined, the
//! final reply), one [`SessionRecord`] per connection (every command line with its
//! pipelining batch, TLS version and SNI, handshake errors, AUTH attempts, QUIT) and a
//! [`Transcript`] of every line exchanged (AUTH lines included verbatim: these are test
//! credentials).
//!
//! [`demo_server`] is the STARTTLS + AUTH server of the README's demo; the
//! `rsmtp-testserver` binary runs any of this from the command line (`--help`).

#![warn(missing_docs)]

mod certs;
pub mod fuzz;
pub mod oauth;
mod options;
pub mod peer;
mod record;
mod sasl;
mod session;
mod transport;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

pub use certs::{CertKey, LeafKind, TestCa};
pub use oauth::{OAuthServer, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET};
pub use options::{
    AuthConfig, ClientCertPolicy, Extensions, Fault, Mechanism, Reply, ServerOptions, Step, Tls,
    TlsVersions, TokenCheck,
};
pub use record::{
    AuthRecord, Command, Direction, ReceivedMessage, Recipient, SessionRecord, Transcript,
    TranscriptEntry,
};

use record::Shared;

/// The user name of [`demo_server`].
pub const DEMO_USER: &str = "demo";
/// The password of [`demo_server`].
pub const DEMO_PASSWORD: &str = "demo-password";

/// The listening socket could not be bound ([`TestServer::try_start`]).
#[derive(Debug)]
pub struct StartError {
    /// The port asked for (0: any free one).
    pub port: u16,
    /// What `bind` said.
    pub source: std::io::Error,
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot listen on 127.0.0.1:{}: {}",
            self.port,
            rsmtp_core::strerror(&self.source)
        )?;
        if self.source.kind() == std::io::ErrorKind::AddrInUse {
            write!(f, " (another process has port {}; pick another)", self.port)?;
        }
        Ok(())
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// A running server. Dropping it closes the listener and every connection.
pub struct TestServer {
    addr: SocketAddr,
    opts: Arc<ServerOptions>,
    shared: Arc<Shared>,
    ca: OnceLock<Arc<TestCa>>,
    accept_thread: Option<JoinHandle<()>>,
    workers: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl TestServer {
    /// Bind 127.0.0.1 (port 0 unless `opts.port` says otherwise) and start serving.
    /// Panics with [`StartError`]'s one line (naming the port) if the port cannot be
    /// bound; use [`try_start`](Self::try_start) to handle that. The TLS setup cannot fail
    /// for the generated certificates.
    pub fn start(opts: ServerOptions) -> TestServer {
        match Self::try_start(opts) {
            Ok(server) => server,
            Err(e) => panic!("rsmtp-testserver: {e}"),
        }
    }

    /// [`start`](Self::start), returning an error when the port cannot be bound (taken,
    /// or below 1024 without the privilege).
    pub fn try_start(opts: ServerOptions) -> Result<TestServer, StartError> {
        let ca = OnceLock::new();
        let needs_certs = opts.needs_tls();
        if let Some(given) = &opts.ca {
            let _ = ca.set(given.clone());
        } else if needs_certs {
            let _ = ca.set(Arc::new(TestCa::new()));
        }
        let tls_config = ca
            .get()
            .filter(|_| needs_certs)
            .map(|ca| server_config(ca, &opts));
        // Sessions find their certificate here (tls-server-end-point channel binding).
        let mut opts = opts;
        if opts.ca.is_none() {
            opts.ca = ca.get().cloned();
        }
        let listener =
            TcpListener::bind(("127.0.0.1", opts.port)).map_err(|source| StartError {
                port: opts.port,
                source,
            })?;
        let addr = listener.local_addr().expect("listener address");
        let shared = Arc::new(Shared::new(opts.faults.clone()));
        let workers = Arc::new(Mutex::new(Vec::new()));
        let opts = Arc::new(opts);
        let accept_thread = {
            let opts = opts.clone();
            let shared = shared.clone();
            let workers = workers.clone();
            std::thread::Builder::new()
                .name(format!("smtp-accept-{}", addr.port()))
                .spawn(move || accept_loop(listener, shared, opts, tls_config, workers))
                .expect("spawn the accept thread")
        };
        Ok(TestServer {
            addr,
            opts,
            shared,
            ca,
            accept_thread: Some(accept_thread),
            workers,
        })
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The options the server was started with.
    pub fn options(&self) -> &ServerOptions {
        &self.opts
    }

    /// An msmtprc account block for this server (usable by msmtp and rsmtp alike):
    /// `host 127.0.0.1`, the port, the TLS mode with `tls_trust_file` pointing at the
    /// CA, the client certificate if the server asks for one, and `auth`/`user`/`password`
    /// when AUTH is configured. Ends with a newline; append `from`, `timeout`, `logfile`…
    /// as needed. (A file holding `password` must be mode 0600 for msmtp.)
    pub fn msmtprc_account(&self, account: &str) -> String {
        let mut rc = format!("account {account}\nhost 127.0.0.1\nport {}\n", self.port());
        let starttls = match self.opts.tls {
            Tls::None => None,
            Tls::StartTls => Some("on"),
            Tls::Implicit => Some("off"),
        };
        match starttls {
            None => rc.push_str("tls off\n"),
            Some(starttls) => {
                rc.push_str(&format!(
                    "tls on\ntls_starttls {starttls}\ntls_trust_file {}\n",
                    self.ca().ca_pem_path().display()
                ));
                if self.opts.client_certs != ClientCertPolicy::None {
                    let client = self.ca().client_cert();
                    rc.push_str(&format!(
                        "tls_cert_file {}\ntls_key_file {}\n",
                        client.cert_path().display(),
                        client.key_path().display()
                    ));
                }
            }
        }
        match &self.opts.auth {
            Some(auth) => rc.push_str(&format!(
                "auth on\nuser {}\npassword {}\n",
                auth.user, auth.password
            )),
            None => rc.push_str("auth off\n"),
        }
        rc
    }

    /// The certificates (generated on first use for a plain-text server).
    pub fn ca(&self) -> &TestCa {
        self.ca.get_or_init(|| Arc::new(TestCa::new()))
    }

    /// The certificates, shareable with another server.
    pub fn ca_arc(&self) -> Arc<TestCa> {
        self.ca();
        self.ca.get().expect("initialised above").clone()
    }

    /// Messages the server accepted (final reply 2xx), in order.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        self.shared.read(|s| s.accepted_messages())
    }

    /// Messages whose body was received but not accepted: rejected after the body, or
    /// never answered (hang/drop fault: `final_reply` is `None`).
    pub fn rejected_messages(&self) -> Vec<ReceivedMessage> {
        self.shared.read(|s| s.rejected_messages())
    }

    /// Wait until at least `n` messages were accepted or `timeout` passed; returns the
    /// accepted messages either way (check the length).
    pub fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<ReceivedMessage> {
        self.shared.wait_until(
            timeout,
            |s| s.accepted_count() >= n,
            |s| s.accepted_messages(),
        )
    }

    /// Wait up to `timeout` for the `n`-th accepted message (0-based, in the order the
    /// server accepted them) and return it alone, shared with the server's record: a
    /// caller taking messages one by one copies none of them, where
    /// [`wait_for_messages`](Self::wait_for_messages) copies the whole list each time.
    pub fn wait_for_message(&self, n: usize, timeout: Duration) -> Option<Arc<ReceivedMessage>> {
        self.shared
            .wait_until(timeout, |s| s.accepted_count() > n, |s| s.nth_accepted(n))
    }

    /// Wait until the bodies of at least `n` messages arrived, answered or not (a
    /// hang fault after the body: the client is now waiting for the final reply);
    /// returns how many arrived.
    pub fn wait_for_bodies(&self, n: usize, timeout: Duration) -> usize {
        self.shared
            .wait_until(timeout, |s| s.messages.len() >= n, |s| s.messages.len())
    }

    /// Wait until at least `n` connections were accepted; returns the count.
    pub fn wait_for_connections(&self, n: usize, timeout: Duration) -> usize {
        self.shared
            .wait_until(timeout, |s| s.connections >= n, |s| s.connections)
    }

    /// Wait until every accepted connection has ended (the client quit or was dropped),
    /// so the records are complete; returns whether that happened in time.
    pub fn wait_for_idle(&self, timeout: Duration) -> bool {
        self.shared.wait_until(
            timeout,
            |s| s.sessions.len() >= s.connections && s.sessions.iter().all(|r| r.closed),
            |s| s.sessions.len() >= s.connections && s.sessions.iter().all(|r| r.closed),
        )
    }

    /// Everything exchanged so far on every connection.
    pub fn transcript(&self) -> Transcript {
        self.shared.read(|s| Transcript {
            entries: s.transcript.clone(),
        })
    }

    /// The transcript lines from index `from` on (to follow it without copying what was
    /// already seen).
    pub fn transcript_since(&self, from: usize) -> Vec<TranscriptEntry> {
        self.shared
            .read(|s| s.transcript.get(from..).unwrap_or_default().to_vec())
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.read(|s| s.connections)
    }

    /// One record per connection, in accept order.
    pub fn sessions(&self) -> Vec<SessionRecord> {
        self.shared.read(|s| {
            let mut v = s.sessions.clone();
            v.sort_by_key(|r| r.id);
            v
        })
    }

    /// Replace the faults for connections accepted from now on (e.g. clear them so a
    /// queued retry succeeds). [`ServerOptions::faulty_connections`] still applies.
    pub fn set_faults(&self, faults: Vec<Fault>) {
        self.shared.update(|s| s.faults = faults);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept thread, which is blocked in accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
        self.shared.close_all_sockets();
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        for w in workers {
            let _ = w.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    opts: Arc<ServerOptions>,
    tls_config: Option<Arc<ServerConfig>>,
    workers: Arc<Mutex<Vec<JoinHandle<()>>>>,
) {
    for stream in listener.incoming() {
        if shared.is_shutting_down() {
            break;
        }
        let Ok(stream) = stream else {
            // EMFILE and friends: back off instead of spinning.
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let id = shared.update(|s| {
            s.connections += 1;
            let id = s.connections;
            s.session_mut(id);
            id
        });
        if let Ok(handle) = stream.try_clone() {
            shared.register_socket(id, handle);
        }
        let (shared, opts, tls_config) = (shared.clone(), opts.clone(), tls_config.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("smtp-conn-{id}"))
            .spawn(move || session::serve(id, shared, opts, tls_config, stream));
        if let Ok(handle) = spawned {
            let mut list = workers.lock().unwrap_or_else(|e| e.into_inner());
            list.retain(|h| !h.is_finished());
            list.push(handle);
        }
    }
}

/// The rustls configuration for the chosen certificate and client-certificate policy.
fn server_config(ca: &TestCa, opts: &ServerOptions) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match opts.tls_versions {
        TlsVersions::Any => rustls::DEFAULT_VERSIONS,
        TlsVersions::Tls12Only => &[&rustls::version::TLS12],
        TlsVersions::Tls13Only => &[&rustls::version::TLS13],
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .expect("ring supports TLS 1.2 and 1.3");
    let builder = match opts.client_certs {
        ClientCertPolicy::None => builder.with_no_client_auth(),
        policy => {
            let mut roots = RootCertStore::empty();
            roots
                .add(ca.ca_der().clone())
                .expect("the test CA is a valid root");
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if policy == ClientCertPolicy::Optional {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            builder.with_client_cert_verifier(verifier.build().expect("client verifier"))
        }
    };
    let leaf = ca.leaf(opts.leaf);
    let config = builder
        .with_single_cert(vec![leaf.cert_der().clone()], leaf.key_der())
        .expect("the generated certificate and key match");
    Arc::new(config)
}

/// A port on 127.0.0.1 that nothing listens on: connecting to it is refused, and a
/// test may bind it later ("the relay comes back on the same port").
///
/// Taken below Linux's ephemeral range (32768-60999 by default), where the kernel
/// never hands a port to a `bind(0)` listener or to an outgoing connection, so that no
/// other test's server or client can take it in between; never the same port twice
/// in one process, and checked free when handed out.
pub fn closed_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    const LOW: u16 = 20_000;
    const SPAN: u16 = 12_000;
    // Start at a place that differs per process, so test binaries run one after the
    // other (or two checkouts at once) do not walk the same ports.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = (std::process::id() % u32::from(SPAN)) as u16;
    for _ in 0..SPAN {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed).wrapping_add(start) % SPAN;
        let port = LOW + offset;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between {LOW} and {}", LOW + SPAN)
}

/// The README demo's server: STARTTLS with a generated CA, AUTH PLAIN and LOGIN for
/// [`DEMO_USER`] / [`DEMO_PASSWORD`], required before MAIL. The CA file for
/// `tls_trust_file` is `server.ca().ca_pem_path()`.
pub fn demo_server() -> TestServer {
    TestServer::start(demo_options())
}

/// The options [`demo_server`] uses (to change the port or add a fault).
pub fn demo_options() -> ServerOptions {
    ServerOptions::new()
        .tls(Tls::StartTls)
        .auth(DEMO_USER, DEMO_PASSWORD)
        .mechanisms(&[Mechanism::Plain, Mechanism::Login])
}
