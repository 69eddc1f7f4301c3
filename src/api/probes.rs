//! Liveness, readiness and the metrics page.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;

use crate::http::{Body, full};
use crate::state::AppState;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    git_sha: &'static str,
    uptime_seconds: u64,
    checks: BTreeMap<&'static str, Check>,
}

/// 200 while the process can serve at all. The accelerators are reported without
/// asking them anything: Redis (`degraded` while its circuit breaker is open, so
/// requests go on without it) and the cache bus (`degraded` while not listening, so
/// caches are bypassed).
pub fn health(state: &AppState) -> Response<Body> {
    let mut checks = BTreeMap::new();
    if let Some(redis) = &state.cache.redis {
        let check = if redis.is_degraded() {
            Check::not("degraded", "redis is failing; serving from process memory and the database")
        } else {
            Check::OK
        };
        checks.insert("redis", check);
    }
    let bus = if state.cache.bus.is_listening() {
        Check::OK
    } else {
        Check::not("degraded", "not hearing cache invalidations; caches are bypassed")
    };
    checks.insert("cache_bus", bus);
    let degraded = checks.values().any(|c| c.status != "ok");
    let body = Health {
        status: if degraded { "degraded" } else { "ok" },
        version: crate::util::VERSION,
        git_sha: crate::util::GIT_SHA,
        uptime_seconds: state.started.elapsed().as_secs(),
        checks,
    };
    super::json(StatusCode::OK, &body)
}

#[derive(Serialize)]
struct Check {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Check {
    const OK: Check = Check { status: "ok", error: None };

    fn not(status: &'static str, error: impl Into<String>) -> Check {
        Check { status, error: Some(error.into()) }
    }

    /// A dependency asked with a time limit: ok, failed (why), or silent.
    async fn within<E: std::fmt::Display>(
        limit: std::time::Duration,
        ask: impl Future<Output = Result<(), E>>,
    ) -> Check {
        match tokio::time::timeout(limit, ask).await {
            Ok(Ok(())) => Check::OK,
            Ok(Err(e)) => Check::not("failed", e.to_string()),
            Err(_) => Check::not("failed", "no answer in time"),
        }
    }
}

#[derive(Serialize)]
struct Ready {
    status: &'static str,
    checks: BTreeMap<&'static str, Check>,
}

/// 200 only when every configured dependency answers; 503 while draining.
pub async fn ready(state: &AppState) -> Response<Body> {
    let mut checks = BTreeMap::new();
    let data_dir = match tokio::fs::metadata(&state.config.data_dir).await {
        Ok(m) if m.is_dir() => Check::OK,
        Ok(_) => Check::not("failed", "not a directory"),
        Err(e) => Check::not("failed", e.kind().to_string()),
    };
    checks.insert("data_dir", data_dir);
    let schema = async {
        state.db.ping().await?;
        state.db.check_schema().await
    };
    checks.insert("database", Check::within(state.config.db.connect_timeout, schema).await);
    let blobs = Check::within(std::time::Duration::from_secs(5), state.media.health(&state.metrics)).await;
    checks.insert("blob_store", blobs);
    if let Some(redis) = &state.cache.redis {
        // An accelerator: its absence costs speed, never readiness.
        let check = match redis.ping().await {
            Ok(()) => Check::OK,
            Err(fault) => Check::not("degraded", format!("{fault:?}").to_lowercase()),
        };
        checks.insert("redis", check);
    }
    let draining = state.draining.load(Ordering::SeqCst);
    // The blob store failing costs uploads and originals, not browsing (derivatives
    // are cached in memory): taking every replica out of the load balancer for it
    // would turn a partial outage into a whole one. It shows as `degraded`.
    let essential_ok =
        checks.iter().filter(|(name, _)| !matches!(**name, "blob_store" | "redis")).all(|(_, c)| c.status == "ok");
    let all_ok = checks.values().all(|c| c.status == "ok");
    let (status, code) = match (draining, essential_ok, all_ok) {
        (true, _, _) => ("draining", StatusCode::SERVICE_UNAVAILABLE),
        (false, false, _) => ("not_ready", StatusCode::SERVICE_UNAVAILABLE),
        (false, true, false) => ("degraded", StatusCode::OK),
        (false, true, true) => ("ready", StatusCode::OK),
    };
    super::json(code, &Ready { status, checks })
}

/// Prometheus text exposition, for the admin listener only.
pub fn metrics(state: &AppState) -> Response<Body> {
    state.cache.update_gauges();
    let (idle, in_use, max) = state.db.pool_state();
    let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    state.metrics.db_pool.with_label_values(&["idle"]).set(gauge(idle));
    state.metrics.db_pool.with_label_values(&["in_use"]).set(gauge(in_use));
    state.metrics.db_pool_max.set(gauge(max));
    let mut response = Response::new(full(state.metrics.render()));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}
