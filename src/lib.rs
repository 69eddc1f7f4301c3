//! Pujo: a photo-sharing site for Durga Puja pandals, served by one binary.
//!
//! `ARCHITECTURE.md` at the repository root has the map of these modules and the
//! rules between them.

pub mod admin;
pub mod api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod cache;
pub mod cli;
pub mod command;
pub mod config;
pub mod db;
pub mod healthcheck;
pub mod http;
pub mod media;
pub mod metrics;
pub mod pipeline;
pub mod ratelimit;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod util;

use std::process::ExitCode;

use cli::{Cli, Command};
use config::Config;

use command::{load_config, runtime};
pub use util::{GIT_SHA, VERSION};

/// Runs one command line to completion and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        None => serve(&[]),
        Some(Command::Serve(args)) => serve(&args.settings()),
        Some(Command::Migrate(args)) => match load_config(&args.settings()) {
            Ok(config) => migrate(&config),
            Err(code) => code,
        },
        Some(Command::Config(args)) => match load_config(&args.settings()) {
            Ok(config) => {
                print!("{}", config.render());
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Some(Command::Admin(args)) => match load_config(&args.settings()) {
            Ok(config) => admin::run(&config, &args.action),
            Err(code) => code,
        },
        Some(Command::Blobs(args)) => match load_config(&args.settings()) {
            Ok(config) => blobs::run(&config, &args.action),
            Err(code) => code,
        },
        Some(Command::Backup(args)) => match load_config(&args.settings()) {
            Ok(config) => backup::run_backup(&config, &args),
            Err(code) => code,
        },
        Some(Command::Restore(args)) => match load_config(&args.settings()) {
            Ok(config) => backup::run_restore(&config, &args),
            Err(code) => code,
        },
        Some(Command::Audit(args)) => match load_config(&args.settings()) {
            Ok(config) => admin::run_audit(&config, &args.action),
            Err(code) => code,
        },
        Some(Command::Db(args)) => match load_config(&args.settings()) {
            Ok(config) => backup::run_db(&config, &args),
            Err(code) => code,
        },
        Some(Command::Healthcheck(args)) => healthcheck::run(&args),
        Some(Command::Version(_)) => {
            println!("pujo {VERSION} ({GIT_SHA})");
            ExitCode::SUCCESS
        }
    }
}

/// `pujo migrate`: applies pending migrations (safe to run from several replicas at
/// once) and reports the schema version.
fn migrate(config: &Config) -> ExitCode {
    let runtime = match runtime(false) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let outcome = runtime.block_on(async {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| e.to_string())?;
        let db = db::Database::open(&config.db, &config.data_dir).await.map_err(|e| e.to_string())?;
        db.migrate().await.map(|m| (db.backend(), m)).map_err(|e| e.to_string())
    });
    match outcome {
        Ok((backend, migrated)) => {
            for name in &migrated.applied_now {
                println!("applied {name}");
            }
            println!("{backend} schema at version {}", migrated.version);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pujo migrate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(flags: &[(&'static str, String)]) -> ExitCode {
    let config = match load_config(flags) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let _log_guard = telemetry::init(&config);
    let runtime = match runtime(true) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let app = match app::App::build(config).await {
            Ok(app) => app,
            Err(e) => {
                tracing::error!(error = %e, "start-up failed");
                eprintln!("pujo: {e}");
                return ExitCode::FAILURE;
            }
        };
        let handle = app.handle();
        tokio::spawn(async move {
            server::wait_for_signal().await;
            handle.shutdown();
        });
        app.run().await;
        ExitCode::SUCCESS
    })
}
