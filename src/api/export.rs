//! `GET /api/v1/me/export`: everything a person uploaded, as one ZIP archive made
//! while it is sent: their originals (as uploaded: they are the owner) under
//! `originals/<album id>/<photo id>.<ext>`, then `pujo.json` with their profile,
//! albums, photos (caption, EXIF, location, which file), the comments they wrote and
//! the likes they gave. No copy of the archive is made anywhere: a small task
//! writes the ZIP framing around each original as it is read from the store, through
//! a channel of a few chunks, so memory stays flat whatever the library's size. A
//! photo whose original is gone from the store (deleted while the archive is made)
//! is left out, and `pujo.json`, written last, says so (`file: null`); so the length
//! is not known beforehand. At most a few exports run at once in a process, one per
//! person; more get a 503 and retry.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use serde_json::json;
use time::OffsetDateTime;

use super::ApiError;
use super::accounts::require_user;
use super::views::rfc3339;
use crate::db::{OwnPhoto, PersonalData, User};
use crate::http::Body;
use crate::media::original_key;
use crate::media::store::StoreError;
use crate::media::zip::{Crc, ZipWriter};
use crate::state::AppState;

/// Exports streaming at once in this process: each holds a store stream open for as
/// long as a phone takes to download a library.
static EXPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
/// Whose exports are streaming: one at a time each, so one account cannot take every
/// slot.
static EXPORTING: std::sync::Mutex<Vec<i64>> = std::sync::Mutex::new(Vec::new());
/// How long the reader may take to accept the next chunk before the export stops and
/// its slot frees up (a download that stopped reading holds nothing for long).
const STALL: std::time::Duration = std::time::Duration::from_secs(60);

/// A person's place among those exporting, given up when dropped.
struct Exporting(i64);

impl Exporting {
    fn start(user: i64) -> Option<Exporting> {
        let mut busy = EXPORTING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if busy.contains(&user) {
            return None;
        }
        busy.push(user);
        Some(Exporting(user))
    }
}

impl Drop for Exporting {
    fn drop(&mut self) {
        let mut busy = EXPORTING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        busy.retain(|u| *u != self.0);
    }
}
const DATA_FILE: &str = "pujo.json";

fn file_name(photo: &OwnPhoto) -> String {
    let ext = match photo.content_type.as_str() {
        "image/png" => "png",
        "image/webp" => "webp",
        _ => "jpg",
    };
    format!("originals/{}/{}.{ext}", photo.album_id, photo.id)
}

fn time_or_null(t: Option<OffsetDateTime>) -> serde_json::Value {
    t.map_or(serde_json::Value::Null, |t| json!(rfc3339(t)))
}

/// `pujo.json`: what the archive holds besides the originals, and where each is.
fn data_file(
    user: &User,
    data: &PersonalData,
    now: OffsetDateTime,
    missing: &std::collections::HashSet<i64>,
) -> serde_json::Value {
    json!({
        "format": "pujo-export/1",
        "exported_at": rfc3339(now),
        "user": {
            "id": user.id, "username": user.username, "email": user.email,
            "display_name": user.display_name, "bio": user.bio, "created_at": rfc3339(user.created_at),
        },
        "albums": data.albums.iter().map(|a| json!({
            "id": a.id, "title": a.title, "description": a.description, "visibility": a.visibility,
            "created_at": rfc3339(a.created_at), "updated_at": rfc3339(a.updated_at),
        })).collect::<Vec<_>>(),
        "photos": data.photos.iter().map(|p| json!({
            "id": p.id, "album_id": p.album_id, "caption": p.caption,
            "file": if missing.contains(&p.id) { serde_json::Value::Null } else { json!(file_name(p)) },
            "width": p.width, "height": p.height, "taken_at": time_or_null(p.taken_at), "exif": p.exif,
            "sha256": crate::util::hex(&p.sha256), "content_type": p.content_type, "bytes": p.byte_size,
            "location": match (p.lat, p.lon) { (Some(lat), Some(lon)) => json!({"lat": lat, "lon": lon}), _ => serde_json::Value::Null },
            "gps_privacy": p.gps_privacy, "allow_original": p.allow_original,
            "created_at": rfc3339(p.created_at), "updated_at": rfc3339(p.updated_at),
        })).collect::<Vec<_>>(),
        "comments": data.comments.iter().map(|c| json!({
            "id": c.id, "photo_id": c.photo_id, "body": c.body, "created_at": rfc3339(c.created_at),
        })).collect::<Vec<_>>(),
        "likes": data.likes.iter().map(|l| json!({
            "photo_id": l.photo_id, "created_at": rfc3339(l.created_at),
        })).collect::<Vec<_>>(),
    })
}

pub async fn export(state: &Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user = require_user(state, &req).await?;
    let mine = Exporting::start(user.id).ok_or(ApiError::Unavailable)?;
    let permit = EXPORTS.try_acquire().map_err(|_| ApiError::Unavailable)?;
    let data = state.db.personal_data(user.id).await?;
    let now = OffsetDateTime::now_utc();
    let disposition = format!(
        "attachment; filename=\"pujo-{}-{:04}-{:02}-{:02}.zip\"",
        user.username,
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let task_state = state.clone();
    tokio::spawn(async move {
        let _held = (permit, mine);
        if let Err(e) = write_archive(&task_state, &user, &data, now, &tx).await {
            tracing::warn!(error = %e, "a personal-data export stopped");
            // The body ends in an error, not in a short archive that looks whole.
            let _ = tx.send(Err(std::io::Error::other(e))).await;
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/zip")
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::CACHE_CONTROL, "private, no-store")
        .body(crate::http::streamed(body))
        .expect("valid response"))
}

/// Sends the archive through `tx`: each original, `pujo.json`, the central directory.
/// Fails when the store fails or a file is not the size its row says; stops quietly
/// when the receiver is gone (the download was cancelled).
async fn write_archive(
    state: &AppState,
    user: &User,
    data: &PersonalData,
    now: OffsetDateTime,
    tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) -> Result<(), String> {
    let send = |bytes: Bytes| async move {
        match tokio::time::timeout(STALL, tx.send(Ok(bytes))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err("the download was cancelled".to_owned()),
            Err(_) => Err(format!("the download took no bytes for {} s", STALL.as_secs())),
        }
    };
    let mut zip = ZipWriter::new();
    let mut missing = std::collections::HashSet::new();
    for photo in &data.photos {
        // A guest's photo is exported as the copy without its metadata: its GPS was
        // never the owner's.
        let key = if photo.from_guest {
            let format = crate::media::Format::from_mime(&photo.content_type).unwrap_or(crate::media::Format::Jpeg);
            crate::media::public_original_key(&photo.sha256, format)
        } else {
            original_key(&photo.sha256)
        };
        let mut stream = match state.media.store.get(&state.metrics, &key, None).await {
            Ok(stream) => stream,
            Err(StoreError::NotFound) => {
                missing.insert(photo.id);
                continue;
            }
            Err(e) => return Err(format!("photo {}: {e}", photo.id)),
        };
        send(zip.begin(&file_name(photo), photo.created_at).map_err(|e| e.to_string())?).await?;
        let (mut crc, mut sent) = (Crc::default(), 0u64);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| format!("photo {}: {e}", photo.id))?;
            crc.update(&chunk);
            sent += chunk.len() as u64;
            send(chunk).await?;
        }
        if sent != u64::try_from(photo.byte_size).unwrap_or(0) {
            return Err(format!("photo {}: {sent} bytes in the store, {} in its row", photo.id, photo.byte_size));
        }
        send(zip.end(crc.finish(), sent).map_err(|e| e.to_string())?).await?;
    }
    let file = serde_json::to_vec_pretty(&data_file(user, data, now, &missing)).map_err(|e| e.to_string())?;
    send(zip.begin(DATA_FILE, now).map_err(|e| e.to_string())?).await?;
    let mut crc = Crc::default();
    crc.update(&file);
    let len = file.len() as u64;
    send(Bytes::from(file)).await?;
    send(zip.end(crc.finish(), len).map_err(|e| e.to_string())?).await?;
    send(zip.finish().map_err(|e| e.to_string())?).await
}
