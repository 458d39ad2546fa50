//! qualify-onnx: qualify's ONNX graph contract, written, read and checked in one place.
//!
//! A model bundle's `model.onnx` is what the trainer writes, the importer produces from a
//! foreign export, and the runtime loads; all three meet here so that they cannot drift
//! apart. This crate owns:
//! - the contract's names ([`INPUT_NAME`], [`LOGIT_NAME`], [`PROBABILITY_NAME`], [`BATCH_DIM`],
//!   [`SCORES_NAME`], [`LABEL_NAME`]), the operator-set versions written, and the metadata key
//!   of the node covers ([`NODE_COVERS_KEY`]);
//! - the writer ([`ModelBuilder`], [`attr`]) and the one attribute reader ([`Attrs`]);
//! - the input-signature check ([`check_contract`], [`input_signature`]);
//! - the logistic graph ([`logistic_to_onnx`]) and the tree-ensemble graph, writer and reader,
//!   over qualify-core's one tree type ([`trees`]);
//! - the recognition of those two shapes in any graph ([`recognise`]), which is how the
//!   runtime scores trees natively and explains both;
//! - the conversion of scikit-learn / LightGBM exports into the contract ([`import`]).
//!
//! It works on the protobuf only (the prost types of [`tract_onnx::pb`], the very schema the
//! runtime decodes with); running graphs is the runtime's job.
//!
//! ```
//! use qualify_onnx::{Recognised, check_contract, decode, logistic_to_onnx, recognise};
//!
//! let bytes = logistic_to_onnx(&[0.5, -1.0], 0.25, "0.1.0")?;
//! let proto = decode(&bytes)?;
//! let signature = check_contract(&proto)?;
//! assert_eq!((signature.input.as_str(), signature.n_features), ("features", 2));
//! assert_eq!(
//!     recognise(&proto, &signature)?,
//!     Some(Recognised::Linear { weights: vec![0.5, -1.0], bias: 0.25 })
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A tree ensemble goes through the same contract and reads back as the ensemble it was
//! written from, with the base score folded into the first tree:
//!
//! ```
//! use qualify_core::trees::{Node, Tree, TreeEnsemble};
//! use qualify_onnx::{Recognised, check_contract, decode, recognise, trees};
//!
//! let leaf = |value| Node::Leaf { value, cover: Some(5.0) };
//! let split = Node::Split {
//!     feature: 1, threshold: 0.5, nan_left: true, left: 1, right: 2, cover: Some(10.0),
//! };
//! let ensemble = TreeEnsemble {
//!     n_features: 2,
//!     base_score: 0.0,
//!     trees: vec![Tree { nodes: vec![split, leaf(-1.0), leaf(2.0)] }],
//! };
//! let proto = decode(&trees::tree_ensemble_to_onnx(&ensemble, "0.1.0")?)?;
//! let signature = check_contract(&proto)?;
//! assert_eq!(recognise(&proto, &signature)?, Some(Recognised::Trees(ensemble)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attrs;
mod builder;
mod error;
pub mod import;
mod logistic;
mod recognise;
mod signature;
pub mod trees;

pub use attrs::Attrs;
pub use builder::{Dim, ModelBuilder, attr};
pub use error::{AttrError, ContractError, DimFound, ImportError, ReadError, WriteError};
pub use logistic::logistic_to_onnx;
pub use recognise::{Recognised, recognise};
pub use signature::{Signature, check_contract, decode, input_signature};
pub use tract_onnx::pb;

/// Name of the single graph input: the encoded feature matrix, f32 `[N, F]`.
pub const INPUT_NAME: &str = "features";
/// Name of the graph output holding the raw (uncalibrated) logit, f32 `[N, 1]`.
pub const LOGIT_NAME: &str = "logit";
/// Name of the graph output holding `sigmoid(logit)`, f32 `[N, 1]`.
pub const PROBABILITY_NAME: &str = "probability";
/// Name of the symbolic batch dimension.
pub const BATCH_DIM: &str = "N";
/// Name of a tree classifier's `[N, 2]` score output (column 1 is the raw log-odds).
pub const SCORES_NAME: &str = "scores";
/// Name of a tree classifier's label output (required by the operator, not a graph output).
pub const LABEL_NAME: &str = "label";
/// `metadata_props` key of the per-node covers (JSON array of arrays of numbers, one array
/// per tree, indexed by node id).
pub const NODE_COVERS_KEY: &str = "qualify.node_covers";
/// ONNX IR version written (ONNX 1.10+ reads it; tract does too).
pub const IR_VERSION: i64 = 8;
/// Default-domain (`ai.onnx`) operator set written.
pub const OPSET_VERSION: i64 = 13;
/// Domain of the traditional-ML operators (`TreeEnsembleClassifier`, ...).
pub const ML_DOMAIN: &str = "ai.onnx.ml";
/// `ai.onnx.ml` operator-set version written for the `TreeEnsembleClassifier` node.
pub const ML_OPSET_VERSION: i64 = 3;
/// `producer_name` written in every model.
pub const PRODUCER_NAME: &str = "qualify";

/// The node of `graph` that outputs `name`.
fn producer<'g>(graph: &'g pb::GraphProto, name: &str) -> Option<&'g pb::NodeProto> {
    graph
        .node
        .iter()
        .find(|n| n.output.iter().any(|o| o == name))
}
