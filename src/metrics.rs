//! Prometheus metrics. Label values are bounded: routes are templates, never raw paths.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Handles to every metric the process exports, registered in one registry.
#[derive(Clone)]
pub struct Metrics {
    /// Tells apart the registries of several apps in one process (tests), for the
    /// per-thread handle cache.
    id: u64,
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub connections_active: IntGaugeVec,
    pub requests_in_flight: IntGauge,
    pub requests_waiting: IntGauge,
    pub requests_turned_away: IntCounter,
    pub tls_handshake_errors: IntCounter,
    pub connections_paced: IntCounterVec,
    pub tls_reloads: IntCounterVec,
    pub csp_reports: IntCounter,
    pub uploads: IntCounterVec,
    pub tus_uploads: IntCounterVec,
    pub tus_bytes: IntCounter,
    /// Audit events the database did not take (the action itself went ahead).
    pub audit_write_failures: IntCounter,
    pub tus_chunk_seconds: prometheus::Histogram,
    /// A chunk's time by phase: its claim, its bytes arriving, and (all but the last)
    /// keeping and acknowledging them.
    pub tus_chunk_phase_seconds: HistogramVec,
    pub upload_bytes: IntCounterVec,
    pub upload_seconds: HistogramVec,
    pub media_processing: prometheus::Histogram,
    pub blob_ops: IntCounterVec,
    pub blob_seconds: HistogramVec,
    pub media_cache: IntCounterVec,
    pub media_cache_bytes: IntGauge,
    pub cache_requests: IntCounterVec,
    pub cache_invalidations: IntCounterVec,
    pub redis_errors: IntCounterVec,
    pub redis_circuit_open: IntGauge,
    pub redis_pool: IntGaugeVec,
    pub redis_pool_max: IntGauge,
    pub db_pool: IntGaugeVec,
    pub db_pool_max: IntGauge,
    pub db_queries: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new(version: &str, git_sha: &str) -> Metrics {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by method, route template and status"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to produce a response head, by route template")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method", "route"],
        )
        .expect("valid metric");
        let connections_active = IntGaugeVec::new(
            Opts::new("http_connections_active", "Open client connections, by listener"),
            &["listener"],
        )
        .expect("valid metric");
        let requests_in_flight = IntGauge::new(
            "http_requests_in_flight",
            "Requests being answered now, worked on or waiting for a turn (site files are answered at once)",
        )
        .expect("valid metric");
        let requests_waiting = IntGauge::new(
            "http_requests_waiting",
            "Requests waiting for a turn, past PUJO_MAX_ACTIVE_REQUESTS being worked on",
        )
        .expect("valid metric");
        let requests_turned_away = IntCounter::new(
            "http_requests_turned_away_total",
            "Requests answered 503 busy at once: as many as PUJO_MAX_WAITING_REQUESTS already waited for a turn",
        )
        .expect("valid metric");
        let tls_handshake_errors =
            IntCounter::new("tls_handshake_errors_total", "TLS handshakes that failed or timed out")
                .expect("valid metric");
        let connections_paced = IntCounterVec::new(
            Opts::new(
                "http_connections_paced_total",
                "New connections over their client's pace: delayed until their turn, or refused",
            ),
            &["listener", "outcome"],
        )
        .expect("valid metric");
        let tls_reloads = IntCounterVec::new(
            Opts::new("tls_certificate_reloads_total", "Certificate reloads after the files changed, by result"),
            &["result"],
        )
        .expect("valid metric");
        let csp_reports = IntCounter::new("csp_reports_total", "Content-Security-Policy violation reports received")
            .expect("valid metric");
        let tus_uploads = IntCounterVec::new(
            Opts::new(
                "resumable_uploads_total",
                "Resumable (tus) uploads by event: started, resumed (a chunk at a non-zero offset), completed, refused, expired, no_space",
            ),
            &["event"],
        )
        .expect("valid metric");
        let tus_bytes = IntCounter::new("resumable_upload_bytes_total", "Bytes of resumable uploads acknowledged")
            .expect("valid metric");
        let audit_write_failures =
            IntCounter::new("audit_write_failures_total", "Audit events the database did not take")
                .expect("valid metric");
        let tus_chunk_seconds = prometheus::Histogram::with_opts(HistogramOpts::new(
            "resumable_upload_chunk_seconds",
            "Time to take in one chunk of a resumable upload, from its request to its acknowledgement",
        ))
        .expect("valid metric");
        let tus_chunk_phase_seconds = HistogramVec::new(
            HistogramOpts::new(
                "resumable_upload_chunk_phase_seconds",
                "Time a chunk of a resumable upload spent in each phase: claim (the upload's claim and row), \
                 receive (its bytes arriving), keep (all but the last: kept in the store and acknowledged)",
            ),
            &["phase"],
        )
        .expect("valid metric");
        let uploads = IntCounterVec::new(
            Opts::new("uploads_total", "Uploaded files, by outcome (stored, duplicate, refused, too_large, failed)"),
            &["outcome"],
        )
        .expect("valid metric");
        let upload_bytes = IntCounterVec::new(
            Opts::new("upload_bytes_total", "Bytes of uploaded files received, by outcome"),
            &["outcome"],
        )
        .expect("valid metric");
        let upload_seconds = HistogramVec::new(
            HistogramOpts::new("upload_duration_seconds", "Time from a file's first byte to its answer, by outcome")
                .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]),
            &["outcome"],
        )
        .expect("valid metric");
        let media_processing = prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "media_processing_seconds",
                "Decoding and deriving one upload (after waiting for a slot)",
            )
            .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]),
        )
        .expect("valid metric");
        let blob_ops = IntCounterVec::new(
            Opts::new("blob_store_operations_total", "Blob store operations, by backend, operation and outcome"),
            &["backend", "op", "outcome"],
        )
        .expect("valid metric");
        let blob_seconds = HistogramVec::new(
            HistogramOpts::new("blob_store_operation_seconds", "Blob store latency, by backend and operation")
                .buckets(vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
            &["backend", "op"],
        )
        .expect("valid metric");
        let media_cache = IntCounterVec::new(
            Opts::new("media_cache_requests_total", "Derivative lookups in the in-memory cache, by result"),
            &["result"],
        )
        .expect("valid metric");
        let media_cache_bytes =
            IntGauge::new("media_cache_bytes", "Bytes of derivatives held in memory").expect("valid metric");
        let cache_requests = IntCounterVec::new(
            Opts::new(
                "cache_requests_total",
                "Edge cache lookups, by tier (moka, redis; rows: the photo rows of media requests; shared: what \
                 nobody sees of a search or a pandal page, in process, for every viewer's answer; shared_redis: the \
                 same in Redis) and result (hit, miss, stale, error, skipped, bypass; recounted: a kept part whose \
                 photos' counts were read again)",
            ),
            &["tier", "result"],
        )
        .expect("valid metric");
        let cache_invalidations = IntCounterVec::new(
            Opts::new(
                "cache_invalidations_total",
                "Tags invalidated, by origin (local: this replica's writes; peer: heard from the bus)",
            ),
            &["origin"],
        )
        .expect("valid metric");
        let redis_errors = IntCounterVec::new(
            Opts::new("redis_errors_total", "Redis operations that failed, by operation and kind"),
            &["op", "kind"],
        )
        .expect("valid metric");
        let redis_circuit_open =
            IntGauge::new("redis_circuit_open", "1 while the circuit breaker keeps requests away from Redis")
                .expect("valid metric");
        let redis_pool = IntGaugeVec::new(
            Opts::new("redis_pool_connections", "Redis connections, by state (idle, in_use)"),
            &["state"],
        )
        .expect("valid metric");
        let redis_pool_max =
            IntGauge::new("redis_pool_max_connections", "Most Redis connections the pool opens").expect("valid metric");
        let db_pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database connections, by state (idle, in_use)"),
            &["state"],
        )
        .expect("valid metric");
        let db_pool_max =
            IntGauge::new("db_pool_max_connections", "Most database connections the pool opens").expect("valid metric");
        let db_queries = IntCounterVec::new(
            Opts::new("db_queries_total", "Database calls (one pooled connection each: a statement or a transaction)"),
            &["backend"],
        )
        .expect("valid metric");
        let build_info = IntGaugeVec::new(
            Opts::new("pujo_build_info", "Version and commit of the running binary"),
            &["version", "git_sha"],
        )
        .expect("valid metric");
        build_info.with_label_values(&[version, git_sha]).set(1);

        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(http_requests.clone()),
            Box::new(http_duration.clone()),
            Box::new(connections_active.clone()),
            Box::new(requests_in_flight.clone()),
            Box::new(requests_waiting.clone()),
            Box::new(requests_turned_away.clone()),
            Box::new(tls_handshake_errors.clone()),
            Box::new(connections_paced.clone()),
            Box::new(tls_reloads.clone()),
            Box::new(csp_reports.clone()),
            Box::new(uploads.clone()),
            Box::new(tus_uploads.clone()),
            Box::new(tus_bytes.clone()),
            Box::new(audit_write_failures.clone()),
            Box::new(tus_chunk_seconds.clone()),
            Box::new(tus_chunk_phase_seconds.clone()),
            Box::new(upload_bytes.clone()),
            Box::new(upload_seconds.clone()),
            Box::new(media_processing.clone()),
            Box::new(blob_ops.clone()),
            Box::new(blob_seconds.clone()),
            Box::new(media_cache.clone()),
            Box::new(media_cache_bytes.clone()),
            Box::new(cache_requests.clone()),
            Box::new(cache_invalidations.clone()),
            Box::new(redis_errors.clone()),
            Box::new(redis_circuit_open.clone()),
            Box::new(redis_pool.clone()),
            Box::new(redis_pool_max.clone()),
            Box::new(db_pool.clone()),
            Box::new(db_pool_max.clone()),
            Box::new(db_queries.clone()),
            Box::new(build_info),
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ];
        for c in collectors {
            registry.register(c).expect("metric names are unique");
        }
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Metrics {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            registry,
            http_requests,
            http_duration,
            connections_active,
            requests_in_flight,
            requests_waiting,
            requests_turned_away,
            tls_handshake_errors,
            connections_paced,
            tls_reloads,
            csp_reports,
            uploads,
            tus_uploads,
            tus_bytes,
            audit_write_failures,
            tus_chunk_seconds,
            tus_chunk_phase_seconds,
            upload_bytes,
            upload_seconds,
            media_processing,
            blob_ops,
            blob_seconds,
            media_cache,
            media_cache_bytes,
            cache_requests,
            cache_invalidations,
            redis_errors,
            redis_circuit_open,
            redis_pool,
            redis_pool_max,
            db_pool,
            db_pool_max,
            db_queries,
        }
    }

    /// Counts one answered request and its duration. The labelled children are looked
    /// up once per thread and kept: `with_label_values` hashes three strings under a
    /// lock, which on the site's hot path cost more than serving a small file's bytes.
    pub fn observe_request(
        &self,
        method: &http::Method,
        route: &'static str,
        status: http::StatusCode,
        elapsed: std::time::Duration,
    ) {
        type Handles = std::collections::HashMap<
            (u64, usize, usize, u8, u16),
            (IntCounter, prometheus::Histogram),
            foldhash::fast::FixedState,
        >;
        thread_local! {
            static HANDLES: std::cell::RefCell<Handles> = std::cell::RefCell::new(Handles::default());
        }
        let method_index = match *method {
            http::Method::GET => 1,
            http::Method::HEAD => 2,
            http::Method::POST => 3,
            http::Method::PUT => 4,
            http::Method::PATCH => 5,
            http::Method::DELETE => 6,
            http::Method::OPTIONS => 7,
            _ => 0,
        };
        let lookup = || {
            (
                self.http_requests.with_label_values(&[method.as_str(), route, status.as_str()]),
                self.http_duration.with_label_values(&[method.as_str(), route]),
            )
        };
        let seconds = elapsed.as_secs_f64();
        if method_index == 0 {
            let (count, duration) = lookup();
            count.inc();
            duration.observe(seconds);
            return;
        }
        // Templates are `&'static str`: their address and length name them.
        let key = (self.id, route.as_ptr() as usize, route.len(), method_index, status.as_u16());
        HANDLES.with(|handles| {
            let mut handles = handles.borrow_mut();
            let (count, duration) = handles.entry(key).or_insert_with(lookup);
            count.inc();
            duration.observe(seconds);
        });
    }

    /// The registry in Prometheus text exposition format.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8192);
        TextEncoder::new().encode(&self.registry.gather(), &mut out).expect("text encoding cannot fail");
        out
    }
}
