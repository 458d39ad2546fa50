//! A lead record scored by a model trained on a history (the bundled default model): the
//! warnings speak about what the client sent, not about the point-in-time features the
//! runtime computed from it.

use std::path::Path;

use qualify_core::encoder::Warning;
use qualify_core::lead::LeadRecord;
use qualify_runtime::Model;

fn bundled_default() -> Model {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Model::load(&repo.join("models/default")).expect("the bundled default model loads")
}

fn imputed(warnings: &[Warning]) -> Vec<&str> {
    warnings
        .iter()
        .filter_map(|w| match w {
            Warning::Imputed { column } => Some(column.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn computed_history_features_are_not_reported_as_imputed() {
    let model = bundled_default();
    assert!(model.manifest().history.is_some(), "a history model");
    let as_of = "2026-06-30T00:00:00Z".parse().expect("time");
    let lead: LeadRecord = serde_json::from_value(serde_json::json!({
        "id": "L", "created_at": "2026-06-01T00:00:00Z", "industry": "saas", "employees": 120,
        "activities": [{"type": "demo_request", "at": "2026-06-20T00:00:00Z"}]
    }))
    .expect("record");
    let scored = model.score_lead(&lead, as_of).expect("scored");
    let (explained, _) = model.explain_lead(&lead, as_of, 3).expect("explained");
    for warnings in [&scored.warnings, &explained.warnings] {
        let columns = imputed(warnings);
        assert!(
            columns.iter().all(|c| !c.ends_with("_days_since")),
            "{columns:?}"
        );
        assert!(columns.contains(&"annual_revenue"), "{columns:?}");
        assert!(!columns.contains(&"created_at"), "{columns:?}");
    }

    // Without `created_at` the lead age cannot be computed: reported as the missing field.
    let ageless: LeadRecord =
        serde_json::from_value(serde_json::json!({"id": "M", "industry": "saas"})).expect("record");
    let scored = model.score_lead(&ageless, as_of).expect("scored");
    let columns = imputed(&scored.warnings);
    assert!(columns.contains(&"created_at"), "{columns:?}");
    assert!(!columns.contains(&"lead_age_days"), "{columns:?}");
}
