//! `rsmtp`: the binary is a thin shell over the library.

fn main() -> std::process::ExitCode {
    // Before any configuration (and so any secret) is read. Best effort: a
    // sandbox that forbids it must not stop the mail.
    let _ = rsmtp_core::core_dumps::disable_core_dumps();
    rsmtp::run_cli(std::env::args_os().collect()).into()
}
