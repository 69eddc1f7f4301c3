//! Photos (reading and changing; uploads arrive with the media store), comments, likes.

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};

use super::accounts::{current_user, require_user, viewer_id};
use super::cached::cached;
use super::views::{Check, CommentJson, Int, PageJson, PhotoJson, Query, link_key, path_id};
use super::{ApiError, json, no_content, parse_json};
use crate::cache::{Fresh, Kind, Tag};
use crate::db::{Announced, DbError, GpsPrivacy, NOBODY, Photo, PhotoPatch, Role, User};
use crate::http::Body;
use crate::state::AppState;

const BODY_LIMIT: usize = 16 * 1024;

/// `GET /api/v1/photos?pandal=`: the newest public photos.
pub async fn feed(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let viewer = viewer_id(state, &req).await?;
    let query = Query::of(&req, &["limit", "cursor", "pandal"])?;
    let page = query.page(super::views::MAX_LIMIT)?;
    let pandal = query.id("pandal")?;
    cached(state, &query, viewer, Kind::Query, &[Tag::Lists], async {
        let stamp = state.cache.bus.stamp();
        let photos = state.db.photo_feed(viewer, pandal, page).await?;
        super::media::keep_rows(state, &stamp, &photos.items).await;
        let deps = list_tags(photos.items.iter());
        Ok(Fresh::json(&PageJson::of(photos, |p| PhotoJson::view(p, viewer)), deps))
    })
    .await
}

/// What an answer about one photo depends on: the photo, and its album (visibility).
fn photo_tags(photo: &Photo) -> Vec<Tag> {
    vec![Tag::Photo(photo.id), Tag::Album(photo.album_id)]
}

pub async fn get(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let viewer = viewer_id(state, &req).await?;
    let id = path_id(&req, 0)?;
    let query = Query::of(&req, &["key"])?;
    let key = link_key(&req)?;
    cached(state, &query, viewer, Kind::Item, &[Tag::Photo(id)], async {
        let photo = state.db.photo(id, viewer, key.as_deref()).await?.ok_or(ApiError::NotFound)?;
        let deps = photo_tags(&photo);
        Ok(Fresh::json(&PhotoJson::view(photo, viewer), deps))
    })
    .await
}

/// What a list or search answer that shows these photos depends on: every list and
/// new photos (which photos it holds), and each photo shown (its counts of likes and
/// comments).
pub(super) fn list_tags<'a>(photos: impl Iterator<Item = &'a Photo>) -> Vec<Tag> {
    showing(vec![Tag::Lists, Tag::NewPhotos], photos)
}

/// What a pandal's page depends on: every list, the pandal's own new photos (not
/// everyone's), and each photo shown.
pub(super) fn pandal_tags<'a>(pandal: i64, photos: impl Iterator<Item = &'a Photo>) -> Vec<Tag> {
    showing(vec![Tag::Lists, Tag::Pandal(pandal)], photos)
}

/// `tags`, and the tag of each photo shown.
fn showing<'a>(mut tags: Vec<Tag>, photos: impl Iterator<Item = &'a Photo>) -> Vec<Tag> {
    tags.extend(photos.map(|p| Tag::Photo(p.id)));
    tags
}

/// Past this many groups of words, a new photo retires every search (`Tag::Search`)
/// instead of naming them: a notification's payload stays small.
const MAX_WORD_TAGS: usize = 48;

/// What new photos in `album` with `caption` touch: the album, the lists of photos,
/// its pandal's page (no other pandal's), and the searches that could find them (by
/// their caption's words; none without one).
pub(super) fn new_photo_tags(album: &crate::db::Album, caption: &str) -> Vec<Tag> {
    let mut tags = vec![Tag::Album(album.id), Tag::NewPhotos];
    tags.extend(album.pandal.as_ref().map(|p| Tag::Pandal(p.id)));
    let groups = crate::db::word_groups(caption);
    if groups.len() > MAX_WORD_TAGS {
        tags.push(Tag::Search);
    } else {
        tags.extend(groups.into_iter().map(Tag::Words));
    }
    tags
}

/// What the answer to search `q` depends on: every list, every search, the searches
/// of its words' group, and each photo and album shown (an album's count and cover
/// change with its new photos, which need not match).
pub(super) fn search_tags<'a>(
    q: &str,
    photos: impl Iterator<Item = &'a Photo>,
    albums: impl Iterator<Item = &'a crate::db::Album>,
) -> Vec<Tag> {
    let mut tags = showing(vec![Tag::Lists, Tag::Search], photos);
    tags.extend(crate::db::query_group(q).map(Tag::Words));
    tags.extend(albums.map(|a| Tag::Album(a.id)));
    tags
}

/// Tells every replica that a like or a comment changed a photo's counts: what shows
/// the photo (its tag), its album's photo list, and the lists that show it (through
/// `list_tags`), not every list: which photos a list holds does not change. Counts
/// alone: what shows none (a photo's row for its media) or reads them apart (the
/// shared part of a search or pandal page) stays.
fn counts_of(photo: &Photo) -> [Tag; 2] {
    [Tag::PhotoCounts(photo.id), Tag::AlbumCounts(photo.album_id)]
}

/// A like or a comment, made with its announcement (`db::Announced`): tells this
/// replica's caches what the announcement said, and gives the write's outcome.
async fn counted<T>(
    state: &AppState,
    photo: &Photo,
    write: impl AsyncFnOnce(&str) -> Result<Announced<T>, DbError>,
) -> Result<T, ApiError> {
    let tags = counts_of(photo);
    let payload = crate::cache::bus::encode_tags(&tags);
    let done = write(&payload).await?;
    // Both failed (a connection that died while idle in the pool): nothing changed, so
    // nothing is retried; the person gets the error at once.
    if done.write.is_ok() || done.note.is_ok() {
        state.cache.announced(&state.db, &tags, payload, done.note).await;
    }
    Ok(done.write?)
}

/// Tells every replica that a write touched these photos (and so their albums' pages
/// and every list, which may now hold other photos).
async fn touched(state: &AppState, photos: &[&Photo]) {
    let mut tags = vec![Tag::Lists];
    for tag in photos.iter().flat_map(|p| photo_tags(p)) {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    state.cache.publish(&state.db, &tags).await;
}

/// The photo the logged-in person may see (an unlisted one with its album's `?key=`),
/// or 404.
async fn visible_photo(state: &AppState, req: &Request<Incoming>) -> Result<(User, Photo), ApiError> {
    let user = require_user(state, req).await?;
    let key = link_key(req)?;
    let photo = state.db.photo(path_id(req, 0)?, user.id, key.as_deref()).await?.ok_or(ApiError::NotFound)?;
    Ok((user, photo))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhotoChange {
    caption: Option<String>,
    gps_privacy: Option<GpsPrivacy>,
    allow_original: Option<bool>,
    album_id: Option<Int>,
}

pub async fn update(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let (user, photo) = visible_photo(state, &req).await?;
    if photo.owner.id != user.id {
        return Err(ApiError::Forbidden("only the photo's owner may change it"));
    }
    let body: PhotoChange = parse_json(req, BODY_LIMIT).await?;
    let album_id = body.album_id.map(|a| a.0);
    let mut check = Check::default();
    if let Some(caption) = &body.caption {
        check.text("caption", caption, 0, 2000, true);
    }
    if let Some(album) = album_id {
        let own = state.db.album(album, user.id, None).await?.is_some_and(|a| a.owner.id == user.id);
        if !own {
            check.fail("album_id", "not one of your albums");
        }
    }
    check.finish()?;
    let patch = PhotoPatch {
        caption: body.caption,
        gps_privacy: body.gps_privacy,
        allow_original: body.allow_original,
        album_id,
    };
    let before = photo.clone();
    let photo = state.db.update_photo(&photo, patch).await?;
    // A move between albums touches both.
    touched(state, &[&before, &photo]).await;
    Ok(json(StatusCode::OK, &PhotoJson::view(photo, user.id)))
}

/// Owners delete their photos; admins may remove any photo they can see.
pub async fn delete(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = super::audit::Origin::of(state, &req);
    let (user, photo) = visible_photo(state, &req).await?;
    if photo.owner.id != user.id && user.role != Role::Admin {
        super::albums::steward_album(state, photo.album_id, &user).await.map_err(|_| {
            ApiError::Forbidden("only the photo's owner, its pandal's moderators or an admin may delete it")
        })?;
    }
    state.db.delete_photo(photo.id).await?;
    touched(state, &[&photo]).await;
    if photo.owner.id != user.id {
        tracing::info!(photo_id = photo.id, by = user.id, "photo removed by a moderator or an admin");
        let actor = super::audit::actor(&user);
        origin.record(state, actor, "moderation.photo_removed", ("photo", photo.id.to_string())).await;
    }
    Ok(no_content())
}

/// Who may delete a comment: its author, the photo's owner, or an admin.
fn may_delete_comment(viewer: Option<&User>, author: i64, photo_owner: i64) -> bool {
    viewer.is_some_and(|u| u.id == author || u.id == photo_owner || u.role == Role::Admin)
}

pub async fn comments(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let viewer = current_user(state, &req).await?;
    let viewer_id = viewer.as_ref().map_or(NOBODY, |u| u.id);
    let id = path_id(&req, 0)?;
    let query = Query::of(&req, &["limit", "cursor", "key"])?;
    let page = query.page(super::views::MAX_LIMIT)?;
    let key = link_key(&req)?;
    cached(state, &query, viewer_id, Kind::Item, &[Tag::Photo(id)], async {
        let photo = state.db.photo(id, viewer_id, key.as_deref()).await?.ok_or(ApiError::NotFound)?;
        let comments = state.db.comments(photo.id, page).await?;
        let body = PageJson::of(comments, |c| {
            let can_delete = may_delete_comment(viewer.as_ref(), c.author.id, photo.owner.id);
            CommentJson::view(c, can_delete)
        });
        Ok(Fresh::json(&body, photo_tags(&photo)))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewComment {
    body: String,
}

pub async fn comment(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let (user, photo) = visible_photo(state, &req).await?;
    let body: NewComment = parse_json(req, BODY_LIMIT).await?;
    let mut check = Check::default();
    check.text("body", &body.body, 1, 2000, true);
    check.finish()?;
    let text = body.body.trim();
    let comment =
        counted(state, &photo, async |tags| state.db.create_comment(photo.id, user.id, text, tags).await).await?;
    Ok(json(StatusCode::CREATED, &CommentJson::view(comment, true)))
}

pub async fn delete_comment(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = super::audit::Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    let key = link_key(&req)?;
    let comment = state.db.comment(path_id(&req, 0)?).await?.ok_or(ApiError::NotFound)?;
    // A comment on a photo the person cannot see does not exist for them.
    let photo = state.db.photo(comment.photo_id, user.id, key.as_deref()).await?.ok_or(ApiError::NotFound)?;
    if !may_delete_comment(Some(&user), comment.author.id, photo.owner.id) {
        super::albums::steward_album(state, photo.album_id, &user).await.map_err(|_| {
            ApiError::Forbidden(
                "only the comment's author, the photo's owner, its pandal's moderators or an admin may delete it",
            )
        })?;
    }
    state.db.delete_comment(comment.id).await?;
    state.cache.publish(&state.db, &counts_of(&photo)).await;
    if comment.author.id != user.id {
        let actor = super::audit::actor(&user);
        origin.record(state, actor, "moderation.comment_removed", ("comment", comment.id.to_string())).await;
    }
    Ok(no_content())
}

#[derive(Serialize)]
struct LikeState {
    like_count: i64,
    liked_by_me: bool,
}

/// `PUT` and `DELETE /api/v1/photos/{id}/like`; both idempotent.
pub async fn like(state: &AppState, req: Request<Incoming>, liked: bool) -> Result<Response<Body>, ApiError> {
    let (user, photo) = visible_photo(state, &req).await?;
    let (like_count, liked_by_me) =
        counted(state, &photo, async |tags| state.db.set_like(photo.id, user.id, liked, tags).await).await?;
    Ok(json(StatusCode::OK, &LikeState { like_count, liked_by_me }))
}
