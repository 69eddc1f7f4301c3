//! Reports and pandal moderators.
//!
//! - Anyone who can see a photo or a comment reports it with a reason
//!   (`POST /api/v1/photos/{id}/report`, `POST /api/v1/comments/{id}/report`),
//!   logged in or not, once per target while their report is open; reports are
//!   bounded per client.
//! - The album's owner, its pandal's moderators and admins see the open reports they
//!   may act on (`GET /api/v1/reports`) and act (`POST /api/v1/reports/{id}`): remove
//!   the target (gone from every list, search, cache tier and media URL at once, as a
//!   deletion always is), dismiss, or ban the upload link a guest's photo came
//!   through (the link revoked, the photo removed). Acting closes every open report
//!   of the target.
//! - Admins grant and revoke the moderator role per pandal
//!   (`/api/v1/pandals/{id}/moderators/{username}`).

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};

use super::accounts::{current_user, require_user};
use super::albums::steward_album;
use super::audit::{Origin, actor};
use super::views::{Check, PageJson, Query, UserRefJson, link_key, path_id, path_param, rfc3339};
use super::{ApiError, json, parse_json};
use crate::cache::Tag;
use crate::db::{NOBODY, NewReport, Report, Role, Visibility};
use crate::http::Body;
use crate::ratelimit::REPORTS_PER_CLIENT;
use crate::state::AppState;

const BODY_LIMIT: usize = 4 * 1024;

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Reason {
    Spam,
    Abuse,
    Private,
    Copyright,
    Other,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Spam => "spam",
            Reason::Abuse => "abuse",
            Reason::Private => "private",
            Reason::Copyright => "copyright",
            Reason::Other => "other",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    reason: Reason,
    #[serde(default)]
    note: String,
}

#[derive(Serialize)]
struct Received {
    status: &'static str,
}

/// `POST /api/v1/photos/{id}/report?key=`.
pub async fn report_photo(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let (user, reporter) = reporter(state, &req).await?;
    let key = link_key(&req)?;
    let viewer = user.as_ref().map_or(NOBODY, |u| u.id);
    let photo = state.db.photo(path_id(&req, 0)?, viewer, key.as_deref()).await?.ok_or(ApiError::NotFound)?;
    file(state, req, user, reporter, "photo", photo.id, photo.album_id).await
}

/// `POST /api/v1/comments/{id}/report?key=`.
pub async fn report_comment(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let (user, reporter) = reporter(state, &req).await?;
    let key = link_key(&req)?;
    let viewer = user.as_ref().map_or(NOBODY, |u| u.id);
    let comment = state.db.comment(path_id(&req, 0)?).await?.ok_or(ApiError::NotFound)?;
    // A comment on a photo the reporter cannot see does not exist for them.
    let photo = state.db.photo(comment.photo_id, viewer, key.as_deref()).await?.ok_or(ApiError::NotFound)?;
    file(state, req, user, reporter, "comment", comment.id, photo.album_id).await
}

/// Who reports: a person (`u<id>`), or somebody on a network (its /24 or /48, as the
/// audit log keeps it: never a whole address); bounded per client.
async fn reporter(state: &AppState, req: &Request<Incoming>) -> Result<(Option<crate::db::User>, String), ApiError> {
    let ip = state.client_ip(req);
    let client = crate::http::client_address::client_bucket(ip);
    state.limiter.hit(&format!("reports:{client}"), REPORTS_PER_CLIENT).await.map_err(ApiError::RateLimited)?;
    let user = current_user(state, req).await?;
    let who = match &user {
        Some(u) => format!("u{}", u.id),
        None => format!("n{}", crate::http::client_address::truncated(ip)),
    };
    Ok((user, who))
}

async fn file(
    state: &AppState,
    req: Request<Incoming>,
    user: Option<crate::db::User>,
    reporter: String,
    kind: &'static str,
    target: i64,
    album_id: i64,
) -> Result<Response<Body>, ApiError> {
    let body: ReportBody = parse_json(req, BODY_LIMIT).await?;
    let mut check = Check::default();
    check.text("note", &body.note, 0, 500, true);
    check.finish()?;
    let new = NewReport {
        target_kind: kind,
        target_id: target,
        album_id,
        reason: body.reason.as_str().to_owned(),
        note: body.note.trim().to_owned(),
        reporter_id: user.map(|u| u.id),
        reporter,
    };
    let fresh = state.db.create_report(&new).await?;
    // The same answer for a report already open: it is received either way.
    let status = if fresh { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json(status, &Received { status: "received" }))
}

/// What a report is about, for those who act on it.
#[derive(Serialize)]
struct ReportJson {
    id: i64,
    target: TargetJson,
    album_id: i64,
    reason: String,
    note: String,
    /// Whether a logged-in person made it (who, never).
    by_member: bool,
    created_at: String,
}

#[derive(Serialize)]
struct TargetJson {
    kind: String,
    id: i64,
    /// A photo's thumbnail (with its album's key when unlisted), or a comment's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    thumb: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    /// The photo the target is or is on, for a link to it.
    photo_id: Option<i64>,
    /// Whether the photo came through an upload link (so the link can be banned).
    from_guest_link: bool,
}

async fn report_json(state: &AppState, r: Report) -> Result<ReportJson, ApiError> {
    let (photo_id, text) = if r.target_kind == "comment" {
        match state.db.comment(r.target_id).await? {
            Some(c) => (Some(c.photo_id), Some(c.body)),
            None => (None, None),
        }
    } else {
        (Some(r.target_id), None)
    };
    let photo = match photo_id {
        Some(id) => state.db.photo_unchecked(id).await?,
        None => None,
    };
    // Only while the target is still in the reported album: one moved elsewhere shows
    // nothing of its new album (its key above all) to this album's reviewers.
    let photo = photo.filter(|p| p.album_id == r.album_id);
    let thumb = photo.as_ref().filter(|_| r.target_kind == "photo").map(|p| {
        let key = if p.visibility == Visibility::Unlisted { format!("?key={}", p.link_key) } else { String::new() };
        format!("/media/{}/thumb{key}", p.id)
    });
    let (photo_id, text) = if photo.is_some() { (photo_id, text) } else { (None, None) };
    Ok(ReportJson {
        id: r.id,
        target: TargetJson {
            kind: r.target_kind.clone(),
            id: r.target_id,
            thumb,
            text,
            photo_id,
            from_guest_link: r.target_kind == "photo" && photo.as_ref().is_some_and(|p| p.upload_link_id.is_some()),
        },
        album_id: r.album_id,
        reason: r.reason,
        note: r.note,
        by_member: r.by_member,
        created_at: rfc3339(r.created_at),
    })
}

/// `GET /api/v1/reports?limit=&cursor=`: open reports the person may act on.
pub async fn list(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user = require_user(state, &req).await?;
    let query = Query::of(&req, &["limit", "cursor"])?;
    let page = query.page(super::views::MAX_LIMIT)?;
    let reports = state.db.open_reports(user.id, user.role == Role::Admin, page).await?;
    let mut items = Vec::with_capacity(reports.items.len());
    for r in reports.items {
        items.push(report_json(state, r).await?);
    }
    let body = PageJson::of(crate::db::Page { items, next: reports.next }, |r| r);
    Ok(super::no_store(json(StatusCode::OK, &body)))
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Action {
    Remove,
    Dismiss,
    BanLink,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActBody {
    action: Action,
}

#[derive(Serialize)]
struct Acted {
    /// Open reports of the target this closed (this one included).
    closed: u64,
}

/// `POST /api/v1/reports/{id}`: remove its target, dismiss it, or ban the upload link
/// a guest's photo came through.
pub async fn act(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    let report = state.db.report(path_id(&req, 0)?).await?.ok_or(ApiError::NotFound)?;
    // Who may act is decided by the album the target is in now (it may have moved
    // since it was reported), and the reported album's reviewers see the report.
    let kind = report.target_kind.as_str();
    let photo_now = match kind {
        "photo" => state.db.photo_unchecked(report.target_id).await?,
        _ => match state.db.comment(report.target_id).await? {
            Some(c) => state.db.photo_unchecked(c.photo_id).await?,
            None => None,
        },
    };
    let current_album = photo_now.as_ref().map_or(report.album_id, |p| p.album_id);
    steward_album(state, report.album_id, &user).await?;
    let album = steward_album(state, current_album, &user).await?;
    let body: ActBody = parse_json(req, BODY_LIMIT).await?;
    if report.status != "open" {
        return Err(ApiError::Conflict("report"));
    }
    let object = (if kind == "photo" { "photo" } else { "comment" }, report.target_id.to_string());
    let status = match body.action {
        Action::Dismiss => {
            origin.record(state, actor(&user), "moderation.report_dismissed", object).await;
            "dismissed"
        }
        Action::Remove | Action::BanLink => {
            let mut touched = vec![Tag::Lists, Tag::Album(album.id)];
            if kind == "photo" {
                let photo = photo_now;
                if body.action == Action::BanLink {
                    let link = photo
                        .as_ref()
                        .and_then(|p| p.upload_link_id)
                        .ok_or(ApiError::Validation("this photo did not come through an upload link".into()))?;
                    state.db.delete_upload_link(album.id, link).await?;
                    let banned = ("upload_link", format!("{link} album {}", album.id));
                    origin.record(state, actor(&user), "upload_link.banned", banned).await;
                }
                if photo.is_some() {
                    state.db.delete_photo(report.target_id).await?;
                }
                touched.push(Tag::Photo(report.target_id));
                origin.record(state, actor(&user), "moderation.photo_removed", object).await;
            } else {
                if body.action == Action::BanLink {
                    return Err(ApiError::Validation("only a photo's upload link can be banned".into()));
                }
                if let Some(comment) = state.db.comment(report.target_id).await? {
                    state.db.delete_comment(comment.id).await?;
                    touched.push(Tag::Photo(comment.photo_id));
                }
                origin.record(state, actor(&user), "moderation.comment_removed", object).await;
            }
            // Gone from every list, page, search and media URL, on every replica.
            state.cache.publish(&state.db, &touched).await;
            "removed"
        }
    };
    let closed = state.db.close_reports(kind, report.target_id, status, user.id).await?;
    Ok(json(StatusCode::OK, &Acted { closed }))
}

#[derive(Serialize)]
struct ModeratorsJson {
    items: Vec<UserRefJson>,
}

/// `GET /api/v1/pandals/{id}/moderators`: admins only.
pub async fn moderators(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user = require_user(state, &req).await?;
    if user.role != Role::Admin {
        return Err(ApiError::Forbidden("only admins see a pandal's moderators"));
    }
    let pandal = state.db.pandal(path_id(&req, 0)?).await?.ok_or(ApiError::NotFound)?;
    let items = state.db.moderators(pandal.id).await?.into_iter().map(Into::into).collect();
    Ok(json(StatusCode::OK, &ModeratorsJson { items }))
}

#[derive(Serialize)]
struct ModeratesJson {
    pandals: Vec<i64>,
}

/// `GET /api/v1/me/moderates`: the pandals the person moderates (the site links their
/// review queues).
pub async fn moderates(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    Query::of(&req, &[])?;
    let user = require_user(state, &req).await?;
    let pandals = state.db.moderated_by(user.id).await?;
    Ok(super::no_store(json(StatusCode::OK, &ModeratesJson { pandals })))
}

/// `PUT` and `DELETE /api/v1/pandals/{id}/moderators/{username}`: admins only.
pub async fn set_moderator(state: &AppState, req: Request<Incoming>, grant: bool) -> Result<Response<Body>, ApiError> {
    let origin = Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    if user.role != Role::Admin {
        return Err(ApiError::Forbidden("only admins grant the moderator role"));
    }
    let pandal = state.db.pandal(path_id(&req, 0)?).await?.ok_or(ApiError::NotFound)?;
    let who = state.db.user_by_username(path_param(&req, 1)).await?.ok_or(ApiError::NotFound)?;
    let changed = if grant {
        state.db.grant_moderator(pandal.id, who.id, user.id).await?
    } else {
        state.db.revoke_moderator(pandal.id, who.id).await?
    };
    if changed {
        let action = if grant { "role.moderator_granted" } else { "role.moderator_revoked" };
        origin.record(state, actor(&user), action, ("user", format!("{} pandal {}", who.id, pandal.id))).await;
    }
    Ok(super::no_content())
}
