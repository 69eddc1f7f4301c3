//! Start-up and shutdown: `App::build` binds the listeners and prepares shared state;
//! `App::run` serves until asked to stop, then drains.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use http::HeaderValue;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::db::{Database, DbError};
use crate::metrics::Metrics;
use crate::pipeline::{self, Listener, Pipeline};
use crate::server::{self, ConnSettings, Listeners, Pacing, tls::Tls};
use crate::state::AppState;

/// A start-up failure, reported in one line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind { addr: SocketAddr, what: &'static str, source: std::io::Error },
    #[error("cannot create the data folder {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error(transparent)]
    Tls(#[from] server::tls::TlsError),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("media store: {0}")]
    Media(#[from] crate::media::StoreError),
    #[error("cache: {0}")]
    Cache(#[from] crate::cache::SetupError),
}

/// A bound, ready-to-run Pujo.
pub struct App {
    state: Arc<AppState>,
    pipeline: Arc<Pipeline>,
    public: TcpListener,
    admin: Option<TcpListener>,
    redirect: Option<TcpListener>,
    tls: Option<Tls>,
    stop_requested: watch::Sender<bool>,
}

/// Asks a running [`App`] to shut down gracefully (what SIGTERM does).
#[derive(Clone)]
pub struct AppHandle {
    stop_requested: watch::Sender<bool>,
}

impl AppHandle {
    pub fn shutdown(&self) {
        self.stop_requested.send_replace(true);
    }
}

impl App {
    /// Prepares everything that can fail before the first request: the data folder,
    /// TLS material and the listening sockets (port 0 picks a free port).
    pub async fn build(config: Config) -> Result<App, StartError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|source| StartError::DataDir { path: config.data_dir.display().to_string(), source })?;
        let metrics = Metrics::new(crate::util::VERSION, crate::util::GIT_SHA);
        let mut db = Database::open(&config.db, &config.data_dir).await?;
        db.count_queries_in(metrics.db_queries.with_label_values(&[db.backend()]));
        if config.migrate || db.is_embedded() {
            let migrated = db.migrate().await?;
            tracing::info!(
                backend = db.backend(),
                version = migrated.version,
                applied = migrated.applied_now.len(),
                "database migrated"
            );
        } else if let Err(e) = db.check_schema().await {
            // Not fatal: the migration job may still be running. Readiness says why.
            tracing::warn!(error = %e, "database not ready");
        }
        let media = crate::media::Media::open(config.media.clone(), &config.data_dir).await?;
        // With SQLite this process makes every write, so it hears them all without a listener.
        let cache = crate::cache::Cache::new(config.cache.clone(), &metrics, db.is_embedded())?;
        let tls = Tls::setup(&config, &metrics)?;
        let bind = |addr: SocketAddr, what: &'static str| async move {
            TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, what, source })
        };
        let public = bind(config.listen, "PUJO_LISTEN").await?;
        let admin = match config.admin_listen {
            Some(addr) => Some(bind(addr, "PUJO_ADMIN_LISTEN").await?),
            None => None,
        };
        let redirect = match config.redirect_listen {
            Some(addr) => Some(bind(addr, "PUJO_REDIRECT_LISTEN").await?),
            None => None,
        };
        let hsts = match (&tls, config.hsts_max_age.as_secs()) {
            (Some(_), secs) if secs > 0 => Some(HeaderValue::from_str(&format!("max-age={secs}")).expect("digits")),
            _ => None,
        };
        let state = Arc::new(AppState {
            metrics,
            draining: AtomicBool::new(false),
            started: Instant::now(),
            db,
            secure_cookies: tls.is_some() || !config.listen.ip().is_loopback(),
            limiter: crate::ratelimit::RateLimiter::new(cache.redis.clone()),
            passwords: crate::auth::Passwords::for_this_machine(),
            media,
            cache,
            config,
        });
        let pipeline = Arc::new(Pipeline::new(state.clone(), hsts));
        let (stop_requested, _) = watch::channel(false);
        Ok(App { state, pipeline, public, admin, redirect, tls, stop_requested })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.public.local_addr().expect("bound socket has an address")
    }

    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn redirect_addr(&self) -> Option<SocketAddr> {
        self.redirect.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn handle(&self) -> AppHandle {
        AppHandle { stop_requested: self.stop_requested.clone() }
    }

    /// Serves until [`AppHandle::shutdown`], then: readiness 503 at once, keep accepting
    /// for the shutdown delay, stop accepting, let in-flight requests finish within the
    /// drain timeout.
    pub async fn run(self) {
        let App { state, pipeline, public, admin, redirect, tls, stop_requested } = self;
        let config = &state.config;
        let listeners = Listeners {
            settings: ConnSettings::from_config(config),
            stop: CancellationToken::new(),
            tracker: TaskTracker::new(),
            metrics: state.metrics.clone(),
            pacer: server::pace::Pacer::new(
                config.connection_rate,
                config.connection_burst,
                config.trusted_proxies.clone(),
            )
            .map(Arc::new),
        };
        let (stop, tracker) = (listeners.stop.clone(), listeners.tracker.clone());
        let public_addr = public.local_addr().ok();
        let (acceptor, reloader) = match tls {
            Some(tls) => {
                let (acceptor, reloader) = tls.split();
                (Some(acceptor), reloader)
            }
            None => (None, None),
        };
        if let Some(reloader) = reloader {
            tokio::spawn(reloader.watch(stop.clone()));
        }
        if !state.db.is_embedded() {
            let (state, stop) = (state.clone(), stop.clone());
            tokio::spawn(async move { crate::cache::listen(&state.db, &state.cache, stop).await });
        }
        tokio::spawn(purge_sessions(state.clone(), stop.clone()));
        tokio::spawn(sweep_uploads(state.clone(), stop.clone()));
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        listeners.spawn(
            public,
            Listener::Public.label(),
            acceptor,
            Pacing::PerClient,
            pipeline::service(pipeline.clone(), Listener::Public),
        );
        if let Some(admin) = admin {
            if let Ok(addr) = admin.local_addr() {
                tracing::info!(%addr, "admin listener (metrics) ready");
            }
            listeners.spawn(
                admin,
                Listener::Admin.label(),
                None,
                Pacing::Off,
                pipeline::service(pipeline.clone(), Listener::Admin),
            );
        }
        if let Some(redirect) = redirect {
            let https_port = public_addr.map_or(443, |a| a.port());
            listeners.spawn(redirect, "redirect", None, Pacing::PerClient, pipeline::redirect::service(https_port));
        }
        tracing::info!(
            url = %public_addr.map(|a| format!("{scheme}://{a}")).unwrap_or_default(),
            version = crate::util::VERSION,
            assets = pipeline.assets.file_count(),
            "pujo is serving"
        );

        let mut requested = stop_requested.subscribe();
        let _ = requested.wait_for(|stop| *stop).await;
        state.draining.store(true, Ordering::SeqCst);
        // Live walls end now: their browsers reconnect to a replica that stays.
        state.cache.walls.close();
        tracing::info!(delay = ?config.shutdown_delay, "shutdown requested; readiness now fails");
        tokio::time::sleep(config.shutdown_delay).await;
        stop.cancel();
        tracker.close();
        tracing::info!(timeout = ?config.drain_timeout, "listeners closed; draining in-flight requests");
        if tokio::time::timeout(config.drain_timeout, tracker.wait()).await.is_err() {
            tracing::warn!(remaining = tracker.len(), "drain timeout reached; closing remaining connections");
        } else if let Err(e) = state.db.release_upload_claims(&state.media.instance).await {
            // Every request finished: no write of this process can land after its
            // claims go, so another replica may take the uploads at once. (Cut off
            // mid-request, they lapse by themselves instead.)
            tracing::warn!(error = %e, "cannot release this process's upload claims; they lapse by themselves");
        }
        tracing::info!("stopped");
    }
}

/// Deletes expired sessions now and then, a batch at a time, so the table holds the
/// sessions that can still be used (a session that is used again is judged, and
/// deleted when over, as it is looked up). Every replica runs it; the batches are
/// small and the statement is idempotent.
/// Every ten minutes (and once at start), removes resumable uploads past their expiry
/// and partial files no upload names.
async fn sweep_uploads(state: Arc<AppState>, stop: CancellationToken) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(600);
    loop {
        match crate::api::sweep_uploads(&state).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "expired resumable uploads removed"),
            Err(e) => tracing::warn!(error = %e, "could not remove expired resumable uploads; trying again later"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

/// The most audit events kept, whatever their age: the log is bounded in total.
const MAX_AUDIT_EVENTS: i64 = 2_000_000;

async fn purge_sessions(state: Arc<AppState>, stop: CancellationToken) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
        let purged = in_batches("expired sessions", |batch| state.db.purge_sessions(batch)).await;
        if purged > 0 {
            tracing::info!(purged, "expired sessions purged");
        }
        // The audit log past its retention, then past its size.
        let retention = state.config.audit_retention.try_into().unwrap_or_default();
        if let Some(before) = time::OffsetDateTime::now_utc().checked_sub(retention) {
            in_batches("old audit events", |batch| state.db.purge_audit(before, batch)).await;
        }
        in_batches("old audit events", |batch| state.db.trim_audit(MAX_AUDIT_EVENTS, batch)).await;
        // Reports closed more than 90 days ago: the audit log keeps what was done.
        if let Some(before) = time::OffsetDateTime::now_utc().checked_sub(time::Duration::days(90)) {
            in_batches("closed reports", |batch| state.db.purge_closed_reports(before, batch)).await;
        }
        // Share links a month past their expiry (until then, opening one says it expired).
        if let Some(before) = time::OffsetDateTime::now_utc().checked_sub(time::Duration::days(30))
            && let Err(e) = state.db.purge_expired_share_links(before).await
        {
            tracing::warn!(error = %e, "could not purge expired share links; trying again later");
        }
    }
}

/// Runs a deletion a batch at a time until a batch comes back short; how many rows
/// went. A failure is logged and left for the next round.
async fn in_batches<F, Fut>(what: &str, mut delete: F) -> u64
where
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = Result<u64, DbError>>,
{
    const BATCH: i64 = 5_000;
    let mut deleted = 0;
    loop {
        match delete(BATCH).await {
            Ok(n) => {
                deleted += n;
                if n < BATCH as u64 {
                    return deleted;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not purge {what}; trying again later");
                return deleted;
            }
        }
    }
}
