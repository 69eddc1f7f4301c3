//! Guest uploads and their review: most people at a pandal never make an account.
//!
//! - An album's owner makes upload links (`/api/v1/albums/{id}/upload-links`): a
//!   label, an expiry, caps per guest and in total, and whether photos wait for
//!   review (the default). Each has a QR code, drawn here as SVG for a poster, and is
//!   revoked at once by deleting it.
//! - Anyone with a link (`/g/{token}` in the site) sends photos without an account
//!   (`POST /api/v1/guest/{token}/photos`, or resumably: `POST
//!   /api/v1/guest/{token}/uploads` makes a tus upload that goes on at
//!   `/api/v1/uploads/{id}` as anybody's), with an optional name: the same form,
//!   limits and checks as anybody's upload, no location kept (unless the owner chose
//!   for the link to keep it, which the guest is told). A guest is a browser,
//!   known by a random HttpOnly cookie, so that the cap per guest holds for each phone
//!   even when a whole pandal shares one address behind carrier NAT; per address the
//!   bound is only the crowd-sized one.
//! - Guests' photos wait in the review queue (`/api/v1/albums/{id}/review`), seen by
//!   the album's owner alone (their images at `/media/pending/{id}/...`), until they
//!   are approved (they become the album's photos, with who sent them) or rejected.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::accounts::{cookie, require_user, set_cookie_named};
use super::albums::steward_album;
use super::audit::{Origin, actor};
use super::views::{Check, Query, path_id, path_param, rfc3339};
use super::{ApiError, json, no_store, parse_json};
use crate::cache::Tag;
use crate::db::{NewUploadLink, PageRequest, PendingPhoto, UploadLink};
use crate::http::Body;
use crate::http::client_address::ClientBucket;
use crate::ratelimit::{
    GUEST_UPLOADS_PER_CLIENT, GUEST_UPLOADS_PER_GUEST, REFUSED_GUEST_UPLOADS_PER_CLIENT, REFUSED_UPLOADS_PER_ACCOUNT,
};
use crate::state::AppState;

const BODY_LIMIT: usize = 8 * 1024;
/// The longest a link may be made to last.
const LONGEST: time::Duration = time::Duration::days(366);
/// How long a guest cookie lasts (a year: the same phone next Puja is the same guest).
const GUEST_COOKIE_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);
/// How long a guest's unfinished upload lives after its last bytes arrived (members'
/// live `PUJO_UPLOAD_EXPIRY` from their start): a guest's upload holds its link's disk
/// only while it is being sent.
pub(super) const GUEST_UPLOAD_IDLE: time::Duration = time::Duration::minutes(15);
/// The longest name a guest may give.
pub(super) const MAX_GUEST_NAME_CHARS: usize = 60;
/// Photos approved or rejected in one request.
const MAX_REVIEWED: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewLinkBody {
    #[serde(default)]
    label: String,
    #[serde(default = "yes")]
    needs_review: bool,
    #[serde(default)]
    per_guest: Option<super::views::Int>,
    #[serde(default)]
    total: Option<super::views::Int>,
    #[serde(default)]
    expires_at: Option<String>,
    /// Keep where guests' photos were taken (off by default).
    #[serde(default)]
    keep_location: bool,
}

fn yes() -> bool {
    true
}

#[derive(Serialize)]
struct LinkJson {
    id: i64,
    album_id: i64,
    token: String,
    url: String,
    qr: String,
    label: String,
    needs_review: bool,
    per_guest: Option<i64>,
    total: Option<i64>,
    taken: i64,
    expires_at: Option<String>,
    expired: bool,
    created_at: String,
    keep_location: bool,
}

impl LinkJson {
    fn of(l: &UploadLink) -> LinkJson {
        LinkJson {
            id: l.id,
            album_id: l.album_id,
            url: format!("/g/{}", l.token),
            qr: format!("/api/v1/albums/{}/upload-links/{}/qr.svg", l.album_id, l.id),
            token: l.token.clone(),
            label: l.label.clone(),
            needs_review: l.needs_review,
            per_guest: l.per_guest,
            total: l.total,
            taken: l.taken,
            expires_at: l.expires_at.map(rfc3339),
            expired: l.expired(OffsetDateTime::now_utc()),
            created_at: rfc3339(l.created_at),
            keep_location: l.keep_location,
        }
    }
}

#[derive(Serialize)]
struct ItemsJson<T> {
    items: Vec<T>,
}

/// `GET /api/v1/albums/{id}/upload-links`: the album's links, for its owner.
pub async fn list(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user = require_user(state, &req).await?;
    let album = steward_album(state, path_id(&req, 0)?, &user).await?;
    let links = state.db.upload_links(album.id).await?;
    Ok(no_store(json(StatusCode::OK, &ItemsJson { items: links.iter().map(LinkJson::of).collect() })))
}

/// `POST /api/v1/albums/{id}/upload-links`.
pub async fn create(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    let album = steward_album(state, path_id(&req, 0)?, &user).await?;
    let body: NewLinkBody = parse_json(req, BODY_LIMIT).await?;
    let mut check = Check::default();
    check.text("label", &body.label, 0, 80, false);
    let cap = |check: &mut Check, name: &str, value: Option<super::views::Int>| {
        let value = value.map(|v| v.0);
        if value.is_some_and(|v| !(1..=100_000).contains(&v)) {
            check.fail(name, "between 1 and 100000, or none");
        }
        value
    };
    let per_guest = cap(&mut check, "per_guest", body.per_guest);
    let total = cap(&mut check, "total", body.total);
    let expires_at = super::shares::expiry(&mut check, body.expires_at.as_deref(), LONGEST);
    // Photos that skip review become the owner's at once: only the owner may choose that.
    if !body.needs_review && album.owner.id != user.id {
        check.fail("needs_review", "only the album's owner may let guests' photos in without review");
    }
    // Where guests were is the owner's to keep, and only the owner's.
    if body.keep_location && album.owner.id != user.id {
        check.fail("keep_location", "only the album's owner may keep where guests' photos were taken");
    }
    check.finish()?;
    let new = NewUploadLink {
        album_id: album.id,
        token: crate::auth::new_session_token().0,
        label: body.label.trim().to_owned(),
        needs_review: body.needs_review,
        per_guest,
        total,
        expires_at,
        created_by: user.id,
        keep_location: body.keep_location,
    };
    let link = state.db.create_upload_link(&new).await?.ok_or(ApiError::Validation(format!(
        "an album has at most {} upload links; revoke one first",
        crate::db::UPLOAD_LINKS_PER_ALBUM
    )))?;
    let object = format!("{} album {}{}", link.id, album.id, if link.needs_review { " review" } else { "" });
    origin.record(state, actor(&user), "upload_link.created", ("upload_link", object)).await;
    Ok(no_store(json(StatusCode::CREATED, &LinkJson::of(&link))))
}

/// `DELETE /api/v1/albums/{id}/upload-links/{link_id}`: the link takes nothing more.
/// Photos it brought stay (waiting ones in the queue).
pub async fn revoke(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    let album = steward_album(state, path_id(&req, 0)?, &user).await?;
    let id = path_id(&req, 1)?;
    if !state.db.delete_upload_link(album.id, id).await? {
        return Err(ApiError::NotFound);
    }
    let object = ("upload_link", format!("{id} album {}", album.id));
    origin.record(state, actor(&user), "upload_link.revoked", object).await;
    Ok(super::no_content())
}

/// `GET /api/v1/albums/{id}/upload-links/{link_id}/qr.svg`: the link's QR code, for
/// its owner to print.
pub async fn qr(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user = require_user(state, &req).await?;
    let album = steward_album(state, path_id(&req, 0)?, &user).await?;
    let id = path_id(&req, 1)?;
    let link = state.db.upload_links(album.id).await?.into_iter().find(|l| l.id == id).ok_or(ApiError::NotFound)?;
    let scheme = if state.secure_cookies { "https" } else { "http" };
    let host = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned))
        .ok_or(ApiError::Validation("the request names no host".into()))?;
    let url = format!("{scheme}://{host}/g/{}", link.token);
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(320, 320).quiet_zone(true).build();
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"))
        .header(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"))
        .header(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
        )
        .body(crate::http::full(bytes::Bytes::from(svg)))
        .expect("valid response"))
}

/// What a guest sees first.
#[derive(Serialize)]
struct GuestLinkJson {
    album: GuestAlbumJson,
    label: String,
    needs_review: bool,
    /// Whether its photos keep where they were taken: the guest is told before sending.
    keep_location: bool,
    expires_at: Option<String>,
    /// Photos one guest may send through it, if capped.
    per_guest: Option<i64>,
    /// Photos it still takes in all, if capped.
    remaining: Option<i64>,
}

#[derive(Serialize)]
struct GuestAlbumJson {
    title: String,
    owner: String,
}

/// `GET /api/v1/guest/{token}`: the album a link sends photos to, and its terms.
pub async fn open(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    Query::of(&req, &[])?;
    let link = live_link(state, path_param(&req, 0)).await?;
    let album = link_album(state, &link).await?;
    let remaining = link.total.map(|t| (t - link.taken).max(0));
    let body = GuestLinkJson {
        album: GuestAlbumJson {
            title: album.title,
            owner: if album.owner.display_name.is_empty() { album.owner.username } else { album.owner.display_name },
        },
        label: link.label.clone(),
        needs_review: link.needs_review,
        keep_location: link.keep_location,
        expires_at: link.expires_at.map(rfc3339),
        per_guest: link.per_guest,
        remaining,
    };
    Ok(no_store(json(StatusCode::OK, &body)))
}

#[derive(Serialize)]
struct GuestUploadedJson {
    items: Vec<GuestItemJson>,
}

#[derive(Serialize)]
struct GuestItemJson {
    id: i64,
    status: &'static str,
}

/// `POST /api/v1/guest/{token}/photos`: a guest's photos (multipart `file` parts, an
/// optional `caption` and `name`).
pub async fn upload(state: &Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let link = live_link(state, path_param(&req, 0)).await?;
    let album = link_album(state, &link).await?;
    let guest = Guest::of(state, &req).await?;
    guest.admit(state, &link).await?;
    let result = super::media::take_guest_upload(state, req, &link, album.owner.id, guest.key, &guest.per_file()).await;
    if result.as_ref().is_err_and(super::media::is_refusal) {
        note_refusal(state, &guest.key, guest.client).await;
    }
    let taken = result?;
    let items = taken
        .into_iter()
        .map(|t| match t.photo_id {
            Some(id) => GuestItemJson { id, status: "approved" },
            None => GuestItemJson { id: t.pending.id, status: "pending" },
        })
        .collect();
    let mut response = json(StatusCode::CREATED, &GuestUploadedJson { items });
    guest.remembered(state, &mut response);
    Ok(response)
}

/// `POST /api/v1/guest/{token}/uploads`: a guest's resumable upload (tus creation, with
/// or without its first bytes). `Upload-Metadata` may hold `filename`, `caption` and
/// `guest_name`; the upload then goes on at `/api/v1/uploads/{id}` as anybody's, with
/// this browser's guest cookie.
pub async fn create_upload(state: &Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    if let Some(refused) = super::uploads::version_refusal(&req) {
        return Ok(refused);
    }
    let link = live_link(state, path_param(&req, 0)).await?;
    let album = link_album(state, &link).await?;
    let guest = Guest::of(state, &req).await?;
    guest.admit(state, &link).await?;
    let (length, meta) = super::uploads::declared(state, req.headers())?;
    // A guest's own uploads under way count against their cap (the link's total is
    // taken, in one statement, at each last byte: uploads begun and left must not hold
    // it). Unfinished uploads hold disk: one link's at most a quarter of the temp disk
    // budget and all guests' at most half, so that uploads begun and left by a script
    // with many guest cookies cannot keep other links' or members' uploads from
    // starting; and they live only while their bytes keep coming (`GUEST_UPLOAD_IDLE`).
    let (own_open, link_bytes) = state.db.open_uploads_of_link(link.id, &guest.key).await?;
    if let Some(cap) = link.per_guest
        && state.db.guest_taken(link.id, &guest.key).await? + own_open >= cap
    {
        return Err(ApiError::Forbidden("this link takes no more photos from you"));
    }
    let temp = state.media.settings.temp_bytes;
    let declared = u64::try_from(length).unwrap_or(u64::MAX);
    let all_guests = u64::try_from(state.db.open_guest_upload_bytes().await?).unwrap_or(0);
    if u64::try_from(link_bytes).unwrap_or(0).saturating_add(declared) > temp / 4
        || all_guests.saturating_add(declared) > temp / 2
    {
        state.metrics.tus_uploads.with_label_values(&["no_space"]).inc();
        return Err(ApiError::Unavailable);
    }
    // A file counts when its upload starts, as a multipart file counts when it arrives.
    for (key, limit) in guest.per_file() {
        state.limiter.hit(&key, limit).await.map_err(ApiError::RateLimited)?;
    }
    let sender = crate::db::GuestSender { link_id: link.id, guest: guest.key, name: meta.guest_name.trim().to_owned() };
    let open = state.db.open_uploads_of_guest(&guest.key).await?;
    let mut upload = super::uploads::new_upload(state, open, album.owner.id, album.id, length, meta, Some(sender))?;
    upload.expires_at = upload.expires_at.min(OffsetDateTime::now_utc() + GUEST_UPLOAD_IDLE);
    let caller = super::uploads::Caller { user: None, guest: Some(guest.key) };
    let mut response = super::uploads::start(state, caller, upload, req).await?;
    guest.remembered(state, &mut response);
    Ok(response)
}

/// The last byte of a guest's resumable upload: the whole file into the review queue
/// of the link's album, as a multipart file is, while the link still takes photos.
pub(super) async fn take_resumable(
    state: &Arc<AppState>,
    sender: &crate::db::GuestSender,
    upload: &crate::db::Upload,
    whole: std::path::PathBuf,
    client: ClientBucket,
) -> Result<super::media::GuestPhoto, ApiError> {
    // Removed however this ends, as the pipeline's temp files are.
    let whole = crate::media::TempFile(whole);
    let link = state.db.upload_link(sender.link_id).await?.ok_or(ApiError::NotFound)?;
    if link.expired(OffsetDateTime::now_utc()) {
        return Err(ApiError::Expired("this upload link has expired"));
    }
    let album = link_album(state, &link).await?;
    let result = super::media::take_guest_in_file(state, &link, album.owner.id, sender, whole, &upload.caption).await;
    if result.as_ref().is_err_and(super::media::is_refusal) {
        note_refusal(state, &sender.guest, client).await;
    }
    result
}

/// The guest a request comes from: its browser's guest cookie, or a new one.
struct Guest {
    cookie: String,
    new: bool,
    key: [u8; 32],
    client: ClientBucket,
}

impl Guest {
    /// The request's guest; becoming a new one costs a little work (a browser's
    /// fraction of a second), so that a script cannot mint guests, each with a fresh
    /// cap, for nothing.
    async fn of<B>(state: &AppState, req: &Request<B>) -> Result<Guest, ApiError> {
        let (cookie, new) = match cookie(req, &guest_cookie_name(state)).filter(|v| crate::auth::is_token(v)) {
            Some(v) => (v.to_owned(), false),
            None => (crate::auth::new_session_token().0, true),
        };
        if new {
            super::proof::check(state, req, super::proof::Purpose::Guest).await?;
        }
        let key = crate::auth::token_hash(&cookie);
        let client = crate::http::client_address::client_bucket(state.client_ip(req));
        Ok(Guest { cookie, new, key, client })
    }

    /// Refused before the body when nothing it holds could be taken: the link is
    /// full, or this guest is, or their files keep being refused.
    async fn admit(&self, state: &AppState, link: &UploadLink) -> Result<(), ApiError> {
        if link.total.is_some_and(|t| link.taken >= t) {
            return Err(ApiError::Forbidden("this link takes no more photos"));
        }
        if let Some(cap) = link.per_guest
            && state.db.guest_taken(link.id, &self.key).await? >= cap
        {
            return Err(ApiError::Forbidden("this link takes no more photos from you"));
        }
        for (key, limit) in refusal_limits(&self.key, self.client) {
            state.limiter.check(&key, limit).await.map_err(ApiError::RateLimited)?;
        }
        Ok(())
    }

    /// What each file counts against: this browser, and, generously, its address (a
    /// pandal's phones share one).
    fn per_file(&self) -> Vec<(String, crate::ratelimit::Limit)> {
        vec![
            (format!("guest-uploads:{}", self.client), GUEST_UPLOADS_PER_CLIENT),
            (format!("guest-uploads:guest:{}", crate::util::hex(&self.key[..16])), GUEST_UPLOADS_PER_GUEST),
        ]
    }

    /// Gives a new guest their cookie with the answer.
    fn remembered(&self, state: &AppState, response: &mut Response<Body>) {
        if self.new {
            let max_age = GUEST_COOKIE_LIFETIME.as_secs();
            set_cookie_named(state, response, &guest_cookie_name(state), &self.cookie, max_age);
        }
    }
}

/// The guest whose cookie the request carries, if any: the key their uploads are
/// kept under.
pub(super) fn guest_key<B>(state: &AppState, req: &Request<B>) -> Option<[u8; 32]> {
    cookie(req, &guest_cookie_name(state)).filter(|v| crate::auth::is_token(v)).map(crate::auth::token_hash)
}

/// Files refused one after another (not photos, too large) stop a guest, and their
/// address, for a while.
fn refusal_limits(guest: &[u8; 32], client: ClientBucket) -> [(String, crate::ratelimit::Limit); 2] {
    [
        (format!("refused-uploads:guest:{}", crate::util::hex(&guest[..16])), REFUSED_UPLOADS_PER_ACCOUNT),
        (format!("refused-uploads:guest-client:{client}"), REFUSED_GUEST_UPLOADS_PER_CLIENT),
    ]
}

async fn note_refusal(state: &AppState, guest: &[u8; 32], client: ClientBucket) {
    for (key, limit) in refusal_limits(guest, client) {
        let _ = state.limiter.hit(&key, limit).await;
    }
}

fn guest_cookie_name(state: &AppState) -> String {
    if state.secure_cookies { "__Host-pujo_guest".to_owned() } else { "pujo_guest".to_owned() }
}

/// The album a link sends photos to, while whoever made the link still looks after
/// the album (its owner; or an admin, or a moderator of its pandal who still is one):
/// a link outlives nobody's role. 404 otherwise, as for a link that never was.
async fn link_album(state: &AppState, link: &UploadLink) -> Result<crate::db::Album, ApiError> {
    // A private album only its owner's links reach; any other, whoever made the link.
    let album = match state.db.album_not_private(link.album_id).await? {
        Some(album) => album,
        None => state.db.album(link.album_id, link.created_by, None).await?.ok_or(ApiError::NotFound)?,
    };
    if album.owner.id == link.created_by {
        return Ok(album);
    }
    let creator = state.db.user_by_id(link.created_by).await?.ok_or(ApiError::NotFound)?;
    steward_album(state, album.id, &creator).await.map_err(|_| ApiError::NotFound)
}

/// The link a token names, if it takes photos now: 404 for none, 410 once expired.
async fn live_link(state: &AppState, token: &str) -> Result<UploadLink, ApiError> {
    if !crate::auth::is_token(token) {
        return Err(ApiError::NotFound);
    }
    let link = state.db.upload_link_by_token(token).await?.ok_or(ApiError::NotFound)?;
    if link.expired(OffsetDateTime::now_utc()) {
        return Err(ApiError::Expired("this upload link has expired"));
    }
    Ok(link)
}

/// A photo in the review queue, for its reviewers.
#[derive(Serialize)]
struct PendingJson {
    id: i64,
    album_id: i64,
    guest_name: String,
    link_label: Option<String>,
    caption: String,
    width: i64,
    height: i64,
    thumbhash: Option<String>,
    created_at: String,
    album_title: String,
    urls: PendingUrls,
}

#[derive(Serialize)]
struct PendingUrls {
    thumb: String,
    medium: String,
    display: String,
}

impl PendingJson {
    fn of(p: PendingPhoto) -> PendingJson {
        use base64::Engine;
        PendingJson {
            id: p.id,
            album_id: p.album_id,
            guest_name: p.guest_name,
            link_label: p.link_label,
            caption: p.caption,
            width: p.width,
            height: p.height,
            thumbhash: p.thumbhash.map(|t| base64::engine::general_purpose::STANDARD.encode(t)),
            created_at: rfc3339(p.created_at),
            album_title: p.album_title,
            urls: PendingUrls {
                thumb: format!("/media/pending/{}/thumb", p.id),
                medium: format!("/media/pending/{}/medium", p.id),
                display: format!("/media/pending/{}/display", p.id),
            },
        }
    }
}

/// `GET /api/v1/albums/{id}/review?limit=&cursor=`: photos waiting, newest first.
pub async fn queue(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user = require_user(state, &req).await?;
    let album = steward_album(state, path_id(&req, 0)?, &user).await?;
    let query = Query::of(&req, &["limit", "cursor"])?;
    let page: PageRequest = query.page(super::views::MAX_LIMIT)?;
    let pending = state.db.pending_photos(album.id, page).await?;
    Ok(no_store(json(StatusCode::OK, &super::views::PageJson::of(pending, PendingJson::of))))
}

/// `GET /api/v1/pandals/{id}/review`: what waits in the pandal's albums that are not
/// private, for its moderators and admins; each is decided in its album's queue.
pub async fn pandal_queue(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user = require_user(state, &req).await?;
    let pandal = state.db.pandal(path_id(&req, 0)?).await?.ok_or(ApiError::NotFound)?;
    if user.role != crate::db::Role::Admin && !state.db.is_moderator(pandal.id, user.id).await? {
        return Err(ApiError::Forbidden("only the pandal's moderators and admins review its albums"));
    }
    let query = Query::of(&req, &["limit", "cursor"])?;
    let page: PageRequest = query.page(super::views::MAX_LIMIT)?;
    let pending = state.db.pending_photos_of_pandal(pandal.id, page).await?;
    Ok(no_store(json(StatusCode::OK, &super::views::PageJson::of(pending, PendingJson::of))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    #[serde(default)]
    approve: Vec<super::views::Int>,
    #[serde(default)]
    reject: Vec<super::views::Int>,
}

#[derive(Serialize)]
struct ReviewedJson {
    /// Each approved waiting photo and the photo it became.
    approved: Vec<Approved>,
    rejected: Vec<i64>,
    /// Ids that named nothing waiting in this album (already reviewed, or never).
    missing: Vec<i64>,
}

#[derive(Serialize)]
struct Approved {
    id: i64,
    photo_id: i64,
}

/// `POST /api/v1/albums/{id}/review`: approves and rejects waiting photos, one or many.
pub async fn review(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    let album = steward_album(state, path_id(&req, 0)?, &user).await?;
    let body: ReviewBody = parse_json(req, BODY_LIMIT).await?;
    if body.approve.len() + body.reject.len() > MAX_REVIEWED {
        return Err(ApiError::Validation(format!("at most {MAX_REVIEWED} photos at once")));
    }
    if body.approve.iter().chain(&body.reject).any(|i| i.0 < 1) {
        return Err(ApiError::Validation("photo ids are positive".into()));
    }
    if body.approve.iter().any(|a| body.reject.iter().any(|r| r.0 == a.0)) {
        return Err(ApiError::Validation("a photo cannot be approved and rejected at once".into()));
    }
    let mut done = ReviewedJson { approved: vec![], rejected: vec![], missing: vec![] };
    let mut touched = vec![Tag::Album(album.id), Tag::Lists];
    for id in body.approve.iter().map(|i| i.0) {
        match state.db.approve_pending_photo(album.id, id).await? {
            Some(photo_id) => {
                touched.push(Tag::Photo(photo_id));
                done.approved.push(Approved { id, photo_id });
            }
            None => done.missing.push(id),
        }
    }
    for id in body.reject.iter().map(|i| i.0) {
        if state.db.reject_pending_photo(album.id, id).await? {
            done.rejected.push(id);
        } else {
            done.missing.push(id);
        }
    }
    if !done.approved.is_empty() {
        state.cache.publish(&state.db, &touched).await;
    }
    for (action, ids) in [
        ("review.approved", done.approved.iter().map(|a| a.photo_id).collect::<Vec<_>>()),
        ("review.rejected", done.rejected.clone()),
    ] {
        if !ids.is_empty() {
            let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let object = ("album", format!("{} photos {list}", album.id));
            origin.record(state, actor(&user), action, object).await;
        }
    }
    Ok(no_store(json(StatusCode::OK, &done)))
}
