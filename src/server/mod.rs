//! Sockets: the accept loop, connection limits, keep-alive, TLS handshakes, signals.
//!
//! This module knows nothing about routes or response shapes; it runs an
//! [`HttpService`] over every connection it accepts.

pub mod pace;
pub mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::future::Ready;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, Either};
use futures_util::task::AtomicWaker;
use http::Response;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::http::{Answer, Body, HttpService};
use crate::metrics::Metrics;
use pace::{Pacer, Turn};

/// Per-connection limits, from the configuration.
#[derive(Debug, Clone)]
pub struct ConnSettings {
    pub header_read_timeout: Duration,
    pub max_header_bytes: usize,
    pub max_connections: usize,
    pub keep_alive_timeout: Duration,
    pub handshake_timeout: Duration,
}

impl ConnSettings {
    pub fn from_config(c: &Config) -> ConnSettings {
        ConnSettings {
            header_read_timeout: c.header_read_timeout,
            max_header_bytes: c.max_header_bytes,
            max_connections: c.max_connections,
            keep_alive_timeout: c.keep_alive_timeout,
            handshake_timeout: c.tls_handshake_timeout,
        }
    }

    fn builder(&self) -> auto::Builder<TokioExecutor> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_buf_size(self.max_header_bytes)
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(self.max_header_bytes).unwrap_or(u32::MAX))
            .max_concurrent_streams(250);
        builder
    }
}

/// What every listener of one process shares: connection limits, the stop signal,
/// the tracker that shutdown waits on, the metrics, and the pace of new connections
/// per client (`None`: unpaced).
#[derive(Clone)]
pub struct Listeners {
    pub settings: ConnSettings,
    pub stop: CancellationToken,
    pub tracker: TaskTracker,
    pub metrics: Metrics,
    pub pacer: Option<Arc<Pacer>>,
}

/// Whether a listener's new connections are paced per client ([`pace`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// The listeners anyone can reach.
    PerClient,
    /// The admin listener: scraped by Prometheus and probed by the kubelet.
    Off,
}

impl Listeners {
    /// Serves `service` on `listener` (through TLS when given) until `stop`.
    pub fn spawn(
        &self,
        listener: TcpListener,
        name: &'static str,
        tls: Option<TlsAcceptor>,
        pacing: Pacing,
        service: HttpService,
    ) {
        let mut shared = self.clone();
        if pacing == Pacing::Off {
            shared.pacer = None;
        }
        self.tracker.spawn(accept_loop(listener, name, tls, service, shared));
    }
}

/// Accepts connections until `stop`, then drops the listener so new connections are
/// refused; each connection is served in a task of `tracker`.
async fn accept_loop(
    listener: TcpListener,
    name: &'static str,
    tls: Option<TlsAcceptor>,
    service: HttpService,
    shared: Listeners,
) {
    let Listeners { settings, stop, tracker, metrics, pacer } = shared;
    let builder = settings.builder();
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let active = metrics.connections_active.with_label_values(&[name]);
    loop {
        // At the limit, stop accepting: further clients wait in the kernel's backlog.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = stop.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(listener = name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        let turn = pacer.as_ref().map_or(Turn::Now, |p| p.turn(peer.ip(), Instant::now()));
        if turn == Turn::Refused {
            metrics.connections_paced.with_label_values(&[name, "refused"]).inc();
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let (service, builder, stop, active, metrics) =
            (service.clone(), builder.clone(), stop.clone(), active.clone(), metrics.clone());
        let (tls, settings) = (tls.clone(), settings.clone());
        tracker.spawn(async move {
            let _permit = permit;
            if let Turn::After(wait) = turn {
                // Unread until its turn: no handshake, no request, no CPU.
                metrics.connections_paced.with_label_values(&[name, "delayed"]).inc();
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = stop.cancelled() => return,
                }
            }
            active.inc();
            match tls {
                None => serve_connection(stream, peer, service, &builder, &stop, &settings).await,
                Some(acceptor) => {
                    match tokio::time::timeout(settings.handshake_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            serve_connection(stream, peer, service, &builder, &stop, &settings).await;
                        }
                        Ok(Err(e)) => {
                            metrics.tls_handshake_errors.inc();
                            tracing::debug!(error = %e, "TLS handshake failed");
                        }
                        Err(_) => {
                            metrics.tls_handshake_errors.inc();
                            tracing::debug!("TLS handshake timed out");
                        }
                    }
                }
            }
            active.dec();
        });
    }
    tracing::debug!(listener = name, "listener closed");
}

/// What a connection's requests tell the loop that watches it: how many are being
/// answered, how many have begun, and when the last one ended. Written by the hyper
/// service with every request, read by the loop only when one of its timers fires.
struct Activity {
    in_flight: AtomicUsize,
    begun: AtomicU64,
    /// When the last request ended, in nanoseconds after `since`.
    last: AtomicU64,
    since: Instant,
    first_ended: AtomicBool,
    /// Wakes the loop's side of the connection task (see [`Watch`]).
    watch: Arc<Watch>,
}

impl Activity {
    /// A new connection's: nothing begun yet, and its watch woken so that the loop
    /// arms the shutdown signal and the idle timer on its first pass.
    fn new() -> Activity {
        Activity {
            in_flight: AtomicUsize::new(0),
            begun: AtomicU64::new(0),
            last: AtomicU64::new(0),
            since: Instant::now(),
            first_ended: AtomicBool::new(false),
            watch: Arc::new(Watch { woken: AtomicBool::new(true), task: AtomicWaker::new() }),
        }
    }

    fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.begun.fetch_add(1, Ordering::Relaxed);
    }

    fn end(&self) {
        let nanos = u64::try_from(self.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last.store(nanos, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::Release);
        // From the first answer on, the idle limit is the keep-alive timeout instead of
        // the header timeout: the loop recomputes its deadline once, now. Later
        // requests only move `last`; the timer re-arms from it when it fires, so a busy
        // connection costs no wake-up per request.
        if !self.first_ended.load(Ordering::Relaxed) && !self.first_ended.swap(true, Ordering::AcqRel) {
            self.watch.wake_by_ref();
        }
    }

    /// When the connection counts as idle if nothing happens before then.
    fn idle_deadline(&self, settings: &ConnSettings) -> Instant {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Instant::now() + settings.keep_alive_timeout;
        }
        let allowed = if self.begun.load(Ordering::Relaxed) == 0 {
            settings.header_read_timeout
        } else {
            settings.keep_alive_timeout
        };
        self.since + Duration::from_nanos(self.last.load(Ordering::Relaxed)) + allowed
    }
}

/// The waker of a connection's shutdown signal and idle timer. They are polled only
/// after they woke the task (or the first request ended), not on every wake-up of the
/// connection, which comes with every request.
struct Watch {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Watch {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// A connection's requests, as hyper calls them: each goes to the listener's pipeline
/// and is counted in the connection's [`Activity`].
struct Requests {
    service: HttpService,
    peer: std::net::SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<http::Request<hyper::body::Incoming>> for Requests {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response<Body>, Infallible>>, Ending>;

    fn call(&self, req: http::Request<hyper::body::Incoming>) -> Self::Future {
        self.activity.begin();
        match (self.service)(crate::http::PeerAddr(self.peer), req) {
            // Answered already: no state to carry into a future.
            Answer::Ready(response) => {
                self.activity.end();
                Either::Left(std::future::ready(Ok(response)))
            }
            Answer::Later(call) => Either::Right(Ending { call, activity: self.activity.clone() }),
        }
    }
}

/// A handler's answer, awaited. The request ends when this is dropped: right after
/// the answer came, or unfinished, when hyper abandons it (an HTTP/2 stream the
/// client reset drops its handler's future), which must not leave the connection
/// counting a request in flight, and so never idle.
struct Ending {
    call: BoxFuture<'static, Response<Body>>,
    activity: Arc<Activity>,
}

impl Future for Ending {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().call.as_mut().poll(cx).map(Ok)
    }
}

impl Drop for Ending {
    fn drop(&mut self) {
        self.activity.end();
    }
}

/// Serves one connection until it ends, closing it gracefully when the server stops,
/// when no request arrives within the header timeout of connecting (hyper's own timer
/// starts only at the first byte), or when it has been idle for the keep-alive timeout.
async fn serve_connection<I>(
    io: I,
    peer: std::net::SocketAddr,
    service: HttpService,
    builder: &auto::Builder<TokioExecutor>,
    stop: &CancellationToken,
    settings: &ConnSettings,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let watch = activity.watch.clone();
    let hyper_service = Requests { service, peer, activity: activity.clone() };
    let conn = builder.serve_connection(TokioIo::new(io), hyper_service);
    tokio::pin!(conn);
    let cancelled = stop.cancelled();
    tokio::pin!(cancelled);
    let idle = tokio::time::sleep_until(activity.idle_deadline(settings).into());
    tokio::pin!(idle);
    let watch_waker = Waker::from(watch.clone());
    let mut closing = false;
    let result = std::future::poll_fn(|cx: &mut Context<'_>| {
        watch.task.register(cx.waker());
        if !closing && watch.woken.load(Ordering::Acquire) && watch.woken.swap(false, Ordering::AcqRel) {
            let mut watch_cx = Context::from_waker(&watch_waker);
            if cancelled.as_mut().poll(&mut watch_cx).is_ready() {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            while !closing {
                let deadline = activity.idle_deadline(settings);
                if deadline <= Instant::now() {
                    // Nothing in flight and nothing since the deadline: idle.
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                    break;
                }
                // Re-armed when a request moved the deadline, or when the timer fired a
                // little before the clock reached it (a fired timer stays ready).
                let deadline = tokio::time::Instant::from_std(deadline);
                if deadline != idle.deadline() || idle.is_elapsed() {
                    idle.as_mut().reset(deadline);
                }
                if idle.as_mut().poll(&mut watch_cx).is_pending() {
                    break;
                }
            }
        }
        conn.as_mut().poll(cx)
    })
    .await;
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Resolves at the first SIGTERM or SIGINT.
pub async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops Pujo");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity() -> Arc<Activity> {
        let activity = Arc::new(Activity::new());
        // As after the loop's first pass.
        activity.watch.woken.store(false, Ordering::Release);
        activity
    }

    fn settings() -> ConnSettings {
        ConnSettings {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            max_connections: 10,
            keep_alive_timeout: Duration::from_secs(75),
            handshake_timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn an_abandoned_handler_still_ends_its_request() {
        let activity = activity();
        activity.begin();
        let unfinished = Ending { call: Box::pin(std::future::pending()), activity: activity.clone() };
        assert_eq!(activity.in_flight.load(Ordering::Acquire), 1);
        drop(unfinished);
        assert_eq!(activity.in_flight.load(Ordering::Acquire), 0);
        // The connection can now go idle, on the keep-alive timeout.
        assert!(activity.watch.woken.load(Ordering::Acquire), "the watch was not told of the first answer");
        let deadline = activity.idle_deadline(&settings());
        assert!(deadline <= Instant::now() + Duration::from_secs(75));
        assert!(deadline > Instant::now() + Duration::from_secs(74));
    }

    #[test]
    fn a_request_in_flight_keeps_the_connection_from_idling() {
        let activity = activity();
        // Before any request: the header timeout from the connection's start.
        assert!(activity.idle_deadline(&settings()) <= activity.since + Duration::from_secs(10));
        activity.begin();
        let later = Instant::now() + Duration::from_secs(74);
        assert!(activity.idle_deadline(&settings()) > later);
        activity.end();
        assert!(activity.idle_deadline(&settings()) > later);
    }
}
