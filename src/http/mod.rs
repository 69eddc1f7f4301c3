//! The request pipeline shared by every listener: routing, middleware, headers.
//!
//! Every request gets a request id and is routed once, by [`service`]; its answer then
//! gets security headers, metrics, an access log line and the request id ([`Done`]).
//! The embedded site is answered from memory at once; everything else goes through
//! timeout -> JSON compression -> panic guard -> the endpoint's handler. The route
//! template labels metrics even for answers the inner layers produce (such as a 408).

pub mod client;
pub mod redirect;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use std::panic::AssertUnwindSafe;

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use http::{HeaderValue, Request, Response, header};
use http_body_util::{BodyExt, Empty, Full, combinators::UnsyncBoxBody};
use hyper::body::Incoming;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};

use crate::api::{self, Endpoint};
use crate::app::AppState;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Every response body: in-memory bytes now, streams from the blob store later.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;
/// A listener's whole request pipeline, shared by its connections: called with the
/// connection's peer and a request, it answers. A function rather than a tower
/// service, so a request costs no clone of the pipeline and no readiness poll; and a
/// site request, answered at once, no boxed future either.
pub type HttpService = Arc<dyn Fn(PeerAddr, Request<Incoming>) -> Answer + Send + Sync>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

/// A stream of bytes (a blob from the store) as a response body.
pub fn streamed(stream: impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static) -> Body {
    use futures_util::TryStreamExt;
    // UnsyncBoxBody needs no Sync; the stream is Send.
    http_body_util::StreamBody::new(stream.map_ok(http_body::Frame::data).map_err(BoxError::from)).boxed_unsync()
}

pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// Whether `If-None-Match` values name `etag`: `*`, or one of a comma-separated list,
/// compared weakly (`W/` ignored on either side), as RFC 9110 asks for GET and HEAD.
pub fn names_etag<'a>(if_none_match: impl IntoIterator<Item = &'a HeaderValue>, etag: &str) -> bool {
    let ours = etag.strip_prefix("W/").unwrap_or(etag);
    if_none_match
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == ours)
}

/// The address a connection came from (a load balancer's, behind one); in every
/// request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// The values of a route template's `{parameters}`, in order; in the extensions of
/// requests routed to an endpoint.
#[derive(Debug, Clone, Default)]
pub struct PathParams(pub Vec<String>);

/// Which listener a pipeline serves; they route differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Public,
    Admin,
}

impl Listener {
    pub fn label(self) -> &'static str {
        match self {
            Listener::Public => "public",
            Listener::Admin => "admin",
        }
    }
}

/// The routes of one listener, matched by template.
#[derive(Debug)]
pub struct Routes {
    router: matchit::Router<(Endpoint, &'static str)>,
}

impl Routes {
    pub fn new(table: &'static [(&'static str, Endpoint)]) -> Routes {
        let mut router = matchit::Router::new();
        for (template, endpoint) in table {
            router.insert(*template, (*endpoint, *template)).expect("route templates do not overlap");
        }
        Routes { router }
    }
}

/// What the router decided for a request; stored in its extensions.
#[derive(Debug, Clone, Copy)]
enum Target {
    Endpoint(Endpoint),
    ApiNotFound,
    Site(crate::assets::Found),
    NotFound,
}

#[derive(Debug, Clone, Copy)]
struct Routed {
    target: Target,
    template: &'static str,
}

fn route(state: &AppState, listener: Listener, path: &str) -> (Routed, Option<PathParams>) {
    let routes = match listener {
        Listener::Public => &state.public_routes,
        Listener::Admin => &state.admin_routes,
    };
    if let Ok(m) = routes.router.at(path) {
        let (endpoint, template) = *m.value;
        let params = PathParams(m.params.iter().map(|(_, v)| v.to_owned()).collect());
        return (Routed { target: Target::Endpoint(endpoint), template }, Some(params));
    }
    (route_elsewhere(state, listener, path), None)
}

fn route_elsewhere(state: &AppState, listener: Listener, path: &str) -> Routed {
    match listener {
        Listener::Admin => Routed { target: Target::NotFound, template: "unmatched" },
        Listener::Public if path == "/api" || path.starts_with("/api/") => {
            Routed { target: Target::ApiNotFound, template: "/api/unmatched" }
        }
        Listener::Public => {
            let (found, template) = state.assets.find(path);
            Routed { target: Target::Site(found), template }
        }
    }
}

/// Builds the pipeline for one listener.
pub fn service(state: Arc<AppState>, listener: Listener) -> HttpService {
    let compress_json =
        SizeAbove::new(1024).and(|_: http::StatusCode, _: http::Version, h: &http::HeaderMap, _: &http::Extensions| {
            h.get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/plain; version=0.0.4"))
        });
    let inner_state = state.clone();
    // Handlers that may wait on I/O run under a timeout and get JSON compression.
    let handlers = ServiceBuilder::new().layer(CompressionLayer::new().compress_when(compress_json)).service_fn(
        move |req: Request<Incoming>| {
            let state = inner_state.clone();
            async move {
                // Uploads from phones on slow networks get longer than other requests.
                let upload = req.method() == http::Method::POST
                    && req.extensions().get::<Routed>().is_some_and(|r| r.template == UPLOAD_ROUTE);
                let limit = if upload { state.config.upload_timeout } else { state.config.request_timeout };
                // A panicking handler costs its own request a 500, never the process.
                let answer = tokio::time::timeout(limit, AssertUnwindSafe(handle(state, req)).catch_unwind()).await;
                Ok::<_, Infallible>(match answer {
                    Ok(Ok(response)) => response,
                    Ok(Err(_)) => api::panic_response(),
                    Err(_) => api::timeout_response(),
                })
            }
        },
    );
    Arc::new(move |peer: PeerAddr, mut req: Request<Incoming>| {
        let started = Instant::now();
        let request_id = state.request_ids.for_request(req.headers());
        let (routed, params) = route(&state, listener, req.uri().path());
        if let Target::Site(found) = routed.target {
            // The site is answered from memory, here and now: nothing to wait for, time
            // out or compress, so no future is boxed for it.
            let response = state.assets.serve(&req, found);
            let done = Done { listener, template: routed.template, started, request_id };
            return Answer::Ready(done.finish(&state, req.method(), response));
        }
        let state = state.clone();
        let handlers = handlers.clone();
        Answer::Later(
            async move {
                let method = req.method().clone();
                let _in_flight = InFlight::start(&state);
                // Only handlers read these (the first extension allocates the request's
                // extension map).
                req.extensions_mut().insert(peer);
                req.extensions_mut().insert(routed);
                if let Some(params) = params {
                    req.extensions_mut().insert(params);
                }
                let response = handlers.oneshot(req).await.unwrap_or_else(|never| match never {});
                let done = Done { listener, template: routed.template, started, request_id };
                done.finish(&state, &method, response.map(BodyExt::boxed_unsync))
            }
            .boxed(),
        )
    })
}

/// A pipeline's answer to one request: made at once (the embedded site, from memory),
/// or to be awaited (a handler, which may wait on I/O).
pub enum Answer {
    Ready(Response<Body>),
    Later(BoxFuture<'static, Response<Body>>),
}

/// What every answer gets once it is made: security headers, its metrics, its access
/// log line and its request id.
struct Done {
    listener: Listener,
    template: &'static str,
    started: Instant,
    request_id: HeaderValue,
}

impl Done {
    fn finish(self, state: &AppState, method: &http::Method, mut response: Response<Body>) -> Response<Body> {
        finish_headers(state, &mut response);
        let status = response.status();
        let elapsed = self.started.elapsed();
        state.metrics.observe_request(method, self.template, status, elapsed);
        if state.config.access_log {
            crate::telemetry::access(
                self.listener.label(),
                method.as_str(),
                self.template,
                status.as_u16(),
                elapsed,
                self.request_id.to_str().unwrap_or(""),
            );
        }
        // Moved, not cloned: a clone of a freshly made value would allocate.
        response.headers_mut().insert(X_REQUEST_ID, self.request_id);
        response
    }
}

/// The one route whose requests may run for `PUJO_UPLOAD_TIMEOUT`.
const UPLOAD_ROUTE: &str = "/api/v1/albums/{id}/photos";

pub(crate) const X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// Request ids: the caller's `X-Request-Id` when it is sane (the ALB or a client may set
/// one), otherwise a per-process random prefix and a counter (no syscall per request).
#[derive(Debug)]
pub struct RequestIds {
    prefix: String,
    next: AtomicU64,
}

impl RequestIds {
    pub fn new() -> RequestIds {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        RequestIds { prefix: format!("{:016x}", h.finish()), next: AtomicU64::new(1) }
    }

    fn for_request(&self, headers: &http::HeaderMap) -> HeaderValue {
        if let Some(given) = headers.get(X_REQUEST_ID) {
            let ok = (1..=128).contains(&given.len())
                && given.as_bytes().iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:/=+".contains(b));
            if ok {
                return given.clone();
            }
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        // `<prefix>-<n in hex>`, written into a stack buffer: one copy, no formatting.
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut id = [0u8; 16 + 1 + 16];
        let prefix = self.prefix.as_bytes();
        id[..prefix.len()].copy_from_slice(prefix);
        id[prefix.len()] = b'-';
        let digits = (64 - n.leading_zeros()).div_ceil(4).max(1) as usize;
        let start = prefix.len() + 1;
        for i in 0..digits {
            id[start + i] = DIGITS[((n >> (4 * (digits - 1 - i))) & 0xF) as usize];
        }
        HeaderValue::from_bytes(&id[..start + digits]).expect("hex is a valid header value")
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        RequestIds::new()
    }
}

/// Counts a handler's request in flight for as long as it lives (the site's are
/// answered before their call returns, so they are never in flight).
struct InFlight<'a>(&'a AppState);

impl<'a> InFlight<'a> {
    fn start(state: &'a AppState) -> InFlight<'a> {
        state.metrics.requests_in_flight.inc();
        InFlight(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.metrics.requests_in_flight.dec();
    }
}

async fn handle(state: Arc<AppState>, req: Request<Incoming>) -> Response<Body> {
    let routed = req.extensions().get::<Routed>().copied();
    match routed.map(|r| r.target) {
        Some(Target::Endpoint(endpoint)) => api::dispatch(endpoint, state, req).await,
        Some(Target::ApiNotFound) => api::not_found(),
        Some(Target::Site(found)) => state.assets.serve(&req, found),
        Some(Target::NotFound) | None => api::not_found(),
    }
}

const CSP_HTML: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; font-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'; report-uri /api/v1/csp-report";
const CSP_OTHER: &str = "default-src 'none'; frame-ancestors 'none'";
const PERMISSIONS: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";

/// Security headers: every response gets nosniff and a CSP; HTML gets the full set.
fn finish_headers(state: &AppState, response: &mut Response<Body>) {
    let not_modified = response.status() == http::StatusCode::NOT_MODIFIED;
    let h = response.headers_mut();
    // The site's files carry theirs already, built at start-up.
    if !h.contains_key(header::X_CONTENT_TYPE_OPTIONS) {
        security_headers(h, not_modified);
    }
    if let Some(hsts) = &state.hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
    }
}

/// The security headers of a response, by its content type: `nosniff` on all; for HTML
/// the strict CSP, referrer, framing, permissions and opener policies; for anything
/// else a CSP that allows nothing, unless the response set its own. A 304 gets only
/// `nosniff`: a browser copies a 304's headers onto the response it kept, so a policy
/// here would replace the page's own (a 304 has no content type to choose by).
pub fn security_headers(h: &mut http::HeaderMap, not_modified: bool) {
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if not_modified {
        return;
    }
    let is_html = h.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_html {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP_HTML));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert("permissions-policy", HeaderValue::from_static(PERMISSIONS));
        h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    } else if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP_OTHER));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_match_strong_weak_lists_and_star() {
        let names = |inm: &'static str, etag: &str| names_etag([&HeaderValue::from_static(inm)], etag);
        assert!(names("\"abc\"", "\"abc\""));
        assert!(names("W/\"abc\"", "\"abc\""));
        assert!(names("\"abc\"", "W/\"abc\""));
        assert!(names("\"x\", \"abc\"", "\"abc\""));
        assert!(names("*", "\"abc\""));
        assert!(!names("\"abd\"", "\"abc\""));
        let two = [HeaderValue::from_static("\"x\""), HeaderValue::from_static("\"abc\"")];
        assert!(names_etag(&two, "\"abc\""), "several If-None-Match lines");
    }

    #[test]
    fn request_ids_are_the_prefix_and_the_counter_in_hex() {
        let ids = RequestIds::new();
        for n in [1u64, 9, 10, 15, 16, 255, 4096, 0xdead_beef, u64::MAX - 1] {
            ids.next.store(n, Ordering::Relaxed);
            let id = ids.for_request(&http::HeaderMap::new());
            assert_eq!(id.to_str().expect("ascii"), format!("{}-{n:x}", ids.prefix));
        }
    }
}
