//! What a run measured: per-connection tallies, merged into an [`Outcome`] and summed up in a
//! [`Report`] (text or JSON).

use std::fmt;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::Config;

/// Microseconds from one hour down to 1 µs, three significant digits.
pub(crate) fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant bounds are valid")
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// What became of the recorded requests (those due after the warm-up).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Answers, whatever their status.
    pub answers: u64,
    /// Answers that arrived within the measured window (for the achieved rate).
    pub answered_in_window: u64,
    pub non_2xx: u64,
    /// Failed at the transport (connection reset, malformed answer).
    pub errors: u64,
    /// Not answered by the end of the grace period.
    pub unfinished: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.answers += other.answers;
        self.answered_in_window += other.answered_in_window;
        self.non_2xx += other.non_2xx;
        self.errors += other.errors;
        self.unfinished += other.unfinished;
    }
}

/// One connection's recorded requests.
#[derive(Debug)]
pub(crate) struct Tally {
    latency: Histogram<u64>,
    service: Histogram<u64>,
    pub(crate) counts: Counts,
    first_error: Option<String>,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            latency: new_histogram(),
            service: new_histogram(),
            counts: Counts::default(),
            first_error: None,
        }
    }
}

impl Tally {
    pub(crate) fn record(
        &mut self,
        due: Instant,
        sent: Instant,
        done: Instant,
        status: u16,
        record_until: Instant,
    ) {
        self.latency.saturating_record(micros(done - due));
        self.service.saturating_record(micros(done - sent));
        self.counts.answers += 1;
        if done <= record_until {
            self.counts.answered_in_window += 1;
        }
        if !(200..300).contains(&status) {
            self.counts.non_2xx += 1;
        }
    }

    pub(crate) fn note_error(&mut self, error: String) {
        self.first_error.get_or_insert(error);
    }
}

/// Every connection's tallies merged, with the pacer's lag.
#[derive(Debug)]
pub struct Outcome {
    pub offered_rate: f64,
    pub connections: usize,
    pub duration: Duration,
    /// Microseconds from each request's scheduled time to its whole answer.
    pub latency: Histogram<u64>,
    /// Microseconds from each request's actual send to its whole answer.
    pub service: Histogram<u64>,
    /// Microseconds between each request's scheduled time and its release by the pacer
    /// (every request, warm-up included).
    pub pacer_lag: Histogram<u64>,
    pub counts: Counts,
    /// The first failure message of each connection that failed.
    pub failures: Vec<String>,
}

impl Outcome {
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            offered_rate: config.rate,
            connections: config.connections,
            duration: config.duration,
            latency: new_histogram(),
            service: new_histogram(),
            pacer_lag: new_histogram(),
            counts: Counts::default(),
            failures: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, tally: Tally) {
        // Same bounds on both sides, so adding cannot overflow the histogram's range.
        self.latency.add(&tally.latency).expect("same bounds");
        self.service.add(&tally.service).expect("same bounds");
        self.counts.add(tally.counts);
        if let Some(error) = tally.first_error {
            self.failures.push(error);
        }
    }

    pub(crate) fn add_failure(&mut self, failure: String) {
        self.failures.push(failure);
    }

    pub(crate) fn set_pacer_lag(&mut self, lag: Histogram<u64>) {
        self.pacer_lag = lag;
    }

    /// Every recorded request was answered, with a 2xx status.
    pub fn all_answered_ok(&self) -> bool {
        let Counts {
            non_2xx,
            errors,
            unfinished,
            ..
        } = self.counts;
        non_2xx == 0 && errors == 0 && unfinished == 0 && self.failures.is_empty()
    }

    pub fn report(&self) -> Report {
        Report {
            offered_rate: self.offered_rate,
            achieved_rate: self.counts.answered_in_window as f64 / self.duration.as_secs_f64(),
            connections: self.connections,
            duration_s: self.duration.as_secs_f64(),
            counts: self.counts,
            failures: self.failures.clone(),
            latency_ms: Quantiles::of(&self.latency),
            service_ms: Quantiles::of(&self.service),
            pacer_lag_ms: Quantiles::of(&self.pacer_lag),
        }
    }
}

/// A histogram's summary, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Quantiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Quantiles {
    fn of(histogram: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            p50: ms(histogram.value_at_quantile(0.5)),
            p90: ms(histogram.value_at_quantile(0.9)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p999: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
        }
    }
}

impl fmt::Display for Quantiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3} ms",
            self.p50, self.p90, self.p99, self.p999, self.max
        )
    }
}

/// The summary of a run, as printed (text) or written (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub offered_rate: f64,
    pub achieved_rate: f64,
    pub connections: usize,
    pub duration_s: f64,
    #[serde(flatten)]
    pub counts: Counts,
    pub failures: Vec<String>,
    /// From each request's scheduled time: the figure to quote.
    pub latency_ms: Quantiles,
    /// From each request's actual send, as a closed-loop tool measures.
    pub service_ms: Quantiles,
    /// How late the generator itself released requests.
    pub pacer_lag_ms: Quantiles,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "offered {:.0} req/s on {} connections for {:.1} s: achieved {:.0} req/s, {} answers \
             ({} non-2xx, {} transport errors, {} unfinished)",
            self.offered_rate,
            self.connections,
            self.duration_s,
            self.achieved_rate,
            self.counts.answers,
            self.counts.non_2xx,
            self.counts.errors,
            self.counts.unfinished
        )?;
        writeln!(f, "latency from the scheduled time: {}", self.latency_ms)?;
        writeln!(f, "service time from the send:      {}", self.service_ms)?;
        write!(f, "pacer lag:                       {}", self.pacer_lag_ms)?;
        for failure in &self.failures {
            write!(f, "\nfailure: {failure}")?;
        }
        Ok(())
    }
}
