//! The `tributary` command: one binary, one subcommand per job.
//!
//! Every subcommand prints JSON on success. Bad input gives a one-line `error: ...` on stderr and exit
//! status 1 (argument syntax errors are clap's, exit status 2).

mod cli;
mod cmd;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's malloc: a loaded validator allocates and frees tens of objects per
/// transaction from many threads, and glibc's arenas spent ~6 % of its CPU there (see
/// `docs/BENCHMARKS.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli.command) {
        Ok(value) => match serde_json::to_string_pretty(&value) {
            Ok(text) => match writeln!(std::io::stdout().lock(), "{text}") {
                Ok(()) => ExitCode::SUCCESS,
                // A reader that went away (`| head`) is not an error of ours; say nothing more.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot print the result: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprintln!("error: cannot print the result as JSON: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            // `{:#}` joins the whole cause chain on one line.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
