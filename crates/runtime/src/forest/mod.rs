//! Native evaluation of tree ensembles: packed scoring ([`flat`]) and exact TreeSHAP
//! ([`shap`]), both over qualify-core's one tree type, [`qualify_core::trees::TreeEnsemble`].
//!
//! Why: tract 0.23 evaluates tree ensembles node by node through a generic interpreter
//! (hundreds of µs per row for 100 trees). The runtime reads the `TreeEnsembleClassifier`
//! node back into a `TreeEnsemble` (qualify-onnx's reader, which accepts only what tract and
//! onnxruntime agree on), packs it into a [`flat::FlatForest`] for scoring and lays it
//! out as a [`shap::TreeShap`] for explanations. tract still loads and optimises the whole graph, and
//! [`crate::onnx::OnnxModel`] checks at load that both evaluators agree.

pub mod flat;
pub mod shap;
