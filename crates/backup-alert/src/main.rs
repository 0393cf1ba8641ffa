//! The `backup-alert` binary: argv in, exit status out; everything else is the library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(backup_alert::main(std::env::args_os().collect()))
}
