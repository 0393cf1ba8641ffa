//! The SMTP envelope: who a message is from and for, and the facts about it that
//! decide MAIL parameters. Shared by the client (what it sends) and the server (what
//! a session received), which need not know each other.

/// The SMTP envelope (RFC 5321 §2.3.1) and the facts about the message that
/// decide MAIL parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// Reverse path; empty or `MAILER-DAEMON` sends the null path `<>`.
    pub from: String,
    /// Forward paths, one RCPT TO each.
    pub recipients: Vec<String>,
    /// DSN `NOTIFY=` value for every RCPT (RFC 3461 §4.1), e.g. `FAILURE,DELAY`.
    pub dsn_notify: Option<String>,
    /// DSN `RET=` value (`FULL` or `HDRS`, RFC 3461 §4.3).
    pub dsn_return: Option<String>,
    /// Message size in bytes, declared as `SIZE=` when offered (RFC 1870).
    pub size: Option<u64>,
    /// The message has 8-bit bytes: `BODY=8BITMIME` when offered (RFC 6152).
    pub eight_bit: bool,
    /// The message or an address needs SMTPUTF8 (RFC 6531). Non-ASCII
    /// addresses set it implicitly.
    pub smtputf8: bool,
}

impl Envelope {
    /// An envelope from `from` to `recipients`, with no DSN, size or 8-bit facts.
    pub fn new(from: impl Into<String>, recipients: Vec<String>) -> Envelope {
        Envelope {
            from: from.into(),
            recipients,
            ..Envelope::default()
        }
    }
}
