//! Where scoring runs, and how much of it may wait.
//!
//! Scoring, explanations, parsing and serializing are CPU work. Done on the async workers, a
//! 1,000-lead batch with explanations blocks them for the best part of a second: timeouts
//! cannot fire (the future never yields), `/healthz` waits, and a concurrency limit on
//! requests never sheds because a single request can hold a core for that long. So:
//!
//! - **off the async workers**: every piece of CPU work runs on tokio's blocking pool
//!   ([`Work::run`]), at most one piece per core at a time (a fair semaphore, so pieces run in
//!   the order they asked, and a single lead never waits behind a whole batch — batches are cut
//!   into [`CHUNK`]-lead pieces). The one exception is a single light lead in a small body
//!   (a logistic model, or trees without TreeSHAP: microseconds of work, less than the
//!   hand-off to the pool and back), which runs where its request is ([`Work::run_inline`]);
//! - **shed by the work queued**: a request is admitted only if its leads fit in
//!   `max_queued_leads` (a batch costs its size; [`Work::admit`]), else it is answered 503 with
//!   `Retry-After` at once — the queue in front of the cores is bounded, so is the wait;
//! - **within a deadline**: each request's [`Job`] carries `timeout_ms` from when its body was
//!   read; work checks it between leads, so work cut by the deadline stops (it does not run on
//!   to an answer nobody reads), and a request whose client went away is cancelled the same
//!   way ([`CancelOnDrop`]).
//!
//! `max_concurrency` bounds the requests (and NDJSON streams) in this stage at once
//! ([`Work::slot`]); it is taken after the body is read, so a slow sender holds no slot.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;
use crate::error::ApiError;

/// Leads scored by one piece of work: small enough that a single lead queued behind a batch
/// waits for one chunk, not for the batch.
pub const CHUNK: usize = 32;

/// The scoring pool's limits and queue.
#[derive(Debug)]
pub struct Work {
    slots: Arc<Semaphore>,
    slot_capacity: usize,
    budget: Arc<Semaphore>,
    budget_capacity: usize,
    cores: Arc<Semaphore>,
    threads: usize,
    timeout: Duration,
}

/// A scoring request's (or stream's) place among `max_concurrency`.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

/// Leads admitted to the queue; released when dropped.
#[derive(Debug)]
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
}

/// One request's deadline and cancellation flag, shared with the work it started.
#[derive(Debug, Clone)]
pub struct Job {
    deadline: Instant,
    timeout: Duration,
    cancelled: Arc<AtomicBool>,
}

/// Cancels its job when dropped: held by the request's future, so a request that is dropped
/// (client gone, connection closed at shutdown) stops its work at the next lead.
#[derive(Debug)]
pub struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Job {
    /// `Ok` while the job may go on; the 503 `timeout` answer once its deadline has passed
    /// (or it was cancelled: nobody reads that answer).
    pub fn check(&self) -> Result<(), ApiError> {
        if self.cancelled.load(Ordering::Relaxed) || Instant::now() >= self.deadline {
            return Err(ApiError::timeout(self.timeout.as_millis() as u64));
        }
        Ok(())
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The same job (same cancellation) with a fresh deadline: an NDJSON stream's next lines.
    pub fn renewed(&self) -> Job {
        Job {
            deadline: Instant::now() + self.timeout,
            ..self.clone()
        }
    }
}

impl Work {
    pub fn new(config: &Config) -> Work {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Work {
            slots: Arc::new(Semaphore::new(config.max_concurrency)),
            slot_capacity: config.max_concurrency,
            budget: Arc::new(Semaphore::new(config.max_queued_leads)),
            budget_capacity: config.max_queued_leads,
            cores: Arc::new(Semaphore::new(threads)),
            threads,
            timeout: Duration::from_millis(config.timeout_ms),
        }
    }

    /// Pieces of one request that may run at once (the cores).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// A place for one more request, or 503 `overloaded`.
    pub fn slot(&self) -> Result<Slot, ApiError> {
        Arc::clone(&self.slots)
            .try_acquire_owned()
            .map(|_permit| Slot { _permit })
            .map_err(|_| ApiError::overloaded("concurrency limit (max_concurrency)"))
    }

    /// Admits `leads` to the queue, or answers 503 `overloaded` at once.
    pub fn admit(&self, leads: usize) -> Result<Admitted, ApiError> {
        let n = u32::try_from(leads.max(1)).unwrap_or(u32::MAX);
        Arc::clone(&self.budget)
            .try_acquire_many_owned(n)
            .map(|_permit| Admitted { _permit })
            .map_err(|_| ApiError::overloaded("queued-work limit (max_queued_leads)"))
    }

    /// Admits `leads`, waiting for room until the job's deadline (NDJSON streams: back
    /// pressure on a client that sends faster than the server scores).
    pub async fn admit_waiting(&self, leads: usize, job: &Job) -> Result<Admitted, ApiError> {
        let n = u32::try_from(leads.max(1)).unwrap_or(u32::MAX);
        let acquire = Arc::clone(&self.budget).acquire_many_owned(n);
        match tokio::time::timeout_at(job.deadline.into(), acquire).await {
            Ok(Ok(_permit)) => Ok(Admitted { _permit }),
            Ok(Err(_)) => Err(ApiError::internal("the scoring queue is closed")),
            Err(_) => Err(ApiError::timeout(self.timeout.as_millis() as u64)),
        }
    }

    /// A new job whose deadline is `timeout_ms` from now, and the guard that cancels it.
    pub fn job(&self) -> (Job, CancelOnDrop) {
        let cancelled = Arc::new(AtomicBool::new(false));
        let job = Job {
            deadline: Instant::now() + self.timeout,
            timeout: self.timeout,
            cancelled: Arc::clone(&cancelled),
        };
        (job, CancelOnDrop(cancelled))
    }

    /// Runs `f` on the blocking pool once a core is free (waiting in order, until the
    /// deadline). `f` gets the job to check between leads. A panic in `f` is a logged 500.
    pub async fn run<T, F>(&self, job: &Job, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Job) -> Result<T, ApiError> + Send + 'static,
    {
        let core =
            tokio::time::timeout_at(job.deadline.into(), Arc::clone(&self.cores).acquire_owned())
                .await
                .map_err(|_| ApiError::timeout(self.timeout.as_millis() as u64))?
                .map_err(|_| ApiError::internal("the scoring pool is closed"))?;
        let job = job.clone();
        let task = tokio::task::spawn_blocking(move || {
            let _core = core;
            job.check()?;
            f(&job)
        });
        match task.await {
            Ok(result) => result,
            Err(e) => {
                tracing::error!(error = %e, "scoring work panicked");
                Err(ApiError::internal("internal error; it has been logged"))
            }
        }
    }

    /// Runs `f` here, on the request's own task, for work of a few microseconds (one light
    /// lead, [`Scoring::light`](crate::scoring::Scoring::light)): the hand-off to the pool and
    /// back costs more than the work. Checked against the deadline first; a panic in `f` is a
    /// logged 500, as on the pool.
    pub fn run_inline<T, F>(&self, job: &Job, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Job) -> Result<T, ApiError>,
    {
        job.check()?;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(job))) {
            Ok(result) => result,
            Err(_) => {
                tracing::error!("scoring work panicked");
                Err(ApiError::internal("internal error; it has been logged"))
            }
        }
    }

    /// Leads admitted now (waiting for a core or being scored).
    pub fn queued_leads(&self) -> usize {
        self.budget_capacity - self.budget.available_permits()
    }

    /// Scoring requests and streams in flight now.
    pub fn requests_in_flight(&self) -> usize {
        self.slot_capacity - self.slots.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn work(max_queued_leads: usize, timeout_ms: u64) -> Work {
        Work::new(&Config {
            max_batch: 1,
            max_queued_leads,
            timeout_ms,
            max_concurrency: 2,
            ..Config::default()
        })
    }

    #[tokio::test]
    async fn admission_is_by_leads_and_released_on_drop() {
        let w = work(100, 1000);
        let batch = w.admit(80).expect("fits");
        assert_eq!(w.queued_leads(), 80);
        assert_eq!(w.admit(30).expect_err("full").code(), ErrorCode::Overloaded);
        let single = w.admit(20).expect("fits exactly");
        drop(batch);
        drop(single);
        assert_eq!(w.queued_leads(), 0);
        let (a, b) = (w.slot().expect("one"), w.slot().expect("two"));
        assert_eq!(w.slot().expect_err("third").code(), ErrorCode::Overloaded);
        assert_eq!(w.requests_in_flight(), 2);
        drop((a, b));
    }

    #[tokio::test]
    async fn a_job_stops_at_its_deadline_or_when_its_request_is_dropped() {
        let w = work(10, 50);
        let (job, guard) = w.job();
        // Work that checks its job between "leads" stops at the deadline.
        let done = w
            .run(&job, |job| {
                let mut leads = 0u64;
                while job.check().is_ok() {
                    leads += 1;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(leads)
            })
            .await
            .expect("runs");
        assert!(done < 1000, "{done} leads");
        assert_eq!(job.check().expect_err("expired").code(), ErrorCode::Timeout);
        drop(guard);

        let (job, guard) = work(10, 60_000).job();
        assert!(job.check().is_ok());
        drop(guard);
        assert!(job.check().is_err(), "a dropped request cancels its job");
    }

    #[tokio::test]
    async fn a_panic_in_work_is_a_500() {
        let w = work(10, 1000);
        let (job, _guard) = w.job();
        let e = w
            .run(&job, |_| -> Result<(), ApiError> { panic!("boom") })
            .await
            .expect_err("panicked");
        assert_eq!(e.code(), ErrorCode::Internal);
    }

    #[tokio::test]
    async fn inline_work_keeps_the_deadline_and_turns_a_panic_into_a_500() {
        let w = work(10, 1000);
        let (job, _guard) = w.job();
        assert_eq!(w.run_inline(&job, |_| Ok(7)).expect("runs"), 7);
        let e = w
            .run_inline(&job, |_| -> Result<(), ApiError> { panic!("boom") })
            .expect_err("panicked");
        assert_eq!(e.code(), ErrorCode::Internal);
        let (job, guard) = w.job();
        drop(guard);
        let e = w
            .run_inline(&job, |_| -> Result<(), ApiError> {
                unreachable!("never runs")
            })
            .expect_err("cancelled");
        assert_eq!(e.code(), ErrorCode::Timeout);
    }
}
