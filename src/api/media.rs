//! Photos in (`POST /api/v1/albums/{id}/photos`) and out (`GET /media/{id}/{variant}`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::accounts::{require_user, viewer_id};
use super::multipart::{Form, FormError, MAX_PART_HEADER_BYTES};
use super::views::{PhotoJson, path_id, path_param};
use super::{ApiError, json};
use crate::cache::Tag;
use crate::db::{NOBODY, NewPhoto, Visibility};
use crate::http::Body;
use crate::media::{
    Format, Hashing, IngestError, StoreError, TempFile, derivative_key, original_key, public_original_key,
};
use crate::ratelimit::REFUSED_UPLOADS_PER_ACCOUNT;
use crate::state::AppState;

/// Files per upload request; the site sends one, other clients may batch a few.
const MAX_FILES: usize = 20;
const MAX_CAPTION_BYTES: usize = 8 * 1024;
/// An upload that sends nothing for this long is given up (408), whether it is in a
/// file's bytes or between parts.
const UPLOAD_IDLE: std::time::Duration = std::time::Duration::from_secs(60);
struct Received {
    temp: TempFile,
    sha256: Vec<u8>,
    len: u64,
    /// Its share of the temp disk, given back with the file.
    _space: Option<tokio::sync::OwnedSemaphorePermit>,
}

fn field_error(name: &str, problem: &str) -> ApiError {
    ApiError::Fields(BTreeMap::from([(name.to_owned(), problem.to_owned())]))
}

fn record(state: &AppState, outcome: &str, bytes: u64, started: Instant) {
    let m = &state.metrics;
    m.uploads.with_label_values(&[outcome]).inc();
    m.upload_bytes.with_label_values(&[outcome]).inc_by(bytes);
    m.upload_seconds.with_label_values(&[outcome]).observe(started.elapsed().as_secs_f64());
}

#[derive(Serialize)]
struct Uploaded {
    items: Vec<PhotoJson>,
}

/// Multipart upload into one of the person's albums: `file` parts (one or more) and
/// an optional `caption`. Each file streams to a temp file while its SHA-256 is
/// computed, never whole in memory; over the size limit it is refused (413) at the
/// byte that crosses it. Nothing is recorded unless every file is taken in.
pub async fn upload(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let started = Instant::now();
    let user = require_user(state, &req).await?;
    check_refusals(state, user.id).await?;
    let user_id = user.id;
    let result = take_upload(state, req, user, started).await;
    count_refusal(state, user_id, result.as_ref().is_err_and(is_refusal)).await;
    result
}

/// A person whose uploads keep being refused (unreadable, lying about their size, too
/// large) is sending something other than photos: past the limit the next upload (of
/// either kind) is refused before its body is read.
pub(super) async fn check_refusals(state: &AppState, user_id: i64) -> Result<(), ApiError> {
    state.limiter.check(&refusals_key(user_id), REFUSED_UPLOADS_PER_ACCOUNT).await.map_err(ApiError::RateLimited)
}

fn refusals_key(user_id: i64) -> String {
    format!("refused-uploads:{user_id}")
}

/// Whether an upload's failure is a refusal of what was sent (too large, not a photo,
/// unreadable), rather than of the moment (busy, the store away).
pub(super) fn is_refusal(e: &ApiError) -> bool {
    matches!(
        e.status(),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY
    )
}

/// Counts a refused upload against its account, once the refusal is decided; the
/// window is what the check before the next body reads.
async fn count_refusal(state: &AppState, user_id: i64, refused: bool) {
    if refused {
        let _ = state.limiter.hit(&refusals_key(user_id), REFUSED_UPLOADS_PER_ACCOUNT).await;
    }
}

async fn take_upload(
    state: &AppState,
    req: Request<Incoming>,
    user: crate::db::User,
    started: Instant,
) -> Result<Response<Body>, ApiError> {
    let request_time = request_time();
    let album = own_album(state, user.id, path_id(&req, 0)?).await?;
    let UploadForm { files, caption, .. } = read_form(state, req, started, false).await?;
    // From here until the rows are in, no deletion (gc, an account's clean-up) may
    // take these contents' blobs: a duplicate skips writing the original, and a copy
    // writes nothing at all.
    let mut hashes: Vec<Vec<u8>> = files.iter().map(|f| f.sha256.clone()).collect();
    hashes.sort();
    hashes.dedup();
    claim_contents(state, &hashes).await?;
    let result = record_files(state, &user, &album, files, caption, started, request_time)
        .await
        .map(|(status, items)| json(status, &Uploaded { items }));
    for hash in &hashes {
        if let Err(e) = state.db.release_content(hash).await {
            // Forgotten after the lock's time to live; deletions of it wait till then.
            tracing::warn!(error = %e, "could not release an upload's hold on its content");
        }
    }
    result
}

/// What an upload form held: its files (each in a temp file, hashed), the caption and,
/// from a guest, the name they gave.
struct UploadForm {
    files: Vec<Received>,
    caption: String,
    name: Option<String>,
}

/// Reads a multipart upload form: `file` parts (one or more, each streamed to disk),
/// an optional `caption` and, when `guest`, an optional `name`.
async fn read_form(
    state: &AppState,
    req: Request<Incoming>,
    started: Instant,
    guest: bool,
) -> Result<UploadForm, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| ApiError::UnsupportedMediaType("multipart/form-data with `file` parts"))?;
    let limit = state.media.settings.max_upload_bytes;
    // Every file within the limit, the caption, and the parts' headers: the whole body.
    let whole = (limit + MAX_PART_HEADER_BYTES).saturating_mul(MAX_FILES as u64 + 2);
    let mut form = Form::new(req.into_body().into_data_stream(), boundary, whole);

    let mut files: Vec<Received> = Vec::new();
    let mut caption = String::new();
    let mut name = None;
    loop {
        let next = tokio::time::timeout(UPLOAD_IDLE, form.next_part()).await.map_err(|_| ApiError::Timeout)?;
        let field = match next {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e @ FormError::HeadersTooLong) => return Err(field_error("file", &e.to_string())),
            Err(e @ FormError::Malformed(_)) => return Err(ApiError::Validation(e.to_string())),
        };
        match field.name() {
            Some("file") => {
                if files.len() == MAX_FILES {
                    return Err(field_error("file", &format!("at most {MAX_FILES} files per request")));
                }
                match receive(state, field, limit).await {
                    Ok(received) => files.push(received),
                    Err(e) => {
                        if matches!(e, ApiError::PayloadTooLarge(_)) {
                            record(state, "too_large", limit, started);
                        }
                        return Err(e);
                    }
                }
            }
            Some("caption") => {
                let bytes = read_small(field, MAX_CAPTION_BYTES).await?;
                caption = String::from_utf8(bytes.to_vec()).map_err(|_| field_error("caption", "not UTF-8 text"))?;
                let mut check = super::views::Check::default();
                check.text("caption", &caption, 0, 2000, true);
                check.finish()?;
            }
            Some("name") if guest => {
                let bytes = read_small(field, MAX_CAPTION_BYTES).await?;
                let text = String::from_utf8(bytes.to_vec()).map_err(|_| field_error("name", "not UTF-8 text"))?;
                let mut check = super::views::Check::default();
                check.text("name", &text, 0, super::guests::MAX_GUEST_NAME_CHARS, false);
                check.finish()?;
                name = Some(text.trim().to_owned());
            }
            other => {
                return Err(field_error(other.unwrap_or("(unnamed)"), "unknown part; send `file` and `caption`"));
            }
        }
    }
    if files.is_empty() {
        return Err(field_error("file", "no file in the upload"));
    }
    Ok(UploadForm { files, caption, name })
}

/// Holds every content for this upload, waiting out a deletion of one under way.
async fn claim_contents(state: &AppState, hashes: &[Vec<u8>]) -> Result<(), ApiError> {
    for (i, hash) in hashes.iter().enumerate() {
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        while !state.db.claim_content(hash).await? {
            if Instant::now() > deadline {
                for held in &hashes[..i] {
                    let _ = state.db.release_content(held).await;
                }
                return Err(ApiError::Unavailable);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// Duplicates, copies and new photos of one upload, recorded once every new file is
/// taken in.
async fn record_files(
    state: &AppState,
    user: &crate::db::User,
    album: &crate::db::Album,
    files: Vec<Received>,
    caption: String,
    started: Instant,
    request_time: time::OffsetDateTime,
) -> Result<(StatusCode, Vec<PhotoJson>), ApiError> {
    // The same bytes uploaded again by the same person: into the album that has them,
    // that photo is the answer; into another album, a new photo there that shares the
    // stored blobs (and what was read from them) with the first.
    let mut items = Vec::with_capacity(files.len());
    let mut fresh = Vec::with_capacity(files.len());
    let mut rows: Vec<(NewPhoto, u64)> = Vec::with_capacity(files.len());
    for file in files {
        match state.db.photo_of_owner_by_content(user.id, &file.sha256).await? {
            Some(photo) if photo.album_id == album.id => {
                record(state, "duplicate", file.len, started);
                items.push(PhotoJson::view(photo, user.id));
            }
            Some(photo) => rows.push((
                NewPhoto {
                    owner_id: user.id,
                    album_id: album.id,
                    caption: caption.trim().to_owned(),
                    width: photo.width,
                    height: photo.height,
                    taken_at: photo.taken_at,
                    exif: photo.exif,
                    sha256: photo.sha256,
                    content_type: photo.content_type,
                    byte_size: photo.byte_size,
                    thumbhash: photo.thumbhash,
                    gps_privacy: user.gps_privacy,
                    lat: photo.lat,
                    lon: photo.lon,
                },
                file.len,
            )),
            None => fresh.push(file),
        }
    }
    // Take every new file in (check, decode, store) before recording any of them.
    for file in &fresh {
        match state.media.ingest(&state.metrics, &file.temp.0, file.sha256.clone(), file.len).await {
            Ok(done) => {
                let p = done.processed;
                let new = NewPhoto {
                    owner_id: user.id,
                    album_id: album.id,
                    caption: caption.trim().to_owned(),
                    width: i64::from(p.width),
                    height: i64::from(p.height),
                    taken_at: p.exif.taken_at,
                    exif: serde_json::Value::Object(p.exif.shown),
                    sha256: done.sha256,
                    content_type: done.format.mime().to_owned(),
                    byte_size: i64::try_from(done.byte_size).unwrap_or(i64::MAX),
                    thumbhash: Some(p.thumbhash),
                    gps_privacy: user.gps_privacy,
                    lat: p.exif.lat,
                    lon: p.exif.lon,
                };
                rows.push((new, file.len));
            }
            Err(e) => {
                let total: u64 = fresh.iter().map(|f| f.len).sum();
                let (outcome, error) = ingest_error(e);
                record(state, outcome, total, started);
                return Err(error);
            }
        }
    }
    let mut touched = Vec::with_capacity(rows.len());
    let mut recorded = Ok(());
    let mut any_new = false;
    for (new, len) in rows {
        let photo = match state.db.create_photo(&new).await {
            Ok(photo) => photo,
            Err(e) => {
                recorded = Err(e);
                break;
            }
        };
        touched.push(Tag::Photo(photo.id));
        // The same bytes were already in this album: that photo is the answer.
        let outcome = if photo.created_at < request_time { "duplicate" } else { "stored" };
        any_new |= outcome == "stored";
        record(state, outcome, len, started);
        items.push(PhotoJson::view(photo, user.id));
    }
    if any_new {
        // The album as it is now that the photos are in: an album moved to another
        // pandal while they arrived must retire the page that shows it now (a move
        // after this read retires every list itself). Gone: every list.
        let mut tags = match state.db.album(album.id, user.id, None).await {
            Ok(Some(now)) => super::photos::new_photo_tags(&now, &caption),
            _ => vec![Tag::Album(album.id), Tag::Lists],
        };
        tags.append(&mut touched);
        state.cache.publish(&state.db, &tags).await;
    }
    recorded?;
    let status = if any_new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, items))
}

/// Rows keep milliseconds: a photo created by this request (a copy takes under one)
/// must not look older than the request.
fn request_time() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_millisecond(now.millisecond()).unwrap_or(now)
}

/// Album `album_id` as `user_id` sees it, if it is theirs: only an album's owner adds
/// photos to it (404 for one they cannot see, 403 for another's).
pub(super) async fn own_album(state: &AppState, user_id: i64, album_id: i64) -> Result<crate::db::Album, ApiError> {
    let album = state.db.album(album_id, user_id, None).await?.ok_or(ApiError::NotFound)?;
    if album.owner.id != user_id {
        return Err(ApiError::Forbidden("only the album's owner may add photos to it"));
    }
    Ok(album)
}

/// A whole file on disk (a finished resumable upload), hashed as a multipart part is
/// while it arrives. An empty file is refused.
async fn hashed(temp: TempFile) -> Result<Received, ApiError> {
    let source = temp.0.clone();
    let (sha256, len) = tokio::task::spawn_blocking(move || -> std::io::Result<(Vec<u8>, u64)> {
        use std::io::Read;
        let mut file = std::fs::File::open(source)?;
        let mut hashing = Hashing::default();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hashing.update(&buf[..n]);
        }
        let len = hashing.len;
        Ok((hashing.finish(), len))
    })
    .await
    .map_err(|e| ApiError::Internal(Box::new(e)))?
    .map_err(|e| ApiError::Internal(Box::new(e)))?;
    if len == 0 {
        return Err(field_error("file", "the file is empty"));
    }
    Ok(Received { temp, sha256, len, _space: None })
}

/// A whole file already on disk (a finished resumable upload) taken in as an upload of
/// one file into `album_id`: the same ownership rule, checks, dedupe, derivatives and
/// limits as a multipart upload. The file is removed however it ends.
pub(super) async fn take_in_file(
    state: &AppState,
    user: &crate::db::User,
    album_id: i64,
    path: PathBuf,
    caption: String,
) -> Result<(StatusCode, PhotoJson), ApiError> {
    let started = Instant::now();
    let request_time = request_time();
    let temp = TempFile(path);
    let result = async {
        let album = own_album(state, user.id, album_id).await?;
        let file = hashed(temp).await?;
        let sha256 = file.sha256.clone();
        claim_contents(state, std::slice::from_ref(&sha256)).await?;
        let result = record_files(state, user, &album, vec![file], caption, started, request_time).await;
        if let Err(e) = state.db.release_content(&sha256).await {
            tracing::warn!(error = %e, "could not release an upload's hold on its content");
        }
        let (status, mut items) = result?;
        let photo = items.pop().ok_or_else(|| ApiError::Internal("an upload of one file made no photo".into()))?;
        Ok((status, photo))
    }
    .await;
    count_refusal(state, user.id, result.as_ref().is_err_and(is_refusal)).await;
    result
}

/// What a guest sent through an upload link, as it ended up: waiting for review, or
/// (a link that needs none) already a photo of the album.
pub(super) struct GuestPhoto {
    pub pending: crate::db::PendingPhoto,
    pub photo_id: Option<i64>,
}

/// A guest's multipart upload through `link` into its album: the same form, limits,
/// checks and derivatives as anybody's, each file counted against the link's caps
/// before it is taken in (and given back if it is not), kept without its location,
/// and put in the review queue (or approved at once when the link needs no review).
pub(super) async fn take_guest_upload(
    state: &Arc<AppState>,
    req: Request<Incoming>,
    link: &crate::db::UploadLink,
    owner_id: i64,
    guest: [u8; 32],
    per_file: &[(String, crate::ratelimit::Limit)],
) -> Result<Vec<GuestPhoto>, ApiError> {
    let started = Instant::now();
    let UploadForm { files, caption, name } = read_form(state, req, started, true).await?;
    let mut taken = Vec::with_capacity(files.len());
    for file in files {
        for (key, limit) in per_file {
            state.limiter.hit(key, *limit).await.map_err(ApiError::RateLimited)?;
        }
        let sender = crate::db::GuestSender { link_id: link.id, guest, name: name.clone().unwrap_or_default() };
        taken.push(take_guest_one(state, link, owner_id, &sender, file, &caption, started).await?);
    }
    Ok(taken)
}

/// A finished resumable upload of a guest through `link`, taken in as one file of
/// their multipart upload is. The file is removed however it ends.
pub(super) async fn take_guest_in_file(
    state: &Arc<AppState>,
    link: &crate::db::UploadLink,
    owner_id: i64,
    sender: &crate::db::GuestSender,
    whole: TempFile,
    caption: &str,
) -> Result<GuestPhoto, ApiError> {
    let started = Instant::now();
    let file = hashed(whole).await?;
    take_guest_one(state, link, owner_id, sender, file, caption, started).await
}

/// One file of a guest: a slot of the link's caps taken first (given back if the file
/// is not taken in), then the same pipeline as anybody's. The file has arrived whole:
/// the work goes on in a task of its own even if the guest's connection drops
/// meanwhile, so that a slot taken is never left without its photo.
async fn take_guest_one(
    state: &Arc<AppState>,
    link: &crate::db::UploadLink,
    owner_id: i64,
    sender: &crate::db::GuestSender,
    file: Received,
    caption: &str,
    started: Instant,
) -> Result<GuestPhoto, ApiError> {
    let (state, link, sender, caption) = (Arc::clone(state), link.clone(), sender.clone(), caption.to_owned());
    tokio::spawn(async move { take_guest_counted(&state, &link, owner_id, &sender, &file, &caption, started).await })
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?
}

async fn take_guest_counted(
    state: &AppState,
    link: &crate::db::UploadLink,
    owner_id: i64,
    sender: &crate::db::GuestSender,
    file: &Received,
    caption: &str,
    started: Instant,
) -> Result<GuestPhoto, ApiError> {
    // The same bytes through the same link already wait (a last chunk sent again
    // while its first sending was still being made into the photo): that photo, with
    // no second slot of the caps.
    if let Some(pending) = state.db.pending_photo_by_content(link.album_id, &file.sha256).await?
        && pending.upload_link_id == Some(link.id)
    {
        return Ok(GuestPhoto { pending, photo_id: None });
    }
    match state.db.take_upload_slot(link, &sender.guest).await? {
        Ok(()) => {}
        Err("per_guest") => return Err(ApiError::Forbidden("this link takes no more photos from you")),
        Err(_) => return Err(ApiError::Forbidden("this link takes no more photos")),
    }
    let sha256 = file.sha256.clone();
    let result = match claim_contents(state, std::slice::from_ref(&sha256)).await {
        Ok(()) => {
            let result = take_guest_file(state, link, owner_id, file, caption, &sender.name, started).await;
            if let Err(e) = state.db.release_content(&sha256).await {
                tracing::warn!(error = %e, "could not release an upload's hold on its content");
            }
            result
        }
        Err(e) => Err(e),
    };
    if result.is_err()
        && let Err(e) = state.db.give_back_upload_slot(link.id, &sender.guest).await
    {
        tracing::warn!(error = %e, "could not give back an upload link's slot");
    }
    result
}

async fn take_guest_file(
    state: &AppState,
    link: &crate::db::UploadLink,
    owner_id: i64,
    file: &Received,
    caption: &str,
    name: &str,
    started: Instant,
) -> Result<GuestPhoto, ApiError> {
    let done = match state.media.ingest(&state.metrics, &file.temp.0, file.sha256.clone(), file.len).await {
        Ok(done) => done,
        Err(e) => {
            let (outcome, error) = ingest_error(e);
            record(state, outcome, file.len, started);
            return Err(error);
        }
    };
    let p = done.processed;
    let pending = state
        .db
        .create_pending_photo(&crate::db::NewPendingPhoto {
            album_id: link.album_id,
            owner_id,
            upload_link_id: link.id,
            guest_name: name.to_owned(),
            caption: caption.trim().to_owned(),
            width: i64::from(p.width),
            height: i64::from(p.height),
            taken_at: p.exif.taken_at,
            // What was read of the camera, never where it was.
            exif: serde_json::Value::Object(p.exif.shown),
            sha256: done.sha256,
            content_type: done.format.mime().to_owned(),
            byte_size: i64::try_from(done.byte_size).unwrap_or(i64::MAX),
            thumbhash: Some(p.thumbhash),
            lat: if link.keep_location { p.exif.lat } else { None },
            lon: if link.keep_location { p.exif.lon } else { None },
        })
        .await?;
    record(state, "stored", file.len, started);
    let photo_id = if link.needs_review {
        None
    } else {
        let id = state.db.approve_pending_photo(link.album_id, pending.id).await?;
        if let Some(id) = id {
            state.cache.publish(&state.db, &[Tag::Album(link.album_id), Tag::Lists, Tag::Photo(id)]).await;
        }
        id
    };
    Ok(GuestPhoto { pending, photo_id })
}

/// `GET /media/pending/{id}/{variant}`: a photo waiting for review, for its album's
/// owner alone (404 to everyone else), WebP or JPEG by `Accept`.
pub async fn serve_pending(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let id = path_id(&req, 0)?;
    let variant = path_param(&req, 1);
    if !matches!(variant, "thumb" | "medium" | "display") {
        return Err(ApiError::NotFound);
    }
    let user = super::accounts::current_user(state, &req).await?.ok_or(ApiError::NotFound)?;
    let pending = state.db.pending_photo(id).await?.ok_or(ApiError::NotFound)?;
    // Its reviewers alone: the album's owner, its pandal's moderators, admins.
    if pending.owner_id != user.id {
        super::albums::steward_album(state, pending.album_id, &user).await.map_err(|_| ApiError::NotFound)?;
    }
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = if accepts_webp(accept) { Format::Webp } else { Format::Jpeg };
    let key = derivative_key(&pending.sha256, variant, format);
    let bytes = state.media.derivative(&state.metrics, &key).await.map_err(|e| store_error(&e))?;
    Ok(Response::builder()
        .header(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"))
        .header(header::CONTENT_TYPE, HeaderValue::from_static(format.mime()))
        .header(header::VARY, HeaderValue::from_static("Accept, Cookie"))
        .header("cross-origin-resource-policy", HeaderValue::from_static("same-origin"))
        .header(header::CONTENT_LENGTH, bytes.len())
        .body(crate::http::full(bytes))
        .expect("valid response"))
}

/// Streams one `file` part to a temp file, hashing as it goes.
async fn receive(state: &AppState, mut field: multer::Field<'_>, limit: u64) -> Result<Received, ApiError> {
    let temp = TempFile(state.media.temp_path());
    let file = tokio::fs::File::create(&temp.0).await.map_err(|e| ApiError::Internal(Box::new(e)))?;
    let mut file = crate::media::buffered(file);
    let mut hashing = Hashing::default();
    let mut space = None;
    loop {
        // A phone on a crowded network may be slow, but not silent for this long.
        let next = tokio::time::timeout(UPLOAD_IDLE, field.chunk()).await.map_err(|_| ApiError::Timeout)?;
        let chunk = match next {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Err(ApiError::Validation(format!("the upload was cut short: {e}"))),
        };
        if hashing.len + chunk.len() as u64 > limit {
            return Err(ApiError::PayloadTooLarge(usize::try_from(limit).unwrap_or(usize::MAX)));
        }
        // The disk all uploads share: when it is taken, this one stops here (503) and
        // its partial file goes, rather than filling the disk for everyone.
        if !state.media.reserve_temp(&mut space, hashing.len + chunk.len() as u64) {
            state.metrics.uploads.with_label_values(&["no_space"]).inc();
            return Err(ApiError::Unavailable);
        }
        hashing.update(&chunk);
        file.write_all(&chunk).await.map_err(|e| ApiError::Internal(Box::new(e)))?;
    }
    file.flush().await.map_err(|e| ApiError::Internal(Box::new(e)))?;
    if hashing.len == 0 {
        return Err(field_error("file", "the file is empty"));
    }
    let len = hashing.len;
    Ok(Received { temp, sha256: hashing.finish(), len, _space: space })
}

async fn read_small(mut field: multer::Field<'_>, limit: usize) -> Result<Bytes, ApiError> {
    let mut out = Vec::new();
    loop {
        let next = tokio::time::timeout(UPLOAD_IDLE, field.chunk()).await.map_err(|_| ApiError::Timeout)?;
        let Some(chunk) = next.map_err(|e| ApiError::Validation(e.to_string()))? else { break };
        if out.len() + chunk.len() > limit {
            return Err(field_error("caption", "too long"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.into())
}

fn ingest_error(e: IngestError) -> (&'static str, ApiError) {
    match e {
        IngestError::Refused(crate::media::sniff::SniffError::Unsupported) => {
            ("refused", ApiError::UnsupportedMediaType("a JPEG, PNG or WebP image"))
        }
        IngestError::Refused(other) => ("refused", field_error("file", &other.to_string())),
        IngestError::Broken(e) => ("refused", field_error("file", &e.to_string())),
        IngestError::Store(StoreError::Unavailable(reason)) => {
            tracing::warn!(%reason, "blob store unavailable during an upload");
            ("failed", ApiError::Unavailable)
        }
        IngestError::Store(e) => ("failed", ApiError::Internal(Box::new(e))),
        IngestError::Io(e) => ("failed", ApiError::Internal(Box::new(e))),
        IngestError::TooCostly { .. } => ("refused", field_error("file", &format!("{e} (PUJO_DECODE_MEMORY)"))),
        IngestError::Busy => ("busy", ApiError::Unavailable),
    }
}

// ------------------------------------------------------------------ serving

/// How long browsers and shared caches may use a public photo's bytes without
/// revalidating (five minutes): the longest a visibility change waits to reach them.
const SHARED_MEDIA_CACHE: &str = "public, max-age=300";

/// What a media request needs of a photo's row.
fn photo_row(p: &crate::db::Photo) -> crate::media::PhotoRow {
    crate::media::PhotoRow {
        owner_id: p.owner.id,
        album_id: p.album_id,
        private: p.visibility == Visibility::Private,
        public: p.visibility == Visibility::Public,
        link_key: p.link_key.clone(),
        allow_original: p.allow_original,
        sha256: p.sha256.clone(),
        content_type: p.content_type.clone(),
        from_guest: p.guest_name.is_some(),
    }
}

/// Photo rows a media request's miss reads at once: its own and the ones before it in
/// its album, a page of an album's photos.
const ROWS_READ_TOGETHER: usize = super::views::DEFAULT_LIMIT;

/// Keeps, for the media requests that follow, the rows of the photos a list read from
/// the database at `stamp` (taken before the read).
pub(super) async fn keep_rows(state: &AppState, stamp: &crate::cache::Stamp, photos: &[crate::db::Photo]) {
    let rows = photos.iter().map(|p| (p.id, photo_row(p))).collect();
    state.cache.keep_photo_rows(stamp, rows).await;
}

/// `GET /media/{id}/{variant}`: the same visibility as the API (a photo the viewer may
/// not see is 404), WebP or JPEG by `Accept`, single byte ranges, strong ETags.
pub async fn serve(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let id = path_id(&req, 0)?;
    // Before anything is looked up: a malformed key is 422 whether or not the photo
    // exists, so the answer says nothing about the id.
    let key = super::views::link_key(&req)?;
    let share = super::shares::token_param(&req);
    // A miss reads the rows of the photos after it on its album's page too: with two
    // replicas, the one that did not read the page read each thumbnail's row by itself.
    let load = async {
        let stamp = state.cache.bus.stamp();
        let rows = state.db.photo_and_older_unchecked(id, ROWS_READ_TOGETHER).await?;
        keep_rows(state, &stamp, rows.get(1..).unwrap_or_default()).await;
        Ok::<_, crate::db::DbError>(rows.first().filter(|p| p.id == id).map(photo_row))
    };
    let photo = state.cache.photo_row(id, load).await?.ok_or(ApiError::NotFound)?;
    let variant = path_param(&req, 1);
    let (own, allow_original, cache_control) = match share.as_deref() {
        // Through a share link: the link must open the photo's album now; its holder
        // gets what anybody else gets (the stripped original only if the link allows
        // downloads), and asks again each time, so a revoked link stops at once.
        Some(token) => {
            let allow_download =
                super::shares::media_access(state, &req, token, photo.album_id).await?.ok_or(ApiError::NotFound)?;
            (false, allow_download, "private, no-cache")
        }
        None => {
            // A public photo's derivatives are the same for everyone: no session lookup (which
            // slides the session, a write) for each thumbnail of a page. Everything else needs
            // to know who asks.
            let viewer = if photo.public && variant != "original" { NOBODY } else { viewer_id(state, &req).await? };
            let visibility = match (photo.public, photo.private) {
                (true, _) => Visibility::Public,
                (false, true) => Visibility::Private,
                (false, false) => Visibility::Unlisted,
            };
            if !visibility.visible_to(photo.owner_id, viewer, &photo.link_key, key.as_deref()) {
                return Err(ApiError::NotFound);
            }
            let own = photo.owner_id == viewer;
            // How long a copy may be used without asking again. Only the owner's own copies
            // live for a year: anyone else's (a browser, a CDN) asks again after
            // `SHARED_MEDIA_MAX_AGE`, so a photo made private, deleted or no longer shared as an
            // original stops being served from caches within that time (SECURITY.md), and
            // revalidation is a 304 while nothing changed.
            let cache_control = if own {
                "private, max-age=31536000, immutable"
            } else if photo.public {
                SHARED_MEDIA_CACHE
            } else {
                "private, max-age=300"
            };
            (own, photo.allow_original, cache_control)
        }
    };
    let original_format = Format::from_mime(&photo.content_type).unwrap_or(Format::Jpeg);
    // The owner's original and the stripped copy others get are different bytes, so
    // they have different ETags: a cache never answers one with the other.
    let (key, format, vary, tag) = match variant {
        "thumb" | "medium" | "display" => {
            let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
            let format = if accepts_webp(accept) { Format::Webp } else { Format::Jpeg };
            (derivative_key(&photo.sha256, variant, format), format, true, variant)
        }
        "original" if own && !photo.from_guest => (original_key(&photo.sha256), original_format, false, "original"),
        "original" if allow_original || own => {
            (public_original_key(&photo.sha256, original_format), original_format, false, "stripped")
        }
        _ => return Err(ApiError::NotFound),
    };
    let etag = format!("\"{}-{tag}-{}\"", &crate::util::hex(&photo.sha256)[..32], format.extension());
    let mut head = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, HeaderValue::from_static(cache_control))
        .header(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"))
        .header(header::CONTENT_TYPE, HeaderValue::from_static(format.mime()))
        .header("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    // A public photo's derivatives are the same for everyone (no session is read for
    // them), so a CDN may keep one copy per format; everything else depends on who asks.
    let varies = match (vary, photo.public) {
        (true, true) => "Accept",
        (true, false) => "Accept, Cookie",
        (false, _) => "Cookie",
    };
    head = head.header(header::VARY, HeaderValue::from_static(varies));
    if crate::http::names_etag(req.headers().get_all(header::IF_NONE_MATCH), &etag) {
        return Ok(head.status(StatusCode::NOT_MODIFIED).body(crate::http::empty()).expect("valid response"));
    }
    let range = req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if vary {
        // Derivatives are small and hot: from the in-memory cache.
        let bytes = state.media.derivative(&state.metrics, &key).await.map_err(|e| store_error(&e))?;
        let total = bytes.len() as u64;
        return Ok(match range.as_deref().map(|r| parse_range(r, total)) {
            Some(Some((start, len))) => partial(head, start, len, total)
                .body(crate::http::full(bytes.slice(start as usize..(start + len) as usize)))
                .expect("valid response"),
            Some(None) => unsatisfiable(head, total),
            None => head.header(header::CONTENT_LENGTH, total).body(crate::http::full(bytes)).expect("valid response"),
        });
    }
    // Originals stream from the store: whole in one request, or a range once its
    // bounds are known.
    let Some(range) = range else {
        let (total, body) = state.media.store.get_sized(&state.metrics, &key).await.map_err(|e| store_error(&e))?;
        let disposition = format!("inline; filename=\"pujo-{id}.{}\"", format.extension());
        return Ok(head
            .header(header::CONTENT_LENGTH, total)
            .header(header::CONTENT_DISPOSITION, disposition)
            .body(crate::http::streamed(body))
            .expect("valid response"));
    };
    let meta =
        state.media.store.head(&state.metrics, &key).await.map_err(|e| store_error(&e))?.ok_or(ApiError::NotFound)?;
    let total = meta.len;
    match parse_range(&range, total) {
        Some((start, len)) => {
            let body =
                state.media.store.get(&state.metrics, &key, Some((start, len))).await.map_err(|e| store_error(&e))?;
            Ok(partial(head, start, len, total).body(crate::http::streamed(body)).expect("valid response"))
        }
        None => Ok(unsatisfiable(head, total)),
    }
}

pub(super) fn store_error(e: &StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::NotFound,
        StoreError::Unavailable(reason) => {
            tracing::warn!(%reason, "blob store unavailable");
            ApiError::Unavailable
        }
        StoreError::Other(reason) => ApiError::Internal(reason.clone().into()),
    }
}

/// WebP unless the client's `Accept` lists image types without it (old browsers send
/// `image/*` or nothing; curl sends `*/*`: they get JPEG, which everyone can show).
fn accepts_webp(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let mut pieces = part.split(';');
        let kind = pieces.next().unwrap_or("").trim();
        let refused = pieces.any(|p| p.trim().replace(' ', "") == "q=0");
        kind.eq_ignore_ascii_case("image/webp") && !refused
    })
}

fn partial(head: http::response::Builder, start: u64, len: u64, total: u64) -> http::response::Builder {
    head.status(StatusCode::PARTIAL_CONTENT)
        .header(header::CONTENT_RANGE, format!("bytes {start}-{}/{total}", start + len - 1))
        .header(header::CONTENT_LENGTH, len)
}

fn unsatisfiable(head: http::response::Builder, total: u64) -> Response<Body> {
    head.status(StatusCode::RANGE_NOT_SATISFIABLE)
        .header(header::CONTENT_RANGE, format!("bytes */{total}"))
        .body(crate::http::empty())
        .expect("valid response")
}

/// One `bytes=` range as (start, length); `None` when it cannot be satisfied. Several
/// ranges are not supported (`None` too would refuse them, so the caller is given the
/// first only when it stands alone).
fn parse_range(header: &str, total: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || total == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            if n == 0 {
                return None;
            }
            (total.saturating_sub(n), total - 1)
        }
        (s, "") => (s.parse().ok()?, total - 1),
        (s, e) => (s.parse().ok()?, e.parse::<u64>().ok()?.min(total - 1)),
    };
    (start <= end && start < total).then(|| (start, end - start + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_single_and_within_the_blob() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some((0, 100)));
        assert_eq!(parse_range("bytes=900-", 1000), Some((900, 100)));
        assert_eq!(parse_range("bytes=-10", 1000), Some((990, 10)));
        assert_eq!(parse_range("bytes=990-5000", 1000), Some((990, 10)));
        assert_eq!(parse_range("bytes=1000-", 1000), None);
        assert_eq!(parse_range("bytes=5-1", 1000), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
    }

    #[test]
    fn webp_only_when_asked_for() {
        assert!(accepts_webp("image/avif,image/webp,image/apng,*/*;q=0.8"));
        assert!(!accepts_webp("*/*"));
        assert!(!accepts_webp("image/webp;q=0"));
        assert!(!accepts_webp(""));
    }
}
