//! Fresh databases for tests: a temp folder for SQLite, a new database on the
//! PostgreSQL server that `scripts/test.sh` starts (its URL in `TEST_POSTGRES_URL`).

use std::sync::atomic::{AtomicU32, Ordering};

use pujo::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database of its own for one test; the temp folder lives as long as this does.
pub struct TestDb {
    pub config: Config,
    pub url: Option<String>,
    pub data: tempfile::TempDir,
}

/// The admin URL of the test PostgreSQL server. Missing is a failure, not a skip:
/// `scripts/test.sh` starts the server; to run tests by hand, start one and set it.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("TEST_POSTGRES_URL is not set: run scripts/test.sh, or start PostgreSQL 15 and export TEST_POSTGRES_URL=postgres://user@127.0.0.1:PORT/postgres")
    })
}

/// Creates an empty PostgreSQL database and returns its URL.
pub async fn create_postgres_database() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let admin = postgres_admin_url();
    let name = format!(
        "pujo_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").subsec_nanos()
    );
    let (client, conn) =
        tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.expect("connect to TEST_POSTGRES_URL");
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create database");
    let (base, _) = admin.rsplit_once('/').expect("URL with a database name");
    format!("{base}/{name}")
}

pub async fn fresh(backend: Backend, extra: &[(&'static str, &str)]) -> TestDb {
    let data = tempfile::tempdir().expect("temp dir");
    let mut flags = super::base_settings();
    flags.push(("data-dir", data.path().display().to_string()));
    let url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let url = create_postgres_database().await;
            flags.push(("database-url", url.clone()));
            flags.push(("migrate", "true".to_owned()));
            Some(url)
        }
    };
    flags.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let config = Config::from_sources(&flags, std::iter::empty()).expect("valid test config");
    TestDb { config, url, data }
}

/// Pujo in-process on a fresh database of the given backend.
pub async fn spawn_app_on(backend: Backend) -> super::TestApp {
    let t = fresh(backend, &[]).await;
    serve(t.config, t.data).await
}

/// Pujo in-process with `config`, keeping `data` (its data folder) as long as it runs.
pub async fn serve(config: Config, data: tempfile::TempDir) -> super::TestApp {
    let app = pujo::app::App::build(config).await.expect("app builds");
    let (addr, admin, redirect) = (app.local_addr(), app.admin_addr().expect("admin on"), app.redirect_addr());
    let handle = app.handle();
    let task = tokio::spawn(app.run());
    super::TestApp { addr, admin, redirect, handle, data, task }
}

/// Pujo on a fresh database, plus a second handle on that database for a test to
/// arrange what the API cannot create yet (photos) or should not (admins).
pub async fn spawn_app_with_db(backend: Backend) -> (super::TestApp, pujo::db::Database) {
    spawn_app_with_db_and(backend, &[]).await
}

/// As [`spawn_app_with_db`], with settings of its own.
pub async fn spawn_app_with_db_and(
    backend: Backend,
    extra: &[(&'static str, &str)],
) -> (super::TestApp, pujo::db::Database) {
    let t = fresh(backend, extra).await;
    let db_config = t.config.clone();
    let app = pujo::app::App::build(t.config).await.expect("app builds");
    let db = pujo::db::Database::open(&db_config.db, &db_config.data_dir).await.expect("second handle");
    let (addr, admin, redirect) = (app.local_addr(), app.admin_addr().expect("admin on"), app.redirect_addr());
    let handle = app.handle();
    let task = tokio::spawn(app.run());
    (super::TestApp { addr, admin, redirect, handle, data: t.data, task }, db)
}

/// A pandal in Bagbazar, Kolkata, 2026, named `name`, straight in the database: its id.
pub async fn bagbazar_pandal(db: &pujo::db::Database, name: &str) -> i64 {
    let new = pujo::db::NewPandal {
        name: name.to_owned(),
        para: "Bagbazar".to_owned(),
        city: "Kolkata".to_owned(),
        year: 2026,
        lat: None,
        lon: None,
        created_by: None,
    };
    db.create_pandal(&new).await.expect("pandal").id
}
