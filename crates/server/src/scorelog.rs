//! The score log, off the request path: every scored answer becomes a [`ScoreLogEntry`] put
//! on a bounded queue with `try_send` (an answer never waits for the log), and one writer
//! task drains the queue into the store in batches (up to [`BATCH`] entries, or what came
//! within [`LINGER`] of the first).
//!
//! Why a queue and one writer: the store takes one write transaction at a time (SQLite) and
//! each commit is fsynced, so a write per answer would put a disk flush on every request and
//! make scoring as slow as the disk; batched, the log costs one commit per [`BATCH`] answers.
//! What it gives up, it counts: an entry that finds the queue full is dropped, and so are
//! the entries of a batch the store refuses (`qualify_score_log_dropped_total`); `/readyz`
//! then says `degraded` with the reason until a write succeeds again. On shutdown the writer
//! writes what is queued, within a bounded time ([`ScoreLog::stop`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qualify_core::scorelog::ScoreLogEntry;
use qualify_store::Store;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::metrics::Metrics;

/// Entries the queue holds before new ones are dropped.
pub const QUEUE: usize = 16_384;
/// Most entries per store write.
pub const BATCH: usize = 500;
/// How long the writer waits for more entries after the first of a batch.
pub const LINGER: Duration = Duration::from_millis(50);

enum Item {
    Entry(Box<ScoreLogEntry>),
    /// Written everything queued before this: answer.
    Flush(oneshot::Sender<()>),
}

/// The sending side of the log; cheap to clone (one per scoring request).
#[derive(Clone)]
pub struct ScoreLog {
    tx: mpsc::Sender<Item>,
    state: Arc<LogState>,
}

impl std::fmt::Debug for ScoreLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScoreLog")
            .field("queued", &self.queued())
            .finish_non_exhaustive()
    }
}

struct LogState {
    metrics: Arc<Metrics>,
    /// Why the last write failed; `None` once one succeeds.
    failing: Mutex<Option<String>>,
    dropped: AtomicU64,
    writer: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

impl ScoreLog {
    /// Starts the writer task (on the current tokio runtime) writing to `store`.
    pub fn start(store: Store, metrics: Arc<Metrics>) -> ScoreLog {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (stop_tx, stop_rx) = oneshot::channel();
        let state = Arc::new(LogState {
            metrics,
            failing: Mutex::new(None),
            dropped: AtomicU64::new(0),
            writer: Mutex::new(None),
        });
        let task = tokio::spawn(write_loop(store, rx, stop_rx, Arc::clone(&state)));
        if let Ok(mut writer) = state.writer.lock() {
            *writer = Some((stop_tx, task));
        }
        ScoreLog { tx, state }
    }

    /// Queues `entry`; drops it (counted) when the queue is full or the writer has stopped.
    pub fn push(&self, entry: ScoreLogEntry) {
        if self.tx.try_send(Item::Entry(Box::new(entry))).is_err() {
            self.state.dropped(1);
        }
    }

    /// Entries waiting in the queue.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Entries dropped so far (queue full, writer stopped, or a failed write).
    pub fn dropped(&self) -> u64 {
        self.state.dropped.load(Ordering::Relaxed)
    }

    /// Why the last write failed, while the log is failing.
    pub fn problem(&self) -> Option<String> {
        self.state.failing.lock().ok().and_then(|f| f.clone())
    }

    /// Waits until every entry queued before the call has been written (or dropped).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Item::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Writes what is queued and stops the writer, waiting at most `limit`; entries that
    /// arrive afterwards are dropped (counted).
    pub async fn stop(&self, limit: Duration) {
        let writer = self.state.writer.lock().ok().and_then(|mut w| w.take());
        let Some((stop, task)) = writer else { return };
        let _ = stop.send(());
        let queued = self.queued();
        match tokio::time::timeout(limit, task).await {
            Ok(_) => tracing::info!(queued, "score log flushed"),
            Err(_) => tracing::warn!(
                queued,
                limit_ms = limit.as_millis() as u64,
                "the score log did not flush in time; the rest is dropped"
            ),
        }
    }
}

impl LogState {
    fn dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
        self.metrics.score_log_dropped(n);
    }
}

async fn write_loop(
    store: Store,
    mut rx: mpsc::Receiver<Item>,
    mut stop: oneshot::Receiver<()>,
    state: Arc<LogState>,
) {
    let mut items = Vec::with_capacity(BATCH);
    loop {
        let stopping = tokio::select! {
            n = rx.recv_many(&mut items, BATCH) => {
                if n == 0 {
                    return;
                }
                false
            }
            _ = &mut stop => true,
        };
        if stopping {
            // Everything queued now, then stop: later entries are counted as dropped.
            rx.close();
            while let Some(item) = rx.recv().await {
                items.push(item);
                if items.len() >= BATCH {
                    write(&store, &mut items, &state).await;
                }
            }
            write(&store, &mut items, &state).await;
            return;
        }
        let linger = tokio::time::sleep(LINGER);
        tokio::pin!(linger);
        while items.len() < BATCH && !items.iter().any(|i| matches!(i, Item::Flush(_))) {
            let room = BATCH - items.len();
            tokio::select! {
                n = rx.recv_many(&mut items, room) => if n == 0 { break },
                () = &mut linger => break,
            }
        }
        write(&store, &mut items, &state).await;
    }
}

/// Writes the entries of `items` in one transaction, then answers its flushes.
async fn write(store: &Store, items: &mut Vec<Item>, state: &LogState) {
    let mut entries = Vec::with_capacity(items.len());
    let mut flushes = Vec::new();
    for item in items.drain(..) {
        match item {
            Item::Entry(e) => entries.push(*e),
            Item::Flush(done) => flushes.push(done),
        }
    }
    if !entries.is_empty() {
        match store.append_scores(&entries).await {
            Ok(()) => {
                state.metrics.score_log_written(entries.len() as u64);
                if let Ok(mut failing) = state.failing.lock()
                    && failing.take().is_some()
                {
                    tracing::info!("score log: writing to the store works again");
                }
            }
            Err(e) => {
                let n = entries.len() as u64;
                state.dropped(n);
                tracing::warn!(error = %e, dropped = n, "score log: writing to the store failed");
                if let Ok(mut failing) = state.failing.lock() {
                    *failing = Some(format!(
                        "score log: writing to the store failed ({e}); entries are dropped until a write succeeds"
                    ));
                }
            }
        }
    }
    for done in flushes {
        let _ = done.send(());
    }
}
