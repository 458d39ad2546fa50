//! The rules TOML (qualify-rules): parsing, the checker (every problem with line and column)
//! and compilation; rules that compile evaluate a few fixed leads.
//!
//! Checks: no panic; a file that compiles has no error-severity problem in the checker's
//! report (the two must agree on what is valid); every score and stage evaluates.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use qualify_core::lead::LeadRecord;
use qualify_fuzz::{as_of, repo};
use qualify_rules::{CompiledRules, Severity, check_text};

/// The first leads of the bundled sample.
fn leads() -> &'static [LeadRecord] {
    static LEADS: OnceLock<Vec<LeadRecord>> = OnceLock::new();
    LEADS.get_or_init(|| {
        let text = std::fs::read_to_string(repo().join("data/sample/leads.jsonl"))
            .expect("the sample leads are readable");
        let mut leads: Vec<LeadRecord> = text
            .lines()
            .take(8)
            .map(|l| serde_json::from_str(l).expect("a sample lead parses"))
            .collect();
        leads.push(LeadRecord::default());
        leads
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let problems = check_text(text, "fuzz.toml", None);
    let Ok(rules) = CompiledRules::from_text(text, "fuzz.toml") else {
        return;
    };
    let errors: Vec<String> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| p.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "rules that compile have no checker errors: {errors:?}"
    );
    for lead in leads() {
        let outcome = rules.evaluate(lead, as_of());
        let _ = outcome.reasons_text();
    }
});
