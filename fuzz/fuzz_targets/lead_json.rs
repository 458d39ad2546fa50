//! The JSON lead record (qualify-core's `LeadRecord`): deserialization with its checks, the
//! derivation of the flat form (`to_flat`: counts, recency, seniority from the title), the
//! bundled model's encoder and explanation, and the default rules.
//!
//! Checks: no panic; a parsed lead serialises and parses back to the same value; every score
//! is a probability; an explanation adds up to the raw score.

#![no_main]

use libfuzzer_sys::fuzz_target;
use qualify_core::lead::LeadRecord;
use qualify_fuzz::{as_of, check_propensity, model, rules};

fuzz_target!(|data: &[u8]| {
    let Ok(lead) = serde_json::from_slice::<LeadRecord>(data) else {
        return;
    };
    let text = serde_json::to_string(&lead).expect("a parsed lead serialises");
    let back: LeadRecord = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a serialised lead parses back: {e}\n{text}"));
    assert_eq!(back, lead, "a lead round-trips through JSON");

    let model = model();
    let flat = lead.to_flat();
    if let Ok((scored, explanation)) = model.explain_flat(&flat, as_of(), 5) {
        check_propensity(scored.propensity, "explain_flat");
        let parts = || explanation.contributions.iter().map(|r| r.contribution);
        let sum = explanation.base + parts().sum::<f64>();
        let scale = explanation.base.abs() + parts().map(f64::abs).sum::<f64>();
        assert!(
            (sum - explanation.raw_score).abs() <= 1e-6 * scale.max(1.0),
            "the explanation adds up to the raw score: {sum} vs {}",
            explanation.raw_score
        );
    }
    if let Ok(serde_json::Value::Object(record)) = serde_json::from_slice(data)
        && let Ok(scored) = model.score_json(&record, as_of())
    {
        check_propensity(scored.propensity, "score_json");
    }
    let outcome = rules().evaluate(&lead, as_of());
    let _ = outcome.reasons_text();
});
