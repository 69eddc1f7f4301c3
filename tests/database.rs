//! The database as an operator meets it: `pujo migrate`, `--migrate`, readiness.

mod common;

use common::{binary, get, spawn_app_with};
use http::StatusCode;

#[test]
fn pujo_migrate_applies_once_on_postgres_and_sqlite() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let url = runtime.block_on(common::db::create_postgres_database());
    let first = binary(&["migrate", "--database-url", &url], &[]).output().expect("run");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(text.contains("applied V1__accounts"), "{text}");
    assert!(text.contains("applied V2__photos"), "{text}");
    assert!(text.contains("postgres schema at version 2"), "{text}");
    let second = binary(&["migrate"], &[("PUJO_DATABASE_URL", &url)]).output().expect("run");
    let text = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success());
    assert!(!text.contains("applied"), "{text}");

    let data = tempfile::tempdir().expect("dir");
    let sqlite = binary(&["migrate", "--data-dir", &data.path().display().to_string()], &[]).output().expect("run");
    assert!(sqlite.status.success(), "{}", String::from_utf8_lossy(&sqlite.stderr));
    assert!(String::from_utf8_lossy(&sqlite.stdout).contains("sqlite schema at version 2"));
    assert!(data.path().join("pujo.db").is_file());

    let down =
        binary(&["migrate", "--database-url", "postgres://pujo@127.0.0.1:1/x", "--db-connect-timeout", "1s"], &[])
            .output()
            .expect("run");
    assert_eq!(down.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&down.stderr);
    assert!(stderr.contains("unavailable"), "{stderr}");
}

#[tokio::test]
async fn readiness_waits_for_migrations_on_postgres() {
    let url = common::db::create_postgres_database().await;
    let app = spawn_app_with(&[("database-url", &url)]).await;
    let ready = get(&app.url("/ready"), &[]).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = ready.json();
    assert_eq!(body["checks"]["database"]["status"], "failed");
    assert!(body["checks"]["database"]["error"].as_str().unwrap_or("").contains("pujo migrate"), "{body}");

    let migrated = spawn_app_with(&[("database-url", &url), ("migrate", "true")]).await;
    let ready = get(&migrated.url("/ready"), &[]).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
    assert_eq!(ready.json()["checks"]["database"]["status"], "ok");
    // The first app sees the schema now too: readiness is checked live.
    assert_eq!(get(&app.url("/ready"), &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unreachable_database_fails_readiness_but_not_liveness() {
    let url = format!("postgres://pujo@127.0.0.1:{}/pujo", common::free_port());
    let app = spawn_app_with(&[("database-url", &url), ("db-connect-timeout", "300ms")]).await;
    let started = std::time::Instant::now();
    let ready = get(&app.url("/ready"), &[]).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!(ready.json()["checks"]["database"]["status"], "failed");
    assert_eq!(get(&app.url("/health"), &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_embedded_default_is_sqlite_in_the_data_folder() {
    let app = common::spawn_app().await;
    let ready = get(&app.url("/ready"), &[]).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json()["checks"]["database"]["status"], "ok");
    assert!(app.data.path().join("pujo.db").is_file());
}
