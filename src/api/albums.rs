//! Albums, an album's photos, and people's public profiles.

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};

use super::accounts::{require_user, viewer_id};
use super::cached::cached;
use super::views::{
    AlbumJson, Check, Int, PageJson, PhotoJson, Query, UserJson, double_option, link_key, path_id, path_param,
};
use super::{ApiError, json, parse_json};
use crate::cache::{Fresh, Kind, Tag};
use crate::db::{Album, AlbumPatch, NewAlbum, PageRequest, Visibility};
use crate::http::Body;
use crate::state::AppState;

const BODY_LIMIT: usize = 16 * 1024;

/// Albums shown on a profile or a pandal page before "more".
pub const EMBEDDED_ALBUMS: usize = 50;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAlbumBody {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default = "public")]
    visibility: Visibility,
    #[serde(default)]
    pandal_id: Option<Int>,
}

fn public() -> Visibility {
    Visibility::Public
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlbumChange {
    title: Option<String>,
    description: Option<String>,
    visibility: Option<Visibility>,
    #[serde(default, deserialize_with = "double_option")]
    pandal_id: Option<Option<Int>>,
    #[serde(default, deserialize_with = "double_option")]
    cover_photo_id: Option<Option<Int>>,
}

fn check_album_text(check: &mut Check, title: Option<&str>, description: Option<&str>) {
    if let Some(title) = title {
        check.text("title", title, 1, 120, false);
    }
    if let Some(description) = description {
        check.text("description", description, 0, 2000, true);
    }
}

/// A pandal id in a body must name a pandal.
async fn check_pandal(state: &AppState, check: &mut Check, pandal: Option<i64>) -> Result<(), ApiError> {
    if let Some(id) = pandal
        && state.db.pandal(id).await?.is_none()
    {
        check.fail("pandal_id", "no pandal has this id");
    }
    Ok(())
}

/// `GET /api/v1/albums?owner=&pandal=`: albums the viewer may see in lists.
pub async fn list(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let viewer = viewer_id(state, &req).await?;
    let query = Query::of(&req, &["limit", "cursor", "pandal", "owner"])?;
    let page = query.page(super::views::MAX_LIMIT)?;
    let pandal = query.id("pandal")?;
    let owner = query.get("owner").filter(|o| !o.is_empty());
    cached(state, &query, viewer, Kind::Query, &[Tag::Lists], async {
        let owner = match owner {
            Some(username) => match state.db.user_by_username(username).await? {
                Some(user) => Some(user.id),
                None => {
                    let empty = PageJson::<AlbumJson> { items: vec![], next_cursor: None };
                    return Ok(Fresh::json(&empty, vec![Tag::Lists, Tag::NewPhotos]));
                }
            },
            None => None,
        };
        let albums = state.db.albums(viewer, owner, pandal, page).await?;
        // Albums show their counts and covers: new photos change them.
        Ok(Fresh::json(&PageJson::of(albums, |a| AlbumJson::view(a, viewer)), vec![Tag::Lists, Tag::NewPhotos]))
    })
    .await
}

pub async fn create(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user = require_user(state, &req).await?;
    let body: NewAlbumBody = parse_json(req, BODY_LIMIT).await?;
    let mut check = Check::default();
    check_album_text(&mut check, Some(&body.title), Some(&body.description));
    let pandal_id = body.pandal_id.map(|p| p.0);
    check_pandal(state, &mut check, pandal_id).await?;
    check.finish()?;
    let album = state
        .db
        .create_album(&NewAlbum {
            owner_id: user.id,
            title: body.title.trim().to_owned(),
            description: body.description,
            visibility: body.visibility,
            pandal_id,
            link_key: crate::auth::random_key(),
        })
        .await?;
    state.cache.publish(&state.db, &[Tag::Album(album.id), Tag::Lists]).await;
    Ok(json(StatusCode::CREATED, &AlbumJson::view(album, user.id)))
}

pub async fn get(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let viewer = viewer_id(state, &req).await?;
    let id = path_id(&req, 0)?;
    let query = Query::of(&req, &["key"])?;
    let key = link_key(&req)?;
    cached(state, &query, viewer, Kind::Item, &[Tag::Album(id)], async {
        let album = state.db.album(id, viewer, key.as_deref()).await?.ok_or(ApiError::NotFound)?;
        Ok(Fresh::json(&AlbumJson::view(album, viewer), vec![Tag::Album(id)]))
    })
    .await
}

/// The album if `user` looks after it: its owner, an admin, or a moderator of its
/// pandal (for an album that is not private). 404 when they may not see it, 403 when
/// they may see it but not look after it.
pub(super) async fn steward_album(state: &AppState, id: i64, user: &crate::db::User) -> Result<Album, ApiError> {
    if let Some(album) = state.db.album(id, user.id, None).await? {
        if album.owner.id == user.id || user.role == crate::db::Role::Admin || moderates(state, &album, user.id).await?
        {
            return Ok(album);
        }
        return Err(ApiError::Forbidden("only the album's owner, its pandal's moderators or an admin may do this"));
    }
    // Unlisted albums are not visible by id; their pandal's moderators look after them too.
    if let Some(album) = state.db.album_not_private(id).await?
        && (user.role == crate::db::Role::Admin || moderates(state, &album, user.id).await?)
    {
        return Ok(album);
    }
    Err(ApiError::NotFound)
}

/// Whether `user_id` moderates the album's pandal (never for a private album).
async fn moderates(state: &AppState, album: &Album, user_id: i64) -> Result<bool, ApiError> {
    match &album.pandal {
        Some(p) if album.visibility != Visibility::Private => Ok(state.db.is_moderator(p.id, user_id).await?),
        _ => Ok(false),
    }
}

/// The album if the viewer owns it: 404 when they may not see it, 403 when they may
/// see but not change it.
pub(super) async fn own_album(state: &AppState, id: i64, viewer: i64) -> Result<Album, ApiError> {
    let album = state.db.album(id, viewer, None).await?.ok_or(ApiError::NotFound)?;
    if album.owner.id != viewer {
        return Err(ApiError::Forbidden("only the album's owner may change it"));
    }
    Ok(album)
}

pub async fn update(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = super::audit::Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    let album = own_album(state, path_id(&req, 0)?, user.id).await?;
    let body: AlbumChange = parse_json(req, BODY_LIMIT).await?;
    let pandal_id = body.pandal_id.map(|p| p.map(|i| i.0));
    let cover_photo_id = body.cover_photo_id.map(|c| c.map(|i| i.0));
    let mut check = Check::default();
    check_album_text(&mut check, body.title.as_deref(), body.description.as_deref());
    check_pandal(state, &mut check, pandal_id.flatten()).await?;
    if let Some(Some(cover)) = cover_photo_id {
        let in_album = state.db.photo(cover, user.id, None).await?.is_some_and(|p| p.album_id == album.id);
        if !in_album {
            check.fail("cover_photo_id", "not a photo of this album");
        }
    }
    check.finish()?;
    let patch = AlbumPatch {
        title: body.title.map(|t| t.trim().to_owned()),
        description: body.description,
        visibility: body.visibility,
        pandal_id,
        cover_photo_id,
    };
    let visibility_changed = patch.visibility.is_some_and(|v| v != album.visibility);
    let album = state.db.update_album(&album, patch).await?;
    // A change of visibility shows in every list, page and photo of the album.
    let mut touched = vec![Tag::Album(album.id), Tag::Lists];
    if visibility_changed {
        touched.push(Tag::Global);
    }
    state.cache.publish(&state.db, &touched).await;
    if visibility_changed {
        // Who may see an album is what sharing is.
        let object = ("album", format!("{} {}", album.id, album.visibility.as_str()));
        origin.record(state, super::audit::actor(&user), "album.visibility_changed", object).await;
    }
    Ok(json(StatusCode::OK, &AlbumJson::view(album, user.id)))
}

/// `POST /api/v1/albums/{id}/link`: a new link key for the album; the old link opens
/// it no more, on every replica and in every cache tier at once.
pub async fn rotate_link(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = super::audit::Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    let album = own_album(state, path_id(&req, 0)?, user.id).await?;
    state.db.set_album_link(album.id, &crate::auth::random_key()).await?;
    // Photo rows cached for media carry the key too; they depend on their album's tag.
    state.cache.publish(&state.db, &[Tag::Album(album.id), Tag::Lists]).await;
    origin.record(state, super::audit::actor(&user), "album.link_rotated", ("album", album.id.to_string())).await;
    let album = state.db.album(album.id, user.id, None).await?.ok_or(ApiError::NotFound)?;
    Ok(json(StatusCode::OK, &AlbumJson::view(album, user.id)))
}

pub async fn delete(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = super::audit::Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    let album = own_album(state, path_id(&req, 0)?, user.id).await?;
    state.db.delete_album(album.id).await?;
    state.cache.publish(&state.db, &[Tag::Album(album.id), Tag::Lists]).await;
    origin.record(state, super::audit::actor(&user), "album.deleted", ("album", album.id.to_string())).await;
    Ok(super::no_content())
}

/// `GET /api/v1/albums/{id}/photos`.
pub async fn photos(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let viewer = viewer_id(state, &req).await?;
    let album = path_id(&req, 0)?;
    let query = Query::of(&req, &["limit", "cursor", "key"])?;
    let page = query.page(super::views::MAX_LIMIT)?;
    let key = link_key(&req)?;
    cached(state, &query, viewer, Kind::Item, &[Tag::Album(album)], async {
        // The photo query checks the album's visibility itself; only an empty page needs
        // to tell "no photos here" from "no album you may see" (404).
        let stamp = state.cache.bus.stamp();
        let photos = state.db.album_photos(album, viewer, key.as_deref(), page).await?;
        if photos.items.is_empty() && state.db.album(album, viewer, key.as_deref()).await?.is_none() {
            return Err(ApiError::NotFound);
        }
        // Their thumbnails come next.
        super::media::keep_rows(state, &stamp, &photos.items).await;
        Ok(Fresh::json(&PageJson::of(photos, |p| PhotoJson::view(p, viewer)), vec![Tag::Album(album)]))
    })
    .await
}

#[derive(Serialize)]
struct Profile {
    user: UserJson,
    albums: Vec<AlbumJson>,
}

/// `GET /api/v1/users/{username}`: a person and the albums the viewer may see.
pub async fn profile(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let viewer = viewer_id(state, &req).await?;
    let query = Query::of(&req, &[])?;
    cached(state, &query, viewer, Kind::Query, &[Tag::Lists], async {
        let user = state.db.user_by_username(path_param(&req, 0)).await?.ok_or(ApiError::NotFound)?;
        let page = PageRequest { before: None, limit: EMBEDDED_ALBUMS };
        let albums = state.db.albums(viewer, Some(user.id), None, page).await?;
        let body = Profile {
            user: UserJson::public(&user),
            albums: albums.items.into_iter().map(|a| AlbumJson::view(a, viewer)).collect(),
        };
        Ok(Fresh::json(&body, vec![Tag::Lists, Tag::NewPhotos]))
    })
    .await
}
