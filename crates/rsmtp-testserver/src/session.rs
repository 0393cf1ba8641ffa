//! One SMTP connection, server side (RFC 5321), with the scripted faults applied.
//!
//! Commands are taken one line at a time from the connection's buffer, so a client that
//! pipelines (RFC 2920) gets its replies in order; replies are flushed before the next
//! socket read.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ServerConfig;

use crate::options::{Fault, Mechanism, Reply, ServerOptions, Step, Tls};
use crate::record::{
    AuthRecord, Command, Direction, ReceivedMessage, Recipient, Shared, TranscriptEntry,
};
use crate::sasl;
use crate::transport::{Connection, Line};

/// Longest command line accepted (RFC 5321 §4.5.3.1.4 says 512; be generous, and let
/// AUTH responses with long tokens through).
const MAX_COMMAND: usize = 64 * 1024;
/// Longest body line read in one piece (RFC says 1000; longer lines arrive in pieces).
const MAX_DATA_LINE: usize = 1024 * 1024;
/// Body bytes copied into the transcript per message.
const TRANSCRIPT_BODY_LIMIT: usize = 64 * 1024;
/// Transcript lines longer than this are shortened.
const TRANSCRIPT_LINE_LIMIT: usize = 300;
/// What the broken-handshake fault sends instead of TLS.
const GARBAGE: &[u8] = b"this is not a TLS record \x00\xff\x13\x37 garbage garbage\r\n";

/// Whether the session goes on after a command.
enum Flow {
    Continue,
    Close,
}

struct Transaction {
    mail_from: String,
    mail_params: Vec<String>,
    mail_batch: u64,
    smtputf8: bool,
    recipients: Vec<Recipient>,
}

pub(crate) struct Session {
    id: usize,
    shared: Arc<Shared>,
    opts: Arc<ServerOptions>,
    tls_config: Option<Arc<ServerConfig>>,
    conn: Connection,
    faults: Vec<Fault>,
    greeted: bool,
    ehlo: bool,
    helo: Option<String>,
    tls: bool,
    client_subject: Option<String>,
    auth: Option<AuthRecord>,
    /// After a 554 greeting: answer 503 to everything but QUIT (RFC 5321 §3.1).
    refusing: bool,
    tx: Option<Transaction>,
}

/// Serve one accepted connection until it ends.
pub(crate) fn serve(
    id: usize,
    shared: Arc<Shared>,
    opts: Arc<ServerOptions>,
    tls_config: Option<Arc<ServerConfig>>,
    tcp: std::net::TcpStream,
) {
    let faults = if opts.faulty_connections.is_none_or(|n| id <= n) {
        shared.read(|s| s.faults.clone())
    } else {
        Vec::new()
    };
    let setup = tcp
        .set_read_timeout(Some(opts.idle_timeout))
        .and_then(|_| tcp.set_write_timeout(Some(opts.idle_timeout)))
        .and_then(|_| tcp.set_nodelay(true))
        .and_then(|_| Connection::new(tcp));
    let conn = match setup {
        Ok(c) => c,
        Err(e) => {
            shared.update(|s| {
                s.transcript.push(TranscriptEntry {
                    connection: id,
                    direction: Direction::Event,
                    text: format!("socket setup failed: {e}"),
                })
            });
            shared.close_socket(id);
            return;
        }
    };
    let mut session = Session {
        id,
        shared: shared.clone(),
        opts,
        tls_config,
        conn,
        faults,
        greeted: false,
        ehlo: false,
        helo: None,
        tls: false,
        client_subject: None,
        auth: None,
        refusing: false,
        tx: None,
    };
    session.event("connection accepted".to_string());
    match session.run() {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => {
            session.send_best_effort(Reply::new(421, "4.4.2 Idle timeout, closing connection"));
            session.event(format!("idle timeout: {e}"));
        }
        Err(e) => session.event(format!("connection error: {e}")),
    }
    session.conn.close();
    session.event("connection closed".to_string());
    shared.update(|s| s.session_mut(id).closed = true);
    shared.close_socket(id);
}

impl Session {
    fn run(&mut self) -> io::Result<()> {
        if self.opts.tls == Tls::Implicit {
            if self.has_fault(|f| matches!(f, Fault::TlsGarbage)) {
                self.event("fault: sending garbage instead of a TLS handshake".into());
                return self.conn.write_raw(GARBAGE);
            }
            if !self.handshake() {
                return Ok(());
            }
        }
        let greeting = Reply::new(
            220,
            format!("{} ESMTP rsmtp-testserver", self.opts.hostname),
        );
        match self.respond(Step::Greeting, greeting)? {
            None => return Ok(()),
            Some(r) if r.code == 554 => self.refusing = true,
            Some(r) if !r.is_positive() => return Ok(()),
            Some(_) => {}
        }
        loop {
            let Some(line) = self.conn.read_line(MAX_COMMAND)? else {
                self.event("client closed the connection".into());
                return Ok(());
            };
            if let Flow::Close = self.command(&line)? {
                return Ok(());
            }
        }
    }

    fn command(&mut self, line: &Line) -> io::Result<Flow> {
        let text = String::from_utf8_lossy(line.content()).into_owned();
        self.log(Direction::Client, &text);
        self.shared.update(|s| {
            s.session_mut(self.id).commands.push(Command {
                line: text.clone(),
                batch: line.batch,
            })
        });
        let (verb, arg) = match text.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_string()),
            None => (text.trim().to_ascii_uppercase(), String::new()),
        };
        if self.refusing && verb != "QUIT" {
            return self.plain_reply(Reply::new(503, "5.5.1 No SMTP service here"));
        }
        match verb.as_str() {
            "EHLO" => self.ehlo(arg),
            "HELO" => self.helo_cmd(arg),
            "STARTTLS" => self.starttls(&arg),
            "AUTH" => self.auth_cmd(&arg),
            "MAIL" => self.mail(&arg, line.batch),
            "RCPT" => self.rcpt(&arg),
            "DATA" => self.data(&arg, line.batch),
            "RSET" => {
                let r = self.respond(Step::Rset, Reply::new(250, "2.0.0 Ok"))?;
                if r.is_some() {
                    self.tx = None;
                }
                Ok(flow(r))
            }
            "NOOP" => Ok(flow(self.respond(Step::Noop, Reply::new(250, "2.0.0 Ok"))?)),
            "QUIT" => {
                self.shared.update(|s| s.session_mut(self.id).quit = true);
                self.respond(Step::Quit, Reply::new(221, "2.0.0 Bye"))?;
                Ok(Flow::Close)
            }
            "VRFY" => self.plain_reply(Reply::new(252, "2.0.0 Cannot VRFY user")),
            "HELP" => self.plain_reply(Reply::new(214, "2.0.0 See RFC 5321")),
            "" => self.plain_reply(Reply::new(500, "5.5.2 Error: bad syntax")),
            _ => self.plain_reply(Reply::new(500, "5.5.2 Error: command not recognized")),
        }
    }

    // ----- commands -------------------------------------------------------------------

    fn ehlo(&mut self, arg: String) -> io::Result<Flow> {
        if !self.opts.extensions.ehlo {
            return self.plain_reply(Reply::new(502, "5.5.2 Error: command not implemented"));
        }
        if arg.is_empty() {
            return self.plain_reply(Reply::new(501, "5.5.4 Syntax: EHLO hostname"));
        }
        let ext = &self.opts.extensions;
        let mut lines = vec![format!("{} Hello {}", self.opts.hostname, arg)];
        if ext.pipelining {
            lines.push("PIPELINING".into());
        }
        match ext.size {
            Some(0) => lines.push("SIZE".into()),
            Some(n) => lines.push(format!("SIZE {n}")),
            None => {}
        }
        if ext.eight_bit_mime {
            lines.push("8BITMIME".into());
        }
        if ext.smtputf8 {
            lines.push("SMTPUTF8".into());
        }
        if ext.dsn {
            lines.push("DSN".into());
        }
        if ext.enhanced_status_codes {
            lines.push("ENHANCEDSTATUSCODES".into());
        }
        if self.starttls_offered() {
            lines.push("STARTTLS".into());
        }
        if self.auth_offered() {
            if let Some(auth) = &self.opts.auth {
                let mechs: Vec<&str> = auth.mechanisms.iter().map(|m| m.as_str()).collect();
                lines.push(format!("AUTH {}", mechs.join(" ")));
            }
        }
        lines.extend(ext.extra.iter().cloned());
        let r = self.respond(Step::Ehlo, Reply::multiline(250, lines))?;
        if r.as_ref().is_some_and(Reply::is_positive) {
            self.greet(arg, true);
        }
        Ok(flow(r))
    }

    fn helo_cmd(&mut self, arg: String) -> io::Result<Flow> {
        if arg.is_empty() {
            return self.plain_reply(Reply::new(501, "5.5.4 Syntax: HELO hostname"));
        }
        let r = self.respond(Step::Helo, Reply::new(250, self.opts.hostname.clone()))?;
        if r.as_ref().is_some_and(Reply::is_positive) {
            self.greet(arg, false);
        }
        Ok(flow(r))
    }

    fn greet(&mut self, name: String, ehlo: bool) {
        self.greeted = true;
        self.ehlo = ehlo;
        self.helo = Some(name.clone());
        self.tx = None;
        self.shared.update(|s| {
            let rec = s.session_mut(self.id);
            rec.ehlo = ehlo;
            rec.helo = Some(name);
        });
    }

    fn starttls_offered(&self) -> bool {
        self.opts.tls == Tls::StartTls && !self.tls && self.ehlo_extensions_allowed()
    }

    fn ehlo_extensions_allowed(&self) -> bool {
        self.opts.extensions.ehlo
    }

    fn auth_offered(&self) -> bool {
        match &self.opts.auth {
            None => false,
            Some(a) => self.tls || self.opts.tls != Tls::StartTls || a.before_tls,
        }
    }

    fn starttls(&mut self, arg: &str) -> io::Result<Flow> {
        if self.tls {
            return self.plain_reply(Reply::new(503, "5.5.1 Error: TLS already active"));
        }
        if self.opts.tls != Tls::StartTls || !self.ehlo {
            return self.plain_reply(Reply::new(502, "5.5.1 Error: command not implemented"));
        }
        if !arg.is_empty() {
            return self.plain_reply(Reply::new(501, "5.5.4 Syntax: STARTTLS"));
        }
        let Some(r) = self.respond(Step::StartTls, Reply::new(220, "2.0.0 Ready to start TLS"))?
        else {
            return Ok(Flow::Close);
        };
        if !r.is_positive() {
            return Ok(Flow::Continue);
        }
        if self.has_fault(|f| matches!(f, Fault::TlsGarbage)) {
            self.event("fault: sending garbage instead of a TLS handshake".into());
            self.conn.write_raw(GARBAGE)?;
            return Ok(Flow::Close);
        }
        // RFC 3207 §4.2: anything the client sent after STARTTLS before the handshake
        // must not be acted on.
        let discarded = self.conn.discard_buffered();
        if discarded > 0 {
            self.event(format!(
                "discarded {discarded} bytes the client sent after STARTTLS before the handshake"
            ));
            self.shared
                .update(|s| s.session_mut(self.id).discarded_after_starttls = discarded);
        }
        if !self.handshake() {
            return Ok(Flow::Close);
        }
        // RFC 3207 §4.2: forget everything learnt before TLS.
        self.greeted = false;
        self.ehlo = false;
        self.tx = None;
        self.auth = None;
        Ok(Flow::Continue)
    }

    /// The channel binding SCRAM `-PLUS` can use here: `tls-exporter` on TLS 1.3,
    /// `tls-server-end-point` (RFC 5929: SHA-256 of our certificate, signed
    /// ECDSA-with-SHA-256 by the test CA) on TLS 1.2.
    fn channel_binding(&self) -> Option<(&'static str, Vec<u8>)> {
        if let Some(exporter) = self.conn.tls_exporter() {
            return Some(("tls-exporter", exporter));
        }
        if self.conn.tls_version() != Some(rustls::ProtocolVersion::TLSv1_2) {
            return None;
        }
        let leaf = self.opts.ca.as_ref()?.leaf(self.opts.leaf);
        use sha2::Digest as _;
        Some((
            "tls-server-end-point",
            sha2::Sha256::digest(leaf.cert_der().as_ref()).to_vec(),
        ))
    }

    /// Run the TLS handshake; false (and the reason noted) if it failed.
    fn handshake(&mut self) -> bool {
        let Some(config) = self.tls_config.clone() else {
            self.event("no TLS configuration".into());
            return false;
        };
        match self.conn.start_tls(config) {
            Ok(info) => {
                self.tls = true;
                self.client_subject = info.client_subject.clone();
                self.event(format!(
                    "TLS established ({}, SNI {}, client certificate {})",
                    info.version.as_deref().unwrap_or("?"),
                    info.sni.as_deref().unwrap_or("none"),
                    info.client_subject.as_deref().unwrap_or("none"),
                ));
                self.shared.update(|s| {
                    let rec = s.session_mut(self.id);
                    rec.tls = true;
                    rec.tls_version = info.version;
                    rec.sni = info.sni;
                    rec.client_cert_subject = info.client_subject;
                });
                true
            }
            Err(e) => {
                self.event(format!("TLS handshake failed: {e}"));
                self.shared
                    .update(|s| s.session_mut(self.id).tls_error = Some(e));
                false
            }
        }
    }

    fn auth_cmd(&mut self, arg: &str) -> io::Result<Flow> {
        let Some(cfg) = self.opts.auth.clone() else {
            return self.plain_reply(Reply::new(502, "5.5.1 Error: authentication not enabled"));
        };
        if !self.auth_offered() {
            return self.plain_reply(Reply::new(
                538,
                "5.7.11 Encryption required for requested authentication mechanism",
            ));
        }
        if !self.ehlo {
            return self.plain_reply(Reply::new(503, "5.5.1 Error: send EHLO first"));
        }
        if self.auth.is_some() {
            return self.plain_reply(Reply::new(503, "5.5.1 Error: already authenticated"));
        }
        if self.tx.is_some() {
            return self.plain_reply(Reply::new(503, "5.5.1 Error: MAIL transaction in progress"));
        }
        let (mech_name, initial) = match arg.split_once(' ') {
            Some((m, i)) => (m, Some(i.trim().as_bytes().to_vec())),
            None => (arg, None),
        };
        let mechanism = match mech_name.parse::<Mechanism>() {
            Ok(m) if cfg.mechanisms.contains(&m) => m,
            _ => {
                return self.plain_reply(Reply::new(504, "5.5.4 Unrecognized authentication type"))
            }
        };
        let outcome = match self.sasl_exchange(mechanism, initial, &cfg)? {
            Exchange::Closed => return Ok(Flow::Close),
            Exchange::Cancelled => {
                return self.plain_reply(Reply::new(501, "5.7.0 Authentication cancelled"));
            }
            Exchange::Malformed(why) => {
                self.event(format!("AUTH {mechanism}: {why}"));
                return self.plain_reply(Reply::new(501, "5.5.2 Cannot decode response"));
            }
            Exchange::Done(v) => v,
        };
        let mut record = AuthRecord {
            mechanism: mechanism.as_str().to_string(),
            identity: outcome.identity,
            success: outcome.success,
        };
        let r = if outcome.success {
            self.respond(
                Step::Auth,
                Reply::new(235, "2.7.0 Authentication successful"),
            )?
        } else {
            self.respond(
                Step::Auth,
                Reply::new(535, "5.7.8 Authentication credentials invalid"),
            )?
        };
        record.success = record.success && r.as_ref().is_some_and(Reply::is_positive);
        if record.success {
            self.auth = Some(record.clone());
        }
        self.shared
            .update(|s| s.session_mut(self.id).auth_attempts.push(record));
        Ok(flow(r))
    }

    fn sasl_exchange(
        &mut self,
        mechanism: Mechanism,
        initial: Option<Vec<u8>>,
        cfg: &crate::options::AuthConfig,
    ) -> io::Result<Exchange> {
        // Each client response is either decoded bytes or how the exchange ended.
        macro_rules! response {
            ($initial:expr, $challenge:expr) => {
                match self.client_response($initial, $challenge)? {
                    Ok(bytes) => bytes,
                    Err(end) => return Ok(end),
                }
            };
        }
        let verdict = match mechanism {
            Mechanism::Plain => {
                let resp = response!(initial, "");
                sasl::plain(&resp, cfg)
            }
            Mechanism::Login => {
                let user = response!(initial, &sasl::encode(b"Username:"));
                let password = response!(None, &sasl::encode(b"Password:"));
                Ok(sasl::login(&user, &password, cfg))
            }
            Mechanism::CramMd5 => {
                let challenge = sasl::cram_md5_challenge(&self.opts.hostname, self.id);
                let resp = response!(None, &sasl::encode(challenge.as_bytes()));
                sasl::cram_md5(&resp, &challenge, cfg)
            }
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => {
                let resp = response!(initial, "");
                let verdict = if mechanism == Mechanism::XOAuth2 {
                    sasl::xoauth2(&resp, cfg)
                } else {
                    sasl::oauthbearer(&resp, cfg)
                };
                if verdict.as_ref().is_ok_and(|v| !v.success) {
                    // RFC 7628 §3.2.2 (and Google's XOAUTH2): an error challenge, the
                    // client answers (^A or empty), then the final 535.
                    let json = sasl::encode(sasl::OAUTH_ERROR_JSON.as_bytes());
                    if let Err(Exchange::Closed) = self.client_response(None, &json)? {
                        return Ok(Exchange::Closed);
                    }
                }
                verdict
            }
            Mechanism::ScramSha1
            | Mechanism::ScramSha256
            | Mechanism::ScramSha1Plus
            | Mechanism::ScramSha256Plus => {
                let sha256 = matches!(
                    mechanism,
                    Mechanism::ScramSha256 | Mechanism::ScramSha256Plus
                );
                let plus = matches!(
                    mechanism,
                    Mechanism::ScramSha1Plus | Mechanism::ScramSha256Plus
                );
                let binding = self.channel_binding();
                let plus_offered = binding.is_some()
                    && cfg.mechanisms.iter().any(|m| m.as_str().ends_with("-PLUS"));
                let first = response!(initial, "");
                let server_nonce = sasl::encode(&sasl::random_bytes::<18>());
                let salt = sasl::random_bytes::<16>();
                let scram = match sasl::ScramServer::start(
                    &first,
                    sha256,
                    plus,
                    plus_offered,
                    cfg,
                    &server_nonce,
                    &salt,
                ) {
                    Ok(s) => s,
                    Err(why) => return Ok(Exchange::Malformed(why)),
                };
                let challenge = sasl::encode(scram.server_first().as_bytes());
                let last = response!(None, &challenge);
                let binding = binding
                    .as_ref()
                    .map(|(kind, data)| (*kind, data.as_slice()));
                match scram.finish(&last, cfg, &salt, binding) {
                    Ok(outcome) if outcome.verdict.success => {
                        // RFC 4954 §4: additional data with success is a 334 challenge,
                        // answered with an empty line.
                        let fin = sasl::encode(outcome.server_final.as_bytes());
                        if let Err(end) = self.client_response(None, &fin)? {
                            return Ok(end);
                        }
                        Ok(outcome.verdict)
                    }
                    Ok(outcome) => Ok(outcome.verdict),
                    Err(why) => Err(why),
                }
            }
        };
        Ok(match verdict {
            Ok(v) => Exchange::Done(v),
            Err(why) => Exchange::Malformed(why),
        })
    }

    /// One client response: the initial response if the AUTH line carried one, else
    /// `334 challenge` and the next line. `*` cancels (RFC 4954 §4).
    fn client_response(
        &mut self,
        initial: Option<Vec<u8>>,
        challenge: &str,
    ) -> io::Result<Result<Vec<u8>, Exchange>> {
        let line = match initial {
            Some(line) => line,
            None => {
                self.send(&Reply::new(334, challenge));
                let Some(line) = self.conn.read_line(MAX_COMMAND)? else {
                    return Ok(Err(Exchange::Closed));
                };
                self.log(Direction::Client, &String::from_utf8_lossy(line.content()));
                line.content().to_vec()
            }
        };
        if line.trim_ascii() == b"*" {
            return Ok(Err(Exchange::Cancelled));
        }
        Ok(sasl::decode(&line).map_err(Exchange::Malformed))
    }

    fn mail(&mut self, arg: &str, batch: u64) -> io::Result<Flow> {
        if !self.greeted {
            return self.plain_reply(Reply::new(503, "5.5.1 Error: send HELO/EHLO first"));
        }
        if self.tx.is_some() {
            return self.plain_reply(Reply::new(503, "5.5.1 Error: nested MAIL command"));
        }
        if self.opts.require_tls && !self.tls {
            return self.plain_reply(Reply::new(530, "5.7.0 Must issue a STARTTLS command first"));
        }
        if self.opts.auth.as_ref().is_some_and(|a| a.required) && self.auth.is_none() {
            return self.plain_reply(Reply::new(530, "5.7.0 Authentication required"));
        }
        let Some((address, params)) = parse_path(arg, "FROM:") else {
            return self.plain_reply(Reply::new(501, "5.5.4 Syntax: MAIL FROM:<address>"));
        };
        let mut smtputf8 = false;
        for p in &params {
            let (key, value) = p.split_once('=').unwrap_or((p.as_str(), ""));
            let key = key.to_ascii_uppercase();
            let ext = &self.opts.extensions;
            let known = self.ehlo
                && match key.as_str() {
                    "SIZE" => ext.size.is_some(),
                    "BODY" => ext.eight_bit_mime,
                    "SMTPUTF8" => ext.smtputf8,
                    "RET" | "ENVID" => ext.dsn,
                    "AUTH" => self.auth_offered(),
                    _ => false,
                };
            if !known {
                return self.plain_reply(Reply::new(555, format!("5.5.4 Unsupported option: {p}")));
            }
            if key == "SMTPUTF8" {
                smtputf8 = true;
            }
            if key == "SIZE" {
                let limit = ext.size.unwrap_or(0);
                match value.parse::<u64>() {
                    Err(_) => return self.plain_reply(Reply::new(501, "5.5.4 Bad SIZE parameter")),
                    Ok(n) if limit > 0 && n > limit => {
                        return self
                            .plain_reply(Reply::new(552, "5.3.4 Message size exceeds fixed limit"))
                    }
                    Ok(_) => {}
                }
            }
        }
        if !address.is_ascii() && !smtputf8 {
            return self.plain_reply(Reply::new(553, "5.6.7 Non-ASCII address requires SMTPUTF8"));
        }
        let r = self.respond(Step::Mail, Reply::new(250, "2.1.0 Ok"))?;
        self.hold_for_pipelining();
        if r.as_ref().is_some_and(Reply::is_positive) {
            self.tx = Some(Transaction {
                mail_from: address,
                mail_params: params,
                mail_batch: batch,
                smtputf8,
                recipients: Vec::new(),
            });
        }
        Ok(flow(r))
    }

    fn rcpt(&mut self, arg: &str) -> io::Result<Flow> {
        let Some(tx) = &self.tx else {
            return self.plain_reply(Reply::new(503, "5.5.1 Error: need MAIL command"));
        };
        let smtputf8 = tx.smtputf8;
        let Some((address, params)) = parse_path(arg, "TO:") else {
            return self.plain_reply(Reply::new(501, "5.5.4 Syntax: RCPT TO:<address>"));
        };
        for p in &params {
            let key = p.split_once('=').map_or(p.as_str(), |(k, _)| k);
            let known = self.ehlo
                && self.opts.extensions.dsn
                && (key.eq_ignore_ascii_case("NOTIFY") || key.eq_ignore_ascii_case("ORCPT"));
            if !known {
                return self.plain_reply(Reply::new(555, format!("5.5.4 Unsupported option: {p}")));
            }
        }
        let default = if address.is_empty() {
            Reply::new(501, "5.1.3 Bad recipient address syntax")
        } else if !address.is_ascii() && !smtputf8 {
            Reply::new(553, "5.6.7 Non-ASCII address requires SMTPUTF8")
        } else {
            self.faults
                .iter()
                .find_map(|f| match f {
                    Fault::RejectRecipient(a, r) if a.eq_ignore_ascii_case(&address) => {
                        Some(r.clone())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| Reply::new(250, "2.1.5 Ok"))
        };
        let r = self.respond(Step::Rcpt, default)?;
        self.hold_for_pipelining();
        if let (Some(reply), Some(tx)) = (&r, self.tx.as_mut()) {
            tx.recipients.push(Recipient {
                address,
                params,
                reply_code: reply.code,
            });
        }
        Ok(flow(r))
    }

    fn data(&mut self, arg: &str, batch: u64) -> io::Result<Flow> {
        if !arg.is_empty() {
            return self.plain_reply(Reply::new(501, "5.5.4 Syntax: DATA"));
        }
        let Some(tx) = &self.tx else {
            return self.plain_reply(Reply::new(503, "5.5.1 Error: need RCPT command"));
        };
        if !tx.recipients.iter().any(Recipient::accepted) {
            return self.plain_reply(Reply::new(554, "5.5.1 Error: no valid recipients"));
        }
        let Some(r) = self.respond(
            Step::Data,
            Reply::new(354, "End data with <CR><LF>.<CR><LF>"),
        )?
        else {
            return Ok(Flow::Close);
        };
        if !r.is_positive() {
            self.tx = None;
            return Ok(Flow::Continue);
        }
        let Some(body) = self.read_body()? else {
            return Ok(Flow::Close);
        };
        let Some(tx) = self.tx.take() else {
            return Ok(Flow::Continue);
        };
        let too_big = self
            .opts
            .extensions
            .size
            .is_some_and(|limit| limit > 0 && body.size as u64 > limit);
        let index = self.shared.update(|s| {
            let message = ReceivedMessage {
                connection: self.id,
                helo: self.helo.clone(),
                mail_from: tx.mail_from,
                mail_params: tx.mail_params,
                rcpt_to: tx.recipients,
                data: body.data,
                raw_data: body.raw,
                size: body.size,
                bare_lf: body.bare_lf,
                tls: self.tls,
                auth: self.auth.clone(),
                client_cert_subject: self.client_subject.clone(),
                pipelined: tx.mail_batch == batch,
                final_reply: None,
            };
            s.messages.push(std::sync::Arc::new(message));
            s.messages.len() - 1
        });
        let default = if too_big {
            Reply::new(552, "5.3.4 Message size exceeds fixed limit")
        } else {
            let queue_id = format!("{:04}{:06}", self.id, index + 1);
            Reply::new(250, format!("2.0.0 Ok: queued as {queue_id}"))
        };
        // Record the verdict before the reply leaves: a test that saw the 250 must find
        // the message in `messages()`. A hang or drop leaves `final_reply` at `None`.
        let hangs_or_drops = self.has_fault(|f| {
            matches!(
                f,
                Fault::Hang(Step::EndOfData) | Fault::Drop(Step::EndOfData)
            )
        });
        if !hangs_or_drops {
            let code = self
                .override_for(Step::EndOfData)
                .filter(|_| default.is_positive())
                .map_or(default.code, |r| r.code);
            self.shared.update(|s| s.set_final_reply(index, code));
        }
        let r = self.respond(Step::EndOfData, default)?;
        Ok(flow(r))
    }

    /// Read the body after 354 up to the `.` line. `None` if the connection ended first
    /// (or the drop-during-data fault fired).
    fn read_body(&mut self) -> io::Result<Option<Body>> {
        let drop_after = self.faults.iter().find_map(|f| match f {
            Fault::DropDuringData { after_bytes } => Some(*after_bytes),
            _ => None,
        });
        let store = self.opts.store_bodies;
        let keep_raw = store && self.opts.keep_raw_data;
        let mut body = Body::default();
        let mut received = 0usize;
        let mut logged = 0usize;
        let mut at_line_start = true;
        loop {
            let Some(line) = self.conn.read_line(MAX_DATA_LINE)? else {
                self.event(format!(
                    "client closed the connection during DATA after {received} bytes"
                ));
                return Ok(None);
            };
            received += line.bytes.len();
            if keep_raw {
                body.raw.extend_from_slice(&line.bytes);
            }
            let complete = line.bytes.ends_with(b"\n");
            if at_line_start && complete && line.content() == b"." {
                self.log(Direction::Client, ".");
                body.bare_lf |= line.has_bare_lf();
                // A large body grew by doubling: give back what it did not use.
                body.data.shrink_to_fit();
                body.raw.shrink_to_fit();
                return Ok(Some(body));
            }
            if logged < TRANSCRIPT_BODY_LIMIT {
                logged += line.bytes.len();
                let text = String::from_utf8_lossy(line.content()).into_owned();
                self.log(Direction::Client, &text);
                if logged >= TRANSCRIPT_BODY_LIMIT {
                    self.event("(rest of the message body not shown)".into());
                }
            }
            let content = if at_line_start && line.bytes.first() == Some(&b'.') {
                &line.bytes[1..]
            } else {
                &line.bytes[..]
            };
            body.size += content.len();
            if store {
                body.data.extend_from_slice(content);
            }
            body.bare_lf |= complete && line.has_bare_lf();
            at_line_start = complete;
            if let Some(limit) = drop_after {
                if received >= limit {
                    self.event(format!(
                        "fault: dropping the connection after {received} bytes of DATA"
                    ));
                    return Ok(None);
                }
            }
        }
    }

    /// See [`ServerOptions::pipelining_window`].
    fn hold_for_pipelining(&mut self) {
        if let Some(window) = self.opts.pipelining_window {
            if self.ehlo && self.opts.extensions.pipelining {
                self.conn.hold(window);
            }
        }
    }

    // ----- replies and faults ---------------------------------------------------------

    fn has_fault(&self, pred: impl Fn(&Fault) -> bool) -> bool {
        self.faults.iter().any(pred)
    }

    fn override_for(&self, step: Step) -> Option<Reply> {
        self.faults.iter().find_map(|f| match f {
            Fault::Reply(s, r) if *s == step => Some(r.clone()),
            _ => None,
        })
    }

    /// Answer a step, applying its faults. `None` when the session must end: the fault
    /// hung or dropped the connection, or a 421 was sent.
    fn respond(&mut self, step: Step, default: Reply) -> io::Result<Option<Reply>> {
        let delay = self.faults.iter().find_map(|f| match f {
            Fault::Delay(s, d) if *s == step => Some(*d),
            _ => None,
        });
        if let Some(delay) = delay {
            self.conn.flush()?;
            self.event(format!(
                "fault: waiting {delay:?} before answering {step:?}"
            ));
            self.sleep(delay);
        }
        if self.has_fault(|f| *f == Fault::Hang(step)) {
            self.event(format!("fault: never answering {step:?}"));
            self.hang()?;
            return Ok(None);
        }
        if self.has_fault(|f| *f == Fault::Drop(step)) {
            self.event(format!(
                "fault: closing the connection instead of answering {step:?}"
            ));
            self.conn.flush()?;
            return Ok(None);
        }
        let mut reply = match self.override_for(step) {
            Some(r) if default.is_positive() => {
                self.event(format!("fault: answering {step:?} with {}", r.code));
                r
            }
            _ => default,
        };
        let long = self.faults.iter().find_map(|f| match f {
            Fault::LongReply(s, n) if *s == step => Some(*n),
            _ => None,
        });
        if let Some(len) = long {
            reply = Reply::new(reply.code, "x".repeat(len));
        }
        let trickle = self.faults.iter().find_map(|f| match f {
            Fault::Trickle(s, pause) if *s == step => Some(*pause),
            _ => None,
        });
        match trickle {
            Some(pause) => self.trickle(&reply, pause)?,
            None => self.send(&reply),
        }
        if reply.code == 421 {
            self.conn.flush()?;
            return Ok(None);
        }
        Ok(Some(reply))
    }

    /// A reply no fault applies to (protocol errors).
    fn plain_reply(&mut self, reply: Reply) -> io::Result<Flow> {
        self.send(&reply);
        Ok(Flow::Continue)
    }

    fn send(&mut self, reply: &Reply) {
        let wire = reply.to_wire();
        for line in wire.split_terminator("\r\n") {
            self.log(Direction::Server, line);
        }
        self.conn.queue(wire.as_bytes());
    }

    /// Send `reply` a byte at a time, `pause` before each, until done, the client
    /// hangs up or the server shuts down.
    fn trickle(&mut self, reply: &Reply, pause: Duration) -> io::Result<()> {
        self.conn.flush()?;
        self.event(format!("fault: sending the reply one byte every {pause:?}"));
        for line in reply.to_wire().split_terminator("\r\n") {
            self.log(Direction::Server, line);
        }
        for byte in reply.to_wire().bytes() {
            self.sleep(pause);
            if self.shared.is_shutting_down() {
                break;
            }
            self.conn.queue(&[byte]);
            self.conn.flush()?;
        }
        Ok(())
    }

    fn send_best_effort(&mut self, reply: Reply) {
        self.send(&reply);
        let _ = self.conn.flush();
    }

    /// Keep the connection open without answering: discard input until the client
    /// closes, the server shuts down, or the idle timeout passes.
    fn hang(&mut self) -> io::Result<()> {
        use std::io::Read;
        self.conn.flush()?;
        let deadline = Instant::now() + self.opts.idle_timeout;
        let mut tcp = self.conn.tcp().try_clone()?;
        tcp.set_read_timeout(Some(Duration::from_millis(100)))?;
        let mut sink = [0u8; 4096];
        while Instant::now() < deadline && !self.shared.is_shutting_down() {
            match tcp.read(&mut sink) {
                Ok(0) => {
                    self.event("client closed the connection".into());
                    return Ok(());
                }
                Ok(_) => {}
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut
                        || e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Ok(()),
            }
        }
        Ok(())
    }

    fn sleep(&self, total: Duration) {
        let deadline = Instant::now() + total;
        while !self.shared.is_shutting_down() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
        }
    }

    fn log(&self, direction: Direction, text: &str) {
        let text = if text.len() > TRANSCRIPT_LINE_LIMIT {
            let mut cut = TRANSCRIPT_LINE_LIMIT;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}… ({} bytes)", &text[..cut], text.len())
        } else {
            text.to_string()
        };
        self.shared.update(|s| {
            s.transcript.push(TranscriptEntry {
                connection: self.id,
                direction,
                text,
            })
        });
    }

    fn event(&self, text: String) {
        self.log(Direction::Event, &text);
    }
}

enum Exchange {
    Done(sasl::Verdict),
    Cancelled,
    Malformed(String),
    Closed,
}

#[derive(Default)]
struct Body {
    data: Vec<u8>,
    raw: Vec<u8>,
    size: usize,
    bare_lf: bool,
}

fn flow(reply: Option<Reply>) -> Flow {
    match reply {
        Some(_) => Flow::Continue,
        None => Flow::Close,
    }
}

/// `FROM:<addr> PARAM=x …` → (addr, params). Tolerates a space after the colon.
fn parse_path(arg: &str, keyword: &str) -> Option<(String, Vec<String>)> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    let address = rest[..end].to_string();
    let params = rest[end + 1..]
        .split_whitespace()
        .map(str::to_string)
        .collect();
    Some((address, params))
}

#[cfg(test)]
mod tests {
    use super::parse_path;

    #[test]
    fn parses_paths() {
        assert_eq!(
            parse_path("FROM:<a@b> SIZE=10 BODY=8BITMIME", "FROM:"),
            Some(("a@b".into(), vec!["SIZE=10".into(), "BODY=8BITMIME".into()]))
        );
        assert_eq!(
            parse_path("from: <>", "FROM:"),
            Some((String::new(), vec![]))
        );
        assert_eq!(parse_path("TO:a@b", "TO:"), None);
        assert_eq!(parse_path("FROM:<a@b>", "TO:"), None);
    }
}
