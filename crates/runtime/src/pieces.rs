//! Batch work in pieces, on every core.
//!
//! `qualify score` ([`Model::score_pieces`], [`Model::explain_pieces`]) and the Python
//! package's `Model.score` / `Model.explain` cut a table into pieces of [`PIECE_ROWS`] rows
//! and hand them to [`in_order`]: each piece is typed, encoded
//! and scored on its own (so no typed copy of a million-row table ever exists at once) and
//! the pieces run on one thread per core. Results come back in row order, and the first
//! error in row order wins, so the row an error names is the table's first bad one whatever
//! the threads' timing.

use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use qualify_core::value::{CellTable, RawTable};

use crate::{ExplainedTable, Model, RuntimeError};

/// Rows per piece: large enough that a piece's fixed costs (a typed copy, a scoring call)
/// vanish, small enough to spread a table over the cores and keep each piece's memory in
/// the caches' reach.
pub const PIECE_ROWS: usize = 16_384;

/// The row ranges of `rows` rows cut into pieces of at most `piece_rows` (at least 1).
pub fn pieces(rows: usize, piece_rows: usize) -> Vec<Range<usize>> {
    let step = piece_rows.max(1);
    (0..rows)
        .step_by(step)
        .map(|start| start..(start + step).min(rows))
        .collect()
}

/// The number of threads [`in_order`] uses for `threads` (default: one per core), never
/// more than there are items.
pub fn thread_count(threads: Option<usize>, items: usize) -> usize {
    threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, items.max(1))
}

/// `f` of every item, in item order, computed on [`thread_count`] threads. The first error
/// in item order is returned; once a piece has failed, no thread starts a later one (it
/// could not change the answer).
///
/// # Errors
/// The first error of `f` in item order.
pub fn in_order<I: Sync, T: Send, E: Send>(
    items: &[I],
    threads: Option<usize>,
    f: impl Fn(&I) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E> {
    let threads = thread_count(threads, items.len());
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Vec<Mutex<Option<Result<T, E>>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = f(item);
                    let failed = result.is_err();
                    if let Ok(mut slot) = done[i].lock() {
                        *slot = Some(result);
                    }
                    if failed {
                        next.fetch_max(items.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let mut out = Vec::with_capacity(items.len());
    for (item, slot) in items.iter().zip(done) {
        match slot.into_inner().ok().flatten() {
            Some(result) => out.push(result?),
            // Only items after a failed one are skipped, and that error was returned above;
            // computing a missing result here keeps the function total all the same.
            None => out.push(f(item)?),
        }
    }
    Ok(out)
}

/// Why a table scored in pieces failed: its reader's error, or the runtime's (a cell's row
/// counted in the whole table).
#[derive(Debug, thiserror::Error)]
pub enum PieceError<E> {
    #[error(transparent)]
    Read(E),
    #[error(transparent)]
    Runtime(RuntimeError),
}

impl Model {
    /// Calibrated propensities of a table of `rows` rows that `read` hands out a piece at a
    /// time ([`Model::score_table`] of each piece of [`PIECE_ROWS`], on [`thread_count`]
    /// threads), in row order.
    ///
    /// # Errors
    /// The first error in row order: `read`'s, or the runtime's with its row in the table.
    pub fn score_pieces<T: CellTable, E: Send>(
        &self,
        rows: usize,
        as_of: Option<DateTime<Utc>>,
        read: impl Fn(Range<usize>) -> Result<T, E> + Sync,
    ) -> Result<Vec<f64>, PieceError<E>> {
        let scored = in_order(&pieces(rows, PIECE_ROWS), None, |piece| {
            let table = read(piece.clone()).map_err(PieceError::Read)?;
            self.score_table(&table, as_of)
                .map_err(|e| PieceError::Runtime(e.after_rows(piece.start)))
        })?;
        Ok(scored.concat())
    }

    /// [`Model::explain_table`] of a table of `rows` rows that `read` hands out a piece at a
    /// time, as [`Model::score_pieces`] scores one.
    ///
    /// # Errors
    /// As [`Model::score_pieces`].
    pub fn explain_pieces<E: Send>(
        &self,
        rows: usize,
        as_of: DateTime<Utc>,
        top: usize,
        read: impl Fn(Range<usize>) -> Result<RawTable, E> + Sync,
    ) -> Result<ExplainedTable, PieceError<E>> {
        let explained = in_order(&pieces(rows, PIECE_ROWS), None, |piece| {
            let table = read(piece.clone()).map_err(PieceError::Read)?;
            self.explain_table(&table, as_of, top)
                .map_err(|e| PieceError::Runtime(e.after_rows(piece.start)))
        })?;
        let mut all = ExplainedTable::empty(top);
        for piece in explained {
            all.append(piece);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_rows_in_order() {
        assert_eq!(pieces(0, 4), Vec::<Range<usize>>::new());
        assert_eq!(pieces(10, 4), vec![0..4, 4..8, 8..10]);
        assert_eq!(pieces(8, 4), vec![0..4, 4..8]);
        assert_eq!(pieces(3, 0), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn results_come_back_in_item_order_on_any_number_of_threads() {
        let items: Vec<u64> = (0..1_000).collect();
        let serial: Vec<u64> = items.iter().map(|i| i * i).collect();
        for threads in [1, 2, 3, 8] {
            let parallel = in_order(&items, Some(threads), |i| Ok::<_, ()>(i * i));
            assert_eq!(parallel, Ok(serial.clone()), "{threads} threads");
        }
    }

    #[test]
    fn the_first_error_in_item_order_wins() {
        let items: Vec<usize> = (0..200).collect();
        for threads in [1, 2, 4] {
            // Later items fail faster, so a thread may see a later error first.
            let got = in_order(&items, Some(threads), |&i| {
                if i >= 50 {
                    if i == 50 {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    Err(i)
                } else {
                    Ok(i)
                }
            });
            assert_eq!(got, Err(50), "{threads} threads");
        }
    }

    #[test]
    fn threads_default_to_the_cores_and_never_exceed_the_items() {
        assert_eq!(thread_count(Some(8), 3), 3);
        assert_eq!(thread_count(Some(0), 3), 1);
        assert_eq!(thread_count(Some(2), 0), 1);
        assert!(thread_count(None, 1_000) >= 1);
    }
}
