//! Fuzz targets run as ordinary tests (stable Rust, a seeded mutation loop from
//! `rsmtp_testserver::fuzz`): msmtprc files, from real users' files (tests/fixtures). `RSMTP_FUZZ_CASES` sets the cases
//! (default a few thousand, seconds in CI), `RSMTP_FUZZ_SEED` replays
//! a run. Each asserts no panic and the target's invariants; the server-reply
//! target lives next to the parser in rsmtp-smtp (it is crate-private); header
//! blocks and aliases in rsmtp-message's tests, backup-alert's settings in its own.

use crate::support::repo_root;

use rsmtp_config::Config;
use rsmtp_testserver::fuzz::fuzz;

fn repo_file(path: &str) -> Vec<u8> {
    let full = repo_root().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("corpus file {}: {e}", full.display()))
}

/// msmtprc: parsing never panics; every error points at `file:line` (or names
/// the file); no value keeps a line break; every account resolves or fails
/// with an error, never a panic.
#[test]
#[allow(
    clippy::print_stderr,
    reason = "the fuzz run's summary (seed, cases) is this test's report"
)]
fn fuzz_msmtprc() {
    let seeds = vec![
        repo_file("crates/rsmtp-config/tests/fixtures/gmail-backup.msmtprc"),
        repo_file("crates/rsmtp-config/tests/fixtures/php-docker.msmtprc"),
        repo_file("crates/rsmtp-config/tests/fixtures/vps-alert-default-account.msmtprc"),
        repo_file("contrib/msmtprc.example"),
        b"defaults\nauth on\ntls on\ntls_trust_file /etc/ssl/certs/ca-certificates.crt\n\
          logfile ~/.msmtp.log\n\naccount gmail\nhost smtp.gmail.com\nport 587\n\
          from %U@%H\nuser me@gmail.com\npasswordeval \"pass show gmail\"\n\n\
          account work : gmail\nhost mail.example.org\ntls_starttls off\n\n\
          account default : work\n"
            .to_vec(),
    ];
    let tokens: &[&[u8]] = &[
        b"account ",
        b"defaults",
        b" : ",
        b"host ",
        b"port ",
        b"from ",
        b"auth ",
        b"tls ",
        b"on",
        b"off",
        b"user ",
        b"password ",
        b"passwordeval ",
        b"tls_fingerprint ",
        b"timeout ",
        b"domain ",
        b"%U",
        b"%H",
        b"%M",
        b"%C",
        b"%F",
        b"aliases ",
        b"account default : ",
        b"dsn_notify ",
        b"set_from_header ",
        b"logfile ",
    ];
    let r = fuzz("msmtprc", &seeds, tokens, |input| {
        // `eval` runs a shell command while parsing: never run mutated ones.
        let text = String::from_utf8_lossy(input).replace("eval", "evXl");
        match Config::parse(&text, "fuzz.rc") {
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.contains("fuzz.rc"), "error without file:line: {msg}");
                if let Some(at) = e.source_location() {
                    assert!(at.line > 0, "line 0 in {msg}");
                }
            }
            Ok(config) => {
                for account in &config.accounts {
                    for (what, value) in [
                        ("host", account.host.as_deref()),
                        ("user", account.user.as_deref()),
                        ("from", account.from.as_deref()),
                        ("domain", Some(account.domain.as_str())),
                        ("passwordeval", account.passwordeval.as_deref()),
                    ] {
                        if let Some(v) = value {
                            assert!(!v.contains('\n'), "{what} holds LF: {v:?}");
                        }
                    }
                    let _ = config.account(Some(&account.name));
                }
            }
        }
    });
    eprintln!("{r}");
}
