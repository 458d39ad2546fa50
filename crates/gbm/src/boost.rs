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

use crate::bins::{BinMapper, Binned, bin_training};
use crate::error::{GbmError, Part};
use crate::params::{Data, Params, constraint_signs};
use crate::split::Rules;
use crate::tree::{Grower, Grown};

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
    fit_watched(train, validation, max_trees, params, monotone, &|_| {})
}

/// [`fit`], calling `on_best` with the number of trees kept each time the best iteration
/// moves (with validation rows; the last call gives the trees the fit keeps). A fit's
/// final tree count is never below the last count reported: a caller waiting on it
/// (cross-validation's refit) can act on it before the fit ends.
///
/// # Errors
/// As [`fit`].
pub fn fit_watched(
    train: Data<'_>,
    validation: Option<Data<'_>>,
    max_trees: usize,
    params: &Params,
    monotone: &[(usize, Monotone)],
    on_best: &(dyn Fn(usize) + Sync),
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
    let run = || {
        let training = Training::binned(train, params, signs)?;
        boost(&training, validation, max_trees, on_best)
    };
    match params.threads {
        None => run(),
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|source| GbmError::Threads { threads, source })?
            .install(|| with_threads_awake(threads, run)),
    }
}

/// Training rows binned once, from which [`Boosting`] grows trees one at a time: for a
/// caller that learns how many trees it wants while the growing is under way
/// (cross-validation refits on all rows while its folds still choose the tree count).
///
/// The trees do not depend on how the growing is cut up: growing `n` trees one at a time
/// gives the trees [`fit`] gives with `max_trees = n` and no validation rows.
pub struct Training<'a> {
    train: Data<'a>,
    params: Params,
    signs: Vec<i8>,
    mapper: BinMapper,
    binned: Binned,
}

impl<'a> Training<'a> {
    /// Checks and bins `train` (on the current rayon pool: `params.threads` is not used).
    ///
    /// # Errors
    /// Bad parameters or rows (what and where: [`GbmError`]).
    pub fn new(
        train: Data<'a>,
        params: &Params,
        monotone: &[(usize, Monotone)],
    ) -> Result<Self, GbmError> {
        params.validate()?;
        train.check(Part::Training)?;
        let signs = constraint_signs(monotone, train.cols)?;
        Training::binned(train, params, signs)
    }

    /// Bins checked rows.
    fn binned(train: Data<'a>, params: &Params, signs: Vec<i8>) -> Result<Self, GbmError> {
        let (mapper, binned) = bin_training(&train, params.max_bins)?;
        Ok(Training {
            train,
            params: params.clone(),
            signs,
            mapper,
            binned,
        })
    }

    /// Starts boosting: no trees yet, every score at the base score.
    pub fn boosting(&self) -> Boosting<'_> {
        let rules = Rules {
            mapper: &self.mapper,
            signs: &self.signs,
            l2: self.params.l2,
            min_hessian: self.params.min_leaf_hessian,
        };
        let base = base_score(&self.train);
        let rows = self.train.rows();
        Boosting {
            training: self,
            grower: Grower::new(
                &self.binned,
                rules,
                self.params.max_leaves,
                self.params.learning_rate,
            ),
            base,
            scores: vec![base; rows],
            gh: vec![[0.0; 2]; rows],
            trees: Vec::new(),
            done: false,
        }
    }
}

impl std::fmt::Debug for Training<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Training")
            .field("rows", &self.train.rows())
            .field("cols", &self.train.cols)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Trees grown one at a time on a [`Training`]'s rows, without validation rows.
pub struct Boosting<'t> {
    training: &'t Training<'t>,
    grower: Grower<'t>,
    base: f64,
    /// The training rows' raw scores under `trees`.
    scores: Vec<f64>,
    gh: Vec<[f32; 2]>,
    trees: Vec<Tree>,
    /// A tree found no split: the model can no longer change.
    done: bool,
}

impl std::fmt::Debug for Boosting<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Boosting")
            .field("training", self.training)
            .field("trees", &self.trees.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Boosting<'_> {
    /// Trees grown so far.
    pub fn trees(&self) -> usize {
        self.trees.len()
    }

    /// Grows one more tree; `false` (and no tree) once a tree finds no split, after which
    /// the model can no longer change.
    pub fn grow(&mut self) -> bool {
        match self.step() {
            Some(grown) => {
                self.trees.push(grown.tree);
                true
            }
            None => false,
        }
    }

    /// Grows the next tree and adds its leaves to the training scores, leaving the tree to
    /// the caller; `None` once a tree finds no split.
    fn step(&mut self) -> Option<Grown> {
        if self.done {
            return None;
        }
        gradients(&self.training.train, &self.scores, &mut self.gh);
        let grown = self.grower.grow(&self.gh);
        if grown.leaves.len() < 2 {
            self.done = true;
            return None;
        }
        let order = self.grower.order();
        for &(begin, end, value) in &grown.leaves {
            for &r in &order[begin..end] {
                self.scores[r as usize] += value;
            }
        }
        Some(grown)
    }

    /// The trees grown, validated, with the training scores under them.
    ///
    /// # Errors
    /// Trees that fail qualify-core's validation (a bug in the grower).
    pub fn finish(self) -> Result<Fitted, GbmError> {
        let trees_grown = self.trees.len();
        fitted(
            self.training,
            self.base,
            self.trees,
            trees_grown,
            self.scores,
            Vec::new(),
        )
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

/// [`fit_watched`] on binned rows, stopping early on `validation` when given.
fn boost(
    training: &Training<'_>,
    validation: Option<Data<'_>>,
    max_trees: usize,
    on_best: &(dyn Fn(usize) + Sync),
) -> Result<Fitted, GbmError> {
    let mut boosting = training.boosting();
    let base = boosting.base;
    let mut watched = validation.map(|v| (training.mapper.bin_rows(v.x), vec![base; v.rows()], v));
    let mut losses = Vec::new();
    // (trees kept, their loss) and the training scores under them.
    let mut best: Option<(usize, f64)> = None;
    let mut best_scores = Vec::new();
    for _ in 0..max_trees {
        let Some(grown) = boosting.step() else {
            break;
        };
        let Some((bins, val_scores, v)) = watched.as_mut() else {
            boosting.trees.push(grown.tree);
            continue;
        };
        for (s, row) in val_scores.iter_mut().zip(bins.chunks_exact(v.cols)) {
            *s += grown.binned_value(row);
        }
        boosting.trees.push(grown.tree);
        let loss = log_loss(v, val_scores);
        losses.push(loss);
        let grown_so_far = boosting.trees.len();
        match best {
            Some((kept, b)) if loss >= b => {
                if grown_so_far - kept >= training.params.early_stopping_rounds {
                    break;
                }
            }
            _ => {
                best = Some((grown_so_far, loss));
                best_scores.clone_from(&boosting.scores);
                on_best(grown_so_far);
            }
        }
    }
    let Boosting {
        mut trees, scores, ..
    } = boosting;
    let trees_grown = trees.len();
    let train_scores = match best {
        Some((kept, _)) => {
            trees.truncate(kept);
            best_scores
        }
        None => scores,
    };
    fitted(training, base, trees, trees_grown, train_scores, losses)
}

/// The kept trees as a validated ensemble, with how training went.
fn fitted(
    training: &Training<'_>,
    base_score: f64,
    trees: Vec<Tree>,
    trees_grown: usize,
    train_scores: Vec<f64>,
    validation_loss: Vec<f64>,
) -> Result<Fitted, GbmError> {
    let ensemble = TreeEnsemble {
        n_features: training.train.cols,
        base_score,
        trees,
    };
    ensemble
        .validate()
        .map_err(|source| GbmError::InvalidTrees { source })?;
    Ok(Fitted {
        ensemble,
        trees_grown,
        train_scores,
        validation_loss,
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
