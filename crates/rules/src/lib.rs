//! qualify-rules: the rule-based qualification stage.
//!
//! Marketing operations teams qualify leads with rules they can read and argue about. This
//! crate reads those rules from a TOML file (format: `docs/rules.md`), checks them — every
//! problem, with line and column — and compiles them into a fast form that evaluates one lead
//! in well under a microsecond:
//!
//! - **fit** points on profile fields and **engagement** points on activities, with decay
//!   (half-life, linear fall or window) measured back from an `as_of` time;
//! - **gates** (hard disqualifiers) apart from points, **nurture** conditions (bad timing);
//! - **stages** (Disqualified, Nurture, Lead, MQL, SQL, PQL), **frameworks** (BANT, MEDDPICC,
//!   ...) reported as met / missing, and a **route**;
//! - **reasons** that add up exactly to the score (points are whole hundredths).
//!
//! Leads come as canonical [`LeadRecord`](qualify_core::lead::LeadRecord)s (dated activities)
//! or as flat rows ([`FlatRow`]: `<type>_count` columns and `last_activity_at`).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use qualify_core::lead::LeadRecord;
//! use qualify_rules::{CompiledRules, Stage};
//!
//! let rules = CompiledRules::from_text(r#"
//!     [stages]
//!     mql = 20
//!
//!     [[fit]]
//!     id = "director"
//!     points = 15
//!     when = { field = "seniority", equals = "director" }
//!
//!     [[engagement]]
//!     id = "pricing"
//!     activity = "pricing_page_visit"
//!     points = 10
//! "#, "inline").expect("valid rules");
//!
//! let lead: LeadRecord = serde_json::from_str(r#"{
//!     "job_title": "Marketing Director",
//!     "activities": [{"type": "pricing_page_visit", "at": "2026-03-01T00:00:00Z"}]
//! }"#).expect("valid lead");
//! let as_of = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
//!
//! let outcome = rules.evaluate(&lead, as_of);
//! assert_eq!(outcome.score.to_string(), "25");
//! assert_eq!(outcome.stage, Stage::Mql);
//! assert_eq!(outcome.reasons_text(), "director +15; pricing +10");
//! ```
//!
//! Checking a file reports every problem at once:
//!
//! ```
//! let problems = qualify_rules::check_text("[stages]\nmql = 500\n[[fit]]\nid = \"x\"\npoints = 5\nwhen = { field = \"employees\", min = 9, max = 1 }\n", "f.toml", None);
//! let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
//! assert_eq!(shown, [
//!     "f.toml:2:1: error: threshold 500 cannot be reached: the most points any lead can get is 5",
//!     "f.toml:6:31: error: bad range: min 9 > max 1",
//! ]);
//! ```

mod check;
mod compile;
mod cond;
mod decay;
mod error;
mod evaluate;
mod field;
pub mod format;
mod outcome;
mod parse;
pub mod table;
mod view;

pub use check::check_text;
pub use compile::CompiledRules;
pub use decay::{Decay, age_days};
pub use error::{Problem, RulesError, Severity};
pub use field::canonical_fields;
pub use outcome::{FrameworkOutcome, Points, Reason, ReasonKind, RuleOutcome, Stage};
pub use parse::RulesFile;
pub use view::FlatRow;
