//! The `civic311` binary: parses the command line and configuration, then hands over to the
//! library crates. No 311 logic lives here.

mod calendar;
mod cli;
mod config;
mod demo;
mod jobs;
mod sample;
mod workorders;

use std::process::ExitCode;

use clap::Parser;

/// glibc's malloc spent a fifth of the server's time in its arena locks under 64 concurrent
/// connections (perf); mimalloc keeps per-thread heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
