//! The request pipeline shared by every listener: routing, middleware, headers.
//!
//! Every request gets a request id and is routed once, by [`service`]; its answer then
//! gets security headers, metrics, an access log line and the request id ([`Done`]).
//! The embedded site is answered from memory at once; everything else goes through
//! JSON compression -> timeout -> a turn (`http::turns`) -> panic guard -> the
//! endpoint's handler. The route
//! template labels metrics even for answers the inner layers produce (such as a 408).
//!
//! What only the pipeline reads (routes, the site's files, HSTS, request ids) is its
//! own [`Pipeline`]; handlers reach [`AppState`] alone.

pub mod redirect;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use http::{HeaderValue, Request, Response, header};
use http_body_util::BodyExt;
use hyper::body::Body as _;
use hyper::body::Incoming;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};

use crate::api::{self, ADMIN_ROUTES, Endpoint, PUBLIC_ROUTES};
use crate::assets::Assets;
use crate::http::turns::{Deferred, Turns};
use crate::http::{Answer, Body, Counted, HttpService, PathParams, PeerAddr, X_REQUEST_ID, security_headers};
use crate::state::AppState;

/// What the pipeline alone reads, beside the state it hands to handlers.
#[derive(Debug)]
pub struct Pipeline {
    pub state: Arc<AppState>,
    pub assets: Assets,
    public_routes: Routes,
    admin_routes: Routes,
    /// The Strict-Transport-Security value when serving TLS.
    hsts: Option<HeaderValue>,
    request_ids: RequestIds,
    /// How many of the public listeners' requests are worked on at once.
    turns: Arc<Turns>,
}

impl Pipeline {
    pub fn new(state: Arc<AppState>, hsts: Option<HeaderValue>) -> Pipeline {
        Pipeline {
            assets: Assets::load(),
            public_routes: Routes::new(PUBLIC_ROUTES),
            admin_routes: Routes::new(ADMIN_ROUTES),
            hsts,
            request_ids: RequestIds::new(),
            turns: Arc::new(Turns::new(
                state.config.max_active_requests,
                state.config.max_waiting_requests,
                state.metrics.requests_waiting.clone(),
                state.metrics.requests_turned_away.clone(),
            )),
            state,
        }
    }
}

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

fn route(pipeline: &Pipeline, listener: Listener, path: &str) -> (Routed, Option<PathParams>) {
    let routes = match listener {
        Listener::Public => &pipeline.public_routes,
        Listener::Admin => &pipeline.admin_routes,
    };
    if let Ok(m) = routes.router.at(path) {
        let (endpoint, template) = *m.value;
        let params = PathParams(m.params.iter().map(|(_, v)| v.to_owned()).collect());
        return (Routed { target: Target::Endpoint(endpoint), template }, Some(params));
    }
    (route_elsewhere(pipeline, listener, path), None)
}

fn route_elsewhere(pipeline: &Pipeline, listener: Listener, path: &str) -> Routed {
    match listener {
        Listener::Admin => Routed { target: Target::NotFound, template: "unmatched" },
        Listener::Public if path == "/api" || path.starts_with("/api/") => {
            Routed { target: Target::ApiNotFound, template: "/api/unmatched" }
        }
        Listener::Public => {
            let (found, template) = pipeline.assets.find(path);
            Routed { target: Target::Site(found), template }
        }
    }
}

/// Builds the pipeline for one listener.
pub fn service(pipeline: Arc<Pipeline>, listener: Listener) -> HttpService {
    let compress_json = SizeAbove::new(crate::http::COMPRESS_ABOVE).and(
        |_: http::StatusCode, _: http::Version, h: &http::HeaderMap, _: &http::Extensions| {
            h.get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/plain; version=0.0.4"))
        },
    );
    let inner = pipeline.clone();
    // Handlers that may wait on I/O run under a timeout and get JSON compression.
    let handlers = ServiceBuilder::new().layer(CompressionLayer::new().compress_when(compress_json)).service_fn(
        move |mut req: Request<Incoming>| {
            let pipeline = inner.clone();
            async move {
                let state = &pipeline.state;
                let routed = req.extensions().get::<Routed>().copied();
                // Uploads from phones on slow networks get longer than other requests.
                let upload = matches!(*req.method(), http::Method::POST | http::Method::PATCH)
                    && routed.is_some_and(|r| UPLOAD_ROUTES.contains(&r.template));
                let limit = if upload { state.config.upload_timeout } else { state.config.request_timeout };
                let counted = listener == Listener::Public && !upload && !routed.is_some_and(is_probe);
                // A write whose body is still coming takes its turn once the body has
                // arrived (`api::extract::read_body`): slow senders hold no turn. Reads
                // take theirs at once, whatever they send: their handlers read no body.
                let writes = matches!(*req.method(), http::Method::POST | http::Method::PUT | http::Method::PATCH);
                let mut later = None;
                if counted && writes && !req.body().is_end_stream() {
                    if pipeline.turns.refuses() {
                        // Turned away before its body is read and its handler runs.
                        return Ok(api::ApiError::Busy.into_response());
                    }
                    let (deferred, held) = Deferred::new(pipeline.turns.clone());
                    req.extensions_mut().insert(deferred);
                    later = Some(held);
                }
                // A panicking handler costs its own request a 500, never the process.
                let answer = tokio::time::timeout(limit, async {
                    let _turn = if counted && later.is_none() {
                        match pipeline.turns.take().await {
                            Ok(turn) => Some(turn),
                            // As many wait as may: 503 now rather than 408 later.
                            Err(_) => return Ok(api::ApiError::Busy.into_response()),
                        }
                    } else {
                        None
                    };
                    // Boxed: an upload's handler future is large, and the layers above
                    // would otherwise hold it on the stack of whatever polls them.
                    Box::pin(AssertUnwindSafe(handle(&pipeline, req)).catch_unwind()).await
                })
                .await;
                drop(later);
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
        let request_id = pipeline.request_ids.for_request(req.headers());
        let (routed, params) = route(&pipeline, listener, req.uri().path());
        if let Target::Site(found) = routed.target {
            // The site is answered from memory, here and now: nothing to wait for, time
            // out or compress, so no future is boxed for it.
            let response = pipeline.assets.serve(&req, found);
            let done = Done { listener, template: routed.template, started, request_id };
            return Answer::Ready(done.finish(&pipeline, req.method(), response));
        }
        let pipeline = pipeline.clone();
        let handlers = handlers.clone();
        Answer::Later(
            async move {
                let method = req.method().clone();
                // The site's requests are answered before their call returns: never in flight.
                let _in_flight = Counted::enter(&pipeline.state.metrics.requests_in_flight);
                // Only handlers read these (the first extension allocates the request's
                // extension map).
                req.extensions_mut().insert(peer);
                req.extensions_mut().insert(routed);
                req.extensions_mut().insert(crate::http::RequestId(request_id.clone()));
                if let Some(params) = params {
                    req.extensions_mut().insert(params);
                }
                let response = handlers.oneshot(req).await.unwrap_or_else(|never| match never {});
                let done = Done { listener, template: routed.template, started, request_id };
                done.finish(&pipeline, &method, response.map(BodyExt::boxed_unsync))
            }
            .boxed(),
        )
    })
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
    fn finish(self, pipeline: &Pipeline, method: &http::Method, mut response: Response<Body>) -> Response<Body> {
        finish_headers(pipeline, &mut response);
        let state = &pipeline.state;
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

/// The routes whose requests (a multipart upload, a resumable upload's chunks) may
/// run for `PUJO_UPLOAD_TIMEOUT`.
const UPLOAD_ROUTES: [&str; 5] = [
    "/api/v1/albums/{id}/photos",
    "/api/v1/guest/{token}/photos",
    "/api/v1/guest/{token}/uploads",
    "/api/v1/uploads",
    "/api/v1/uploads/{id}",
];

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

/// The load balancer's and the kubelet's probes: answered however busy the process is.
fn is_probe(routed: Routed) -> bool {
    matches!(routed.target, Target::Endpoint(Endpoint::Ready | Endpoint::Health | Endpoint::ApiHealth))
}

async fn handle(pipeline: &Pipeline, req: Request<Incoming>) -> Response<Body> {
    let routed = req.extensions().get::<Routed>().copied();
    match routed.map(|r| r.target) {
        Some(Target::Endpoint(endpoint)) => api::dispatch(endpoint, pipeline.state.clone(), req).await,
        Some(Target::ApiNotFound) => api::not_found(),
        Some(Target::Site(found)) => pipeline.assets.serve(&req, found),
        Some(Target::NotFound) | None => api::not_found(),
    }
}

/// Security headers: every response gets nosniff and a CSP; HTML gets the full set.
fn finish_headers(pipeline: &Pipeline, response: &mut Response<Body>) {
    let not_modified = response.status() == http::StatusCode::NOT_MODIFIED;
    let h = response.headers_mut();
    // The site's files carry theirs already, built at start-up.
    if !h.contains_key(header::X_CONTENT_TYPE_OPTIONS) {
        security_headers(h, not_modified);
    }
    if let Some(hsts) = &pipeline.hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
