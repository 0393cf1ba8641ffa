//! `send`: one alert, its body from `--body`, `--body-file` or stdin (bounded, read to its
//! end), optionally with the tail of a log.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::Args;

use super::{report_sent, tail_title, target_and_policy, DeliveryArgs, PingArgs};
use crate::alert::compose::{Alert, Section};
use crate::alert::send_alert;
use crate::context::Context;
use crate::diagnosis::{advice, error_line};
use crate::error::Error;
use crate::input;
use crate::model::Status;
use crate::tail::{tail_file, TailLimits};
use rsmtp_deliver::ui::Ui;

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// What happened; sets the subject mark (✅ ❌ ⚠️ 🔄 ♻️ ℹ️).
    #[arg(long, value_enum)]
    pub(crate) status: Status,
    /// Subject text (the mark and host name are added in front).
    #[arg(long)]
    pub(crate) subject: String,
    /// Name of the job, for flood control and recovery detection (default: the subject).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Message text (default: --body-file, else stdin when it is not a terminal).
    #[arg(long, conflicts_with = "body_file")]
    pub(crate) body: Option<String>,
    /// Read the message text from FILE (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub(crate) body_file: Option<PathBuf>,
    /// Log file to name in the alert, with its last lines.
    #[arg(long, value_name = "FILE")]
    pub(crate) log: Option<PathBuf>,
    /// Lines of --log to include; 0 for none (default: `log_lines` from the settings,
    /// else 50).
    #[arg(long, value_name = "N", alias = "tail-lines")]
    pub(crate) log_lines: Option<usize>,
    #[command(flatten)]
    pub(crate) ping: PingArgs,
    #[command(flatten)]
    pub(crate) delivery: DeliveryArgs,
}

/// Lines of `--log` included by default.
pub(crate) const DEFAULT_LOG_LINES: usize = 50;

/// Most of a message body read from stdin or a file (10 MiB).
const MAX_BODY: u64 = 10 << 20;

/// The message of `send`: `--body`, else `--body-file`, else `stdin` unless it is a
/// terminal. Past [`MAX_BODY`] the input is still read to its end (a job piping into us
/// must not die of SIGPIPE) and a note at the end says how much was left out.
fn read_body(
    args: &SendArgs,
    stdin: &mut dyn Read,
    stdin_is_terminal: bool,
) -> Result<String, Error> {
    if let Some(b) = &args.body {
        return Ok(b.clone());
    }
    let head = match &args.body_file {
        Some(p) if p.as_os_str() != "-" => {
            let f = std::fs::File::open(p).map_err(|e| Error::no_input(p, e))?;
            input::read_file(f, MAX_BODY).map_err(|e| Error::no_input(p, e))?
        }
        None if stdin_is_terminal => input::Head::default(),
        _ => input::read_stream(stdin, MAX_BODY).map_err(|e| Error::io("cannot read stdin", e))?,
    };
    Ok(String::from_utf8_lossy(&head.into_bytes_with_note()).into_owned())
}

/// `send`: one alert, body from a flag, a file or stdin, optionally with a log's tail.
pub(crate) fn send(args: SendArgs, ctx: &Context, ui: &mut Ui<'_>) -> Result<u8, Error> {
    let (target, policy) = target_and_policy(&args.delivery, ctx)?;
    let mut alert = Alert::new(args.status, args.subject.clone(), ctx.host.clone());
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    alert.message = read_body(&args, &mut stdin.lock(), terminal)?;
    if let Some(name) = &args.name {
        alert.fact("Name", name.clone());
    }
    if let Some(log) = &args.log {
        add_log(
            &mut alert,
            log,
            args.log_lines.or(ctx.settings.log_lines),
            target.language,
        );
    }
    if alert.status.is_problem() {
        // What failed, first: the log's last line stating a cause (else naming a
        // failure), else the message's; a known kind of failure says what to do.
        let cause = alert
            .sections
            .iter()
            .rev()
            .find_map(|s| error_line::last_cause(&s.text))
            .or_else(|| error_line::last_cause(&alert.message));
        if let Some(class) = cause.as_ref().and_then(|c| c.class) {
            let line = cause.as_ref().map_or("", |c| c.line.as_str());
            alert.fact(
                "What to do",
                advice::advice(class, line, &advice::Where::default(), target.language),
            );
        }
        alert.summary = cause.map(|c| c.line);
    }
    let name = args.name.clone().unwrap_or_else(|| args.subject.clone());
    args.ping
        .outcome(alert.status == Status::Failure, &alert.message, ui);
    let sent = send_alert(alert, &name, &target, &policy, false, &mut *ui.err)?;
    report_sent(&sent, ui);
    Ok(0)
}

/// Name the log and include its last lines; an unreadable log is mentioned, never fatal:
/// the alert matters more than its attachment.
fn add_log(alert: &mut Alert, log: &Path, lines: Option<usize>, lang: crate::lang::Language) {
    // A relative path means nothing to whoever reads the mail.
    let shown = std::path::absolute(log).unwrap_or_else(|_| log.to_path_buf());
    alert.fact("Log", shown.display().to_string());
    let lines = lines.unwrap_or(DEFAULT_LOG_LINES);
    if lines == 0 {
        return;
    }
    match tail_file(log, TailLimits::lines(lines)) {
        Ok(t) => alert.sections.push(Section {
            title: tail_title(&shown.display().to_string(), &t, lang),
            text: t.text,
        }),
        // strerror: msmtp's words, no "(os error 2)".
        Err(e) => alert.fact("Log unreadable", rsmtp_core::strerror(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::io::Write;

    fn send_args(extra: &[&str]) -> SendArgs {
        let mut argv = vec![
            "backup-alert",
            "send",
            "--status",
            "failure",
            "--subject",
            "s",
        ];
        argv.extend_from_slice(extra);
        #[derive(clap::Parser)]
        struct Line {
            #[command(subcommand)]
            send: Subcommand,
        }
        #[derive(clap::Subcommand)]
        enum Subcommand {
            Send(SendArgs),
        }
        let Subcommand::Send(a) = Line::parse_from(argv).send;
        a
    }

    #[test]
    fn oversized_stdin_is_read_to_its_end_and_the_cut_is_said() {
        let size = MAX_BODY as usize + 5000;
        let data = vec![b'x'; size];
        let mut reader: &[u8] = &data;
        let body = read_body(&send_args(&[]), &mut reader, false).unwrap();
        // Everything consumed: the job writing into the pipe never gets SIGPIPE.
        assert!(reader.is_empty(), "{} bytes left unread", reader.len());
        assert!(
            body.ends_with(
                "x\n[backup-alert: the input was cut after 10.0 MiB; 5000 more byte(s) left out]\n"
            ),
            "no note about the cut"
        );
    }

    #[test]
    fn oversized_body_file_is_cut_with_a_note() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.as_file().set_len(MAX_BODY + 10).unwrap();
        f.flush().unwrap();
        let path = f.path().to_str().unwrap().to_string();
        let body = read_body(&send_args(&["--body-file", &path]), &mut &b""[..], false).unwrap();
        assert!(
            body.ends_with("; 10 more byte(s) left out]\n"),
            "no note about the cut"
        );
    }

    #[test]
    fn terminal_stdin_is_not_read() {
        let mut reader: &[u8] = b"typed";
        assert_eq!(read_body(&send_args(&[]), &mut reader, true).unwrap(), "");
        assert_eq!(reader, b"typed");
    }
}
