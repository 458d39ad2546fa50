//! qualify-core: the contract that training and serving share.
//!
//! Everything that must mean the same thing on both sides of the training/serving boundary
//! lives here and nowhere else: the canonical [`lead::LeadRecord`], raw values
//! ([`value::RawValue`]), the feature [`schema::Schema`], the one fitted
//! [`encoder::Encoder`], the [`calibrate::Calibrator`]s and the model [`bundle`] format.
//! It depends on serde, chrono, sha2, toml, thiserror and qualify-eval (whose metric
//! definitions the manifest records; a leaf crate of pure functions) only: no polars, no
//! tract, no tokio.
//!
//! ```
//! use qualify_core::lead::LeadRecord;
//! let lead: LeadRecord = serde_json::from_str(r#"{"id": "L1", "employees": 500}"#).unwrap();
//! assert_eq!(lead.employees, Some(500));
//! ```

pub mod bundle;
pub mod calibrate;
pub mod encoder;
pub mod error;
pub mod history;
pub mod lead;
pub mod schema;
pub mod trees;
pub mod value;

pub use error::{Error, Result};
