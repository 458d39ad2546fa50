//! An open-loop HTTP load generator: requests leave at a fixed rate, whatever the server does,
//! and each one's latency counts from the moment it was *scheduled* to leave.
//!
//! Why we have one. `wrk` (what `scripts/load-test` uses) is closed-loop: each connection sends
//! its next request when the previous answer arrives. At saturation its latency is mostly
//! queueing, fixed by Little's law (64 connections / throughput), and when the server or the
//! generator stalls, the generator also stops sending, so the stall is counted once instead of
//! for every request that should have left meanwhile ("coordinated omission"). A latency goal
//! such as "p99 < 5 ms at 64 connections" is a statement about a server at a given load, which
//! is what an open-loop generator measures. Debian's `wrk` has no fixed-rate mode (wrk2 is not
//! packaged). `oha -q --latency-correction` counts from the moment its pacer task woke (on
//! tokio's millisecond timer), not from the due time, and does not report how late that was,
//! so its tail cannot be told apart from its own lag (on this machine it reported a p99 of
//! 30 ms for `GET /healthz` at 5 k req/s).
//!
//! How it works ([`run`]):
//! - every connection is opened (HTTP/1.1 keep-alive, hyper's client) before the clock starts;
//! - a pacer thread of its own (`pacer.rs`) walks the schedule `start + k / rate` and hands
//!   request `k` to connection `k mod connections`, carrying its scheduled time, sleeping
//!   (not spinning) in between; this is wrk2's model, one fixed rate per connection;
//! - each connection (`connection.rs`) sends its requests in order on one async thread; when a
//!   request's turn comes late because the previous answer was slow, its latency still counts
//!   from its scheduled time;
//! - requests scheduled during the warm-up are sent but not recorded; answers still missing a
//!   grace period after the last scheduled time are counted as unfinished.
//!
//! [`Outcome`] holds three HDR histograms: latency from the scheduled time (the figure to
//! quote), service time from the actual send (what a closed-loop tool shows), and the pacer's
//! own lag (how late the generator released each request: when it is large, the machine or
//! the generator, not the server, sets the tail).

mod connection;
mod outcome;
mod pacer;
mod target;

use std::time::{Duration, Instant};

pub use outcome::{Counts, Outcome, Quantiles, Report};
pub use target::Target;

/// One open-loop run.
#[derive(Debug, Clone)]
pub struct Config {
    pub target: Target,
    /// Requests per second offered, across all connections.
    pub rate: f64,
    pub connections: usize,
    /// Scheduled and sent, not recorded.
    pub warmup: Duration,
    /// Scheduled, sent and recorded.
    pub duration: Duration,
    /// How long after the last scheduled time answers are still awaited.
    pub grace: Duration,
}

/// What can stop a run before it measures anything.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("invalid setting: {0}")]
    Setting(String),
    #[error("invalid target URL {url:?}: {why}")]
    Url { url: String, why: String },
    // The reasons are in the messages, not error sources: a connection's failure is also
    // kept as text in the report, and a chain would print each reason twice.
    #[error("cannot connect to {address}: {reason}")]
    Connect {
        address: String,
        reason: std::io::Error,
    },
    #[error("HTTP/1.1 handshake with {address} failed: {reason}")]
    Handshake {
        address: String,
        reason: hyper::Error,
    },
    #[error("cannot start the generator's runtime: {0}")]
    Runtime(std::io::Error),
}

impl Config {
    fn validate(&self) -> Result<(), LoadError> {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Err(LoadError::Setting(format!(
                "the rate must be a positive number of requests per second, not {}",
                self.rate
            )));
        }
        if self.connections == 0 {
            return Err(LoadError::Setting(
                "at least one connection is needed".into(),
            ));
        }
        if self.duration.is_zero() {
            return Err(LoadError::Setting(
                "the measured duration must not be zero".into(),
            ));
        }
        Ok(())
    }
}

/// Runs the schedule against the target on one async thread (plus the pacer's), and returns
/// the histograms and counts of the measured window.
pub fn run(config: &Config) -> Result<Outcome, LoadError> {
    config.validate()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(LoadError::Runtime)?;
    runtime.block_on(run_on_runtime(config))
}

async fn run_on_runtime(config: &Config) -> Result<Outcome, LoadError> {
    let mut connections = Vec::with_capacity(config.connections);
    for _ in 0..config.connections {
        connections.push(connection::Connection::open(&config.target).await?);
    }
    // A little head room so the first requests are not already late when the pacer starts.
    let start = Instant::now() + Duration::from_millis(20);
    let schedule = pacer::Schedule::new(start, config.rate, config.warmup + config.duration);
    let window = connection::Window {
        record_from: start + config.warmup,
        record_until: start + config.warmup + config.duration,
        give_up_at: start + config.warmup + config.duration + config.grace,
    };
    let mut queues = Vec::with_capacity(connections.len());
    let mut tasks = Vec::with_capacity(connections.len());
    for connection in connections {
        let (queue, requests) = tokio::sync::mpsc::unbounded_channel();
        queues.push(queue);
        tasks.push(tokio::spawn(connection.drive(requests, window)));
    }
    let pacer = std::thread::Builder::new()
        .name("loadgen-pacer".into())
        .spawn(move || schedule.pace(&queues))
        .map_err(LoadError::Runtime)?;
    let mut outcome = Outcome::new(config);
    for task in tasks {
        match task.await {
            Ok(tally) => outcome.add(tally),
            Err(join_error) => {
                outcome.add_failure(format!("a connection's task failed: {join_error}"))
            }
        }
    }
    match pacer.join() {
        Ok(lag) => outcome.set_pacer_lag(lag),
        Err(_) => outcome.add_failure("the pacer thread panicked".into()),
    }
    Ok(outcome)
}
