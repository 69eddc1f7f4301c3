//! Register, log in, log out, and who am I.

use std::collections::BTreeMap;
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};

use super::{ApiError, json, parse_json};
use crate::app::AppState;
use crate::auth;
use crate::db::{NewUser, User};
use crate::http::Body;

/// Sessions live 24 hours after their last use.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(24 * 3600);
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

/// A person as they see themselves (with email) or as others see them.
#[derive(Serialize)]
pub struct UserJson {
    id: i64,
    username: String,
    display_name: String,
    bio: String,
    role: &'static str,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

impl UserJson {
    pub fn private(u: &User) -> UserJson {
        UserJson { email: Some(u.email.clone()), ..UserJson::public(u) }
    }

    pub fn public(u: &User) -> UserJson {
        UserJson {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            bio: u.bio.clone(),
            role: u.role.as_str(),
            created_at: u.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            email: None,
        }
    }
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
    if r.display_name.as_ref().is_some_and(|d| d.chars().count() > 64) {
        fields.insert("display_name".to_owned(), "at most 64 characters".to_owned());
    }
    if fields.is_empty() { Ok(()) } else { Err(ApiError::Fields(fields)) }
}

pub async fn register(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user_agent = user_agent(&req);
    let body: Register = parse_json(req, BODY_LIMIT).await?;
    validate_registration(&body)?;
    let new = NewUser {
        display_name: body.display_name.clone().unwrap_or_else(|| body.username.clone()),
        username: body.username,
        email: body.email,
        password_hash: auth::hash_password(body.password).await,
    };
    let user = state.db.create_user(&new).await?;
    let mut response = json(StatusCode::CREATED, &UserJson::private(&user));
    start_session(state, &mut response, user.id, &user_agent).await?;
    Ok(response)
}

pub async fn login(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user_agent = user_agent(&req);
    let body: Login = parse_json(req, BODY_LIMIT).await?;
    let found = state.db.user_by_login(body.login.trim()).await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    // The same argon2 work whether or not the account exists.
    let ok = auth::verify_password(body.password, hash).await;
    let Some(user) = user.filter(|_| ok) else {
        return Err(ApiError::Unauthorized("wrong username, email or password"));
    };
    let mut response = json(StatusCode::OK, &UserJson::private(&user));
    start_session(state, &mut response, user.id, &user_agent).await?;
    Ok(response)
}

pub async fn logout(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    if let Some(token) = session_token(&req, state) {
        state.db.delete_session(&auth::token_hash(&token)).await?;
    }
    let mut response = Response::new(crate::http::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    set_cookie(state, &mut response, "", 0);
    Ok(response)
}

pub async fn me(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let token = session_token(&req, state).ok_or(ApiError::Unauthorized("not logged in"))?;
    let user = state
        .db
        .session_user(&auth::token_hash(&token), SESSION_LIFETIME)
        .await?
        .ok_or(ApiError::Unauthorized("not logged in"))?;
    let mut response = json(StatusCode::OK, &UserJson::private(&user));
    // The session slid forward; so does the cookie.
    set_cookie(state, &mut response, &token, SESSION_LIFETIME.as_secs());
    Ok(response)
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

fn session_token<B>(req: &Request<B>, state: &AppState) -> Option<String> {
    let name = cookie_name(state);
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 43 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

fn set_cookie(state: &AppState, response: &mut Response<Body>, token: &str, max_age: u64) {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let value = format!("{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", cookie_name(state));
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}
