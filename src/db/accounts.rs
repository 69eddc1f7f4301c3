//! People and their sessions, written once on the shared statement layer (see
//! [`super::query`]) like the content is: every statement and the decoding of a user
//! exist once for both backends.

use std::time::Duration;

use time::OffsetDateTime;

use super::query::{Row, Sql, params};
use super::{Database, DbError, GpsPrivacy, NewUser, Role, User};

/// The columns [`user_from`] reads, in its order.
macro_rules! user_columns {
    () => {
        "id, username, email, display_name, bio, role, gps_privacy, created_at"
    };
}

const CREATE_USER: Sql = Sql::same(concat!(
    "INSERT INTO users (username, email, display_name, password_hash, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $5) RETURNING ",
    user_columns!()
));
const USER_BY_LOGIN: Sql = Sql::same(concat!(
    "SELECT ",
    user_columns!(),
    ", password_hash FROM users WHERE lower(username) = lower($1) OR lower(email) = lower($1) LIMIT 1"
));
const USER_BY_ID: Sql = Sql::same(concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1"));
pub(super) const USER_BY_USERNAME: Sql =
    Sql::same(concat!("SELECT ", user_columns!(), " FROM users WHERE lower(username) = lower($1)"));
const CREATE_SESSION: Sql = Sql::same(
    "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, user_agent) \
     VALUES ($1, $2, $3, $3, $4, $5)",
);
/// Slides a live session's expiry; a session past its expiry or its absolute lifetime
/// is not touched (and answers no row).
const TOUCH_SESSION: Sql = Sql::same(
    "UPDATE sessions SET last_seen_at = $2, expires_at = $3 \
     WHERE token_hash = $1 AND expires_at > $2 AND created_at > $4 RETURNING user_id",
);
const DELETE_DEAD_SESSION: Sql =
    Sql::same("DELETE FROM sessions WHERE token_hash = $1 AND (expires_at <= $2 OR created_at <= $3)");
const DELETE_SESSION: Sql = Sql::same("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id");
const DELETE_SESSIONS_OF: Sql = Sql::same("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2");

/// A user from the columns of `user_columns!`, the one place a row becomes a `User`.
pub(super) fn user_from(r: &dyn Row) -> Result<User, DbError> {
    Ok(User {
        id: r.int(0)?,
        username: r.text(1)?,
        email: r.text(2)?,
        display_name: r.text(3)?,
        bio: r.text(4)?,
        role: Role::parse(&r.text(5)?),
        gps_privacy: GpsPrivacy::parse(&r.text(6)?),
        created_at: r.time(7)?,
    })
}

fn user_and_hash(r: &dyn Row) -> Result<(User, String), DbError> {
    Ok((user_from(r)?, r.text(8)?))
}

fn id_from(r: &dyn Row) -> Result<i64, DbError> {
    r.int(0)
}

impl Database {
    pub async fn create_user(&self, user: &NewUser) -> Result<User, DbError> {
        let now = OffsetDateTime::now_utc();
        let NewUser { username, email, display_name, password_hash } = user.clone();
        self.query_one(CREATE_USER, params![username, email, display_name, password_hash, now], user_from).await
    }

    /// The user whose username or email is `login` (case-insensitive), with their
    /// password hash.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<(User, String)>, DbError> {
        self.query_opt(USER_BY_LOGIN, params![login], user_and_hash).await
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, DbError> {
        self.query_opt(USER_BY_ID, params![id], user_from).await
    }

    /// Stores a session by the hash of its token.
    pub async fn create_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        lifetime: Duration,
        user_agent: &str,
    ) -> Result<(), DbError> {
        let now = OffsetDateTime::now_utc();
        self.execute(CREATE_SESSION, params![token_hash.to_vec(), user_id, now, now + lifetime, user_agent]).await?;
        Ok(())
    }

    /// The user of a live session, sliding its expiry to `lifetime` from now, as long
    /// as it began less than `absolute` ago; expired sessions are deleted and answer
    /// `None`.
    pub async fn session_user(
        &self,
        token_hash: &[u8],
        lifetime: Duration,
        absolute: Duration,
    ) -> Result<Option<User>, DbError> {
        let now = OffsetDateTime::now_utc();
        let born_after = now - absolute;
        let touched = self
            .query_opt(TOUCH_SESSION, params![token_hash.to_vec(), now, now + lifetime, born_after], id_from)
            .await?;
        match touched {
            Some(user_id) => self.user_by_id(user_id).await,
            None => {
                self.execute(DELETE_DEAD_SESSION, params![token_hash.to_vec(), now, born_after]).await?;
                Ok(None)
            }
        }
    }

    /// Ends one session; returns whose it was, if it existed.
    pub async fn delete_session(&self, token_hash: &[u8]) -> Result<Option<i64>, DbError> {
        self.query_opt(DELETE_SESSION, params![token_hash.to_vec()], id_from).await
    }

    /// Ends every session of a user except `keep` (after a password change).
    pub async fn delete_sessions_of(&self, user_id: i64, keep: Option<&[u8]>) -> Result<u64, DbError> {
        self.execute(DELETE_SESSIONS_OF, params![user_id, keep.unwrap_or_default().to_vec()]).await
    }
}
