//! The Redis tier: a bb8 pool of multiplexed connections, every operation bounded by
//! a short timeout, and a circuit breaker so that a Redis that is down costs one
//! timeout now and then, not one per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bb8_redis::RedisConnectionManager;
use bb8_redis::redis::{self, FromRedisValue, IntoConnectionInfo, aio::MultiplexedConnection};

use crate::metrics::Metrics;

/// How to reach Redis.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `redis://` or `rediss://` URL (secret: it may hold a password).
    pub url: String,
    /// AUTH token used when the URL carries none.
    pub password: Option<String>,
    pub timeout: Duration,
    pub pool_size: u32,
}

/// Why an operation did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The breaker is open: Redis was failing, it is not asked for a while.
    Skipped,
    /// No answer within the timeout.
    Timeout,
    /// Every pooled connection stayed held for the whole timeout: the wait was for
    /// the pool, not for Redis (operations hold a connection until their task has
    /// read the answer, and on a busy process tasks wait to run).
    PoolFull,
    Connection,
    Response,
}

impl Fault {
    fn label(self) -> &'static str {
        match self {
            Fault::Skipped => "skipped",
            Fault::Timeout => "timeout",
            Fault::PoolFull => "pool",
            Fault::Connection => "connection",
            Fault::Response => "response",
        }
    }
}

/// A pooled connection that remembers failing, so the pool drops it instead of
/// handing it out again (a multiplexed connection does not reconnect by itself).
pub struct Conn {
    inner: MultiplexedConnection,
    broken: bool,
}

/// bb8-redis's manager, with broken connections reported to the pool.
struct Manager(RedisConnectionManager);

impl bb8::ManageConnection for Manager {
    type Connection = Conn;
    type Error = redis::RedisError;

    async fn connect(&self) -> Result<Conn, redis::RedisError> {
        Ok(Conn { inner: self.0.connect().await?, broken: false })
    }

    async fn is_valid(&self, conn: &mut Conn) -> Result<(), redis::RedisError> {
        self.0.is_valid(&mut conn.inner).await
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken
    }
}

/// Failures in a row that open the breaker, if nothing succeeded meanwhile for
/// [`SILENCE_TIMEOUTS`] timeouts.
const TRIP_AFTER: u32 = 3;
/// How many timeouts long Redis must have answered nothing for the breaker to open.
/// Failures alone are not enough: in a process whose cores are all busy, a stall of a
/// few tens of milliseconds times out every operation in flight at once, while the
/// ones just before and after it are answered. Counted as Redis failing, that stall
/// opened the breaker and sent every lookup to the database for a second, which made
/// the process busier still (docs/BENCHMARKS.md, "A festival night"). A Redis that is
/// down or frozen answers nothing at all, and still opens it after three failures.
const SILENCE_TIMEOUTS: u32 = 2;
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// What the breaker let through: an operation while closed, or the one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    Closed,
    Probe,
}

/// Lets the probe go if its operation is dropped before it ends: without it, a probe
/// whose request went away would leave the breaker waiting for an outcome that never
/// comes, and Redis skipped until the process restarts.
struct ProbeGuard<'a> {
    breaker: &'a Breaker,
    armed: bool,
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.breaker.abandon_probe();
        }
    }
}

/// Closed (Redis is asked), open (it is not, until `open_until`), or half-open (one
/// probe is let through; success closes, failure opens for twice as long).
#[derive(Debug)]
struct Breaker {
    epoch: Instant,
    failures: AtomicU32,
    /// Milliseconds since `epoch` of the last answer (or of the start).
    answered_at: AtomicU64,
    /// How long without an answer counts as silence (ms).
    silence_ms: u64,
    /// Milliseconds since `epoch`; 0 when closed.
    open_until: AtomicU64,
    pause_ms: AtomicU64,
    probing: AtomicBool,
}

impl Breaker {
    fn new(timeout: Duration) -> Breaker {
        Breaker {
            epoch: Instant::now(),
            failures: AtomicU32::new(0),
            answered_at: AtomicU64::new(1),
            silence_ms: u64::try_from(timeout.saturating_mul(SILENCE_TIMEOUTS).as_millis()).unwrap_or(u64::MAX),
            open_until: AtomicU64::new(0),
            pause_ms: AtomicU64::new(FIRST_PAUSE.as_millis() as u64),
            probing: AtomicBool::new(false),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX).max(1)
    }

    /// Whether an operation may go to Redis now, and whether it is the probe.
    fn allow(&self) -> Option<Turn> {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            return Some(Turn::Closed);
        }
        if self.now_ms() < until {
            return None;
        }
        // Half-open: one caller probes.
        self.probing.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).ok().map(|_| Turn::Probe)
    }

    /// The probe ended without an outcome (its request was dropped: the client went,
    /// or the request's own timeout): the next caller probes instead.
    fn abandon_probe(&self) {
        self.probing.store(false, Ordering::Release);
    }

    fn success(&self) {
        self.answered_at.store(self.now_ms(), Ordering::Release);
        self.failures.store(0, Ordering::Release);
        if self.open_until.swap(0, Ordering::AcqRel) != 0 {
            self.pause_ms.store(FIRST_PAUSE.as_millis() as u64, Ordering::Release);
            tracing::info!("redis answers again; the cache tier is back");
        }
        self.probing.store(false, Ordering::Release);
    }

    /// An operation let through as `turn` failed. Only the probe's own failure counts as
    /// the probe's: an operation from before the breaker opened that fails late does not
    /// take its place.
    fn failure(&self, turn: Turn) {
        let was_probe = turn == Turn::Probe;
        if was_probe {
            self.probing.store(false, Ordering::Release);
        }
        let failures = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        let silent = self.now_ms().saturating_sub(self.answered_at.load(Ordering::Acquire)) >= self.silence_ms;
        if was_probe || (failures >= TRIP_AFTER && silent && self.open_until.load(Ordering::Acquire) == 0) {
            let pause = self.pause_ms.load(Ordering::Acquire);
            if was_probe {
                self.pause_ms.store((pause * 2).min(LONGEST_PAUSE.as_millis() as u64), Ordering::Release);
            } else {
                tracing::warn!(pause_ms = pause, "redis keeps failing; going on without it for a while");
            }
            self.open_until.store(self.now_ms() + pause, Ordering::Release);
        }
    }

    fn is_open(&self) -> bool {
        self.open_until.load(Ordering::Acquire) != 0
    }
}

/// The shared tier. Cloning shares the pool.
#[derive(Clone)]
pub struct Redis {
    pool: bb8::Pool<Manager>,
    timeout: Duration,
    breaker: Arc<Breaker>,
    metrics: Metrics,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

/// Why the Redis tier could not be set up (nothing is connected yet at that point).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("PUJO_REDIS_URL is not a valid redis:// or rediss:// URL: {0}")]
    Url(String),
    #[error("redis: {0}")]
    Client(String),
}

impl Redis {
    /// A pool that connects on demand: Redis being down at start-up is not fatal.
    pub fn new(settings: &RedisSettings, metrics: &Metrics) -> Result<Redis, SetupError> {
        let mut info =
            settings.url.as_str().into_connection_info().map_err(|e| SetupError::Url(format!("{:?}", e.kind())))?;
        if let Some(password) = &settings.password
            && info.redis_settings().password().is_none()
        {
            let redis = info.redis_settings().clone().set_password(password);
            info = info.set_redis_settings(redis);
        }
        let manager = RedisConnectionManager::new(info).map_err(|e| SetupError::Client(e.to_string()))?;
        let pool = bb8::Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(None)
            // A PING per checkout would double every operation's round trips; broken
            // connections are reported instead (`Conn::broken`).
            .test_on_check_out(false)
            .connection_timeout(settings.timeout)
            .retry_connection(false)
            .build_unchecked(Manager(manager));
        Ok(Redis {
            pool,
            timeout: settings.timeout,
            breaker: Arc::new(Breaker::new(settings.timeout)),
            metrics: metrics.clone(),
        })
    }

    /// Runs one command or pipeline within the timeout, through the breaker.
    pub async fn run<T: FromRedisValue>(&self, op: &'static str, request: Request<'_>) -> Result<T, Fault> {
        let Some(turn) = self.breaker.allow() else { return Err(Fault::Skipped) };
        let mut probe = ProbeGuard { breaker: &self.breaker, armed: turn == Turn::Probe };
        let deadline = tokio::time::Instant::now() + self.timeout;
        let result = async {
            let mut conn = match tokio::time::timeout_at(deadline, self.pool.get()).await {
                Ok(Ok(conn)) => conn,
                Ok(Err(bb8::RunError::TimedOut)) | Err(_) => {
                    // A connection being opened to a Redis that does not answer also
                    // leaves the checkout waiting: that is Redis's silence.
                    let (idle, in_use) = self.pool_state();
                    return Err(if idle == 0 && in_use >= self.pool_max() { Fault::PoolFull } else { Fault::Timeout });
                }
                Ok(Err(bb8::RunError::User(_))) => return Err(Fault::Connection),
            };
            let query = async {
                match request {
                    Request::Cmd(cmd) => cmd.query_async::<T>(&mut conn.inner).await,
                    Request::Pipe(pipe) => pipe.query_async::<T>(&mut conn.inner).await,
                }
            };
            match tokio::time::timeout_at(deadline, query).await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(e)) if e.is_timeout() => {
                    conn.broken = true;
                    Err(Fault::Timeout)
                }
                Ok(Err(e))
                    if e.is_io_error()
                        || e.is_connection_dropped()
                        || e.is_connection_refusal()
                        || e.is_unrecoverable_error() =>
                {
                    conn.broken = true;
                    Err(Fault::Connection)
                }
                Ok(Err(e)) => {
                    tracing::debug!(op, error = %e, "redis refused a command");
                    Err(Fault::Response)
                }
                Err(_) => {
                    // The answer may still come on this connection; do not reuse it.
                    conn.broken = true;
                    Err(Fault::Timeout)
                }
            }
        }
        .await;
        probe.armed = false;
        match result {
            // An error reply still proves Redis is there.
            Ok(_) | Err(Fault::Response) => self.breaker.success(),
            Err(_) => self.breaker.failure(turn),
        }
        if let Err(fault) = result {
            self.metrics.redis_errors.with_label_values(&[op, fault.label()]).inc();
        }
        result
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Fault> {
        self.run("get", Request::Cmd(redis::cmd("GET").arg(key))).await
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), Fault> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.run("set", Request::Cmd(redis::cmd("SET").arg(key).arg(value).arg("PX").arg(ms))).await
    }

    pub async fn del(&self, keys: &[&str]) -> Result<(), Fault> {
        let _: i64 = self.run("del", Request::Cmd(redis::cmd("DEL").arg(keys))).await?;
        Ok(())
    }

    /// Takes a short lock: `true` if this caller holds it now.
    pub async fn lock(&self, key: &str, ttl: Duration) -> Result<bool, Fault> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let reply: Option<String> =
            self.run("lock", Request::Cmd(redis::cmd("SET").arg(key).arg(1).arg("NX").arg("PX").arg(ms))).await?;
        Ok(reply.is_some())
    }

    /// Adds one to a counter that expires `ttl` after its first count; returns the
    /// count and the milliseconds the counter has left.
    pub async fn count(&self, key: &str, ttl: Duration) -> Result<(u64, u64), Fault> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("INCR").arg(key).cmd("PEXPIRE").arg(key).arg(ms).arg("NX").ignore().cmd("PTTL").arg(key);
        let (n, left): (u64, i64) = self.run("count", Request::Pipe(&pipe)).await?;
        Ok((n, u64::try_from(left).unwrap_or(0)))
    }

    /// A counter of [`Redis::count`] and its milliseconds left, without counting.
    pub async fn peek_count(&self, key: &str) -> Result<Option<(u64, u64)>, Fault> {
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(key).cmd("PTTL").arg(key);
        let (n, left): (Option<u64>, i64) = self.run("peek", Request::Pipe(&pipe)).await?;
        Ok(n.map(|n| (n, u64::try_from(left).unwrap_or(0))))
    }

    pub async fn ping(&self) -> Result<(), Fault> {
        let _: String = self.run("ping", Request::Cmd(&redis::cmd("PING"))).await?;
        Ok(())
    }

    /// Whether the breaker is keeping requests away from Redis now.
    pub fn is_degraded(&self) -> bool {
        self.breaker.is_open()
    }

    /// Connections idle and in use, for the pool gauges.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.idle_connections, state.connections.saturating_sub(state.idle_connections))
    }

    pub fn pool_max(&self) -> u32 {
        self.pool.config().max_size
    }
}

/// One command, or several sent together.
#[derive(Clone, Copy)]
pub enum Request<'a> {
    Cmd(&'a redis::Cmd),
    Pipe(&'a redis::Pipeline),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_opens_after_repeated_failures_and_probes_once() {
        let breaker = Breaker::new(Duration::ZERO);
        assert!(breaker.allow().is_some());
        breaker.failure(Turn::Closed);
        breaker.failure(Turn::Closed);
        assert!(breaker.allow().is_some(), "two failures are not a pattern");
        breaker.failure(Turn::Closed);
        assert!(breaker.is_open());
        assert!(breaker.allow().is_none(), "open: Redis is not asked");
        // Pretend the pause has passed.
        breaker.open_until.store(1, Ordering::Release);
        assert_eq!(breaker.allow(), Some(Turn::Probe), "one probe goes through");
        assert!(breaker.allow().is_none(), "and only one");
        // An operation from before the breaker opened fails late: not the probe's outcome.
        breaker.failure(Turn::Closed);
        assert_eq!(breaker.pause_ms.load(Ordering::Acquire), FIRST_PAUSE.as_millis() as u64);
        assert!(breaker.allow().is_none(), "the probe is still out");
        breaker.failure(Turn::Probe);
        assert!(breaker.allow().is_none(), "a failed probe opens it again");
        assert_eq!(breaker.pause_ms.load(Ordering::Acquire), 2 * FIRST_PAUSE.as_millis() as u64);
        breaker.open_until.store(1, Ordering::Release);
        assert!(breaker.allow().is_some());
        breaker.success();
        assert!(!breaker.is_open());
        assert!(breaker.allow().is_some() && breaker.allow().is_some(), "closed again");
    }

    #[test]
    fn failures_while_redis_still_answers_leave_the_breaker_shut() {
        // Ten seconds old, so that a hundred milliseconds can be taken off its clock.
        let breaker =
            Breaker { epoch: Instant::now() - Duration::from_secs(10), ..Breaker::new(Duration::from_millis(50)) };
        breaker.success();
        // A stall of the process: every operation in flight times out at once, right
        // after others were answered.
        for _ in 0..10 {
            breaker.failure(Turn::Closed);
        }
        assert!(!breaker.is_open(), "ten timeouts within 100 ms of an answer opened the breaker");
        assert!(breaker.allow().is_some());

        // Nothing answered for two timeouts: Redis is down or frozen.
        breaker.answered_at.store(breaker.now_ms().saturating_sub(100), Ordering::Release);
        breaker.failure(Turn::Closed);
        assert!(breaker.is_open(), "failures after 100 ms of silence left the breaker shut");
        assert!(breaker.allow().is_none());
    }

    #[test]
    fn a_probe_whose_request_went_away_lets_the_next_caller_probe() {
        let breaker = Breaker::new(Duration::ZERO);
        for _ in 0..TRIP_AFTER {
            breaker.failure(Turn::Closed);
        }
        breaker.open_until.store(1, Ordering::Release);
        {
            assert_eq!(breaker.allow(), Some(Turn::Probe));
            // The probe's operation is dropped before Redis answers.
            let _probe = ProbeGuard { breaker: &breaker, armed: true };
        }
        assert_eq!(breaker.allow(), Some(Turn::Probe), "the breaker still waits for the dropped probe");
        let mut ended = ProbeGuard { breaker: &breaker, armed: true };
        ended.armed = false;
        breaker.success();
        drop(ended);
        assert_eq!(breaker.allow(), Some(Turn::Closed));
    }
}
