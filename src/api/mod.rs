//! The JSON API and the probes: every JSON shape and error code lives under this module.

mod accounts;
mod albums;
mod cached;
mod media;
mod meta;
pub mod multipart;
pub(crate) mod pandals;
mod photos;
mod probes;
pub(crate) mod views;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::Serialize;

use crate::db::DbError;
use crate::http::{Body, full};
use crate::state::AppState;

/// Which handler a route template leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Health,
    Ready,
    Metrics,
    ApiHealth,
    OpenApi,
    CspReport,
    Register,
    Login,
    Logout,
    Session,
    Me,
    MyPassword,
    User,
    Albums,
    Album,
    AlbumLink,
    AlbumPhotos,
    Photos,
    Photo,
    PhotoComments,
    PhotoLike,
    Comment,
    Pandals,
    PandalFacets,
    Pandal,
    Search,
    Media,
}

/// Route templates of the public listener. The template is also the metrics label.
pub const PUBLIC_ROUTES: &[(&str, Endpoint)] = &[
    ("/health", Endpoint::Health),
    ("/ready", Endpoint::Ready),
    ("/api/v1/health", Endpoint::ApiHealth),
    ("/api/v1/csp-report", Endpoint::CspReport),
    ("/api/openapi.json", Endpoint::OpenApi),
    ("/api/v1/auth/register", Endpoint::Register),
    ("/api/v1/auth/login", Endpoint::Login),
    ("/api/v1/auth/logout", Endpoint::Logout),
    ("/api/v1/auth/session", Endpoint::Session),
    ("/api/v1/me", Endpoint::Me),
    ("/api/v1/me/password", Endpoint::MyPassword),
    ("/api/v1/users/{username}", Endpoint::User),
    ("/api/v1/albums", Endpoint::Albums),
    ("/api/v1/albums/{id}", Endpoint::Album),
    ("/api/v1/albums/{id}/link", Endpoint::AlbumLink),
    ("/api/v1/albums/{id}/photos", Endpoint::AlbumPhotos),
    ("/api/v1/photos", Endpoint::Photos),
    ("/api/v1/photos/{id}", Endpoint::Photo),
    ("/api/v1/photos/{id}/comments", Endpoint::PhotoComments),
    ("/api/v1/photos/{id}/like", Endpoint::PhotoLike),
    ("/api/v1/comments/{id}", Endpoint::Comment),
    ("/api/v1/pandals", Endpoint::Pandals),
    ("/api/v1/pandals/facets", Endpoint::PandalFacets),
    ("/api/v1/pandals/{id}", Endpoint::Pandal),
    ("/api/v1/search", Endpoint::Search),
    ("/media/{id}/{variant}", Endpoint::Media),
];

/// Route templates of the admin listener (not routed by the public ingress).
pub const ADMIN_ROUTES: &[(&str, Endpoint)] =
    &[("/metrics", Endpoint::Metrics), ("/health", Endpoint::Health), ("/ready", Endpoint::Ready)];

/// Picks the handler for the request's method; any other method is 405 with `Allow`.
/// HEAD is answered as GET (without the body).
macro_rules! by_method {
    ($method:expr, $($name:ident => $handler:expr),+ $(,)?) => {
        match $method {
            $(Method::$name => $handler,)+
            _ => Err(ApiError::MethodNotAllowed(concat!($(stringify!($name), ", "),+))),
        }
    };
}

/// Answers one request for an endpoint the router matched.
pub async fn dispatch(endpoint: Endpoint, state: Arc<AppState>, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && let Err(e) = csrf_check(&req) {
        return e.into_response();
    }
    let as_get = if method == Method::HEAD { Method::GET } else { method.clone() };
    // API reads answer conditional requests (the probes and the media have their own rules).
    let conditional = as_get == Method::GET
        && !matches!(endpoint, Endpoint::Health | Endpoint::Ready | Endpoint::Metrics | Endpoint::Media);
    let if_none_match: Vec<HeaderValue> =
        if conditional { req.headers().get_all(header::IF_NONE_MATCH).iter().cloned().collect() } else { Vec::new() };
    let s = &state;
    let result = match endpoint {
        Endpoint::Health | Endpoint::ApiHealth => by_method!(as_get, GET => Ok(probes::health(s))),
        Endpoint::Ready => by_method!(as_get, GET => Ok(probes::ready(s).await)),
        Endpoint::Metrics => by_method!(as_get, GET => Ok(probes::metrics(s))),
        Endpoint::OpenApi => by_method!(as_get, GET => Ok(meta::openapi())),
        Endpoint::CspReport => by_method!(as_get, POST => meta::csp_report(s, req).await),
        Endpoint::Register => by_method!(as_get, POST => accounts::register(s, req).await),
        Endpoint::Login => by_method!(as_get, POST => accounts::login(s, req).await),
        Endpoint::Logout => by_method!(as_get, POST => accounts::logout(s, req).await),
        Endpoint::Session => by_method!(as_get, GET => accounts::session(s, req).await),
        Endpoint::Me => by_method!(as_get,
            GET => accounts::me(s, req).await,
            PATCH => accounts::update_me(s, req).await,
            DELETE => accounts::delete_me(s, req).await,
        ),
        Endpoint::MyPassword => by_method!(as_get, PUT => accounts::change_password(s, req).await),
        Endpoint::User => by_method!(as_get, GET => albums::profile(s, req).await),
        Endpoint::Albums => by_method!(as_get,
            GET => albums::list(s, req).await,
            POST => albums::create(s, req).await,
        ),
        Endpoint::Album => by_method!(as_get,
            GET => albums::get(s, req).await,
            PATCH => albums::update(s, req).await,
            DELETE => albums::delete(s, req).await,
        ),
        Endpoint::AlbumLink => by_method!(as_get, POST => albums::rotate_link(s, req).await),
        Endpoint::AlbumPhotos => by_method!(as_get,
            GET => albums::photos(s, req).await,
            POST => media::upload(s, req).await,
        ),
        Endpoint::Photos => by_method!(as_get, GET => photos::feed(s, req).await),
        Endpoint::Photo => by_method!(as_get,
            GET => photos::get(s, req).await,
            PATCH => photos::update(s, req).await,
            DELETE => photos::delete(s, req).await,
        ),
        Endpoint::PhotoComments => by_method!(as_get,
            GET => photos::comments(s, req).await,
            POST => photos::comment(s, req).await,
        ),
        Endpoint::PhotoLike => by_method!(as_get,
            PUT => photos::like(s, req, true).await,
            DELETE => photos::like(s, req, false).await,
        ),
        Endpoint::Comment => by_method!(as_get, DELETE => photos::delete_comment(s, req).await),
        Endpoint::Pandals => by_method!(as_get,
            GET => pandals::list(s, req).await,
            POST => pandals::create(s, req).await,
        ),
        Endpoint::PandalFacets => by_method!(as_get, GET => pandals::facets(s, req).await),
        Endpoint::Pandal => by_method!(as_get,
            GET => pandals::get(s, req).await,
            PATCH => pandals::update(s, req).await,
        ),
        Endpoint::Search => by_method!(as_get, GET => pandals::search(s, req).await),
        Endpoint::Media => by_method!(as_get, GET => media::serve(s, req).await),
    };
    let mut response = result.unwrap_or_else(ApiError::into_response);
    if conditional {
        response = cached::conditional(response, &if_none_match);
    }
    if method == Method::HEAD {
        *response.body_mut() = crate::http::empty();
    }
    response
}

/// The answer for a path under `/api/` that no route matches.
pub fn not_found() -> Response<Body> {
    ApiError::NotFound.into_response()
}

/// An API failure with a stable machine-readable code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed(&'static str),
    #[error("{0}")]
    Validation(String),
    #[error("some fields are not valid")]
    Fields(BTreeMap<String, String>),
    #[error("{0} is already taken")]
    Conflict(&'static str),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("too many attempts; try again in {0} seconds")]
    RateLimited(u64),
    #[error("the request took too long")]
    Timeout,
    #[error("cross-site request refused")]
    Csrf,
    #[error("temporarily unavailable; try again shortly")]
    Unavailable,
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("unsupported media type; send {0}")]
    UnsupportedMediaType(&'static str),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Validation(_) | ApiError::Fields(_) => "validation",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Timeout => "timeout",
            ApiError::Csrf => "csrf",
            ApiError::Unavailable => "unavailable",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Validation(_) | ApiError::Fields(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Csrf => StatusCode::FORBIDDEN,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body every error answers with: `{"error": {code, message, fields?}}`.
    pub fn envelope(&self) -> Bytes {
        #[derive(Serialize)]
        struct Envelope<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'a str,
            message: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            fields: Option<BTreeMap<String, String>>,
        }
        let fields = match self {
            ApiError::Fields(fields) => Some(fields.clone()),
            ApiError::Conflict(field) => Some(BTreeMap::from([((*field).to_owned(), "already taken".to_owned())])),
            _ => None,
        };
        let envelope = Envelope { error: Inner { code: self.code(), message: self.to_string(), fields } };
        Bytes::from(serde_json::to_vec(&envelope).expect("API values serialize"))
    }

    pub fn into_response(self) -> Response<Body> {
        if let ApiError::Internal(source) = &self {
            // The cause stays in the log; the client only learns that it was not its fault.
            tracing::error!(error = %source, "internal error");
        }
        let mut response = json_bytes(self.status(), self.envelope());
        match self {
            ApiError::MethodNotAllowed(allow) => {
                let allow = allow.trim_end_matches(", ");
                let allow =
                    if allow.split(", ").any(|m| m == "GET") { format!("{allow}, HEAD") } else { allow.to_owned() };
                if let Ok(v) = HeaderValue::from_str(&allow) {
                    response.headers_mut().insert(header::ALLOW, v);
                }
            }
            ApiError::RateLimited(seconds) => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            }
            ApiError::Unavailable => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::Conflict { field } => ApiError::Conflict(field),
            DbError::Gone => ApiError::NotFound,
            DbError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                ApiError::Unavailable
            }
            DbError::SchemaBehind { .. } => {
                tracing::warn!(error = %e, "database schema behind");
                ApiError::Unavailable
            }
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

/// Refuses an unsafe request that a browser says comes from another site: by
/// `Sec-Fetch-Site`, or by an `Origin` whose host and port are not this request's
/// authority. HTTP/2 (and HTTP/1.1 in absolute form) names the authority in the
/// request target (`:authority`), with no `Host` header; HTTP/1.1 in `Host`.
fn csrf_check<B>(req: &Request<B>) -> Result<(), ApiError> {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(ApiError::Csrf);
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let authority = match req.uri().authority() {
            Some(authority) => authority.as_str(),
            None => headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or(""),
        };
        if !same_origin(origin, authority) {
            return Err(ApiError::Csrf);
        }
    }
    Ok(())
}

/// Whether `origin` (`scheme://host[:port]`) names the host and port of `authority`
/// (`host[:port]`), a missing port standing for the origin scheme's default.
fn same_origin(origin: &str, authority: &str) -> bool {
    let Some((scheme, origin_authority)) = origin.split_once("://") else { return false };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return false,
    };
    let split = |a: &str| -> Option<(String, String)> {
        if a.is_empty() || a.contains(['/', '@', '?', '#']) {
            return None;
        }
        // An IPv6 literal keeps its brackets; the port is what follows the last ':' after them.
        let (host, port) = match a.rfind(':') {
            Some(i) if !a[i..].contains(']') => (&a[..i], &a[i + 1..]),
            _ => (a, default_port),
        };
        let port = if port.is_empty() { default_port } else { port };
        (!host.is_empty()).then(|| (host.to_ascii_lowercase(), port.to_owned()))
    };
    match (split(origin_authority), split(authority)) {
        (Some(o), Some(a)) => o == a,
        _ => false,
    }
}

/// Parses a JSON request body of at most `limit` bytes into `T`; unknown fields and
/// wrong types are 422 naming the field, never 500.
pub async fn parse_json<T: serde::de::DeserializeOwned>(req: Request<Incoming>, limit: usize) -> Result<T, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.split(';').next().map(str::trim) != Some("application/json") {
        return Err(ApiError::UnsupportedMediaType("application/json"));
    }
    let body = read_body(req, limit).await?;
    json_value(&body)
}

/// Deserializes `T` from JSON bytes, naming the field at fault.
pub fn json_value<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let message = e.inner().to_string();
        let message = message.split(" at line").next().unwrap_or("").to_owned();
        let path = e.path().to_string();
        // serde names an unknown or missing field in backticks: "unknown field `x`".
        let field = match message.split('`').nth(1) {
            Some(name) if message.contains(" field `") => Some(if path == "." { name.to_owned() } else { path }),
            _ if path != "." => Some(path),
            _ => None,
        };
        match field {
            Some(field) => ApiError::Fields(BTreeMap::from([(field, message)])),
            None => ApiError::Validation(format!("the body is not valid JSON for this request: {message}")),
        }
    })?;
    de.end().map_err(|e| ApiError::Validation(format!("the body has more than one JSON value: {e}")))?;
    Ok(value)
}

/// The JSON body of a panic caught by the middleware: the same envelope as any error.
pub fn panic_response() -> Response<Body> {
    ApiError::Internal("handler panicked".into()).into_response()
}

/// The answer to a request that outlasted its time limit: 408 in the error envelope
/// every other failure uses, so a client reads one shape.
pub fn timeout_response() -> Response<Body> {
    ApiError::Timeout.into_response()
}

/// 204 No Content.
pub fn no_content() -> Response<Body> {
    let mut response = Response::new(crate::http::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// A JSON response with the given status.
pub fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    json_bytes(status, Bytes::from(serde_json::to_vec(value).expect("API values serialize")))
}

/// A response with a JSON body already serialized.
fn json_bytes(status: StatusCode, bytes: Bytes) -> Response<Body> {
    let mut response = Response::new(full(bytes.clone()));
    response.extensions_mut().insert(cached::JsonBody(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Reads a request body of at most `limit` bytes; larger ones are refused as early as
/// their `Content-Length` (or their bytes) show it.
pub async fn read_body(req: Request<Incoming>, limit: usize) -> Result<Bytes, ApiError> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            Err(ApiError::PayloadTooLarge(limit))
        }
        Err(e) => Err(ApiError::Validation(format!("could not read the request body: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(uri: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::post(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).expect("request")
    }

    #[test]
    fn http2_requests_are_checked_against_their_authority() {
        // HTTP/2: the authority is in the request target, and there is no Host header.
        let ok = post("https://127.0.0.1:8443/api/v1/auth/register", &[("origin", "https://127.0.0.1:8443")]);
        assert!(csrf_check(&ok).is_ok());
        let other = post("https://127.0.0.1:8443/api/v1/auth/register", &[("origin", "https://evil.example")]);
        assert!(csrf_check(&other).is_err());
        // The authority wins over a Host header that says something else.
        let spoofed = post("https://127.0.0.1:8443/x", &[("origin", "https://evil.example"), ("host", "evil.example")]);
        assert!(csrf_check(&spoofed).is_err());
    }

    #[test]
    fn http1_requests_are_checked_against_host() {
        assert!(csrf_check(&post("/x", &[("origin", "http://pujo.test:8080"), ("host", "pujo.test:8080")])).is_ok());
        assert!(csrf_check(&post("/x", &[("origin", "http://pujo.test:8081"), ("host", "pujo.test:8080")])).is_err());
        assert!(csrf_check(&post("/x", &[("origin", "null"), ("host", "pujo.test")])).is_err());
        assert!(csrf_check(&post("/x", &[("origin", "http://pujo.test")])).is_err(), "no authority at all");
        assert!(csrf_check(&post("/x", &[("sec-fetch-site", "cross-site"), ("host", "pujo.test")])).is_err());
        assert!(csrf_check(&post("/x", &[("host", "pujo.test")])).is_ok(), "no Origin: not a browser form");
    }

    #[test]
    fn default_ports_and_case_do_not_matter() {
        assert!(same_origin("https://Pujo.Example", "pujo.example:443"));
        assert!(same_origin("https://pujo.example:443", "pujo.example"));
        assert!(same_origin("http://[::1]:8080", "[::1]:8080"));
        assert!(!same_origin("http://[::1]:8080", "[::1]:8081"));
        assert!(!same_origin("https://pujo.example", "pujo.example:80"));
        assert!(!same_origin("ftp://pujo.example", "pujo.example"));
        assert!(!same_origin("https://pujo.example.evil", "pujo.example"));
        assert!(!same_origin("https://a@pujo.example", "pujo.example"));
    }
}
