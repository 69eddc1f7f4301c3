//! The live wall's fan-out, for `scripts/bench/wall.sh`:
//! `bench_wall BASE_URL PUJO_PID CONNECTIONS APPROVALS`.
//!
//! Against a running Pujo: registers an owner, makes a public album and an upload
//! link, opens CONNECTIONS event streams to the album's wall (from as many loopback
//! addresses as the per-address bound needs), and reads the server's RSS before and
//! after they are open. Then APPROVALS times over: a guest sends a photo, the owner
//! approves it, and every stream's arrival of that photo is timed from the moment
//! the approval was sent. Prints one JSON object: idle memory per connection, and the
//! p50, p99 and last arrival of each approval and over all of them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

/// Streams per loopback address (the server allows 64 per address).
const PER_ADDRESS: usize = 60;

async fn request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> (u16, Vec<(String, String)>, Bytes) {
    let uri: http::Uri = format!("{base}{path}").parse().expect("url");
    let authority = uri.authority().expect("authority").to_string();
    let stream = tokio::net::TcpStream::connect(&authority).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    let mut builder =
        http::Request::builder().method(method).uri(path).header("host", &authority).header("origin", base);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let response = sender.send_request(builder.body(Full::new(body)).expect("request")).await.expect("response");
    let status = response.status().as_u16();
    let heads =
        response.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, heads, body)
}

fn json(body: &Bytes) -> serde_json::Value {
    serde_json::from_slice(body).expect("JSON")
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn jpeg(seed: u32) -> Vec<u8> {
    let (w, h) = (640u16, 480u16);
    let mut px = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..u32::from(h) {
        for x in 0..u32::from(w) {
            px.extend([(x * 255 / 640) as u8, (y * 255 / 480) as u8, ((seed * 37 + x + y) % 256) as u8]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85).encode(&px, w, h, jpeg_encoder::ColorType::Rgb).expect("encode");
    out
}

/// A new guest's proof of work, as a browser makes it.
async fn proof(base: &str) -> String {
    use sha2::Digest;
    let challenge = json(&request(base, "GET", "/api/v1/proof", &[], Bytes::new()).await.2);
    let salt = challenge["salt"].as_str().expect("salt").to_owned();
    let bits = challenge["bits"].as_u64().expect("bits") as u32;
    let zeros =
        |h: &[u8]| h.iter().position(|b| *b != 0).map_or(h.len() as u32 * 8, |i| i as u32 * 8 + h[i].leading_zeros());
    let n = (0u64..).find(|n| zeros(&sha2::Sha256::digest(format!("{salt}:{n}"))) >= bits).expect("a number");
    format!("{salt}:{n}")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args[1].trim_end_matches('/').to_owned();
    let pid: u32 = args[2].parse().expect("pid");
    let connections: usize = args[3].parse().expect("connections");
    let approvals: usize = args[4].parse().expect("approvals");
    let port: u16 = base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port in the URL");

    // The owner, a public album, an upload link.
    let who = format!("wall{}", std::process::id());
    let register =
        serde_json::json!({"username": who, "email": format!("{who}@pujo.example"), "password": "shiuli-phool-2026"});
    let (status, heads, _) = request(
        &base,
        "POST",
        "/api/v1/auth/register",
        &[("content-type", "application/json")],
        register.to_string().into(),
    )
    .await;
    assert_eq!(status, 201, "register");
    let cookie = heads
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap_or_default().to_owned())
        .expect("cookie");
    let authed = [("content-type", "application/json"), ("cookie", cookie.as_str())];
    let album =
        json(&request(&base, "POST", "/api/v1/albums", &authed, r#"{"title":"Wall bench"}"#.into()).await.2)["id"]
            .as_i64()
            .expect("album");
    let link =
        json(&request(&base, "POST", &format!("/api/v1/albums/{album}/upload-links"), &authed, "{}".into()).await.2);
    let token = link["token"].as_str().expect("token").to_owned();

    // The screens.
    let before = rss_kib(pid);
    let (events, mut arrivals) = tokio::sync::mpsc::unbounded_channel::<(usize, i64, Instant)>();
    let (ready, mut readies) = tokio::sync::mpsc::unbounded_channel::<usize>();
    let path = format!("/api/v1/albums/{album}/wall");
    for n in 0..connections {
        let (events, ready, path) = (events.clone(), ready.clone(), path.clone());
        let source =
            IpAddr::V4(Ipv4Addr::new(127, 0, 1 + (n / PER_ADDRESS / 250) as u8, 2 + (n / PER_ADDRESS % 250) as u8));
        tokio::spawn(async move {
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket.bind(SocketAddr::new(source, 0)).expect("bind a loopback address");
            let stream = socket.connect(SocketAddr::from(([127, 0, 0, 1], port))).await.expect("connect");
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
            tokio::spawn(conn);
            let request = http::Request::builder()
                .uri(&path)
                .header("host", format!("127.0.0.1:{port}"))
                .body(http_body_util::Empty::<Bytes>::new())
                .expect("request");
            let response = sender.send_request(request).await.expect("response");
            assert_eq!(response.status(), 200, "stream {n}");
            let mut body = response.into_body();
            let mut buf = String::new();
            let mut said_ready = false;
            while let Some(Ok(frame)) = body.frame().await {
                let Ok(data) = frame.into_data() else { continue };
                let at = Instant::now();
                buf.push_str(&String::from_utf8_lossy(&data));
                if !said_ready {
                    said_ready = true;
                    let _ = ready.send(n);
                }
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    if let Some(id) = block.lines().find_map(|l| l.strip_prefix("id: ")).and_then(|v| v.parse().ok()) {
                        let _ = events.send((n, id, at));
                    }
                }
            }
        });
    }
    for _ in 0..connections {
        readies.recv().await.expect("every stream opens");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);

    let mut all = Vec::new();
    let mut rounds = Vec::new();
    for round in 0..approvals {
        let (content_type, body) = {
            let boundary = "bench-wall-boundary";
            let mut body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .into_bytes();
            body.extend(jpeg(round as u32 + 1));
            body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
            (format!("multipart/form-data; boundary={boundary}"), Bytes::from(body))
        };
        let proof = proof(&base).await;
        let headers = [("content-type", content_type.as_str()), ("x-pujo-proof", proof.as_str())];
        let sent = request(&base, "POST", &format!("/api/v1/guest/{token}/photos"), &headers, body).await;
        assert_eq!(sent.0, 201, "guest upload: {:?}", sent.2);
        let pending = json(&sent.2)["items"][0]["id"].as_i64().expect("pending");
        let approve = serde_json::json!({"approve": [pending]}).to_string();
        let started = Instant::now();
        let done = request(&base, "POST", &format!("/api/v1/albums/{album}/review"), &authed, approve.into()).await;
        assert_eq!(done.0, 200, "approve");
        let photo = json(&done.2)["approved"][0]["photo_id"].as_i64().expect("photo");
        let mut got = Vec::with_capacity(connections);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while got.len() < connections {
            match tokio::time::timeout_at(deadline, arrivals.recv()).await {
                Ok(Some((_, id, at))) if id == photo => got.push(at.duration_since(started).as_secs_f64() * 1000.0),
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        got.sort_by(f64::total_cmp);
        rounds.push(serde_json::json!({
            "photo": photo,
            "received": got.len(),
            "p50_ms": percentile(&got, 0.5),
            "p99_ms": percentile(&got, 0.99),
            "last_ms": got.last().copied().unwrap_or(f64::NAN),
        }));
        all.extend(got);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    all.sort_by(f64::total_cmp);
    let lasts: Vec<f64> = rounds.iter().filter_map(|r| r["last_ms"].as_f64()).collect();
    let mut lasts_sorted = lasts.clone();
    lasts_sorted.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "connections": connections,
            "approvals": approvals,
            "rss_before_kib": before,
            "rss_after_kib": after,
            "kib_per_connection": (after.saturating_sub(before)) as f64 / connections as f64,
            "p50_ms": percentile(&all, 0.5),
            "p99_ms": percentile(&all, 0.99),
            "last_connection_p50_ms": percentile(&lasts_sorted, 0.5),
            "last_connection_max_ms": lasts_sorted.last().copied().unwrap_or(f64::NAN),
            "events": all.len(),
            "rounds": rounds,
        })
    );
    std::process::exit(0);
}
