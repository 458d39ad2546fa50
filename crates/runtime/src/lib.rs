//! qualify-runtime: load a model bundle and score with it, as the server and `qualify score`
//! do.
//!
//! Scoring is encode (qualify-core's encoder) → model (the bundle's ONNX graph, run by tract;
//! tree ensembles by the native evaluator in [`forest`], checked against tract at load) →
//! calibrate (qualify-core's calibrator). A bundle only loads when its golden rows reproduce.
//! [`Model::explain_json`] adds per-column contributions in log-odds ([`explain`]). The graph
//! contract, and the reading of the graphs qualify writes, are qualify-onnx's; trees are
//! qualify-core's one tree type. No polars and no trainer here.
//!
//! ```no_run
//! use qualify_runtime::Model;
//! let model = Model::load("models/default".as_ref()).unwrap();
//! let lead = serde_json::json!({"industry": "saas", "employees": 500});
//! let scored = model.score_json(lead.as_object().unwrap(), chrono::Utc::now()).unwrap();
//! println!("{:.3}", scored.propensity);
//! ```

pub mod error;
pub mod explain;
pub mod forest;
pub mod model;
pub mod native;
pub mod onnx;
pub mod pieces;
pub mod table;

pub use error::{RuntimeError, Unexplainable};
pub use explain::{Explanation, Reason};
pub use model::{Model, SCORE_CHUNK_ROWS, Scored};
pub use native::NativeKind;
pub use table::ExplainedTable;
