//! Reading requests and writing answers: JSON bodies within a byte limit (unknown
//! fields and wrong types are 422 naming the field), raw bodies, JSON and empty answers.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::Serialize;

use crate::http::turns::Deferred;
use crate::http::{Body, full};

use super::*;

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

/// 204 No Content.
pub fn no_content() -> Response<Body> {
    let mut response = Response::new(crate::http::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// An answer for its reader alone, kept by no cache (`private, no-store`): what a
/// link's holder, an album's reviewers or an admin read.
pub fn no_store(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

/// A JSON response with the given status.
pub fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    json_bytes(status, Bytes::from(serde_json::to_vec(value).expect("API values serialize")))
}

/// A response with a JSON body already serialized.
pub(super) fn json_bytes(status: StatusCode, bytes: Bytes) -> Response<Body> {
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
    let turn = req.extensions().get::<Deferred>().cloned();
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(collected) => {
            // The request's turn, now that its body is here (`http::turns`).
            if let Some(turn) = turn {
                turn.take().await.map_err(|_| ApiError::Busy)?;
            }
            Ok(collected.to_bytes())
        }
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            Err(ApiError::PayloadTooLarge(limit))
        }
        Err(e) => Err(ApiError::Validation(format!("could not read the request body: {e}"))),
    }
}
