//! qualify-train: training propensity models and publishing them as verified bundles.
//!
//! [`pipeline::train`] is `qualify train` as a library call: a [`pipeline::TrainConfig`], a
//! table, a model directory and a [`progress::Progress`] in, a published
//! [`pipeline::TrainedBundle`] out. Underneath, [`cv::train_logistic`] cross-validates an L2
//! logistic regression ([`logistic`]: Newton–Cholesky, or linfa-logistic when wide) on the training part, fits its calibrator on
//! out-of-fold scores and refits on the whole part; [`gbm_cv::train_gbm`] does the same for
//! gradient-boosted trees (qualify-gbm, which grows qualify-core's `TreeEnsemble` directly; [`gbm`]);
//! [`model`] compares the two for `auto`; [`export`] turns the kept model into its ONNX graph
//! (qualify-onnx's writers);
//! [`bundle_writer::BundleWriter`] writes the manifest and golden rows, checks the staged
//! bundle through qualify-runtime and only then publishes it. [`evaluate`] measures a bundle
//! on labelled data. Splits ([`split`]) are pure index functions. The fitting modules work on
//! qualify-core's encoded matrices; only the pipeline reads tables (labels, schema
//! inference: qualify-data).
//!
//! ```
//! use qualify_train::cv::{train_logistic, TrainOptions};
//! // Two features; converts when the first is positive (with some noise).
//! let x: Vec<f32> = (0..400).flat_map(|i| [((i % 20) as f32 - 9.5) / 10.0, (i % 3) as f32]).collect();
//! let y: Vec<bool> = (0..400).map(|i| (i % 20) >= 10 || i % 7 == 0).collect();
//! let trained = train_logistic(&x, 2, &y, &TrainOptions::default(), &|_, _| {}).unwrap();
//! assert!(trained.model.weights[0] > 0.0);
//! ```

pub mod bundle_writer;
pub mod calibration;
pub mod cv;
pub mod error;
pub mod evaluate;
pub mod export;
pub mod gbm;
pub mod gbm_cv;
pub mod history;
pub mod import;
pub mod logistic;
pub mod matrix;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod split;

pub use error::TrainError;
