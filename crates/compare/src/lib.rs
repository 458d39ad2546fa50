//! qualify-compare: predictive and rule-based scoring side by side, on the same leads.
//!
//! Analysts must show what a propensity model adds over the rules a marketing team already
//! runs: which converting leads the rules miss, which MQLs never convert, and what sales
//! capacity each approach needs. [`pipeline::compare`] scores labelled leads both ways, through
//! qualify-runtime and qualify-rules exactly as `qualify score` and `qualify rules score` do,
//! and [`output::write_outputs`] writes what `qualify compare` writes. [`Comparison::compute`]
//! takes leads already scored both ways and computes every figure:
//!
//! - ROC AUC, PR AUC and lift at 10% of the propensity **and of the rule score** as a ranker
//!   (ties are real for points: [`qualify_eval::Ranking`] treats them as ties);
//! - conversion per rule stage, MQL precision and recall, calibration of the propensity;
//! - the [capacity] analysis, the [disagreements](disagree) and
//!   [suggested thresholds](threshold);
//! - a self-contained HTML [report] with SVG plots.
//!
//! The file half ([`pipeline`], [`output`]) is the `pipeline` feature (on by default): it
//! links qualify-data (polars) and qualify-runtime. Without it the crate is the figures and
//! the report, which is what qualify-monitor, and through it the server, uses.
//!
//! ```
//! use qualify_compare::{Comparison, Context, Leads, Options};
//! use qualify_rules::Stage;
//!
//! let leads = Leads::new(
//!     vec![true, true, false, false, true, false],
//!     vec![0.9, 0.8, 0.7, 0.6, 0.5, 0.1],
//!     vec![10.0, 80.0, 80.0, 90.0, 0.0, 5.0],
//!     vec![Stage::Lead, Stage::Mql, Stage::Mql, Stage::Mql, Stage::Lead, Stage::Lead],
//! )?;
//! let options = Options { capacity: None, target_precision: None, mql_threshold: 75.0 };
//! let c = Comparison::compute(&leads, Context::default(), options)?;
//! // At the rules' own volume (3 MQLs, 1 of which converts) the model's top 3 hold 2.
//! assert_eq!(c.capacity.leads, 3);
//! assert_eq!(c.capacity.rules_qualified.conversions, 1.0);
//! assert_eq!(c.capacity.model.conversions, 2.0);
//! let html = qualify_compare::report::html(&c, &leads)?;
//! assert_eq!(html.matches("<svg").count(), qualify_compare::report::PLOTS.len());
//! # Ok::<(), qualify_compare::CompareError>(())
//! ```

pub mod capacity;
mod comparison;
pub mod disagree;
mod error;
mod leads;
#[cfg(feature = "pipeline")]
pub mod output;
#[cfg(feature = "pipeline")]
pub mod pipeline;
pub mod report;
mod selection;
pub mod stages;
pub mod threshold;

pub use capacity::CapacitySpec;
pub use comparison::{Calibration, Comparison, Context, Definitions, Options, RankFigures};
pub use error::CompareError;
pub use leads::{Leads, deciles, qualified};
pub use selection::Selection;
