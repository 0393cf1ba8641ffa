//! The `mail -s SUBJECT RECIPIENT…` drop-in (mailutils / bsd-mailx sending flags), for the
//! cron lines and scripts that pipe a report into `mail`:
//!
//! `-s SUBJECT`, `-c CC`, `-b BCC`, `-r FROM`, `-a 'Header: value'`, `-A FILE` (attach; the
//! message becomes multipart/mixed), `-E` (an empty body is not sent; exit 0), `-n`/`-N`
//! accepted and ignored, `--` ends the options. Values may be glued (`-sSubject`); address
//! lists may be comma-separated. The body is stdin, as is. Recipients, sender and account
//! default to backup-alert's settings, like the other commands; there is no flood control —
//! these are arbitrary messages, not alerts.

use std::ffi::OsString;
use std::path::PathBuf;

use lettre::message::header::HeaderValue;

use crate::alert::compose::{
    compose_plain, parse_extra_header, parse_mailbox, Addresses, FileAttachment,
};
use crate::alert::deliver;
use crate::context::Context;
use crate::error::Error;
use rsmtp_deliver::ui::Ui;

/// Most of a body kept (64 MiB; the rest is read, counted and named in a note) and the
/// biggest attachment accepted: a mail line is not a file transfer.
const MAX_INPUT: u64 = 64 << 20;

/// A parsed `mail` command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MailArgs {
    pub(crate) subject: Option<String>,
    pub(crate) to: Vec<String>,
    pub(crate) cc: Vec<String>,
    pub(crate) bcc: Vec<String>,
    pub(crate) from: Option<String>,
    pub(crate) headers: Vec<String>,
    pub(crate) attachments: Vec<PathBuf>,
    pub(crate) skip_empty: bool,
}

fn split_list(v: &str, into: &mut Vec<String>) {
    into.extend(crate::addresses::split_addresses(v));
}

/// Parse the arguments after argv[0], getopt style.
pub(crate) fn parse(args: &[OsString]) -> Result<MailArgs, Error> {
    let mut m = MailArgs::default();
    let mut i = 0;
    let mut only_recipients = false;
    while i < args.len() {
        let arg = args[i]
            .to_str()
            .ok_or_else(|| Error::Usage("arguments must be valid UTF-8".into()))?
            .to_string();
        i += 1;
        if only_recipients || !arg.starts_with('-') || arg == "-" {
            split_list(&arg, &mut m.to);
            continue;
        }
        if arg == "--" {
            only_recipients = true;
            continue;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let short = match name {
                "subject" => 's',
                "cc" => 'c',
                "bcc" => 'b',
                "return-address" => 'r',
                "append" => 'a',
                "attach" => 'A',
                _ => return Err(Error::Usage(format!("mail mode: unknown option --{name}"))),
            };
            let value = match inline {
                Some(v) => v,
                None => next_value(args, &mut i, short)?,
            };
            apply(&mut m, short, value);
            continue;
        }
        // A cluster of short flags, the last of which may take a (glued or next) value.
        let flags: Vec<char> = arg[1..].chars().collect();
        let mut j = 0;
        while j < flags.len() {
            let f = flags[j];
            j += 1;
            match f {
                'E' => m.skip_empty = true,
                'n' | 'N' | 'i' => {}
                's' | 'c' | 'b' | 'r' | 'a' | 'A' => {
                    let glued: String = flags[j..].iter().collect();
                    let value = if glued.is_empty() {
                        next_value(args, &mut i, f)?
                    } else {
                        glued
                    };
                    apply(&mut m, f, value);
                    break;
                }
                other => {
                    return Err(Error::Usage(format!(
                        "mail mode: unknown option -{other} (supported: -s -c -b -r -a -A -E)"
                    )))
                }
            }
        }
    }
    Ok(m)
}

fn next_value(args: &[OsString], i: &mut usize, flag: char) -> Result<String, Error> {
    let v = args
        .get(*i)
        .ok_or_else(|| Error::Usage(format!("mail mode: option -{flag} needs a value")))?;
    *i += 1;
    v.to_str()
        .map(String::from)
        .ok_or_else(|| Error::Usage("arguments must be valid UTF-8".into()))
}

fn apply(m: &mut MailArgs, flag: char, value: String) {
    match flag {
        's' => m.subject = Some(value),
        'c' => split_list(&value, &mut m.cc),
        'b' => split_list(&value, &mut m.bcc),
        'r' => m.from = Some(value),
        'a' => m.headers.push(value),
        'A' => m.attachments.push(PathBuf::from(value)),
        _ => {}
    }
}

/// Mail mode: parse, read the body from stdin, compose and deliver.
pub(crate) fn main(args: &[OsString], ui: &mut Ui<'_>) -> Result<u8, Error> {
    let m = parse(args)?;
    let ctx = Context::load(None)?;
    // Refuse before waiting for a body that would only be thrown away.
    if m.to.is_empty() && m.cc.is_empty() && m.bcc.is_empty() && ctx.settings.to.is_empty() {
        return Err(no_recipients());
    }
    let body = crate::input::read_stream(&mut std::io::stdin(), MAX_INPUT)
        .map_err(|e| Error::io("cannot read the message from stdin", e))?
        .into_bytes_with_note();
    if m.skip_empty && body.is_empty() {
        return Ok(0);
    }
    let (message, route) = build(&m, body, &ctx)?;
    deliver::submit(&route, &message, &mut *ui.err)?;
    Ok(0)
}

fn no_recipients() -> Error {
    Error::Usage(
        "mail mode: no recipients (usage: backup-alert -s SUBJECT [-c CC] [-b BCC] [-r FROM] RECIPIENT…)"
            .into(),
    )
}

/// Compose the message and its envelope.
pub(crate) fn build(
    m: &MailArgs,
    body: Vec<u8>,
    ctx: &Context,
) -> Result<(Vec<u8>, rsmtp_deliver::Delivery), Error> {
    let to_list = if m.to.is_empty() && m.cc.is_empty() && m.bcc.is_empty() {
        ctx.settings.to.clone()
    } else {
        m.to.clone()
    };
    if to_list.is_empty() && m.cc.is_empty() {
        return Err(no_recipients());
    }
    let mut addresses = Addresses::default();
    for t in &to_list {
        addresses.to.push(parse_mailbox(t)?);
    }
    for c in &m.cc {
        addresses.cc.push(parse_mailbox(c)?);
    }
    let bcc: Vec<_> = m
        .bcc
        .iter()
        .map(|b| parse_mailbox(b))
        .collect::<Result<_, _>>()?;
    if let Some(f) = m.from.as_ref().or(ctx.settings.from.as_ref()) {
        addresses.from = Some(parse_mailbox(f)?);
    }
    let headers: Vec<HeaderValue> = m
        .headers
        .iter()
        .map(|h| parse_extra_header(h))
        .collect::<Result<_, _>>()?;
    let mut attachments = Vec::new();
    for path in &m.attachments {
        let head = std::fs::File::open(path)
            .and_then(|f| crate::input::read_file(f, MAX_INPUT))
            .map_err(|e| Error::no_input(path, e))?;
        if head.left_out > 0 {
            // A cut attachment is a damaged file: refuse rather than send it.
            return Err(Error::Compose(format!(
                "{}: attachments are limited to {}",
                path.display(),
                crate::units::format_size(MAX_INPUT)
            )));
        }
        let content = head.bytes;
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "attachment".into());
        attachments.push(FileAttachment { filename, content });
    }
    let subject = m.subject.clone().unwrap_or_default();
    let message = compose_plain(&subject, body, &addresses, &headers, &attachments)?;
    let recipients = addresses
        .to
        .iter()
        .chain(&addresses.cc)
        .chain(&bcc)
        .map(|mb| mb.email.to_string())
        .collect();
    let route = deliver::route(
        ctx.settings.msmtprc.clone(),
        ctx.settings.account.clone(),
        addresses.from.as_ref().map(|f| f.email.to_string()),
        None,
        recipients,
    );
    Ok((message, route))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    fn p(args: &[&str]) -> Result<MailArgs, Error> {
        parse(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    fn ctx() -> Context {
        Context {
            settings: Settings::default(),
            host: "h".into(),
        }
    }

    #[test]
    fn the_reference_cron_lines_parse() {
        let m = p(&["-s", "ALERT: Backup failed", "admin@example.com"]).unwrap();
        assert_eq!(m.subject.as_deref(), Some("ALERT: Backup failed"));
        assert_eq!(m.to, vec!["admin@example.com"]);
        let m = p(&[
            "-E",
            "-sReport",
            "-c",
            "a@x.example,b@x.example",
            "-b",
            "c@x.example",
            "-r",
            "f@x.example",
            "-a",
            "X-Job: nightly",
            "-A",
            "/tmp/r.txt",
            "--",
            "-odd@x.example",
        ])
        .unwrap();
        assert!(m.skip_empty);
        assert_eq!(m.subject.as_deref(), Some("Report"));
        assert_eq!(m.cc, vec!["a@x.example", "b@x.example"]);
        assert_eq!(m.bcc, vec!["c@x.example"]);
        assert_eq!(m.from.as_deref(), Some("f@x.example"));
        assert_eq!(m.headers, vec!["X-Job: nightly"]);
        assert_eq!(m.attachments, vec![PathBuf::from("/tmp/r.txt")]);
        assert_eq!(m.to, vec!["-odd@x.example"]);
        let m = p(&["-Es", "S", "--cc=x@y.example", "r@x.example"]).unwrap();
        assert!(m.skip_empty);
        assert_eq!(m.subject.as_deref(), Some("S"));
        assert_eq!(m.cc, vec!["x@y.example"]);
    }

    #[test]
    fn usage_errors() {
        assert!(matches!(p(&["-s"]), Err(Error::Usage(_))));
        assert!(matches!(p(&["-Z", "x"]), Err(Error::Usage(_))));
        let m = p(&["-s", "S"]).unwrap();
        assert!(matches!(
            build(&m, b"b".to_vec(), &ctx()),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn bcc_is_in_the_envelope_not_the_message() {
        let m = p(&[
            "-s",
            "S",
            "-b",
            "hidden@x.example",
            "-c",
            "cc@x.example",
            "to@x.example",
        ])
        .unwrap();
        let (msg, route) = build(&m, b"body\n".to_vec(), &ctx()).unwrap();
        let rcpts = route.recipients;
        assert_eq!(
            rcpts,
            vec!["to@x.example", "cc@x.example", "hidden@x.example"]
        );
        let text = String::from_utf8_lossy(&msg);
        assert!(!text.contains("hidden@x.example"));
        assert!(text.contains("Cc: cc@x.example"));
    }

    #[test]
    fn an_attachment_past_the_limit_is_refused_not_cut() {
        let f = tempfile::NamedTempFile::new().unwrap();
        f.as_file().set_len(MAX_INPUT + 1).unwrap();
        let path = f.path().to_str().unwrap();
        let m = p(&["-s", "S", "-A", path, "to@x.example"]).unwrap();
        assert!(matches!(
            build(&m, b"b".to_vec(), &ctx()),
            Err(Error::Compose(_))
        ));
    }

    #[test]
    fn injected_subject_and_headers_stay_harmless() {
        let m = p(&["-s", "hi\nBcc: evil@x.example", "to@x.example"]).unwrap();
        let (msg, route) = build(&m, b"b".to_vec(), &ctx()).unwrap();
        let rcpts = route.recipients;
        assert_eq!(rcpts, vec!["to@x.example"]);
        let text = String::from_utf8_lossy(&msg);
        let head = text.split("\r\n\r\n").next().unwrap();
        assert!(!head.lines().any(|l| l.starts_with("Bcc:")), "{head}");
        let m = p(&[
            "-s",
            "S",
            "-a",
            "X-A: 1\r\nBcc: evil@x.example",
            "to@x.example",
        ])
        .unwrap();
        assert!(matches!(
            build(&m, b"b".to_vec(), &ctx()),
            Err(Error::Usage(_))
        ));
    }
}
