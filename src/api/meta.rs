//! The API's description of itself, and the browser's reports about it.

use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;

use super::{ApiError, read_body};
use crate::http::{Body, full};
use crate::state::AppState;

/// The OpenAPI 3.1 document of every endpoint, kept beside the code it describes.
const OPENAPI: &str = include_str!("openapi.json");

/// Largest CSP report accepted; browsers send a few hundred bytes.
const CSP_REPORT_LIMIT: usize = 16 * 1024;

pub fn openapi() -> Response<Body> {
    let mut response = Response::new(full(OPENAPI));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Records a Content-Security-Policy violation report sent by a browser.
pub async fn csp_report(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !matches!(media, "application/csp-report" | "application/reports+json" | "application/json") {
        return Err(ApiError::UnsupportedMediaType("application/csp-report or application/reports+json"));
    }
    let limit = CSP_REPORT_LIMIT.min(state.config.max_body_bytes);
    let body = read_body(req, limit).await?;
    let report: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::Validation(format!("the report is not valid JSON: {e}")))?;
    // Both report formats carry the directive and the blocked URL; log those, bounded.
    let find = |key: &str| -> String {
        let found = report.pointer(&format!("/csp-report/{key}")).or_else(|| report.pointer(&format!("/0/body/{key}")));
        found.and_then(|v| v.as_str()).unwrap_or("").chars().take(200).collect()
    };
    state.metrics.csp_reports.inc();
    tracing::warn!(
        directive = %find("violated-directive"),
        effective_directive = %find("effectiveDirective"),
        blocked = %find("blocked-uri"),
        blocked_url = %find("blockedURL"),
        "content security policy violation reported"
    );
    let mut response = Response::new(crate::http::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}
