//! The embedded site and the public listener's HTTP behaviour, over real connections.

use crate::common;

use std::time::Duration;

use bytes::Bytes;
use common::{get, send, spawn_app};
use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The first hashed JS bundle referenced by index.html.
async fn bundle_path(app: &common::TestApp) -> String {
    let index = get(&app.url("/"), &[]).await.text();
    let start = index.find("/assets/").expect("index.html references /assets/");
    let end = index[start..].find(".js").expect("a .js bundle") + start + 3;
    index[start..end].to_owned()
}

#[tokio::test]
async fn index_is_html_revalidated_with_security_headers() {
    let app = spawn_app().await;
    let r = get(&app.url("/"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(r.header("cache-control"), "no-cache");
    assert!(r.text().contains("<div id=\"root\">"));
    let csp = r.header("content-security-policy");
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    assert_eq!(r.header("referrer-policy"), "strict-origin-when-cross-origin");
    assert!(r.header("permissions-policy").contains("camera=()"));
    assert!(!r.header("x-request-id").is_empty());
    // No HSTS on plain HTTP.
    assert!(r.headers.get("strict-transport-security").is_none());
}

#[tokio::test]
async fn hashed_bundles_are_immutable_and_negotiate_brotli_and_gzip() {
    let app = spawn_app().await;
    let path = bundle_path(&app).await;
    let plain = get(&app.url(&path), &[]).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.header("cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(plain.header("content-type"), "text/javascript; charset=utf-8");
    assert_eq!(plain.header("vary"), "Accept-Encoding");
    assert!(plain.headers.get("content-encoding").is_none());

    let br = get(&app.url(&path), &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(br.header("content-encoding"), "br");
    assert!(br.body.len() < plain.body.len());
    let mut decoded = Vec::new();
    brotli_decompress(&br.body, &mut decoded);
    assert_eq!(decoded, plain.body, "the brotli variant is the same file");

    let gz = get(&app.url(&path), &[("accept-encoding", "gzip;q=1, br;q=0")]).await;
    assert_eq!(gz.header("content-encoding"), "gzip");
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz.body[..]), &mut unzipped).expect("valid gzip");
    assert_eq!(unzipped, plain.body, "the gzip variant is the same file");
    let ids = get(&app.url(&path), &[("accept-encoding", "identity")]).await;
    assert!(ids.headers.get("content-encoding").is_none());

    // Each representation has its own strong validator.
    let tags = [plain.header("etag"), br.header("etag"), gz.header("etag")];
    assert!(tags.iter().all(|t| t.starts_with('"') && t.ends_with('"')), "{tags:?}");
    assert_ne!(tags[0], tags[1]);
    assert_ne!(tags[1], tags[2]);
}

fn brotli_decompress(input: &[u8], out: &mut Vec<u8>) {
    brotli::BrotliDecompress(&mut &input[..], out).expect("valid brotli");
}

#[tokio::test]
async fn if_none_match_answers_304_and_head_has_no_body() {
    let app = spawn_app().await;
    let path = bundle_path(&app).await;
    let first = get(&app.url(&path), &[("accept-encoding", "br")]).await;
    let etag = first.header("etag").to_owned();
    let again = get(&app.url(&path), &[("accept-encoding", "br"), ("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    // The kept page keeps its own policy: a 304 carrying another would replace it.
    assert!(again.headers.get("content-security-policy").is_none(), "{:?}", again.headers);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), etag);
    assert_eq!(again.header("cache-control"), "public, max-age=31536000, immutable");
    let other = get(&app.url(&path), &[("accept-encoding", "br"), ("if-none-match", "\"nope\"")]).await;
    assert_eq!(other.status, StatusCode::OK);
    // The page itself, revalidated on a reload: still no policy on the 304.
    let page = get(&app.url("/"), &[]).await;
    assert!(page.header("content-security-policy").contains("script-src 'self'"));
    let reload = get(&app.url("/"), &[("if-none-match", page.header("etag"))]).await;
    assert_eq!(reload.status, StatusCode::NOT_MODIFIED);
    assert!(reload.headers.get("content-security-policy").is_none());

    let head = send("HEAD", &app.url(&path), &[("accept-encoding", "br")], Bytes::new()).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), first.body.len().to_string());
    assert_eq!(head.header("etag"), etag);
}

#[tokio::test]
async fn unknown_pages_fall_back_to_the_app_but_not_for_files_api_or_assets() {
    let app = spawn_app().await;
    let index = get(&app.url("/"), &[]).await;
    for page in ["/pandals", "/pandals/kolkata/2026", "/albums/42?sort=new", "/%E0%A6%AA%E0%A7%81%E0%A6%9C%E0%A7%8B"] {
        let r = get(&app.url(page), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        assert_eq!(r.body, index.body, "{page} serves index.html");
    }
    let missing_bundle = get(&app.url("/assets/index-deadbeef.js"), &[]).await;
    assert_eq!(missing_bundle.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app.url("/robots.txt"), &[]).await.status, StatusCode::NOT_FOUND);
    let api = get(&app.url("/api/v1/nothing-here"), &[]).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.json()["error"]["code"], "not_found");
    let post = send("POST", &app.url("/pandals"), &[], Bytes::new()).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.header("allow"), "GET, HEAD");
}

/// Sends a raw request line so no client normalises the path first.
async fn raw_get(addr: std::net::SocketAddr, target: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await.expect("answer").expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn traversal_attempts_never_leave_the_embedded_site() {
    let app = spawn_app().await;
    std::fs::write(app.data.path().join("secret.txt"), "data-dir-secret").expect("write");
    let attempts = [
        "/../Cargo.toml",
        "/..%2fCargo.toml",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/assets/..%2f..%2f..%2fetc%2fpasswd",
        "/assets/%2e%2e%5c%2e%2e%5cCargo.toml",
        "/..%252f..%252fetc/passwd",
        "/.git/config",
        "/%00index.html",
        "//etc/passwd",
    ];
    for target in attempts {
        let answer = raw_get(app.addr, target).await;
        let status: u16 = answer[9..12].parse().expect("status");
        assert!(!answer.contains("root:x:0:0"), "{target} leaked /etc/passwd");
        assert!(!answer.contains("[package]"), "{target} leaked Cargo.toml");
        assert!(!answer.contains("data-dir-secret"), "{target} leaked the data dir");
        // Either refused outright or the app shell: never a file from outside the embed.
        assert!(status == 400 || status == 404 || answer.contains("<div id=\"root\">"), "{target}: {answer}");
    }
    assert!(raw_get(app.addr, "/%2e%2e/%2e%2e/etc/passwd").await.starts_with("HTTP/1.1 404"));
}

#[tokio::test]
async fn metrics_show_the_route_template_on_the_admin_listener_only() {
    let app = spawn_app().await;
    get(&app.url("/pandals/durga-2026"), &[]).await;
    get(&app.url("/api/v1/health"), &[]).await;
    let metrics = get(&app.admin_url("/metrics"), &[]).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.text();
    assert!(text.contains(r#"http_requests_total{method="GET",route="/{*spa}",status="200"} 1"#), "{text}");
    assert!(text.contains(r#"http_requests_total{method="GET",route="/api/v1/health",status="200"} 1"#));
    assert!(!text.contains("durga-2026"), "raw paths never become labels");
    for name in [
        "http_request_duration_seconds_bucket",
        "http_connections_active",
        "http_requests_in_flight",
        "tls_handshake_errors_total",
        "pujo_build_info{",
        "process_resident_memory_bytes",
    ] {
        assert!(text.contains(name), "missing {name}");
    }
    assert_eq!(get(&app.url("/metrics"), &[]).await.header("content-type"), "text/html; charset=utf-8");
}

#[tokio::test]
async fn probes_report_json_and_readiness_fails_while_draining() {
    let app = spawn_app().await;
    let health = get(&app.url("/health"), &[]).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    let ready = get(&app.url("/ready"), &[]).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json()["checks"]["data_dir"]["status"], "ok");
    let api = get(&app.url("/api/v1/health"), &[]).await.json();
    assert_eq!(api["version"], env!("CARGO_PKG_VERSION"));
    let openapi = get(&app.url("/api/openapi.json"), &[]).await.json();
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/api/v1/health"].is_object());
}

#[tokio::test]
async fn csp_reports_are_accepted_bounded_and_typed() {
    let app = spawn_app().await;
    let report = r#"{"csp-report":{"violated-directive":"script-src","blocked-uri":"inline"}}"#;
    let ok = send(
        "POST",
        &app.url("/api/v1/csp-report"),
        &[("content-type", "application/csp-report")],
        Bytes::from(report),
    )
    .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    let wrong_type =
        send("POST", &app.url("/api/v1/csp-report"), &[("content-type", "text/plain")], Bytes::from(report)).await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(wrong_type.json()["error"]["code"], "unsupported_media_type");
    let bad = send(
        "POST",
        &app.url("/api/v1/csp-report"),
        &[("content-type", "application/csp-report")],
        Bytes::from("{nope"),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["code"], "validation");
    let big = Bytes::from(vec![b' '; 64 * 1024]);
    let too_big =
        send("POST", &app.url("/api/v1/csp-report"), &[("content-type", "application/csp-report")], big).await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_big.json()["error"]["code"], "payload_too_large");
    let get_it = get(&app.url("/api/v1/csp-report"), &[]).await;
    assert_eq!(get_it.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get_it.header("allow"), "POST");
    let metrics = get(&app.admin_url("/metrics"), &[]).await.text();
    assert!(metrics.contains("csp_reports_total 1"), "only the valid report counts");
}

#[tokio::test]
async fn large_json_is_compressed_and_small_json_is_not() {
    let app = spawn_app().await;
    let openapi = get(&app.url("/api/openapi.json"), &[("accept-encoding", "gzip")]).await;
    assert_eq!(openapi.header("content-encoding"), "gzip");
    let health = get(&app.url("/api/v1/health"), &[("accept-encoding", "gzip")]).await;
    assert!(health.headers.get("content-encoding").is_none());
}

#[tokio::test]
async fn request_ids_are_echoed_when_sane_and_made_otherwise() {
    let app = spawn_app().await;
    let given = get(&app.url("/health"), &[("x-request-id", "alb-1-5f2a:trace")]).await;
    assert_eq!(given.header("x-request-id"), "alb-1-5f2a:trace");
    let hostile = get(&app.url("/health"), &[("x-request-id", "a\"b<script>")]).await;
    assert_ne!(hostile.header("x-request-id"), "a\"b<script>");
    let a = get(&app.url("/health"), &[]).await;
    let b = get(&app.url("/health"), &[]).await;
    assert!(!a.header("x-request-id").is_empty());
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
}
