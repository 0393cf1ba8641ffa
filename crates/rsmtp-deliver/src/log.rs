//! The msmtp log line, field for field, to a logfile, stdout (`logfile -`) or syslog.
//! Where stdout is an SMTP session (`-bs`, `rsmtpd --inetd`), `logfile -` means stderr.
//!
//! Scripts grep these lines (`exitcode=EX_OK`, `exitcode=EX_TEMPFAIL`) and
//! `backup-alert stats` parses them, so the format follows msmtp 1.8's
//! `msmtp_get_log_info()`: single quotes inside values become `?`, control characters
//! become `?`, multi-line server replies are joined with a literal `\n`.
//! A log that cannot be written is a warning for the caller, never a failed send.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use rsmtp_config::{LogFile, SyslogFacility};

use crate::exit::ExitCode;

/// What one delivery attempt looked like.
#[derive(Debug, Clone, Default)]
pub struct LogRecord {
    /// `host=`: the server's name as configured.
    pub host: String,
    /// `tls=on|off`.
    pub tls: bool,
    /// `auth=on|off`.
    pub auth: bool,
    /// Only written when `auth` is on, as msmtp does.
    pub user: Option<String>,
    /// `from=`: the envelope sender.
    pub from: String,
    /// `recipients=`: every envelope recipient, comma-separated in the line.
    pub recipients: Vec<String>,
    /// Written only on success.
    pub mailsize: Option<u64>,
    /// The server reply that ended the attempt: status and lines (code included).
    pub smtp_reply: Option<(u16, Vec<String>)>,
    /// `errormsg='…'`: the failure in msmtp's words (quotes shown as `?`).
    pub errormsg: Option<String>,
    /// `-t` header elements left out because they name no usable address (rsmtp
    /// only: msmtp sends them to the server as they are).
    pub skipped: Vec<String>,
    /// `exitcode=EX_…`, on failure only (as msmtp).
    pub exit: Option<ExitCode>,
}

/// msmtp's `sanitize_string` plus its quote hiding: control characters and `'` → `?`.
fn sanitize(s: &str) -> String {
    rsmtp_core::shown(s).replace('\'', "?")
}

impl LogRecord {
    /// The line without a time stamp (what syslog gets).
    pub fn line(&self) -> String {
        let exit = self.exit.unwrap_or(ExitCode::Software);
        let mut line = format!(
            "host={} tls={} auth={} ",
            self.host,
            on_off(self.tls),
            on_off(self.auth)
        );
        if self.auth {
            if let Some(user) = &self.user {
                line.push_str(&format!("user={user} "));
            }
        }
        line.push_str(&format!(
            "from={} recipients={} ",
            self.from,
            self.recipients.join(",")
        ));
        if exit == ExitCode::Ok {
            line.push_str(&format!("mailsize={} ", self.mailsize.unwrap_or(0)));
        }
        if let Some((status, lines)) = &self.smtp_reply {
            let msg: Vec<String> = lines.iter().map(|l| sanitize(l)).collect();
            line.push_str(&format!(
                "smtpstatus={status} smtpmsg='{}' ",
                msg.join("\\n")
            ));
        }
        if exit != ExitCode::Ok {
            if let Some(err) = self.errormsg.as_deref().filter(|e| !e.is_empty()) {
                line.push_str(&format!("errormsg='{}' ", sanitize(err)));
            }
        }
        if !self.skipped.is_empty() {
            line.push_str(&format!(
                "skipped='{}' ",
                sanitize(&self.skipped.join(", "))
            ));
        }
        line.push_str("exitcode=");
        line.push_str(exit.name());
        line
    }
}

/// One log line read back: the time prefix as written and the `key=value` fields in
/// order, quotes removed. The reader for msmtp's and rsmtp's lines alike
/// (`backup-alert stats`, the differential tests), next to the writer above.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogLine {
    /// The time prefix as written (empty for syslog lines and `logfile_time_format none`).
    pub time: String,
    /// `key=value` fields in order, quotes removed.
    pub fields: Vec<(String, String)>,
}

impl LogLine {
    /// Parse one line; `None` when it is not an msmtp line (no `host=` field start or
    /// no `exitcode=`). A quoted value (`smtpmsg`, `errormsg`) may itself contain
    /// quotes: it ends at a quote followed by ` key=` or the end of the line.
    pub fn parse(line: &str) -> Option<LogLine> {
        fn is_key(s: &str) -> bool {
            !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let start = if line.starts_with("host=") {
            0
        } else {
            line.find(" host=")? + 1
        };
        let time = line[..start].trim().to_string();
        let mut rest = &line[start..];
        let mut fields = Vec::new();
        while !rest.is_empty() {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            let eq = rest.find('=')?;
            let key = &rest[..eq];
            if !is_key(key) {
                return None;
            }
            let after = &rest[eq + 1..];
            let (value, remaining) = if let Some(quoted) = after.strip_prefix('\'') {
                let end = quoted
                    .match_indices('\'')
                    .map(|(i, _)| i)
                    .find(|&i| {
                        let tail = &quoted[i + 1..];
                        tail.is_empty()
                            || tail
                                .strip_prefix(' ')
                                .and_then(|t| t.find('=').map(|e| is_key(&t[..e])))
                                .unwrap_or(false)
                    })
                    .unwrap_or(quoted.len());
                (&quoted[..end], quoted.get(end + 1..).unwrap_or(""))
            } else {
                let end = after.find(' ').unwrap_or(after.len());
                (&after[..end], &after[end..])
            };
            fields.push((key.to_string(), value.to_string()));
            rest = remaining;
        }
        let parsed = LogLine { time, fields };
        parsed.get("exitcode")?;
        Some(parsed)
    }

    /// The value of field `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The `exitcode=` name as a code (`None` for a name rsmtp does not know).
    pub fn exit_code(&self) -> Option<ExitCode> {
        self.get("exitcode").and_then(ExitCode::from_name)
    }
}

impl LogRecord {
    /// A line written by [`LogRecord::line`] (or msmtp), read back into a record;
    /// `smtpmsg`'s lines are split at the literal `\n` the writer joins them with.
    /// Values the writer sanitised (`'` and control characters → `?`) stay sanitised.
    pub fn parse(line: &str) -> Option<LogRecord> {
        let parsed = LogLine::parse(line)?;
        let on = |k: &str| parsed.get(k) == Some("on");
        let smtp_reply = parsed
            .get("smtpstatus")
            .and_then(|s| s.parse::<u16>().ok())
            .map(|status| {
                let lines = parsed
                    .get("smtpmsg")
                    .map(|m| m.split("\\n").map(str::to_string).collect())
                    .unwrap_or_default();
                (status, lines)
            });
        Some(LogRecord {
            host: parsed.get("host").unwrap_or_default().to_string(),
            tls: on("tls"),
            auth: on("auth"),
            user: parsed.get("user").map(str::to_string),
            from: parsed.get("from").unwrap_or_default().to_string(),
            recipients: parsed
                .get("recipients")
                .filter(|r| !r.is_empty())
                .map(|r| r.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            mailsize: parsed.get("mailsize").and_then(|m| m.parse().ok()),
            smtp_reply,
            errormsg: parsed.get("errormsg").map(str::to_string),
            skipped: parsed
                .get("skipped")
                .filter(|r| !r.is_empty())
                .map(|r| r.split(", ").map(str::to_string).collect())
                .unwrap_or_default(),
            exit: parsed.exit_code(),
        })
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// Where log lines go, from the account's `logfile`, `logfile_time_format` and `syslog`.
#[derive(Debug, Clone, Default)]
pub struct LogTarget {
    /// `logfile`: a file, or `-` (standard output).
    pub logfile: Option<LogFile>,
    /// `logfile_time_format`: strftime(3) format of the line's time stamp (default
    /// `%b %d %H:%M:%S`, as msmtp).
    pub time_format: Option<String>,
    /// `syslog`: the facility (`LOG_MAIL`, `LOG_USER`, `LOG_LOCAL0` …), kept typed.
    pub syslog: Option<SyslogFacility>,
}

impl LogTarget {
    /// Write the record everywhere it is configured, `logfile -` to `standard` (the
    /// caller's stdout, or its stderr while stdout carries an SMTP session); returns
    /// the warnings to show. Callers with a [`Ui`](crate::ui::Ui) use
    /// [`Ui::log`](crate::ui::Ui::log), which knows which.
    pub fn write(&self, record: &LogRecord, standard: &mut dyn Write) -> Vec<String> {
        self.write_as("rsmtp", record, standard)
    }

    /// [`write`](Self::write), with `ident` as the syslog tag (see [`syslog_ident`]).
    pub fn write_as(
        &self,
        ident: &str,
        record: &LogRecord,
        standard: &mut dyn Write,
    ) -> Vec<String> {
        let mut warnings = Vec::new();
        let line = record.line();
        if let Some(logfile) = &self.logfile {
            let written = write_logfile(logfile, self.time_format.as_deref(), &line, standard);
            if let Err(e) = written {
                warnings.push(format!("cannot log to {logfile}: {e}"));
                warnings.push(format!("log info was: {line}"));
            }
        }
        if let Some(facility) = self.syslog {
            let error = record.exit != Some(ExitCode::Ok);
            if let Err(e) = write_syslog(ident, facility, error, &line) {
                warnings.push(format!("cannot log to syslog: {e}"));
            }
        }
        warnings
    }
}

fn timestamp(format: Option<&str>) -> Result<String, String> {
    use std::fmt::Write as _;
    match format {
        Some("none") => Ok(String::new()),
        fmt => {
            let mut out = String::new();
            let now = chrono::Local::now();
            let fmt = fmt.unwrap_or("%b %d %H:%M:%S");
            // msmtp formats the time in the user's locale (`déc. 21 16:03:07`).
            let written = match crate::locale::time_names() {
                Some(names) => write!(
                    out,
                    "{}",
                    now.format(&crate::locale::localize(fmt, &names, &now))
                ),
                None => write!(out, "{}", now.format(fmt)),
            };
            written.map_err(|_| "invalid logfile_time_format".to_string())?;
            Ok(out)
        }
    }
}

fn write_logfile(
    logfile: &LogFile,
    time_format: Option<&str>,
    line: &str,
    standard: &mut dyn Write,
) -> Result<(), String> {
    let stamp = timestamp(time_format)?;
    let mut text = String::with_capacity(stamp.len() + line.len() + 2);
    if !stamp.is_empty() {
        text.push_str(&stamp);
        text.push(' ');
    }
    text.push_str(line);
    text.push('\n');
    let path = match logfile {
        LogFile::File(path) => path,
        LogFile::Stdout => {
            return standard
                .write_all(text.as_bytes())
                .and_then(|_| standard.flush())
                .map_err(|_| "output error".to_string());
        }
    };
    let mut file = open_logfile(path)?;
    // One append per line, under an exclusive lock like msmtp, so concurrent
    // senders (PHP workers, a queue flush) never interleave lines. The wait is
    // bounded as msmtp bounds it: a reader holding the lock (a log shipper, `flock
    // mail.log …`) must not stall mail. Past the bound the line is appended anyway,
    // in one write to an O_APPEND file, which other appenders cannot split.
    let _ = rsmtp_queue::lock_within(&file, LOG_LOCK_WAIT);
    file.write_all(text.as_bytes())
        .map_err(|_| "output error".to_string())
}

/// How long a log line waits for the log file's lock (msmtp waits 10 seconds).
const LOG_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens the log file for appending, creating it if needed, without following a
/// symlink the kernel's `protected_symlinks` rule would not follow: one in a
/// sticky, world-writable directory (`/tmp`) owned neither by us nor by the
/// directory's owner. rsmtp applies the rule itself, so root's log line cannot
/// be sent to a file another user picked even where the sysctl is off. A path
/// that is not a symlink when looked at is opened with `O_NOFOLLOW`, so one
/// planted in between is refused too.
fn open_logfile(path: &Path) -> Result<std::fs::File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            if let Some(reason) = protected_symlink(path, &meta) {
                return Err(reason);
            }
        }
        _ => {
            // The flag's bits fit an i32 (O_NOFOLLOW is 0o400000 on Linux).
            options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
        }
    }
    options.open(path).map_err(|e| format!("cannot open: {e}"))
}

/// Why the symlink `path` (whose own metadata is `link`) may not be followed,
/// or `None` when it may (see [`open_logfile`]).
fn protected_symlink(path: &Path, link: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir_meta = std::fs::metadata(dir).ok()?;
    let sticky_world_writable = dir_meta.mode() & 0o1002 == 0o1002;
    if !sticky_world_writable
        || link.uid() == rsmtp_config::current_uid()
        || link.uid() == dir_meta.uid()
    {
        return None;
    }
    Some(format!(
        "not following the symlink: it belongs to {} in the world-writable sticky \
         directory {} (the kernel's protected_symlinks rule); point logfile at a file \
         in a directory only you can write",
        rsmtp_config::user_name_of(link.uid()).unwrap_or_else(|| format!("uid {}", link.uid())),
        dir.display()
    ))
}

/// The syslog tag for a program called `program` (argv[0]'s file name): `msmtp`,
/// the tag msmtp logs with, so that `journalctl -t msmtp` and rsyslog's
/// program-name rules keep matching when rsmtp replaces msmtp as `sendmail` or
/// `msmtp`; `rsmtp` when it is called by its own name (`rsmtp`, `rsmtpd`, …).
pub fn syslog_ident(program: &str) -> &'static str {
    if program.starts_with("rsmtp") {
        "rsmtp"
    } else {
        "msmtp"
    }
}

/// Send one RFC 3164 datagram to the local syslog socket, as openlog/syslog would.
fn write_syslog(
    ident: &str,
    facility: SyslogFacility,
    error: bool,
    line: &str,
) -> std::io::Result<()> {
    send_syslog(Path::new("/dev/log"), ident, facility, error, line)
}

fn send_syslog(
    socket: &Path,
    ident: &str,
    facility: SyslogFacility,
    error: bool,
    line: &str,
) -> std::io::Result<()> {
    let sock = std::os::unix::net::UnixDatagram::unbound()?;
    sock.send_to(
        syslog_datagram(ident, facility, error, line).as_bytes(),
        socket,
    )
    .map(|_| ())
}

/// `<PRI>Mmm dd hh:mm:ss IDENT: LINE`, severity LOG_ERR for failures and
/// LOG_INFO otherwise, as msmtp logs (its `openlog` asks for no PID, so neither
/// does this: rules written for msmtp's lines match these).
fn syslog_datagram(ident: &str, facility: SyslogFacility, error: bool, line: &str) -> String {
    let severity = if error { 3 } else { 6 };
    // `code()` is the facility already shifted (LOG_MAIL = 2 << 3), as syslog(3) has it.
    let pri = facility.code() + severity;
    let stamp = chrono::Local::now().format("%b %e %H:%M:%S");
    format!("<{pri}>{stamp} {ident}: {line}")
}

/// A reply as msmtp logs it: each line with its code (`250-…`, `250 …`).
pub(crate) fn reply_lines(code: u16, lines: &[String]) -> Vec<String> {
    let last = lines.len().saturating_sub(1);
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{code}{}{l}", if i == last { ' ' } else { '-' }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_back_into_the_records_they_came_from() {
        let mut ok = record();
        ok.exit = Some(ExitCode::Ok);
        ok.mailsize = Some(512);
        ok.smtp_reply = Some((250, vec!["250-first".into(), "250 2.0.0 queued".into()]));
        let mut failed = record();
        failed.exit = Some(ExitCode::TempFail);
        failed.errormsg = Some("cannot connect to h, port 25: Connection refused".into());
        for r in [ok, failed] {
            let line = format!("Dec 03 10:00:00 {}", r.line());
            let back = LogRecord::parse(&line).expect("parses");
            assert_eq!(back.line(), r.line());
            assert_eq!(
                LogLine::parse(&line).expect("parses").time,
                "Dec 03 10:00:00"
            );
        }
        // msmtp's line with a quote inside smtpmsg (msmtp writes ? for it; a
        // hand-written one may not).
        let l = LogLine::parse("host=h tls=off auth=off from=a recipients=b smtpstatus=550 smtpmsg='550 it's bad' exitcode=EX_DATAERR").expect("parses");
        assert_eq!(l.get("smtpmsg"), Some("550 it's bad"));
        assert_eq!(l.exit_code(), Some(ExitCode::DataErr));
        assert!(LogLine::parse("not a log line").is_none());
    }

    fn record() -> LogRecord {
        LogRecord {
            host: "smtp.example.org".into(),
            tls: true,
            auth: true,
            user: Some("alice".into()),
            from: "alice@example.org".into(),
            recipients: vec!["bob@example.net".into(), "carol@example.net".into()],
            ..LogRecord::default()
        }
    }

    #[test]
    fn success_line_matches_msmtp_fields() {
        let mut r = record();
        r.mailsize = Some(312);
        r.exit = Some(ExitCode::Ok);
        assert_eq!(
            r.line(),
            "host=smtp.example.org tls=on auth=on user=alice from=alice@example.org \
             recipients=bob@example.net,carol@example.net mailsize=312 exitcode=EX_OK"
        );
    }

    #[test]
    fn failure_line_hides_quotes_and_joins_reply_lines() {
        let mut r = record();
        r.auth = false;
        r.smtp_reply = Some((
            451,
            vec!["451-4.3.0 it's busy".into(), "451 4.3.0 try later".into()],
        ));
        r.errormsg = Some("the server didn't accept the mail".into());
        r.exit = Some(ExitCode::TempFail);
        assert_eq!(
            r.line(),
            "host=smtp.example.org tls=on auth=off from=alice@example.org \
             recipients=bob@example.net,carol@example.net smtpstatus=451 \
             smtpmsg='451-4.3.0 it?s busy\\n451 4.3.0 try later' \
             errormsg='the server didn?t accept the mail' exitcode=EX_TEMPFAIL"
        );
    }

    /// Write with stdout and stderr discarded.
    fn write(target: &LogTarget, r: &LogRecord) -> Vec<String> {
        target.write(r, &mut std::io::sink())
    }

    #[test]
    fn logfile_dash_writes_to_the_stdout_it_is_given() {
        let target = LogTarget {
            logfile: Some(LogFile::Stdout),
            time_format: Some("none".into()),
            ..LogTarget::default()
        };
        let mut r = record();
        r.exit = Some(ExitCode::Ok);
        let mut out = Vec::new();
        assert!(target.write(&r, &mut out).is_empty());
        assert_eq!(String::from_utf8(out).unwrap(), format!("{}\n", r.line()));
    }

    #[test]
    fn unwritable_logfile_is_a_warning_not_an_error() {
        let target = LogTarget {
            logfile: Some(LogFile::File("/nonexistent-dir/rsmtp.log".into())),
            ..LogTarget::default()
        };
        let mut r = record();
        r.exit = Some(ExitCode::Ok);
        let warnings = write(&target, &r);
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].starts_with("cannot log to /nonexistent-dir/rsmtp.log: cannot open"));
    }

    #[test]
    fn logfile_gets_time_stamp_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let target = LogTarget {
            logfile: Some(LogFile::File(path.clone())),
            time_format: Some("%Y".into()),
            ..LogTarget::default()
        };
        let mut r = record();
        r.exit = Some(ExitCode::Ok);
        assert!(write(&target, &r).is_empty());
        assert!(write(&target, &r).is_empty());
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let year = chrono::Local::now().format("%Y").to_string();
        assert!(lines[0].starts_with(&format!("{year} host=")));
    }

    #[test]
    fn syslog_datagram_reaches_the_socket_with_facility_and_severity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let server = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        let mut r = record();
        r.exit = Some(ExitCode::TempFail);
        send_syslog(&path, "msmtp", SyslogFacility::Mail, true, &r.line()).unwrap();
        let mut buf = [0u8; 2048];
        let n = server.recv(&mut buf).unwrap();
        let got = String::from_utf8_lossy(&buf[..n]).into_owned();
        // LOG_MAIL (2) * 8 + LOG_ERR (3) = 19.
        assert!(got.starts_with("<19>"), "{got}");
        assert!(got.contains(" msmtp: host=smtp.example.org "), "{got}");
        assert!(got.ends_with("exitcode=EX_TEMPFAIL"), "{got}");
        assert!(syslog_datagram("rsmtp", SyslogFacility::User, false, "x").starts_with("<14>"));
    }

    #[test]
    fn the_tag_is_msmtp_unless_called_by_rsmtps_own_names() {
        for (program, ident) in [
            ("sendmail", "msmtp"),
            ("msmtp", "msmtp"),
            ("mailq", "msmtp"),
            ("rsmtp", "rsmtp"),
            ("rsmtpd", "rsmtp"),
        ] {
            assert_eq!(syslog_ident(program), ident, "{program}");
        }
    }

    #[test]
    fn facility_names() {
        assert!(syslog_datagram("rsmtp", SyslogFacility::Mail, true, "x").starts_with("<19>"));
        assert!(
            syslog_datagram("rsmtp", SyslogFacility::Local(3), false, "x").starts_with("<158>")
        );
    }
}
