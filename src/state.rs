//! What every request handler can reach, and nothing of the pipeline's: the
//! configuration, the data, media and cache tiers, the limits, the metrics.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::config::Config;
use crate::db::Database;
use crate::metrics::Metrics;

/// What every request handler can reach.
#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    pub metrics: Metrics,
    /// Set at the first shutdown signal: readiness answers 503 from then on.
    pub draining: AtomicBool,
    pub started: Instant,
    pub db: Database,
    /// Session cookies are `__Host-` and Secure unless Pujo serves plain HTTP on
    /// loopback (a laptop), where a browser would not send them back.
    pub secure_cookies: bool,
    /// Log-in and registration attempts.
    pub limiter: crate::ratelimit::RateLimiter,
    /// Password hashing and checks, bounded in number (and so in memory).
    pub passwords: crate::auth::Passwords,
    /// Uploads, the blob store and the hot-derivative cache.
    pub media: crate::media::Media,
    /// API answers and sessions: moka, Redis, and the invalidation bus.
    pub cache: crate::cache::Cache,
}

impl AppState {
    /// The address a request came from, through trusted proxies (see `PUJO_TRUSTED_PROXIES`).
    pub fn client_ip<B>(&self, req: &http::Request<B>) -> std::net::IpAddr {
        let peer = req
            .extensions()
            .get::<crate::http::PeerAddr>()
            .map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |p| p.0.ip());
        crate::http::client_address::client_ip(peer, req.headers(), &self.config.trusted_proxies)
    }
}
