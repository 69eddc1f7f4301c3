//! PostgreSQL as production runs it: over verified TLS, and restarting underneath a
//! running Pujo. Each test owns its server (`common::pg`).

use crate::common;

use std::time::{Duration, Instant};

use common::api::Api;
use common::pg::PgServer;
use http::StatusCode;
use pujo::config::Config;
use pujo::db::{Database, DbError};
use serde_json::json;

fn config(url: &str, extra: &[(&'static str, &str)]) -> (Config, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("dir");
    let mut flags = common::base_settings();
    flags.push(("data-dir", data.path().display().to_string()));
    flags.push(("database-url", url.to_owned()));
    flags.push(("db-connect-timeout", "1s".to_owned()));
    flags.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    (Config::from_sources(&flags, std::iter::empty()).expect("config"), data)
}

#[tokio::test]
async fn tls_to_postgres_verifies_the_certificate_and_the_name() {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let (cert, key) = (generated.cert.pem(), generated.signing_key.serialize_pem());
    // Like RDS with rds.force_ssl: only TLS connections are let in.
    let hba = "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\nlocal all all trust\n";
    let server = PgServer::start(
        &["ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"],
        Some(hba),
        &[("server.crt", cert.as_bytes()), ("server.key", key.as_bytes())],
    );
    let dir = tempfile::tempdir().expect("dir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &cert).expect("write CA");
    let ca = ca.display().to_string();

    let (good, _d1) = config(&server.url("localhost", "?sslmode=require"), &[("db-ca-file", &ca)]);
    let db = Database::open(&good.db, &good.data_dir).await.expect("open");
    db.migrate().await.expect("migrate over TLS");
    db.ping().await.expect("ping over TLS");

    // The system's roots do not know this CA.
    let (untrusted, _d2) = config(&server.url("localhost", "?sslmode=require"), &[]);
    let err = Database::open(&untrusted.db, &untrusted.data_dir)
        .await
        .expect("lazy pool")
        .ping()
        .await
        .expect_err("unknown CA");
    assert!(format!("{err}").to_lowercase().contains("certificate"), "{err}");
    // The right CA but another name than the certificate's.
    let (wrong_name, _d3) = config(&server.url("127.0.0.1", "?sslmode=require"), &[("db-ca-file", &ca)]);
    let err = Database::open(&wrong_name.db, &wrong_name.data_dir)
        .await
        .expect("lazy pool")
        .ping()
        .await
        .expect_err("name mismatch");
    assert!(matches!(err, DbError::Unavailable(_) | DbError::Other(_)), "{err}");
    // Without TLS the server refuses outright.
    let (plain, _d4) = config(&server.url("localhost", "?sslmode=disable"), &[]);
    assert!(Database::open(&plain.db, &plain.data_dir).await.expect("lazy pool").ping().await.is_err());
    // A CA file that is not one stops start-up with a clear message.
    let (bad_ca, _d5) = config(&server.url("localhost", "?sslmode=require"), &[("db-ca-file", "/dev/null")]);
    let err = Database::open(&bad_ca.db, &bad_ca.data_dir).await.expect_err("no CA in /dev/null");
    assert!(err.to_string().contains("PUJO_DB_CA_FILE"), "{err}");
}

#[tokio::test]
async fn a_postgres_restart_costs_503s_during_the_outage_and_nothing_after() {
    let server = PgServer::start(&[], None, &[]);
    let (config, data) = config(&server.url("127.0.0.1", ""), &[("migrate", "true")]);
    let app = pujo::app::App::build(config).await.expect("app builds");
    let (addr, admin, redirect) = (app.local_addr(), app.admin_addr().expect("admin"), app.redirect_addr());
    let handle = app.handle();
    let task = tokio::spawn(app.run());
    let app = common::TestApp { addr, admin, redirect, handle, data, task };

    let me = Api::register(&app, "durga").await;
    let album = me.post("/api/v1/albums", json!({"title": "Before"})).await;
    assert_eq!(album.status, StatusCode::CREATED);
    assert_eq!(common::get(&app.url("/ready"), &[]).await.status, StatusCode::OK);

    server.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let read = me.get("/api/v1/albums").await;
        assert_eq!(read.status, StatusCode::SERVICE_UNAVAILABLE, "{}", read.text());
        assert_eq!(read.json()["error"]["code"], "unavailable");
        assert!(!read.header("retry-after").is_empty());
        assert!(started.elapsed() < Duration::from_millis(2500), "fails fast: {:?}", started.elapsed());
    }
    let write = me.post("/api/v1/albums", json!({"title": "During"})).await;
    assert_eq!(write.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(common::get(&app.url("/ready"), &[]).await.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(common::get(&app.url("/health"), &[]).await.status, StatusCode::OK, "alive all along");

    server.resume();
    let back = common::eventually(Duration::from_secs(15), || async {
        me.get("/api/v1/albums?owner=durga").await.status == StatusCode::OK
    })
    .await;
    assert!(back, "Pujo reconnects by itself");
    let titles: Vec<String> = me.get("/api/v1/albums?owner=durga").await.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["title"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(titles, ["Before"], "the write during the outage left nothing behind");
    assert_eq!(common::get(&app.url("/ready"), &[]).await.status, StatusCode::OK);
    assert_eq!(me.get("/api/v1/me").await.status, StatusCode::OK, "sessions survived");
}
