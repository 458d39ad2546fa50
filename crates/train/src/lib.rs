//! qualify-train: fitting propensity models and writing them as bundles.
//!
//! [`cv::train_logistic`] cross-validates an L2 logistic regression (linfa-logistic) on the
//! training part, fits its calibrator on out-of-fold scores and refits on the whole part;
//! [`gbm_cv::train_gbm`] does the same for gradient-boosted trees (forust-ml, converted to
//! qualify-core's `TreeEnsemble` by [`gbm`]); [`model`] compares the two for `--model auto`;
//! [`export::write_bundle`] writes the ONNX graph (qualify-onnx's writers), the manifest and golden rows. Splits
//! ([`split`]) are pure index functions. No polars here: inputs are qualify-core's encoded
//! matrices.
//!
//! ```
//! use qualify_train::cv::{train_logistic, TrainOptions};
//! // Two features; converts when the first is positive (with some noise).
//! let x: Vec<f32> = (0..400).flat_map(|i| [((i % 20) as f32 - 9.5) / 10.0, (i % 3) as f32]).collect();
//! let y: Vec<bool> = (0..400).map(|i| (i % 20) >= 10 || i % 7 == 0).collect();
//! let trained = train_logistic(&x, 2, &y, &TrainOptions::default(), &|_, _| {}).unwrap();
//! assert!(trained.model.weights[0] > 0.0);
//! ```

pub mod calibration;
pub mod cv;
pub mod error;
pub mod export;
pub mod gbm;
pub mod gbm_cv;
pub mod logistic;
pub mod matrix;
pub mod model;
pub mod split;

pub use error::TrainError;
