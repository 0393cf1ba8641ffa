//! What the server saw: messages, per-connection sessions and the transcript, shared
//! between the connection threads and the [`TestServer`](crate::TestServer) handle.

use std::collections::HashMap;
use std::fmt;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::options::Fault;

/// One RCPT TO as the client sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// The address between `<` and `>`.
    pub address: String,
    /// ESMTP parameters after the address (`NOTIFY=…`, `ORCPT=…`), as sent.
    pub params: Vec<String>,
    /// The code the server answered.
    pub reply_code: u16,
}

impl Recipient {
    /// The server answered 2xx.
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.reply_code)
    }
}

/// A successful or failed AUTH exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthRecord {
    /// `PLAIN`, `LOGIN`, `CRAM-MD5`, `XOAUTH2` or `OAUTHBEARER`.
    pub mechanism: String,
    /// The decoded identity the client claimed (authcid / user / `a=`).
    pub identity: String,
    /// Whether the credentials matched.
    pub success: bool,
}

/// A message received after DATA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Connection number (1-based, in accept order).
    pub connection: usize,
    /// The EHLO/HELO argument.
    pub helo: Option<String>,
    /// The MAIL FROM address (empty for the null sender `<>`).
    pub mail_from: String,
    /// MAIL FROM parameters as sent (`SIZE=123`, `BODY=8BITMIME`, `RET=HDRS`…).
    pub mail_params: Vec<String>,
    /// Every RCPT TO of the transaction, accepted or not, in order.
    pub rcpt_to: Vec<Recipient>,
    /// The message as the client meant it: dot-unstuffed, the final `.` line removed.
    /// Line endings are kept exactly as received. Empty if `store_bodies` was off.
    pub data: Vec<u8>,
    /// The bytes after the `354` up to and including the terminating `.` line.
    /// Empty unless [`ServerOptions::keep_raw_data`](crate::ServerOptions::keep_raw_data)
    /// was on (and `store_bodies` too).
    pub raw_data: Vec<u8>,
    /// Length of `data` (kept even when bodies are not stored).
    pub size: usize,
    /// Some line ended in a bare LF instead of CRLF.
    pub bare_lf: bool,
    /// The session was inside TLS.
    pub tls: bool,
    /// The successful AUTH of this session, if any.
    pub auth: Option<AuthRecord>,
    /// Subject of the client certificate presented in the TLS handshake.
    pub client_cert_subject: Option<String>,
    /// MAIL FROM, every RCPT TO and DATA were sent without waiting for replies (the
    /// client pipelined). Certain when the client writes them at once; for a client that
    /// writes each command separately, set [`ServerOptions::pipelining_window`](crate::ServerOptions::pipelining_window).
    pub pipelined: bool,
    /// The final reply code after the body; `None` if the server never answered
    /// (hang fault) or closed first.
    pub final_reply: Option<u16>,
}

impl ReceivedMessage {
    /// Addresses of the accepted recipients.
    pub fn recipients(&self) -> Vec<&str> {
        self.rcpt_to
            .iter()
            .filter(|r| r.accepted())
            .map(|r| r.address.as_str())
            .collect()
    }

    /// `data` as text (lossy).
    pub fn data_str(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// The header block of `data` (up to the first empty line), lossy.
    pub fn headers(&self) -> String {
        let text = self.data_str();
        let end = text
            .find("\r\n\r\n")
            .map(|i| i + 2)
            .or_else(|| text.find("\n\n").map(|i| i + 1))
            .unwrap_or(text.len());
        text[..end].to_string()
    }

    /// Value of the first header with this name (case-insensitive), unfolded and trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        let headers = self.headers();
        let mut lines = headers.split('\n').map(|l| l.trim_end_matches('\r'));
        while let Some(line) = lines.next() {
            let Some((field, value)) = line.split_once(':') else {
                continue;
            };
            if field.eq_ignore_ascii_case(name) && !field.starts_with([' ', '\t']) {
                let mut value = value.trim().to_string();
                for cont in lines.by_ref() {
                    if cont.starts_with([' ', '\t']) {
                        value.push(' ');
                        value.push_str(cont.trim());
                    } else {
                        break;
                    }
                }
                return Some(value);
            }
        }
        None
    }

    fn is_accepted(&self) -> bool {
        matches!(self.final_reply, Some(200..=299))
    }
}

/// One command as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The line without CRLF.
    pub line: String,
    /// How many times the server had sent replies before this command arrived. Commands
    /// with the same batch were sent without waiting for each other's replies: the client
    /// pipelined them.
    pub batch: u64,
}

/// One connection, as far as it got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionRecord {
    /// Connection number (1-based).
    pub id: usize,
    /// EHLO (true) or HELO (false) was used last.
    pub ehlo: bool,
    /// The last EHLO/HELO argument.
    pub helo: Option<String>,
    /// TLS was established.
    pub tls: bool,
    /// `TLSv1_3` etc.
    pub tls_version: Option<String>,
    /// The server name the client sent (SNI).
    pub sni: Option<String>,
    /// Subject of the client certificate.
    pub client_cert_subject: Option<String>,
    /// Why the TLS handshake failed, as rustls put it (e.g. the client's alert).
    pub tls_error: Option<String>,
    /// Every AUTH attempt.
    pub auth_attempts: Vec<AuthRecord>,
    /// Every command line received, in order (message bodies excluded).
    pub commands: Vec<Command>,
    /// Bytes that arrived after STARTTLS before the handshake, which were discarded.
    pub discarded_after_starttls: usize,
    /// The client sent QUIT.
    pub quit: bool,
    /// The session ended.
    pub closed: bool,
}

impl SessionRecord {
    /// The command verbs in order, upper-cased (`["EHLO", "STARTTLS", "EHLO", …]`).
    pub fn verbs(&self) -> Vec<String> {
        self.commands
            .iter()
            .map(|c| {
                c.line
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_uppercase()
            })
            .collect()
    }
}

/// Who produced a transcript line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Client to server.
    Client,
    /// Server to client.
    Server,
    /// Something the server noted (TLS established, connection closed, fault applied).
    Event,
}

/// One transcript line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranscriptEntry {
    /// Connection number (1-based).
    pub connection: usize,
    /// Who said it.
    pub direction: Direction,
    /// The line without CRLF (very long lines are shortened).
    pub text: String,
}

/// Everything exchanged on every connection, in order. `Display` prints
/// `[1] S: 220 …` / `[1] C: EHLO …` / `[1] * TLS established` lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    /// The lines.
    pub entries: Vec<TranscriptEntry>,
}

impl Transcript {
    /// Some line contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.entries.iter().any(|e| e.text.contains(needle))
    }

    /// Lines of one connection.
    pub fn connection(&self, id: usize) -> Vec<&TranscriptEntry> {
        self.entries.iter().filter(|e| e.connection == id).collect()
    }
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            let who = match e.direction {
                Direction::Client => "C:",
                Direction::Server => "S:",
                Direction::Event => "*",
            };
            writeln!(f, "[{}] {} {}", e.connection, who, e.text)?;
        }
        Ok(())
    }
}

#[derive(Default)]
pub(crate) struct State {
    /// Shared so that [`TestServer::wait_for_message`](crate::TestServer::wait_for_message)
    /// hands one out without copying its body.
    pub messages: Vec<Arc<ReceivedMessage>>,
    /// Indices into `messages` of the accepted ones, in the order they were accepted:
    /// counting and waiting never walk (or copy) the whole list.
    accepted: Vec<usize>,
    pub transcript: Vec<TranscriptEntry>,
    pub sessions: Vec<SessionRecord>,
    pub connections: usize,
    pub faults: Vec<Fault>,
}

/// State shared by the accept thread, the connection threads and the handle.
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    pub shutdown: AtomicBool,
    sockets: Mutex<HashMap<usize, TcpStream>>,
}

impl Shared {
    pub(crate) fn new(faults: Vec<Fault>) -> Shared {
        Shared {
            state: Mutex::new(State {
                faults,
                ..State::default()
            }),
            changed: Condvar::new(),
            shutdown: AtomicBool::new(false),
            sockets: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not take the test's view down with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Read the state.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.lock())
    }

    /// Change the state and wake waiters.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let r = f(&mut self.lock());
        self.changed.notify_all();
        r
    }

    /// Wait until `done` holds or `timeout` passes; returns the final `read` of the state.
    pub(crate) fn wait_until<R>(
        &self,
        timeout: Duration,
        done: impl Fn(&State) -> bool,
        read: impl FnOnce(&State) -> R,
    ) -> R {
        let deadline = Instant::now() + timeout;
        let mut guard = self.lock();
        loop {
            if done(&guard) {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            guard = self
                .changed
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        read(&guard)
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Keep a handle on a connection's socket so `Drop` can unblock its thread.
    pub(crate) fn register_socket(&self, id: usize, stream: TcpStream) {
        self.sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, stream);
    }

    /// Shut a connection's socket down (both ways) and forget it. The registered clone
    /// would otherwise keep the connection open after the session drops its stream.
    pub(crate) fn close_socket(&self, id: usize) {
        let stream = self
            .sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        if let Some(stream) = stream {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    pub(crate) fn close_all_sockets(&self) {
        let sockets: Vec<TcpStream> = self
            .sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, s)| s)
            .collect();
        for s in sockets {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl State {
    /// The accepted messages in arrival order.
    pub(crate) fn accepted_messages(&self) -> Vec<ReceivedMessage> {
        let mut indices = self.accepted.clone();
        indices.sort_unstable();
        indices
            .iter()
            .map(|&i| ReceivedMessage::clone(&self.messages[i]))
            .collect()
    }

    pub(crate) fn accepted_count(&self) -> usize {
        self.accepted.len()
    }

    /// The `n`-th accepted message (0-based) in the order the verdicts were given.
    pub(crate) fn nth_accepted(&self, n: usize) -> Option<Arc<ReceivedMessage>> {
        self.accepted.get(n).map(|&i| Arc::clone(&self.messages[i]))
    }

    /// Record the final reply to a message's body (once per message).
    pub(crate) fn set_final_reply(&mut self, index: usize, code: u16) {
        // Not handed out before its verdict, so this does not copy.
        let message = Arc::make_mut(&mut self.messages[index]);
        let newly_accepted = !message.is_accepted();
        message.final_reply = Some(code);
        if newly_accepted && message.is_accepted() {
            self.accepted.push(index);
        }
    }

    pub(crate) fn rejected_messages(&self) -> Vec<ReceivedMessage> {
        self.messages
            .iter()
            .filter(|m| !m.is_accepted())
            .map(|m| ReceivedMessage::clone(m))
            .collect()
    }

    pub(crate) fn session_mut(&mut self, id: usize) -> &mut SessionRecord {
        // Sessions are created in accept order, so id N is usually at N - 1.
        let at = id.wrapping_sub(1);
        if self.sessions.get(at).is_some_and(|s| s.id == id) {
            return &mut self.sessions[at];
        }
        let index = self
            .sessions
            .iter()
            .position(|s| s.id == id)
            .unwrap_or_else(|| {
                self.sessions.push(SessionRecord {
                    id,
                    ..SessionRecord::default()
                });
                self.sessions.len() - 1
            });
        &mut self.sessions[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(data: &str) -> ReceivedMessage {
        ReceivedMessage {
            connection: 1,
            helo: None,
            mail_from: String::new(),
            mail_params: Vec::new(),
            rcpt_to: Vec::new(),
            data: data.as_bytes().to_vec(),
            raw_data: Vec::new(),
            size: data.len(),
            bare_lf: false,
            tls: false,
            auth: None,
            client_cert_subject: None,
            pipelined: false,
            final_reply: Some(250),
        }
    }

    #[test]
    fn header_lookup_unfolds() {
        let m = message("Subject: a\r\n  b\r\nTo: x@y\r\n\r\nSubject: body\r\n");
        assert_eq!(m.header("subject").as_deref(), Some("a b"));
        assert_eq!(m.header("To").as_deref(), Some("x@y"));
        assert_eq!(m.header("Cc"), None);
        assert_eq!(m.headers(), "Subject: a\r\n  b\r\nTo: x@y\r\n");
    }
}
