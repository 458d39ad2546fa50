//! qualify-gbm: histogram gradient-boosted trees for binary log loss, in pure stable Rust,
//! producing qualify-core's [`TreeEnsemble`] directly.
//!
//! Why our own: qualify needs one thing from a GBM library (a binary classifier with sample
//! weights, monotone constraints and early stopping, as fast as LightGBM on a few cores) and
//! needs its trees in its own form (`x <= threshold` on `f32`). Writing the trees in that form
//! while growing them leaves no conversion to get wrong, and the techniques that make
//! LightGBM fast are few and well known:
//!
//! - quantile binning of every feature to `u8` bins once (`bins.rs`), with bin bounds that
//!   are the trees' `f32` thresholds;
//! - `f32` gradient pairs, `f64` histograms built row-wise over sparse rows that skip each
//!   feature's most frequent bin, the smaller child only, the larger by subtraction
//!   (`hist.rs`);
//! - leaf-wise growth with a leaf budget, rows partitioned per leaf in place (`tree.rs`);
//! - L2 on leaf values, a minimum hessian per leaf, monotone constraints by bound
//!   propagation (`split.rs`);
//! - threads (rayon) over feature blocks of every leaf and over rows, chosen so the trees
//!   never depend on the thread count; a fit on a pool of its own keeps those threads
//!   spinning between splits rather than asleep (`boost.rs`);
//! - for a caller that learns the tree count while trees grow (cross-validation refits on
//!   all rows while its folds still choose the count): a fit grown a tree at a time
//!   ([`Training`], [`Boosting`]) is the same as one fit of that many trees, and
//!   [`fit_watched`] reports the best iteration as it moves.
//!
//! Missing values are not supported (inputs must be finite: qualify's encoder imputes), nor
//! categorical splits (qualify one-hot encodes; one-hot columns cost almost nothing in sparse
//! rows).
//!
//! ```
//! use qualify_gbm::{fit, Data, Params};
//! // One feature; rows above 0.5 mostly convert.
//! let x: Vec<f32> = (0..400).map(|i| i as f32 / 400.0).collect();
//! let y: Vec<bool> = (0..400).map(|i| (i >= 200) != (i % 10 == 0)).collect();
//! let data = Data { x: &x, cols: 1, y: &y, weights: None };
//! let params = Params { max_leaves: 4, min_leaf_hessian: 5.0, ..Params::default() };
//! let fitted = fit(data, None, 20, &params, &[]).unwrap();
//! let e = &fitted.ensemble;
//! assert_eq!(e.trees.len(), 20);
//! assert!(e.raw_score(&[0.93]) > 0.0 && e.raw_score(&[0.07]) < 0.0);
//! // The booster's own training-time scores are the ensemble's.
//! for (row, s) in x.chunks(1).zip(&fitted.train_scores) {
//!     assert!((e.raw_score(row) - s).abs() < 1e-9);
//! }
//! ```
//!
//! [`TreeEnsemble`]: qualify_core::trees::TreeEnsemble

mod bins;
mod boost;
pub mod error;
mod hist;
mod params;
mod split;
mod tree;

pub use boost::{Boosting, Fitted, Training, fit, fit_watched};
pub use error::GbmError;
pub use params::{Data, Params};
