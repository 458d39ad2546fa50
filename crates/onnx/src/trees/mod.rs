//! Tree ensembles as one `TreeEnsembleClassifier` node (ai.onnx.ml): the writer and the
//! reader, both over [`qualify_core::trees::TreeEnsemble`].
//!
//! Why this shape: ONNX stays the interchange format, so the bundle a GBM writes opens in
//! onnxruntime and Netron like the logistic one, while the runtime reads the same node's
//! attributes back into the one tree type for its packed evaluator and TreeSHAP.
//!
//! ```text
//! features  f32 [N, F]
//!   TreeEnsembleClassifier(features) -> label i64 [N], scores f32 [N, 2]
//!   Slice(scores, starts=[1], ends=[2], axes=[1]) -> logit        f32 [N, 1]
//!   Sigmoid(logit)                                -> probability  f32 [N, 1]
//! ```
//!
//! The writer ([`tree_ensemble_to_onnx`]) writes the classifier the way binary exporters
//! (skl2onnx, onnxmltools) do: two class labels `[0, 1]`, every leaf weight on class id 0,
//! `post_transform = NONE`, no `base_values`. Both tract and onnxruntime then put the raw sum
//! of leaf weights in column 1 of `scores` (column 0 is `1 - sum` in tract, `-sum` in
//! onnxruntime: never read). Splits are `BRANCH_LEQ` (the "true" branch is the left child),
//! with `nodes_missing_value_tracks_true` set where a NaN goes left. The base score is added
//! to every leaf of tree 0 (tract rejects a two-value `base_values`); an ensemble without
//! trees is written as one single-leaf tree holding the base score. Node ids are the
//! [`qualify_core::trees::Tree`] node indices. Leaf weights are `f32`.
//!
//! The reader ([`read_tree_ensemble`]) accepts what tract and onnxruntime agree on, which
//! includes what the writer writes and what skl2onnx and onnxmltools write: a binary
//! classifier whose leaf weights are all on class id 0, `post_transform` `NONE`, no
//! `base_values`, `BRANCH_LEQ`/`BRANCH_LT` splits (a `BRANCH_LT` threshold `t` is read as the
//! largest `f32` below `t`, the same test), node ids `0..n` in each tree with node 0 the root.
//! Anything else is a [`crate::ReadError`] naming it. So `read(write(e))` is `e` with its base
//! score folded into tree 0 and its leaf values rounded to `f32` (the tests hold that).
//!
//! TreeSHAP needs each node's cover, which ONNX has no attribute for: it travels in the
//! model's `metadata_props` under [`crate::NODE_COVERS_KEY`], as JSON `[[cover of node 0 of
//! tree 0, …], [tree 1 …], …]` indexed like `nodes_nodeids`, written only when every node
//! has one ([`add_covers`], [`read_covers`]).

mod read;
mod write;

pub use read::{read_covers, read_tree_ensemble};
pub use write::{add_covers, add_logit_head, tree_ensemble_to_onnx};
