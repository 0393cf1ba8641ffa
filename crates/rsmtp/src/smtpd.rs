//! rsmtp as an SMTP *server*: `sendmail -bs` on stdin/stdout, and the msmtpd-compatible
//! listener `rsmtpd` ([`listener`]). The protocol is `rsmtp-server`'s; this module is
//! the glue that makes a received message go the way `sendmail` sends one.
//!
//! [`SendmailDelivery`] hands each message to [`send::run`] with the session's MAIL and
//! RCPT as `-f` and the recipients — so the account is chosen as for `-f`, the header
//! rules (From/Date/Message-ID added, Bcc removed), the queue and the log line are
//! exactly sendmail mode's — and answers the final dot with what happened: 250 once the
//! relay accepted the message or it is durably queued, 451 for a temporary failure,
//! 554 for a permanent one, the reason (the relay's reply included) in the text.

pub mod listener;
mod pipe;
mod worker;

use std::io::{self, Read, Write};

use rsmtp_server::{Client, Deliver, Envelope, Limits, Mail, Reply, ServerError, SessionConfig};

use crate::cli::{Invocation, Mode};
use crate::delivery::Delivery;
use crate::exit::ExitCode;
use crate::failure::Failure;
use crate::send;
use crate::ui::{DeliverLater, Ui};
use crate::Outcome;

/// `-bs` or the listener, as the command line chose.
pub fn run(inv: &Invocation, input: &mut dyn Read, ui: &mut Ui) -> Result<ExitCode, Failure> {
    if let Mode::Daemon(args) = &inv.mode {
        return listener::run(&inv.delivery, args, input, ui);
    }
    let config = SessionConfig {
        hostname: hostname(),
        banner: "ESMTP rsmtp ready".to_string(),
        limits: Limits::default(),
        auth: None,
        spool_dir: None,
        throttle: Default::default(),
        spool_budget: None,
    };
    // The trace of `-d` would land in the SMTP stream: the session's stdout is the
    // client's input. Warnings still go to stderr, and so does the log line of
    // `logfile -` (each message's Ui says so: see SendmailDelivery::deliver).
    let mut delivery = SendmailDelivery::new(&inv.delivery, &mut *ui.err, None);
    rsmtp_server::serve(&config, None, input, &mut *ui.out, &mut delivery)
        .map(|_| ExitCode::Ok)
        .map_err(|e| session_failure(&e))
}

/// How a session that did not end with QUIT or end of input is reported.
pub(crate) fn session_failure(e: &ServerError) -> Failure {
    let code = match e {
        ServerError::Io(_) | ServerError::EofInData => ExitCode::IoErr,
        ServerError::Timeout => ExitCode::TempFail,
        ServerError::Spool(_) => ExitCode::CantCreate,
        _ => ExitCode::Protocol,
    };
    Failure::new(code, e.to_string())
}

/// The name in the greeting and in `Received:` (the kernel's node name).
pub(crate) use rsmtp_core::os::node_name as hostname;

/// Delivers each message of a session through sendmail mode's path.
pub struct SendmailDelivery<'w> {
    /// The command line's delivery (`-C`, `-a`, `--host`, account options) every
    /// message inherits.
    base: Delivery,
    warnings: &'w mut dyn Write,
    /// `Some(host)`: add a `Received:` header naming this host (the listener does).
    received_by: Option<String>,
    /// Who delivers a `queue always` message (the listener's worker thread; `None`:
    /// a process per message).
    deliver_later: Option<&'w dyn DeliverLater>,
}

impl<'w> SendmailDelivery<'w> {
    pub fn new(
        base: &Delivery,
        warnings: &'w mut dyn Write,
        received_by: Option<String>,
    ) -> SendmailDelivery<'w> {
        SendmailDelivery {
            base: base.clone(),
            warnings,
            received_by,
            deliver_later: None,
        }
    }

    /// `queue always` messages go to `worker` instead of a process each.
    pub(crate) fn with_deliver_later(mut self, worker: &'w dyn DeliverLater) -> Self {
        self.deliver_later = Some(worker);
        self
    }

    /// The sendmail command line this envelope stands for: `-f FROM -- RCPT…`.
    fn delivery(&self, envelope: &Envelope) -> Delivery {
        Delivery {
            // `MAIL FROM:<>` (a bounce, an auto-reply, a DSN) stays the null sender, as
            // `-f ''` does: the account's `from` would give it a return path and let
            // bounces loop.
            envelope_from: Some(envelope.from.clone()),
            recipients: envelope.recipients.clone(),
            read_recipients: false,
            read_envelope_from: false,
            ..self.base.clone()
        }
    }
}

impl Deliver for SendmailDelivery<'_> {
    fn check_recipient(&mut self, address: &str) -> Result<(), Reply> {
        rsmtp_message::validate_address(address).map_err(|e| reply(553, "5.1.3", &e.to_string()))
    }

    fn deliver(&mut self, mail: &mut Mail<'_>) -> Reply {
        let delivery = self.delivery(mail.envelope);
        let received = self
            .received_by
            .as_deref()
            .map(|host| received_header(host, mail.client))
            .unwrap_or_default();
        let mut input = io::Cursor::new(received.into_bytes()).chain(&mut *mail.body);
        let mut sink = io::sink();
        // stdout is the session (-bs, --inetd) or not ours to write (the listener):
        // `logfile -` goes with the warnings.
        let mut ui = Ui::new(&mut sink, &mut *self.warnings, false).with_stdout_smtp();
        if let Some(worker) = self.deliver_later {
            ui = ui.with_deliver_later(worker);
        }
        match send::run(&delivery, &mut input, &mut ui) {
            Ok(Outcome::Delivered) => reply(250, "2.0.0", "Ok: delivered"),
            Ok(Outcome::Queued { id }) => reply(250, "2.0.0", &format!("Ok: queued as {id}")),
            Err(failure) => refusal(&failure),
        }
    }
}

/// A failure as the client's answer: 451 if trying again later may work, else 554;
/// the text is the sentence sendmail mode would print (the relay's reply in it).
fn refusal(failure: &Failure) -> Reply {
    let text = failure.sentence();
    if failure.code == ExitCode::TempFail {
        if out_of_space(failure) {
            reply(452, "4.3.1", &text)
        } else {
            reply(451, "4.3.0", &text)
        }
    } else {
        reply(554, "5.3.0", &text)
    }
}

/// Whether a full disk (or quota) is behind `failure`, anywhere in its source chain.
fn out_of_space(failure: &Failure) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(failure);
    while let Some(e) = source {
        if e.downcast_ref::<io::Error>()
            .is_some_and(rsmtp_core::is_out_of_space)
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// A one-line reply with an enhanced status code; control characters in `text` become
/// spaces and the line is kept under RFC 5321's 512 octets.
pub(crate) fn reply(code: u16, enhanced: &str, text: &str) -> Reply {
    let mut line: String = format!("{enhanced} {text}")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.len() > 480 {
        let mut end = 480;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
    Reply::new(code, vec![line])
}

/// `Received: from HELO (IP) by HOST (rsmtpd VERSION) with ESMTP; DATE` (RFC 5321
/// §4.4), LF-terminated like the rest of what sendmail mode reads.
pub(crate) fn received_header(by: &str, client: &Client) -> String {
    let helo = if is_plausible_helo(&client.helo) {
        client.helo.as_str()
    } else {
        // msmtpd's word for junk: nothing the client typed reaches the header, so it
        // cannot add `;`, a `by …` clause or a line of its own.
        "invalid"
    };
    let peer = match client.peer {
        Some(addr) => format!("[{}]", addr.ip()),
        None => "local".to_string(),
    };
    let with = match (client.esmtp, client.user.is_some()) {
        (_, true) => "ESMTPA",
        (true, false) => "ESMTP",
        (false, false) => "SMTP",
    };
    format!(
        "Received: from {helo} ({peer})\n\tby {by} (rsmtpd {}) with {with};\n\t{}\n",
        env!("CARGO_PKG_VERSION"),
        rsmtp_message::date_header_now()
    )
}

/// A HELO/EHLO argument that can stand in `Received:` as it is: a domain name
/// (letters, digits, `-`, `_`, dots; UTF-8 letters for IDNs) or an address literal
/// (`[192.0.2.1]`, `[IPv6:…]`), at most 255 octets (RFC 5321 §4.1.3, §4.5.3.1.2).
fn is_plausible_helo(helo: &str) -> bool {
    if helo.is_empty() || helo.len() > 255 {
        return false;
    }
    if let Some(literal) = helo.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !literal.is_empty()
            && literal.chars().all(|c| {
                c.is_ascii_hexdigit() || ".:".contains(c) || c == 'I' || c == 'P' || c == 'v'
            });
    }
    helo.chars()
        .all(|c| c.is_alphanumeric() || "-_.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_become_451_or_554_with_the_reason() {
        let temp = Failure::new(ExitCode::TempFail, "server busy: 451 4.3.2 try\nlater");
        let r = refusal(&temp);
        assert_eq!(r.code(), 451);
        assert_eq!(r.lines(), ["4.3.0 server busy: 451 4.3.2 try later"]);
        let perm = Failure::new(ExitCode::DataErr, "refused: 550 5.1.1 no such user")
            .with_account(Some("account default".into()));
        let r = refusal(&perm);
        assert_eq!(r.code(), 554);
        assert!(r.lines()[0].contains("550 5.1.1 no such user"));
        assert!(r.lines()[0].ends_with("(could not send mail: account default)"));
        assert!(reply(250, "2.0.0", &"x".repeat(2000)).lines()[0].len() <= 480);
    }

    #[test]
    fn received_header_names_client_and_protocol() {
        let client = Client {
            helo: "app (evil)\r\nX: y".into(),
            esmtp: true,
            peer: Some("127.0.0.1:4000".parse().unwrap()),
            user: Some("alice".into()),
        };
        let h = received_header("mx.test", &client);
        assert!(
            h.starts_with("Received: from invalid ([127.0.0.1])\n\tby mx.test (rsmtpd "),
            "{h}"
        );
        for (helo, shown) in [
            ("mail.example.org", "mail.example.org"),
            ("[192.0.2.1]", "[192.0.2.1]"),
            ("[IPv6:2001:db8::1]", "[IPv6:2001:db8::1]"),
            ("x; by evil.example", "invalid"),
            ("", "invalid"),
        ] {
            let c = Client {
                helo: helo.into(),
                ..client.clone()
            };
            assert!(
                received_header("mx.test", &c).starts_with(&format!("Received: from {shown} (")),
                "{helo}"
            );
        }
        assert!(h.contains(" with ESMTPA;\n\t"));
        assert_eq!(h.matches('\n').count(), 3);
    }
}
