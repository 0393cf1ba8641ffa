//! The README's first command: rsmtp's main job on an embedded default.
//!
//! Starts a loopback SMTP server (STARTTLS with a CA generated on the spot, AUTH
//! required), writes a throw-away msmtprc for it, and pipes a message through rsmtp
//! exactly as PHP's `sendmail_path = rsmtp -t -i` would — with `-d`, so the SMTP
//! dialogue (password redacted) is shown. Then prints the log line and the message as
//! the server received it, each with a note on what to look at (the Bcc recipient, the
//! pipelined replies, `mailsize` against the bytes on the wire). Nothing outside a
//! temporary directory is read or written.
//!
//!     cargo run -p rsmtp --example demo

// A demo program: printing what happened is all it is for.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::time::Duration;

fn main() -> std::process::ExitCode {
    let server = rsmtp_testserver::demo_server();
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("msmtprc");
    let log = dir.path().join("msmtp.log");
    let text = format!(
        "# A throw-away msmtprc for the demo server (rsmtp reads msmtp's format unchanged)\n\
         defaults\n\
         auth           on\n\
         tls            on\n\
         tls_trust_file {ca}\n\
         logfile        {log}\n\
         \n\
         account        demo\n\
         host           127.0.0.1\n\
         port           {port}\n\
         from           webapp@example.org\n\
         user           {user}\n\
         password       {password}\n\
         \n\
         account default : demo\n",
        ca = server.ca().ca_pem_path().display(),
        log = log.display(),
        port = server.port(),
        user = rsmtp_testserver::DEMO_USER,
        password = rsmtp_testserver::DEMO_PASSWORD,
    );
    write_private(&config, &text);
    // Keep a real /etc/msmtprc out of the demo.
    std::env::set_var("RSMTP_SYSCONFIG", "");

    let message = "To: Alice <alice@example.net>\n\
                   Bcc: audit@example.net\n\
                   Subject: Your order #1042 has shipped\n\
                   Content-Type: text/plain; charset=utf-8\n\
                   \n\
                   Bonjour Alice,\n\
                   your parcel left our warehouse today. Ça arrive bientôt !\n\
                   .a line starting with a dot survives too\n";

    println!("== msmtprc ({}):\n{text}", config.display());
    println!("== the message the web application hands over on stdin:\n{message}");
    println!(
        "   With -t the recipients come from To, Cc and Bcc: audit@example.net, named only\n\
         \x20  in Bcc, gets the message too (RCPT TO:<audit@example.net>), and the Bcc line is\n\
         \x20  removed, so Alice never learns of it. From, Date and Message-ID are added.\n"
    );
    println!(
        "   In the dialogue below, after EHLO, STARTTLS and AUTH, rsmtp writes MAIL FROM,\n\
         \x20  both RCPT TO and DATA at once (PIPELINING, RFC 2920): their replies arrive\n\
         \x20  together, after all four commands, instead of one round trip each.\n"
    );
    println!(
        "== rsmtp -C {} -d -t -i   (message on stdin, as PHP's mail() sends it)",
        config.display()
    );
    let args = ["rsmtp", "-C", &config.to_string_lossy(), "-d", "-t", "-i"]
        .iter()
        .map(Into::into)
        .collect();
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    let code = rsmtp::run_with(args, &mut message.as_bytes(), &mut stdout, &mut stderr);
    println!("== exit code: {} ({})", code.code(), code.name());
    let log_line = std::fs::read_to_string(&log).unwrap_or_default();
    println!("== log line ({}):\n{log_line}", log.display());
    let mailsize = log_line
        .split_whitespace()
        .find_map(|f| f.strip_prefix("mailsize="))
        .unwrap_or("?")
        .to_string();
    for m in server.wait_for_messages(1, Duration::from_secs(5)) {
        println!(
            "== the server received, over {}, from <{}> to {:?}:",
            if m.tls { "TLS" } else { "plain text" },
            m.mail_from,
            m.recipients()
        );
        println!("{}", m.data_str());
        let lines = m.data.iter().filter(|&&b| b == b'\n').count();
        println!(
            "   The server received {} bytes in {lines} lines; the log says mailsize={mailsize}.\n\
             \x20  mailsize counts the message as sent (Bcc gone, From/Date/Message-ID added)\n\
             \x20  with one byte per line end, as msmtp counts; on the wire every line ends in\n\
             \x20  CRLF, two bytes: {} - {lines} = {mailsize}. (The line starting with \".\" went\n\
             \x20  out as \"..\", and the server took the extra dot off again.)",
            m.data.len(),
            m.data.len()
        );
    }
    code.into()
}

fn write_private(path: &std::path::Path, text: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .expect("write the demo msmtprc");
    file.write_all(text.as_bytes())
        .expect("write the demo msmtprc");
}
