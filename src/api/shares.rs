//! Share links: an album's owner opens a private or unlisted album to whoever holds a
//! link, with an optional expiry and password, for viewing or for viewing and
//! downloading, and revokes it at once.
//!
//! - The token is 256 random bits; only its SHA-256 is stored, so the owner sees it
//!   once, when the link is made (a lost link is revoked and made again).
//! - A holder sees exactly the album and its photos (as anybody would: the location
//!   only as coarse as the owner chose, no album key), and their media through
//!   `/media/{id}/{variant}?share=`, stripped as for everyone who is not the owner.
//! - A password is an argon2id hash, checked on the bounded hashing pool and limited
//!   per client and per link whatever the outcome; a browser that gave it gets a grant
//!   cookie for that link (a MAC keyed by the link's hash: nothing more is stored).
//! - Nothing a link shows goes through the edge cache: every answer reads the link's
//!   row, so a revoked or expired link opens nothing from the next request on.

use std::time::Duration;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::accounts::{cookie, require_user, set_cookie_named};
use super::albums::own_album;
use super::audit::{Origin, actor};
use super::views::{AlbumJson, Check, PageJson, PhotoJson, Query, path_id, path_param, rfc3339};
use super::{ApiError, json, no_store, parse_json};
use crate::db::{NewShareLink, ShareLink};
use crate::http::Body;
use crate::ratelimit::{SHARE_UNLOCKS_PER_CLIENT, SHARE_UNLOCKS_PER_LINK};
use crate::state::AppState;

const BODY_LIMIT: usize = 4 * 1024;

/// How long a browser that gave a link's password opens it without giving it again
/// (never past the link's expiry).
const GRANT_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The longest a link may be made to last.
const LONGEST: time::Duration = time::Duration::days(366);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewShareBody {
    #[serde(default)]
    label: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    allow_download: bool,
    #[serde(default)]
    expires_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnlockBody {
    password: String,
}

/// A link as its album's owner sees it; `token` and `url` only in the answer that
/// made it.
#[derive(Serialize)]
struct ShareJson {
    id: i64,
    album_id: i64,
    label: String,
    has_password: bool,
    allow_download: bool,
    expires_at: Option<String>,
    expired: bool,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

impl ShareJson {
    fn of(link: &ShareLink, token: Option<String>) -> ShareJson {
        ShareJson {
            id: link.id,
            album_id: link.album_id,
            label: link.label.clone(),
            has_password: link.password_hash.is_some(),
            allow_download: link.allow_download,
            expires_at: link.expires_at.map(rfc3339),
            expired: link.expired(OffsetDateTime::now_utc()),
            created_at: rfc3339(link.created_at),
            url: token.as_ref().map(|t| format!("/s/{t}")),
            token,
        }
    }
}

#[derive(Serialize)]
struct ItemsJson {
    items: Vec<ShareJson>,
}

/// What a link's holder sees first.
#[derive(Serialize)]
struct SharedJson {
    album: AlbumJson,
    allow_download: bool,
    expires_at: Option<String>,
}

/// `GET /api/v1/albums/{id}/shares`: the album's links, for its owner.
pub async fn list(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user = require_user(state, &req).await?;
    let album = own_album(state, path_id(&req, 0)?, user.id).await?;
    let links = state.db.share_links(album.id).await?;
    let body = ItemsJson { items: links.iter().map(|l| ShareJson::of(l, None)).collect() };
    Ok(no_store(json(StatusCode::OK, &body)))
}

/// `POST /api/v1/albums/{id}/shares`: a new link; its token is in this answer only.
pub async fn create(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    let album = own_album(state, path_id(&req, 0)?, user.id).await?;
    let body: NewShareBody = parse_json(req, BODY_LIMIT).await?;
    let mut check = Check::default();
    check.text("label", &body.label, 0, 80, false);
    if let Some(password) = &body.password {
        let chars = password.chars().count();
        if !(6..=200).contains(&chars) {
            check.fail("password", "between 6 and 200 characters");
        }
    }
    let expires_at = expiry(&mut check, body.expires_at.as_deref(), LONGEST);
    check.finish()?;
    let password_hash = match body.password {
        Some(password) => Some(state.passwords.hash(password).await.map_err(|_| ApiError::Unavailable)?),
        None => None,
    };
    let (token, token_hash) = crate::auth::new_session_token();
    let new = NewShareLink {
        album_id: album.id,
        token_hash,
        label: body.label.trim().to_owned(),
        password_hash,
        allow_download: body.allow_download,
        expires_at,
        created_by: user.id,
    };
    let link = state.db.create_share_link(&new).await?.ok_or(ApiError::Validation(format!(
        "an album has at most {} share links; revoke one first",
        crate::db::SHARE_LINKS_PER_ALBUM
    )))?;
    origin.record(state, actor(&user), "share.created", ("share_link", described(&link))).await;
    Ok(no_store(json(StatusCode::CREATED, &ShareJson::of(&link, Some(token)))))
}

/// An expiry given as RFC 3339: in the future and at most `longest` ahead (else a
/// named field error); none (absent or null) for a link that lasts until revoked.
pub(super) fn expiry(check: &mut Check, text: Option<&str>, longest: time::Duration) -> Option<OffsetDateTime> {
    let text = text?;
    let now = OffsetDateTime::now_utc();
    match OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        Ok(at) if at <= now => check.fail("expires_at", "must be in the future"),
        Ok(at) if at > now + longest => check.fail("expires_at", "at most a year from now"),
        Ok(at) => return Some(at),
        Err(_) => check.fail("expires_at", "an RFC 3339 time, such as 2026-10-24T18:00:00+05:30"),
    }
    None
}

/// `DELETE /api/v1/albums/{id}/shares/{share_id}`: the link opens nothing from now on.
pub async fn revoke(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    let album = own_album(state, path_id(&req, 0)?, user.id).await?;
    let id = path_id(&req, 1)?;
    if !state.db.delete_share_link(album.id, id).await? {
        return Err(ApiError::NotFound);
    }
    // Its live walls end now, on every replica (they read the link again).
    state.cache.publish(&state.db, &[crate::cache::Tag::Album(album.id)]).await;
    origin.record(state, actor(&user), "share.revoked", ("share_link", format!("{id} album {}", album.id))).await;
    Ok(super::no_content())
}

/// How a link is named in the audit log: its id, album and terms, never its token.
fn described(link: &ShareLink) -> String {
    let mut text = format!("{} album {}", link.id, link.album_id);
    if link.password_hash.is_some() {
        text.push_str(" password");
    }
    if link.allow_download {
        text.push_str(" download");
    }
    if let Some(at) = link.expires_at {
        text.push_str(" until ");
        text.push_str(&rfc3339(at));
    }
    text
}

/// `GET /api/v1/shared/{token}`: the album a link opens.
pub async fn open(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    Query::of(&req, &[])?;
    let (token, link) = opened(state, &req).await?;
    let album = state.db.shared_album(link.id).await?.ok_or(ApiError::NotFound)?;
    let body = SharedJson {
        album: AlbumJson::shared(album, &token),
        allow_download: link.allow_download,
        expires_at: link.expires_at.map(rfc3339),
    };
    Ok(no_store(json(StatusCode::OK, &body)))
}

/// `GET /api/v1/shared/{token}/photos?limit=&cursor=`: its photos, newest first.
pub async fn photos(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let query = Query::of(&req, &["limit", "cursor"])?;
    let page = query.page(super::views::MAX_LIMIT)?;
    let (token, link) = opened(state, &req).await?;
    let photos = state.db.shared_photos(link.id, page).await?;
    let body = PageJson::of(photos, |p| PhotoJson::shared(p, &token, link.allow_download));
    Ok(no_store(json(StatusCode::OK, &body)))
}

/// `POST /api/v1/shared/{token}/unlock`: the link's password; the answer sets the
/// grant cookie that opens the link in this browser.
pub async fn unlock(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = Origin::of(state, &req);
    let token = path_param(&req, 0).to_owned();
    let link = live_link(state, &token).await?;
    let Some(hash) = link.password_hash.clone() else {
        // Nothing to unlock: the link opens as it is.
        return Ok(super::no_content());
    };
    // Counted before the argon2 work, whatever its outcome: per client (an IPv6 /64
    // is one) and per link, so that guessing a link's password is slow from anywhere.
    let client = crate::http::client_address::client_bucket(state.client_ip(&req));
    state
        .limiter
        .hit(&format!("share:{}:{client}", link.id), SHARE_UNLOCKS_PER_CLIENT)
        .await
        .map_err(ApiError::RateLimited)?;
    state.limiter.hit(&format!("share:{}", link.id), SHARE_UNLOCKS_PER_LINK).await.map_err(ApiError::RateLimited)?;
    let body: UnlockBody = parse_json(req, BODY_LIMIT).await?;
    if body.password.chars().count() > 200 {
        return Err(ApiError::Unauthorized("wrong password"));
    }
    let ok = state.passwords.verify(body.password, Some(hash.clone())).await.map_err(|_| ApiError::Unavailable)?;
    if !ok {
        let who = crate::db::Actor::Anonymous { name: String::new() };
        origin.record(state, who, "share.unlock_failed", ("share_link", link.id.to_string())).await;
        return Err(ApiError::Unauthorized("wrong password"));
    }
    let now = OffsetDateTime::now_utc();
    let mut until = now + GRANT_LIFETIME;
    if let Some(expiry) = link.expires_at {
        until = until.min(expiry);
    }
    let grant = crate::auth::new_share_grant(link.id, until.unix_timestamp(), &hash);
    let max_age = (until - now).whole_seconds().max(0) as u64;
    let mut response = super::no_content();
    set_cookie_named(state, &mut response, &grant_cookie_named(state, link.id), &grant, max_age);
    Ok(response)
}

/// The link a token names, if it opens at all now: 404 for none (a malformed token
/// included), 410 `expired` once past its expiry.
pub(super) async fn live_link(state: &AppState, token: &str) -> Result<ShareLink, ApiError> {
    if !crate::auth::is_token(token) {
        return Err(ApiError::NotFound);
    }
    let link = state.db.share_link_by_token(&crate::auth::token_hash(token)).await?.ok_or(ApiError::NotFound)?;
    if link.expired(OffsetDateTime::now_utc()) {
        return Err(ApiError::Expired("this share link has expired"));
    }
    Ok(link)
}

/// The link of the request's path, opened: also 401 `password_required` while it has
/// a password this browser has not given.
async fn opened(state: &AppState, req: &Request<Incoming>) -> Result<(String, ShareLink), ApiError> {
    let token = path_param(req, 0).to_owned();
    let link = opened_link(state, req, &token).await?;
    Ok((token, link))
}

/// The link `token` names, opened for this request (its password given, if it has one).
pub(super) async fn opened_link<B>(state: &AppState, req: &Request<B>, token: &str) -> Result<ShareLink, ApiError> {
    let link = live_link(state, token).await?;
    if !granted(state, req, &link) {
        return Err(ApiError::PasswordRequired);
    }
    Ok(link)
}

/// Whether the request may use the link: it has no password, or the request carries
/// this link's grant made with its current password hash.
fn granted<B>(state: &AppState, req: &Request<B>, link: &ShareLink) -> bool {
    let Some(hash) = &link.password_hash else { return true };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    cookie(req, &grant_cookie_named(state, link.id))
        .is_some_and(|grant| crate::auth::share_grant_holds(grant, link.id, hash, now))
}

/// The grant cookie of a link (its `Secure` name where cookies are secure).
fn grant_cookie_named(state: &AppState, id: i64) -> String {
    if state.secure_cookies { format!("__Host-pujo_share_{id}") } else { format!("pujo_share_{id}") }
}

/// The share link token a media request carries (`?share=`), if any.
pub fn token_param<B>(req: &Request<B>) -> Option<String> {
    let raw = req.uri().query()?;
    form_urlencoded::parse(raw.as_bytes()).find(|(name, _)| name == "share").map(|(_, token)| token.into_owned())
}

/// What `?share=` gives the media path for a photo of `album_id`: `Some(allow_download)`
/// when the request's link opens that album now, `None` otherwise (the photo is then 404
/// to it, like any photo the request may not see).
pub async fn media_access<B>(
    state: &AppState,
    req: &Request<B>,
    token: &str,
    album_id: i64,
) -> Result<Option<bool>, ApiError> {
    let link = match live_link(state, token).await {
        Ok(link) => link,
        Err(ApiError::NotFound | ApiError::Expired(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok((link.album_id == album_id && granted(state, req, &link)).then_some(link.allow_download))
}
