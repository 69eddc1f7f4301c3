//! Register, log in, log out, who am I, profile, password, and leaving.

use super::audit::{self, Origin};
use crate::db::Actor;
use std::collections::BTreeMap;
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use serde::Deserialize;

use super::views::{Check, UserJson};
use super::{ApiError, json, no_content, parse_json};
use crate::auth;
use crate::cache::Tag;
use crate::db::{GpsPrivacy, NewUser, ProfilePatch, User};
use crate::http::Body;
use crate::http::client_address::client_bucket;
use crate::ratelimit::{
    CONFIRMATIONS_PER_ACCOUNT, FAILURES_PER_ACCOUNT, FAILURES_PER_DEVICE, LOGIN_PER_CLIENT, REGISTRATIONS_PER_CLIENT,
};
use crate::state::AppState;

/// Sessions live 24 hours after their last use.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// However often it is used, a session ends this long after its log-in (and within
/// the session cache's 15 minutes of that): a stolen cookie does not live forever.
pub const SESSION_ABSOLUTE: Duration = Duration::from_secs(30 * 24 * 3600);
const BODY_LIMIT: usize = 4096;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Register {
    username: String,
    email: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    login: String,
    password: String,
}

fn validate_registration(r: &Register) -> Result<(), ApiError> {
    let mut fields = BTreeMap::new();
    let username_ok = (3..=32).contains(&r.username.chars().count())
        && r.username.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if !username_ok {
        fields.insert("username".to_owned(), "3 to 32 letters, digits, '.', '_' or '-'".to_owned());
    }
    let email_ok = r.email.len() <= 254
        && r.email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !r.email.chars().any(char::is_whitespace);
    if !email_ok {
        fields.insert("email".to_owned(), "an email address like name@example.org".to_owned());
    }
    let length = r.password.chars().count();
    if !(10..=128).contains(&length) {
        fields.insert("password".to_owned(), "10 to 128 characters".to_owned());
    }
    if let Some(name) = &r.display_name {
        let mut check = Check::default();
        check.text("display_name", name, 1, 64, false);
        fields.extend(check.problems().clone());
    }
    if fields.is_empty() { Ok(()) } else { Err(ApiError::Fields(fields)) }
}

pub async fn register(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user_agent = user_agent(&req);
    let client = format!("register:{}", client_bucket(state.client_ip(&req)));
    state.limiter.hit(&client, REGISTRATIONS_PER_CLIENT).await.map_err(ApiError::RateLimited)?;
    // A little work per account (a browser's fraction of a second), so that a script
    // cannot mint accounts for nothing; before the body is read or a password hashed.
    super::proof::check(state, &req, super::proof::Purpose::Register).await?;
    let body: Register = parse_json(req, BODY_LIMIT).await?;
    validate_registration(&body)?;
    let new = NewUser {
        display_name: body.display_name.as_deref().map_or_else(|| body.username.clone(), |d| d.trim().to_owned()),
        username: body.username,
        email: body.email,
        password_hash: state.passwords.hash(body.password).await.map_err(|_| ApiError::Unavailable)?,
    };
    let user = state.db.create_user(&new).await?;
    // A profile that was a 404 a moment ago.
    state.cache.publish(&state.db, &[Tag::Lists]).await;
    let mut response = json(StatusCode::CREATED, &UserJson::private(&user));
    start_session(state, &mut response, user.id, &user_agent).await?;
    Ok(response)
}

/// Logs in. Every attempt is counted before its password is checked (one atomic step,
/// so parallel guesses cannot pass the limit), on one of two counters: a browser that
/// logged into this account before (its device cookie proves it) counts on its own;
/// every other client counts on the account's (by id: username and email are one
/// account). Strangers guessing can lock new browsers out for a while, never the
/// owner's own. A success empties the counter it was on.
pub async fn login(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = Origin::of(state, &req);
    let user_agent = user_agent(&req);
    let client = format!("login:{}", client_bucket(state.client_ip(&req)));
    state.limiter.hit(&client, LOGIN_PER_CLIENT).await.map_err(ApiError::RateLimited)?;
    let device = cookie(&req, device_cookie_name(state)).map(str::to_owned);
    let body: Login = parse_json(req, BODY_LIMIT).await?;
    let login = body.login.trim();
    let found = state.db.user_by_login(login).await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let known_device = match (&user, &hash, &device) {
        (Some(user), Some(hash), Some(token)) => auth::device_nonce(token, user.id, hash),
        _ => None,
    };
    let (counter, limit) = match (known_device, &user) {
        (Some(nonce), _) => (format!("device:{}", crate::util::hex(&nonce)), FAILURES_PER_DEVICE),
        (None, Some(user)) => (format!("account:{}", user.id), FAILURES_PER_ACCOUNT),
        // Nobody by that name: counted by what was typed, so the answer is the same.
        (None, None) => (format!("account:?{}", login.to_lowercase()), FAILURES_PER_ACCOUNT),
    };
    state.limiter.hit(&counter, limit).await.map_err(ApiError::RateLimited)?;
    // The same argon2 work whether or not the account exists.
    let ok = state.passwords.verify(body.password, hash.clone()).await.map_err(|_| ApiError::Unavailable)?;
    let (Some(user), Some(hash)) = (user.clone().filter(|_| ok), hash) else {
        // Failures against an account are recorded, by its username (a login that
        // names nobody may be a password typed into the wrong field, and counts only
        // in the rate limits); never the password.
        if let Some(u) = &user {
            let object = ("user", u.id.to_string());
            origin.record(state, Actor::Anonymous { name: u.username.clone() }, "auth.login_failed", object).await;
        }
        return Err(ApiError::Unauthorized("wrong username, email or password"));
    };
    state.limiter.reset(&counter).await;
    let mut response = json(StatusCode::OK, &UserJson::private(&user));
    start_session(state, &mut response, user.id, &user_agent).await?;
    origin.record(state, audit::actor(&user), "auth.login", ("user", user.id.to_string())).await;
    if known_device.is_none() {
        let token = auth::new_device_token(user.id, &hash);
        set_cookie_named(state, &mut response, device_cookie_name(state), &token, DEVICE_LIFETIME.as_secs());
    }
    Ok(response)
}

pub async fn logout(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    if let Some(token) = session_token(state, &req) {
        let hash = auth::token_hash(&token);
        let ended = state.db.delete_session(&hash).await?;
        state.cache.forget_session(&hash).await;
        if let Some(user_id) = ended {
            // Every replica drops its copy of this person's sessions (the others come
            // back from the database on their next request).
            state.cache.publish(&state.db, &[Tag::User(user_id)]).await;
        }
    }
    let mut response = no_content();
    set_cookie(state, &mut response, "", 0);
    Ok(response)
}

pub async fn me(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let token = session_token(state, &req).ok_or(ApiError::Unauthorized("not logged in"))?;
    let user = require_user(state, &req).await?;
    let mut response = json(StatusCode::OK, &UserJson::private(&user));
    // The session slid forward; so does the cookie.
    set_cookie(state, &mut response, &token, SESSION_LIFETIME.as_secs());
    Ok(response)
}

#[derive(serde::Serialize)]
struct SessionJson {
    user: Option<UserJson>,
}

/// `GET /api/v1/auth/session`: who the request's session belongs to, `{"user": null}`
/// when nobody is logged in. What the site asks on every visit: being anonymous is
/// a normal state, answered 200, not a 401 in the browser's console.
pub async fn session(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user = current_user(state, &req).await?;
    let mut response = json(StatusCode::OK, &SessionJson { user: user.as_ref().map(UserJson::private) });
    if user.is_some()
        && let Some(token) = session_token(state, &req)
    {
        set_cookie(state, &mut response, &token, SESSION_LIFETIME.as_secs());
    }
    Ok(response)
}

/// The person whose live session the request carries, if any (sliding its expiry).
pub async fn current_user<B>(state: &AppState, req: &Request<B>) -> Result<Option<User>, ApiError> {
    let Some(token) = session_token(state, req) else { return Ok(None) };
    let hash = auth::token_hash(&token);
    // Boxed: the cache's futures are large, and every handler awaits this one.
    let lookup = Box::pin(state.db.session_user(&hash, SESSION_LIFETIME, SESSION_ABSOLUTE));
    Ok(Box::pin(state.cache.session_user(&hash, lookup)).await?)
}

/// The logged-in person, or 401.
pub async fn require_user<B>(state: &AppState, req: &Request<B>) -> Result<User, ApiError> {
    current_user(state, req).await?.ok_or(ApiError::Unauthorized("not logged in"))
}

/// The viewer's user id for visibility checks, or `NOBODY`.
pub async fn viewer_id<B>(state: &AppState, req: &Request<B>) -> Result<i64, ApiError> {
    Ok(current_user(state, req).await?.map_or(crate::db::NOBODY, |u| u.id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileChange {
    display_name: Option<String>,
    bio: Option<String>,
    gps_privacy: Option<GpsPrivacy>,
}

pub async fn update_me(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user = require_user(state, &req).await?;
    let body: ProfileChange = parse_json(req, BODY_LIMIT).await?;
    let mut check = Check::default();
    if let Some(name) = &body.display_name {
        check.text("display_name", name, 1, 64, false);
    }
    if let Some(bio) = &body.bio {
        check.text("bio", bio, 0, 500, true);
    }
    check.finish()?;
    let patch = ProfilePatch {
        display_name: body.display_name.map(|d| d.trim().to_owned()),
        bio: body.bio,
        gps_privacy: body.gps_privacy,
    };
    let user = state.db.update_profile(&user, patch).await?;
    // A display name shows on every album, photo and comment of theirs.
    state.cache.publish(&state.db, &[Tag::User(user.id), Tag::Global]).await;
    Ok(json(StatusCode::OK, &UserJson::private(&user)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Changes the password after checking the current one, and ends every other session.
pub async fn change_password(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    let token = session_token(state, &req).unwrap_or_default();
    let body: PasswordChange = parse_json(req, BODY_LIMIT).await?;
    let length = body.new_password.chars().count();
    if !(10..=128).contains(&length) {
        return Err(ApiError::Fields(BTreeMap::from([("new_password".to_owned(), "10 to 128 characters".to_owned())])));
    }
    confirm_password(state, &origin, &user, body.current_password, "current_password").await?;
    let hash = state.passwords.hash(body.new_password).await.map_err(|_| ApiError::Unavailable)?;
    state.db.set_password_hash(user.id, &hash).await?;
    state.db.delete_sessions_of(user.id, Some(&auth::token_hash(&token))).await?;
    state.cache.publish(&state.db, &[Tag::User(user.id)]).await;
    origin.record(state, audit::actor(&user), "account.password_changed", ("user", user.id.to_string())).await;
    Ok(no_content())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Leaving {
    password: String,
}

/// Deletes the account and everything it owns, after the password confirms it.
pub async fn delete_me(state: &std::sync::Arc<AppState>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let origin = Origin::of(state, &req);
    let user = require_user(state, &req).await?;
    let body: Leaving = parse_json(req, BODY_LIMIT).await?;
    confirm_password(state, &origin, &user, body.password, "password").await?;
    let hashes = state.db.delete_user(user.id).await?;
    state.cache.publish(&state.db, &[Tag::User(user.id), Tag::Global]).await;
    // Their photos' bytes go too, unless someone else uploaded the same ones; in the
    // background, since there may be thousands (what fails here, `pujo blobs gc` does).
    let background = state.clone();
    tokio::spawn(async move {
        for hash in hashes {
            // Only when no photo has these bytes and no upload is relying on them; an
            // upload of them waits until the deletion has ended, then writes them anew.
            match background.db.begin_content_deletion(&hash).await {
                Ok(true) => {
                    let deleted = background.media.delete_content(&background.metrics, &hash).await;
                    let ended = background.db.end_content_deletion(&hash).await;
                    if let Err(e) = deleted {
                        tracing::warn!(error = %e, "could not delete a departed account's blobs; gc will");
                        return;
                    }
                    if let Err(e) = ended {
                        tracing::warn!(error = %e, "could not end a blob deletion; its lock expires");
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not check a departed account's blobs; gc will");
                    return;
                }
            }
        }
    });
    tracing::info!(user_id = user.id, "account deleted");
    origin.record(state, audit::actor(&user), "account.deleted", ("user", user.id.to_string())).await;
    let mut response = no_content();
    set_cookie(state, &mut response, "", 0);
    Ok(response)
}

/// Checks a password the logged-in person typed again. Every confirmation counts,
/// right or wrong (each costs an argon2 check), on a counter of its own: failed
/// log-ins by strangers do not stop the owner changing their password or leaving.
async fn confirm_password(
    state: &AppState,
    origin: &Origin,
    user: &User,
    password: String,
    field: &str,
) -> Result<(), ApiError> {
    let counter = format!("confirm:{}", user.id);
    state.limiter.hit(&counter, CONFIRMATIONS_PER_ACCOUNT).await.map_err(ApiError::RateLimited)?;
    let hash = state.db.password_hash(user.id).await?;
    if !state.passwords.verify(password, hash).await.map_err(|_| ApiError::Unavailable)? {
        // Someone with the session who does not know the password: a stolen session?
        let object = ("user", user.id.to_string());
        origin.record(state, audit::actor(user), "account.password_confirmation_failed", object).await;
        return Err(ApiError::Fields(BTreeMap::from([(field.to_owned(), "is not your password".to_owned())])));
    }
    Ok(())
}

async fn start_session(
    state: &AppState,
    response: &mut Response<Body>,
    user_id: i64,
    user_agent: &str,
) -> Result<(), ApiError> {
    let (token, hash) = auth::new_session_token();
    state.db.create_session(&hash, user_id, SESSION_LIFETIME, user_agent).await?;
    set_cookie(state, response, &token, SESSION_LIFETIME.as_secs());
    Ok(())
}

fn user_agent<B>(req: &Request<B>) -> String {
    let ua = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    ua.chars().take(200).collect()
}

/// `__Host-pujo_session` (Secure) everywhere but plain HTTP on loopback, where
/// browsers would not send a Secure cookie back.
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.secure_cookies { "__Host-pujo_session" } else { "pujo_session" }
}

/// The device cookie: a browser that logged into an account before (a year).
fn device_cookie_name(state: &AppState) -> &'static str {
    if state.secure_cookies { "__Host-pujo_device" } else { "pujo_device" }
}

/// Device cookies last a year from the browser's last log-in.
const DEVICE_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// The value of the cookie `name`, if the request carries one.
pub(super) fn cookie<'r, B>(req: &'r Request<B>, name: &str) -> Option<&'r str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn session_token<B>(state: &AppState, req: &Request<B>) -> Option<String> {
    cookie(req, cookie_name(state)).filter(|v| auth::is_token(v)).map(str::to_owned)
}

fn set_cookie(state: &AppState, response: &mut Response<Body>, token: &str, max_age: u64) {
    set_cookie_named(state, response, cookie_name(state), token, max_age);
}

pub(super) fn set_cookie_named(state: &AppState, response: &mut Response<Body>, name: &str, value: &str, max_age: u64) {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let value = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}
