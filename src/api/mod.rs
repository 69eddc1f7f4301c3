//! The JSON API and the probes: every JSON shape and error code lives under this module.

mod accounts;
mod meta;
mod probes;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::Serialize;

use crate::app::AppState;
use crate::db::DbError;
use crate::http::{Body, full};

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
    Me,
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
    ("/api/v1/me", Endpoint::Me),
];

/// Route templates of the admin listener (not routed by the public ingress).
pub const ADMIN_ROUTES: &[(&str, Endpoint)] =
    &[("/metrics", Endpoint::Metrics), ("/health", Endpoint::Health), ("/ready", Endpoint::Ready)];

/// Answers one request for an endpoint the router matched.
pub async fn dispatch(endpoint: Endpoint, state: Arc<AppState>, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && let Err(e) = csrf_check(req.headers()) {
        return e.into_response();
    }
    let result = match (endpoint, &method) {
        (Endpoint::Health, &Method::GET | &Method::HEAD) => Ok(probes::health(&state)),
        (Endpoint::Ready, &Method::GET | &Method::HEAD) => Ok(probes::ready(&state).await),
        (Endpoint::Metrics, &Method::GET | &Method::HEAD) => Ok(probes::metrics(&state)),
        (Endpoint::ApiHealth, &Method::GET | &Method::HEAD) => Ok(probes::health(&state)),
        (Endpoint::OpenApi, &Method::GET | &Method::HEAD) => Ok(meta::openapi()),
        (Endpoint::CspReport, &Method::POST) => meta::csp_report(&state, req).await,
        (Endpoint::CspReport, _) => Err(ApiError::MethodNotAllowed("POST")),
        (Endpoint::Register, &Method::POST) => accounts::register(&state, req).await,
        (Endpoint::Login, &Method::POST) => accounts::login(&state, req).await,
        (Endpoint::Logout, &Method::POST) => accounts::logout(&state, req).await,
        (Endpoint::Me, &Method::GET | &Method::HEAD) => accounts::me(&state, req).await,
        (Endpoint::Register | Endpoint::Login | Endpoint::Logout, _) => Err(ApiError::MethodNotAllowed("POST")),
        _ => Err(ApiError::MethodNotAllowed("GET, HEAD")),
    };
    let mut response = result.unwrap_or_else(ApiError::into_response);
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
            ApiError::Csrf => StatusCode::FORBIDDEN,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn into_response(self) -> Response<Body> {
        if let ApiError::Internal(source) = &self {
            // The cause stays in the log; the client only learns that it was not its fault.
            tracing::error!(error = %source, "internal error");
        }
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
        let fields = match &self {
            ApiError::Fields(fields) => Some(fields.clone()),
            ApiError::Conflict(field) => Some(BTreeMap::from([((*field).to_owned(), "already taken".to_owned())])),
            _ => None,
        };
        let envelope = Envelope { error: Inner { code: self.code(), message: self.to_string(), fields } };
        let mut response = json(self.status(), &envelope);
        match self {
            ApiError::MethodNotAllowed(allow) => {
                response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
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
/// `Sec-Fetch-Site`, or by an `Origin` whose host is not this request's host.
fn csrf_check(headers: &http::HeaderMap) -> Result<(), ApiError> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(ApiError::Csrf);
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        if origin == "null" || origin_host.is_empty() || !origin_host.eq_ignore_ascii_case(host) {
            return Err(ApiError::Csrf);
        }
    }
    Ok(())
}

/// Parses a JSON request body of at most `limit` bytes into `T`; unknown fields and
/// wrong types are 422 naming the field, never 500.
pub async fn parse_json<T: serde::de::DeserializeOwned>(req: Request<Incoming>, limit: usize) -> Result<T, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.split(';').next().map(str::trim) != Some("application/json") {
        return Err(ApiError::UnsupportedMediaType("application/json"));
    }
    let body = read_body(req, limit).await?;
    serde_json::from_slice(&body).map_err(|e| {
        let message = e.to_string();
        // serde names the field in backticks: "unknown field `x`", "missing field `y`".
        match message.split('`').nth(1) {
            Some(field) if message.contains(" field `") => ApiError::Fields(BTreeMap::from([(
                field.to_owned(),
                message.split(" at line").next().unwrap_or("").to_owned(),
            )])),
            _ => ApiError::Validation(format!("the body is not valid JSON for this request: {message}")),
        }
    })
}

/// The JSON body of a panic caught by the middleware: the same envelope as any error.
pub fn panic_response() -> Response<Body> {
    ApiError::Internal("handler panicked".into()).into_response()
}

/// A JSON response with the given status.
pub fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    let bytes = serde_json::to_vec(value).expect("API values serialize");
    let mut response = Response::new(full(bytes));
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
