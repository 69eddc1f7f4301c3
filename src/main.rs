//! `pujo`: parse the command line, then hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli: pujo::cli::Cli = argh::from_env();
    pujo::run(cli)
}
