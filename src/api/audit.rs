//! The audit log seen from the API: recording an event where a handler acts (who,
//! from which network, which request), and `GET /api/v1/admin/audit`, the log a page
//! at a time for admins, filtered by action or actor.
//!
//! Recording never decides an answer: if the database cannot take the row in time,
//! the action has already happened, so the failure is logged and counted (the
//! `audit_write_failures_total` metric), not turned into an error for the person.
//! Events of people not logged in (failed log-ins) are bounded per process and
//! second, so that nobody can fill the log or keep the database writing by failing
//! to log in from many addresses; past the bound they are counted, not written.

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde::Serialize;

use super::ApiError;
use super::accounts::require_user;
use super::views::{PageJson, Query, rfc3339};
use crate::db::{Actor, AuditEvent, AuditFilter, NewAuditEvent, Role, User};
use crate::http::Body;
use crate::state::AppState;

/// Where a request came from, as a record keeps it: taken before the handler reads
/// the body (which consumes the request).
pub struct Origin {
    client: String,
    request_id: String,
}

impl Origin {
    pub fn of<B>(state: &AppState, req: &Request<B>) -> Origin {
        let client = crate::http::client_address::truncated(state.client_ip(req));
        let request_id =
            req.extensions().get::<crate::http::RequestId>().and_then(|id| id.0.to_str().ok()).unwrap_or("").to_owned();
        Origin { client, request_id }
    }

    /// Appends the event; a failure is logged and counted, never returned.
    pub async fn record(&self, state: &AppState, actor: Actor, action: &'static str, object: (&'static str, String)) {
        let limit = crate::ratelimit::AUDIT_ANONYMOUS_PER_PROCESS;
        if matches!(actor, Actor::Anonymous { .. }) && state.limiter.hit_here("audit:anonymous", limit).is_err() {
            state.metrics.audit_write_failures.inc();
            return;
        }
        let event = NewAuditEvent {
            actor,
            action,
            object_kind: object.0,
            object_id: object.1,
            client: self.client.clone(),
            request_id: self.request_id.clone(),
        };
        match tokio::time::timeout(WRITE_WITHIN, state.db.record_audit(&event)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                state.metrics.audit_write_failures.inc();
                tracing::error!(action, error = %e, "an audit event could not be recorded");
            }
            Err(_) => {
                state.metrics.audit_write_failures.inc();
                tracing::error!(action, "an audit event took too long to record; given up");
            }
        }
    }
}

/// How long a request waits for its event to be written.
const WRITE_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// The person as an actor.
pub fn actor(user: &User) -> Actor {
    Actor::User { id: user.id, name: user.username.clone() }
}

#[derive(Serialize)]
struct EventJson {
    id: i64,
    at: String,
    actor: ActorJson,
    action: String,
    object: ObjectJson,
    client: String,
    request_id: String,
}

#[derive(Serialize)]
struct ActorJson {
    kind: String,
    id: Option<i64>,
    name: String,
}

#[derive(Serialize)]
struct ObjectJson {
    kind: String,
    id: String,
}

impl From<AuditEvent> for EventJson {
    fn from(e: AuditEvent) -> EventJson {
        EventJson {
            id: e.id,
            at: rfc3339(e.at),
            actor: ActorJson { kind: e.actor_kind, id: e.actor_id, name: e.actor_name },
            action: e.action,
            object: ObjectJson { kind: e.object_kind, id: e.object_id },
            client: e.client,
            request_id: e.request_id,
        }
    }
}

/// `GET /api/v1/admin/audit?limit=&cursor=&action=&actor=`: admins only.
pub async fn list(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let user = require_user(state, &req).await?;
    if user.role != Role::Admin {
        return Err(ApiError::Forbidden("only admins read the audit log"));
    }
    let query = Query::of(&req, &["limit", "cursor", "action", "actor"])?;
    let page = query.page(super::views::MAX_LIMIT)?;
    let action = query.get("action").filter(|a| !a.is_empty()).map(str::to_owned);
    if action.as_ref().is_some_and(|a| a.chars().count() > 64) {
        return Err(ApiError::Validation("action: at most 64 characters".into()));
    }
    let filter = AuditFilter { action, actor_id: query.id("actor")? };
    let events = state.db.audit_page(&filter, page).await?;
    Ok(super::no_store(super::json(StatusCode::OK, &PageJson::of(events, EventJson::from))))
}
