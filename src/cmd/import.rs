//! `qualify import`: wrap a binary ONNX classifier trained elsewhere (scikit-learn through
//! skl2onnx, LightGBM through onnxmltools) into a model bundle (docs/import.md).
//!
//! The imported model reads the schema's feature columns raw, in schema order
//! (`Encoder::raw`: numbers as they are, booleans as 0/1, missing values filled with the
//! median of `--data`), so its input width must be the number of feature columns, all numeric
//! or boolean. Its graph is rewritten into qualify's own graph contract (input `features`,
//! output `logit` in log-odds), which is what makes it fast and explainable:
//! - a `LinearClassifier` becomes the logistic graph (`MatMul` + `Add`) of its class-1
//!   coefficients and intercept;
//! - a `TreeEnsembleClassifier` keeps its node, with `post_transform` set to `NONE`, a
//!   one-value `base_values` folded into the leaves of tree 0, and `logit` sliced from its
//!   scores; node covers (for TreeSHAP) are the counts of `--data` rows reaching each node.
//!
//! Anything else in the graph besides the trailing `ZipMap`, `Cast` and `Identity` nodes
//! (a `Scaler`, the several classifiers and arithmetic of `CalibratedClassifierCV`, ...) is
//! refused with the operators named. Golden rows (the first 25 rows of `--data` and an
//! all-missing record) are scored by tract on the batch-encoded rows; loading the bundle
//! replays them through the JSON encoder and the native evaluator. The calibrator is the
//! identity: the propensity is the imported model's own probability.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use prost::Message;
use qualify_core::bundle::{
    self, Bundle, DataFingerprint, Golden, GoldenRow, Manifest, ModelInfo, sha256_hex,
};
use qualify_core::calibrate::Calibrator;
use qualify_core::encoder::Encoder;
use qualify_core::schema::Schema;
use qualify_core::trees::TreeEnsemble;
use qualify_onnx::trees::{add_covers, add_logit_head, read_tree_ensemble};
use qualify_onnx::{
    Dim, INPUT_NAME, LABEL_NAME, ML_DOMAIN, ModelBuilder, SCORES_NAME, logistic_to_onnx,
};
use qualify_runtime::onnx::OnnxModel;
use tract_onnx::pb;

use super::common::{InputArgs, read_table};

/// Number of `--data` rows kept as golden rows.
const GOLDEN_ROWS: usize = 25;
/// Nodes that may follow the classifier; they are dropped.
const DROPPED: [&str; 3] = ["ZipMap", "Cast", "Identity"];

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The ONNX classifier (binary; one float input `[N, F]`).
    #[arg(long)]
    pub onnx: PathBuf,
    /// Feature schema: the model's F inputs are its feature columns, in order (numeric or
    /// boolean).
    #[arg(long)]
    pub schema: PathBuf,
    /// Leads with the schema's feature columns: golden rows, fill values for missing cells,
    /// and the node covers of a tree ensemble.
    #[arg(long)]
    pub data: PathBuf,
    /// Model directory; the bundle is written as a new version inside it.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: ImportArgs) -> Result<()> {
    let schema = Schema::read(&args.schema)?;
    let table = read_table(&args.data, &args.input, Some(&schema))?;
    if table.rows() == 0 {
        bail!("{}: no rows", args.data.display());
    }
    let rows: Vec<usize> = (0..table.rows()).collect();
    let encoder = Encoder::raw(&schema, &table, &rows)
        .map_err(|e| anyhow!("{}: {e}", args.schema.display()))?;
    let x = encoder
        .encode_table(&table, &rows, encoder.reference_time())
        .map_err(|e| anyhow!("{}: {e}", args.data.display()))?;
    let bytes = std::fs::read(&args.onnx).with_context(|| args.onnx.display().to_string())?;
    let foreign = pb::ModelProto::decode(&*bytes)
        .map_err(|e| anyhow!("{}: not an ONNX model: {e}", args.onnx.display()))?;
    let converted =
        convert(&foreign, &encoder, &x).map_err(|e| anyhow!("{}: {e}", args.onnx.display()))?;
    let graph = OnnxModel::from_bytes(&converted.onnx)
        .map_err(|e| anyhow!("{}: the converted graph: {e}", args.onnx.display()))?;

    // Golden rows: the first rows of --data and an all-missing record, scored by tract on
    // the batch-encoded rows.
    let width = encoder.n_features();
    let kept = rows.len().min(GOLDEN_ROWS);
    let mut records: Vec<_> = (0..kept)
        .map(|r| {
            let mut record = table.row_json(r);
            record.retain(|k, _| encoder.columns.iter().any(|c| &c.name == k));
            record
        })
        .collect();
    let mut golden_x = x[..kept * width].to_vec();
    let mut missing = vec![0.0; width];
    encoder.encode_json(
        &serde_json::Map::new(),
        encoder.reference_time(),
        &mut missing,
    )?;
    records.push(serde_json::Map::new());
    golden_x.extend(missing);
    let calibrator = Calibrator::Identity;
    let logits = graph.tract_logits(&golden_x, records.len())?;
    let golden = Golden {
        as_of: encoder.reference_time(),
        rows: records
            .into_iter()
            .zip(logits)
            .map(|(record, logit)| GoldenRow {
                record,
                propensity: calibrator.apply(f64::from(logit)),
            })
            .collect(),
    };

    let data_bytes = std::fs::read(&args.data).with_context(|| args.data.display().to_string())?;
    let label_rate = schema
        .label()
        .filter(|l| table.column(l).is_some())
        .and_then(|l| qualify_data::label::read_labels(&table, l).ok())
        .map_or(0.0, |y| {
            y.iter().filter(|&&v| v).count() as f64 / y.len() as f64
        });
    let file_name = |p: &std::path::Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let created_at = chrono::Utc::now();
    let manifest = Manifest {
        format_version: bundle::BUNDLE_FORMAT_VERSION,
        name: file_name(&args.out),
        version: bundle::version_for(created_at),
        created_at,
        model: ModelInfo {
            kind: converted.kind.into(),
            hyperparameters: serde_json::json!({
                "imported_from": file_name(&args.onnx),
                "imported_sha256": sha256_hex(&bytes),
                "producer": format!("{} {}", foreign.producer_name, foreign.producer_version),
                "classifier": converted.classifier,
                "node_covers": converted.covers_note,
            }),
            onnx_input: INPUT_NAME.into(),
            onnx_output: qualify_onnx::LOGIT_NAME.into(),
            n_features: width,
            onnx_sha256: sha256_hex(&converted.onnx),
        },
        schema_hash: schema.hash(),
        schema,
        encoder,
        calibrator,
        training_data: DataFingerprint {
            file: file_name(&args.data),
            sha256: sha256_hex(&data_bytes),
            rows: table.rows(),
            label_rate,
            train_rows: 0,
            test_rows: 0,
            split: "none: imported model (--data gave golden rows, fill values and covers)".into(),
        },
        metrics: serde_json::json!({}),
        libraries: qualify_train::export::libraries(),
    };
    let dir = Bundle::write(&args.out, &manifest, &converted.onnx, &golden)?;
    let model = qualify_runtime::Model::load(&dir)?;
    eprintln!(
        "imported {} ({}, scored by {}, {}) -> {}",
        args.onnx.display(),
        converted.classifier,
        match model.graph().native_kind() {
            qualify_runtime::NativeKind::Trees => "the native evaluator",
            _ => "tract",
        },
        if model.can_explain() {
            "explainable"
        } else {
            "not explainable"
        },
        dir.display()
    );
    if let Some(why) = model.graph().not_native_reason() {
        eprintln!("note: tract scores this tree ensemble alone: {why}");
    }
    Ok(())
}

/// The imported model in qualify's graph contract.
struct Converted {
    onnx: Vec<u8>,
    kind: &'static str,
    classifier: &'static str,
    covers_note: Option<String>,
}

fn convert(proto: &pb::ModelProto, encoder: &Encoder, x: &[f32]) -> Result<Converted> {
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| anyhow!("the model has no graph"))?;
    let input = single_input(graph, encoder)?;
    let classifiers: Vec<&pb::NodeProto> = graph
        .node
        .iter()
        .filter(|n| {
            matches!(
                n.op_type.as_str(),
                "LinearClassifier" | "TreeEnsembleClassifier"
            )
        })
        .collect();
    let others: BTreeSet<&str> = graph
        .node
        .iter()
        .map(|n| n.op_type.as_str())
        .filter(|op| {
            !DROPPED.contains(op) && !matches!(*op, "LinearClassifier" | "TreeEnsembleClassifier")
        })
        .collect();
    let [classifier] = classifiers.as_slice() else {
        bail!(
            "qualify imports a graph with one LinearClassifier or TreeEnsembleClassifier; this one \
             has {} (as CalibratedClassifierCV writes: one per fold, averaged), with operators {}",
            classifiers.len(),
            operators(graph)
        );
    };
    if !others.is_empty() {
        let list: Vec<&str> = others.into_iter().collect();
        bail!(
            "unsupported operator(s) {} besides the {}: qualify imports a classifier that reads \
             the input directly (followed only by ZipMap, Cast or Identity); a preprocessing \
             step such as Scaler, or a calibration wrapper such as CalibratedClassifierCV, is \
             not supported (operators: {})",
            list.join(", "),
            classifier.op_type,
            operators(graph)
        );
    }
    if classifier.input.first() != Some(&input) {
        bail!(
            "the {} does not read the graph input `{input}` directly",
            classifier.op_type
        );
    }
    let a = Attrs(classifier);
    let labels = a
        .get("classlabels_ints")
        .or_else(|| a.get("classlabels_int64s"))
        .map(|l| l.ints.len())
        .or_else(|| a.get("classlabels_strings").map(|l| l.strings.len()))
        .unwrap_or(0);
    if labels != 2 {
        bail!(
            "the {} has {labels} class labels; qualify imports binary classifiers",
            classifier.op_type
        );
    }
    let post = a.string("post_transform").unwrap_or_else(|| "NONE".into());
    if post != "LOGISTIC" {
        bail!(
            "the {} has post_transform {post}; qualify imports classifiers whose probability \
             is the logistic of their score (post_transform LOGISTIC)",
            classifier.op_type
        );
    }
    let width = encoder.n_features();
    if classifier.op_type == "LinearClassifier" {
        linear(&a, width)
    } else {
        let ml_version = proto
            .opset_import
            .iter()
            .find(|o| o.domain == ML_DOMAIN)
            .map_or(1, |o| o.version);
        trees(classifier, ml_version, width, x)
    }
}

/// The name of the graph's one float `[N, F]` input, F being the encoder's width.
fn single_input(graph: &pb::GraphProto, encoder: &Encoder) -> Result<String> {
    let initialized: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<&pb::ValueInfoProto> = graph
        .input
        .iter()
        .filter(|i| !initialized.contains(i.name.as_str()))
        .collect();
    let [input] = inputs.as_slice() else {
        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        bail!("qualify imports a model with one input (a float matrix); this one has {names:?}");
    };
    let tensor = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(pb::type_proto::Value::TensorType(t)) => t,
        _ => bail!("input `{}` is not a tensor", input.name),
    };
    if tensor.elem_type != pb::tensor_proto::DataType::Float as i32 {
        bail!(
            "input `{}` has element type {}; qualify imports models reading floats (1)",
            input.name,
            tensor.elem_type
        );
    }
    use pb::tensor_shape_proto::dimension::Value;
    let dims = tensor
        .shape
        .as_ref()
        .map(|s| s.dim.as_slice())
        .unwrap_or_default();
    let width = match dims {
        [_, w] => match w.value {
            Some(Value::DimValue(w)) => usize::try_from(w).ok(),
            _ => None,
        },
        _ => None,
    };
    let expected = encoder.n_features();
    let names: Vec<&str> = encoder.columns.iter().map(|c| c.name.as_str()).collect();
    match width {
        Some(w) if w == expected => Ok(input.name.clone()),
        Some(w) => bail!(
            "the model reads {w} features, but the schema has {expected} feature columns ({})",
            names.join(", ")
        ),
        None => bail!(
            "input `{}` must have shape [N, F] with a fixed F (the schema's {expected} feature columns)",
            input.name
        ),
    }
}

/// The graph's distinct operators, sorted.
fn operators(graph: &pb::GraphProto) -> String {
    let ops: BTreeSet<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
    ops.into_iter().collect::<Vec<_>>().join(", ")
}

/// A binary `LinearClassifier` (class-1 row of the coefficients) as the logistic graph.
fn linear(a: &Attrs<'_>, width: usize) -> Result<Converted> {
    let coefficients = a
        .get("coefficients")
        .map(|c| c.floats.as_slice())
        .unwrap_or_default();
    let intercepts = a
        .get("intercepts")
        .map(|c| c.floats.as_slice())
        .unwrap_or_default();
    if coefficients.len() != 2 * width || intercepts.len() != 2 {
        bail!(
            "the LinearClassifier has {} coefficients and {} intercepts; qualify reads a binary \
             one with one row per class ({} and 2)",
            coefficients.len(),
            intercepts.len(),
            2 * width
        );
    }
    let onnx = logistic_to_onnx(
        &coefficients[width..],
        intercepts[1],
        env!("CARGO_PKG_VERSION"),
    )?;
    Ok(Converted {
        onnx,
        kind: "imported_linear",
        classifier: "LinearClassifier",
        covers_note: None,
    })
}

/// A binary `TreeEnsembleClassifier` with the logit exposed (see the module docs).
fn trees(node: &pb::NodeProto, ml_version: i64, width: usize, x: &[f32]) -> Result<Converted> {
    let a = Attrs(node);
    let ids = a
        .get("class_ids")
        .map(|c| c.ints.as_slice())
        .unwrap_or_default();
    if ids.iter().any(|&c| c != 0) {
        bail!(
            "the TreeEnsembleClassifier puts leaf weights on class ids other than 0; qualify \
             imports the binary layout (all weights on class 0)"
        );
    }
    let weights = a
        .get("class_weights")
        .map(|c| c.floats.clone())
        .unwrap_or_default();
    if weights.iter().all(|&w| w >= 0.0) {
        bail!(
            "every leaf weight of the TreeEnsembleClassifier is non-negative (a random forest?): \
             onnxruntime then reads them as probabilities, not as log-odds; not supported"
        );
    }
    let base = match a.get("base_values").map(|b| b.floats.as_slice()) {
        None | Some([]) => 0.0,
        Some([b]) => *b,
        Some(values) => bail!(
            "the TreeEnsembleClassifier has {} base_values; qualify folds one into the leaves",
            values.len()
        ),
    };
    if a.get("base_values_as_tensor").is_some() || a.get("nodes_values_as_tensor").is_some() {
        bail!("the TreeEnsembleClassifier stores values as tensors (`*_as_tensor`): not supported");
    }
    // Fold the base value into the first weight of each leaf of tree 0.
    let tree_ids = a
        .get("class_treeids")
        .map(|c| c.ints.as_slice())
        .unwrap_or_default();
    let node_ids = a
        .get("class_nodeids")
        .map(|c| c.ints.as_slice())
        .unwrap_or_default();
    let mut folded = weights.clone();
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
    attributes.push(qualify_onnx::attr::floats("class_weights", &folded));
    attributes.push(qualify_onnx::attr::string("post_transform", "NONE"));

    let mut model = ModelBuilder::new("qualify_import");
    model.input(INPUT_NAME, &[Dim::param("N"), Dim::Fixed(width)]);
    let edited = model.node_in_domain(
        ML_DOMAIN,
        ml_version,
        "TreeEnsembleClassifier",
        &[INPUT_NAME],
        &[LABEL_NAME, SCORES_NAME],
    );
    edited.attribute = attributes;
    let edited = edited.clone();
    add_logit_head(&mut model);
    let (covers, note) = match read_tree_ensemble(&edited, width, None) {
        Ok(ensemble) => (
            row_counts(&ensemble, x),
            Some(format!(
                "counts of the {} --data rows reaching each node",
                x.len() / width
            )),
        ),
        Err(_) => (Vec::new(), None),
    };
    if note.is_some() {
        add_covers(&mut model, &covers)?;
    }
    let onnx = model.to_bytes(env!("CARGO_PKG_VERSION"));
    Ok(Converted {
        onnx,
        kind: "imported_trees",
        classifier: "TreeEnsembleClassifier",
        covers_note: note,
    })
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

/// Attribute look-up by name.
struct Attrs<'a>(&'a pb::NodeProto);

impl<'a> Attrs<'a> {
    fn get(&self, name: &str) -> Option<&'a pb::AttributeProto> {
        self.0.attribute.iter().find(|a| a.name == name)
    }

    fn string(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }
}
