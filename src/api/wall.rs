//! Live walls: Server-Sent Events for a projector or a TV at the pandal, showing an
//! album's or a pandal's newest photos as they are approved, on any replica.
//!
//! - `GET /api/v1/albums/{id}/wall` (a public album, or an unlisted one with `?key=`),
//!   `GET /api/v1/pandals/{id}/wall` (the public albums of a pandal) and
//!   `GET /api/v1/shared/{token}/wall` (any album, through its share link: the wall
//!   link of a private album) answer `text/event-stream`: first the newest photos
//!   (or, when the browser reconnects with `Last-Event-ID`, only those after it),
//!   then each new photo as it arrives. Each event's id is the photo's id, its data
//!   the photo's JSON as anybody sees it; a photo removed from among the newest
//!   is an `event: remove` with its id.
//! - A stream waits on its wall's version (`cache::Walls`), which the bus moves on
//!   every write that touches the wall, here or on another replica; what the wall
//!   shows at a version is read once per process for all its screens.
//! - A wall that is gone (the album deleted or made private, the key rotated, the
//!   link revoked or expired) ends its streams; so does the process stopping, and
//!   the browser reconnects to another replica. A comment every 15 s keeps proxies
//!   from closing an idle stream.
//! - Bounded: `MAX_STREAMS` per process, `MAX_STREAMS_PER_CLIENT` per address.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;

use super::ApiError;
use super::accounts::viewer_id;
use super::views::{PhotoJson, Query, link_key, path_id, path_param};
use crate::cache::{Shown, WallKey};
use crate::db::{NOBODY, PageRequest, Visibility};
use crate::http::Body;
use crate::state::AppState;

/// Photos a wall shows (and sends a screen that just connected).
const SHOWN: usize = 30;
/// Streams open at once in this process, and from one address.
const MAX_STREAMS: usize = 20_000;
const MAX_STREAMS_PER_CLIENT: usize = 64;
const KEEPALIVE: Duration = Duration::from_secs(15);
/// The least time between two reloads of what a screen's wall shows.
const RELOAD_EVERY: Duration = Duration::from_secs(1);

static OPEN: AtomicUsize = AtomicUsize::new(0);
static PER_CLIENT: LazyLock<Mutex<std::collections::HashMap<String, usize>>> = LazyLock::new(Default::default);

/// How a wall's screens reach it, which decides what it may show and how its media
/// links are written.
#[derive(Clone)]
enum Access {
    /// A public album, or a pandal's public albums: anybody.
    Public,
    /// An unlisted album, with its key.
    Key(String),
    /// Any album, through a share link without a password.
    Share(String),
}

impl Access {
    fn suffix(&self) -> String {
        match self {
            Access::Public => String::new(),
            Access::Key(key) => format!("?key={key}"),
            Access::Share(token) => format!("?share={token}"),
        }
    }
}

/// `GET /api/v1/albums/{id}/wall?key=`.
pub async fn album(state: &Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    Query::of(&req, &["key"])?;
    let id = path_id(&req, 0)?;
    let key = link_key(&req)?;
    let viewer = viewer_id(state, &req).await?;
    let album = state.db.album(id, viewer, key.as_deref()).await?.ok_or(ApiError::NotFound)?;
    let access = match album.visibility {
        Visibility::Public => Access::Public,
        Visibility::Unlisted if key.is_some() => Access::Key(album.link_key.clone()),
        // The owner's own private or unlisted album: its wall is opened through a share
        // link, so that a screen needs no one's session.
        _ => return Err(ApiError::Forbidden("open this album's wall through a share link")),
    };
    stream(state, &req, WallKey::Album(id), access).await
}

/// `GET /api/v1/pandals/{id}/wall`.
pub async fn pandal(state: &Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    Query::of(&req, &[])?;
    let id = path_id(&req, 0)?;
    state.db.pandal(id).await?.ok_or(ApiError::NotFound)?;
    stream(state, &req, WallKey::Pandal(id), Access::Public).await
}

/// `GET /api/v1/shared/{token}/wall`.
pub async fn shared(state: &Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    Query::of(&req, &[])?;
    let token = path_param(&req, 0).to_owned();
    let link = super::shares::opened_link(state, &req, &token).await?;
    stream(state, &req, WallKey::Album(link.album_id), Access::Share(token)).await
}

/// What the wall shows now, read once per process and version for all its screens.
async fn shown(state: &AppState, key: WallKey, version: u64, access: &Access) -> Shown {
    state
        .cache
        .walls
        .shown(key, version, &access.suffix(), async {
            match load(state, key, access).await {
                Ok(shown) => shown,
                Err(e) => {
                    // A failed read is not "gone": the screens keep what they show and
                    // the next write reads again.
                    tracing::warn!(error = %e, "a live wall could not be read");
                    Some(Arc::new(Vec::new()))
                }
            }
        })
        .await
}

async fn load(state: &AppState, key: WallKey, access: &Access) -> Result<Shown, crate::db::DbError> {
    let page = PageRequest { before: None, limit: SHOWN };
    let photos = match (key, access) {
        (WallKey::Pandal(id), _) => {
            if state.db.pandal(id).await?.is_none() {
                return Ok(None);
            }
            state.db.photo_feed(NOBODY, Some(id), page).await?.items
        }
        (WallKey::Album(id), Access::Share(token)) => {
            let link = match super::shares::live_link(state, token).await {
                Ok(link) if link.album_id == id => link,
                Ok(_) | Err(ApiError::NotFound | ApiError::Expired(_)) => return Ok(None),
                Err(e) => return Err(crate::db::DbError::Unavailable(e.to_string())),
            };
            let photos = state.db.shared_photos(link.id, page).await?.items;
            let rendered = photos.into_iter().map(|p| event(p.id, &PhotoJson::shared(p, token, false))).collect();
            return Ok(Some(Arc::new(rendered)));
        }
        (WallKey::Album(id), Access::Key(k)) => {
            if state.db.album(id, NOBODY, Some(k)).await?.is_none() {
                return Ok(None);
            }
            state.db.album_photos(id, NOBODY, Some(k), page).await?.items
        }
        (WallKey::Album(id), Access::Public) => {
            match state.db.album(id, NOBODY, None).await? {
                Some(a) if a.visibility == Visibility::Public => {}
                _ => return Ok(None),
            }
            state.db.album_photos(id, NOBODY, None, page).await?.items
        }
    };
    Ok(Some(Arc::new(photos.into_iter().map(|p| event(p.id, &PhotoJson::view(p, NOBODY))).collect())))
}

/// Whether a share link's wall may go on (the others are checked by their writes).
async fn still_open(state: &AppState, access: &Access) -> bool {
    let Access::Share(token) = access else { return true };
    match super::shares::live_link(state, token).await {
        Ok(_) => true,
        Err(ApiError::NotFound | ApiError::Expired(_)) => false,
        // The database away for a moment: the screen keeps what it shows.
        Err(_) => true,
    }
}

/// One photo as an event: its id, and its JSON on one line.
fn event(id: i64, photo: &PhotoJson) -> (i64, Bytes) {
    let data = serde_json::to_string(photo).expect("API values serialize");
    (id, Bytes::from(format!("id: {id}\nevent: photo\ndata: {data}\n\n")))
}

/// Frees its place among the open streams when the stream ends, however it ends.
struct Slot {
    client: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::AcqRel);
        let mut per = PER_CLIENT.lock().expect("wall clients lock");
        if let Some(n) = per.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                per.remove(&self.client);
            }
        }
    }
}

fn take_slot(client: String) -> Result<Slot, ApiError> {
    let mut per = PER_CLIENT.lock().expect("wall clients lock");
    let mine = per.entry(client.clone()).or_insert(0);
    if *mine >= MAX_STREAMS_PER_CLIENT || OPEN.load(Ordering::Acquire) >= MAX_STREAMS {
        if *mine == 0 {
            per.remove(&client);
        }
        return Err(ApiError::Unavailable);
    }
    *mine += 1;
    OPEN.fetch_add(1, Ordering::AcqRel);
    Ok(Slot { client })
}

async fn stream(
    state: &Arc<AppState>,
    req: &Request<Incoming>,
    key: WallKey,
    access: Access,
) -> Result<Response<Body>, ApiError> {
    let client = crate::http::client_address::client_bucket(state.client_ip(req)).to_string();
    let slot = take_slot(client)?;
    // Where the screen was when its connection dropped: only what came after.
    let mut last: i64 = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .filter(|id| *id >= 0)
        .unwrap_or(0);
    let mut version = state.cache.walls.subscribe(key);
    let mut closing = state.cache.walls.closing();
    let first = *version.borrow_and_update();
    let Some(now) = shown(state, key, first, &access).await else { return Err(ApiError::NotFound) };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(8);
    let state = state.clone();
    tokio::spawn(async move {
        let _slot = slot;
        // The browser waits this long before it reconnects after a drop.
        if tx.send(Ok(Bytes::from_static(b"retry: 3000\n\n"))).await.is_err() {
            return;
        }
        let mut shown_now = now;
        // What this screen holds: photos it was sent that are still among the newest.
        let mut held = std::collections::BTreeSet::new();
        let mut reloaded = tokio::time::Instant::now();
        loop {
            // Oldest first, so the screen shows the newest last.
            for (id, bytes) in shown_now.iter().rev() {
                if *id > last {
                    if tx.send(Ok(bytes.clone())).await.is_err() {
                        return;
                    }
                    last = *id;
                    held.insert(*id);
                }
            }
            let changed = tokio::select! {
                changed = version.changed() => changed.is_ok(),
                () = tokio::time::sleep(KEEPALIVE) => {
                    // A link that was revoked or expired while nothing was written ends
                    // its screens here, within a keep-alive.
                    if !still_open(&state, &access).await {
                        return;
                    }
                    if tx.send(Ok(Bytes::from_static(b": keepalive\n\n"))).await.is_err() {
                        return;
                    }
                    continue;
                }
                _ = closing.changed() => return,
                () = tx.closed() => return,
            };
            if !changed {
                return;
            }
            // A burst of writes (likes, comments, approvals) is one reload a second.
            tokio::time::sleep_until(reloaded + RELOAD_EVERY).await;
            reloaded = tokio::time::Instant::now();
            let at = *version.borrow_and_update();
            let Some(next) = shown(&state, key, at, &access).await else { return };
            // Photos removed since (by their owner or a moderator) leave the screen.
            if let Some(oldest) = next.iter().map(|(id, _)| *id).min() {
                let now_shown: std::collections::HashSet<i64> = next.iter().map(|(id, _)| *id).collect();
                let gone: Vec<i64> = held.range(oldest..).filter(|id| !now_shown.contains(id)).copied().collect();
                for id in gone {
                    held.remove(&id);
                    let event = format!("event: remove\ndata: {{\"id\":{id}}}\n\n");
                    if tx.send(Ok(Bytes::from(event))).await.is_err() {
                        return;
                    }
                }
                held = held.split_off(&oldest);
            }
            shown_now = next;
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"))
        .header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
        .header("x-accel-buffering", HeaderValue::from_static("no"))
        .body(crate::http::streamed(body))
        .expect("valid response"))
}
