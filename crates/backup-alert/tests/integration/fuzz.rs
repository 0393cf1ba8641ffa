//! Fuzzing backup-alert's INI settings (a seeded mutation loop from
//! `rsmtp_testserver::fuzz`; `RSMTP_FUZZ_CASES`, `RSMTP_FUZZ_SEED`): applying any
//! text never panics, and an error names the file.

use std::path::Path;

use rsmtp_testserver::fuzz::fuzz;

/// backup-alert's INI settings: applying any text never panics; an error names
/// the file.
#[test]
#[allow(
    clippy::print_stderr,
    reason = "the fuzz run's summary (seed, cases) is this test's report"
)]
fn fuzz_backup_alert_settings() {
    let seeds = vec![
        b"[default]\nto = admin@example.org\nfrom = backup@%H\naccount = alerts\n\
          subject_prefix = [backup]\nmax_body = 10M\n\n[host:db1]\nto = dba@example.org\n"
            .to_vec(),
        b"; comment\n[default]\nrepeat = 1h\nquiet_hours = 22:00-07:00\n".to_vec(),
    ];
    let tokens: &[&[u8]] = &[b"[default]", b"[host:", b"]", b" = ", b"to", b"from", b"\\"];
    let r = fuzz("backup-alert-settings", &seeds, tokens, |input| {
        let text = String::from_utf8_lossy(input);
        let mut settings = backup_alert::settings::Settings::default();
        if let Err(e) = settings.apply_text(&text, Path::new("fuzz.ini"), "db1") {
            let msg = e.to_string();
            assert!(msg.contains("fuzz.ini"), "error without the file: {msg}");
        }
    });
    eprintln!("{r}");
}
