//! The generator against a small in-process server that counts what it receives: the
//! generator's tally must match the server's count, the warm-up must be sent but not recorded,
//! and a stall must count against every request scheduled during it (the coordinated-omission
//! correction), not only against the request that was slow.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CONNECTION, HeaderName};
use axum::routing::{get, post};
use qualify_loadgen::{Config, LoadError, Target, run};

#[derive(Debug, Default)]
struct Seen {
    requests: AtomicU64,
    body_bytes: AtomicU64,
    /// Shuts the server down (gracefully: answers in flight are finished).
    stop: tokio::sync::Notify,
}

/// The first request stalls 300 ms; every request numbered 3 mod 7 gets a 500.
async fn stalls_once(State(seen): State<Arc<Seen>>, body: String) -> StatusCode {
    let n = seen.requests.fetch_add(1, Ordering::SeqCst);
    seen.body_bytes
        .fetch_add(body.len() as u64, Ordering::SeqCst);
    if n == 0 {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    if n % 7 == 3 {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

async fn counts(State(seen): State<Arc<Seen>>) -> &'static str {
    seen.requests.fetch_add(1, Ordering::SeqCst);
    "ok"
}

/// Answers 20 requests, then shuts the server down.
async fn goes_away(State(seen): State<Arc<Seen>>) -> &'static str {
    if seen.requests.fetch_add(1, Ordering::SeqCst) == 19 {
        seen.stop.notify_one();
    }
    "ok"
}

/// Answers, then closes the connection (`Connection: close`), as HTTP/1.0 servers do.
async fn closes(State(seen): State<Arc<Seen>>) -> ([(HeaderName, &'static str); 1], &'static str) {
    seen.requests.fetch_add(1, Ordering::SeqCst);
    ([(CONNECTION, "close")], "ok")
}

/// Serves on a thread of its own (its own runtime, as a real server would be), returning the
/// address and the counters.
fn start_server(router: fn(Arc<Seen>) -> Router) -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let app = router(seen.clone());
    let seen_here = seen.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { seen_here.stop.notified().await })
                .await
                .expect("serve");
        });
    });
    (address, seen)
}

fn config(
    target: Target,
    rate: f64,
    connections: usize,
    warmup_ms: u64,
    duration_ms: u64,
) -> Config {
    Config {
        target,
        rate,
        connections,
        warmup: Duration::from_millis(warmup_ms),
        duration: Duration::from_millis(duration_ms),
        grace: Duration::from_secs(10),
    }
}

#[test]
fn a_stall_counts_against_every_request_scheduled_behind_it() {
    let (address, seen) = start_server(|seen| {
        Router::new()
            .route("/score", post(stalls_once))
            .with_state(seen)
    });
    let body = br#"{"lead": 1}"#;
    let target = Target::new(
        &format!("http://{address}/score"),
        Some(body.as_slice().into()),
        "application/json",
    )
    .expect("target");
    // One connection at 100 req/s for 1 s: requests due every 10 ms queue behind the first.
    let outcome = run(&config(target, 100.0, 1, 0, 1000)).expect("run");

    assert_eq!(outcome.counts.answers, 100);
    assert_eq!(
        seen.requests.load(Ordering::SeqCst),
        100,
        "the server saw every request once"
    );
    assert_eq!(
        seen.body_bytes.load(Ordering::SeqCst),
        100 * body.len() as u64
    );
    assert_eq!(
        outcome.counts.non_2xx,
        (0..100).filter(|n| n % 7 == 3).count() as u64
    );
    assert_eq!((outcome.counts.errors, outcome.counts.unfinished), (0, 0));
    assert!(!outcome.all_answered_ok(), "500s are not ok");

    // Request k (due at 10k ms) cannot be answered before 300 ms: for k ≤ 20 that is at least
    // 100 ms after it was due.
    assert!(outcome.latency.max() >= 300_000);
    assert!(outcome.latency.count_between(100_000, u64::MAX) >= 21);
    // Sent late, each of them was itself answered quickly; only the first one's own service
    // time includes the stall.
    assert!(outcome.service.max() >= 300_000);
    for quantile in [0.5, 0.9, 0.99, 1.0] {
        assert!(
            outcome.latency.value_at_quantile(quantile)
                >= outcome.service.value_at_quantile(quantile),
            "latency from the schedule is never below the service time"
        );
    }
    assert_eq!(
        outcome.pacer_lag.len(),
        100,
        "the pacer released every request"
    );
}

#[test]
fn the_warm_up_is_sent_but_not_recorded() {
    let (address, seen) = start_server(|seen| {
        Router::new()
            .route("/healthz", get(counts))
            .with_state(seen)
    });
    let target = Target::new(&format!("http://{address}/healthz"), None, "").expect("target");
    let outcome = run(&config(target, 200.0, 4, 500, 500)).expect("run");
    assert_eq!(seen.requests.load(Ordering::SeqCst), 200);
    assert_eq!(outcome.counts.answers, 100);
    assert!(outcome.all_answered_ok(), "{}", outcome.report());
    let report = outcome.report();
    assert_eq!(report.offered_rate, 200.0);
    assert!(report.latency_ms.p50 <= report.latency_ms.max);
}

#[test]
fn a_connection_the_server_closes_is_reopened_not_counted_as_a_failure() {
    let (address, seen) = start_server(|seen| {
        Router::new()
            .route("/closing", get(closes))
            .with_state(seen)
    });
    let target = Target::new(&format!("http://{address}/closing"), None, "").expect("target");
    let outcome = run(&config(target, 100.0, 2, 0, 500)).expect("run");
    assert!(outcome.all_answered_ok(), "{}", outcome.report());
    assert_eq!(outcome.counts.answers, 50);
    assert_eq!(seen.requests.load(Ordering::SeqCst), 50);
}

#[test]
fn a_server_that_goes_away_fails_the_rest_of_the_run_without_hanging_it() {
    let (address, seen) =
        start_server(|seen| Router::new().route("/", get(goes_away)).with_state(seen));
    let target = Target::new(&format!("http://{address}/"), None, "").expect("target");
    let outcome = run(&config(target, 100.0, 2, 0, 1000)).expect("run");
    let counts = outcome.counts;
    assert_eq!(counts.answers, seen.requests.load(Ordering::SeqCst));
    assert!(counts.answers >= 20, "{}", outcome.report());
    assert!(counts.errors > 0, "{}", outcome.report());
    assert_eq!(counts.answers + counts.errors + counts.unfinished, 100);
    assert!(!outcome.all_answered_ok());
    assert!(!outcome.failures.is_empty());
}

#[test]
fn an_unreachable_target_is_an_error_naming_it() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = free.local_addr().expect("address");
    drop(free);
    let target = Target::new(&format!("http://{address}/"), None, "").expect("target");
    match run(&config(target, 10.0, 2, 0, 100)) {
        Err(error @ LoadError::Connect { .. }) => {
            assert!(error.to_string().contains(&address.to_string()), "{error}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
}

#[test]
fn settings_that_cannot_run_are_refused() {
    let target = Target::new("http://127.0.0.1:9/", None, "").expect("target");
    for (rate, connections, duration_ms) in [
        (0.0, 1, 100),
        (f64::NAN, 1, 100),
        (10.0, 0, 100),
        (10.0, 1, 0),
    ] {
        assert!(matches!(
            run(&config(target.clone(), rate, connections, 0, duration_ms)),
            Err(LoadError::Setting(_))
        ));
    }
}
