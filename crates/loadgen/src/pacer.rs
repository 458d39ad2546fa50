//! The schedule and the thread that keeps it.
//!
//! The pacer is an OS thread, not an async task: tokio's timer has a resolution of one
//! millisecond, which at 20 k req/s would release requests in bursts of twenty. The thread
//! sleeps until the next request is due (the kernel's high-resolution timer, tens of
//! microseconds late at worst on an idle core), then releases every request due by then, each
//! carrying its scheduled time. It never spins, so on a small machine it takes almost no
//! core from the server it measures.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::mpsc::UnboundedSender;

use crate::outcome::new_histogram;

/// Request `k` is due at `start + k / rate`, for every `k` whose time falls before `end`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    start: Instant,
    rate: f64,
    requests: u64,
}

impl Schedule {
    pub(crate) fn new(start: Instant, rate: f64, length: Duration) -> Self {
        // The number of due times in [start, start + length): ceil(length × rate), less a
        // rounding error's worth so that 0.1 s at 400 req/s is 40 requests, not 41.
        let requests = (length.as_secs_f64() * rate - 1e-9).ceil().max(0.0) as u64;
        Self {
            start,
            rate,
            requests,
        }
    }

    pub(crate) fn due(&self, k: u64) -> Instant {
        self.start + Duration::from_secs_f64(k as f64 / self.rate)
    }

    #[cfg(test)]
    pub(crate) fn requests(&self) -> u64 {
        self.requests
    }

    /// Hands request `k` to queue `k mod queues.len()` at its due time, and returns how late
    /// each was released (microseconds). Dropping the queues at the end tells the
    /// connections that the schedule is over.
    pub(crate) fn pace(self, queues: &[UnboundedSender<Instant>]) -> Histogram<u64> {
        let mut lag = new_histogram();
        let mut k = 0;
        let mut queue = 0;
        while k < self.requests {
            let now = Instant::now();
            let next = self.due(k);
            if next > now {
                std::thread::sleep(next - now);
                continue;
            }
            while k < self.requests && self.due(k) <= now {
                let due = self.due(k);
                lag.saturating_record(now.duration_since(due).as_micros() as u64);
                // A closed queue means its connection gave up; its failure is reported there.
                let _ = queues[queue].send(due);
                k += 1;
                queue = (queue + 1) % queues.len();
            }
        }
        lag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_evenly_spaced_and_covers_the_length() {
        let start = Instant::now();
        let schedule = Schedule::new(start, 400.0, Duration::from_millis(100));
        assert_eq!(schedule.requests(), 40);
        assert_eq!(schedule.due(0), start);
        assert_eq!(
            schedule.due(4) - schedule.due(3),
            Duration::from_micros(2500)
        );
        assert!(schedule.due(39) < start + Duration::from_millis(100));
    }

    #[test]
    fn pace_deals_every_request_round_robin_with_its_due_time() {
        // Already due when pacing starts: everything is released at once, in order.
        let start = Instant::now();
        let schedule = Schedule::new(start, 1e6, Duration::from_micros(10));
        let (a, mut a_rx) = tokio::sync::mpsc::unbounded_channel();
        let (b, mut b_rx) = tokio::sync::mpsc::unbounded_channel();
        let lag = schedule.pace(&[a, b]);
        assert_eq!(lag.len(), 10);
        let mut a_due = Vec::new();
        while let Ok(due) = a_rx.try_recv() {
            a_due.push(due);
        }
        let mut b_due = Vec::new();
        while let Ok(due) = b_rx.try_recv() {
            b_due.push(due);
        }
        let expected = |parity: u64| -> Vec<Instant> {
            (0..10)
                .filter(|k| k % 2 == parity)
                .map(|k| schedule.due(k))
                .collect()
        };
        assert_eq!(a_due, expected(0));
        assert_eq!(b_due, expected(1));
    }
}
