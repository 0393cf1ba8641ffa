//! One SMTP session from greeting to QUIT (RFC 5321 §4.1, §4.3.2 for the reply codes),
//! with several messages per session (RSET, or a new MAIL after a completed one).
//!
//! Replies go through a buffer that is flushed only when no more client input is
//! waiting, so a client that pipelines (RFC 2920) gets its replies in one write, and a
//! client that waits for each reply gets it at once: we never block on a read with an
//! unflushed reply.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rsmtp_core::{Envelope, Reply};

use crate::anvil::{AuthThrottle, SpoolBudget};
use crate::auth::{self, Authenticator};
use crate::command::Command;
use crate::error::ServerError;
use crate::line::{read_piece, trim_line_end, Piece, DATA_PIECE};

/// Bounds on what one client may make the server hold or do.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest command line, line end included. RFC 5321 §4.5.3.1.4 says 512; AUTH
    /// PLAIN with an initial response needs more.
    pub max_command_line: usize,
    /// Largest message body accepted (advertised as `SIZE`).
    pub max_message_size: u64,
    /// Most recipients per message (RFC 5321 §4.5.3.1.8 requires at least 100).
    pub max_recipients: usize,
    /// Unknown or out-of-sequence commands tolerated before the connection is closed.
    pub max_errors: usize,
    /// Failed AUTH attempts before the connection is closed.
    pub max_auth_failures: usize,
    /// How long the answer to a failed AUTH is held back (slows password guessing).
    pub auth_failure_delay: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_command_line: 4096,
            max_message_size: 128 * 1024 * 1024,
            max_recipients: 1000,
            max_errors: 20,
            max_auth_failures: 3,
            auth_failure_delay: Duration::from_secs(2),
        }
    }
}

/// How the server presents itself and what it requires.
#[derive(Clone, Default)]
pub struct SessionConfig {
    /// The name in the greeting and the EHLO reply.
    pub hostname: String,
    /// Text after the host name in the greeting (`rsmtp ESMTP`).
    pub banner: String,
    /// What one client may make the server hold or do.
    pub limits: Limits,
    /// When set, AUTH PLAIN/LOGIN is offered and required before MAIL.
    pub auth: Option<Arc<dyn Authenticator>>,
    /// Where message bodies are spooled; `None` is the system temporary directory.
    pub spool_dir: Option<PathBuf>,
    /// Failed AUTH attempts per client, shared by the sessions of one listener: each
    /// failure is answered after [`Limits::auth_failure_delay`] doubled per earlier one.
    pub throttle: Arc<AuthThrottle>,
    /// Spool space shared by the sessions of one listener; `None`: only the
    /// per-message limit.
    pub spool_budget: Option<Arc<SpoolBudget>>,
}

/// Who is on the other end, as far as the session knows.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The HELO/EHLO argument (empty before one).
    pub helo: String,
    /// EHLO rather than HELO.
    pub esmtp: bool,
    /// The peer address for a TCP session; `None` on stdin/stdout.
    pub peer: Option<SocketAddr>,
    /// The user that authenticated, if any.
    pub user: Option<String>,
}

/// One received message, handed to a [`Deliver`].
pub struct Mail<'a> {
    /// MAIL FROM and the RCPT TOs the session accepted.
    pub envelope: &'a Envelope,
    /// Who sent it (HELO, peer address, authenticated user).
    pub client: &'a Client,
    /// The body as received (line ends as sent, dot-stuffing removed), rewound.
    pub body: &'a mut File,
    /// Length of `body` in bytes.
    pub size: u64,
}

/// What the server does with a message; its reply is the client's answer to the
/// final dot.
pub trait Deliver {
    /// Whether `address` may be a recipient (called for each RCPT; `Err` is the reply).
    fn check_recipient(&mut self, _address: &str) -> Result<(), Reply> {
        Ok(())
    }

    /// Deliver (or durably queue) the message; 2xx only if that happened.
    fn deliver(&mut self, mail: &mut Mail<'_>) -> Reply;

    /// An AUTH attempt failed for `user`; its answer waits `delay` (for the log, where
    /// fail2ban reads it).
    fn auth_failed(&mut self, _client: &Client, _user: &str, _delay: Duration) {}
}

/// How a session ended normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnd {
    /// Messages the deliverer accepted (2xx).
    pub accepted: usize,
    /// Messages refused after DATA.
    pub refused: usize,
    /// The client said QUIT (rather than just closing).
    pub quit: bool,
}

/// Run one session: greeting, commands until QUIT or end of input.
pub fn serve<R: Read, W: Write>(
    config: &SessionConfig,
    peer: Option<SocketAddr>,
    input: R,
    output: W,
    deliver: &mut dyn Deliver,
) -> Result<SessionEnd, ServerError> {
    let mut session = Session {
        config,
        input: BufReader::new(input),
        output: BufWriter::new(output),
        client: Client {
            peer,
            ..Client::default()
        },
        transaction: None,
        errors: 0,
        auth_failures: 0,
        end: SessionEnd {
            accepted: 0,
            refused: 0,
            quit: false,
        },
    };
    let result = session.run(deliver);
    if let Err(e) = &result {
        // Say why before closing, where the connection still allows it (RFC 5321
        // §3.8: 421 closing transmission channel).
        let text = match e {
            ServerError::Timeout => Some("4.4.2 Timeout, closing connection"),
            ServerError::LineTooLong { .. } => Some("5.5.2 Line too long, closing connection"),
            ServerError::MessageTooLarge { .. } => None,
            ServerError::TooManyErrors => Some("4.7.0 Too many errors, closing connection"),
            ServerError::TooManyAuthFailures => {
                Some("4.7.0 Too many authentication failures, closing connection")
            }
            _ => None,
        };
        if let Some(text) = text {
            let _ = session.reply(421, text);
        }
    }
    let _ = session.output.flush();
    result.map(|()| session.end)
}

/// The envelope being built between MAIL and the final dot.
struct Transaction {
    envelope: Envelope,
    declared_size: Option<u64>,
}

struct Session<'c, R: Read, W: Write> {
    config: &'c SessionConfig,
    input: BufReader<R>,
    output: BufWriter<W>,
    client: Client,
    transaction: Option<Transaction>,
    errors: usize,
    auth_failures: usize,
    end: SessionEnd,
}

/// Spool space taken from a [`SpoolBudget`] for one message, given back when the
/// message is done with (delivered, refused or abandoned).
struct Reservation {
    budget: Option<Arc<SpoolBudget>>,
    bytes: u64,
}

impl Reservation {
    fn take(&mut self, bytes: u64) -> bool {
        match &self.budget {
            Some(budget) if !budget.take(bytes) => false,
            _ => {
                self.bytes += bytes;
                true
            }
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(budget) = &self.budget {
            budget.give_back(self.bytes);
        }
    }
}

/// A local fault on the way to the spool: `452 4.3.1` when the disk is full, else
/// `451 4.3.0` (RFC 3463); never a permanent refusal, so the client keeps the message.
fn local_fault(e: &io::Error) -> Reply {
    if rsmtp_core::is_out_of_space(e) {
        Reply::new(
            452,
            vec!["4.3.1 Insufficient system storage, try again later".into()],
        )
    } else {
        Reply::new(
            451,
            vec!["4.3.0 Local error in processing, try again later".into()],
        )
    }
}

/// Timeouts surface as `WouldBlock` (Unix) or `TimedOut` from a socket with a read
/// timeout.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl<R: Read, W: Write> Session<'_, R, W> {
    fn run(&mut self, deliver: &mut dyn Deliver) -> Result<(), ServerError> {
        let greeting = format!("{} {}", self.config.hostname, self.config.banner);
        self.reply(220, greeting.trim_end())?;
        loop {
            let Some(line) = self.command_line()? else {
                return Ok(());
            };
            match Command::parse(&line) {
                Command::Quit => {
                    self.end.quit = true;
                    self.reply(221, "2.0.0 Bye")?;
                    return Ok(());
                }
                Command::Helo(name) => {
                    self.client.helo = name;
                    self.client.esmtp = false;
                    self.transaction = None;
                    let text = self.config.hostname.clone();
                    self.reply(250, &text)?;
                }
                Command::Ehlo(name) => {
                    self.client.helo = name;
                    self.client.esmtp = true;
                    self.transaction = None;
                    self.ehlo_reply()?;
                }
                Command::Mail(from, params) => self.mail(from, params)?,
                Command::Rcpt(to) => self.rcpt(to, deliver)?,
                Command::Data => self.data(deliver)?,
                Command::Rset => {
                    self.transaction = None;
                    self.reply(250, "2.0.0 Ok")?;
                }
                Command::Noop => self.reply(250, "2.0.0 Ok")?,
                Command::Vrfy => {
                    self.reply(252, "2.1.5 Cannot VRFY user, but will accept message")?
                }
                Command::Expn => self.error(502, "5.5.1 EXPN not supported")?,
                Command::Help => self.reply(
                    214,
                    "2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP AUTH",
                )?,
                Command::Auth { mechanism, initial } => self.auth(&mechanism, initial, deliver)?,
                Command::StartTls => self.error(502, "5.5.1 STARTTLS not supported here")?,
                Command::Invalid(text) => self.error(501, text)?,
                Command::Foreign => {
                    // Postfix's smtpd hangs up on these too: whatever follows is another
                    // protocol's payload (a browser's POST body), never commands.
                    self.reply(
                        554,
                        "5.7.0 This is an SMTP server, not an HTTP server; closing connection",
                    )?;
                    return Err(ServerError::ForeignProtocol);
                }
                Command::Unknown => self.error(500, "5.5.2 Command not recognized")?,
            }
        }
    }

    /// The next command line, or `None` at end of input.
    fn command_line(&mut self) -> Result<Option<Vec<u8>>, ServerError> {
        if self.input.buffer().is_empty() {
            self.output.flush()?;
        }
        let limit = self.config.limits.max_command_line;
        match read_piece(&mut self.input, limit) {
            Ok(Piece::Eof) => Ok(None),
            Ok(Piece::Bytes { bytes, ends_line }) => {
                if !ends_line && bytes.len() >= limit {
                    return Err(ServerError::LineTooLong { limit });
                }
                Ok(Some(trim_line_end(bytes)))
            }
            Err(e) if is_timeout(&e) => Err(ServerError::Timeout),
            Err(e) => Err(e.into()),
        }
    }

    fn ehlo_reply(&mut self) -> Result<(), ServerError> {
        let mut lines = vec![
            self.config.hostname.clone(),
            "PIPELINING".to_string(),
            "8BITMIME".to_string(),
            // RFC 6531: UTF-8 addresses are taken; whether the relay takes them too is
            // known only when the message goes on (its refusal then reaches the client).
            "SMTPUTF8".to_string(),
            format!("SIZE {}", self.config.limits.max_message_size),
            "ENHANCEDSTATUSCODES".to_string(),
        ];
        if self.config.auth.is_some() {
            lines.push(format!("AUTH {}", auth::MECHANISMS));
        }
        lines.push("HELP".to_string());
        self.write_reply(&Reply::new(250, lines))
    }

    fn mail(&mut self, from: String, params: crate::MailParams) -> Result<(), ServerError> {
        if self.config.auth.is_some() && self.client.user.is_none() {
            return self.error(530, "5.7.0 Authentication required");
        }
        if self.transaction.is_some() {
            return self.error(503, "5.5.1 Sender already specified");
        }
        if params
            .size
            .is_some_and(|s| s > self.config.limits.max_message_size)
        {
            return self.reply(552, "5.3.4 Message size exceeds fixed limit");
        }
        let mut envelope = Envelope::new(from, Vec::new());
        envelope.eight_bit = params.eight_bit;
        envelope.smtputf8 = params.smtputf8;
        self.transaction = Some(Transaction {
            envelope,
            declared_size: params.size,
        });
        self.reply(250, "2.1.0 Ok")
    }

    fn rcpt(&mut self, to: String, deliver: &mut dyn Deliver) -> Result<(), ServerError> {
        let max = self.config.limits.max_recipients;
        let Some(tx) = self.transaction.as_mut() else {
            return self.error(503, "5.5.1 Need MAIL before RCPT");
        };
        if tx.envelope.recipients.len() >= max {
            return self.reply(452, "4.5.3 Too many recipients");
        }
        if let Err(reply) = deliver.check_recipient(&to) {
            return self.write_reply(&reply);
        }
        tx.envelope.recipients.push(to);
        self.reply(250, "2.1.5 Ok")
    }

    fn data(&mut self, deliver: &mut dyn Deliver) -> Result<(), ServerError> {
        let Some(tx) = self.transaction.take() else {
            return self.error(503, "5.5.1 Need MAIL before DATA");
        };
        if tx.envelope.recipients.is_empty() {
            self.transaction = Some(tx);
            return self.error(554, "5.5.1 No valid recipients");
        }
        let file = match &self.config.spool_dir {
            Some(dir) => tempfile::tempfile_in(dir),
            None => tempfile::tempfile(),
        };
        let file = match file {
            Ok(file) => file,
            // A local fault is temporary: the client keeps the message and tries again.
            Err(e) => return self.write_reply(&local_fault(&e)),
        };
        self.reply(354, "End data with <CR><LF>.<CR><LF>")?;
        let mut reservation = Reservation {
            budget: self.config.spool_budget.clone(),
            bytes: 0,
        };
        let (mut body, size) = match self.receive_body(file, &mut reservation)? {
            Ok(received) => received,
            Err(e) => return self.write_reply(&local_fault(&e)),
        };
        let mut envelope = tx.envelope;
        envelope.size = Some(size).or(tx.declared_size);
        let reply = {
            let mut mail = Mail {
                envelope: &envelope,
                client: &self.client,
                body: &mut body,
                size,
            };
            deliver.deliver(&mut mail)
        };
        if reply.is_positive() {
            self.end.accepted += 1;
        } else {
            self.end.refused += 1;
        }
        self.write_reply(&reply)
    }

    /// Spool the body up to the end of data: dot-stuffing removed (RFC 5321 §4.5.2),
    /// line ends kept as sent, at most `max_message_size` bytes.
    ///
    /// Only `<CRLF>.<CRLF>` ends the message (RFC 5321 §4.1.1.4), as Postfix's
    /// `smtpd_forbid_bare_newline = normalize` has it: a dot line after a bare LF, a dot
    /// line ending in a bare LF, or a dot between bare CRs is content, so `<LF>.<LF>MAIL
    /// FROM:…` can never start a second message here or at the relay (SMTP smuggling,
    /// CVE-2023-51764). A bare LF still ends a line for dot-stuffing.
    ///
    /// The outer `Err` ends the session (the client went away, timed out or sent too
    /// much); the inner one is a local fault writing the spool, answered with a
    /// temporary reply once the client has sent the whole message.
    #[allow(clippy::type_complexity)] // Two layers of result, each documented above.
    fn receive_body(
        &mut self,
        mut file: File,
        reservation: &mut Reservation,
    ) -> Result<Result<(File, u64), io::Error>, ServerError> {
        let limit = self.config.limits.max_message_size;
        let mut spool = BufWriter::new(&mut file);
        let mut fault: Option<io::Error> = None;
        let mut size = 0u64;
        let mut at_line_start = true;
        let mut after_crlf = true;
        loop {
            if self.input.buffer().is_empty() {
                self.output.flush()?;
            }
            let piece = match read_piece(&mut self.input, DATA_PIECE) {
                Ok(p) => p,
                Err(e) if is_timeout(&e) => return Err(ServerError::Timeout),
                Err(e) => return Err(e.into()),
            };
            let (bytes, ends_line) = match piece {
                Piece::Eof => return Err(ServerError::EofInData),
                Piece::Bytes { bytes, ends_line } => (bytes, ends_line),
            };
            let mut chunk = &bytes[..];
            if at_line_start && chunk.first() == Some(&b'.') {
                if after_crlf && chunk == b".\r\n" {
                    break;
                }
                // A lone dot that does not end the data is kept as it came.
                if !matches!(chunk, b".\n" | b".\r\n") {
                    chunk = &chunk[1..];
                }
            }
            size += chunk.len() as u64;
            if size > limit {
                self.reply(552, "5.3.4 Message size exceeds fixed limit")?;
                return Err(ServerError::MessageTooLarge { limit });
            }
            if fault.is_none() && !reservation.take(chunk.len() as u64) {
                // The listener's sessions together hold as much as they may.
                fault = Some(io::ErrorKind::StorageFull.into());
            }
            if fault.is_none() {
                if let Err(e) = spool.write_all(chunk) {
                    fault = Some(e);
                }
            }
            at_line_start = ends_line;
            after_crlf = ends_line && bytes.ends_with(b"\r\n");
        }
        if let Some(e) = fault {
            return Ok(Err(e));
        }
        if let Err(e) = spool.flush() {
            return Ok(Err(e));
        }
        drop(spool);
        Ok(file.rewind().map(|()| (file, size)))
    }

    fn auth(
        &mut self,
        mechanism: &str,
        initial: Option<String>,
        deliver: &mut dyn Deliver,
    ) -> Result<(), ServerError> {
        let Some(authenticator) = self.config.auth.clone() else {
            return self.error(502, "5.5.1 AUTH not available");
        };
        if self.client.user.is_some() {
            return self.error(503, "5.5.1 Already authenticated");
        }
        if self.transaction.is_some() {
            return self.error(503, "5.5.1 AUTH not allowed during a mail transaction");
        }
        let credentials = match mechanism {
            "PLAIN" => {
                let response = match initial {
                    // RFC 4954 §4: `=` is an empty initial response.
                    Some(r) => Some(r),
                    None => self.challenge("")?,
                };
                response
                    .as_deref()
                    .and_then(auth::decode)
                    .and_then(|r| auth::split_plain(&r))
            }
            "LOGIN" => {
                let user = match initial {
                    Some(u) => Some(u),
                    None => self.challenge(&auth::prompt("Username:"))?,
                };
                let user = user
                    .as_deref()
                    .and_then(auth::decode)
                    .and_then(|u| String::from_utf8(u).ok());
                match user {
                    Some(user) => self
                        .challenge(&auth::prompt("Password:"))?
                        .as_deref()
                        .and_then(auth::decode)
                        .map(|p| (user, p)),
                    None => None,
                }
            }
            _ => return self.error(504, "5.5.4 Unrecognized authentication mechanism"),
        };
        match credentials {
            Some((user, password)) if authenticator.authenticate(&user, &password) => {
                self.config
                    .throttle
                    .succeeded(self.client.peer.map(|p| p.ip()));
                self.client.user = Some(user);
                self.reply(235, "2.7.0 Authentication successful")
            }
            credentials => {
                self.auth_failures += 1;
                self.output.flush()?;
                let delay = self.config.throttle.failed(
                    self.client.peer.map(|p| p.ip()),
                    self.config.limits.auth_failure_delay,
                );
                let user = credentials.map(|(user, _)| user).unwrap_or_default();
                deliver.auth_failed(&self.client, &user, delay);
                std::thread::sleep(delay);
                if self.auth_failures >= self.config.limits.max_auth_failures {
                    return Err(ServerError::TooManyAuthFailures);
                }
                self.reply(535, "5.7.8 Authentication credentials invalid")
            }
        }
    }

    /// Send a `334` challenge and read the client's answer line.
    fn challenge(&mut self, text: &str) -> Result<Option<String>, ServerError> {
        self.reply(334, text)?;
        let line = self.command_line()?;
        Ok(line.and_then(|l| String::from_utf8(l).ok()))
    }

    /// A refusal that counts towards [`Limits::max_errors`].
    fn error(&mut self, code: u16, text: &str) -> Result<(), ServerError> {
        self.errors += 1;
        if self.errors > self.config.limits.max_errors {
            return Err(ServerError::TooManyErrors);
        }
        self.reply(code, text)
    }

    fn reply(&mut self, code: u16, text: &str) -> Result<(), ServerError> {
        self.write_reply(&Reply::new(code, vec![text.to_string()]))
    }

    /// The wire form: `250-…` for every line but the last, `250 …` for the last.
    /// Line ends inside the text are never sent (each becomes a line of its own).
    fn write_reply(&mut self, reply: &Reply) -> Result<(), ServerError> {
        let lines: Vec<&str> = reply.lines().iter().flat_map(|l| l.lines()).collect();
        let last = lines.len().saturating_sub(1);
        if lines.is_empty() {
            write!(self.output, "{}\r\n", reply.code())?;
        }
        for (i, line) in lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            write!(self.output, "{}{sep}{line}\r\n", reply.code())?;
        }
        Ok(())
    }
}
