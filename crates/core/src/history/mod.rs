//! Point-in-time features from a lead's history: one implementation for training and serving.
//!
//! A CRM's history is leads, the events they produced over time, and their outcomes
//! (docs/history.md). A model learns from it at *moments*: a lead scored while it is open,
//! with features from events strictly before the moment and a label that looks forward
//! ([`moments`]). The server scores a record's `activities` as of the request's moment. For
//! the model to see in production exactly what it saw in training, both paths compute
//! features with one function, [`HistorySpec::features_at`]: the trainer over many moments
//! of an [`EventLog`] ([`HistorySpec::batch_features`]), the runtime over one record
//! ([`HistorySpec::record_features`]). The feature columns are ordinary numeric columns for
//! the encoder (imputation, missing indicators, ranges and explanations work as for any
//! column); the [`HistorySpec`] in the bundle says which types, windows, half-life and label
//! window the model was trained with.
//!
//! ```
//! use chrono::{DateTime, Duration, Utc};
//! use qualify_core::history::HistorySpec;
//! use qualify_core::lead::{Activity, ActivityType, EventType};
//!
//! let spec = HistorySpec::new(vec![EventType::from(ActivityType::DemoRequest)], "created_at");
//! let now: DateTime<Utc> = "2026-06-30T00:00:00Z".parse().unwrap();
//! let activities = [
//!     Activity::new(ActivityType::DemoRequest, now - Duration::days(3)),
//!     Activity::new(ActivityType::DemoRequest, now + Duration::days(1)), // after: ignored
//! ];
//! let f = spec.record_features(&activities, Some(now - Duration::days(20)), now);
//! let names = spec.feature_names();
//! let get = |n: &str| f.values[names.iter().position(|x| x == n).unwrap()];
//! assert_eq!(get("demo_request_7d"), 1.0);
//! assert_eq!(get("demo_request_days_since"), 3.0);
//! assert_eq!(get("lead_age_days"), 20.0);
//! ```

mod columns;
mod error;
mod features;
mod life;
mod log;
pub mod moments;
mod record;
mod spec;
mod table;
#[cfg(test)]
mod tests;

pub use columns::{EventColumns, HistoryColumns, OutcomeColumns};
pub use error::HistoryError;
pub use features::{Moment, RecordFeatures, feature_columns, millis};
pub use life::{
    BUILT_IN, Conflict, ConflictKind, Life, Outcome, Outcomes, ReasonFamily, family_of, normalise,
};
pub use log::{Ev, EventLog, EventLogBuilder};
pub use moments::{Label, OutcomeKind};
pub use record::{FeatureIndex, HistoryRecord};
pub use spec::{
    DAY_MS, DAYS_SINCE_LAST_EVENT, DEFAULT_HALF_LIFE_DAYS, DEFAULT_LABEL_WINDOW_DAYS,
    DEFAULT_OFFSETS_DAYS, DEFAULT_WINDOWS_DAYS, HistoryModel, HistorySpec, LEAD_AGE, MomentSummary,
    target_text,
};
pub use table::{History, LabelledMoments, MOMENT_COLUMN, MomentLabels, take, time_text};
