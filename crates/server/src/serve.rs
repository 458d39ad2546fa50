//! Running the service on a socket: bind, answer, reload on SIGHUP, and shut down in three
//! bounded steps.
//!
//! The accept loop is our own (hyper's HTTP/1 connection builder) rather than `axum::serve`,
//! for the two things that one does not offer: a header-read timeout, which also closes idle
//! keep-alive connections (hyper starts it whenever a connection waits for a request head),
//! and a shutdown that does not wait forever on a connection that never ends.
//!
//! Shutdown on SIGTERM: (1) drain — keep accepting for `drain_ms` with `/readyz` at 503
//! `draining`, so a balancer that polls it stops sending before connections are refused;
//! (2) stop accepting and ask every connection to close after its current request; (3) wait
//! for requests and streams in flight at most `shutdown_timeout_ms`, then return regardless.
//! Ctrl-C (SIGINT) skips the drain; a second signal skips whatever wait is left. Every signal
//! handler, SIGHUP's included, is installed before "listening" is announced: a signal sent as
//! soon as the server says it listens is never the default action (exit).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::app::{AppState, OpenError, app};
use crate::config::Config;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("loading models: {0}")]
    Loading(#[from] tokio::task::JoinError),
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("installing the {signal} handler: {source}")]
    Signal {
        signal: &'static str,
        source: std::io::Error,
    },
}

/// Checks the settings, loads what `config` names, connects the store (migrations applied;
/// a store newer than this build is refused), binds `config.addr`, and serves until a
/// shutdown signal (then drains, finishes, and writes the queued score log entries, see the
/// module docs).
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let addr = config.addr;
    let state = tokio::task::spawn_blocking(move || AppState::open(config)).await??;
    let state = state.connect_store().await?;
    let router = app(state.clone());
    let mut signals = Signals::install()?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    if let Some(hangup) = signals.hangup.take() {
        reload_on_hangup(state.clone(), hangup);
    }
    {
        let served = state.registry.current();
        let champion = served.champion();
        tracing::info!(
            model = %champion.name(),
            version = %champion.version(),
            rules = %served.rules.path.display(),
            "listening on http://{local}"
        );
    }

    let config = &state.config;
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(config.header_timeout_ms))
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let accept = async {
        loop {
            let (tcp, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let connection =
                http.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(router.clone()));
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "connection closed");
                }
            });
        }
    };
    let hurry = tokio::select! {
        () = accept => false,
        hurry = drain(&mut signals, &state) => hurry,
    };
    drop(listener);

    let grace = Duration::from_millis(config.shutdown_timeout_ms);
    if hurry {
        tracing::warn!("stopped at once; requests in flight were cut");
        stop_score_log(&state).await;
        return Ok(());
    }
    tracing::info!(
        grace_ms = config.shutdown_timeout_ms,
        "not accepting; finishing requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("stopped"),
        () = tokio::time::sleep(grace) => {
            tracing::warn!("stopped; requests still in flight after shutdown_timeout_ms were cut");
        }
        _ = signals.stop() => tracing::warn!("second signal: stopped; requests in flight were cut"),
    }
    stop_score_log(&state).await;
    Ok(())
}

/// Longest the score log may take to write what is queued at shutdown.
const SCORE_LOG_FLUSH: Duration = Duration::from_secs(5);

/// Writes the queued score log entries (bounded), then closes the store.
async fn stop_score_log(state: &AppState) {
    if let Some(log) = &state.score_log {
        log.stop(SCORE_LOG_FLUSH).await;
    }
    if let Some(store) = &state.store {
        store.close().await;
    }
}

/// Waits for a stop signal, marks the state draining, and keeps serving for the drain period
/// (SIGTERM only). Returns true when a second signal asked to stop at once.
async fn drain(signals: &mut Signals, state: &AppState) -> bool {
    let stop = signals.stop().await;
    state.draining.store(true, Ordering::Relaxed);
    let drain = Duration::from_millis(state.config.drain_ms);
    if stop == Stop::Interrupt || drain.is_zero() {
        return false;
    }
    tracing::info!(
        drain_ms = state.config.drain_ms,
        "SIGTERM: draining (/readyz answers 503; still accepting)"
    );
    tokio::select! {
        () = tokio::time::sleep(drain) => false,
        _ = signals.stop() => true,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// SIGTERM: an orchestrator stopping us; drain first.
    Terminate,
    /// Ctrl-C: a person at a terminal; no drain.
    Interrupt,
}

/// The signals the server reacts to, registered up front.
struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
    #[cfg(not(unix))]
    hangup: Option<std::convert::Infallible>,
}

impl Signals {
    #[cfg(unix)]
    fn install() -> Result<Signals, ServeError> {
        use tokio::signal::unix::{SignalKind, signal};
        let install = |kind: SignalKind, name: &'static str| {
            signal(kind).map_err(|source| ServeError::Signal {
                signal: name,
                source,
            })
        };
        Ok(Signals {
            terminate: install(SignalKind::terminate(), "SIGTERM")?,
            interrupt: install(SignalKind::interrupt(), "SIGINT")?,
            hangup: Some(install(SignalKind::hangup(), "SIGHUP")?),
        })
    }

    #[cfg(not(unix))]
    fn install() -> Result<Signals, ServeError> {
        Ok(Signals { hangup: None })
    }

    #[cfg(unix)]
    async fn stop(&mut self) -> Stop {
        tokio::select! {
            _ = self.terminate.recv() => Stop::Terminate,
            _ = self.interrupt.recv() => Stop::Interrupt,
        }
    }

    #[cfg(not(unix))]
    async fn stop(&mut self) -> Stop {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        Stop::Interrupt
    }
}

#[cfg(unix)]
fn reload_on_hangup(state: AppState, mut hangup: tokio::signal::unix::Signal) {
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading models and rules");
            state.reload().await;
        }
    });
}

#[cfg(not(unix))]
fn reload_on_hangup(_: AppState, never: std::convert::Infallible) {
    match never {}
}
