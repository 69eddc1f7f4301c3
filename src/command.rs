//! What the commands share (`serve`, `migrate`, `pujo admin`, `pujo blobs`,
//! `healthcheck`): their runtime, reading the settings, and how a one-shot command
//! reports a failure.

use std::process::ExitCode;

use crate::config::Config;

/// Why a one-shot command (`pujo admin`, `pujo blobs`) did not do what it was asked.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line asked for something impossible (exit 2).
    Usage(String),
    /// The work failed: the database or a store said no or could not be reached (exit 1).
    Failed(String),
}

impl Failure {
    pub(crate) fn failed(e: impl std::fmt::Display) -> Failure {
        Failure::Failed(e.to_string())
    }

    /// Says what went wrong on stderr, as `pujo COMMAND: ...`, and gives the exit code.
    pub(crate) fn report(self, command: &str) -> ExitCode {
        let (message, code) = match self {
            Failure::Usage(m) => (m, ExitCode::from(2)),
            Failure::Failed(m) => (m, ExitCode::FAILURE),
        };
        eprintln!("pujo {command}: {message}");
        code
    }
}

impl From<crate::db::DbError> for Failure {
    fn from(e: crate::db::DbError) -> Failure {
        Failure::failed(e)
    }
}

/// A Tokio runtime: multi-threaded for `serve`, one thread for the short commands.
pub(crate) fn runtime(multi_thread: bool) -> Result<tokio::runtime::Runtime, ExitCode> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().map_err(|e| {
        eprintln!("pujo: cannot start the async runtime: {e}");
        ExitCode::FAILURE
    })
}

/// The settings from the environment and `flags`; a bad one is exit 2, said in one line.
pub(crate) fn load_config(flags: &[(&'static str, String)]) -> Result<Config, ExitCode> {
    Config::from_process(flags).map_err(|e| {
        eprintln!("pujo: {e}");
        ExitCode::from(2)
    })
}
