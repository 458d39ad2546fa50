//! Running the service: bind, answer until SIGTERM or Ctrl-C (then finish what is in flight),
//! and reload on SIGHUP.

use std::sync::atomic::Ordering;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::{AppState, app};
use crate::config::Config;

/// Loads what `config` names, binds `config.addr`, and serves until a shutdown signal.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let addr = config.addr;
    let state = tokio::task::spawn_blocking(move || AppState::open(config))
        .await
        .context("loading models")??;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
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
    spawn_reload_on_hangup(state.clone());
    let draining = state.draining.clone();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            draining.store(true, Ordering::Relaxed);
            tracing::info!("shutting down: finishing requests in flight");
        })
        .await
        .context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

fn spawn_reload_on_hangup(state: AppState) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hangup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; reload through /v1/admin/reload");
            return;
        };
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading models and rules");
            let report = state.reload().await;
            tracing::info!(problems = report.problems.len(), "reload done");
        }
    });
    #[cfg(not(unix))]
    drop(state);
}
