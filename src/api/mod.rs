//! The JSON API and the probes: every JSON shape and error code lives under this module.

mod meta;
mod probes;

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::Serialize;

use crate::app::AppState;
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
}

/// Route templates of the public listener. The template is also the metrics label.
pub const PUBLIC_ROUTES: &[(&str, Endpoint)] = &[
    ("/health", Endpoint::Health),
    ("/ready", Endpoint::Ready),
    ("/api/v1/health", Endpoint::ApiHealth),
    ("/api/v1/csp-report", Endpoint::CspReport),
    ("/api/openapi.json", Endpoint::OpenApi),
];

/// Route templates of the admin listener (not routed by the public ingress).
pub const ADMIN_ROUTES: &[(&str, Endpoint)] =
    &[("/metrics", Endpoint::Metrics), ("/health", Endpoint::Health), ("/ready", Endpoint::Ready)];

/// Answers one request for an endpoint the router matched.
pub async fn dispatch(endpoint: Endpoint, state: Arc<AppState>, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let result = match (endpoint, &method) {
        (Endpoint::Health, &Method::GET | &Method::HEAD) => Ok(probes::health(&state)),
        (Endpoint::Ready, &Method::GET | &Method::HEAD) => Ok(probes::ready(&state).await),
        (Endpoint::Metrics, &Method::GET | &Method::HEAD) => Ok(probes::metrics(&state)),
        (Endpoint::ApiHealth, &Method::GET | &Method::HEAD) => Ok(probes::health(&state)),
        (Endpoint::OpenApi, &Method::GET | &Method::HEAD) => Ok(meta::openapi()),
        (Endpoint::CspReport, &Method::POST) => meta::csp_report(&state, req).await,
        (Endpoint::CspReport, _) => Err(ApiError::MethodNotAllowed("POST")),
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
            ApiError::Validation(_) => "validation",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
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
        }
        let envelope = Envelope { error: Inner { code: self.code(), message: self.to_string() } };
        let mut response = json(self.status(), &envelope);
        if let ApiError::MethodNotAllowed(allow) = self {
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
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
