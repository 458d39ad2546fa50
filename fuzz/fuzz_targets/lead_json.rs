//! The JSON lead record (qualify-core's `LeadRecord`): deserialization with its checks, the
//! derivation of the flat form (`to_flat`: counts, recency, seniority from the title), the
//! bundled model's encoder (core's, read from the bundle's manifest) on both the flat form and
//! the raw JSON object, and the default rules. Scoring through the graph is the server target's
//! and the bundle target's: this one needs neither tract nor polars, so it builds in minutes.
//!
//! Checks: no panic; a parsed lead serialises and parses back to the same value; what the
//! encoder writes is finite and as wide as the model's input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use qualify_core::lead::LeadRecord;
use qualify_fuzz::{as_of, bundle, rules};

fuzz_target!(|data: &[u8]| {
    let Ok(lead) = serde_json::from_slice::<LeadRecord>(data) else {
        return;
    };
    let text = serde_json::to_string(&lead).expect("a parsed lead serialises");
    let back: LeadRecord = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a serialised lead parses back: {e}\n{text}"));
    assert_eq!(back, lead, "a lead round-trips through JSON");

    let encoder = &bundle().manifest.encoder;
    let mut x = vec![0.0f32; encoder.n_features()];
    if encoder
        .encode_flat(&lead.to_flat(), as_of(), &mut x)
        .is_ok()
    {
        assert!(
            x.iter().all(|v| v.is_finite()),
            "the encoder writes finite features: {x:?}"
        );
    }
    if let Ok(serde_json::Value::Object(record)) = serde_json::from_slice(data)
        && encoder.encode_json(&record, as_of(), &mut x).is_ok()
    {
        assert!(
            x.iter().all(|v| v.is_finite()),
            "the encoder writes finite features: {x:?}"
        );
    }
    let outcome = rules().evaluate(&lead, as_of());
    let _ = outcome.reasons_text();
});
