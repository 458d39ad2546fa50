//! Why a fit was refused: every variant says what is wrong and where (which rows, which row,
//! which feature, which parameter), so a caller can report it without guessing.

use std::fmt;

use qualify_core::trees::TreeError;

/// Which rows an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The rows the trees are fitted on.
    Training,
    /// The rows early stopping watches.
    Validation,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Training => "training rows",
            Part::Validation => "validation rows",
        })
    }
}

/// A parameter of [`Params`](crate::Params), by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parameter {
    LearningRate,
    MaxLeaves,
    MinLeafHessian,
    L2,
    MaxBins,
    EarlyStoppingRounds,
    Threads,
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Parameter::LearningRate => "learning rate",
            Parameter::MaxLeaves => "max leaves",
            Parameter::MinLeafHessian => "min leaf hessian",
            Parameter::L2 => "l2",
            Parameter::MaxBins => "max bins",
            Parameter::EarlyStoppingRounds => "early stopping rounds",
            Parameter::Threads => "threads",
        })
    }
}

/// Why [`fit`](crate::fit) refused its input or failed.
#[derive(Debug, thiserror::Error)]
pub enum GbmError {
    #[error("parameter {name} {requirement}, got {value}")]
    Parameter {
        name: Parameter,
        requirement: &'static str,
        value: f64,
    },
    #[error("{part}: {values} values do not make {rows} rows of {cols} features")]
    Shape {
        part: Part,
        values: usize,
        rows: usize,
        cols: usize,
    },
    #[error("{part}: {weights} weights for {rows} rows")]
    WeightCount {
        part: Part,
        weights: usize,
        rows: usize,
    },
    #[error("{part}: there are none")]
    NoRows { part: Part },
    #[error("{part}: row {row}, feature {feature} is {value} (a finite value expected)")]
    NonFinite {
        part: Part,
        row: usize,
        feature: usize,
        value: f32,
    },
    #[error("{part}: row {row} has weight {weight} (a finite, non-negative weight expected)")]
    BadWeight { part: Part, row: usize, weight: f64 },
    #[error("{part}: the weights sum to 0")]
    NoWeight { part: Part },
    #[error(
        "{part}: the weighted label rate is {rate} (both classes with positive weight are needed)"
    )]
    OneClass { part: Part, rate: f64 },
    #[error("validation rows have {got} features, training rows {want}")]
    ValidationWidth { got: usize, want: usize },
    #[error("monotone constraint on feature {feature}, but the rows have {features} features")]
    MonotoneFeature { feature: usize, features: usize },
    #[error("monotone constraint on feature {feature} is given twice")]
    MonotoneTwice { feature: usize },
    #[error("{features} features with up to {bins} bins each do not fit a histogram index")]
    TooManyBins { features: usize, bins: usize },
    #[error("could not start {threads} threads: {source}")]
    Threads {
        threads: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
    /// The trees failed qualify-core's structural check (a bug here, reported, not hidden).
    #[error("the fitted trees are invalid: {source}")]
    InvalidTrees {
        #[source]
        source: TreeError,
    },
}
