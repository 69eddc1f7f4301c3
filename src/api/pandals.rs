//! Pandals (browsed by city and year, kept by admins) and search across everything.

use std::collections::BTreeMap;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};

use super::accounts::{require_user, viewer_id};
use super::albums::EMBEDDED_ALBUMS;
use super::cached::cached;
use super::photos::{pandal_tags, search_tags};
use super::views::{AlbumJson, Check, Int, PageJson, PandalJson, PhotoJson, Query, double_option, path_id};
use super::{ApiError, json, parse_json};
use crate::cache::{Fresh, Kind, Tag};
use crate::db::{NOBODY, NewPandal, PageRequest, PandalPatch, Role, SearchHits, User};
use crate::http::Body;
use crate::state::AppState;

const BODY_LIMIT: usize = 8 * 1024;
/// Photos shown on a pandal page before "more".
const EMBEDDED_PHOTOS: usize = 48;
/// Search results per kind: default and most.
const SEARCH_LIMIT: usize = 20;
const SEARCH_MAX: usize = 50;

pub async fn list(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let query = Query::of(&req, &["limit", "cursor", "city", "year"])?;
    let page = query.page(super::views::MAX_LIMIT)?;
    let city = query.get("city").map(str::trim).filter(|c| !c.is_empty());
    let year = match query.get("year") {
        None | Some("") => None,
        Some(y) => Some(y.parse::<i64>().ok().filter(|y| (1800..=2200).contains(y)).ok_or_else(|| {
            ApiError::Fields(BTreeMap::from([("year".to_owned(), "a year from 1800 to 2200".to_owned())]))
        })?),
    };
    cached(state, &query, NOBODY, Kind::Query, &[Tag::Lists], async {
        let pandals = state.db.pandals(city, year, page).await?;
        Ok(Fresh::json(&PageJson::of(pandals, PandalJson::from), vec![Tag::Lists]))
    })
    .await
}

#[derive(Serialize)]
struct CityCount {
    city: String,
    count: i64,
}

#[derive(Serialize)]
struct YearCount {
    year: i64,
    count: i64,
}

#[derive(Serialize)]
struct Facets {
    cities: Vec<CityCount>,
    years: Vec<YearCount>,
}

pub async fn facets(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let query = Query::of(&req, &[])?;
    cached(state, &query, NOBODY, Kind::Query, &[Tag::Lists], async {
        let f = state.db.pandal_facets().await?;
        let body = Facets {
            cities: f.cities.into_iter().map(|(city, count)| CityCount { city, count }).collect(),
            years: f.years.into_iter().map(|(year, count)| YearCount { year, count }).collect(),
        };
        Ok(Fresh::json(&body, vec![Tag::Lists]))
    })
    .await
}

#[derive(Serialize)]
struct PandalPage {
    pandal: PandalJson,
    albums: Vec<AlbumJson>,
    photos: Vec<PhotoJson>,
}

/// A pandal with the newest albums and photos the viewer may see.
pub async fn get(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let viewer = viewer_id(state, &req).await?;
    let id = path_id(&req, 0)?;
    let query = Query::of(&req, &[])?;
    cached(state, &query, viewer, Kind::Query, &[Tag::Lists], async {
        let public = async {
            let pandal = state.db.pandal(id).await?.ok_or(ApiError::NotFound)?;
            let first = |limit| PageRequest { before: None, limit };
            let albums = state.db.albums(NOBODY, None, Some(id), first(EMBEDDED_ALBUMS)).await?.items;
            let photos = state.db.photo_feed(NOBODY, Some(id), first(EMBEDDED_PHOTOS)).await?.items;
            let deps = pandal_tags(id, photos.iter());
            Ok((SearchHits { photos, albums, pandals: vec![pandal] }, deps))
        };
        let own = || state.db.pandal_own(viewer, id, EMBEDDED_ALBUMS, EMBEDDED_PHOTOS);
        let limits = (EMBEDDED_ALBUMS, EMBEDDED_PHOTOS);
        let (mut hits, read_at) = as_seen_by(state, viewer, format!("d:{id}"), public, own, limits).await?;
        let pandal = hits.pandals.pop().ok_or(ApiError::NotFound)?;
        let deps = pandal_tags(pandal.id, hits.photos.iter());
        let body = PandalPage {
            pandal: pandal.into(),
            albums: hits.albums.into_iter().map(|a| AlbumJson::view(a, viewer)).collect(),
            photos: hits.photos.into_iter().map(|p| PhotoJson::view(p, viewer)).collect(),
        };
        Ok(Fresh::json(&body, deps).made_from(&read_at))
    })
    .await
}

async fn require_admin(state: &AppState, req: &Request<Incoming>) -> Result<User, ApiError> {
    let user = require_user(state, req).await?;
    if user.role != Role::Admin {
        return Err(ApiError::Forbidden("only admins keep the pandal list"));
    }
    Ok(user)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PandalBody {
    name: String,
    #[serde(default)]
    para: String,
    city: String,
    year: Int,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lon: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PandalChange {
    name: Option<String>,
    para: Option<String>,
    city: Option<String>,
    year: Option<Int>,
    #[serde(default, deserialize_with = "double_option")]
    lat: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    lon: Option<Option<f64>>,
}

/// The checks a new or changed pandal passes, for the API and `pujo admin create-pandal`.
pub(crate) fn check_pandal(
    check: &mut Check,
    name: Option<&str>,
    para: Option<&str>,
    city: Option<&str>,
    year: Option<i64>,
    lat: Option<f64>,
    lon: Option<f64>,
) {
    if let Some(name) = name {
        check.text("name", name, 1, 120, false);
    }
    if let Some(para) = para {
        check.text("para", para, 0, 120, false);
    }
    if let Some(city) = city {
        check.text("city", city, 1, 80, false);
    }
    if year.is_some_and(|y| !(1800..=2200).contains(&y)) {
        check.fail("year", "a year from 1800 to 2200");
    }
    if lat.is_some_and(|v| !(-90.0..=90.0).contains(&v)) {
        check.fail("lat", "a latitude from -90 to 90");
    }
    if lon.is_some_and(|v| !(-180.0..=180.0).contains(&v)) {
        check.fail("lon", "a longitude from -180 to 180");
    }
}

pub async fn create(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = super::audit::Origin::of(state, &req);
    let admin = require_admin(state, &req).await?;
    let b: PandalBody = parse_json(req, BODY_LIMIT).await?;
    let mut check = Check::default();
    check_pandal(&mut check, Some(&b.name), Some(&b.para), Some(&b.city), Some(b.year.0), b.lat, b.lon);
    check.finish()?;
    let new = NewPandal {
        name: b.name.trim().to_owned(),
        para: b.para.trim().to_owned(),
        city: b.city.trim().to_owned(),
        year: b.year.0,
        lat: b.lat,
        lon: b.lon,
        created_by: Some(admin.id),
    };
    let pandal = state.db.create_pandal(&new).await?;
    state.cache.publish(&state.db, &[Tag::Lists]).await;
    origin.record(state, super::audit::actor(&admin), "pandal.created", ("pandal", pandal.id.to_string())).await;
    Ok(json(StatusCode::CREATED, &PandalJson::from(pandal)))
}

pub async fn update(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = super::audit::Origin::of(state, &req);
    let admin = require_admin(state, &req).await?;
    let pandal = state.db.pandal(path_id(&req, 0)?).await?.ok_or(ApiError::NotFound)?;
    let b: PandalChange = parse_json(req, BODY_LIMIT).await?;
    let mut check = Check::default();
    let (lat, lon, year) = (b.lat.flatten(), b.lon.flatten(), b.year.map(|y| y.0));
    check_pandal(&mut check, b.name.as_deref(), b.para.as_deref(), b.city.as_deref(), year, lat, lon);
    check.finish()?;
    let trim = |v: Option<String>| v.map(|s| s.trim().to_owned());
    let patch =
        PandalPatch { name: trim(b.name), para: trim(b.para), city: trim(b.city), year, lat: b.lat, lon: b.lon };
    let pandal = state.db.update_pandal(&pandal, patch).await?;
    // Its name and place show on albums and photos everywhere.
    state.cache.publish(&state.db, &[Tag::Global]).await;
    origin.record(state, super::audit::actor(&admin), "pandal.updated", ("pandal", pandal.id.to_string())).await;
    Ok(json(StatusCode::OK, &PandalJson::from(pandal)))
}

#[derive(Serialize)]
struct SearchResults {
    photos: Vec<PhotoJson>,
    albums: Vec<AlbumJson>,
    pandals: Vec<PandalJson>,
}

/// What `viewer` sees of `key` (a search, a pandal page): what nobody sees of it
/// (`public`: the hits and what they depend on; the costly part, kept in process and
/// shared by every viewer's answer), with the viewer's own photos and albums in their
/// private and unlisted albums (`own`, read for a logged-in viewer only; everything
/// else a viewer may see in lists is public) and their likes among the shared photos;
/// at most `(albums, photos)` of the newest of each. Returns when the shared part was
/// read, for `Fresh::made_from`. A part that came through Redis holds locations as
/// others see them: the viewer's own photos' are read again for them.
async fn as_seen_by<O: Future<Output = Result<SearchHits, crate::db::DbError>>>(
    state: &AppState,
    viewer: i64,
    key: String,
    public: impl Future<Output = Result<(SearchHits, Vec<Tag>), ApiError>>,
    own: impl FnOnce() -> O,
    (albums, photos): (usize, usize),
) -> Result<(SearchHits, crate::cache::Stamp), ApiError> {
    let recount = |ids: Vec<i64>| async move { state.db.photo_counts(&ids).await.map_err(ApiError::from) };
    let public = state.cache.shared_hits(key, public, recount).await?;
    let (shared, read_at) = (&public.hits, public.stamp.clone());
    if viewer == NOBODY {
        return Ok((shared.clone(), read_at));
    }
    let own = own().await?;
    let mut liked_photos = shared.photos.clone();
    let liked = state.db.liked_among(viewer, &liked_photos.iter().map(|p| p.id).collect::<Vec<_>>()).await?;
    // The viewer's own photos' locations as they see them, which Redis was never told.
    let withheld: Vec<i64> =
        liked_photos.iter().filter(|p| p.owner.id == viewer && public.withheld.contains(&p.id)).map(|p| p.id).collect();
    let theirs = state.db.own_locations(viewer, &withheld).await?;
    for photo in &mut liked_photos {
        photo.liked_by_me = liked.contains(&photo.id);
        if let Some(&(_, lat, lon)) = theirs.iter().find(|(id, ..)| *id == photo.id) {
            (photo.lat, photo.lon) = (lat, lon);
        }
    }
    let hits = SearchHits {
        photos: newest_of(liked_photos, own.photos, photos, |p| p.id),
        albums: newest_of(shared.albums.clone(), own.albums, albums, |a| a.id),
        pandals: shared.pandals.clone(),
    };
    Ok((hits, read_at))
}

/// The `limit` newest of two lists each newest first, once each.
fn newest_of<T>(shared: Vec<T>, own: Vec<T>, limit: usize, id: fn(&T) -> i64) -> Vec<T> {
    let mut all: Vec<T> = own;
    let mine: std::collections::HashSet<i64> = all.iter().map(id).collect();
    all.extend(shared.into_iter().filter(|t| !mine.contains(&id(t))));
    all.sort_unstable_by_key(|t| std::cmp::Reverse(id(t)));
    all.truncate(limit);
    all
}

/// `GET /api/v1/search?q=&limit=`.
pub async fn search(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let viewer = viewer_id(state, &req).await?;
    let query = Query::of(&req, &["q", "limit"])?;
    let q = query.get("q").unwrap_or("");
    let mut check = Check::default();
    check.text("q", q, 1, 200, false);
    check.finish()?;
    let limit = query.limit(SEARCH_LIMIT, SEARCH_MAX)?;
    cached(state, &query, viewer, Kind::Query, &[Tag::Lists], async {
        let public = async {
            let hits = state.db.search(NOBODY, q, limit).await?;
            let deps = search_tags(q, hits.photos.iter(), hits.albums.iter());
            Ok((hits, deps))
        };
        let own = || state.db.search_own(viewer, q, limit);
        let (hits, read_at) = as_seen_by(state, viewer, format!("s:{limit}:{q}"), public, own, (limit, limit)).await?;
        let deps = search_tags(q, hits.photos.iter(), hits.albums.iter());
        let body = SearchResults {
            photos: hits.photos.into_iter().map(|p| PhotoJson::view(p, viewer)).collect(),
            albums: hits.albums.into_iter().map(|a| AlbumJson::view(a, viewer)).collect(),
            pandals: hits.pandals.into_iter().map(PandalJson::from).collect(),
        };
        Ok(Fresh::json(&body, deps).made_from(&read_at))
    })
    .await
}
