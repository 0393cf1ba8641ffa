//! How a queue flush delivers: one SMTP session per account, kept open for the
//! entries that follow (RSET between messages, at most [`MESSAGES_PER_SESSION`]
//! per session, a fresh session after any error), so 500 queued messages cost one
//! TLS handshake and one AUTH instead of 500. Each attempt still writes msmtp's log
//! line, as a lone delivery does.
//!
//! The courier also remembers which servers accepted a message during this flush
//! (and those the caller already knows to be back): an entry waiting for one of
//! them is sent at once, whatever its backoff says.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::io::{Seek, SeekFrom};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use rsmtp_config::Account;
use rsmtp_queue::{Courier, DeliveryResult, EntryMessage, EntryMeta};
use rsmtp_smtp::{Client, NoTrace, SessionSettings, Trace};

use crate::account::{self, log_target};
use crate::attempt::{attempt_record, attempt_through};
use crate::queued::{entry_account, entry_envelope};
use crate::ui::Ui;

/// A session is closed (QUIT) and a new one opened after this many messages: a
/// bound that servers' own per-connection limits (Postfix's
/// `smtpd_recipient_limit`, providers' message limits) stay above.
pub const MESSAGES_PER_SESSION: usize = 100;

/// What the accounts of two entries are read from: equal keys, equal accounts.
type AccountKey = (String, Option<PathBuf>, Vec<(String, String)>);

/// One account's delivery route and its open session.
struct Route {
    account: Account,
    settings: SessionSettings,
    /// `host:port`, what "the server is back" is about.
    server: String,
    client: Option<Client<'static>>,
}

/// The [`Courier`] of `rsmtp -q`, the retrier and `-q15m`.
pub struct SessionCourier<'u, 'a> {
    ui: &'u mut Ui<'a>,
    /// Settings applied on top of every entry (the background delivery's own
    /// command line); empty for a plain flush.
    command_line: &'u [(String, String)],
    routes: HashMap<AccountKey, Result<Route, String>>,
    /// Servers that accepted a message: their waiting entries go now.
    back: HashSet<String>,
    trace: Rc<RefCell<Vec<(bool, String)>>>,
    /// Set by SIGTERM/SIGINT (`-q15m`): no new message after the one in flight.
    stop: Option<&'u AtomicBool>,
    /// Sessions opened so far (the `-d` summary and the benchmarks).
    pub sessions_opened: usize,
    /// The log line of the last delivered message, written once the queue has removed
    /// its entry (the next call, or [`SessionCourier::finish`]): after the server's
    /// 250 nothing but the removal may come first, so a kill in between can cost a
    /// log line, never a second copy of the mail.
    pending_log: Option<(crate::log::LogTarget, crate::log::LogRecord)>,
}

impl<'u, 'a> SessionCourier<'u, 'a> {
    /// A courier that reports through `ui` and applies `command_line`'s settings on
    /// top of every entry. `servers_back` (`host:port`) are servers already known to
    /// answer again: an entry waiting for one of them is sent at once, whatever its
    /// backoff says. It stops between messages once `stop` is set (SIGTERM to the
    /// retrier).
    pub fn new(
        ui: &'u mut Ui<'a>,
        command_line: &'u [(String, String)],
        servers_back: &[String],
        stop: Option<&'u AtomicBool>,
    ) -> SessionCourier<'u, 'a> {
        SessionCourier {
            ui,
            command_line,
            routes: HashMap::new(),
            back: servers_back.iter().cloned().collect(),
            trace: Rc::default(),
            stop,
            sessions_opened: 0,
            pending_log: None,
        }
    }

    fn write_pending_log(&mut self) {
        if let Some((log, record)) = self.pending_log.take() {
            self.ui.log(&log, &record);
        }
    }

    /// The servers known to be back: those given, and those that accepted a message.
    pub fn servers_back(&self) -> Vec<String> {
        self.back.iter().cloned().collect()
    }

    /// Writes the last log line and QUITs every open session.
    pub fn finish(&mut self) {
        self.write_pending_log();
        for route in self.routes.values_mut().flatten() {
            if let Some(client) = route.client.take() {
                client.quit();
            }
        }
        self.show_trace();
    }

    fn route(&mut self, meta: &EntryMeta) -> Result<&mut Route, String> {
        let key = (
            meta.account.clone(),
            meta.config_file.clone(),
            meta.overrides.clone(),
        );
        let command_line = self.command_line;
        self.routes
            .entry(key)
            .or_insert_with(|| {
                let account = entry_account(meta, command_line).map_err(|f| f.message)?;
                let settings = account::session_settings(&account, account::PasswordPrompt::Never)
                    .map_err(|f| f.message)?;
                let server = server_of(&settings);
                Ok(Route {
                    account,
                    settings,
                    server,
                    client: None,
                })
            })
            .as_mut()
            .map_err(|e| e.clone())
    }

    fn new_trace(&self) -> Box<dyn Trace> {
        if self.ui.debug {
            Box::new(SharedTrace(Rc::clone(&self.trace)))
        } else {
            Box::new(NoTrace)
        }
    }

    /// Prints what the sessions traced so far (`-d`).
    fn show_trace(&mut self) {
        let lines = std::mem::take(&mut *self.trace.borrow_mut());
        for (sent, line) in lines {
            let prefix = if sent { "--> " } else { "" };
            self.ui.print(&format!("{prefix}{line}\n"));
        }
    }
}

impl Courier for SessionCourier<'_, '_> {
    fn deliver(&mut self, meta: &EntryMeta, message: &mut EntryMessage<'_>) -> DeliveryResult {
        // The previous message's entry is gone by now: its log line may follow.
        self.write_pending_log();
        let trace = self.new_trace();
        let route = match self.route(meta) {
            Ok(route) => route,
            // The configuration may be fixed before the message expires.
            Err(e) => return DeliveryResult::TempFail(e),
        };
        let envelope = entry_envelope(meta);
        let mut opened = 0;
        let mut trace = Some(trace);
        let (result, record) = loop {
            if route
                .client
                .as_ref()
                .is_some_and(|c| !c.is_open() || c.messages_sent() >= MESSAGES_PER_SESSION)
            {
                if let Some(client) = route.client.take() {
                    client.quit();
                }
            }
            let reused = route.client.is_some();
            let client = match route.client.take() {
                Some(client) => client,
                None => {
                    opened += 1;
                    let trace = trace.take().unwrap_or_else(|| Box::new(NoTrace));
                    match Client::connect(&route.settings, trace) {
                        Ok(client) => client,
                        Err(e) => {
                            let result = Err(e);
                            let record = attempt_record(&route.account, &envelope, &result, 0);
                            break (result, record);
                        }
                    }
                }
            };
            let client = route.client.insert(client);
            let (result, record) =
                attempt_through(&route.account, &envelope, message, &mut |env, body| {
                    client.send_message(env, body)
                });
            // A session kept open from an earlier message may have been closed by the
            // server meanwhile: try once more on a fresh one, unless the server may
            // already have the message (a duplicate is worse than a retry later).
            let stale = result.is_err() && reused && !client.data_in_flight();
            if stale && message.seek(SeekFrom::Start(0)).is_ok() {
                route.client = None;
                continue;
            }
            break (result, record);
        };
        self.sessions_opened += opened;
        let route = match self.route(meta) {
            Ok(route) => route,
            Err(e) => return DeliveryResult::TempFail(e),
        };
        let log = log_target(&route.account);
        let server = route.server.clone();
        self.show_trace();
        match result {
            Ok(_) => {
                self.back.insert(server);
                self.pending_log = Some((log, record));
                DeliveryResult::Delivered
            }
            Err(e) => {
                self.ui.log(&log, &record);
                let rest = if e.is_unanswered() {
                    DeliveryResult::Unanswered(e.to_string())
                } else if e.is_transient() {
                    DeliveryResult::TempFail(e.to_string())
                } else {
                    DeliveryResult::PermFail(e.to_string())
                };
                match e.partly_delivered() {
                    // LMTP: those who have it leave the entry; the rest waits or fails.
                    Some((delivered, _)) => DeliveryResult::PartlyDelivered {
                        delivered: delivered.to_vec(),
                        rest: Box::new(rest),
                    },
                    None => rest,
                }
            }
        }
    }

    fn keep_going(&mut self) -> bool {
        !self.stop.is_some_and(|s| s.load(Ordering::SeqCst))
    }

    fn server_is_back(&mut self, meta: &EntryMeta) -> bool {
        if self.back.is_empty() {
            return false;
        }
        match self.route(meta) {
            Ok(route) => {
                let server = route.server.clone();
                self.back.contains(&server)
            }
            Err(_) => false,
        }
    }
}

/// `host:port` of a route, as `--queue-server-up` names a server.
pub fn server_of(settings: &SessionSettings) -> String {
    format!("{}:{}", settings.host, settings.port)
}

/// Collects the trace of sessions that outlive one call, for [`Ui::print`].
struct SharedTrace(Rc<RefCell<Vec<(bool, String)>>>);

impl Trace for SharedTrace {
    fn sent(&mut self, line: &str) {
        self.0.borrow_mut().push((true, line.to_string()));
    }
    fn received(&mut self, line: &str) {
        self.0.borrow_mut().push((false, format!("<-- {line}")));
    }
    fn note(&mut self, note: &str) {
        self.0.borrow_mut().push((false, note.to_string()));
    }
}
