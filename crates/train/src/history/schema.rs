//! The training schema of a history model: the leads schema, the point-in-time feature
//! columns and the label.
//!
//! The leads schema describes the attributes as the leads table holds them; the features are
//! ordinary numeric columns for the encoder (role `behavioural`). A leads schema may list a
//! feature column itself, to declare a monotone constraint on it (`demo_request_30d`,
//! `monotone = "increasing"`); it must then be a numeric feature. The bundle keeps the whole
//! schema, its `[history]` section included, so `qualify score` reads events as training
//! did.

use qualify_core::history::{HistorySpec, MOMENT_COLUMN};
use qualify_core::schema::{ColumnSpec, ColumnType, Role, Schema, SchemaRule};

/// Why a leads schema cannot become a training schema.
#[derive(Debug, thiserror::Error)]
pub enum HistorySchemaError {
    #[error("training on a history needs a leads schema (given, or inferred from the leads table)")]
    NoSchema,
    #[error(
        "the leads schema has a label column ({column:?}); a history's label comes from the \
         outcomes table: remove it, or train on the flat file with --data"
    )]
    HasLabel { column: String },
    #[error(
        "leads schema column {column:?} is a timestamp feature; a history model measures time \
         from each moment, not from one reference time: give it as events, or set its role to \
         \"ignore\""
    )]
    TimestampFeature { column: String },
    #[error(
        "leads schema column {column:?} is also a point-in-time feature's name; to declare a \
         constraint on that feature it must be a numeric feature column"
    )]
    FeatureClash { column: String },
    #[error("leads schema column {column:?} is also the name of the point-in-time label or moment")]
    Reserved { column: String },
    #[error("the training schema breaks a rule of schemas: {source}")]
    Rule {
        #[source]
        source: SchemaRule,
    },
}

/// The label column of a spec's rows: `converted_within_<W>d`.
pub fn label_column(spec: &HistorySpec) -> String {
    format!("converted_within_{}d", spec.label_window_days)
}

/// The leads schema plus the moment (ignored), the features and the label (module docs).
pub fn training_schema(leads: &Schema, spec: &HistorySpec) -> Result<Schema, HistorySchemaError> {
    if let Some(column) = leads.label() {
        return Err(HistorySchemaError::HasLabel {
            column: column.to_string(),
        });
    }
    let label = label_column(spec);
    let names = spec.feature_names();
    let mut schema = leads.clone();
    for col in &leads.columns {
        if col.name == label || col.name == MOMENT_COLUMN {
            return Err(HistorySchemaError::Reserved {
                column: col.name.clone(),
            });
        }
        let is_feature = names.contains(&col.name);
        if is_feature && !(col.role.is_feature() && col.kind == Some(ColumnType::Numeric)) {
            return Err(HistorySchemaError::FeatureClash {
                column: col.name.clone(),
            });
        }
        if !is_feature && col.role.is_feature() && col.kind == Some(ColumnType::Timestamp) {
            return Err(HistorySchemaError::TimestampFeature {
                column: col.name.clone(),
            });
        }
    }
    let spec_column = |name: &str, role: Role, kind: Option<ColumnType>, note: &str| ColumnSpec {
        name: name.to_string(),
        role,
        kind,
        missing: Vec::new(),
        separator: None,
        note: Some(note.to_string()),
        monotone: None,
    };
    schema.columns.push(spec_column(
        MOMENT_COLUMN,
        Role::Ignore,
        None,
        "the scoring moment of a point-in-time row",
    ));
    for name in names {
        if leads.column(&name).is_none() {
            schema.columns.push(spec_column(
                &name,
                Role::Behavioural,
                Some(ColumnType::Numeric),
                "point-in-time feature from the events (docs/history.md)",
            ));
        }
    }
    schema
        .columns
        .push(spec_column(&label, Role::Label, None, &spec.target()));
    schema.history = Some(leads.history.clone().unwrap_or_default());
    schema
        .validate()
        .map_err(|source| HistorySchemaError::Rule { source })?;
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qualify_core::lead::EventType;

    const LEADS: &str = r#"
        [[column]]
        name = "id"
        role = "id"
        [[column]]
        name = "created_at"
        role = "timestamp"
        [[column]]
        name = "industry"
        role = "firmographic"
        type = "categorical"
        [[column]]
        name = "demo_request_30d"
        role = "behavioural"
        type = "numeric"
        monotone = "increasing"
        [history]
    "#;

    fn spec() -> HistorySpec {
        HistorySpec::new(
            vec![EventType::new("demo_request").expect("type")],
            "created_at",
        )
    }

    #[test]
    fn adds_features_and_label_and_keeps_declared_constraints() {
        let leads = Schema::from_toml(LEADS, "leads").expect("schema");
        let s = training_schema(&leads, &spec()).expect("training schema");
        assert_eq!(s.label(), Some("converted_within_90d"));
        let features: Vec<&str> = s.features().map(|c| c.name.as_str()).collect();
        assert_eq!(
            features,
            [
                "industry",
                "demo_request_30d",
                "demo_request_7d",
                "demo_request_90d",
                "demo_request_decayed",
                "demo_request_days_since",
                "lead_age_days",
                "days_since_last_event"
            ]
        );
        assert!(
            s.column("demo_request_30d")
                .and_then(|c| c.monotone)
                .is_some()
        );
        assert!(s.history.is_some());
    }

    #[test]
    fn refuses_what_would_be_wrong() {
        let cases = [
            (
                LEADS.replace(
                    "[history]",
                    "[[column]]\nname = \"won\"\nrole = \"label\"\n[history]",
                ),
                "label",
            ),
            (
                LEADS.replace("type = \"categorical\"", "type = \"timestamp\""),
                "timestamp feature",
            ),
            (
                LEADS
                    .replace("type = \"numeric\"", "type = \"categorical\"")
                    .replace("monotone = \"increasing\"", ""),
                "demo_request_30d",
            ),
            (LEADS.replace("\"industry\"", "\"as_of\""), "as_of"),
        ];
        for (text, wanted) in cases {
            let leads = match Schema::from_toml(&text, "leads") {
                Ok(s) => s,
                Err(e) => panic!("{e}"),
            };
            let err = training_schema(&leads, &spec())
                .expect_err(wanted)
                .to_string();
            assert!(err.contains(wanted), "{wanted:?} not in {err}");
        }
    }
}
