//! The API's one error type and its envelope: a stable code, a message, the fields at
//! fault; also the answers the pipeline gives in the same envelope (404, 408, 500).

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;

use crate::db::DbError;
use crate::http::Body;

use super::extract::json_bytes;

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
    /// Turned away: as many requests as may wait for a turn already do
    /// (`http::turns`).
    #[error("the server is busy; try again in a second")]
    Busy,
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("unsupported media type; send {0}")]
    UnsupportedMediaType(&'static str),
    #[error("{0}")]
    PreconditionFailed(&'static str),
    /// Another request is writing to the same resumable upload now (tus: 423).
    #[error("another request is sending this upload's bytes; ask for its offset and resume")]
    Locked,
    /// A resumable upload's chunk at an offset other than the acknowledged one.
    #[error("the upload is at offset {0}; send the bytes from there")]
    OffsetMismatch(i64),
    /// A resumable upload's chunk whose `Upload-Checksum` did not match (tus: 460).
    #[error("the chunk's checksum does not match its bytes; it was not kept")]
    ChecksumMismatch,
    /// A new guest's first upload, or a registration, without the proof of work it
    /// needs (`GET /api/v1/proof`).
    #[error("this request needs a proof of work: {0} zero bits (see /api/v1/proof)")]
    ProofRequired(u32),
    /// A share link with a password this browser has not given (yet).
    #[error("this link needs its password")]
    PasswordRequired,
    /// Something that was there and is no more for good, such as an expired link.
    #[error("{0}")]
    Expired(&'static str),
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
            ApiError::Busy => "busy",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::Locked => "locked",
            ApiError::OffsetMismatch(_) => "offset_mismatch",
            ApiError::ChecksumMismatch => "checksum_mismatch",
            ApiError::PasswordRequired => "password_required",
            ApiError::ProofRequired(_) => "proof_required",
            ApiError::Expired(_) => "expired",
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
            ApiError::Unavailable | ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Locked => StatusCode::LOCKED,
            ApiError::OffsetMismatch(_) => StatusCode::CONFLICT,
            ApiError::ChecksumMismatch => StatusCode::from_u16(460).expect("a valid status"),
            ApiError::PasswordRequired => StatusCode::UNAUTHORIZED,
            ApiError::ProofRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::Expired(_) => StatusCode::GONE,
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
            ApiError::OffsetMismatch(offset) => {
                response.headers_mut().insert("upload-offset", HeaderValue::from(offset));
            }
            ApiError::Unavailable => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            ApiError::Busy => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
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

/// The JSON body of a panic caught by the middleware: the same envelope as any error.
pub fn panic_response() -> Response<Body> {
    ApiError::Internal("handler panicked".into()).into_response()
}

/// The answer to a request that outlasted its time limit: 408 in the error envelope
/// every other failure uses, so a client reads one shape.
pub fn timeout_response() -> Response<Body> {
    ApiError::Timeout.into_response()
}
