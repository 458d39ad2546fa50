//! A lead record as a history model reads it: the record's fields, plus the point-in-time
//! features of its `activities` as of the request's moment.
//!
//! The server and the runtime score one record; the trainer scored rows of a leads table
//! with the features of [`super::History::point_in_time`]. For the two to see the same
//! thing, the record's attributes are read under the leads table's column names
//! ([`LeadRecord::to_flat`]: canonical fields and any extra field as sent), its creation time
//! is the spec's creation column (`created_at` in the contract), and the features come from
//! [`HistorySpec::record_features`], the one feature function. Activities of types the model
//! does not know are ignored and reported as [`Warning::UnknownEventType`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::spec::HistorySpec;
use crate::encoder::parse::parse_time;
use crate::encoder::{EncodeError, Warning};
use crate::lead::LeadRecord;
use crate::schema::DEFAULT_MISSING_TOKENS;
use crate::value::{RawValue, is_missing_text};

/// A record as a history model reads it: its fields in flat form and, beside them, the
/// spec's point-in-time features as of the scoring moment.
///
/// Nothing is put in a map: a model knows dozens of features, and naming and inserting
/// each (and the record's flat fields) on every request cost more than scoring.
/// [`HistoryRecord::get`] looks a column up through the spec's [`FeatureIndex`], built once
/// per model, and reads a field straight from the record ([`LeadRecord::flat_value`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRecord<'l> {
    /// The record, read in flat form ([`LeadRecord::flat_value`]).
    pub lead: &'l LeadRecord,
    /// In [`HistorySpec::feature_names`] order; NaN is missing.
    pub features: Vec<f64>,
    /// One per activity type the model does not know.
    pub warnings: Vec<Warning>,
}

/// Where each of a spec's features sits in [`HistoryRecord::features`], by name. The runtime
/// resolves its encoder's columns through it once, when it loads a model; what is still
/// looked up by name per request (an explained column's value, a derived column's source
/// field) hashes with foldhash rather than std's SipHash, whose hashing was once a tenth of
/// a served request's work: the keys are the model's own column names, not input an
/// attacker chooses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureIndex(foldhash::HashMap<String, usize>);

impl FeatureIndex {
    /// Where `column` sits in [`HistoryRecord::features`], when it is a computed feature.
    pub fn position(&self, column: &str) -> Option<usize> {
        self.0.get(column).copied()
    }
}

impl HistoryRecord<'_> {
    /// The value of `column`: a computed feature when the spec names it (it wins over a
    /// field of the same name, as the trainer's point-in-time columns did), else the field.
    pub fn get(&self, index: &FeatureIndex, column: &str) -> RawValue {
        match index.position(column) {
            Some(i) => self.feature(i),
            None => self.lead.flat_value(column),
        }
    }

    /// The computed feature at `position` ([`FeatureIndex::position`] of this record's
    /// spec) as a cell; missing past the features.
    pub fn feature(&self, position: usize) -> RawValue {
        self.features
            .get(position)
            .map_or(RawValue::Missing, |&value| number(value))
    }
}

/// A computed feature as a cell: NaN is missing.
fn number(value: f64) -> RawValue {
    if value.is_nan() {
        RawValue::Missing
    } else {
        RawValue::Number(value)
    }
}

impl HistorySpec {
    /// The index of [`HistorySpec::feature_names`], for [`HistoryRecord::get`].
    pub fn feature_index(&self) -> FeatureIndex {
        FeatureIndex(
            self.feature_names()
                .into_iter()
                .enumerate()
                .map(|(i, name)| (name, i))
                .collect(),
        )
    }

    /// `lead` as the model reads it as of `as_of` (module docs), with a warning per activity
    /// type the model does not know.
    ///
    /// # Errors
    /// The creation field holds something that is not a time ([`EncodeError::Field`]).
    pub fn history_record<'l>(
        &self,
        lead: &'l LeadRecord,
        as_of: DateTime<Utc>,
    ) -> Result<HistoryRecord<'l>, EncodeError> {
        let created = lead.flat_value(&self.created_column);
        let created = parse_time(created.cell(), &|t| {
            is_missing_text(t, DEFAULT_MISSING_TOKENS)
        })
        .map_err(|source| EncodeError::Field {
            field: self.created_column.clone(),
            source,
        })?;
        let features = self.record_features(&lead.activities, created, as_of);
        let warnings = features
            .unknown_types
            .into_iter()
            .map(|(event_type, count)| Warning::UnknownEventType {
                event_type: event_type.to_string(),
                count,
            })
            .collect();
        Ok(HistoryRecord {
            lead,
            features: features.values,
            warnings,
        })
    }

    /// [`HistorySpec::history_record`] as one flat map, the features inserted under their
    /// names: the shape a table row has.
    ///
    /// # Errors
    /// As [`HistorySpec::history_record`].
    pub fn flat_record(
        &self,
        lead: &LeadRecord,
        as_of: DateTime<Utc>,
    ) -> Result<(BTreeMap<String, RawValue>, Vec<Warning>), EncodeError> {
        let HistoryRecord {
            features, warnings, ..
        } = self.history_record(lead, as_of)?;
        let mut flat = lead.to_flat();
        for (name, value) in self.feature_names().into_iter().zip(features) {
            flat.insert(name, number(value));
        }
        Ok((flat, warnings))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::lead::{Activity, EventType};

    #[test]
    fn a_record_gets_the_features_of_its_activities_before_the_moment() {
        let spec = HistorySpec::new(
            vec![EventType::new("demo_request").expect("type")],
            "created_at",
        );
        let now: DateTime<Utc> = "2026-06-30T00:00:00Z".parse().expect("time");
        let mut lead = LeadRecord {
            activities: vec![
                Activity::new(
                    EventType::new("demo_request").expect("type"),
                    now - Duration::days(2),
                ),
                Activity::new(
                    EventType::new("Demo_Request").expect("type"),
                    now + Duration::days(2),
                ),
                Activity::new(
                    EventType::new("Partner Referral").expect("type"),
                    now - Duration::days(1),
                ),
            ],
            ..LeadRecord::default()
        };
        lead.extra.insert("created_at".into(), "2026-06-20".into());
        lead.extra.insert("segment".into(), "smb".into());
        let (flat, warnings) = spec.flat_record(&lead, now).expect("record");
        let record = spec.history_record(&lead, now).expect("record");
        let index = spec.feature_index();
        for name in flat.keys().chain(&spec.feature_names()) {
            let in_map = flat.get(name).cloned().unwrap_or(RawValue::Missing);
            assert_eq!(record.get(&index, name), in_map, "{name}");
        }
        assert_eq!(record.get(&index, "not_a_column"), RawValue::Missing);
        assert_eq!(record.warnings, warnings);
        assert_eq!(flat.get("demo_request_7d"), Some(&RawValue::Number(1.0)));
        assert_eq!(
            flat.get("demo_request_days_since"),
            Some(&RawValue::Number(2.0))
        );
        assert_eq!(flat.get("lead_age_days"), Some(&RawValue::Number(10.0)));
        assert_eq!(flat.get("segment"), Some(&RawValue::Text("smb".into())));
        assert_eq!(
            warnings,
            vec![Warning::UnknownEventType {
                event_type: "Partner Referral".into(),
                count: 1
            }]
        );
        lead.extra
            .insert("created_at".into(), "last tuesday".into());
        let err = spec.flat_record(&lead, now).expect_err("not a time");
        assert!(err.to_string().contains("created_at"), "{err}");
        lead.extra.remove("created_at");
        let (flat, _) = spec.flat_record(&lead, now).expect("record");
        assert_eq!(flat.get("lead_age_days"), Some(&RawValue::Missing));
    }
}
