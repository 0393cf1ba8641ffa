//! `rsmtp-testserver`: run the test SMTP server from the command line and print every
//! message it receives — for manual tests, CI scripts and the README demo.
//!
//! ```text
//! rsmtp-testserver --tls starttls --user demo --password demo-password \
//!     --cert-dir /tmp/certs --count 1 --transcript
//! ```

// A command-line tool whose whole job is printing what the server saw.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use rsmtp_testserver::{
    AuthConfig, ClientCertPolicy, Extensions, Fault, LeafKind, Mechanism, ReceivedMessage,
    ServerOptions, TestCa, TestServer, Tls,
};

/// A scriptable SMTP server on 127.0.0.1 that prints every message it receives.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one (printed on the first line).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// TLS mode: none, starttls or implicit.
    #[arg(long, default_value = "none")]
    tls: Tls,
    /// Ask for a client certificate: none, optional or required (issued by the test CA).
    #[arg(long, default_value = "none")]
    client_certs: ClientCertPolicy,
    /// Present this server certificate: valid, expired, wrong-host, self-signed or
    /// self-signed-ca (self-signed with CA:TRUE, as `openssl req -x509` makes).
    #[arg(long, default_value = "valid", value_parser = parse_leaf)]
    leaf: LeafKind,
    /// Offer AUTH for this user (with --password).
    #[arg(long, requires = "password")]
    user: Option<String>,
    /// The password (also the XOAUTH2/OAUTHBEARER token).
    #[arg(long, requires = "user")]
    password: Option<String>,
    /// AUTH mechanisms to offer, comma-separated (PLAIN,LOGIN,CRAM-MD5,XOAUTH2,OAUTHBEARER,
    /// SCRAM-SHA-1,SCRAM-SHA-256,SCRAM-SHA-1-PLUS,SCRAM-SHA-256-PLUS).
    #[arg(long, value_delimiter = ',', default_value = "PLAIN,LOGIN")]
    mechanisms: Vec<Mechanism>,
    /// Accept MAIL without AUTH even when AUTH is offered.
    #[arg(long)]
    auth_optional: bool,
    /// Refuse MAIL before STARTTLS.
    #[arg(long)]
    require_tls: bool,
    /// Advertise every extension (SIZE, SMTPUTF8, DSN…).
    #[arg(long)]
    all_extensions: bool,
    /// The README demo: STARTTLS, AUTH PLAIN/LOGIN for demo / demo-password (overrides
    /// --tls; --user/--password still apply).
    #[arg(long)]
    demo: bool,
    /// Answer RCPT TO for this address with 550 (repeatable).
    #[arg(long, value_name = "ADDRESS")]
    reject_rcpt: Vec<String>,
    /// Hold MAIL/RCPT replies up to this many milliseconds to detect a pipelining client
    /// that writes each command separately.
    #[arg(long, value_name = "MS")]
    pipelining_window_ms: Option<u64>,
    /// Write the CA and certificates here and keep them (default: a temporary directory).
    #[arg(long)]
    cert_dir: Option<PathBuf>,
    /// Write the chosen port to this file once listening.
    #[arg(long)]
    port_file: Option<PathBuf>,
    /// Exit after this many accepted messages.
    #[arg(long, value_name = "N")]
    count: Option<usize>,
    /// Exit after one message (same as --count 1).
    #[arg(long, conflicts_with = "count")]
    once: bool,
    /// Give up after this many seconds (exit status 2 if --count/--once was not reached).
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Print the SMTP dialogue as it happens.
    #[arg(long)]
    transcript: bool,
    /// Print only the envelope of each message, not its data.
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("rsmtp-testserver: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Serve until the exit condition; `Ok(false)` if `--timeout` struck first.
fn run(args: Args) -> Result<bool, String> {
    let mut opts = if args.demo {
        rsmtp_testserver::demo_options()
    } else {
        ServerOptions::new().tls(args.tls)
    };
    opts.port = args.port;
    opts.client_certs = args.client_certs;
    opts.leaf = args.leaf;
    opts.require_tls = args.require_tls;
    opts.pipelining_window = args.pipelining_window_ms.map(Duration::from_millis);
    if args.all_extensions {
        opts.extensions = Extensions::all();
    }
    if let (Some(user), Some(password)) = (&args.user, &args.password) {
        opts.auth = Some(AuthConfig {
            mechanisms: args.mechanisms.clone(),
            required: !args.auth_optional,
            ..AuthConfig::new(user.clone(), password.clone())
        });
    }
    for address in &args.reject_rcpt {
        opts.faults.push(Fault::reject_recipient(
            address.clone(),
            550,
            "5.1.1 No such user",
        ));
    }
    // SIGTERM or SIGINT ends the loop below like --count does, so everything is dropped
    // and the temporary CA directory (/tmp/rsmtp-testca-*) goes with it; the default
    // action would kill the process and leave the directory behind.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| format!("cannot handle signal {signal}: {e}"))?;
    }
    let ca = match &args.cert_dir {
        Some(dir) => TestCa::new_in(dir)
            .map_err(|e| format!("cannot write certificates to {}: {e}", dir.display()))?,
        None => TestCa::new(),
    };
    opts.ca = Some(Arc::new(ca));
    let server = TestServer::try_start(opts.clone()).map_err(|e| e.to_string())?;

    println!("listening on {} (tls: {:?})", server.addr(), opts.tls);
    println!(
        "CA certificate (tls_trust_file): {}",
        server.ca().ca_pem_path().display()
    );
    println!(
        "server certificate SHA-256 (tls_fingerprint): {}",
        server.ca().leaf(opts.leaf).sha256_fingerprint()
    );
    if let Some(auth) = &opts.auth {
        let mechs: Vec<&str> = auth.mechanisms.iter().map(|m| m.as_str()).collect();
        println!("AUTH {} (required: {})", mechs.join(" "), auth.required);
    }
    println!("msmtprc account for this server:");
    for line in server.msmtprc_account("testserver").lines() {
        println!("    {line}");
    }
    flush();
    if let Some(path) = &args.port_file {
        std::fs::write(path, format!("{}\n", server.port()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }

    let target = if args.once { Some(1) } else { args.count };
    let give_up = args
        .timeout
        .map(|secs| Instant::now() + Duration::from_secs(secs));
    let mut reached = true;
    let mut printed_messages = 0;
    let mut printed_lines = 0;
    loop {
        let next = server.wait_for_message(printed_messages, Duration::from_millis(200));
        if args.transcript {
            printed_lines = print_transcript(&server, printed_lines);
        }
        if let Some(m) = next {
            printed_messages += 1;
            print_message(printed_messages, &m, args.quiet);
            // Take whatever else has arrived without waiting.
            while let Some(m) = server.wait_for_message(printed_messages, Duration::ZERO) {
                printed_messages += 1;
                print_message(printed_messages, &m, args.quiet);
            }
        }
        flush();
        if target.is_some_and(|n| printed_messages >= n) {
            break;
        }
        if stop.load(Ordering::Relaxed) {
            reached = target.is_none();
            break;
        }
        if give_up.is_some_and(|t| Instant::now() >= t) {
            eprintln!(
                "rsmtp-testserver: timeout after {} s with {printed_messages} message(s)",
                args.timeout.unwrap_or(0)
            );
            reached = target.is_none();
            break;
        }
    }
    // Let the client finish (QUIT) so the transcript is complete.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.wait_for_idle(Duration::from_millis(100)) && Instant::now() < deadline {}
    if args.transcript {
        print_transcript(&server, printed_lines);
    }
    flush();
    Ok(reached)
}

fn parse_leaf(s: &str) -> Result<LeafKind, String> {
    match s {
        "valid" => Ok(LeafKind::Valid),
        "expired" => Ok(LeafKind::Expired),
        "wrong-host" => Ok(LeafKind::WrongHost),
        "self-signed" => Ok(LeafKind::SelfSigned),
        "self-signed-ca" => Ok(LeafKind::SelfSignedCa),
        other => Err(format!(
            "unknown certificate '{other}' (expected valid, expired, wrong-host, self-signed \
             or self-signed-ca)"
        )),
    }
}

fn print_transcript(server: &TestServer, from: usize) -> usize {
    let entries = server.transcript_since(from);
    for e in &entries {
        let who = match e.direction {
            rsmtp_testserver::Direction::Client => "C:",
            rsmtp_testserver::Direction::Server => "S:",
            rsmtp_testserver::Direction::Event => "* ",
        };
        println!("[{}] {who} {}", e.connection, e.text);
    }
    from + entries.len()
}

fn print_message(n: usize, m: &ReceivedMessage, quiet: bool) {
    let auth = m.auth.as_ref().map_or("none".to_string(), |a| {
        format!("{} {}", a.mechanism, a.identity)
    });
    println!(
        "=== message {n} (connection {}, tls {}, auth {auth}, pipelined {}, {} bytes)",
        m.connection,
        if m.tls { "yes" } else { "no" },
        if m.pipelined { "yes" } else { "no" },
        m.size,
    );
    let params = |p: &[String]| {
        if p.is_empty() {
            String::new()
        } else {
            format!(" {}", p.join(" "))
        }
    };
    println!("MAIL FROM:<{}>{}", m.mail_from, params(&m.mail_params));
    for r in &m.rcpt_to {
        println!(
            "RCPT TO:<{}>{} -> {}",
            r.address,
            params(&r.params),
            r.reply_code
        );
    }
    if !quiet {
        println!("---");
        print!("{}", m.data_str());
        if !m.data.ends_with(b"\n") {
            println!();
        }
    }
    println!("=== end of message {n}");
}

fn flush() {
    let _ = std::io::stdout().flush();
}
