//! The boosting loop for binary log loss, and early stopping.
//!
//! Scores start at the weighted log-odds of the training labels. Each round computes every
//! row's gradient pair (`p − y` and `p (1 − p)`, times the row's weight, stored as `f32`),
//! grows one tree on them, and adds each leaf's value to the scores of the leaf's rows, found
//! through the grower's row ranges rather than by walking the tree: these are the booster's
//! own training-time predictions, which a caller can hold the returned ensemble to.
//!
//! With validation rows, the trees also score them (on their bins) and their weighted log
//! loss is recorded after each tree; training stops once it has not improved for
//! `early_stopping_rounds` trees and keeps the trees up to the best one. A tree that finds no
//! split ends training (the model can no longer change; LightGBM does the same).

use std::sync::atomic::{AtomicBool, Ordering};

use qualify_core::schema::Monotone;
use qualify_core::trees::{Tree, TreeEnsemble};
use rayon::prelude::*;

use crate::bins::bin_training;
use crate::error::{GbmError, Part};
use crate::params::{Data, Params, constraint_signs};
use crate::split::Rules;
use crate::tree::Grower;

/// Rows per parallel task of the per-row loops (gradients).
const ROW_CHUNK: usize = 16384;

/// A fitted ensemble and how its training went.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The trees kept (up to the best iteration when early stopping ran), validated.
    pub ensemble: TreeEnsemble,
    /// Trees grown before training stopped.
    pub trees_grown: usize,
    /// The booster's raw scores (log-odds) of the training rows under the kept trees, as
    /// computed during training from the leaves' rows (module docs).
    pub train_scores: Vec<f64>,
    /// Weighted log loss of the validation rows after each grown tree (empty without them).
    pub validation_loss: Vec<f64>,
}

/// Fits up to `max_trees` trees on `train`; with `validation`, stops early on its log loss
/// and keeps the trees up to the best one. `monotone` constrains features by index.
///
/// # Errors
/// Bad parameters or rows (what and where: [`GbmError`]), or a thread pool that could not
/// start.
pub fn fit(
    train: Data<'_>,
    validation: Option<Data<'_>>,
    max_trees: usize,
    params: &Params,
    monotone: &[(usize, Monotone)],
) -> Result<Fitted, GbmError> {
    params.validate()?;
    train.check(Part::Training)?;
    if let Some(v) = validation {
        v.check(Part::Validation)?;
        if v.cols != train.cols {
            return Err(GbmError::ValidationWidth {
                got: v.cols,
                want: train.cols,
            });
        }
    }
    let signs = constraint_signs(monotone, train.cols)?;
    match params.threads {
        None => boost(train, validation, max_trees, params, &signs),
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|source| GbmError::Threads { threads, source })?
            .install(|| {
                with_threads_awake(threads, || {
                    boost(train, validation, max_trees, params, &signs)
                })
            }),
    }
}

/// Runs `work` on the current pool (one this fit owns, of `threads` threads) with the other
/// threads kept awake until it ends: each runs a task that takes the pool's queued work
/// ([`rayon::yield_now`]) or spins, instead of going to sleep.
///
/// Why: tree growth hands work to the other threads once per split (`tree.rs`), and an idle
/// rayon thread sleeps within microseconds, so every hand-over paid a futex wake-up and the
/// latency of waking a CPU (on a virtual machine, at times most of the split's time). A pool
/// the fit owns has nothing else to run, so spinning costs nothing another task wanted; a
/// fit on a shared pool (`threads: None`) does not do this.
fn with_threads_awake<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> R {
    let done = AtomicBool::new(false);
    let growing = rayon::current_thread_index();
    rayon::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(|_| {
                // The thread running `work` may pick this task up while it waits for
                // others: it must go back to `work` at once.
                if rayon::current_thread_index() == growing {
                    return;
                }
                while !done.load(Ordering::Acquire) {
                    if rayon::yield_now() != Some(rayon::Yield::Executed) {
                        std::hint::spin_loop();
                    }
                }
            });
        }
        // Ends the spinning however `work` ends (a panic included: the scope waits for its
        // tasks before it unwinds).
        let _done = SetOnDrop(&done);
        work()
    })
}

/// Sets its flag when dropped.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

fn boost(
    train: Data<'_>,
    validation: Option<Data<'_>>,
    max_trees: usize,
    params: &Params,
    signs: &[i8],
) -> Result<Fitted, GbmError> {
    let (mapper, binned) = bin_training(&train, params.max_bins)?;
    let base = base_score(&train);
    let n = train.rows();
    let mut scores = vec![base; n];
    let mut gh = vec![[0.0f32; 2]; n];
    let rules = Rules {
        mapper: &mapper,
        signs,
        l2: params.l2,
        min_hessian: params.min_leaf_hessian,
    };
    let mut grower = Grower::new(&binned, rules, params.max_leaves, params.learning_rate);
    let watched = validation.map(|v| (mapper.bin_rows(v.x), vec![base; v.rows()], v));
    let mut watched = watched;
    let mut trees: Vec<Tree> = Vec::new();
    let mut losses = Vec::new();
    // (trees kept, their loss) and the training scores under them.
    let mut best: Option<(usize, f64)> = None;
    let mut best_scores = Vec::new();
    for _ in 0..max_trees {
        gradients(&train, &scores, &mut gh);
        let grown = grower.grow(&gh);
        if grown.leaves.len() < 2 {
            break;
        }
        let order = grower.order();
        for &(begin, end, value) in &grown.leaves {
            for &r in &order[begin..end] {
                scores[r as usize] += value;
            }
        }
        let Some((bins, val_scores, v)) = watched.as_mut() else {
            trees.push(grown.tree);
            continue;
        };
        for (s, row) in val_scores.iter_mut().zip(bins.chunks_exact(v.cols)) {
            *s += grown.binned_value(row);
        }
        trees.push(grown.tree);
        let loss = log_loss(v, val_scores);
        losses.push(loss);
        match best {
            Some((kept, b)) if loss >= b => {
                if trees.len() - kept >= params.early_stopping_rounds {
                    break;
                }
            }
            _ => {
                best = Some((trees.len(), loss));
                best_scores.clone_from(&scores);
            }
        }
    }
    let trees_grown = trees.len();
    let train_scores = match best {
        Some((kept, _)) => {
            trees.truncate(kept);
            best_scores
        }
        None => scores,
    };
    let ensemble = TreeEnsemble {
        n_features: train.cols,
        base_score: base,
        trees,
    };
    ensemble
        .validate()
        .map_err(|source| GbmError::InvalidTrees { source })?;
    Ok(Fitted {
        ensemble,
        trees_grown,
        train_scores,
        validation_loss: losses,
    })
}

/// The weighted log-odds of the labels (checked: both classes have weight).
fn base_score(data: &Data<'_>) -> f64 {
    let (mut pos, mut all) = (0.0, 0.0);
    for (i, &y) in data.y.iter().enumerate() {
        let w = data.weight(i);
        all += w;
        if y {
            pos += w;
        }
    }
    let p = pos / all;
    (p / (1.0 - p)).ln()
}

/// Every row's `[g, h]` at `scores` (module docs).
fn gradients(data: &Data<'_>, scores: &[f64], gh: &mut [[f32; 2]]) {
    gh.par_chunks_mut(ROW_CHUNK)
        .zip(scores.par_chunks(ROW_CHUNK))
        .enumerate()
        .for_each(|(c, (gh, scores))| {
            let at = c * ROW_CHUNK;
            for (i, (out, &z)) in gh.iter_mut().zip(scores).enumerate() {
                let p = 1.0 / (1.0 + (-z).exp());
                let y = if data.y[at + i] { 1.0 } else { 0.0 };
                let w = data.weight(at + i);
                *out = [((p - y) * w) as f32, (p * (1.0 - p) * w) as f32];
            }
        });
}

/// Weighted mean log loss of raw scores `z`, computed from the log-odds without forming
/// probabilities (no overflow, no `log(0)`).
pub(crate) fn log_loss(data: &Data<'_>, z: &[f64]) -> f64 {
    let softplus = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
    let (mut sum, mut all) = (0.0, 0.0);
    for (i, (&y, &z)) in data.y.iter().zip(z).enumerate() {
        let w = data.weight(i);
        sum += w * softplus(if y { -z } else { z });
        all += w;
    }
    sum / all
}

#[cfg(test)]
mod tests;
