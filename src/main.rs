//! The `eqmd` binary: parses the command line and reports errors without panicking.

use clap::Parser;

fn main() -> std::process::ExitCode {
    eqmd::keep_freed_memory();
    if let Some(message) = eqmd::cpu::unsupported() {
        eprintln!("error: {message}");
        return std::process::ExitCode::FAILURE;
    }
    let cli = eqmd::cli::Cli::parse();
    let level = if cli.quiet() { "warn" } else { "info" };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_timestamp(None)
        .init();
    match eqmd::cli::execute(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
