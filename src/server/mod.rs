//! Sockets: the accept loop, connection limits, keep-alive, TLS handshakes, signals.
//!
//! This module knows nothing about routes or response shapes; it runs an
//! [`HttpService`] over every connection it accepts.

pub mod tls;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::http::HttpService;
use crate::metrics::Metrics;

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
/// the tracker that shutdown waits on, and the metrics.
#[derive(Clone)]
pub struct Listeners {
    pub settings: ConnSettings,
    pub stop: CancellationToken,
    pub tracker: TaskTracker,
    pub metrics: Metrics,
}

impl Listeners {
    /// Serves `service` on `listener` (through TLS when given) until `stop`.
    pub fn spawn(&self, listener: TcpListener, name: &'static str, tls: Option<TlsAcceptor>, service: HttpService) {
        self.tracker.spawn(accept_loop(listener, name, tls, service, self.clone()));
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
    let Listeners { settings, stop, tracker, metrics } = shared;
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
        let _ = stream.set_nodelay(true);
        let (service, builder, stop, active, metrics) =
            (service.clone(), builder.clone(), stop.clone(), active.clone(), metrics.clone());
        let (tls, settings) = (tls.clone(), settings.clone());
        tracker.spawn(async move {
            let _permit = permit;
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

/// When a connection last finished a request, and how many it is running now.
struct Activity {
    in_flight: usize,
    served: u64,
    last: Instant,
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
    let activity = Arc::new(Mutex::new(Activity { in_flight: 0, served: 0, last: Instant::now() }));
    // Wakes the loop below once, when the first request ends: from then on the idle limit
    // is the keep-alive timeout instead of the header timeout. Later requests only move
    // `last`; the timer re-arms from it when it fires, so a busy connection costs no
    // extra wake-up per request.
    let request_ended = Arc::new(tokio::sync::Notify::new());
    let (tracked, ended) = (activity.clone(), request_ended.clone());
    let hyper_service = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let (activity, ended) = (tracked.clone(), ended.clone());
        {
            let mut a = activity.lock().expect("activity lock");
            a.in_flight += 1;
            a.served += 1;
        }
        let call = service(crate::http::PeerAddr(peer), req);
        async move {
            let response = call.await;
            let mut a = activity.lock().expect("activity lock");
            a.in_flight -= 1;
            a.last = Instant::now();
            let first = a.served == 1;
            drop(a);
            if first {
                ended.notify_one();
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let conn = builder.serve_connection(TokioIo::new(io), hyper_service);
    tokio::pin!(conn);
    let mut closing = false;
    // Once the first request has ended its notification is spent: stop polling for it.
    let mut first_ended = false;
    loop {
        let allowed_idle = |a: &Activity| {
            if a.served == 0 { settings.header_read_timeout } else { settings.keep_alive_timeout }
        };
        let idle_deadline = {
            let a = activity.lock().expect("activity lock");
            if a.in_flight > 0 { Instant::now() + settings.keep_alive_timeout } else { a.last + allowed_idle(&a) }
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            () = stop.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            () = request_ended.notified(), if !closing && !first_ended => first_ended = true,
            () = tokio::time::sleep_until(idle_deadline.into()), if !closing => {
                let a = activity.lock().expect("activity lock");
                if a.in_flight == 0 && a.last.elapsed() >= allowed_idle(&a) {
                    drop(a);
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
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
