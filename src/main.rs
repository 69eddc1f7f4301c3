//! `pujo`: parse the command line, then hand over to the library.

/// jemalloc instead of the C library's allocator: measured with
/// `scripts/bench/server.sh`, it took Pujo's CPU per request for a small site file
/// from 7.7-7.9 us to 6.8-6.9 us for 1.7 MiB more idle RSS, and the musl image would
/// otherwise get musl's allocator, which is slower still.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli: pujo::cli::Cli = argh::from_env();
    pujo::run(cli)
}
