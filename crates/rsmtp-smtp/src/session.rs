//! One SMTP session from connect to QUIT (RFC 5321 §3): greeting, EHLO (HELO
//! fallback), STARTTLS (RFC 3207) or implicit TLS, AUTH (RFC 4954), the
//! envelope — pipelined when offered (RFC 2920) with SIZE (RFC 1870),
//! BODY=8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531) and DSN (RFC 3461) — and the
//! streamed body.
//!
//! Any error aborts the session: QUIT when the connection is still in step,
//! otherwise just close it (after a timeout, a broken stream, or while the
//! server is reading message data — closing then makes it discard the
//! partial message, RFC 5321 §4.1.1.4). A message is reported delivered only
//! after a 2xx reply to the end of data.

use rsmtp_core::tr;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::extension::{MailBodyParameter, MailParameter, RcptParameter};
use rustls::ClientConfig;

use crate::auth::{self, Exchange};
use crate::body::{self, BodyError, WireMessage};
use crate::capabilities::Capabilities;
use crate::certinfo::CertInfo;
use crate::conn::{Conn, Expired, FirstBytes};
use crate::error::{ErrorKind, SmtpError, Stage};
use crate::info::{ServerInfo, TlsInfo};
use crate::reply::Reply;
use crate::settings::{Auth, Delivered, Envelope, SessionSettings, TlsMode};
use crate::tls::{self, looks_like_tls};
use crate::trace::{redact, Redacting, Trace};
use crate::wire::{check_setting, Command};

/// With PIPELINING (RFC 2920), the whole envelope (RSET, MAIL, every RCPT, DATA)
/// goes out in one write, so 1000 recipients cost one round trip, not 11 (msmtp
/// writes 100 at a time). The bounds keep either side from blocking on a full socket
/// buffer while the other waits: the replies held back while we write are at most
/// this many, about 100 KiB at worst, under Linux's default receive buffer.
const PIPELINE_LIMIT: usize = 1024;
/// … and at most this many bytes of commands per write (1000 RCPTs of ordinary
/// addresses fit).
const PIPELINE_BYTES: usize = 48 * 1024;
/// After the silent-greeting probe, how long to wait for the server's reaction.
const PROBE_WAIT: Duration = Duration::from_secs(3);

/// What goes after DATA: a stream that is dot-stuffed on the way, or a message
/// whose body is already in wire form and is copied as it is.
enum Body<'a, 'm> {
    Stream(&'a mut dyn Read),
    Wire(&'a WireMessage<'m>),
}

/// Delivers one message: connect, secure, authenticate, send, QUIT.
///
/// `message` is the final message in CRLF form, not dot-stuffed.
pub fn send(
    settings: &SessionSettings,
    envelope: &Envelope,
    message: &mut dyn Read,
    trace: &mut dyn Trace,
) -> Result<Delivered, SmtpError> {
    send_one(settings, envelope, Body::Stream(message), trace)
}

/// [`send`] for a message whose body file is already in wire form: the body is
/// copied to the socket (sendfile on a plain connection) instead of being read,
/// scanned and stuffed. Same session, same round trips, same bytes on the wire.
pub fn send_wire(
    settings: &SessionSettings,
    envelope: &Envelope,
    message: &WireMessage<'_>,
    trace: &mut dyn Trace,
) -> Result<Delivered, SmtpError> {
    send_one(settings, envelope, Body::Wire(message), trace)
}

fn send_one(
    settings: &SessionSettings,
    envelope: &Envelope,
    message: Body<'_, '_>,
    trace: &mut dyn Trace,
) -> Result<Delivered, SmtpError> {
    if envelope.recipients.is_empty() {
        return Err(SmtpError::new(ErrorKind::InvalidAddress, "no recipients"));
    }
    // Refuse unusable addresses before touching the network.
    envelope_commands(envelope, &Capabilities::default())?;
    let mut session = Session::open(
        Arc::new(settings.clone()),
        envelope.size.unwrap_or(0),
        Box::new(trace),
    )?;
    // Round trips for a small message over STARTTLS with AUTH, with PIPELINING:
    // connect and greeting 1, EHLO 1, STARTTLS 1, TLS handshake 1 (TLS 1.3), EHLO 1,
    // AUTH PLAIN with its initial response 1 (it must end its group, RFC 2920 §3.1),
    // MAIL+RCPT…+DATA 1, body+dot+QUIT 1 — and the 221 is not awaited: the message
    // was accepted at the 250.
    session.quit_with_body = true;
    let result = session
        .establish()
        .and_then(|()| session.authenticate())
        .and_then(|()| session.deliver(envelope, message, false));
    match result {
        Ok(delivered) => {
            session.quit();
            Ok(delivered)
        }
        Err(e) => {
            session.abort(&e);
            Err(e)
        }
    }
}

/// Connects, reads the greeting and capabilities (after STARTTLS when
/// configured) and the TLS certificate, then QUITs. For `-S/--serverinfo`.
pub fn server_info(
    settings: &SessionSettings,
    trace: &mut dyn Trace,
) -> Result<ServerInfo, SmtpError> {
    let mut session = Session::open(Arc::new(settings.clone()), 0, Box::new(trace))?;
    if let Err(e) = session.establish() {
        session.abort(&e);
        return Err(e);
    }
    let conn = session.conn.as_ref();
    let tls = conn.and_then(Conn::tls).map(|c| TlsInfo {
        protocol: c
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_else(|| "unknown".into()),
        cipher_suite: c
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_else(|| "unknown".into()),
        certificate: c
            .peer_certificates()
            .and_then(|certs| certs.first())
            .map(|der| CertInfo::from_der(der)),
    });
    let info = ServerInfo {
        host: settings.host.clone(),
        port: settings.port,
        address: conn.and_then(Conn::peer),
        tls_mode: settings.tls,
        greeting: session
            .greeting
            .as_ref()
            .map(Reply::text)
            .unwrap_or_default(),
        tls,
        capabilities: session.caps.clone(),
        lmtp: settings.lmtp,
    };
    session.quit();
    Ok(info)
}

/// A session that sends several messages: connect, TLS and AUTH once, then
/// one transaction per message, `RSET` pipelined ahead of each after the
/// first (RFC 5321 §4.1.1.5, RFC 2920 §3.1). A queue flush uses it so that
/// 500 queued messages cost one handshake and one AUTH, not 500.
///
/// Any error ends the session (as in [`send`]): the client is then closed
/// ([`Client::is_open`] is false) and the caller opens a fresh one.
pub struct Client<'a> {
    session: Session<'a>,
    sent: usize,
}

impl<'a> Client<'a> {
    /// Connects, secures and authenticates. The session limit for this part
    /// is that of an empty message; each message then gets its own.
    pub fn connect(
        settings: &SessionSettings,
        trace: Box<dyn Trace + 'a>,
    ) -> Result<Client<'a>, SmtpError> {
        let mut session = Session::open(Arc::new(settings.clone()), 0, trace)?;
        match session.establish().and_then(|()| session.authenticate()) {
            Ok(()) => Ok(Client { session, sent: 0 }),
            Err(e) => {
                session.abort(&e);
                Err(e)
            }
        }
    }

    /// Sends one message over this session: `RSET` first unless it is the
    /// first, then MAIL, RCPT…, DATA and the body, as [`send`] does.
    /// `message` is the final message in CRLF form, not dot-stuffed.
    pub fn send_message(
        &mut self,
        envelope: &Envelope,
        message: &mut dyn Read,
    ) -> Result<Delivered, SmtpError> {
        if envelope.recipients.is_empty() {
            return Err(SmtpError::new(ErrorKind::InvalidAddress, "no recipients"));
        }
        envelope_commands(envelope, &Capabilities::default())?;
        if self.session.conn.is_none() {
            return Err(SmtpError::new(ErrorKind::Io, "the connection is closed"));
        }
        let limit = self
            .session
            .settings
            .session_limit(envelope.size.unwrap_or(0));
        self.session.conn()?.renew_session_limit(limit);
        let reset = self.sent > 0;
        match self.session.deliver(envelope, Body::Stream(message), reset) {
            Ok(delivered) => {
                self.sent += 1;
                Ok(delivered)
            }
            Err(e) => {
                self.session.abort(&e);
                Err(e)
            }
        }
    }

    /// Messages delivered over this session so far.
    pub fn messages_sent(&self) -> usize {
        self.sent
    }

    /// After a failed [`Client::send_message`]: the session broke after the
    /// server took the message data (354) and before its final reply, so the
    /// message may have been delivered; sending it again could duplicate it.
    pub fn data_in_flight(&self) -> bool {
        self.session.in_data
    }

    /// False once an error ended the session.
    pub fn is_open(&self) -> bool {
        self.session.conn.is_some()
    }

    /// Ends the session: QUIT and close, without waiting for the 221.
    pub fn quit(mut self) {
        self.session.quit();
    }
}

struct Session<'a> {
    settings: Arc<SessionSettings>,
    trace: Box<dyn Trace + 'a>,
    tls_config: Option<Arc<ClientConfig>>,
    /// `None` once the connection has been consumed (failed TLS handshake) or closed.
    conn: Option<Conn>,
    greeting: Option<Reply>,
    caps: Capabilities,
    /// The server is reading message data (after 354, before the final reply).
    in_data: bool,
    /// One message, then QUIT ([`send`]): with PIPELINING, QUIT follows the final
    /// dot in the same write (RFC 2920 §3.1 lets QUIT end a group).
    quit_with_body: bool,
    /// QUIT is already on the wire.
    quit_sent: bool,
    /// What a server must not be quoted saying: the password (from AUTH on)
    /// and every AUTH payload sent so far. Replies are redacted before they reach the trace,
    /// an error message or the log line.
    secrets: zeroize::Zeroizing<Vec<String>>,
}

impl<'a> Session<'a> {
    /// Builds the TLS configuration first (so a missing certificate file is
    /// reported without touching the network), then connects. The session
    /// limit for a message of `size` bytes starts now.
    fn open(
        settings: Arc<SessionSettings>,
        size: u64,
        mut trace: Box<dyn Trace + 'a>,
    ) -> Result<Session<'a>, SmtpError> {
        let session_limit = settings.session_limit(size);
        let tls_config = match settings.tls {
            TlsMode::Off => None,
            TlsMode::StartTls | TlsMode::Implicit => Some(tls::client_config(&settings)?),
        };
        // Refuse a setting that would inject commands before connecting, so
        // the server sees nothing at all.
        check_setting(&settings.helo_domain, "domain")?;
        if let (Some(c), true) = (&settings.credentials, settings.auth != Auth::Off) {
            check_setting(&c.user, "user")?;
        }
        let conn = Conn::connect(&settings, session_limit, &mut *trace)?;
        Ok(Session {
            settings,
            trace,
            tls_config,
            conn: Some(conn),
            greeting: None,
            caps: Capabilities::default(),
            in_data: false,
            quit_with_body: false,
            quit_sent: false,
            secrets: zeroize::Zeroizing::new(Vec::new()),
        })
    }

    fn conn(&mut self) -> Result<&mut Conn, SmtpError> {
        self.conn
            .as_mut()
            .ok_or_else(|| SmtpError::new(ErrorKind::Io, "the connection is closed"))
    }

    /// TLS (implicit), greeting, EHLO, STARTTLS and EHLO again.
    fn establish(&mut self) -> Result<(), SmtpError> {
        if self.settings.tls == TlsMode::Implicit {
            self.start_tls(true)?;
        }
        self.read_greeting()?;
        self.ehlo()?;
        if self.settings.tls == TlsMode::StartTls {
            if !self.caps.starttls {
                return Err(SmtpError::new(
                    ErrorKind::StartTlsUnavailable,
                    tr!(
                        "the server {host} does not support TLS via the STARTTLS command; \
                         refusing to continue in plain text",
                        host = self.settings.host
                    ),
                ));
            }
            let reply = self.command(&Command::starttls(), Stage::StartTls)?;
            SmtpError::check(Stage::StartTls, "command STARTTLS failed", reply)?;
            // RFC 3207 §4.2 / CVE-2011-0411: anything already buffered was
            // sent before TLS and must not be read as if it were protected.
            if self.conn()?.has_buffered() {
                return Err(SmtpError::new(
                    ErrorKind::Protocol,
                    "the server sent data after its STARTTLS reply; refusing to continue",
                ));
            }
            self.start_tls(false)?;
            self.ehlo()?;
        }
        Ok(())
    }

    fn start_tls(&mut self, implicit: bool) -> Result<(), SmtpError> {
        let config = self
            .tls_config
            .clone()
            .ok_or_else(|| SmtpError::new(ErrorKind::Tls, "TLS is not configured"))?;
        let conn = self
            .conn
            .take()
            .ok_or_else(|| SmtpError::new(ErrorKind::Io, "the connection is closed"))?;
        let conn = conn.start_tls(config, &self.settings, implicit)?;
        if let Some(c) = conn.tls() {
            let version = c
                .protocol_version()
                .and_then(|v| v.as_str())
                .unwrap_or("unknown version");
            let suite = c
                .negotiated_cipher_suite()
                .and_then(|s| s.suite().as_str())
                .unwrap_or("unknown cipher suite");
            self.trace
                .note(&format!("TLS session established: {version}, {suite}"));
        }
        self.conn = Some(conn);
        Ok(())
    }

    /// Reads the 220 greeting (RFC 5321 §4.3.1). On a plain connection, a
    /// server that stays silent or answers in TLS is an implicit-TLS port.
    fn read_greeting(&mut self) -> Result<(), SmtpError> {
        if self.settings.tls != TlsMode::Implicit {
            let greeting_wait = self.settings.greeting_wait;
            let probe = self.settings.probe_silent_greeting;
            let wait = match (probe, self.settings.timeout) {
                (true, Some(t)) => t.min(greeting_wait),
                (true, None) => greeting_wait,
                (false, Some(t)) => t,
                // No timeout and no probe: wait for the greeting as long as it takes.
                (false, None) => return self.finish_greeting(),
            };
            let conn = self.conn()?;
            match conn.wait_first_bytes(wait)? {
                FirstBytes::Data if looks_like_tls(conn.buffered(8)) => {
                    return Err(self.implicit_tls_port("it answered in TLS"));
                }
                FirstBytes::Data => {}
                FirstBytes::Closed => {
                    return Err(SmtpError::new(
                        ErrorKind::Io,
                        "the server closed the connection without sending a greeting",
                    ));
                }
                FirstBytes::Silent => {
                    if !probe || self.settings.timeout.is_some_and(|t| t <= greeting_wait) {
                        return Err(SmtpError::new(
                            ErrorKind::Timeout,
                            format!(
                                "timeout: no greeting from the server within {} (if port {} \
                                 expects implicit TLS, as 465 does, set tls_starttls off)",
                                secs(wait),
                                self.settings.port
                            ),
                        ));
                    }
                    return Err(self.probe_silent_server(wait));
                }
            }
        }
        self.finish_greeting()
    }

    /// Reads the greeting reply itself and checks it is a 220.
    fn finish_greeting(&mut self) -> Result<(), SmtpError> {
        let reply = self.read_reply(Stage::Greeting)?;
        if reply.code() != 220 {
            return Err(SmtpError::rejected(
                Stage::Greeting,
                tr!("the server did not accept the connection"),
                reply,
            ));
        }
        self.greeting = Some(reply);
        Ok(())
    }

    /// The server said nothing for `waited`. An implicit-TLS server waits for
    /// our ClientHello; a QUIT line makes it answer with a TLS alert (or
    /// hang up), while a slow SMTP server would answer in SMTP. Either way
    /// the session is over: we have no greeting.
    fn probe_silent_server(&mut self, waited: Duration) -> SmtpError {
        let note = format!(
            "no greeting after {}; checking whether the server expects implicit TLS",
            secs(waited)
        );
        self.trace.note(&note);
        let port = self.settings.port;
        let no_greeting = format!(
            "timeout: no greeting from the server within {}",
            secs(waited)
        );
        let Some(conn) = self.conn.as_mut() else {
            return SmtpError::new(ErrorKind::Timeout, no_greeting);
        };
        let probe = conn.send(&[Command::quit()], &mut *self.trace);
        let seen = match probe {
            Ok(()) => conn.wait_first_bytes(PROBE_WAIT),
            Err(_) => Ok(FirstBytes::Closed),
        };
        match seen {
            Ok(FirstBytes::Data) if looks_like_tls(conn.buffered(8)) => {
                self.implicit_tls_port("it waited silently and answered plain text with TLS")
            }
            Ok(FirstBytes::Closed) | Err(_) => {
                self.implicit_tls_port("it waited silently and hung up on plain text")
            }
            Ok(FirstBytes::Silent) if port == 465 => self.implicit_tls_port("it waited silently"),
            Ok(FirstBytes::Data | FirstBytes::Silent) => {
                SmtpError::new(ErrorKind::Timeout, no_greeting)
            }
        }
    }

    /// A plain-text client on an implicit-TLS port.
    fn implicit_tls_port(&self, evidence: &str) -> SmtpError {
        let fix = match self.settings.tls {
            TlsMode::Off => "set tls on and tls_starttls off",
            _ => "set tls_starttls off",
        };
        SmtpError::new(
            ErrorKind::PortTlsMismatch,
            format!(
                "no plain SMTP greeting from {} port {}: the server expects implicit TLS \
                 ({evidence}); port 465 uses implicit TLS: {fix}",
                self.settings.host, self.settings.port
            ),
        )
    }

    /// EHLO, or HELO if the server refuses EHLO with 5xx (RFC 5321 §4.1.4);
    /// LHLO for LMTP, which has no HELO (RFC 2033 §4.1).
    fn ehlo(&mut self) -> Result<(), SmtpError> {
        let domain = self.settings.helo_domain.clone();
        if self.settings.lmtp {
            let reply = self.command(&Command::lhlo(&domain)?, Stage::Ehlo)?;
            let reply = SmtpError::check(Stage::Ehlo, "command LHLO failed", reply)?;
            self.caps = Capabilities::from_ehlo(&reply);
            return Ok(());
        }
        let reply = self.command(&Command::ehlo(&domain)?, Stage::Ehlo)?;
        if !reply.is_permanent() {
            let reply = SmtpError::check(Stage::Ehlo, "command EHLO failed", reply)?;
            self.caps = Capabilities::from_ehlo(&reply);
            return Ok(());
        }
        let reply = self.command(&Command::helo(&domain)?, Stage::Helo)?;
        let reply = SmtpError::check(
            Stage::Helo,
            "the server accepts neither EHLO nor HELO",
            reply,
        )?;
        self.caps = Capabilities::helo(&reply);
        Ok(())
    }

    fn authenticate(&mut self) -> Result<(), SmtpError> {
        let tls = self.conn.as_ref().and_then(|c| c.tls());
        let tls_binding = tls.and_then(tls::channel_binding);
        let kind = tls_binding.as_ref().map(|(kind, _)| *kind);
        let Some(mechanism) = auth::choose(self.settings.auth, &self.caps, tls.is_some(), kind)?
        else {
            return Ok(());
        };
        let binding = auth::channel_binding(mechanism, &self.caps, tls_binding);
        let settings = Arc::clone(&self.settings);
        // From AUTH on, a server quoting the password is redacted too (not
        // before: the greeting and EHLO replies must reach the capability
        // parser intact). A very short password would redact ordinary words;
        // the payloads that carry it are redacted whatever its length.
        self.secrets.extend(
            settings
                .credentials
                .iter()
                .map(|c| c.secret.expose().to_owned())
                .filter(|s| s.chars().count() >= 4),
        );
        if let Some(origin) = settings
            .credentials
            .as_ref()
            .and_then(|c| c.origin.as_ref())
        {
            self.trace.note(origin);
        }
        auth::authenticate(
            self,
            mechanism,
            settings.credentials.as_ref(),
            settings.tls_name(),
            settings.port,
            binding,
        )
    }

    /// MAIL, RCPT…, DATA (pipelined when offered), the body, the final reply;
    /// with `reset`, an `RSET` ahead of them (in the same group when pipelining).
    fn deliver(
        &mut self,
        envelope: &Envelope,
        message: Body<'_, '_>,
        reset: bool,
    ) -> Result<Delivered, SmtpError> {
        let caps = self.caps.clone();
        if let (Some(limit), Some(size)) = (caps.size, envelope.size) {
            if limit > 0 && size > limit {
                return Err(SmtpError::new(
                    ErrorKind::TooLarge { size, limit },
                    format!("the message ({size} bytes) exceeds the server's size limit of {limit} bytes"),
                ));
            }
        }
        if (envelope.dsn_notify.is_some() || envelope.dsn_return.is_some()) && !caps.dsn {
            return Err(SmtpError::new(
                ErrorKind::ExtensionUnavailable,
                tr!("the server does not support DSN"),
            ));
        }
        let mut commands = envelope_commands(envelope, &caps)?;
        if reset {
            commands.insert(0, (Stage::Rset, Command::rset()));
        }
        let replies = self.run_envelope(&commands, caps.pipelining)?;
        let mut replies = replies.into_iter();
        if reset {
            let Some(rset) = replies.next() else {
                return Err(SmtpError::new(ErrorKind::Protocol, "no reply to RSET"));
            };
            if rset.is_transient() || rset.is_permanent() {
                return Err(SmtpError::rejected(
                    Stage::Rset,
                    "command RSET failed",
                    rset,
                ));
            }
            if !Stage::Rset.expects(rset.code()) {
                return Err(SmtpError::unexpected(Stage::Rset, rset));
            }
        }
        let mail = replies.next();
        let rcpts: Vec<(String, Reply)> = envelope
            .recipients
            .iter()
            .cloned()
            .zip(replies.by_ref())
            .collect();
        let data = replies.next();
        if data.as_ref().is_some_and(|r| r.code() == 354) {
            self.in_data = true;
        }
        let Some(mail) = mail else {
            return Err(SmtpError::new(ErrorKind::Protocol, "no reply to MAIL FROM"));
        };
        SmtpError::check(
            Stage::Mail,
            tr!(
                "envelope from address {address} not accepted by the server",
                address = envelope.from
            ),
            mail,
        )?;
        if let Some((_, r)) = rcpts.iter().find(|(_, r)| is_out_of_step(Stage::Rcpt, r)) {
            return Err(SmtpError::unexpected(Stage::Rcpt, r.clone()));
        }
        let refused: Vec<(String, Reply)> = rcpts
            .iter()
            .filter(|(_, r)| !Stage::Rcpt.expects(r.code()))
            .cloned()
            .collect();
        if !refused.is_empty() {
            let message = refused
                .iter()
                .map(|(rcpt, r)| {
                    tr!(
                        "recipient address {address} not accepted by the server: {reply}",
                        address = rcpt,
                        reply = r
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            return Err(SmtpError::new(
                ErrorKind::RecipientsRefused(refused),
                message,
            ));
        }
        if rcpts.len() != envelope.recipients.len() {
            return Err(SmtpError::new(
                ErrorKind::Protocol,
                "missing reply to RCPT TO",
            ));
        }
        let Some(data) = data else {
            return Err(SmtpError::new(ErrorKind::Protocol, "no reply to DATA"));
        };
        SmtpError::check(Stage::Data, "the server does not accept mail data", data)?;
        let final_reply = if self.settings.lmtp {
            self.send_body_lmtp(message, &envelope.recipients)?
        } else {
            self.send_body(message)?
        };
        Ok(Delivered {
            recipients: rcpts,
            final_reply,
        })
    }

    /// Sends the envelope commands and collects their replies in order. With
    /// pipelining, up to [`PIPELINE_LIMIT`] commands go out in one write;
    /// without it, one at a time, stopping after a refused MAIL and never
    /// sending DATA after a refused RCPT.
    fn run_envelope(
        &mut self,
        commands: &[(Stage, Command)],
        pipelining: bool,
    ) -> Result<Vec<Reply>, SmtpError> {
        let batch = if pipelining { PIPELINE_LIMIT } else { 1 };
        // Up to `batch` commands, but no more than PIPELINE_BYTES of them (at least one).
        let group_end = |start: usize| {
            let mut bytes = 0;
            let mut end = start;
            while end < commands.len() && end - start < batch {
                bytes += commands[end].1.wire().len();
                if end > start && bytes > PIPELINE_BYTES {
                    break;
                }
                end += 1;
            }
            end
        };
        let mut replies: Vec<Reply> = Vec::with_capacity(commands.len());
        let mut start = 0;
        // Kept up to date reply by reply: recomputing it per batch was quadratic
        // (100,000 recipients from `-t` took minutes without PIPELINING).
        let mut failed = false;
        // A refused RSET or MAIL ends the envelope: nothing after it makes sense.
        let mut mail_failed = false;
        while start < commands.len() {
            let next_is_data = commands.get(start).is_some_and(|(s, _)| *s == Stage::Data);
            if mail_failed || (failed && (next_is_data || pipelining)) {
                break;
            }
            let end = group_end(start);
            let chunk: Vec<Command> = commands[start..end]
                .iter()
                .map(|(_, c)| c.clone())
                .collect();
            let trace = &mut *self.trace;
            let conn = self
                .conn
                .as_mut()
                .ok_or_else(|| SmtpError::new(ErrorKind::Io, "the connection is closed"))?;
            conn.send(&chunk, trace)?;
            for (stage, _) in &commands[start..end] {
                let reply = self.read_reply(*stage)?;
                let refused = !stage.expects(reply.code());
                failed |= refused;
                mail_failed |= refused && matches!(stage, Stage::Mail | Stage::Rset);
                replies.push(reply);
            }
            start = end;
        }
        Ok(replies)
    }

    /// Streams the body and reads the reply to the final dot.
    fn send_body(&mut self, message: Body<'_, '_>) -> Result<Reply, SmtpError> {
        self.write_body(message)?;
        let reply = self.read_final_reply()?;
        self.in_data = false;
        SmtpError::check(
            Stage::Body,
            tr!("the server did not accept the mail"),
            reply,
        )
    }

    /// LMTP (RFC 2033 §4.2): streams the body, then reads one reply per
    /// recipient, in RCPT order. Any refusal is a [`ErrorKind::PartlyDelivered`]
    /// naming who has the message and who was refused; the last reply is kept
    /// as the final one when all accepted.
    fn send_body_lmtp(
        &mut self,
        message: Body<'_, '_>,
        recipients: &[String],
    ) -> Result<Reply, SmtpError> {
        self.write_body(message)?;
        let mut delivered = Vec::new();
        let mut failed = Vec::new();
        let mut last = None;
        let mut connection_lost = false;
        for (i, rcpt) in recipients.iter().enumerate() {
            let reply = match self.read_final_reply() {
                Ok(reply) => reply,
                // The connection went away (or timed out) between two replies: those
                // who got their 250 have the message and must never get it again, so
                // the rest is a temporary refusal (possibly a duplicate if the server
                // delivered without telling us: never a loss).
                Err(e) if !delivered.is_empty() => {
                    let lost = Reply::new(
                        421,
                        vec![format!(
                            "4.4.2 connection lost before the reply for this recipient ({e})"
                        )],
                    );
                    failed.extend(recipients[i..].iter().map(|r| (r.clone(), lost.clone())));
                    connection_lost = true;
                    break;
                }
                Err(e) => return Err(e),
            };
            if Stage::Body.expects(reply.code()) {
                delivered.push(rcpt.clone());
            } else if reply.is_transient() || reply.is_permanent() {
                failed.push((rcpt.clone(), reply.clone()));
            } else {
                return Err(SmtpError::unexpected(Stage::Body, reply));
            }
            last = Some(reply);
        }
        // A lost connection stays "in data": the session is closed, not sent QUIT.
        self.in_data = connection_lost;
        let last = last.ok_or_else(|| SmtpError::new(ErrorKind::Protocol, "no recipients"))?;
        if failed.is_empty() {
            return Ok(last);
        }
        let mut message = String::from("delivery to one or more recipients failed: ");
        message.push_str(
            &failed
                .iter()
                .map(|(rcpt, r)| format!("the server refuses to send the mail to {rcpt}: {r}"))
                .collect::<Vec<_>>()
                .join("; "),
        );
        if delivered.is_empty() {
            message.push_str("; delivered to nobody");
        } else {
            message.push_str(&format!("; delivered to {}", delivered.join(", ")));
        }
        Err(SmtpError::new(
            ErrorKind::PartlyDelivered { delivered, failed },
            message,
        ))
    }

    /// Streams the body, the final dot, and QUIT with it when it may go there.
    fn write_body(&mut self, message: Body<'_, '_>) -> Result<(), SmtpError> {
        let quit = self.quit_with_body && self.caps.pipelining;
        let trailer: &[u8] = if quit { b"QUIT\r\n" } else { b"" };
        let conn = self.conn()?;
        let sent = match message {
            Body::Stream(message) => body::send_body(message, &mut conn.writer(), trailer),
            Body::Wire(message) => body::send_wire(message, conn, trailer),
        };
        let bytes = match sent {
            Ok(n) => n,
            Err(BodyError::Read(e)) => {
                return Err(SmtpError::new(
                    ErrorKind::Input,
                    format!("cannot read the message: {e}"),
                )
                .with_source(e))
            }
            Err(BodyError::Write(e)) => {
                return Err(self.conn()?.limit_error(&e, "sending the message body"))
            }
        };
        self.trace
            .note(&format!("message body sent ({bytes} bytes)"));
        self.trace.sent(".");
        if quit {
            self.trace.sent("QUIT");
            self.quit_sent = true;
        }
        Ok(())
    }

    /// A reply to the end of data; a broken connection then may have lost the message.
    fn read_final_reply(&mut self) -> Result<Reply, SmtpError> {
        match self.read_reply(Stage::Body) {
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Io | ErrorKind::Timeout | ErrorKind::Tls
                ) =>
            {
                Err(SmtpError::new(
                    e.kind().clone(),
                    format!("{e} after the message was sent; it may not have been delivered"),
                )
                .unanswered())
            }
            read => read,
        }
    }

    /// Sends one command and reads its reply.
    fn command(&mut self, command: &Command, stage: Stage) -> Result<Reply, SmtpError> {
        let trace = &mut *self.trace;
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| SmtpError::new(ErrorKind::Io, "the connection is closed"))?;
        conn.send(std::slice::from_ref(command), trace)?;
        self.read_reply(stage)
    }

    /// Reads a reply; a 421 (the server is closing, RFC 5321 §3.8) ends the
    /// session at once, whatever the step.
    fn read_reply(&mut self, stage: Stage) -> Result<Reply, SmtpError> {
        let secrets = &self.secrets;
        let mut trace = Redacting {
            inner: &mut *self.trace,
            secrets,
        };
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| SmtpError::new(ErrorKind::Io, "the connection is closed"))?;
        let reply = match conn.read_reply(&mut trace) {
            Ok(reply) => crate::reply::redacted(reply, secrets),
            // An invalid reply line is quoted in the error.
            Err(e) if secrets.iter().any(|s| e.to_string().contains(s.as_str())) => {
                return Err(SmtpError::new(
                    e.kind().clone(),
                    redact(&e.to_string(), secrets),
                ))
            }
            Err(e) if e.kind() == &ErrorKind::Timeout => {
                return Err(match conn.expired() {
                    Expired::Reply(wait) => SmtpError::new(
                        ErrorKind::Timeout,
                        format!(
                            "timeout: the server answered too slowly: no complete reply to \
                             {stage} within {} (timeout)",
                            secs(wait)
                        ),
                    ),
                    Expired::Session => conn.limit_error(
                        &std::io::Error::from(std::io::ErrorKind::TimedOut),
                        &format!("waiting for the reply to {stage}"),
                    ),
                });
            }
            Err(e) => return Err(e),
        };
        if reply.code() == 421 {
            return Err(SmtpError::rejected(
                stage,
                format!("the server is closing the connection (at {stage})"),
                reply,
            ));
        }
        Ok(reply)
    }

    /// Ends a session: QUIT (unless it went with the final dot), then close at once.
    /// The message was accepted at its 250; waiting for the 221 would only cost the
    /// caller a round trip (RFC 5321 §4.1.1.10 has the server close after it).
    fn quit(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            if !self.quit_sent {
                let mut trace = Redacting {
                    inner: &mut *self.trace,
                    secrets: &self.secrets,
                };
                let _ = conn.send(&[Command::quit()], &mut trace);
                self.quit_sent = true;
            }
            conn.close();
        }
    }

    /// Ends a failed session: QUIT if the conversation is still in step,
    /// otherwise just close.
    fn abort(&mut self, e: &SmtpError) {
        let broken = self.in_data
            || matches!(
                e.kind(),
                ErrorKind::Timeout | ErrorKind::Io | ErrorKind::Tls | ErrorKind::PortTlsMismatch
            )
            // Out of step (an invalid reply, or `221` to MAIL FROM): the
            // server's state is unknown, so QUIT might be read as anything.
            || e.kind() == &ErrorKind::Protocol
            || e.reply().is_some_and(|r| r.code() == 421);
        if broken {
            if let Some(conn) = self.conn.take() {
                conn.close();
            }
        } else {
            self.quit();
        }
    }
}

impl Exchange for Session<'_> {
    fn exchange(&mut self, command: &Command) -> Result<Reply, SmtpError> {
        self.secrets.extend(command.secret_words());
        self.command(command, Stage::Auth)
    }
}

/// MAIL, one RCPT per recipient, DATA — with the parameters the server offers.
fn envelope_commands(
    envelope: &Envelope,
    caps: &Capabilities,
) -> Result<Vec<(Stage, Command)>, SmtpError> {
    let mut mail_params = Vec::new();
    if let (Some(_), Some(size)) = (caps.size, envelope.size) {
        mail_params.push(MailParameter::Size(
            usize::try_from(size).unwrap_or(usize::MAX),
        ));
    }
    if envelope.eight_bit && caps.eight_bit_mime {
        mail_params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let non_ascii = !envelope.from.is_ascii() || envelope.recipients.iter().any(|r| !r.is_ascii());
    if (envelope.smtputf8 || non_ascii) && caps.smtputf8 {
        mail_params.push(MailParameter::SmtpUtfEight);
    }
    if let Some(ret) = &envelope.dsn_return {
        let ret = check_setting(ret, "dsn_return")?;
        mail_params.push(MailParameter::Other {
            keyword: "RET".into(),
            value: Some(ret.to_ascii_uppercase()),
        });
    }
    let notify = match &envelope.dsn_notify {
        Some(n) => Some(check_setting(n, "dsn_notify")?),
        None => None,
    };
    let rcpt_params: Vec<RcptParameter> = notify
        .iter()
        .map(|n| RcptParameter::Other {
            keyword: "NOTIFY".into(),
            value: Some(n.to_ascii_uppercase()),
        })
        .collect();
    let mut commands = vec![(Stage::Mail, Command::mail(&envelope.from, &mail_params)?)];
    for rcpt in &envelope.recipients {
        commands.push((Stage::Rcpt, Command::rcpt(rcpt, &rcpt_params)?));
    }
    commands.push((Stage::Data, Command::data()));
    Ok(commands)
}

/// A reply that is neither the success code for `stage` nor a 4xx/5xx refusal.
fn is_out_of_step(stage: Stage, reply: &Reply) -> bool {
    !stage.expects(reply.code()) && !reply.is_transient() && !reply.is_permanent()
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps() -> Capabilities {
        Capabilities {
            size: Some(1000),
            eight_bit_mime: true,
            smtputf8: true,
            dsn: true,
            ..Capabilities::default()
        }
    }

    fn shown(cmds: &[(Stage, Command)]) -> Vec<String> {
        cmds.iter().map(|(_, c)| c.shown().to_owned()).collect()
    }

    #[test]
    fn envelope_parameters_when_offered() {
        let mut e = Envelope::new("a@x.org", vec!["b@y.org".into(), "c@z.org".into()]);
        e.size = Some(500);
        e.eight_bit = true;
        e.dsn_notify = Some("failure,delay".into());
        e.dsn_return = Some("hdrs".into());
        let cmds = envelope_commands(&e, &caps()).unwrap();
        assert_eq!(
            shown(&cmds),
            [
                "MAIL FROM:<a@x.org> SIZE=500 BODY=8BITMIME RET=HDRS",
                "RCPT TO:<b@y.org> NOTIFY=FAILURE,DELAY",
                "RCPT TO:<c@z.org> NOTIFY=FAILURE,DELAY",
                "DATA"
            ]
        );
    }

    #[test]
    fn no_parameters_when_not_offered() {
        let mut e = Envelope::new("a@x.org", vec!["b@y.org".into()]);
        e.size = Some(500);
        e.eight_bit = true;
        e.smtputf8 = true;
        let cmds = envelope_commands(&e, &Capabilities::default()).unwrap();
        assert_eq!(
            shown(&cmds),
            ["MAIL FROM:<a@x.org>", "RCPT TO:<b@y.org>", "DATA"]
        );
    }

    #[test]
    fn dsn_values_with_line_breaks_are_refused() {
        let mut e = Envelope::new("a@x.org", vec!["b@y.org".into()]);
        e.dsn_notify = Some("failure\r\nRCPT TO:<evil@x.org>".into());
        let err = envelope_commands(&e, &caps()).unwrap_err();
        assert_eq!(
            (err.kind(), err.exit_code().code()),
            (&ErrorKind::InvalidSetting, 78)
        );
        assert!(err.to_string().contains("dsn_notify"), "{err}");
        e.dsn_notify = None;
        e.dsn_return = Some("hdrs\0".into());
        let err = envelope_commands(&e, &caps()).unwrap_err();
        assert!(err.to_string().contains("dsn_return"), "{err}");
    }

    #[test]
    fn non_ascii_address_asks_for_smtputf8() {
        let e = Envelope::new("jos\u{e9}@x.org", vec!["b@y.org".into()]);
        let cmds = envelope_commands(&e, &caps()).unwrap();
        assert_eq!(cmds[0].1.shown(), "MAIL FROM:<jos\u{e9}@x.org> SMTPUTF8");
    }

    /// A server that quotes the refused AUTH line back (some do, in 535 or
    /// 500 replies) must not make rsmtp print the password: not in the trace,
    /// not in the error, not in the reply kept for the log line.
    #[test]
    fn server_quoting_the_auth_payload_is_redacted() {
        use crate::mechanism::Mechanism;
        use crate::settings::{Auth, Credentials};
        use crate::trace::Recorded;
        use std::io::{BufRead, BufReader, Write};
        use std::net::TcpListener;

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (sock, _) = listener.accept().unwrap();
            let mut out = sock.try_clone().unwrap();
            let mut lines = BufReader::new(sock);
            out.write_all(b"220 hi\r\n").unwrap();
            let mut line = String::new();
            while lines.read_line(&mut line).unwrap_or(0) > 0 {
                let cmd = line.trim_end().to_owned();
                line.clear();
                let reply = if cmd.starts_with("EHLO") {
                    "250-hi\r\n250 AUTH PLAIN LOGIN\r\n".to_owned()
                } else if cmd.starts_with("QUIT") {
                    "221 bye, hunter2-secret\r\n".to_owned()
                } else {
                    format!("535 5.7.8 refused: {cmd} (hunter2-secret)\r\n")
                };
                out.write_all(reply.as_bytes()).unwrap();
                if cmd.starts_with("QUIT") {
                    break;
                }
            }
        });
        let mut settings = SessionSettings::new("127.0.0.1", port);
        settings.tls = TlsMode::Off;
        settings.timeout = Some(Duration::from_secs(10));
        settings.auth = Auth::Method(Mechanism::Plain);
        settings.credentials = Some(Credentials::new("alice", "hunter2-secret"));
        let envelope = Envelope::new("a@x.org", vec!["b@y.org".into()]);
        let mut trace = Recorded::default();
        let e = send(&settings, &envelope, &mut &b"hi\r\n"[..], &mut trace).unwrap_err();
        server.join().unwrap();

        let payload = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode("\0alice\0hunter2-secret")
        };
        let shown = format!("{}\n{e}\n{:?}", trace.0.join("\n"), e.smtp_status());
        for secret in [payload.as_str(), "hunter2-secret"] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert_eq!(e.exit_code(), 77);
        assert!(
            shown.contains("<-- 535 5.7.8 refused: AUTH PLAIN [redacted] ([redacted])"),
            "{shown}"
        );
    }
}
