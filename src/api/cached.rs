//! API answers through the edge cache: keys that name the viewer, ETags, 304s.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use sha2::{Digest, Sha256};

use super::ApiError;
use super::views::Query;
use crate::cache::{Answer, Fresh, Kind, Missing, Tag};
use crate::http::{Body, full};
use crate::state::AppState;

impl Missing for ApiError {
    fn is_not_found(&self) -> bool {
        matches!(self, ApiError::NotFound)
    }

    fn not_found_body() -> Bytes {
        ApiError::NotFound.envelope()
    }

    fn reissue(&self) -> ApiError {
        match self {
            ApiError::NotFound => ApiError::NotFound,
            ApiError::Unavailable => ApiError::Unavailable,
            ApiError::Busy => ApiError::Busy,
            ApiError::Timeout => ApiError::Timeout,
            ApiError::Forbidden(m) => ApiError::Forbidden(m),
            ApiError::Unauthorized(m) => ApiError::Unauthorized(m),
            ApiError::Validation(m) => ApiError::Validation(m.clone()),
            ApiError::Fields(f) => ApiError::Fields(f.clone()),
            other => ApiError::Internal(other.to_string().into()),
        }
    }
}

/// The cache key of a GET: the viewer (0 for anonymous) in clear, so that no two
/// people's answers can share a key, then a digest of the path and the parameters
/// the endpoint knows (anything else was refused).
fn key(query: &Query, viewer: i64) -> String {
    let digest = Sha256::digest(query.canonical().as_bytes());
    format!("{viewer}:{}", crate::util::hex(&digest[..16]))
}

/// Answers a GET from the edge cache, loading it with `load` on a miss. `own` are
/// the tags a 404 for this request depends on (the thing its path names).
pub async fn cached(
    state: &AppState,
    query: &Query,
    viewer: i64,
    kind: Kind,
    own: &[Tag],
    load: impl Future<Output = Result<Fresh, ApiError>>,
) -> Result<Response<Body>, ApiError> {
    // Boxed: the cache's futures are large, and handler futures nest them.
    let answer = Box::pin(state.cache.answer(&key(query, viewer), kind, own, Box::pin(load))).await?;
    Ok(respond(answer))
}

/// The JSON bytes of a response made by `api::json`, kept beside the body so that a
/// GET's answer can be given an ETag after the handler.
#[derive(Debug, Clone)]
pub struct JsonBody(pub Bytes);

/// Gives a GET's 200 JSON answer an ETag if it has none (answers that do not go
/// through the cache: `/me`, ...), and turns it into 304 when `If-None-Match` names it.
pub fn conditional(response: Response<Body>, if_none_match: &[HeaderValue]) -> Response<Body> {
    if response.status() != StatusCode::OK {
        return response;
    }
    let mut response = response;
    if !response.headers().contains_key(header::ETAG)
        && let Some(JsonBody(bytes)) = response.extensions().get::<JsonBody>()
        && let Ok(etag) = HeaderValue::from_str(&crate::cache::weak_etag(bytes))
    {
        response.headers_mut().insert(header::ETAG, etag);
    }
    let Some(etag) = response.headers().get(header::ETAG).and_then(|v| v.to_str().ok()) else { return response };
    if !crate::http::names_etag(if_none_match, etag) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.status = StatusCode::NOT_MODIFIED;
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, crate::http::empty())
}

/// The cached answer a response was made from, for [`compressed`].
#[derive(Debug, Clone)]
struct FromCache(Arc<Answer>);

/// A cached 200 answer in the coding the client takes best (brotli, then gzip), from
/// the copies kept with the answer: a hot list is compressed once per process, not
/// once a request. Anything else passes to the pipeline's compression as it is.
pub fn compressed(mut response: Response<Body>, accepted: crate::http::Accepted) -> Response<Body> {
    let Some(FromCache(answer)) = response.extensions_mut().remove::<FromCache>() else { return response };
    if response.status() != StatusCode::OK || answer.body.len() < usize::from(crate::http::COMPRESS_ABOVE) {
        return response;
    }
    let (coding, bytes) = if accepted.br {
        ("br", answer.brotli())
    } else if accepted.gzip {
        ("gzip", answer.gzip())
    } else {
        return response;
    };
    *response.body_mut() = full(bytes);
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    response
}

/// A cached answer as a response; `conditional` (in the dispatcher) turns it into a 304
/// when the client already holds it, and `compressed` gives it in the client's coding.
fn respond(answer: Arc<Answer>) -> Response<Body> {
    let mut response = Response::new(full(answer.body.clone()));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if answer.status == 200 {
        // The browser may keep it, but asks each time (a 304 when nothing changed).
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
        if let Ok(etag) = HeaderValue::from_str(&answer.etag) {
            headers.insert(header::ETAG, etag);
        }
    } else {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(header::VARY, HeaderValue::from_static("Cookie, Accept-Encoding"));
    response.extensions_mut().insert(FromCache(answer));
    response
}
