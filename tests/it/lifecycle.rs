//! The process as an operator meets it: signals and draining, limits against slow or
//! abusive clients, the CLI's exit codes.

use crate::common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::api::Api;
use common::{binary, eventually, get, metric, signal, spawn_app_with, spawn_binary};
use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn read_all(s: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    match tokio::time::timeout(within, s.read_to_end(&mut out)).await {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

/// A CSP report whose first 10 bytes of body are sent, and the rest of its body.
async fn slow_csp_report(addr: std::net::SocketAddr) -> (TcpStream, &'static [u8]) {
    let body = r#"{"csp-report":{"violated-directive":"img-src","blocked-uri":"https://x"}}"#;
    let mut slow = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/csp-report HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/csp-report\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.expect("head");
    slow.write_all(&body.as_bytes()[..10]).await.expect("first bytes");
    (slow, &body.as_bytes()[10..])
}

#[tokio::test]
async fn sigterm_drains_in_flight_requests_refuses_new_ones_and_exits_zero() {
    let data = tempfile::tempdir().expect("dir");
    let (mut child, addr, _) = spawn_binary(data.path(), &["--shutdown-delay", "1s", "--drain-timeout", "20s"]).await;

    // A request whose body is still arriving when the signal comes.
    let (mut slow, rest) = slow_csp_report(addr).await;

    signal(&child, "TERM");
    // Readiness fails at once while the listener still accepts (the shutdown delay).
    let draining = eventually(Duration::from_secs(5), || async move {
        get(&format!("http://{addr}/ready"), &[]).await.status == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    assert!(draining, "/ready never turned 503");
    let ready = get(&format!("http://{addr}/ready"), &[]).await;
    assert_eq!(ready.json()["status"], "draining");
    // Then new connections are refused.
    let refused = eventually(Duration::from_secs(5), || async move { TcpStream::connect(addr).await.is_err() }).await;
    assert!(refused, "the listener kept accepting after the shutdown delay");

    // The in-flight request still completes.
    slow.write_all(rest).await.expect("rest of body");
    let answer = read_all(&mut slow, Duration::from_secs(10)).await.expect("answer before the drain timeout");
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "pujo did not exit after draining");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit status {status:?}");
}

/// Past `PUJO_MAX_ACTIVE_REQUESTS` being worked on, a request waits its turn before any
/// work is done for it, and goes on when one ends. The probes and uploads never wait,
/// and a client sending its body slowly holds no turn until its body is here. Past
/// `PUJO_MAX_WAITING_REQUESTS` waiting, a request is turned away at once (503 `busy`).
#[tokio::test]
async fn past_the_active_bound_requests_wait_their_turn_and_slow_senders_hold_none() {
    let db_url = common::db::create_postgres_database().await;
    let data = tempfile::tempdir().expect("dir");
    let settings = [
        ("database-url", db_url.as_str()),
        ("migrate", "true"),
        ("max-active-requests", "1"),
        ("max-waiting-requests", "3"),
    ];
    let app = common::spawn_app_in(data, &settings).await;
    let owner = Api::register(&app, "owner").await;
    let album = owner.post("/api/v1/albums", serde_json::json!({"title": "Navami", "visibility": "public"})).await;
    let uploaded = owner
        .upload(
            album.json()["id"].as_i64().expect("album"),
            &[("dhak.jpg", &common::images::Jpeg { width: 64, height: 48, ..Default::default() }.encode())],
            None,
        )
        .await;
    let photo = uploaded.json()["items"][0]["id"].as_i64().expect("photo");

    // A request whose body is still arriving holds a connection, not the only turn.
    let (mut slow, rest) = slow_csp_report(app.addr).await;
    let feed = tokio::time::timeout(Duration::from_secs(2), get(&app.url("/api/v1/photos?limit=5"), &[])).await;
    assert_eq!(feed.expect("the slow sender holds no turn").status, StatusCode::OK);

    // A like waiting on a lock the test holds takes the only turn.
    let (db, connection) = tokio_postgres::connect(&db_url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    db.batch_execute("BEGIN; LOCK TABLE likes IN ACCESS EXCLUSIVE MODE").await.expect("lock");
    let like_path = format!("/api/v1/photos/{photo}/like");
    let like = owner.put(&like_path);
    let meanwhile = async {
        let locked = "SELECT count(*) FROM pg_stat_activity \
                      WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'relation'";
        let blocked = eventually(Duration::from_secs(5), || async {
            db.query_one(locked, &[]).await.expect("activity").get::<_, i64>(0) == 1
        });
        assert!(blocked.await, "the like waits on the lock");
        let feed = app.url("/api/v1/photos?limit=3");
        let next = tokio::spawn(async move { get(&feed, &[]).await.status });
        let app = &app;
        let waiting = |n: f64| {
            eventually(
                Duration::from_secs(5),
                move || async move { metric(app, "http_requests_waiting", &[]).await == n },
            )
        };
        assert!(waiting(1.0).await, "the next request waits for a turn");
        for probe in ["/ready", "/health", "/api/v1/health"] {
            let answer = tokio::time::timeout(Duration::from_secs(2), get(&app.url(probe), &[])).await;
            assert_eq!(answer.expect("a probe does not wait").status, StatusCode::OK, "{probe}");
        }
        // Nor does an upload, which lasts as long as a phone's network takes (this one
        // is refused, having no session, without waiting for the turn).
        let tus = [("tus-resumable", "1.0.0"), ("upload-length", "10")];
        for (path, refused) in
            [("/api/v1/uploads", StatusCode::UNAUTHORIZED), ("/api/v1/guest/not-a-link/uploads", StatusCode::NOT_FOUND)]
        {
            let url = app.url(path);
            let upload = common::send("POST", &url, &tus, Bytes::new());
            let upload = tokio::time::timeout(Duration::from_secs(2), upload).await;
            assert_eq!(upload.expect("an upload does not wait").status, refused, "{path}");
        }
        // A read sent with a body waits like any read (its handler reads no body, so
        // the body cannot put off its turn).
        let odd = app.url("/api/v1/photos?limit=2");
        let odd = tokio::spawn(async move { common::send("GET", &odd, &[], Bytes::from_static(b"x")).await.status });
        assert!(waiting(2.0).await, "a read with a body waits too");
        // The slow request's body is here: now it waits for a turn too.
        slow.write_all(rest).await.expect("rest of body");
        assert!(waiting(3.0).await, "the slow request waits for a turn once its body is here");
        // Every place in the wait is taken: a read and a write are turned away at once,
        // and told when to come back; a probe is still answered.
        let report = r#"{"csp-report":{"violated-directive":"img-src","blocked-uri":"https://y"}}"#;
        let (read, write) = (app.url("/api/v1/photos?limit=4"), app.url("/api/v1/csp-report"));
        let turned_away = [
            common::send("GET", &read, &[], Bytes::new()),
            common::send(
                "POST",
                &write,
                &[("content-type", "application/csp-report")],
                Bytes::from_static(report.as_bytes()),
            ),
        ];
        for answer in turned_away {
            let answer = tokio::time::timeout(Duration::from_secs(2), answer).await.expect("turned away at once");
            assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{}", answer.text());
            assert_eq!(answer.json()["error"]["code"], "busy");
            assert_eq!(answer.headers.get("retry-after").map(|v| v.as_bytes()), Some(&b"1"[..]));
        }
        // A write is turned away before its body is read (and before its handler does
        // anything for it): this one never sends the body it announces.
        let mut announced = TcpStream::connect(app.addr).await.expect("connect");
        let head = "POST /api/v1/csp-report HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
                    Content-Type: application/csp-report\r\nContent-Length: 100\r\n\r\n";
        announced.write_all(head.as_bytes()).await.expect("head");
        let answer = read_all(&mut announced, Duration::from_secs(2)).await.expect("answered without its body");
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains(r#""code":"busy""#), "{answer}");
        assert_eq!(metric(app, "http_requests_turned_away_total", &[]).await, 3.0);
        assert_eq!(get(&app.url("/ready"), &[]).await.status, StatusCode::OK);
        assert_eq!(metric(app, "http_requests_waiting", &[]).await, 3.0, "those waiting keep their places");
        assert!(!next.is_finished() && !odd.is_finished(), "still waiting while the turn is held");
        db.batch_execute("COMMIT").await.expect("unlock");
        let within =
            |task| async move { tokio::time::timeout(Duration::from_secs(5), task).await.expect("its turn came") };
        (within(next).await.expect("task"), within(odd).await.expect("task"))
    };
    let (liked, (next, odd)) = tokio::join!(like, meanwhile);
    assert_eq!(liked.status, StatusCode::OK, "{}", liked.text());
    assert_eq!((next, odd), (StatusCode::OK, StatusCode::OK));
    let answer = read_all(&mut slow, Duration::from_secs(5)).await.expect("the slow request's answer");
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    assert_eq!(metric(&app, "http_requests_waiting", &[]).await, 0.0);
}

#[tokio::test]
async fn sigint_stops_an_idle_server_promptly() {
    let data = tempfile::tempdir().expect("dir");
    let (mut child, _, _) = spawn_binary(data.path(), &[]).await;
    let started = Instant::now();
    signal(&child, "INT");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "idle shutdown took too long");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(status.success());
}

#[tokio::test]
async fn a_slowloris_client_is_cut_off_by_the_header_timeout() {
    let app = spawn_app_with(&[("header-read-timeout", "300ms")]).await;
    let mut s = TcpStream::connect(app.addr).await.expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1").await.expect("partial head");
    let started = Instant::now();
    let closed = read_all(&mut s, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "the connection stayed open");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(!closed.unwrap_or_default().contains("200 OK"));

    // A client that sends nothing at all is closed too.
    let mut silent = TcpStream::connect(app.addr).await.expect("connect");
    assert!(read_all(&mut silent, Duration::from_secs(5)).await.is_some());
}

/// A request that outlasts the request timeout gets 408 in the error envelope every
/// other failure uses (it was an empty body).
#[tokio::test]
async fn a_request_past_the_timeout_is_408_in_the_error_envelope() {
    let app = spawn_app_with(&[("request-timeout", "300ms")]).await;
    let mut s = TcpStream::connect(app.addr).await.expect("connect");
    let body = r#"{"login":"kalo","password":"a slow phone on a pandal's crowded network"}"#;
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(&body.as_bytes()[..10]).await.expect("the first bytes, then nothing");
    let answer = read_all(&mut s, Duration::from_secs(5)).await.expect("an answer within the timeout");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("content-type: application/json"), "{answer}");
    assert!(answer.contains(r#"{"error":{"code":"timeout""#), "{answer}");
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_after_the_timeout() {
    let app = spawn_app_with(&[("keep-alive-timeout", "400ms")]).await;
    // A handler's answer (awaited) and a site file (answered at once) each end the first
    // request, which is what switches the connection from the header timeout (the
    // default, longer than the wait below) to the keep-alive timeout.
    for (first, second) in [("/health", "/"), ("/", "/health")] {
        let mut s = TcpStream::connect(app.addr).await.expect("connect");
        let mut buf = vec![0u8; 65536];
        s.write_all(format!("GET {first} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes()).await.expect("request");
        let n = s.read(&mut buf).await.expect("response");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "{first}");
        // Reusing the connection within the timeout works.
        tokio::time::sleep(Duration::from_millis(100)).await;
        s.write_all(format!("GET {second} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .await
            .expect("second request");
        let n = s.read(&mut buf).await.expect("second response");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "{second}");
        let started = Instant::now();
        let closed = read_all(&mut s, Duration::from_secs(5)).await;
        assert!(closed.is_some(), "idle connection was never closed (first request {first})");
        assert!(started.elapsed() >= Duration::from_millis(300), "closed before the keep-alive timeout");
    }
}

#[tokio::test]
async fn idle_http2_connections_are_closed_after_the_timeout() {
    let app = spawn_app_with(&[("keep-alive-timeout", "400ms")]).await;
    // HTTP/2 with prior knowledge on the plain listener, as behind a load balancer.
    let tcp = TcpStream::connect(app.addr).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), hyper_util::rt::TokioIo::new(tcp))
            .await
            .expect("h2 handshake");
    let conn = tokio::spawn(conn);
    for path in ["/health", "/"] {
        let request = http::Request::get(format!("http://{}{path}", app.addr))
            .body(http_body_util::Empty::<Bytes>::new())
            .expect("request");
        let response = sender.send_request(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        http_body_util::BodyExt::collect(response.into_body()).await.expect("body");
    }
    let started = Instant::now();
    // The server's GOAWAY and close end the client's connection task.
    tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("idle HTTP/2 connection was never closed")
        .expect("connection task")
        .ok();
    assert!(started.elapsed() >= Duration::from_millis(300), "closed before the keep-alive timeout");
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let app = spawn_app_with(&[("max-header-bytes", "8192")]).await;
    let mut s = TcpStream::connect(app.addr).await.expect("connect");
    let big = "a".repeat(20_000);
    let req = format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\n\r\n");
    let _ = s.write_all(req.as_bytes()).await;
    let answer = read_all(&mut s, Duration::from_secs(5)).await.expect("answer");
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 431"), "{answer}");
    // Normal requests still work.
    assert_eq!(get(&app.url("/health"), &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_a_slot_frees() {
    let app = spawn_app_with(&[("max-connections", "1"), ("keep-alive-timeout", "30s")]).await;
    let mut first = TcpStream::connect(app.addr).await.expect("connect");
    first.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("request");
    let mut buf = vec![0u8; 4096];
    assert!(first.read(&mut buf).await.expect("first answer") > 0);
    // The second connection lands in the backlog and is not served while the first lives.
    let url = app.url("/health");
    let waiting = tokio::spawn(async move { get(&url, &[]).await.status });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "a second connection was served over the limit");
    drop(first);
    let status = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("served after").expect("task");
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn bad_settings_stop_start_up_with_one_line_naming_the_setting() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        (&["serve", "--listen", "nowhere"], &[], "PUJO_LISTEN"),
        (&["serve"], &[("PUJO_DRAIN_TIMEOUT", "soon")], "PUJO_DRAIN_TIMEOUT"),
        (&["serve"], &[("PUJO_LISTN", "127.0.0.1:1")], "PUJO_LISTN"),
        (&["serve", "--tls", "files", "--tls-cert-path", "/nonexistent.pem"], &[], "PUJO_TLS_KEY_PATH"),
        (&["config"], &[("PUJO_MAX_CONNECTIONS", "0")], "PUJO_MAX_CONNECTIONS"),
    ];
    for (args, env, name) in cases {
        let out = binary(args, env).output().expect("run pujo");
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(name), "{stderr}");
    }
    // A missing certificate file is a start-up failure that names the file.
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().display().to_string();
    let out = binary(
        &[
            "serve",
            "--data-dir",
            &data,
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "off",
            "--tls-cert-path",
            "/no/cert.pem",
            "--tls-key-path",
            "/no/key.pem",
        ],
        &[("PUJO_LOG", "off")],
    )
    .output()
    .expect("run pujo");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/cert.pem"));
}

#[test]
fn config_prints_the_effective_values_and_their_origin() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("drain");
    std::fs::write(&file, "7s\n").expect("write");
    let out =
        binary(&["config", "--listen", "0.0.0.0:80"], &[("PUJO_DRAIN_TIMEOUT_FILE", file.to_str().expect("utf8"))])
            .output()
            .expect("run pujo");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("PUJO_LISTEN=0.0.0.0:80  # flag"), "{text}");
    assert!(text.contains("PUJO_DRAIN_TIMEOUT=7s  # file"), "{text}");
    assert!(text.contains("PUJO_LOG=info  # default"), "{text}");
}

#[tokio::test]
async fn healthcheck_exits_zero_for_a_live_server_and_one_otherwise() {
    let data = tempfile::tempdir().expect("dir");
    let (mut child, addr, _) = spawn_binary(data.path(), &[]).await;
    let url = format!("http://{addr}/ready");
    let ok = binary(&["healthcheck", "--url", &url], &[]).output().expect("run");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let missing = binary(&["healthcheck", "--url", &format!("http://{addr}/api/v1/none")], &[]).output().expect("run");
    assert_eq!(missing.status.code(), Some(1));
    signal(&child, "TERM");
    child.wait().expect("exit");
    let down = binary(&["healthcheck", "--url", &url], &[]).output().expect("run");
    assert_eq!(down.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&down.stderr).is_empty());
}

#[tokio::test]
async fn healthcheck_speaks_tls_to_a_self_signed_listener() {
    let data = tempfile::tempdir().expect("dir");
    let (mut child, addr, _) = spawn_binary_tls(data.path()).await;
    let url = format!("https://localhost:{}/health", addr.port());
    let ok = binary(&["healthcheck", "--insecure", "--url", &url], &[]).output().expect("run");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let strict = binary(&["healthcheck", "--url", &url], &[]).output().expect("run");
    assert_eq!(strict.status.code(), Some(1));
    signal(&child, "TERM");
    child.wait().expect("exit");
}

async fn spawn_binary_tls(data: &std::path::Path) -> (std::process::Child, std::net::SocketAddr, std::net::SocketAddr) {
    let port = common::free_port();
    let listen = format!("127.0.0.1:{port}");
    let data_s = data.display().to_string();
    let child = binary(
        &["serve", "--tls", "self-signed", "--listen", &listen, "--admin-listen", "off", "--data-dir", &data_s],
        &[("PUJO_LOG", "warn")],
    )
    .stdout(std::process::Stdio::null())
    .spawn()
    .expect("spawn");
    let addr: std::net::SocketAddr = listen.parse().expect("addr");
    let up = eventually(Duration::from_secs(10), || async move { TcpStream::connect(addr).await.is_ok() }).await;
    assert!(up);
    (child, addr, addr)
}

#[test]
fn version_names_the_release() {
    let out = binary(&["version"], &[]).output().expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(concat!("pujo ", env!("CARGO_PKG_VERSION"))));
}

#[tokio::test]
async fn every_request_is_logged_once_as_a_json_line() {
    let data = tempfile::tempdir().expect("dir");
    let port = common::free_port();
    let listen = format!("127.0.0.1:{port}");
    let data_s = data.path().display().to_string();
    let child = binary(
        &["serve", "--listen", &listen, "--admin-listen", "off", "--data-dir", &data_s],
        &[("PUJO_LOG_FORMAT", "json")],
    )
    .stdout(std::process::Stdio::piped())
    .spawn()
    .expect("spawn");
    let addr: std::net::SocketAddr = listen.parse().expect("addr");
    let up = eventually(Duration::from_secs(10), || async move { TcpStream::connect(addr).await.is_ok() }).await;
    assert!(up);
    let answer = get(&format!("http://{addr}/pandals/kumartuli"), &[("x-request-id", "trace-42")]).await;
    assert_eq!(answer.status, StatusCode::OK);
    signal(&child, "TERM");
    let output = child.wait_with_output().expect("exit");
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let access: Vec<_> = lines.iter().filter(|l| l["target"] == "pujo::access").collect();
    assert_eq!(access.len(), 1, "{lines:?}");
    let line = access[0];
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/{*spa}");
    assert_eq!(line["status"], 200);
    assert_eq!(line["request_id"], "trace-42");
    assert!(line["duration_ms"].as_f64().is_some_and(|d| d >= 0.0));
    assert!(lines.iter().any(|l| l["message"] == "stopped"), "the buffer is flushed at exit");
}

/// Sends `GET /health` with `Connection: close` on a new connection and says how long
/// the answer took.
async fn timed_health(addr: std::net::SocketAddr) -> Duration {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.expect("request");
    let answer = read_all(&mut s, Duration::from_secs(10)).await.expect("answered");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    started.elapsed()
}

#[tokio::test]
async fn new_connections_over_a_clients_pace_wait_their_turn_and_open_ones_are_not_slowed() {
    let app = spawn_app_with(&[("connection-rate", "4"), ("connection-burst", "2")]).await;
    // A browser's connection, kept open.
    let mut kept = TcpStream::connect(app.addr).await.expect("connect");
    let mut buf = vec![0u8; 4096];
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("request");
    assert!(kept.read(&mut buf).await.expect("answer") > 0);
    // The burst: two more at once.
    for _ in 0..2 {
        assert!(timed_health(app.addr).await < Duration::from_millis(200));
    }
    // Over the pace: the next waits for its turn, a quarter of a second on.
    let addr = app.addr;
    let paced = tokio::spawn(async move { timed_health(addr).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The open connection is answered at once meanwhile.
    let started = Instant::now();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("request");
    assert!(kept.read(&mut buf).await.expect("answer") > 0);
    assert!(started.elapsed() < Duration::from_millis(150), "{:?}", started.elapsed());
    assert!(!paced.is_finished(), "a connection over the pace was served at once");
    let waited = paced.await.expect("task");
    assert!(waited >= Duration::from_millis(180), "{waited:?}");
    // The admin listener (Prometheus, the kubelet) is not paced.
    for _ in 0..6 {
        assert!(timed_health(app.admin).await < Duration::from_millis(200));
    }
    let metrics = get(&app.admin_url("/metrics"), &[]).await;
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.lines().any(|l| l.starts_with("http_connections_paced_total{listener=\"public\",outcome=\"delayed\"} ")),
        "{text}"
    );
}

#[tokio::test]
async fn a_connection_further_than_the_longest_wait_from_its_turn_is_closed_at_once() {
    let app = spawn_app_with(&[("connection-rate", "1"), ("connection-burst", "0")]).await;
    let addr = app.addr;
    // Turns at 0, 1, ... 5 s are kept waiting; the next is closed unanswered.
    let waiting: Vec<_> = (0..6).map(|_| TcpStream::connect(addr)).collect();
    let mut held = Vec::new();
    for w in waiting {
        held.push(w.await.expect("connect"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut refused = TcpStream::connect(addr).await.expect("the kernel accepts it");
    refused.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n").await.ok();
    let answer = read_all(&mut refused, Duration::from_secs(2)).await.expect("closed at once, not held");
    assert_eq!(answer, "");
}
