//! Converting a binary classifier exported elsewhere (scikit-learn through skl2onnx, LightGBM
//! through onnxmltools) into qualify's graph contract (docs/import.md).
//!
//! Why convert rather than run the foreign graph as it is: qualify's contract (input
//! `features`, output `logit` in log-odds) is what lets the runtime score natively, calibrate
//! outside the graph and explain. So:
//! - a `LinearClassifier` becomes the logistic graph (`MatMul` + `Add`) of its class-1
//!   coefficients and intercept;
//! - a `TreeEnsembleClassifier` keeps its node, with `post_transform` set to `NONE`, a
//!   one-value `base_values` folded into the leaves of tree 0, and `logit` sliced from its
//!   scores; when the node reads as a [`qualify_core::trees::TreeEnsemble`], the node covers
//!   (for TreeSHAP) are the counts of the given rows reaching each node.
//!
//! Anything else in the graph besides trailing `ZipMap`, `Cast` and `Identity` nodes (a
//! `Scaler`, the several classifiers and arithmetic of `CalibratedClassifierCV`, ...) is
//! refused with the operators named.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use qualify_core::trees::TreeEnsemble;
use tract_onnx::pb;

use crate::attrs::Attrs;
use crate::builder::{Dim, ModelBuilder, attr};
use crate::error::ImportError;
use crate::signature::{decode, input_signature};
use crate::trees::{add_covers, add_logit_head, read_tree_ensemble};
use crate::{
    INPUT_NAME, LABEL_NAME, ML_DOMAIN, SCORES_NAME, error::ContractError, logistic_to_onnx,
};

/// Nodes that may follow the classifier; they are dropped.
const DROPPED: [&str; 3] = ["ZipMap", "Cast", "Identity"];

/// The classifier operator of an imported graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classifier {
    /// `LinearClassifier` (e.g. scikit-learn's `LogisticRegression`).
    Linear,
    /// `TreeEnsembleClassifier` (e.g. `GradientBoostingClassifier`, `LGBMClassifier`).
    TreeEnsemble,
}

impl Classifier {
    /// The ONNX operator name.
    pub fn op_type(self) -> &'static str {
        match self {
            Classifier::Linear => "LinearClassifier",
            Classifier::TreeEnsemble => "TreeEnsembleClassifier",
        }
    }

    fn of(op_type: &str) -> Option<Classifier> {
        [Classifier::Linear, Classifier::TreeEnsemble]
            .into_iter()
            .find(|c| c.op_type() == op_type)
    }
}

impl fmt::Display for Classifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.op_type())
    }
}

/// A foreign model in qualify's graph contract.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The rewritten graph.
    pub onnx: Vec<u8>,
    pub classifier: Classifier,
    /// The foreign model's `producer_name` and `producer_version`.
    pub producer: String,
    /// For a tree ensemble the reader reads: the number of rows its node covers were counted
    /// on (`None`: no covers, so it cannot be explained).
    pub covers_rows: Option<usize>,
}

/// Converts the ONNX model in `bytes`, whose input columns are `columns` (in order), into
/// qualify's graph contract. `x` holds rows of those columns, row-major, as the model reads
/// them; a tree ensemble's node covers are counted on them.
///
/// # Errors
/// An [`ImportError`] naming what is not supported (operators, attributes, input shape).
pub fn convert(
    bytes: &[u8],
    columns: &[&str],
    x: &[f32],
    producer_version: &str,
) -> Result<Imported, ImportError> {
    let proto = decode(bytes)?;
    let graph = proto.graph.as_ref().ok_or(ContractError::NoGraph)?;
    let signature = input_signature(graph)?;
    let width = columns.len();
    if signature.n_features != width {
        return Err(ImportError::Width {
            model: signature.n_features,
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        });
    }
    let operators: BTreeSet<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
    let list = |ops: &BTreeSet<&str>| ops.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let classifiers: Vec<(&pb::NodeProto, Classifier)> = graph
        .node
        .iter()
        .filter_map(|n| Some((n, Classifier::of(&n.op_type)?)))
        .collect();
    let [(node, classifier)] = classifiers.as_slice() else {
        return Err(ImportError::ClassifierCount {
            count: classifiers.len(),
            operators: list(&operators),
        });
    };
    let classifier = *classifier;
    let unsupported: BTreeSet<&str> = operators
        .iter()
        .copied()
        .filter(|op| !DROPPED.contains(op) && Classifier::of(op).is_none())
        .collect();
    if !unsupported.is_empty() {
        return Err(ImportError::Operators {
            classifier,
            unsupported: list(&unsupported),
            operators: list(&operators),
        });
    }
    if node.input.first() != Some(&signature.input) {
        return Err(ImportError::NotOnInput {
            classifier,
            input: signature.input,
        });
    }
    let a = Attrs::of(node);
    let count = a.class_label_count();
    if count != 2 {
        return Err(ImportError::ClassLabels { classifier, count });
    }
    let post = a
        .string("post_transform")
        .unwrap_or_else(|| "NONE".to_owned());
    if post != "LOGISTIC" {
        return Err(ImportError::PostTransform {
            classifier,
            found: post,
        });
    }
    let (onnx, covers_rows) = match classifier {
        Classifier::Linear => (linear(&a, width, producer_version)?, None),
        Classifier::TreeEnsemble => {
            let ml_version = proto
                .opset_import
                .iter()
                .find(|o| o.domain == ML_DOMAIN)
                .map_or(1, |o| o.version);
            trees(node, ml_version, width, x, producer_version)?
        }
    };
    Ok(Imported {
        onnx,
        classifier,
        producer: format!("{} {}", proto.producer_name, proto.producer_version),
        covers_rows,
    })
}

/// A binary `LinearClassifier` (class-1 row of the coefficients) as the logistic graph.
fn linear(a: &Attrs<'_>, width: usize, producer_version: &str) -> Result<Vec<u8>, ImportError> {
    let coefficients = a.floats("coefficients").unwrap_or_default();
    let intercepts = a.floats("intercepts").unwrap_or_default();
    if coefficients.len() != 2 * width || intercepts.len() != 2 {
        return Err(ImportError::LinearShape {
            coefficients: coefficients.len(),
            intercepts: intercepts.len(),
            expected: 2 * width,
        });
    }
    Ok(logistic_to_onnx(
        &coefficients[width..],
        intercepts[1],
        producer_version,
    )?)
}

/// A binary `TreeEnsembleClassifier` with the logit exposed (see the module docs), and the
/// number of rows its covers were counted on.
fn trees(
    node: &pb::NodeProto,
    ml_version: i64,
    width: usize,
    x: &[f32],
    producer_version: &str,
) -> Result<(Vec<u8>, Option<usize>), ImportError> {
    let a = Attrs::of(node);
    if let Some(&class_id) = a
        .ints("class_ids")
        .unwrap_or_default()
        .iter()
        .find(|&&c| c != 0)
    {
        return Err(ImportError::WeightClass { class_id });
    }
    let weights = a.floats("class_weights").unwrap_or_default();
    if weights.iter().all(|&w| w >= 0.0) {
        return Err(ImportError::NonNegativeWeights);
    }
    let base = match a.floats("base_values") {
        None | Some([]) => 0.0,
        Some([b]) => *b,
        Some(values) => {
            return Err(ImportError::BaseValues {
                count: values.len(),
            });
        }
    };
    for name in ["base_values_as_tensor", "nodes_values_as_tensor"] {
        if a.get(name).is_some() {
            return Err(ImportError::AsTensor {
                name: name.to_owned(),
            });
        }
    }
    // Fold the base value into the first weight of each leaf of tree 0.
    let tree_ids = a.ints("class_treeids").unwrap_or_default();
    let node_ids = a.ints("class_nodeids").unwrap_or_default();
    let mut folded = weights.to_vec();
    let mut seen = HashSet::new();
    for (k, w) in folded.iter_mut().enumerate() {
        if tree_ids.get(k) == Some(&0) && seen.insert(node_ids.get(k)) {
            *w += base;
        }
    }
    let mut attributes: Vec<pb::AttributeProto> = node
        .attribute
        .iter()
        .filter(|a| {
            !matches!(
                a.name.as_str(),
                "base_values" | "post_transform" | "class_weights"
            )
        })
        .cloned()
        .collect();
    attributes.push(attr::floats("class_weights", &folded));
    attributes.push(attr::string("post_transform", "NONE"));

    let mut model = ModelBuilder::new("qualify_import");
    model.input(INPUT_NAME, &[Dim::batch(), Dim::Fixed(width)]);
    let edited = model.node_in_domain(
        ML_DOMAIN,
        ml_version,
        "TreeEnsembleClassifier",
        &[INPUT_NAME],
        &[LABEL_NAME, SCORES_NAME],
    );
    edited.attribute = attributes;
    // A node the reader does not read is still imported: tract scores it alone.
    let ensemble = read_tree_ensemble(edited, width, None).ok();
    add_logit_head(&mut model);
    let rows = match &ensemble {
        Some(ensemble) => {
            add_covers(&mut model, &row_counts(ensemble, x))?;
            Some(x.len() / width)
        }
        None => None,
    };
    Ok((model.to_bytes(producer_version), rows))
}

/// How many rows of `x` reach each node, by tree and node id.
fn row_counts(ensemble: &TreeEnsemble, x: &[f32]) -> Vec<Vec<f64>> {
    let mut counts: Vec<Vec<f64>> = ensemble
        .trees
        .iter()
        .map(|t| vec![0.0; t.nodes.len()])
        .collect();
    for row in x.chunks_exact(ensemble.n_features) {
        for (tree, count) in ensemble.trees.iter().zip(&mut counts) {
            for i in tree.path(row) {
                count[i] += 1.0;
            }
        }
    }
    counts
}
