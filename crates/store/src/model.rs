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
    #[cfg_attr(feature = "openapi", schema(pattern = "[^\\s\\u0085]"))]
    pub lead_id: String,
    /// Free text with a non-blank character (the CRM's own types, or a canonical one).
    #[serde(rename = "type")]
    pub kind: EventType,
    pub at: DateTime<Utc>,
    /// A unique id: the same id again is the same event, stored once.
    #[cfg_attr(feature = "openapi", schema(pattern = "[^\\s\\u0085]"))]
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
    #[cfg_attr(feature = "openapi", schema(pattern = "[^\\s\\u0085]"))]
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

impl StoredOutcome {
    /// The outcome as the policy and the labels read it: its reason as a family.
    pub fn core(&self) -> qualify_core::history::Outcome {
        let at = self.at.timestamp_millis();
        match self.outcome {
            OutcomeKind::Converted => qualify_core::history::Outcome::converted(at),
            OutcomeKind::Disqualified => qualify_core::history::Outcome::disqualified(
                at,
                qualify_core::history::family_of(self.reason.as_deref()),
            ),
        }
    }
}

/// A lead as stored, with its events (in time order) and its outcomes.
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
    /// The latest outcome (the last of `outcomes`).
    pub outcome: Option<StoredOutcome>,
    /// Every outcome, in time order: a lead disqualified for bad timing may convert (or be
    /// disqualified again) later.
    #[serde(default)]
    pub outcomes: Vec<StoredOutcome>,
}

impl StoredLead {
    /// The lead as a canonical lead record: its attributes, and its events as
    /// `activities` (what `/v1/score` would be sent for this lead). A `tech_stack` kept as a
    /// file's cell text (imported by an earlier version; imports now store a list) is split
    /// on the set separator (`;`).
    ///
    /// # Errors
    /// Attributes that no longer read as a lead record (written by an older contract).
    pub fn record(&self) -> Result<LeadRecord, StoreError> {
        let mut attributes = self.attributes.clone().unwrap_or_default();
        // Leads imported by an earlier version keep a multi-valued cell as the file wrote it
        // ("salesforce;slack", or null when empty); the record takes `tech_stack` as a list.
        if attributes
            .get("tech_stack")
            .is_some_and(serde_json::Value::is_null)
        {
            attributes.remove("tech_stack");
        }
        if let Some(serde_json::Value::String(cell)) = attributes.get("tech_stack") {
            let list = cell
                .split(qualify_core::schema::DEFAULT_SET_SEPARATOR)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| serde_json::Value::String(s.to_string()))
                .collect();
            attributes.insert("tech_stack".into(), serde_json::Value::Array(list));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_imported_tech_stack_cell_reads_as_a_list() {
        let attributes =
            serde_json::json!({"id": "L", "tech_stack": "salesforce; slack;", "employees": 196.0});
        let lead = StoredLead {
            id: "L".into(),
            attributes: attributes.as_object().cloned(),
            created_at: None,
            updated_at: DateTime::from_timestamp_millis(0).unwrap_or_default(),
            events: vec![StoredEvent {
                kind: EventType::new("demo_request").expect("type"),
                at: DateTime::from_timestamp_millis(1000).unwrap_or_default(),
                event_id: None,
                value: Some(2.0),
            }],
            outcome: None,
            outcomes: Vec::new(),
        };
        let record = lead.record().expect("a record");
        assert_eq!(record.tech_stack, ["salesforce", "slack"]);
        assert_eq!(record.employees, Some(196));
        assert_eq!(record.activities.len(), 1);
        let empty = StoredLead {
            attributes: serde_json::json!({"tech_stack": null}).as_object().cloned(),
            ..lead
        };
        assert!(empty.record().expect("a record").tech_stack.is_empty());
    }
}
