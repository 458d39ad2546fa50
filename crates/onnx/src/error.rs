//! The errors of qualify-onnx, one enum per job: writing a graph ([`WriteError`]), checking
//! a graph against the scoring contract ([`ContractError`]), reading a node's attributes
//! ([`AttrError`]), reading a tree ensemble or the shape of a graph ([`ReadError`]), and
//! converting a foreign graph ([`ImportError`]).
//!
//! Every message names what is wrong and where (the attribute, the tree and node, the
//! input). A variant that wraps another error includes that error's message in its own and
//! does not also return it as `source()`, so printing the chain never repeats it.

use qualify_core::trees::TreeError;

/// Why a graph could not be written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WriteError {
    /// A model needs at least one feature.
    #[error("cannot write a model with no features")]
    NoFeatures,
    /// A logistic weight is NaN or infinite.
    #[error("weight {index} is not finite ({value})")]
    NonFiniteWeight { index: usize, value: f32 },
    /// The logistic bias is NaN or infinite.
    #[error("bias is not finite ({value})")]
    NonFiniteBias { value: f32 },
    /// An initializer's data does not match its declared shape (a bug in the caller).
    #[error("initializer `{name}` has {len} values but its shape {dims:?} needs {expected}")]
    InitializerShape {
        name: String,
        dims: Vec<usize>,
        expected: usize,
        len: usize,
    },
    /// The ensemble fails [`qualify_core::trees::TreeEnsemble::validate`].
    #[error("invalid tree ensemble: {error}")]
    InvalidEnsemble { error: TreeError },
    /// A leaf value (base score folded in) that `f32` cannot hold.
    #[error("tree {tree}: leaf {node} value {value} overflows f32")]
    LeafOverflow {
        tree: usize,
        node: usize,
        value: f64,
    },
    /// A node cover that is not a finite, non-negative number.
    #[error("tree {tree}: node {node} has cover {cover}")]
    BadCover {
        tree: usize,
        node: usize,
        cover: f64,
    },
}

/// Why a graph does not meet qualify's scoring contract: one f32 `[N, F]` input with a fixed
/// `F`, a `logit` output, and every graph output produced by something.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContractError {
    /// The bytes are not an ONNX protobuf.
    #[error("not a valid ONNX protobuf: {error}")]
    Decode { error: prost::DecodeError },
    #[error("the model has no graph")]
    NoGraph,
    /// Not exactly one input besides the initializers.
    #[error("expected exactly one graph input (an f32 [N, F] matrix), found {names:?}")]
    InputCount { names: Vec<String> },
    #[error("input `{name}` has no tensor type")]
    InputNotTensor { name: String },
    #[error("input `{name}` has element type {elem_type}, expected FLOAT (1)")]
    InputType { name: String, elem_type: i32 },
    #[error("input `{name}` has rank {rank}, expected 2 ([N, F])")]
    InputRank { name: String, rank: usize },
    /// The second dimension is symbolic, missing or not positive.
    #[error("input `{name}` must have a fixed, positive width F, found {found}")]
    InputWidth { name: String, found: DimFound },
    /// A graph output no node, input or initializer produces (tract panics on one).
    #[error("graph output `{name}` is not produced by any node")]
    DanglingOutput { name: String },
    #[error("no `{}` output (outputs: {outputs:?})", crate::LOGIT_NAME)]
    NoLogit { outputs: Vec<String> },
}

/// What a graph declares for a dimension that should be a fixed size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DimFound {
    Value(i64),
    Symbol(String),
    Unset,
}

impl std::fmt::Display for DimFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DimFound::Value(v) => write!(f, "{v}"),
            DimFound::Symbol(s) => write!(f, "the symbol `{s}`"),
            DimFound::Unset => f.write_str("no size"),
        }
    }
}

/// A node attribute that is missing or malformed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AttrError {
    #[error("{op}: attribute {name} is missing or empty")]
    Missing { op: String, name: String },
    #[error("{op}: attribute {name} has {len} values, expected {expected}")]
    Length {
        op: String,
        name: String,
        len: usize,
        expected: usize,
    },
    /// An id or index attribute holding a negative or too large value.
    #[error("{op}: attribute {name} holds {value}, not an index")]
    Index {
        op: String,
        name: String,
        value: i64,
    },
}

/// Why a `TreeEnsembleClassifier` node cannot be read into a
/// [`qualify_core::trees::TreeEnsemble`] (the runtime then leaves the graph to tract), or
/// why a graph's node covers cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Attr(#[from] AttrError),
    #[error("{count} class labels (qualify reads binary classifiers)")]
    ClassLabels { count: usize },
    #[error("post_transform {found} (NONE expected)")]
    PostTransform { found: String },
    #[error("attribute {name} is not supported")]
    Unsupported { name: String },
    #[error("a leaf weight is on class id {class_id} (only class id 0 is read)")]
    WeightClass { class_id: i64 },
    /// Tree ids are not `0..n`.
    #[error("tree ids are not 0..n: no node has tree id {missing}")]
    TreeIds { missing: usize },
    /// Node ids of a tree are not `0..n`.
    #[error("tree {tree}: node ids are not 0..n (found {found} after {count} nodes)")]
    NodeIds {
        tree: usize,
        found: usize,
        count: usize,
    },
    #[error("tree {tree} node {node} has mode {mode}")]
    Mode {
        tree: usize,
        node: usize,
        mode: String,
    },
    #[error("tree {tree} node {node}: BRANCH_LT against -inf")]
    LessThanNegInfinity { tree: usize, node: usize },
    #[error("a class weight is on tree {tree} node {node}, which is not a leaf")]
    WeightOffLeaf { tree: usize, node: usize },
    #[error(
        "metadata {} is not a JSON array of arrays of numbers: {error}",
        crate::NODE_COVERS_KEY
    )]
    CoversJson { error: serde_json::Error },
    #[error("the node covers have no entry for tree {tree} node {node}")]
    MissingCover { tree: usize, node: usize },
    #[error("the node covers hold {found} trees, the ensemble has {expected}")]
    CoverTrees { found: usize, expected: usize },
    #[error("`{}` is not column 1 of the classifier's scores", crate::LOGIT_NAME)]
    NotColumnOne,
    #[error("the trees are invalid: {error}")]
    Invalid { error: TreeError },
}

/// Why a foreign graph cannot be converted into qualify's contract (docs/import.md).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Contract(#[from] ContractError),
    #[error(transparent)]
    Attr(#[from] AttrError),
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The input width differs from the number of feature columns.
    #[error(
        "the model reads {model} features, but the schema has {} feature columns ({})",
        columns.len(),
        columns.join(", ")
    )]
    Width { model: usize, columns: Vec<String> },
    /// Not exactly one classifier node.
    #[error(
        "qualify imports a graph with one LinearClassifier or TreeEnsembleClassifier; this one \
         has {count} (as CalibratedClassifierCV writes: one per fold, averaged), with operators \
         {}",
        operators.join(", ")
    )]
    ClassifierCount {
        count: usize,
        operators: Vec<String>,
    },
    /// Operators other than the classifier and the droppable `ZipMap`, `Cast`, `Identity`.
    #[error(
        "unsupported operator(s) {} besides the {classifier}: qualify imports a classifier that \
         reads the input directly (followed only by ZipMap, Cast or Identity); a preprocessing \
         step such as Scaler, or a calibration wrapper such as CalibratedClassifierCV, is not \
         supported (operators: {})",
        unsupported.join(", "),
        operators.join(", ")
    )]
    Operators {
        classifier: crate::import::Classifier,
        unsupported: Vec<String>,
        operators: Vec<String>,
    },
    #[error("the {classifier} does not read the graph input `{input}` directly")]
    NotOnInput {
        classifier: crate::import::Classifier,
        input: String,
    },
    #[error("the {classifier} has {count} class labels; qualify imports binary classifiers")]
    ClassLabels {
        classifier: crate::import::Classifier,
        count: usize,
    },
    #[error(
        "the {classifier} has post_transform {found}; qualify imports classifiers whose \
         probability is the logistic of their score (post_transform LOGISTIC)"
    )]
    PostTransform {
        classifier: crate::import::Classifier,
        found: String,
    },
    #[error(
        "the LinearClassifier has {coefficients} coefficients and {intercepts} intercepts; \
         qualify reads a binary one with one row per class ({expected} and 2)"
    )]
    LinearShape {
        coefficients: usize,
        intercepts: usize,
        expected: usize,
    },
    #[error(
        "the TreeEnsembleClassifier puts leaf weights on class id {class_id}; qualify imports \
         the binary layout (all weights on class 0)"
    )]
    WeightClass { class_id: i64 },
    #[error(
        "every leaf weight of the TreeEnsembleClassifier is non-negative (a random forest?): \
         onnxruntime then reads them as probabilities, not as log-odds; not supported"
    )]
    NonNegativeWeights,
    #[error(
        "the TreeEnsembleClassifier has {count} base_values; qualify folds one into the leaves"
    )]
    BaseValues { count: usize },
    #[error("the TreeEnsembleClassifier stores {name} as a tensor (`*_as_tensor`): not supported")]
    AsTensor { name: String },
}
