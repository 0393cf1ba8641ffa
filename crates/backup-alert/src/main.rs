//! The `backup-alert` binary: argv in, exit status out; everything else is the library.

fn main() -> std::process::ExitCode {
    // The msmtprc's password passes through this process when it mails: no core
    // file of it (the wrapped backup command keeps its own core limit).
    let _ = rsmtp_core::core_dumps::disable_own_core_dumps();
    std::process::ExitCode::from(backup_alert::main(std::env::args_os().collect()))
}
