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

impl HistorySpec {
    /// `lead` in flat form with the spec's features as of `as_of` (module docs), and a
    /// warning per activity type the model does not know.
    ///
    /// # Errors
    /// The creation field holds something that is not a time ([`EncodeError::Field`]).
    pub fn flat_record(
        &self,
        lead: &LeadRecord,
        as_of: DateTime<Utc>,
    ) -> Result<(BTreeMap<String, RawValue>, Vec<Warning>), EncodeError> {
        let mut flat = lead.to_flat();
        let created = match flat.get(&self.created_column) {
            Some(value) => parse_time(value.cell(), &|t| {
                is_missing_text(t, DEFAULT_MISSING_TOKENS)
            })
            .map_err(|source| EncodeError::Field {
                field: self.created_column.clone(),
                source,
            })?,
            None => None,
        };
        let features = self.record_features(&lead.activities, created, as_of);
        for (name, value) in self.feature_names().into_iter().zip(features.values) {
            let value = if value.is_nan() {
                RawValue::Missing
            } else {
                RawValue::Number(value)
            };
            flat.insert(name, value);
        }
        let warnings = features
            .unknown_types
            .into_iter()
            .map(|(event_type, count)| Warning::UnknownEventType {
                event_type: event_type.to_string(),
                count,
            })
            .collect();
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
