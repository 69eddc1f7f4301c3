//! The benchmark's ceiling: the smallest hyper server on the same stack as Pujo
//! (tokio multi-thread, hyper-util auto builder), answering one fixed response from
//! memory with no routing, middleware or logging. Given the headers Pujo sends for the
//! same file, it sends exactly those, so the comparison measures Pujo's work per
//! request and not the size of its headers. `docs/BENCHMARKS.md` compares Pujo
//! against it.
//!
//! Usage: bench_ceiling ADDR BODY_FILE [HEADERS_FILE]   (headers: one `Name: value` a line)

/// The same allocator as the `pujo` binary, so the ceiling stays the ceiling of Pujo's stack.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().expect("usage: bench_ceiling ADDR BODY_FILE [HEADERS_FILE]");
    let file = args.next().expect("usage: bench_ceiling ADDR BODY_FILE [HEADERS_FILE]");
    let body = Bytes::from(std::fs::read(&file).expect("readable file"));
    let mut headers = HeaderMap::new();
    if let Some(path) = args.next() {
        for line in std::fs::read_to_string(path).expect("readable headers").lines() {
            if let Some((name, value)) = line.split_once(':') {
                let name = HeaderName::from_bytes(name.trim().as_bytes()).expect("header name");
                headers.append(name, HeaderValue::from_str(value.trim()).expect("header value"));
            }
        }
    }
    let headers = Arc::new(headers);
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (body, headers) = (body.clone(), headers.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |_req| {
                let mut response = Response::new(Full::new(body.clone()));
                *response.headers_mut() = (*headers).clone();
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
