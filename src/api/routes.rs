//! The route tables of both listeners, dispatch to the handlers, and the cross-site
//! check every unsafe request passes first.

use std::sync::Arc;

use http::{HeaderValue, Method, Request, Response, header};
use hyper::body::Incoming;

use crate::http::Body;
use crate::state::AppState;

use super::*;

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
    MyExport,
    AdminAudit,
    User,
    Albums,
    Album,
    AlbumLink,
    AlbumShares,
    AlbumShare,
    Shared,
    SharedPhotos,
    SharedUnlock,
    UploadLinks,
    UploadLink,
    UploadLinkQr,
    Guest,
    GuestPhotos,
    GuestUploads,
    Review,
    PendingMedia,
    Proof,
    AlbumWall,
    PandalWall,
    SharedWall,
    PhotoReport,
    CommentReport,
    Reports,
    ReportAct,
    PandalModerators,
    PandalReview,
    MyModeration,
    PandalModerator,
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
    Uploads,
    Upload,
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
    ("/api/v1/me/export", Endpoint::MyExport),
    ("/api/v1/me/moderates", Endpoint::MyModeration),
    ("/api/v1/admin/audit", Endpoint::AdminAudit),
    ("/api/v1/users/{username}", Endpoint::User),
    ("/api/v1/albums", Endpoint::Albums),
    ("/api/v1/albums/{id}", Endpoint::Album),
    ("/api/v1/albums/{id}/link", Endpoint::AlbumLink),
    ("/api/v1/albums/{id}/shares", Endpoint::AlbumShares),
    ("/api/v1/albums/{id}/shares/{share_id}", Endpoint::AlbumShare),
    ("/api/v1/shared/{token}", Endpoint::Shared),
    ("/api/v1/shared/{token}/photos", Endpoint::SharedPhotos),
    ("/api/v1/shared/{token}/unlock", Endpoint::SharedUnlock),
    ("/api/v1/albums/{id}/upload-links", Endpoint::UploadLinks),
    ("/api/v1/albums/{id}/upload-links/{link_id}", Endpoint::UploadLink),
    ("/api/v1/albums/{id}/upload-links/{link_id}/qr.svg", Endpoint::UploadLinkQr),
    ("/api/v1/albums/{id}/review", Endpoint::Review),
    ("/api/v1/guest/{token}", Endpoint::Guest),
    ("/api/v1/guest/{token}/photos", Endpoint::GuestPhotos),
    ("/api/v1/guest/{token}/uploads", Endpoint::GuestUploads),
    ("/api/v1/proof", Endpoint::Proof),
    ("/media/pending/{id}/{variant}", Endpoint::PendingMedia),
    ("/api/v1/albums/{id}/wall", Endpoint::AlbumWall),
    ("/api/v1/pandals/{id}/wall", Endpoint::PandalWall),
    ("/api/v1/shared/{token}/wall", Endpoint::SharedWall),
    ("/api/v1/photos/{id}/report", Endpoint::PhotoReport),
    ("/api/v1/comments/{id}/report", Endpoint::CommentReport),
    ("/api/v1/reports", Endpoint::Reports),
    ("/api/v1/reports/{id}", Endpoint::ReportAct),
    ("/api/v1/pandals/{id}/moderators", Endpoint::PandalModerators),
    ("/api/v1/pandals/{id}/review", Endpoint::PandalReview),
    ("/api/v1/pandals/{id}/moderators/{username}", Endpoint::PandalModerator),
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
    ("/api/v1/uploads", Endpoint::Uploads),
    ("/api/v1/uploads/{id}", Endpoint::Upload),
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
        && !matches!(
            endpoint,
            Endpoint::Health
                | Endpoint::Ready
                | Endpoint::Metrics
                | Endpoint::Media
                | Endpoint::PendingMedia
                | Endpoint::UploadLinkQr
                | Endpoint::AlbumWall
                | Endpoint::PandalWall
                | Endpoint::SharedWall
                | Endpoint::MyExport
        );
    let if_none_match: Vec<HeaderValue> =
        if conditional { req.headers().get_all(header::IF_NONE_MATCH).iter().cloned().collect() } else { Vec::new() };
    let accepted = if conditional { crate::http::Accepted::from(req.headers()) } else { Default::default() };
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
        Endpoint::MyExport => by_method!(as_get, GET => export::export(s, req).await),
        Endpoint::AdminAudit => by_method!(as_get, GET => audit::list(s, req).await),
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
        Endpoint::AlbumShares => by_method!(as_get,
            GET => shares::list(s, req).await,
            POST => shares::create(s, req).await,
        ),
        Endpoint::AlbumShare => by_method!(as_get, DELETE => shares::revoke(s, req).await),
        Endpoint::Shared => by_method!(as_get, GET => shares::open(s, req).await),
        Endpoint::SharedPhotos => by_method!(as_get, GET => shares::photos(s, req).await),
        Endpoint::SharedUnlock => by_method!(as_get, POST => shares::unlock(s, req).await),
        Endpoint::UploadLinks => by_method!(as_get,
            GET => guests::list(s, req).await,
            POST => guests::create(s, req).await,
        ),
        Endpoint::UploadLink => by_method!(as_get, DELETE => guests::revoke(s, req).await),
        Endpoint::UploadLinkQr => by_method!(as_get, GET => guests::qr(s, req).await),
        Endpoint::Review => by_method!(as_get,
            GET => guests::queue(s, req).await,
            POST => guests::review(s, req).await,
        ),
        Endpoint::Guest => by_method!(as_get, GET => guests::open(s, req).await),
        Endpoint::GuestPhotos => by_method!(as_get, POST => guests::upload(s, req).await),
        Endpoint::GuestUploads => by_method!(method,
            OPTIONS => uploads::options(s),
            POST => guests::create_upload(s, req).await,
        ),
        Endpoint::Proof => by_method!(as_get, GET => proof::challenge(s, req).await),
        Endpoint::PendingMedia => by_method!(as_get, GET => media::serve_pending(s, req).await),
        Endpoint::AlbumWall => by_method!(as_get, GET => wall::album(s, req).await),
        Endpoint::PandalWall => by_method!(as_get, GET => wall::pandal(s, req).await),
        Endpoint::SharedWall => by_method!(as_get, GET => wall::shared(s, req).await),
        Endpoint::PhotoReport => by_method!(as_get, POST => reports::report_photo(s, req).await),
        Endpoint::CommentReport => by_method!(as_get, POST => reports::report_comment(s, req).await),
        Endpoint::Reports => by_method!(as_get, GET => reports::list(s, req).await),
        Endpoint::ReportAct => by_method!(as_get, POST => reports::act(s, req).await),
        Endpoint::PandalModerators => by_method!(as_get, GET => reports::moderators(s, req).await),
        Endpoint::PandalReview => by_method!(as_get, GET => guests::pandal_queue(s, req).await),
        Endpoint::MyModeration => by_method!(as_get, GET => reports::moderates(s, req).await),
        Endpoint::PandalModerator => by_method!(as_get,
            PUT => reports::set_moderator(s, req, true).await,
            DELETE => reports::set_moderator(s, req, false).await,
        ),
        // tus: HEAD is its own request here, not a GET without a body.
        Endpoint::Uploads => by_method!(method,
            OPTIONS => uploads::options(s),
            POST => uploads::create(s, req).await,
        ),
        Endpoint::Upload => by_method!(method,
            HEAD => uploads::head(s, req).await,
            PATCH => uploads::patch(s, req).await,
            DELETE => uploads::delete(s, req).await,
        ),
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
    if matches!(endpoint, Endpoint::Uploads | Endpoint::Upload | Endpoint::GuestUploads) {
        // tus: every answer says the protocol version, errors too.
        response.headers_mut().insert("tus-resumable", HeaderValue::from_static(uploads::TUS_VERSION));
    }
    if conditional {
        response = cached::conditional(response, &if_none_match);
        response = cached::compressed(response, accepted);
    }
    if method == Method::HEAD {
        *response.body_mut() = crate::http::empty();
    }
    response
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
