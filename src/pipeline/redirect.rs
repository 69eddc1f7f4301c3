//! The optional plain-HTTP listener: every request is sent to the HTTPS origin.

use std::sync::Arc;

use http::{HeaderValue, Request, Response, StatusCode, header, uri::Authority};
use hyper::body::Incoming;

use crate::http::{Answer, Body, HttpService, empty, full};

/// 308 to `https://host[:https_port]/path?query`; a missing or bad Host gets 400.
pub fn service(https_port: u16) -> HttpService {
    Arc::new(move |_, req: Request<Incoming>| Answer::Ready(redirect(&req, https_port)))
}

fn redirect<B>(req: &Request<B>, https_port: u16) -> Response<Body> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<Authority>().ok())
        .or_else(|| req.uri().authority().cloned());
    let Some(host) = host else {
        let mut response = Response::new(full("a Host header is required\n"));
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    };
    let port = if https_port == 443 { String::new() } else { format!(":{https_port}") };
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!("https://{}{}{}", host.host(), port, path);
    let mut response = Response::new(empty());
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    match HeaderValue::from_str(&location) {
        Ok(v) => {
            response.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => *response.status_mut() = StatusCode::BAD_REQUEST,
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_keep_host_path_and_query() {
        let req = Request::get("/pandals?city=kolkata").header("host", "pujo.example:8081").body(()).unwrap();
        let r = redirect(&req, 8443);
        assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(r.headers()[header::LOCATION], "https://pujo.example:8443/pandals?city=kolkata");
        let r = redirect(&req, 443);
        assert_eq!(r.headers()[header::LOCATION], "https://pujo.example/pandals?city=kolkata");
        let bad = Request::get("/").header("host", "a b").body(()).unwrap();
        assert_eq!(redirect(&bad, 443).status(), StatusCode::BAD_REQUEST);
    }
}
