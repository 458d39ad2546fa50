//! What goes into the store and what comes back: the contract's shapes (docs/store.md).

use chrono::{DateTime, Utc};
use qualify_core::history::OutcomeKind;
use qualify_core::lead::{Activity, EventType, LeadRecord};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// An event to append: `{lead_id, type, at, event_id?, value?}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    pub lead_id: String,
    /// Free text with a non-blank character (the CRM's own types, or a canonical one).
    #[serde(rename = "type")]
    pub kind: EventType,
    pub at: DateTime<Utc>,
    /// A unique id: the same id again is the same event, stored once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// An optional finite number (seconds on a page, an invoice's amount).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// An outcome to record: `{lead_id, outcome, at, reason?}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOutcome {
    pub lead_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Outcome))]
    pub outcome: OutcomeKind,
    pub at: DateTime<Utc>,
    /// Why (outcome data, never a feature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How a lead closed, as the API writes it (the schema of `OutcomeKind`, which lives in
/// qualify-core without one).
#[cfg(feature = "openapi")]
#[derive(Debug, Clone, Copy, utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "snake_case")]
pub enum Outcome {
    Converted,
    Disqualified,
}

/// A stored event.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    #[serde(rename = "type")]
    pub kind: EventType,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// A stored outcome.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredOutcome {
    #[cfg_attr(feature = "openapi", schema(value_type = Outcome))]
    pub outcome: OutcomeKind,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A lead as stored, with its events (in time order) and its outcome.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredLead {
    pub id: String,
    /// The attributes as last upserted; `None` for a stub (named by events or an outcome
    /// only so far).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// The creation time read from the attributes' `created_at`, when they have one.
    pub created_at: Option<DateTime<Utc>>,
    /// When the attributes were last written (the store's clock).
    pub updated_at: DateTime<Utc>,
    pub events: Vec<StoredEvent>,
    pub outcome: Option<StoredOutcome>,
}

impl StoredLead {
    /// The lead as a canonical lead record: its attributes, and its events as
    /// `activities` (what `/v1/score` would be sent for this lead).
    ///
    /// # Errors
    /// Attributes that no longer read as a lead record (written by an older contract).
    pub fn record(&self) -> Result<LeadRecord, StoreError> {
        let attributes = self.attributes.clone().unwrap_or_default();
        let mut record: LeadRecord = serde_json::from_value(serde_json::Value::Object(attributes))
            .map_err(|e| StoreError::Attributes {
                lead: self.id.clone(),
                message: e.to_string(),
            })?;
        record.id = Some(self.id.clone());
        record.activities = self
            .events
            .iter()
            .map(|e| Activity::new(e.kind.clone(), e.at))
            .collect();
        Ok(record)
    }
}
