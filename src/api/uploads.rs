//! Resumable uploads: the tus protocol 1.0 (core, `creation`, `creation-with-upload`,
//! `termination`, `expiration`, `checksum` with sha1 and sha256) at `/api/v1/uploads`, so that
//! a photo sent from a crowded pandal survives a dropped connection, a closed tab and
//! a restart of Pujo, with any tus client.
//!
//! An upload belongs to the session's person (anyone else gets 404). Its bytes grow
//! in a partial file of its own; each chunk is synced before the offset that covers it
//! is written to the database, so an acknowledged offset is never lost. When the last
//! byte arrives, the file goes through the same pipeline as a multipart upload, and
//! the answer (and any `HEAD` after it) names the photo in `Pujo-Photo-Id`.
//! `Upload-Metadata` keys: `album_id` (required), `filename`, `caption`.
//!
//! Guests send through an upload link the same way (`POST /api/v1/guest/{token}/uploads`
//! makes the upload, in `guests`); the upload is then the guest's (their guest
//! cookie), its last byte goes through the guest pipeline (caps, review queue) and its
//! answer names the photo waiting for review in `Pujo-Pending-Id`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use time::OffsetDateTime;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use super::ApiError;
use super::accounts::{current_user, require_user};
use super::views::{Check, path_param};
use crate::db::{GuestSender, Upload, User};
use crate::http::{Body, empty};
use crate::state::AppState;

pub const TUS_VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,creation-with-upload,termination,expiration,checksum";
const CHECKSUMS: &str = "sha1,sha256";
/// Unfinished uploads one person may have at once.
const OPEN_PER_ACCOUNT: i64 = 50;
/// A chunk that sends nothing for this long is given up; what arrived stays.
const CHUNK_IDLE: Duration = Duration::from_secs(60);
/// The most `Upload-Metadata` may hold, in bytes.
const MAX_METADATA_BYTES: usize = 8 * 1024;
const MAX_CAPTION_CHARS: usize = 2000;
const MAX_FILENAME_CHARS: usize = 255;

/// What `Upload-Metadata` says of a new upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The album a person's upload goes to (a guest's goes where its link says).
    pub album_id: Option<i64>,
    pub filename: String,
    pub caption: String,
    /// The name a guest gives (`guest_name`).
    pub guest_name: String,
}

impl Metadata {
    /// The album of a person's upload, which they must name.
    pub fn album(&self) -> Result<i64, MetadataError> {
        self.album_id.ok_or(MetadataError::NoAlbum)
    }
}

/// Why `Upload-Metadata` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("Upload-Metadata is longer than {MAX_METADATA_BYTES} bytes")]
    TooLong,
    #[error("Upload-Metadata pair {0:?} is not `key base64`")]
    Malformed(String),
    #[error("Upload-Metadata names {0:?} twice")]
    Repeated(String),
    #[error("Upload-Metadata value of {0:?} is not base64 of UTF-8 text")]
    NotText(String),
    #[error("Upload-Metadata needs `album_id`, one of your albums' ids")]
    NoAlbum,
    #[error("Upload-Metadata key {0:?} is not known; send album_id, filename, caption and guest_name")]
    Unknown(String),
}

/// Parses `Upload-Metadata`: comma-separated `key base64-value` pairs (a key alone has
/// an empty value). A stranger's bytes: bounded, every key once, every value text.
pub fn parse_metadata(text: &str) -> Result<Metadata, MetadataError> {
    if text.len() > MAX_METADATA_BYTES {
        return Err(MetadataError::TooLong);
    }
    let mut pairs: BTreeMap<String, String> = BTreeMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = pair.split(' ').filter(|w| !w.is_empty());
        let key = words.next().ok_or_else(|| MetadataError::Malformed(pair.to_owned()))?;
        let value = words.next().unwrap_or("");
        if words.next().is_some() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(MetadataError::Malformed(pair.to_owned()));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| MetadataError::NotText(key.to_owned()))?;
        let value = String::from_utf8(bytes).map_err(|_| MetadataError::NotText(key.to_owned()))?;
        if pairs.insert(key.to_owned(), value).is_some() {
            return Err(MetadataError::Repeated(key.to_owned()));
        }
    }
    let mut album_id = None;
    let (mut filename, mut caption, mut guest_name) = (String::new(), String::new(), String::new());
    for (key, value) in pairs {
        match key.as_str() {
            "album_id" => {
                album_id = Some(value.trim().parse::<i64>().ok().filter(|id| *id > 0).ok_or(MetadataError::NoAlbum)?);
            }
            "filename" => filename = value,
            "caption" => caption = value,
            "guest_name" => guest_name = value,
            // What tus clients send of their own accord.
            "filetype" | "name" | "type" | "relativePath" => {}
            _ => return Err(MetadataError::Unknown(key)),
        }
    }
    Ok(Metadata { album_id, filename, caption, guest_name })
}

/// A tus answer (`Tus-Resumable` goes on every one, errors included, in `routes`).
fn answer(status: StatusCode) -> http::response::Builder {
    Response::builder().status(status).header(header::CACHE_CONTROL, "no-store")
}

/// The version check of every request but OPTIONS: the 412 naming the version for a
/// request that speaks another.
pub(super) fn version_refusal<B>(req: &Request<B>) -> Option<Response<Body>> {
    if req.headers().get("tus-resumable").is_some_and(|v| v == TUS_VERSION) {
        return None;
    }
    let mut response = ApiError::PreconditionFailed("send Tus-Resumable: 1.0.0").into_response();
    response.headers_mut().insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    Some(response)
}

fn number(headers: &HeaderMap, name: &str) -> Result<Option<i64>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<i64>().ok())
            .map(Some)
            .ok_or_else(|| ApiError::Validation(format!("{name} must be a whole number of bytes"))),
    }
}

fn http_date(t: OffsetDateTime) -> String {
    httpdate::fmt_http_date(std::time::SystemTime::from(t))
}

/// `OPTIONS /api/v1/uploads`: what this server speaks.
pub fn options(state: &AppState) -> Result<Response<Body>, ApiError> {
    Ok(answer(StatusCode::NO_CONTENT)
        .header("tus-version", TUS_VERSION)
        .header("tus-extension", EXTENSIONS)
        .header("tus-max-size", state.media.settings.max_upload_bytes)
        .header("tus-checksum-algorithm", CHECKSUMS)
        .body(empty())
        .expect("valid response"))
}

/// `POST /api/v1/uploads`: a new upload (and its first bytes, when the body has any).
pub async fn create(state: &Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    if let Some(refused) = version_refusal(&req) {
        return Ok(refused);
    }
    let user = require_user(state, &req).await?;
    super::media::check_refusals(state, user.id).await?;
    let (length, meta) = declared(state, req.headers())?;
    let album_id = meta.album().map_err(|e| ApiError::Validation(e.to_string()))?;
    if !meta.guest_name.is_empty() {
        return Err(ApiError::Validation("Upload-Metadata guest_name is for uploads through an upload link".into()));
    }
    let album = super::media::own_album(state, user.id, album_id).await?;
    let open = state.db.open_uploads_of(user.id).await?;
    let upload = new_upload(state, open, user.id, album.id, length, meta, None)?;
    start(state, Caller { user: Some(user), guest: None }, upload, req).await
}

/// What a new upload declares: its length (within the size limit, not empty) and
/// its `Upload-Metadata`, checked.
pub(super) fn declared(state: &AppState, headers: &HeaderMap) -> Result<(i64, Metadata), ApiError> {
    if headers.contains_key("upload-defer-length") {
        return Err(ApiError::Validation("send Upload-Length: uploads of unknown length are not taken".into()));
    }
    let length = number(headers, "upload-length")?.ok_or_else(|| ApiError::Validation("send Upload-Length".into()))?;
    let limit = state.media.settings.max_upload_bytes;
    if u64::try_from(length).unwrap_or(u64::MAX) > limit {
        return Err(ApiError::PayloadTooLarge(usize::try_from(limit).unwrap_or(usize::MAX)));
    }
    if length == 0 {
        return Err(ApiError::Fields(BTreeMap::from([("file".to_owned(), "the file is empty".to_owned())])));
    }
    let metadata = headers
        .get("upload-metadata")
        .map_or(Ok(""), |v| v.to_str())
        .map_err(|_| ApiError::Validation("Upload-Metadata must be ASCII".into()))?;
    let meta = parse_metadata(metadata).map_err(|e| ApiError::Validation(e.to_string()))?;
    let mut check = Check::default();
    check.text("caption", &meta.caption, 0, MAX_CAPTION_CHARS, false);
    check.text("filename", &meta.filename, 0, MAX_FILENAME_CHARS, true);
    check.text("guest_name", &meta.guest_name, 0, super::guests::MAX_GUEST_NAME_CHARS, false);
    check.finish()?;
    Ok((length, meta))
}

/// A new upload's row, if whoever sends it (their unfinished uploads: `open`, count
/// and bytes) may start one more of `length` bytes.
pub(super) fn new_upload(
    state: &AppState,
    open: (i64, i64),
    owner_id: i64,
    album_id: i64,
    length: i64,
    meta: Metadata,
    guest: Option<GuestSender>,
) -> Result<Upload, ApiError> {
    let (open_count, open_bytes) = open;
    if open_count >= OPEN_PER_ACCOUNT {
        return Err(ApiError::Validation(format!(
            "at most {OPEN_PER_ACCOUNT} unfinished uploads at once; finish or delete some first"
        )));
    }
    // One sender's unfinished uploads may hold an eighth of the shared budget, so
    // that idle uploads of one account (or guest) cannot keep everyone else from
    // starting.
    let own_limit = state.media.settings.temp_bytes / 8;
    if u64::try_from(open_bytes).unwrap_or(0).saturating_add(u64::try_from(length).unwrap_or(u64::MAX)) > own_limit {
        return Err(ApiError::Validation(format!(
            "your unfinished uploads would hold more than {own_limit} bytes; finish or delete some first"
        )));
    }
    Ok(Upload {
        id: crate::auth::random_key(),
        owner_id,
        album_id,
        filename: meta.filename,
        caption: meta.caption,
        length,
        received: 0,
        photo_id: None,
        expires_at: OffsetDateTime::now_utc() + state.config.upload_expiry,
        parted: 0,
        part_tags: Vec::new(),
        multipart: None,
        guest,
        pending_id: None,
    })
}

/// Makes `upload` (and takes the request's body as its first bytes, when it has any):
/// the answer names its address.
pub(super) async fn start(
    state: &Arc<AppState>,
    caller: Caller,
    upload: Upload,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    // Partial files may grow to what every unfinished upload declared: that total is
    // bounded by the temp disk setting, like the multipart uploads in progress.
    let open = u64::try_from(state.db.open_upload_bytes().await?).unwrap_or(0);
    if open.saturating_add(u64::try_from(upload.length).unwrap_or(u64::MAX)) > state.media.settings.temp_bytes {
        state.metrics.tus_uploads.with_label_values(&["no_space"]).inc();
        return Err(ApiError::Unavailable);
    }
    let id = upload.id.clone();
    let expires_at = upload.expires_at;
    // On the local folder the bytes grow in a file of their own; on S3 in the bucket
    // (`media::partial`), where any replica finds them.
    if state.media.store.s3().is_none() {
        tokio::fs::File::create(state.media.partial_path(&id)).await.map_err(|e| ApiError::Internal(Box::new(e)))?;
    }
    state.db.create_upload(&upload).await?;
    state.metrics.tus_uploads.with_label_values(&["started"]).inc();
    let location = format!("/api/v1/uploads/{id}");
    let with_body = is_chunk(req.headers());
    let mut response = if with_body {
        let mut writer = claim(state, &id).await?;
        let appended = Box::pin(append(state, &caller, upload, req, &mut writer)).await;
        writer.release(state, &id).await;
        match appended {
            Ok(response) => response,
            Err(e) => {
                // The client never learnt this upload's address: it goes, bytes and all.
                let multipart = mine(state, &caller, &id).await.ok().and_then(|u| u.multipart);
                let _ = state.db.forget_upload(&id).await;
                remove_partial(state, &id, multipart.as_deref()).await;
                return Err(e);
            }
        }
    } else {
        answer(StatusCode::CREATED).header("upload-offset", 0).body(empty()).expect("valid response")
    };
    *response.status_mut() = StatusCode::CREATED;
    let h = response.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_str(&location).expect("hex"));
    h.insert("upload-expires", HeaderValue::from_str(&http_date(expires_at)).expect("a date"));
    Ok(response)
}

/// Who asks about an upload: the session's person, the browser's guest (its guest
/// cookie), or both (an owner trying their own link). An upload is found for either.
pub(super) struct Caller {
    pub user: Option<User>,
    pub guest: Option<[u8; 32]>,
}

impl Caller {
    async fn of<B>(state: &AppState, req: &Request<B>) -> Result<Caller, ApiError> {
        let caller = Caller { user: current_user(state, req).await?, guest: super::guests::guest_key(state, req) };
        if caller.user.is_none() && caller.guest.is_none() {
            return Err(ApiError::Unauthorized("not logged in"));
        }
        Ok(caller)
    }
}

fn is_chunk(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"application/offset+octet-stream"))
}

/// The upload the path names, if it is the caller's (as a person or as a guest) and
/// not expired.
async fn mine(state: &AppState, caller: &Caller, id: &str) -> Result<Upload, ApiError> {
    if !is_upload_id(id) {
        return Err(ApiError::NotFound);
    }
    let mut found = None;
    if let Some(user) = &caller.user {
        found = state.db.upload(id, user.id).await?;
    }
    if found.is_none()
        && let Some(guest) = &caller.guest
    {
        found = state.db.guest_upload(id, guest).await?;
    }
    let upload = found.ok_or(ApiError::NotFound)?;
    if lapsed(&upload) {
        return Err(ApiError::NotFound);
    }
    Ok(upload)
}

/// Upload ids are 32 hexadecimal digits; anything else names none.
fn is_upload_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An unfinished upload past its expiry: gone for its sender, left for the sweep.
fn lapsed(upload: &Upload) -> bool {
    !upload.finished() && upload.expires_at <= OffsetDateTime::now_utc()
}

/// [`claim`] of the caller's upload `id` and the upload as it is under the claim, in
/// one round trip when it is free: what another request acknowledged meanwhile is what
/// this one starts from. 404 as [`mine`] says, 423 while another request holds it.
async fn claim_mine(state: &AppState, caller: &Caller, id: &str) -> Result<(Writer, Upload), ApiError> {
    if !is_upload_id(id) {
        return Err(ApiError::NotFound);
    }
    let Some(local) = state.media.lock_partial(id) else {
        mine(state, caller, id).await?;
        return Err(ApiError::Locked);
    };
    let (user, guest) = (caller.user.as_ref().map(|u| u.id), caller.guest.as_ref());
    match state.db.claim_own_upload(id, user, guest, &state.media.instance, RECEIVE_HOLD).await? {
        Some(upload) if lapsed(&upload) => {
            release(state, id).await;
            Err(ApiError::NotFound)
        }
        Some(upload) => Ok((Writer::holding(local), upload)),
        None => {
            mine(state, caller, id).await?;
            Err(ApiError::Locked)
        }
    }
}

fn progress(upload: &Upload, status: StatusCode) -> http::response::Builder {
    let mut builder = answer(status)
        .header("upload-offset", upload.received)
        .header("upload-length", upload.length)
        .header("upload-expires", http_date(upload.expires_at));
    if let Some(photo) = upload.photo_id {
        builder = builder.header("pujo-photo-id", photo);
    }
    if let Some(pending) = upload.pending_id {
        builder = builder.header("pujo-pending-id", pending);
    }
    builder
}

/// `HEAD /api/v1/uploads/{id}`: how far the upload is.
pub async fn head(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    if let Some(refused) = version_refusal(&req) {
        return Ok(refused);
    }
    let caller = Caller::of(state, &req).await?;
    let upload = mine(state, &caller, path_param(&req, 0)).await?;
    Ok(progress(&upload, StatusCode::OK).body(empty()).expect("valid response"))
}

/// `DELETE /api/v1/uploads/{id}`: gives an upload up; its bytes go.
pub async fn delete(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    if let Some(refused) = version_refusal(&req) {
        return Ok(refused);
    }
    let caller = Caller::of(state, &req).await?;
    // Not while a chunk is being written or the last one is becoming a photo.
    let (_writer, upload) = claim_mine(state, &caller, path_param(&req, 0)).await?;
    let deleted = match &upload.guest {
        Some(sender) => state.db.delete_guest_upload(&upload.id, &sender.guest).await?,
        None => state.db.delete_upload(&upload.id, upload.owner_id).await?,
    };
    if !deleted {
        return Err(ApiError::NotFound);
    }
    remove_partial(state, &upload.id, upload.multipart.as_deref()).await;
    Ok(answer(StatusCode::NO_CONTENT).body(empty()).expect("valid response"))
}

/// `PATCH /api/v1/uploads/{id}`: the next bytes, at the offset the client names.
pub async fn patch(state: &Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    if let Some(refused) = version_refusal(&req) {
        return Ok(refused);
    }
    let caller = Caller::of(state, &req).await?;
    if !is_chunk(req.headers()) {
        return Err(ApiError::UnsupportedMediaType("application/offset+octet-stream"));
    }
    if !req.headers().contains_key("upload-offset") {
        return Err(ApiError::Validation("send Upload-Offset: where this chunk starts".into()));
    }
    let id = path_param(&req, 0).to_owned();
    // One writer per partial file, and the row as it is under it.
    let began = Instant::now();
    let (mut writer, upload) = claim_mine(state, &caller, &id).await?;
    phase(state, "claim", began);
    // Boxed: with the store's and the pipeline's, its future is large.
    let appended = Box::pin(append(state, &caller, upload, req, &mut writer)).await;
    writer.release(state, &id).await;
    appended
}

/// Counts the time since `since` as a chunk's `phase` (`resumable_upload_chunk_phase_seconds`).
fn phase(state: &AppState, phase: &str, since: Instant) {
    state.metrics.tus_chunk_phase_seconds.with_label_values(&[phase]).observe(since.elapsed().as_secs_f64());
}

/// A request's right to append to an upload: this process's lock, and the row's
/// claim, until the request ends or the chunk's acknowledgment lets go of the claim
/// (then `claimed` is false, and nothing is left to release).
struct Writer {
    _local: crate::media::PartialLock,
    claimed: bool,
}

impl Writer {
    /// The right to append, with this process's lock `local` and the row's claim.
    fn holding(local: crate::media::PartialLock) -> Writer {
        Writer { _local: local, claimed: true }
    }

    /// Lets go of upload `id`'s claim, unless the chunk's acknowledgment did.
    async fn release(self, state: &AppState, id: &str) {
        if self.claimed {
            release(state, id).await;
        }
    }
}

/// How long a claim holds while bytes arrive, and how often a request renews it
/// meanwhile: a replica that dies while receiving keeps the others out this long at
/// most (the client's retries get 423 until then).
const RECEIVE_HOLD: Duration = Duration::from_secs(20);
const CLAIM_RENEW: Duration = Duration::from_secs(5);
/// Smallest chunk but the last that Pujo keeps on S3, where each costs requests.
const MIN_S3_CHUNK: u64 = 64 * 1024;

/// How long a claim holds around a write to the bucket or the photo pipeline: long
/// enough that a write to the bucket started inside it ends inside it. Only a
/// replica that dies in that window keeps the others out this long.
fn write_hold(state: &AppState) -> Duration {
    state.media.settings.s3.as_ref().map_or(Duration::from_secs(90), |s3| 3 * s3.timeout + Duration::from_secs(60))
}

/// The latest a write to the bucket may start, for a claim renewed now with
/// [`write_hold`]: a write (two attempts of `PUJO_S3_TIMEOUT` at most) then ends
/// before the claim does.
fn write_by(state: &AppState) -> Instant {
    let bound = state.media.settings.s3.as_ref().map_or(Duration::ZERO, |s3| 2 * s3.timeout + Duration::from_secs(10));
    Instant::now() + write_hold(state).saturating_sub(bound)
}

/// The right to append to an upload, on every replica: this process's lock, then the
/// row's claim (423 while either is held by another request).
async fn claim(state: &AppState, id: &str) -> Result<Writer, ApiError> {
    let local = state.media.lock_partial(id).ok_or(ApiError::Locked)?;
    if !state.db.claim_upload(id, &state.media.instance, RECEIVE_HOLD).await? {
        return Err(ApiError::Locked);
    }
    Ok(Writer::holding(local))
}

/// Renews this request's claim for `hold`: [`RECEIVE_HOLD`] while bytes arrive,
/// [`write_hold`] before a write to the bucket or the photo pipeline. 423 when another
/// replica took it after it lapsed.
async fn renew_for(state: &AppState, id: &str, hold: Duration) -> Result<(), ApiError> {
    if !state.db.renew_upload_claim(id, &state.media.instance, hold).await? {
        return Err(ApiError::Locked);
    }
    Ok(())
}

/// Renews this request's claim for a write to the bucket or the photo pipeline, and
/// says by when such a write must start.
async fn renew(state: &AppState, id: &str) -> Result<Instant, ApiError> {
    renew_for(state, id, write_hold(state)).await?;
    Ok(write_by(state))
}

async fn release(state: &AppState, id: &str) {
    if let Err(e) = state.db.release_upload(id, &state.media.instance).await {
        tracing::warn!(upload = %id, error = %e, "cannot release an upload's claim; it lapses by itself");
    }
}

/// Removes an upload's partial bytes, wherever they live (best effort: the sweep
/// finds what is left).
async fn remove_partial(state: &AppState, id: &str, multipart: Option<&str>) {
    if state.media.store.s3().is_some() {
        if let Err(e) = state.media.drop_partial(id, multipart).await {
            tracing::warn!(upload = %id, error = %e, "cannot remove a partial upload from the bucket; the sweep will");
        }
    } else {
        let _ = tokio::fs::remove_file(state.media.partial_path(id)).await;
    }
}

/// A chunk's checksum as the client sent it (`Upload-Checksum: <algorithm> <base64>`),
/// being computed over the bytes as they arrive. tus requires sha1 of every server;
/// sha256 is there for clients that prefer it.
enum ChunkChecksum {
    Sha1(sha1::Sha1, Vec<u8>),
    Sha256(sha2::Sha256, Vec<u8>),
}

impl ChunkChecksum {
    fn from_headers(headers: &HeaderMap) -> Result<Option<ChunkChecksum>, ApiError> {
        use sha2::Digest;
        let Some(value) = headers.get("upload-checksum") else { return Ok(None) };
        let text = value.to_str().map_err(|_| ApiError::Validation("Upload-Checksum must be ASCII".into()))?;
        let (algorithm, digest) = text.split_once(' ').unwrap_or((text, ""));
        let len = match algorithm {
            "sha1" => 20,
            "sha256" => 32,
            _ => return Err(ApiError::Validation(format!("Upload-Checksum: the algorithms are {CHECKSUMS}"))),
        };
        let digest = base64::engine::general_purpose::STANDARD.decode(digest.trim()).ok().filter(|d| d.len() == len);
        let digest = digest.ok_or_else(|| {
            ApiError::Validation(format!("Upload-Checksum: a {algorithm} digest is {len} bytes in base64"))
        })?;
        Ok(Some(match len {
            20 => ChunkChecksum::Sha1(sha1::Sha1::new(), digest),
            _ => ChunkChecksum::Sha256(sha2::Sha256::new(), digest),
        }))
    }

    fn update(&mut self, bytes: &[u8]) {
        use sha2::Digest;
        match self {
            ChunkChecksum::Sha1(h, _) => h.update(bytes),
            ChunkChecksum::Sha256(h, _) => h.update(bytes),
        }
    }

    fn matches(self) -> bool {
        use sha2::Digest;
        match self {
            ChunkChecksum::Sha1(h, expected) => h.finalize().as_slice() == expected.as_slice(),
            ChunkChecksum::Sha256(h, expected) => h.finalize().as_slice() == expected.as_slice(),
        }
    }
}

/// Appends the request's body at the upload's offset: kept (synced to the partial
/// file, or in the bucket), then acknowledged. What arrived before a dropped
/// connection is kept (it is what a client resumes from); a chunk whose checksum
/// fails is dropped whole (460).
async fn append(
    state: &Arc<AppState>,
    caller: &Caller,
    upload: Upload,
    req: Request<Incoming>,
    writer: &mut Writer,
) -> Result<Response<Body>, ApiError> {
    let started = Instant::now();
    let client = crate::http::client_address::client_bucket(state.client_ip(&req));
    let headers = req.headers();
    let offset = number(headers, "upload-offset")?.unwrap_or(0);
    if upload.finished() || offset != upload.received {
        return Err(ApiError::OffsetMismatch(upload.received));
    }
    let mut checksum = ChunkChecksum::from_headers(headers)?;
    let left = u64::try_from(upload.length - upload.received).unwrap_or(0);
    let declared = number(headers, "content-length")?.map(|n| u64::try_from(n).unwrap_or(u64::MAX));
    if declared.is_some_and(|n| n > left) {
        return Err(ApiError::Validation(format!("the chunk is longer than the {left} bytes the upload still needs")));
    }
    if state.media.store.s3().is_some() && declared.is_some_and(|n| n < MIN_S3_CHUNK && n < left) {
        return Err(ApiError::Validation(format!("send chunks of at least {MIN_S3_CHUNK} bytes, all but the last")));
    }
    if offset > 0 {
        state.metrics.tus_uploads.with_label_values(&["resumed"]).inc();
    }
    let start = u64::try_from(upload.received).unwrap_or(0);
    let mut sink = Sink::open(state, &upload, start, declared).await?;
    let mut body = req.into_body();
    let mut written: u64 = 0;
    let mut cut_short = None;
    let mut renewed = Instant::now();
    loop {
        let frame = match tokio::time::timeout(CHUNK_IDLE, body.frame()).await {
            Err(_) => {
                cut_short = Some(ApiError::Timeout);
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                cut_short = Some(ApiError::Validation(format!("the chunk was cut short: {e}")));
                break;
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else { continue };
        if written + data.len() as u64 > left {
            sink.discard().await;
            return Err(ApiError::Validation(format!(
                "the chunk is longer than the {left} bytes the upload still needs"
            )));
        }
        if sink.in_temp_file() && !state.media.reserve_temp(&mut sink.space, written + data.len() as u64) {
            state.metrics.tus_uploads.with_label_values(&["no_space"]).inc();
            return Err(ApiError::Unavailable);
        }
        if let Some(c) = checksum.as_mut() {
            c.update(&data);
        }
        sink.write(&data).await?;
        written += data.len() as u64;
        if renewed.elapsed() > CLAIM_RENEW {
            if let Err(e) = renew_for(state, &upload.id, RECEIVE_HOLD).await {
                sink.discard().await;
                return Err(e);
            }
            renewed = Instant::now();
        }
    }
    if let Some(c) = checksum
        && (cut_short.is_some() || !c.matches())
    {
        sink.discard().await;
        return Err(ApiError::ChecksumMismatch);
    }
    sink.finish().await?;
    phase(state, "receive", started);
    let received = upload.received + i64::try_from(written).unwrap_or(i64::MAX);
    // Every byte arrived, even if the connection dropped after the last: the photo is
    // made (a HEAD tells the client). Acknowledging the whole length without a photo
    // would leave a client nothing to send and no photo.
    let last = received == upload.length;
    state.metrics.tus_bytes.inc_by(written);
    if !last {
        if sink.on_s3() && written < MIN_S3_CHUNK {
            // On S3 each chunk kept costs requests: a small fragment of a dropped
            // connection is sent again instead, and small chunks are refused.
            if let Some(e) = cut_short {
                return Err(e);
            }
            if written > 0 {
                return Err(ApiError::Validation(format!(
                    "send chunks of at least {MIN_S3_CHUNK} bytes, all but the last"
                )));
            }
        }
        let mut expires_at = upload.expires_at;
        if written > 0 {
            // Acknowledged with the claim let go, and a guest's upload kept while its
            // bytes keep coming, in one write.
            let guest_until = OffsetDateTime::now_utc() + super::guests::GUEST_UPLOAD_IDLE;
            let ack = crate::db::Ack { from: upload.received, to: received, claim: &state.media.instance, guest_until };
            let keeping = Instant::now();
            sink.keep(state, &upload, ack).await?;
            phase(state, "keep", keeping);
            writer.claimed = false;
            if upload.guest.is_some() {
                expires_at = guest_until;
            }
        }
        state.metrics.tus_chunk_seconds.observe(started.elapsed().as_secs_f64());
        let upload = Upload { received, expires_at, ..upload };
        if let Some(e) = cut_short {
            return Err(e);
        }
        return Ok(progress(&upload, StatusCode::NO_CONTENT).body(empty()).expect("valid response"));
    }
    // The last byte: the file becomes a photo through the same pipeline as a
    // multipart upload (the pipeline removes the file it is given). The offset reaches
    // the length only with the photo: if anything fails on the way (the store, a busy
    // decoder), the last chunk is dropped again and the client sends it again; a
    // refused file ends the upload with the refusal.
    // The pipeline (decoding, derivatives, their writes to the store) may take longer
    // than a receiving claim holds.
    renew(state, &upload.id).await?;
    let whole = sink.whole(state, &upload, written).await?;
    let finished = take_in(state, caller, &upload, whole, client).await;
    state.metrics.tus_chunk_seconds.observe(started.elapsed().as_secs_f64());
    match finished {
        Ok((made, true)) => {
            remove_partial(state, &upload.id, None).await;
            state.metrics.tus_uploads.with_label_values(&["completed"]).inc();
            let upload = Upload { received, photo_id: made.photo_id, pending_id: made.pending_id, ..upload };
            Ok(progress(&upload, StatusCode::NO_CONTENT).body(empty()).expect("valid response"))
        }
        Ok((_, false)) => {
            // Another request finished or moved the upload first: what it recorded
            // stands (the same bytes made the same photo).
            let now = mine(state, caller, &upload.id).await?;
            if !now.finished() {
                return Err(ApiError::OffsetMismatch(now.received));
            }
            Ok(progress(&now, StatusCode::NO_CONTENT).body(empty()).expect("valid response"))
        }
        Err(e) => {
            // A refused file, or (a guest's) a link that takes no more: the upload ends.
            let ended = matches!(e.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::GONE);
            if super::media::is_refusal(&e) || ended {
                let _ = state.db.forget_upload(&upload.id).await;
                remove_partial(state, &upload.id, None).await;
                state.metrics.tus_uploads.with_label_values(&["refused"]).inc();
            } else {
                // Not acknowledged: the client sends the last chunk again.
                sink.discard().await;
            }
            Err(e)
        }
    }
}

/// What the last byte of an upload made: a photo, or (a guest's) a photo waiting for
/// review, and the photo too when its link needs no review.
struct Made {
    photo_id: Option<i64>,
    pending_id: Option<i64>,
}

/// The whole file of a finished upload through the pipeline its sender's uploads go
/// through (a person's into their album, a guest's into the review queue of their
/// link's album), then recorded on the upload: `false` when another request finished
/// or moved it first.
async fn take_in(
    state: &Arc<AppState>,
    caller: &Caller,
    upload: &Upload,
    whole: std::path::PathBuf,
    client: crate::http::client_address::ClientBucket,
) -> Result<(Made, bool), ApiError> {
    let claim = &state.media.instance;
    match (&upload.guest, &caller.user) {
        (Some(sender), _) => {
            // Boxed, as the person's below: the pipeline's futures are large.
            let photo = Box::pin(super::guests::take_resumable(state, sender, upload, whole, client)).await?;
            let made = Made { photo_id: photo.photo_id, pending_id: Some(photo.pending.id) };
            let done = state
                .db
                .finish_guest_upload(&upload.id, photo.pending.id, photo.photo_id, upload.received, claim)
                .await?;
            Ok((made, done))
        }
        (None, Some(user)) => {
            let (_, photo) =
                Box::pin(super::media::take_in_file(state, user, upload.album_id, whole, upload.caption.clone()))
                    .await?;
            let done = state.db.finish_upload(&upload.id, photo.id(), upload.received, claim).await?;
            Ok((Made { photo_id: Some(photo.id()), pending_id: None }, done))
        }
        (None, None) => {
            let _ = tokio::fs::remove_file(&whole).await;
            Err(ApiError::NotFound)
        }
    }
}

/// Where a chunk's bytes go while they arrive: on the local folder straight into the
/// upload's partial file (past the acknowledged offset until they are synced); on S3
/// into memory when the chunk declares a length the memory budget holds, else into a
/// temp file, and from there to the bucket once the chunk is whole.
struct Sink {
    to: To,
    /// The acknowledged offset the chunk starts at.
    start: u64,
    /// On S3, the temp disk this request holds (`PUJO_UPLOAD_TEMP_BYTES`, shared with
    /// multipart uploads): the chunk as it grows in a temp file, then the whole file for
    /// the photo pipeline. (On the local folder the partial file is counted by its
    /// declared length when the upload is made.)
    space: Option<tokio::sync::OwnedSemaphorePermit>,
}

enum To {
    /// The upload's partial file (the local folder), behind a write buffer: a chunk
    /// arrives in frames of a few kilobytes.
    Partial { file: crate::media::Buffered, path: std::path::PathBuf },
    /// A temp file (S3), removed however the request ends.
    Temp { file: crate::media::Buffered, temp: crate::media::TempFile },
    /// Memory (S3), within the chunk's share of [`CHUNK_MEMORY_KIB`]. On a busy
    /// machine each write to a file is a trip to the blocking pool and back, each
    /// waiting for a core; a chunk held in memory makes none of them.
    Memory { bytes: bytes::BytesMut, declared: u64, _share: tokio::sync::OwnedSemaphorePermit },
}

/// The largest chunk held in memory while it arrives (one a phone sends is about a
/// megabyte), and the memory all chunks held so together may take, in KiB: 64 chunks
/// of a megabyte at once. Past either a chunk goes through a temp file, as it did
/// before.
const CHUNK_IN_MEMORY_MAX: u64 = 8 * 1024 * 1024;
const CHUNK_MEMORY_KIB: u32 = 64 * 1024;

/// A share of [`CHUNK_MEMORY_KIB`] for a chunk of `len` bytes, if one is left.
fn chunk_memory(len: u64) -> Option<tokio::sync::OwnedSemaphorePermit> {
    static BUDGET: std::sync::OnceLock<Arc<tokio::sync::Semaphore>> = std::sync::OnceLock::new();
    if len > CHUNK_IN_MEMORY_MAX {
        return None;
    }
    let budget = BUDGET.get_or_init(|| Arc::new(tokio::sync::Semaphore::new(CHUNK_MEMORY_KIB as usize)));
    let kib = u32::try_from(len.div_ceil(1024).max(1)).ok()?;
    budget.clone().try_acquire_many_owned(kib).ok()
}

impl Sink {
    /// Where the chunk's bytes go; `declared` is its `Content-Length`, if it sent one.
    async fn open(state: &AppState, upload: &Upload, start: u64, declared: Option<u64>) -> Result<Sink, ApiError> {
        let internal = |e: std::io::Error| ApiError::Internal(Box::new(e));
        if state.media.store.s3().is_some() {
            if let Some(declared) = declared
                && let Some(share) = chunk_memory(declared)
            {
                let bytes = bytes::BytesMut::with_capacity(usize::try_from(declared).unwrap_or(0));
                return Ok(Sink { to: To::Memory { bytes, declared, _share: share }, start, space: None });
            }
            let temp = crate::media::TempFile(state.media.temp_path());
            let file = crate::media::buffered(tokio::fs::File::create(&temp.0).await.map_err(internal)?);
            return Ok(Sink { to: To::Temp { file, temp }, start, space: None });
        }
        let path = state.media.partial_path(&upload.id);
        let mut file = tokio::fs::OpenOptions::new().write(true).open(&path).await.map_err(|_| ApiError::NotFound)?;
        // Whatever is past the acknowledged offset (a chunk cut short before it was
        // acknowledged) is not the client's to keep: it resends from the offset.
        let on_disk = file.metadata().await.map_err(internal)?.len();
        if on_disk < start {
            // Acknowledged bytes are missing (the partial folder was lost): never pad
            // them with zeros; the upload is gone and the client starts again.
            tracing::warn!(upload = %upload.id, on_disk, acknowledged = start, "a partial upload lost acknowledged bytes");
            let _ = state.db.forget_upload(&upload.id).await;
            let _ = tokio::fs::remove_file(&path).await;
            return Err(ApiError::NotFound);
        }
        file.set_len(start).await.map_err(internal)?;
        file.seek(std::io::SeekFrom::Start(start)).await.map_err(internal)?;
        Ok(Sink { to: To::Partial { file: crate::media::buffered(file), path }, start, space: None })
    }

    fn on_s3(&self) -> bool {
        !matches!(self.to, To::Partial { .. })
    }

    /// Whether the chunk grows on the temp disk (and must reserve it as it does).
    fn in_temp_file(&self) -> bool {
        matches!(self.to, To::Temp { .. })
    }

    /// The next bytes of the chunk.
    async fn write(&mut self, data: &[u8]) -> Result<(), ApiError> {
        match &mut self.to {
            To::Partial { file, .. } | To::Temp { file, .. } => {
                file.write_all(data).await.map_err(|e| ApiError::Internal(Box::new(e)))
            }
            To::Memory { bytes, declared, .. } => {
                // Framing holds a body to its Content-Length; the share is no larger.
                if (bytes.len() + data.len()) as u64 > *declared {
                    return Err(ApiError::Validation("the chunk is longer than its Content-Length".into()));
                }
                bytes.extend_from_slice(data);
                Ok(())
            }
        }
    }

    /// Drops what this chunk wrote to the partial file, past the acknowledged offset
    /// (on S3 the temp file or the memory goes when the sink does).
    async fn discard(&self) {
        if let To::Partial { file, .. } = &self.to {
            // What the buffer still holds is never written: the cut goes below it.
            let _ = file.file().set_len(self.start).await;
        }
    }

    /// Synced before anything acknowledges it.
    async fn finish(&mut self) -> Result<(), ApiError> {
        let internal = |e: std::io::Error| ApiError::Internal(Box::new(e));
        match &mut self.to {
            To::Partial { file, .. } => {
                file.flush().await.map_err(internal)?;
                file.file().sync_all().await.map_err(internal)
            }
            To::Temp { file, .. } => file.flush().await.map_err(internal),
            To::Memory { .. } => Ok(()),
        }
    }

    /// The chunk's bytes, for the bucket (on S3): the memory's are handed over.
    fn chunk(&mut self) -> crate::media::partial::Chunk<'_> {
        use crate::media::partial::Chunk;
        match &mut self.to {
            To::Partial { path, .. } => Chunk::File(path),
            To::Temp { temp, .. } => Chunk::File(&temp.0),
            To::Memory { bytes, .. } => Chunk::Memory(bytes.split().freeze()),
        }
    }

    /// Keeps the chunk's bytes (in the bucket, on S3) and acknowledges them with `ack`,
    /// which lets go of the request's claim.
    async fn keep(&mut self, state: &AppState, upload: &Upload, ack: crate::db::Ack<'_>) -> Result<(), ApiError> {
        if !self.on_s3() {
            if !state.db.advance_upload(&upload.id, ack).await? {
                return Err(ApiError::OffsetMismatch(upload.received));
            }
            return Ok(());
        }
        let write_by = renew(state, &upload.id).await?;
        let written = u64::try_from(ack.to - ack.from).unwrap_or(0);
        let kept = match state.media.keep_chunk(upload, self.chunk(), written, write_by).await {
            Ok(kept) => kept,
            Err(e) => return Err(partial_error(state, upload, e).await),
        };
        let moved = match &kept {
            crate::media::partial::Kept::Segment => state.db.advance_upload(&upload.id, ack).await,
            crate::media::partial::Kept::Part { tags, multipart, .. } => {
                state.db.advance_upload_parts(&upload.id, ack, tags, multipart).await
            }
        };
        if !matches!(moved, Ok(true))
            && let crate::media::partial::Kept::Part { multipart, created: true, .. } = &kept
        {
            // Its only part was not recorded: nothing else will ever name it.
            state.media.abort_parts(&upload.id, multipart).await;
        }
        if !moved? {
            return Err(ApiError::OffsetMismatch(upload.received));
        }
        if matches!(kept, crate::media::partial::Kept::Part { .. })
            && let Err(e) = state.media.drop_segments(&upload.id, u64::try_from(ack.to).unwrap_or(0)).await
        {
            tracing::warn!(upload = %upload.id, error = %e, "cannot remove segments that became a part; the sweep will");
        }
        Ok(())
    }

    /// The whole file, the last chunk included, as a temp file of its own for the
    /// photo pipeline: a copy of the partial file, or fetched from the bucket.
    async fn whole(&mut self, state: &AppState, upload: &Upload, chunk: u64) -> Result<std::path::PathBuf, ApiError> {
        let internal = |e: std::io::Error| ApiError::Internal(Box::new(e));
        let whole = crate::media::TempFile(state.media.temp_path());
        if let To::Partial { path, .. } = &self.to {
            // A copy, not a link to the partial file: a client that sends the last chunk
            // again cuts the partial file back while the pipeline may still be reading
            // the whole one (a guest's goes on after its request is gone).
            tokio::fs::copy(path, &whole.0).await.map_err(internal)?;
            return Ok(whole.keep());
        }
        // The whole file and the pipeline's stripped copy (a reservation counts both),
        // beside the last chunk when it is in a temp file: room first, or the client
        // sends it again.
        let length = u64::try_from(upload.length).unwrap_or(u64::MAX);
        let beside = if self.in_temp_file() { chunk } else { 0 };
        if !state.media.reserve_temp(&mut self.space, length.saturating_add(beside)) {
            state.metrics.tus_uploads.with_label_values(&["no_space"]).inc();
            return Err(ApiError::Unavailable);
        }
        let fetched = async {
            let mut out = crate::media::buffered(tokio::fs::File::create(&whole.0).await.map_err(internal)?);
            let write_by = renew(state, &upload.id).await?;
            match state.media.fetch_partial(upload, &mut out, write_by).await {
                Ok(Some(multipart)) => {
                    state.db.upload_parts_joined(&upload.id, &multipart, &state.media.instance).await?;
                }
                Ok(None) => {}
                Err(e) => return Err(partial_error(state, upload, e).await),
            }
            self.chunk().append_to(&mut out).await.map_err(internal)?;
            out.flush().await.map_err(internal)?;
            Ok(())
        }
        .await;
        fetched?;
        Ok(whole.keep())
    }
}

/// What a failure to keep or fetch partial bytes in the bucket tells the client.
/// Only acknowledged bytes proven missing end the upload (404: the client starts
/// again; they are never filled in); anything else, a missing bucket included, is the
/// bucket's trouble and passes (503).
async fn partial_error(state: &AppState, upload: &Upload, e: crate::media::partial::PartialError) -> ApiError {
    use crate::media::partial::PartialError;
    match e {
        PartialError::Gap => {
            tracing::warn!(upload = %upload.id, "a partial upload lost acknowledged bytes in the bucket");
            let _ = state.db.forget_upload(&upload.id).await;
            remove_partial(state, &upload.id, upload.multipart.as_deref()).await;
            ApiError::NotFound
        }
        PartialError::Late => ApiError::Unavailable,
        PartialError::Store(crate::media::StoreError::NotFound) => {
            tracing::warn!(upload = %upload.id, "the bucket answered 404 for a partial upload");
            ApiError::Unavailable
        }
        PartialError::Store(e) => super::media::store_error(&e),
    }
}

/// Removes uploads past their expiry (rows and partial files), and partial files no
/// row names (an upload deleted with its album or account), a batch at a time.
pub async fn sweep(state: &AppState) -> Result<u64, crate::db::DbError> {
    let mut removed = 0;
    loop {
        let expired = state.db.expired_uploads(500).await?;
        let mut swept = 0;
        for (id, multipart) in &expired {
            // One being written to right now (here or on another replica) is left for
            // the next sweep.
            let Ok(_writer) = claim(state, id).await else { continue };
            state.db.forget_upload(id).await?;
            remove_partial(state, id, multipart.as_deref()).await;
            state.metrics.tus_uploads.with_label_values(&["expired"]).inc();
            swept += 1;
        }
        removed += swept;
        if swept == 0 || expired.len() < 500 {
            break;
        }
    }
    // What no row names: the rows went with their album or account. Left an hour,
    // so that an upload being created right now is not mistaken for one.
    const ORPHAN_AGE: Duration = Duration::from_secs(3600);
    let known: std::collections::HashSet<String> = state.db.upload_ids().await?.into_iter().collect();
    if state.media.store.s3().is_some() {
        match state.media.drop_orphan_partials(&known, ORPHAN_AGE).await {
            Ok(n) => removed += n,
            Err(e) => tracing::warn!(error = %e, "cannot sweep partial uploads in the bucket"),
        }
        return Ok(removed);
    }
    if let Ok(mut dir) = tokio::fs::read_dir(state.media.partial_dir()).await {
        while let Ok(Some(entry)) = dir.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            let old = entry
                .metadata()
                .await
                .ok()
                .and_then(|m| m.modified().ok())
                .is_some_and(|t| t.elapsed().unwrap_or_default() > ORPHAN_AGE);
            if old && !known.contains(&name) {
                let _ = tokio::fs::remove_file(entry.path()).await;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_held_in_memory_are_bounded_each_and_together() {
        assert!(chunk_memory(CHUNK_IN_MEMORY_MAX + 1).is_none(), "a larger chunk goes through a temp file");
        let whole = CHUNK_MEMORY_KIB as u64 * 1024;
        let held: Vec<_> = (0..whole / CHUNK_IN_MEMORY_MAX).map(|_| chunk_memory(CHUNK_IN_MEMORY_MAX)).collect();
        assert!(held.iter().all(Option::is_some), "the budget holds this many chunks of the largest size");
        assert!(chunk_memory(1).is_none(), "the budget is spent: the next chunk goes through a temp file");
        drop(held);
        assert!(chunk_memory(CHUNK_IN_MEMORY_MAX).is_some(), "shares come back with their chunks");
    }

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn metadata_names_the_album_and_keeps_the_text() {
        let text = format!(
            "album_id {},filename {},caption {},filetype {}",
            b64("12"),
            b64("ashtami.jpg"),
            b64("সন্ধি পুজো"),
            b64("image/jpeg")
        );
        assert_eq!(
            parse_metadata(&text),
            Ok(Metadata {
                album_id: Some(12),
                filename: "ashtami.jpg".into(),
                caption: "সন্ধি পুজো".into(),
                guest_name: String::new()
            })
        );
        assert_eq!(parse_metadata(&format!("album_id {},filename", b64("3"))).map(|m| m.filename), Ok(String::new()));
    }

    #[test]
    fn bad_metadata_is_refused_by_name() {
        assert_eq!(parse_metadata("").and_then(|m| m.album()), Err(MetadataError::NoAlbum));
        assert_eq!(parse_metadata(&format!("album_id {}", b64("-1"))), Err(MetadataError::NoAlbum));
        // A guest names no album (their link does), and may give their name.
        let guest = parse_metadata(&format!("filename {},guest_name {}", b64("a.jpg"), b64("Mou"))).expect("taken");
        assert_eq!((guest.album_id, guest.guest_name.as_str()), (None, "Mou"));
        assert_eq!(parse_metadata("album_id ***"), Err(MetadataError::NotText("album_id".into())));
        let twice = format!("album_id {0},album_id {0}", b64("1"));
        assert_eq!(parse_metadata(&twice), Err(MetadataError::Repeated("album_id".into())));
        assert_eq!(
            parse_metadata(&format!("album_id {} x", b64("1"))),
            Err(MetadataError::Malformed(format!("album_id {} x", b64("1"))))
        );
        assert_eq!(
            parse_metadata(&format!("album_id {},owner {}", b64("1"), b64("2"))),
            Err(MetadataError::Unknown("owner".into()))
        );
        assert_eq!(parse_metadata(&"a".repeat(MAX_METADATA_BYTES + 1)), Err(MetadataError::TooLong));
    }
}
