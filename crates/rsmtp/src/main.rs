//! `rsmtp`: the binary is a thin shell over the library.

fn main() -> std::process::ExitCode {
    rsmtp::run_cli(std::env::args_os().collect()).into()
}
