//! The embedded React site: looked up in memory, never on disk.
//!
//! The build script stages `web/dist` with `.br` and `.gz` variants; at start-up each file
//! becomes an [`Asset`] with its headers prepared, so a request is one map lookup.
//! Unknown paths can never reach the filesystem: the map holds only what was embedded.

use std::collections::HashMap;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};

use crate::http::{Accepted, Body, full};

#[derive(rust_embed::Embed)]
#[folder = "$OUT_DIR/site"]
struct Site;

/// One representation of a file (identity, brotli or gzip), with the whole header set
/// of its 200 and of its 304 built at start-up: a request clones a map instead of
/// inserting a dozen headers (the pipeline adds only the request id, and HSTS).
#[derive(Debug, Clone)]
struct Variant {
    bytes: Bytes,
    etag: HeaderValue,
    headers: HeaderMap,
    not_modified: HeaderMap,
}

#[derive(Debug, Clone)]
pub struct Asset {
    identity: Variant,
    br: Option<Variant>,
    gzip: Option<Variant>,
}

/// Where a path leads in the site; found once, when the request is routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    File(usize),
    Spa,
    Missing,
}

/// The embedded site: paths without the leading slash, to files.
#[derive(Debug)]
pub struct Assets {
    /// Looked up with every site request; the keys are fixed at start-up, so a fast
    /// hasher seeded per process is enough.
    index: HashMap<String, usize, foldhash::fast::RandomState>,
    files: Vec<Asset>,
    index_html: usize,
}

/// Which route template served the request, for metrics and logs.
pub const ROUTE_INDEX: &str = "/";
pub const ROUTE_ASSET: &str = "/assets/*";
pub const ROUTE_FILE: &str = "/{file}";
pub const ROUTE_SPA: &str = "/{*spa}";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The service worker's own CSP. A worker's policy is the one sent with its script, and
/// Pujo's worker sends the upload queue itself (tus over `fetch` to its own origin) when
/// Background Sync wakes it with no page open: it may connect to its origin, and nothing
/// else (no scripts to import, no images, no frames), like every other non-HTML file.
const CSP_SERVICE_WORKER: &str = "default-src 'none'; connect-src 'self'; frame-ancestors 'none'";

/// A file's own CSP, where it needs another than the pipeline's (which leaves one set alone).
fn own_csp(name: &str) -> Option<&'static str> {
    (name == "sw.js").then_some(CSP_SERVICE_WORKER)
}

impl Assets {
    /// Indexes every embedded file; the site must contain `index.html`.
    pub fn load() -> Assets {
        let mut index = HashMap::default();
        let mut files = Vec::new();
        for name in Site::iter() {
            if name.ends_with(".br") || name.ends_with(".gz") {
                continue;
            }
            let Some(file) = Site::get(&name) else {
                continue;
            };
            let content_type = HeaderValue::from_static(content_type(&name));
            let cache_control =
                HeaderValue::from_static(if name.starts_with("assets/") { IMMUTABLE } else { REVALIDATE });
            let has_variants = Site::get(&format!("{name}.br")).is_some() || Site::get(&format!("{name}.gz")).is_some();
            let shared = Shared {
                content_type: &content_type,
                cache_control: &cache_control,
                has_variants,
                csp: own_csp(&name),
            };
            let variant = |suffix: &str| {
                Site::get(&format!("{name}.{suffix}"))
                    .map(|f| make_variant(to_bytes(f.data), &f.metadata.sha256_hash(), suffix, &shared))
            };
            let asset = Asset {
                br: variant("br"),
                gzip: variant("gz"),
                identity: make_variant(to_bytes(file.data), &file.metadata.sha256_hash(), "", &shared),
            };
            index.insert(name.into_owned(), files.len());
            files.push(asset);
        }
        let index_html = *index.get("index.html").expect("the embedded site has no index.html");
        Assets { index, files, index_html }
    }

    /// How many files the site has (variants not counted).
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// Where this path leads, and the route template it is served under.
    pub fn find(&self, raw_path: &str) -> (Found, &'static str) {
        let found = self.lookup(raw_path);
        let template = match found {
            Found::File(_) if raw_path == "/" => ROUTE_INDEX,
            Found::File(_) if raw_path.starts_with("/assets/") => ROUTE_ASSET,
            Found::File(_) | Found::Missing => ROUTE_FILE,
            Found::Spa => ROUTE_SPA,
        };
        (found, template)
    }

    fn lookup(&self, raw_path: &str) -> Found {
        let Some(path) = clean_path(raw_path) else {
            return Found::Missing;
        };
        let key = if path.is_empty() { "index.html" } else { &*path };
        if let Some(&i) = self.index.get(key) {
            return Found::File(i);
        }
        // Hashed bundles and anything that looks like a file must not turn into HTML:
        // a browser would try to run index.html as a script.
        let last = path.rsplit('/').next().unwrap_or("");
        if path.starts_with("assets/") || last.contains('.') {
            return Found::Missing;
        }
        Found::Spa
    }

    /// Serves GET and HEAD for the site, with negotiation and conditional requests.
    pub fn serve<B>(&self, req: &Request<B>, found: Found) -> Response<Body> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n", Some("GET, HEAD"));
        }
        let asset = match found {
            Found::File(i) => &self.files[i],
            Found::Spa => &self.files[self.index_html],
            Found::Missing => return plain(StatusCode::NOT_FOUND, "not found\n", None),
        };
        let accepted = Accepted::from(req.headers());
        let variant = match (&asset.br, &asset.gzip) {
            (Some(br), _) if accepted.br => Some(br),
            (_, Some(gzip)) if accepted.gzip => Some(gzip),
            _ => None,
        };
        let chosen = variant.unwrap_or(&asset.identity);
        let not_modified = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .is_some_and(|inm| crate::http::names_etag([inm], chosen.etag.to_str().unwrap_or("")));
        let body = if not_modified || req.method() == Method::HEAD {
            crate::http::empty()
        } else {
            full(chosen.bytes.clone())
        };
        let mut response = Response::new(body);
        if not_modified {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            *response.headers_mut() = chosen.not_modified.clone();
        } else {
            *response.headers_mut() = chosen.headers.clone();
        }
        response
    }
}

/// What every variant of one file has in common.
struct Shared<'a> {
    content_type: &'a HeaderValue,
    cache_control: &'a HeaderValue,
    has_variants: bool,
    csp: Option<&'static str>,
}

fn to_bytes(data: std::borrow::Cow<'static, [u8]>) -> Bytes {
    match data {
        std::borrow::Cow::Borrowed(b) => Bytes::from_static(b),
        std::borrow::Cow::Owned(v) => Bytes::from(v),
    }
}

fn make_variant(bytes: Bytes, sha256: &[u8; 32], suffix: &str, shared: &Shared<'_>) -> Variant {
    // Strong validators differ per content coding (RFC 9110 §8.8.3).
    let hex = crate::util::hex(&sha256[..12]);
    let tag = if suffix.is_empty() { format!("\"{hex}\"") } else { format!("\"{hex}-{suffix}\"") };
    let etag = HeaderValue::from_str(&tag).expect("hex is a valid header");
    let mut not_modified = HeaderMap::with_capacity(8);
    not_modified.insert(header::ETAG, etag.clone());
    not_modified.insert(header::CACHE_CONTROL, shared.cache_control.clone());
    if shared.has_variants {
        not_modified.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    let mut headers = not_modified.clone();
    headers.insert(header::CONTENT_TYPE, shared.content_type.clone());
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    match suffix {
        "br" => drop(headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"))),
        "gz" => drop(headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))),
        _ => {}
    }
    if let Some(csp) = shared.csp {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    // The security headers the pipeline would add, added once here (a CSP set above stays).
    crate::http::security_headers(&mut headers, false);
    crate::http::security_headers(&mut not_modified, true);
    // A place for the request id the pipeline sets on every response: a cloned map has
    // no spare room, so a header added to it would grow (reallocate) it per request.
    for map in [&mut headers, &mut not_modified] {
        map.insert(crate::http::X_REQUEST_ID, HeaderValue::from_static("-"));
    }
    Variant { bytes, etag, headers, not_modified }
}

/// Decodes the path and refuses anything that could name a parent folder or a hidden
/// file; the result has no leading slash.
fn clean_path(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8().ok()?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return None;
    }
    let trimmed = decoded.trim_start_matches('/');
    for segment in trimmed.split('/') {
        if segment == ".." || segment == "." || (segment.starts_with('.') && segment.len() > 1) {
            return None;
        }
    }
    // Most paths need no decoding: then no copy either.
    Some(match decoded {
        Cow::Borrowed(d) => Cow::Borrowed(d.trim_start_matches('/')),
        Cow::Owned(d) => Cow::Owned(d.trim_start_matches('/').to_owned()),
    })
}

fn plain(status: StatusCode, text: &'static str, allow: Option<&'static str>) -> Response<Body> {
    let mut response = Response::new(full(text));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    response
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_hidden_paths_are_refused() {
        for bad in
            ["/../etc/passwd", "/%2e%2e/etc/passwd", "/assets/..%2f..%2fCargo.toml", "/.git/config", "/a\\b", "/%00"]
        {
            assert_eq!(clean_path(bad), None, "{bad}");
        }
        assert_eq!(clean_path("/assets/app.js").as_deref(), Some("assets/app.js"));
        assert_eq!(clean_path("/pandals/kolkata%20north").as_deref(), Some("pandals/kolkata north"));
    }

    #[test]
    fn the_embedded_site_has_an_index_and_hashed_bundles() {
        let assets = Assets::load();
        assert_eq!(assets.find("/"), (Found::File(assets.index_html), ROUTE_INDEX));
        let bundle = assets.index.keys().find(|k| k.starts_with("assets/") && k.ends_with(".js"));
        let bundle = bundle.expect("a hashed JS bundle");
        assert!(assets.files[assets.index[bundle]].br.is_some(), "bundles get a brotli variant");
        assert_eq!(assets.find("/albums/42"), (Found::Spa, ROUTE_SPA));
        assert_eq!(assets.find(&format!("/{bundle}")), (Found::File(assets.index[bundle]), ROUTE_ASSET));
        assert_eq!(assets.find("/%2e%2e/etc/passwd").0, Found::Missing);
    }

    fn csp(variant: &Variant) -> &str {
        variant.headers.get(header::CONTENT_SECURITY_POLICY).map_or("", |v| v.to_str().unwrap())
    }

    #[test]
    fn the_service_worker_may_connect_to_its_origin_and_nothing_else_may() {
        let assets = Assets::load();
        let (Found::File(i), _) = assets.find("/sw.js") else { panic!("the embedded site has no sw.js") };
        let sw = &assets.files[i];
        let variants = [Some(&sw.identity), sw.br.as_ref(), sw.gzip.as_ref()];
        for variant in variants.into_iter().flatten() {
            assert_eq!(csp(variant), "default-src 'none'; connect-src 'self'; frame-ancestors 'none'");
            assert!(!variant.not_modified.contains_key(header::CONTENT_SECURITY_POLICY), "a 304 keeps the stored CSP");
        }
        // Every other script keeps the strict policy: no connections, nothing loaded.
        let bundle = assets.index.keys().find(|k| k.starts_with("assets/") && k.ends_with(".js")).expect("a bundle");
        let other = csp(&assets.files[assets.index[bundle]].identity);
        assert!(other.starts_with("default-src 'none'") && !other.contains("connect-src"), "{bundle}: {other}");
        let manifest = csp(&assets.files[assets.index["manifest.webmanifest"]].identity);
        assert!(!manifest.contains("connect-src"), "manifest.webmanifest: {manifest}");
        assert!(csp(&assets.files[assets.index_html].identity).contains("connect-src 'self'"), "the page's own CSP");
    }
}
