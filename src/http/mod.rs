//! HTTP primitives every layer may use, importing no other Pujo module: the body type
//! and its constructors, what a listener's service is and answers, ETag matching, the
//! security headers, the client's address (`client_address`) and the turns requests
//! take to be worked on (`turns`).

pub mod client_address;
pub mod turns;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Request, Response, header};
use http_body_util::{BodyExt, Empty, Full, combinators::UnsyncBoxBody};
use hyper::body::Incoming;

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

/// The content codings a request accepts of those Pujo sends (the site's variants and
/// cached answers' copies), from one pass over `Accept-Encoding`: a coding is accepted
/// when named (or, if not named, covered by `*`) with q > 0. Brotli is preferred when
/// both are.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub br: bool,
    pub gzip: bool,
}

impl From<&HeaderMap> for Accepted {
    fn from(headers: &HeaderMap) -> Accepted {
        let (mut br, mut gzip, mut wildcard) = (None, None, None);
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or("").trim();
                let slot = if name.eq_ignore_ascii_case("br") {
                    &mut br
                } else if name.eq_ignore_ascii_case("gzip") {
                    &mut gzip
                } else if name == "*" {
                    &mut wildcard
                } else {
                    continue;
                };
                // The first mention of a coding is the one that counts.
                if slot.is_none() {
                    let q = parts
                        .find_map(|p| {
                            let p = p.trim();
                            // The parameter's name is case-insensitive (`Q=0` refuses too).
                            let value = p.get(..2).filter(|n| n.eq_ignore_ascii_case("q=")).map(|_| &p[2..]);
                            value.and_then(|q| q.trim().parse::<f32>().ok())
                        })
                        .unwrap_or(1.0);
                    *slot = Some(q > 0.0);
                }
            }
        }
        Accepted { br: br.or(wildcard).unwrap_or(false), gzip: gzip.or(wildcard).unwrap_or(false) }
    }
}

/// Bodies this size or larger are worth compressing; smaller ones go as they are.
pub const COMPRESS_ABOVE: u16 = 1024;

/// `bytes` in brotli, at a quality that costs little more than gzip's default.
pub fn brotli(bytes: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(bytes.len() / 4);
    let params = brotli::enc::BrotliEncoderParams { quality: 5, lgwin: 22, ..Default::default() };
    // Reading a slice and writing a Vec cannot fail.
    let _ = brotli::BrotliCompress(&mut &bytes[..], &mut out, &params);
    out.shrink_to_fit();
    out.into()
}

/// `bytes` in gzip, at its fastest level (nginx's default for what it compresses on the
/// fly): an answer is compressed again each time a write retires it, for clients that
/// do not take brotli (browsers do). A page of 48 photos' JSON comes out 12 % larger
/// than at the default level, for less than half the CPU; deflating was 8 % of Pujo's
/// CPU on a festival night (docs/BENCHMARKS.md), whose load generator asks for gzip.
pub fn gzip(bytes: &[u8]) -> Bytes {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4), flate2::Compression::fast());
    let _ = encoder.write_all(bytes);
    let mut out = encoder.finish().unwrap_or_default();
    out.shrink_to_fit();
    out.into()
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

/// Counts something in a gauge for as long as it lives, however it ends (answered,
/// or dropped with its client): requests in flight, requests waiting for a turn.
pub struct Counted<'a>(&'a prometheus::IntGauge);

impl<'a> Counted<'a> {
    pub fn enter(gauge: &'a prometheus::IntGauge) -> Counted<'a> {
        gauge.inc();
        Counted(gauge)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The address a connection came from (a load balancer's, behind one); in every
/// request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// The request's id (as the answer's `X-Request-Id` says it); in the extensions of
/// requests routed to an endpoint, for records that name the request.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

/// The values of a route template's `{parameters}`, in order; in the extensions of
/// requests routed to an endpoint.
#[derive(Debug, Clone, Default)]
pub struct PathParams(pub Vec<String>);

/// A pipeline's answer to one request: made at once (the embedded site, from memory),
/// or to be awaited (a handler, which may wait on I/O).
pub enum Answer {
    Ready(Response<Body>),
    Later(BoxFuture<'static, Response<Body>>),
}

pub(crate) const X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

const CSP_HTML: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; font-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'; report-uri /api/v1/csp-report";
const CSP_OTHER: &str = "default-src 'none'; frame-ancestors 'none'";
const PERMISSIONS: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";

/// The security headers of a response, by its content type: `nosniff` on all; for HTML
/// the strict CSP, referrer, framing, permissions and opener policies; for anything
/// else a CSP that allows nothing, unless the response set its own. A 304 gets only
/// `nosniff`: a browser copies a 304's headers onto the response it kept, so a policy
/// here would replace the page's own (a 304 has no content type to choose by).
pub fn security_headers(h: &mut HeaderMap, not_modified: bool) {
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

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(accept).expect("header"));
        h
    }

    #[test]
    fn accept_encoding_is_negotiated_with_q_values() {
        let accepted = |br, gzip| Accepted { br, gzip };
        assert_eq!(Accepted::from(&headers("gzip, deflate, br, zstd")), accepted(true, true));
        assert_eq!(Accepted::from(&headers("gzip, br;q=0")), accepted(false, true));
        assert_eq!(Accepted::from(&headers("GZIP;q=0.5, Br; q=0.1")), accepted(true, true));
        assert_eq!(Accepted::from(&headers("identity")), accepted(false, false));
        assert_eq!(Accepted::from(&headers("*")), accepted(true, true));
        assert_eq!(Accepted::from(&headers("*;q=0, gzip")), accepted(false, true));
        assert_eq!(Accepted::from(&headers("br;q=0, *")), accepted(false, true));
        assert_eq!(Accepted::from(&HeaderMap::new()), accepted(false, false));
        // The parameter's name is case-insensitive: `Q=0` refuses as `q=0` does.
        assert_eq!(Accepted::from(&headers("gzip;Q=0, br")), accepted(true, false));
        assert_eq!(Accepted::from(&headers("br; Q=0.5")), accepted(true, false));
        let mut two_lines = headers("deflate");
        two_lines.append(header::ACCEPT_ENCODING, HeaderValue::from_static("br"));
        assert_eq!(Accepted::from(&two_lines), accepted(true, false));
    }

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
}
