//! What a training run is asked to do: a plain struct with defaults, no command-line types.

use qualify_core::schema::Schema;

use crate::calibration::CalibrationMethod;
use crate::cv::TrainOptions;
use crate::gbm::GbmParams;
use crate::gbm_cv::ClassWeight;
use crate::pipeline::PipelineError;

/// Which model(s) to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelChoice {
    /// L2-regularised logistic regression (Newton–Cholesky; linfa-logistic's L-BFGS when wide).
    #[default]
    Logistic,
    /// Gradient-boosted trees (qualify-gbm), early-stopped on a validation share of each fold.
    Gbm,
    /// Both; keeps the one with the lower cross-validated log loss after calibration.
    Auto,
}

/// How rows are split into the training part and the held-out test part.
///
/// With row groups ([`TrainData::groups`](super::TrainData::groups): point-in-time rows, a
/// lead's moments), a group's rows stay together: `Auto` and `Time` test on the latest
/// groups by the groups' own times (leads by creation: out of time), `Stratified` draws
/// groups at random.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SplitStrategy {
    /// By the schema's time column when it names one ([`SplitStrategy::Time`]), else
    /// [`SplitStrategy::Stratified`].
    #[default]
    Auto,
    /// The latest rows by this column (RFC 3339 or `YYYY-MM-DD` text, or epoch
    /// milliseconds) are the test part, so the model is judged on leads that came after those
    /// it learned from.
    Time { column: String },
    /// Stratified at random with [`TrainConfig::seed`]: each part keeps the conversion rate.
    Stratified,
}

/// Everything a training run needs besides the data and where to write.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Model name recorded in the manifest (default: the model directory's name).
    pub name: Option<String>,
    /// The binary label column (0/1, yes/no, true/false); default: the schema's label.
    pub label: Option<String>,
    /// The feature schema; inferred from the data (and saved in the manifest) when `None`.
    pub schema: Option<Schema>,
    /// The id column to declare when the schema is inferred.
    pub id: Option<String>,
    pub model: ModelChoice,
    /// Calibration fitted on out-of-fold scores of the training part.
    pub calibration: CalibrationMethod,
    pub split: SplitStrategy,
    /// Fraction of rows held out for the evaluation the manifest reports, in (0, 1).
    pub test_fraction: f64,
    /// Seed of the random split and of the folds.
    pub seed: u64,
    /// Cross-validation folds (choosing the L2 strength and the tree count; fitting the
    /// calibrator; comparing models).
    pub folds: usize,
    /// Candidate L2 strengths of the logistic model (linfa's `alpha`, scikit-learn's `1/C`).
    pub l2_grid: Vec<f64>,
    /// Class weights in the GBM's loss (the calibrator still maps to true rates).
    pub class_weight: ClassWeight,
    pub gbm: GbmParams,
    /// Most golden rows taken from the test part (two edge records are added).
    pub golden_rows: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            name: None,
            label: None,
            schema: None,
            id: None,
            model: ModelChoice::default(),
            calibration: CalibrationMethod::Auto,
            split: SplitStrategy::default(),
            test_fraction: 0.2,
            seed: 42,
            folds: 5,
            l2_grid: TrainOptions::default().l2_grid,
            class_weight: ClassWeight::None,
            gbm: GbmParams::default(),
            golden_rows: crate::bundle_writer::GOLDEN_ROWS,
        }
    }
}

impl TrainConfig {
    /// Checks what can be checked without data.
    pub fn validate(&self) -> Result<(), PipelineError> {
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(PipelineError::TestFraction {
                value: self.test_fraction,
            });
        }
        if self.folds < 2 {
            return Err(PipelineError::TooFewFolds { folds: self.folds });
        }
        if self.model == ModelChoice::Logistic && self.class_weight != ClassWeight::None {
            return Err(PipelineError::ClassWeightWithoutGbm);
        }
        if self.l2_grid.is_empty() || self.l2_grid.iter().any(|a| !(a.is_finite() && *a >= 0.0)) {
            return Err(PipelineError::L2Grid {
                grid: self.l2_grid.clone(),
            });
        }
        if self.model != ModelChoice::Logistic {
            self.gbm.validate()?;
        }
        Ok(())
    }

    /// Whether the logistic model and the GBM are fitted.
    pub(crate) fn fits(&self) -> (bool, bool) {
        match self.model {
            ModelChoice::Logistic => (true, false),
            ModelChoice::Gbm => (false, true),
            ModelChoice::Auto => (true, true),
        }
    }
}
