//! The database as an operator meets it: `pujo migrate`, `--migrate`, readiness.

use crate::common;

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
    assert!(text.contains("applied V14__pandal_counts"), "{text}");
    assert!(text.contains("postgres schema at version 14"), "{text}");
    let second = binary(&["migrate"], &[("PUJO_DATABASE_URL", &url)]).output().expect("run");
    let text = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success());
    assert!(!text.contains("applied"), "{text}");

    let data = tempfile::tempdir().expect("dir");
    let sqlite = binary(&["migrate", "--data-dir", &data.path().display().to_string()], &[]).output().expect("run");
    assert!(sqlite.status.success(), "{}", String::from_utf8_lossy(&sqlite.stderr));
    assert!(String::from_utf8_lossy(&sqlite.stdout).contains("sqlite schema at version 14"));
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

/// `pujo admin` on both backends: the first admin, and pandals from a shell.
#[tokio::test]
async fn pujo_admin_grants_roles_and_creates_pandals() {
    for backend in [common::db::Backend::Sqlite, common::db::Backend::Postgres] {
        let t = common::db::fresh(backend, &[]).await;
        let db = pujo::db::Database::open(&t.config.db, &t.config.data_dir).await.expect("open");
        db.migrate().await.expect("migrate");
        let user = pujo::db::NewUser {
            username: "Pujari".to_owned(),
            email: "pujari@pujo.example".to_owned(),
            display_name: String::new(),
            password_hash: "x".to_owned(),
        };
        db.create_user(&user).await.expect("user");
        let data_dir = t.data.path().display().to_string();
        let env: Vec<(&str, &str)> = match &t.url {
            Some(url) => vec![("PUJO_DATABASE_URL", url.as_str())],
            None => vec![],
        };
        let admin = |args: &[&str]| {
            let mut all = vec!["admin", "--data-dir", data_dir.as_str()];
            all.extend_from_slice(args);
            binary(&all, &env).output().expect("run")
        };

        let granted = admin(&["grant-admin", "pujari"]);
        assert!(granted.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&granted.stderr));
        let found = db.user_by_login("pujari").await.expect("lookup").expect("exists");
        assert_eq!(found.0.role, pujo::db::Role::Admin, "{backend:?}");
        let nobody = admin(&["grant-admin", "nobody"]);
        assert_eq!(nobody.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&nobody.stderr).contains("nobody"));

        let args =
            ["create-pandal", "--name", "Kumartuli Park", "--city", "Kolkata", "--year", "2026", "--lat", "22.6"];
        let created = admin(&args);
        assert!(created.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&created.stderr));
        assert!(String::from_utf8_lossy(&created.stdout).contains("created pandal"));
        assert_eq!(admin(&args).status.code(), Some(2), "the same pandal twice");
        let bad = admin(&["create-pandal", "--name", "X", "--city", "Kolkata", "--year", "3026"]);
        assert_eq!(bad.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("--year"), "{}", String::from_utf8_lossy(&bad.stderr));
        let pandals = db.pandals(None, None, pujo::db::PageRequest { before: None, limit: 10 }).await.expect("list");
        assert_eq!(pandals.items.len(), 1, "{backend:?}");
        assert_eq!(pandals.items[0].lat, Some(22.6));
    }
}
