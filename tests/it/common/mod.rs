//! The integration-test harness: Pujo in-process on port 0 (or the real binary), a temp
//! data folder, and a small real HTTP client over TCP or rustls.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use pujo::app::{App, AppHandle};
use pujo::config::Config;
use tokio::net::TcpStream;

/// One test per backend for each listed function, so that a contract is written once
/// and holds on every backend: `per_backend!(Backend { sqlite: Sqlite, postgres:
/// Postgres } [a, b])` makes `sqlite::a`, `postgres::a`, ... each calling `a` with its
/// variant. The database suites list SQLite and PostgreSQL, the media suite the folder
/// and S3.
macro_rules! per_backend {
    ($kind:ident { $($module:ident: $variant:ident),+ $(,)? } $names:tt) => {
        $( per_backend!(@module $module $kind $variant $names); )+
    };
    (@module $module:ident $kind:ident $variant:ident [$($name:ident),* $(,)?]) => {
        mod $module {
            $( #[tokio::test] async fn $name() { super::$name(super::$kind::$variant).await } )*
        }
    };
}

/// A running in-process Pujo.
pub struct TestApp {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub redirect: Option<SocketAddr>,
    pub handle: AppHandle,
    pub data: tempfile::TempDir,
    pub task: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{}", self.admin, path)
    }
}

/// Settings every test starts from: free ports, quiet logs.
pub fn base_settings() -> Vec<(&'static str, String)> {
    vec![
        ("listen", "127.0.0.1:0".into()),
        ("admin-listen", "127.0.0.1:0".into()),
        ("log", "warn".into()),
        ("access-log", "false".into()),
    ]
}

/// A metric's value summed over the series whose labels include every `labels` pair.
pub async fn metric(app: &TestApp, name: &str, labels: &[(&str, &str)]) -> f64 {
    let text = get(&app.admin_url("/metrics"), &[]).await.text();
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts Pujo with extra `(setting, value)` pairs on top of [`base_settings`].
pub async fn spawn_app_with(extra: &[(&'static str, &str)]) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    spawn_app_in(data, extra).await
}

pub async fn spawn_app_in(data: tempfile::TempDir, extra: &[(&'static str, &str)]) -> TestApp {
    let mut flags = base_settings();
    flags.push(("data-dir", data.path().display().to_string()));
    flags.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let config = Config::from_sources(&flags, std::iter::empty()).expect("test config is valid");
    let app = App::build(config).await.expect("app builds");
    let (addr, admin, redirect) = (app.local_addr(), app.admin_addr().expect("admin on"), app.redirect_addr());
    let handle = app.handle();
    let task = tokio::spawn(app.run());
    TestApp { addr, admin, redirect, handle, data, task }
}

/// Stops an in-process Pujo gracefully and hands back its data folder, to start it again.
pub async fn stop(app: TestApp) -> tempfile::TempDir {
    app.handle.shutdown();
    app.task.await.expect("stopped");
    app.data
}

/// A response read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub version: http::Version,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// GET with extra headers over a fresh HTTP/1.1 connection.
pub async fn get(url: &str, headers: &[(&str, &str)]) -> Answer {
    send("GET", url, headers, Bytes::new()).await
}

pub async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Bytes) -> Answer {
    let uri: http::Uri = url.parse().expect("url");
    let authority = uri.authority().expect("authority").to_string();
    let stream = TcpStream::connect(&authority).await.expect("connect");
    let mut builder = Request::builder().method(method).uri(uri.path_and_query().expect("path").as_str());
    builder = builder.header("host", authority);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder.body(Full::new(body)).expect("request");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    let response = sender.send_request(request).await.expect("response");
    read(response).await
}

/// A multipart upload of one file (`a.jpg`) into `album` whose body the test sends a
/// piece at a time, as a phone on a slow network does: the file part's head goes at
/// once, then whatever [`HeldUpload::send`] is given, and [`HeldUpload::finish`] ends it.
pub struct HeldUpload {
    parts: tokio::sync::mpsc::Sender<Bytes>,
    response: tokio::task::JoinHandle<hyper::Result<http::Response<hyper::body::Incoming>>>,
    connection: tokio::task::JoinHandle<hyper::Result<()>>,
}

impl HeldUpload {
    pub async fn start(app: &TestApp, cookie: &str, album: i64) -> HeldUpload {
        let (parts, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
        let body = http_body_util::StreamBody::new(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|b| (Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(b)), rx))
        }));
        let request = Request::post(app.url(&format!("/api/v1/albums/{album}/photos")))
            .header("host", app.addr.to_string())
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .header("origin", format!("http://{}", app.addr))
            .header("cookie", cookie)
            .body(body)
            .expect("request");
        let tcp = TcpStream::connect(app.addr).await.expect("connect");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.expect("h1");
        let connection = tokio::spawn(conn);
        let response = tokio::spawn(sender.send_request(request));
        let upload = HeldUpload { parts, response, connection };
        upload.send("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n").await;
        upload
    }

    pub async fn send(&self, bytes: impl Into<Bytes>) {
        self.parts.send(bytes.into()).await.expect("send");
    }

    /// Sends the closing boundary: the server's answer.
    pub async fn finish(self) -> http::Response<hyper::body::Incoming> {
        self.send("\r\n--XyZ--\r\n").await;
        let HeldUpload { parts, response, connection } = self;
        drop(parts);
        let answer = response.await.expect("task").expect("response");
        connection.abort();
        answer
    }

    /// The phone gives up: the connection goes with nothing more sent.
    pub fn abandon(self) {
        self.response.abort();
        self.connection.abort();
    }
}

pub async fn read(response: http::Response<hyper::body::Incoming>) -> Answer {
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Answer { status: parts.status, headers: parts.headers, body, version: parts.version }
}

/// A rustls client that trusts exactly `ca_pem` and offers h2 and http/1.1.
pub fn tls_client(ca_pem: &[u8]) -> tokio_rustls::TlsConnector {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.expect("pem")).expect("root");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// GET over a new TLS connection; HTTP/2 when the server picks it by ALPN.
/// Returns the answer and the DER of the certificate the server presented.
pub async fn tls_get(addr: SocketAddr, ca_pem: &[u8], path: &str) -> (Answer, Vec<u8>) {
    tls_send(addr, ca_pem, "GET", path, &[], Bytes::new()).await
}

/// Any request over a new TLS connection, as a browser sends it: HTTP/2 when the
/// server picks it by ALPN (the authority then travels as `:authority`, with no
/// `Host` header), HTTP/1.1 with `Host` otherwise.
pub async fn tls_send(
    addr: SocketAddr,
    ca_pem: &[u8],
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> (Answer, Vec<u8>) {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
    let tls = tls_client(ca_pem).connect(name, tcp).await.expect("TLS handshake");
    let (_, session) = tls.get_ref();
    let presented = session.peer_certificates().expect("certificate")[0].to_vec();
    let h2 = session.alpn_protocol() == Some(b"h2");
    let uri = format!("https://localhost:{}{}", addr.port(), path);
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut request = builder.body(Full::new(body)).expect("request");
    let answer = if h2 {
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), TokioIo::new(tls))
                .await
                .expect("h2 handshake");
        tokio::spawn(conn);
        read(sender.send_request(request).await.expect("response")).await
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.expect("handshake");
        tokio::spawn(conn);
        let host = format!("localhost:{}", addr.port());
        request.headers_mut().insert("host", host.parse().expect("host"));
        read(sender.send_request(request).await.expect("response")).await
    };
    (answer, presented)
}

/// Writes a fresh self-signed certificate for localhost; returns (cert pem, key pem).
pub fn write_cert(dir: &Path, name: &str) -> (PathBuf, PathBuf, Vec<u8>) {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, generated.cert.pem()).expect("write cert");
    std::fs::write(&key, generated.signing_key.serialize_pem()).expect("write key");
    (cert, key, generated.cert.pem().into_bytes())
}

/// Polls `check` every 20 ms until it is true or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The real `pujo` binary with a clean environment plus `env`.
pub fn binary(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pujo"));
    cmd.args(args).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Starts `pujo serve` on free ports and waits until `/ready` answers 200.
pub async fn spawn_binary(data: &Path, extra_args: &[&str]) -> (Child, SocketAddr, SocketAddr) {
    let (port, admin) = (free_port(), free_port());
    let listen = format!("127.0.0.1:{port}");
    let admin_listen = format!("127.0.0.1:{admin}");
    let mut args = vec!["serve", "--listen", &listen, "--admin-listen", &admin_listen, "--data-dir"];
    let data = data.display().to_string();
    args.push(&data);
    args.extend_from_slice(extra_args);
    let child = binary(&args, &[("PUJO_LOG", "warn")]).stdout(Stdio::null()).spawn().expect("spawn pujo");
    let addr: SocketAddr = listen.parse().expect("addr");
    let ready = eventually(Duration::from_secs(10), || async move {
        match TcpStream::connect(addr).await {
            Ok(_) => get(&format!("http://{addr}/ready"), &[]).await.status == StatusCode::OK,
            Err(_) => false,
        }
    })
    .await;
    assert!(ready, "pujo did not become ready");
    (child, addr, admin_listen.parse().expect("addr"))
}

/// Sends a signal with the system's `kill`.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").arg(format!("-{name}")).arg(child.id().to_string()).status().expect("kill");
    assert!(status.success());
}

pub mod api;
pub mod db;
pub mod images;
pub mod pg;
pub mod redis;

/// A proof of work for a new guest's first upload (`X-Pujo-Proof`): a challenge from
/// the server, solved here as a browser would.
pub async fn guest_proof(app: &TestApp) -> String {
    proof(app, "guest").await
}

/// A proof of work for `purpose` (`guest` or `register`), found as a browser finds it.
pub async fn proof(app: &TestApp, purpose: &str) -> String {
    solve_proof(&get(&app.url(&format!("/api/v1/proof?for={purpose}")), &[]).await.json())
}

/// The answer to a challenge of `GET /api/v1/proof`: `salt:number`.
pub fn solve_proof(challenge: &serde_json::Value) -> String {
    use sha2::Digest;
    let salt = challenge["salt"].as_str().expect("salt").to_owned();
    let bits = u32::try_from(challenge["bits"].as_u64().expect("bits")).expect("bits");
    let zeros = |hash: &[u8]| {
        let mut n = 0;
        for b in hash {
            if *b == 0 {
                n += 8;
            } else {
                return n + b.leading_zeros();
            }
        }
        n
    };
    let number = (0u64..).find(|n| zeros(&sha2::Sha256::digest(format!("{salt}:{n}"))) >= bits).expect("a number");
    format!("{salt}:{number}")
}
