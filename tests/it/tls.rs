//! TLS termination: HTTP/2 by ALPN, certificate reload, self-signed mode, HSTS, redirect.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{TestApp, eventually, get, spawn_app_with, tls_get, tls_send, write_cert};
use http::StatusCode;

/// Pujo serving TLS from freshly written certificate files in `dir`; returns the app,
/// the certificate and key paths, and the certificate's PEM for clients to trust.
async fn spawn_on_cert_files(
    dir: &Path,
    name: &str,
    extra: &[(&'static str, &str)],
) -> (TestApp, PathBuf, PathBuf, Vec<u8>) {
    let (cert, key, pem) = write_cert(dir, name);
    let mut settings =
        vec![("tls-cert-path", cert.to_str().expect("utf8")), ("tls-key-path", key.to_str().expect("utf8"))];
    settings.extend_from_slice(extra);
    let app = spawn_app_with(&settings).await;
    (app, cert, key, pem)
}

#[tokio::test]
async fn serves_http2_over_tls_by_alpn_with_hsts() {
    let dir = tempfile::tempdir().expect("dir");
    let (app, _, _, pem) = spawn_on_cert_files(dir.path(), "one", &[]).await;
    let (answer, _) = tls_get(app.addr, &pem, "/api/v1/health").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.version, http::Version::HTTP_2);
    assert_eq!(answer.header("strict-transport-security"), "max-age=31536000");
    let (index, _) = tls_get(app.addr, &pem, "/").await;
    assert!(index.text().contains("<div id=\"root\">"));
}

/// Browsers over Pujo's own TLS speak HTTP/2, where the authority is `:authority` and
/// there is no `Host`: their writes must pass the CSRF check (they were all 403).
#[tokio::test]
async fn browser_writes_over_http2_pass_the_origin_check() {
    let dir = tempfile::tempdir().expect("dir");
    let (app, _, _, pem) = spawn_on_cert_files(dir.path(), "h2", &[]).await;
    let origin = format!("https://localhost:{}", app.addr.port());
    let body = bytes::Bytes::from_static(
        br#"{"username":"durga","email":"durga@pujo.example","password":"a long enough secret"}"#,
    );
    let proof = common::solve_proof(&tls_get(app.addr, &pem, "/api/v1/proof?for=register").await.0.json());
    let headers = [
        ("origin", origin.as_str()),
        ("content-type", "application/json"),
        ("sec-fetch-site", "same-origin"),
        ("x-pujo-proof", proof.as_str()),
    ];
    let (answer, _) = tls_send(app.addr, &pem, "POST", "/api/v1/auth/register", &headers, body.clone()).await;
    assert_eq!(answer.version, http::Version::HTTP_2);
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    // Another site's origin is still refused over HTTP/2.
    let evil = [("origin", "https://evil.example"), ("content-type", "application/json")];
    let (refused, _) = tls_send(app.addr, &pem, "POST", "/api/v1/auth/login", &evil, body).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["error"]["code"], "csrf");
}

/// An upload over HTTP/2, as every browser on Pujo's own TLS sends it: the connection
/// has the file's first window buffered before the parser reads the part's headers,
/// and that must not count as header bytes (every such upload was a 422).
#[tokio::test]
async fn a_photo_uploads_over_http2() {
    let dir = tempfile::tempdir().expect("dir");
    let (app, _, _, pem) = spawn_on_cert_files(dir.path(), "h2up", &[]).await;
    let origin = format!("https://localhost:{}", app.addr.port());
    let json = [("origin", origin.as_str()), ("content-type", "application/json")];
    let account = bytes::Bytes::from_static(
        br#"{"username":"alokchitra","email":"alok@pujo.example","password":"a long enough secret"}"#,
    );
    let proof = common::solve_proof(&tls_get(app.addr, &pem, "/api/v1/proof?for=register").await.0.json());
    let register = [json[0], json[1], ("x-pujo-proof", proof.as_str())];
    let (registered, _) = tls_send(app.addr, &pem, "POST", "/api/v1/auth/register", &register, account).await;
    assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.text());
    let cookie = registered.header("set-cookie").split(';').next().expect("a cookie").to_owned();
    let with_cookie = [json[0], json[1], ("cookie", cookie.as_str())];
    let title = bytes::Bytes::from_static(br#"{"title":"Ekdalia Evergreen"}"#);
    let (album, _) = tls_send(app.addr, &pem, "POST", "/api/v1/albums", &with_cookie, title).await;
    let album = album.json()["id"].as_i64().expect("album id");
    // Padded after its end to a few hundred kilobytes: many HTTP/2 frames.
    let mut photo = common::images::Jpeg { width: 1200, height: 900, ..common::images::Jpeg::default() }.encode();
    photo.extend((0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let (content_type, body) = common::api::multipart(&[("pandal.jpg", &photo)], Some("Sandhya arati"));
    let upload = [("origin", origin.as_str()), ("content-type", content_type.as_str()), ("cookie", cookie.as_str())];
    let path = format!("/api/v1/albums/{album}/photos");
    let (answer, _) = tls_send(app.addr, &pem, "POST", &path, &upload, body).await;
    assert_eq!(answer.version, http::Version::HTTP_2);
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    assert_eq!(answer.json()["items"][0]["width"], 1200);
}

#[tokio::test]
async fn a_rotated_certificate_is_served_to_new_connections_without_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let (app, cert, key, first_pem) =
        spawn_on_cert_files(dir.path(), "live", &[("tls-reload-interval", "100ms")]).await;
    let (_, before) = tls_get(app.addr, &first_pem, "/health").await;

    // Rotate as cert-manager does: new files written, then swapped into place.
    let (new_cert, new_key, second_pem) = write_cert(dir.path(), "next");
    std::fs::rename(&new_key, &key).expect("swap key");
    std::fs::rename(&new_cert, &cert).expect("swap cert");
    let addr = app.addr;
    let pem = second_pem.clone();
    let rotated = eventually(Duration::from_secs(10), || {
        let pem = pem.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
            common::tls_client(&pem).connect(name, tcp).await.is_ok()
        }
    })
    .await;
    assert!(rotated, "the new certificate was never served");
    let (answer, after) = tls_get(app.addr, &second_pem, "/health").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_ne!(before, after);
    let metrics = get(&app.admin_url("/metrics"), &[]).await.text();
    assert!(metrics.contains(r#"tls_certificate_reloads_total{result="ok"} 1"#), "{metrics}");
}

#[tokio::test]
async fn a_broken_replacement_keeps_the_old_certificate() {
    let dir = tempfile::tempdir().expect("dir");
    let (app, _, key, pem) = spawn_on_cert_files(dir.path(), "live", &[("tls-reload-interval", "50ms")]).await;
    std::fs::write(&key, "not a key").expect("break key");
    let admin = app.admin_url("/metrics");
    let noticed = eventually(Duration::from_secs(10), || {
        let admin = admin.clone();
        async move { get(&admin, &[]).await.text().contains(r#"tls_certificate_reloads_total{result="failed"} 1"#) }
    })
    .await;
    assert!(noticed, "the bad files were never examined");
    let (answer, _) = tls_get(app.addr, &pem, "/health").await;
    assert_eq!(answer.status, StatusCode::OK, "still serving with the previous certificate");
}

#[tokio::test]
async fn self_signed_mode_creates_a_certificate_and_keeps_it() {
    let data = tempfile::tempdir().expect("dir");
    let app = common::spawn_app_in(data, &[("tls", "self-signed")]).await;
    let pem = std::fs::read(app.data.path().join("tls/self-signed.crt")).expect("certificate saved");
    let (answer, presented) = tls_get(app.addr, &pem, "/ready").await;
    assert_eq!(answer.status, StatusCode::OK);
    let mode = std::fs::metadata(app.data.path().join("tls/self-signed.key")).expect("key");
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777, 0o600);
    // A restart on the same data folder reuses the same certificate.
    app.handle.shutdown();
    app.task.await.expect("stopped");
    let again = common::spawn_app_in(app.data, &[("tls", "self-signed")]).await;
    let (_, second) = tls_get(again.addr, &pem, "/ready").await;
    assert_eq!(presented, second);
}

#[tokio::test]
async fn the_plain_listener_redirects_to_https() {
    let dir = tempfile::tempdir().expect("dir");
    let (app, _, _, _) = spawn_on_cert_files(dir.path(), "one", &[("redirect-listen", "127.0.0.1:0")]).await;
    let redirect = app.redirect.expect("redirect listener");
    let r = get(&format!("http://{redirect}/pandals?year=2026"), &[]).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.header("location"), format!("https://127.0.0.1:{}/pandals?year=2026", app.addr.port()));
}

#[tokio::test]
async fn failed_handshakes_are_counted() {
    let dir = tempfile::tempdir().expect("dir");
    let (app, _, _, _) = spawn_on_cert_files(dir.path(), "one", &[]).await;
    // Plain HTTP to the TLS port is not a handshake.
    let mut s = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut s, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tokio::io::AsyncReadExt::read_to_end(&mut s, &mut buf)).await;
    let admin = app.admin_url("/metrics");
    let counted = eventually(Duration::from_secs(5), || {
        let admin = admin.clone();
        async move { get(&admin, &[]).await.text().contains("tls_handshake_errors_total 1") }
    })
    .await;
    assert!(counted);
}
