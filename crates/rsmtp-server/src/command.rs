//! One client command line → a [`Command`] (RFC 5321 §4.1.1), with the address syntax
//! checks every face needs: a path is at most 256 octets (§4.5.3.1.3), carries no
//! control characters or spaces, and never starts with `-` — an address is handed to
//! `--command` as a word, and msmtpd's `-oX`-as-a-recipient hole must stay closed.
//! Outside a quoted local part it carries no shell metacharacter and no comment either
//! (`501 5.1.7 Invalid address`, as msmtpd answers): the delivery command never sees an
//! address as shell text, but a script further down the line might.
//!
//! A line that is not SMTP at all — an HTTP request line (`GET`, `POST`, `CONNECT`, …) or
//! a header line (`Host: …`, `User-Agent: …`) — is [`Command::Foreign`]: the session
//! hangs up on it, as Postfix's smtpd does, so that a web page cannot make a browser
//! post SMTP commands to a local port (cross-protocol mail).

/// The MAIL parameters this server understands (RFC 1870 SIZE, RFC 6152 BODY, RFC
/// 6531 SMTPUTF8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailParams {
    /// `SIZE=n`: the size the client declares.
    pub size: Option<u64>,
    /// `BODY=8BITMIME`.
    pub eight_bit: bool,
    /// `SMTPUTF8`.
    pub smtputf8: bool,
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `HELO domain` (RFC 5321 §4.1.1.1).
    Helo(String),
    /// `EHLO domain`: extended SMTP.
    Ehlo(String),
    /// `MAIL FROM:<path>`; the empty path `<>` is the null sender.
    Mail(String, MailParams),
    /// `RCPT TO:<path>`.
    Rcpt(String),
    /// `DATA`: the message follows, up to `<CRLF>.<CRLF>`.
    Data,
    /// `RSET`: drop the transaction.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `VRFY` (answered 252: not verified, accepted).
    Vrfy,
    /// `EXPN` (not supported).
    Expn,
    /// `HELP`.
    Help,
    /// `AUTH mechanism [initial-response]`.
    Auth {
        /// The SASL mechanism, upper case (`PLAIN`, `LOGIN`).
        mechanism: String,
        /// The initial response, base64, if given on the AUTH line.
        initial: Option<String>,
    },
    /// `STARTTLS` (not offered here: answered 502).
    StartTls,
    /// A known verb with a syntax error: the reply text.
    Invalid(&'static str),
    /// An HTTP request line or a header line: another protocol is talking.
    Foreign,
    /// Not a command this server knows.
    Unknown,
}

/// Longest reverse or forward path (RFC 5321 §4.5.3.1.3).
const MAX_PATH: usize = 256;

/// What a shell would act on, and comment parentheses; refused outside quotes.
const SHELL_META: &str = "$`;|&\\*?{}()[]";

impl Command {
    /// Parse one line (line end already removed).
    pub fn parse(line: &[u8]) -> Command {
        let Ok(line) = std::str::from_utf8(line) else {
            return Command::Invalid("5.5.2 Syntax error: command is not UTF-8");
        };
        let (verb, rest) = match line.split_once(' ') {
            Some((v, r)) => (v, r.trim()),
            None => (line, ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "HELO" | "EHLO" if rest.is_empty() => {
                Command::Invalid("5.5.4 Syntax: HELO/EHLO domain")
            }
            "HELO" => Command::Helo(rest.to_string()),
            "EHLO" => Command::Ehlo(rest.to_string()),
            "MAIL" => parse_mail(rest),
            "RCPT" => match path_after(rest, "TO:") {
                Ok((path, _)) if path.is_empty() => {
                    Command::Invalid("5.1.3 Syntax: RCPT TO:<address>")
                }
                Ok((path, _)) => Command::Rcpt(path),
                Err(why) => Command::Invalid(why),
            },
            "DATA" => Command::Data,
            "RSET" => Command::Rset,
            "NOOP" => Command::Noop,
            "QUIT" => Command::Quit,
            "VRFY" => Command::Vrfy,
            "EXPN" => Command::Expn,
            "HELP" => Command::Help,
            "STARTTLS" => Command::StartTls,
            "GET" | "POST" | "PUT" | "HEAD" | "CONNECT" | "OPTIONS" | "DELETE" | "PATCH"
            | "TRACE" => Command::Foreign,
            _ if is_header_name(verb) => Command::Foreign,
            "AUTH" => {
                let mut words = rest.split_whitespace();
                match (words.next(), words.next(), words.next()) {
                    (Some(m), initial, None) => Command::Auth {
                        mechanism: m.to_ascii_uppercase(),
                        initial: initial.map(str::to_string),
                    },
                    _ => Command::Invalid("5.5.4 Syntax: AUTH mechanism [initial-response]"),
                }
            }
            _ => Command::Unknown,
        }
    }
}

/// `Host:`, `User-Agent:`, `Content-Type:`: a field name and its colon (RFC 5322 §2.2),
/// which no SMTP verb ends with.
fn is_header_name(verb: &str) -> bool {
    verb.strip_suffix(':').is_some_and(|name| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn parse_mail(rest: &str) -> Command {
    let (path, params) = match path_after(rest, "FROM:") {
        Ok(p) => p,
        Err(why) => return Command::Invalid(why),
    };
    let mut parsed = MailParams::default();
    for param in params.split_whitespace() {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        match key.to_ascii_uppercase().as_str() {
            "SIZE" => match value.parse() {
                Ok(n) => parsed.size = Some(n),
                Err(_) => return Command::Invalid("5.5.4 Syntax: SIZE=number"),
            },
            "BODY" => match value.to_ascii_uppercase().as_str() {
                "7BIT" => parsed.eight_bit = false,
                "8BITMIME" => parsed.eight_bit = true,
                _ => return Command::Invalid("5.5.4 BODY must be 7BIT or 8BITMIME"),
            },
            "SMTPUTF8" if value.is_empty() => parsed.smtputf8 = true,
            _ => return Command::Invalid("5.5.4 Unsupported MAIL parameter"),
        }
    }
    Command::Mail(path, parsed)
}

/// `FROM:<path> params` → (path, params). Accepts a space after the colon and a path
/// without angle brackets, as lenient servers (Postfix) do for local clients.
fn path_after<'a>(rest: &'a str, keyword: &str) -> Result<(String, &'a str), &'static str> {
    let head = rest.get(..keyword.len()).unwrap_or_default();
    if !head.eq_ignore_ascii_case(keyword) {
        return Err("5.5.4 Syntax: MAIL FROM:<address> / RCPT TO:<address>");
    }
    let rest = rest[keyword.len()..].trim_start();
    let (path, params) = if let Some(inner) = rest.strip_prefix('<') {
        let end = inner.find('>').ok_or("5.5.4 Syntax: missing '>'")?;
        (&inner[..end], &inner[end + 1..])
    } else {
        rest.split_once(' ').unwrap_or((rest, ""))
    };
    // A source route (`<@a,@b:user@c>`, §4.1.1.3) is accepted and ignored.
    let path = match path.split_once(':') {
        Some((route, addr)) if route.starts_with('@') => addr,
        _ => path,
    };
    check_path(path)?;
    Ok((path.to_string(), params))
}

fn check_path(path: &str) -> Result<(), &'static str> {
    if path.len() > MAX_PATH {
        return Err("5.1.3 Address too long");
    }
    if path.starts_with('-') {
        return Err("5.1.3 Address may not start with '-'");
    }
    // Blanks and brackets only inside a quoted local part (`"john doe"@example.org`,
    // RFC 5321 §4.1.2); UTF-8 is fine (SMTPUTF8), control characters never.
    let blank_or_bracket = |c: char| c.is_whitespace() || matches!(c, '<' | '>');
    if path.chars().any(char::is_control)
        || rsmtp_core::quoting::unquoted(path).any(|(_, c)| blank_or_bracket(c))
    {
        return Err("5.1.3 Bad character in address");
    }
    if !rsmtp_core::quoting::quotes_closed(path) {
        return Err("5.1.3 Unterminated quoted local part");
    }
    // Shell metacharacters and comments, outside a quoted local part and a domain
    // literal (`user@[192.0.2.1]`). `'` stays allowed: o'hara@example.org is a real
    // address, and no shell ever sees it.
    let literal_start = path
        .rfind("@[")
        .filter(|_| path.ends_with(']'))
        .map(|i| i + 1);
    if rsmtp_core::quoting::unquoted(path)
        .filter(|&(i, _)| literal_start.is_none_or(|start| i < start))
        .any(|(_, c)| SHELL_META.contains(c))
    {
        return Err("5.1.7 Invalid address");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_local_parts_and_utf8_paths_are_taken() {
        assert!(check_path("\"john doe\"@example.org").is_ok());
        assert!(check_path("jörg@bücher.de").is_ok());
        assert!(check_path("a b@example.org").is_err());
        assert!(check_path("\"open@example.org").is_err());
        assert!(check_path("a\r@example.org").is_err());
    }

    #[test]
    fn mail_and_rcpt_paths_and_parameters() {
        assert_eq!(
            Command::parse(b"MAIL FROM:<a@example.org> SIZE=12 BODY=8BITMIME"),
            Command::Mail(
                "a@example.org".into(),
                MailParams {
                    size: Some(12),
                    eight_bit: true,
                    smtputf8: false
                }
            )
        );
        assert_eq!(
            Command::parse(b"mail from: <>"),
            Command::Mail(String::new(), MailParams::default())
        );
        assert_eq!(
            Command::parse(b"RCPT TO:<@relay:b@example.org>"),
            Command::Rcpt("b@example.org".into())
        );
        assert_eq!(
            Command::parse(b"rcpt to:b@example.org"),
            Command::Rcpt("b@example.org".into())
        );
    }

    #[test]
    fn hostile_paths_are_refused() {
        for line in [
            &b"RCPT TO:<-oQ/tmp/x>"[..],
            b"RCPT TO:<a b@example.org>",
            b"RCPT TO:<>",
            b"MAIL FROM:<a@example.org",
            b"MAIL FROM:<a@example.org> X-EVIL=1",
            b"MAIL TO:<a@example.org>",
        ] {
            assert!(
                matches!(Command::parse(line), Command::Invalid(_)),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        let long = format!("RCPT TO:<{}@example.org>", "a".repeat(300));
        assert!(matches!(
            Command::parse(long.as_bytes()),
            Command::Invalid(_)
        ));
    }

    #[test]
    fn verbs_are_case_insensitive() {
        assert_eq!(Command::parse(b"quit"), Command::Quit);
        assert_eq!(
            Command::parse(b"EHLO client"),
            Command::Ehlo("client".into())
        );
        assert!(matches!(Command::parse(b"HELO"), Command::Invalid(_)));
        assert_eq!(Command::parse(b"XYZZY"), Command::Unknown);
        assert_eq!(
            Command::parse(b"AUTH plain AGEAYg=="),
            Command::Auth {
                mechanism: "PLAIN".into(),
                initial: Some("AGEAYg==".into())
            }
        );
    }
}
