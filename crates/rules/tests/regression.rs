//! Regression tests, named after the issue they fix.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use qualify_core::lead::LeadRecord;
use qualify_core::value::RawValue;
use qualify_rules::{CompiledRules, check_text};

fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid time")
}

fn rules(body: &str) -> CompiledRules {
    CompiledRules::from_text(&format!("[stages]\nmql = 1\n{body}"), "r.toml").expect("compiles")
}

fn fired(rules: &CompiledRules, row: &BTreeMap<String, RawValue>) -> Vec<String> {
    rules
        .evaluate_flat(row, as_of())
        .reasons
        .iter()
        .map(|r| format!("{} {}", r.rule, r.points))
        .collect()
}

/// Issue 10: the encoder reads `1`, `"1"` and `"yes"` as true, and a rule `equals = true`
/// matched none of them (a CRM export with 0/1 flags).
#[test]
fn issue_10_flags_sent_as_1_or_yes_are_true_to_the_rules() {
    let r = rules(
        r#"[[fit]]
id = "budget"
points = 10
when = { field = "budget_confirmed", equals = true }
[[fit]]
id = "no_champion"
points = 5
when = { field = "champion", equals = false }
"#,
    );
    for (budget, champion) in [
        (RawValue::Number(1.0), RawValue::Number(0.0)),
        (RawValue::Text("1".into()), RawValue::Text("0".into())),
        (RawValue::Text(" yes ".into()), RawValue::Text("N".into())),
        (RawValue::Bool(true), RawValue::Text("False".into())),
    ] {
        let row = BTreeMap::from([
            ("budget_confirmed".to_string(), budget.clone()),
            ("champion".to_string(), champion),
        ]);
        assert_eq!(
            fired(&r, &row),
            ["budget 10", "no_champion 5"],
            "{budget:?}"
        );
    }
    // The same flags in a JSON record (an extra field, and the canonical one).
    let lead: LeadRecord =
        serde_json::from_str(r#"{"budget_confirmed": "1", "champion": 0}"#).expect("valid");
    let o = r.evaluate(&lead, as_of());
    assert_eq!(o.score.to_string(), "15", "{o:?}");
}

/// Issue 10: a record sending counts instead of activities was scored by the model on the
/// counts and by the rules on its (empty) activities: 0 points where the model saw 3 demos.
#[test]
fn issue_10_counts_sent_instead_of_activities_are_scored() {
    let r = rules(
        r#"[[engagement]]
id = "demo"
activity = "demo_request"
points = 8
decay = { half_life_days = 30 }
"#,
    );
    let lead: LeadRecord = serde_json::from_str(
        r#"{"demo_request_count": 3, "last_activity_at": "2026-01-30T00:00:00Z"}"#,
    )
    .expect("valid");
    // Three demos dated 30 days ago: 3 x 8 x 0.5.
    let record = r.evaluate(&lead, as_of());
    assert_eq!(record.score.to_string(), "12", "{record:?}");
    // The record and its flat form (what the model reads) score the same.
    let flat = r.evaluate_flat(&lead.to_flat(), as_of());
    assert_eq!(flat.score, record.score);
}

/// Issue 10: a record sending both activities and a disagreeing count is refused, not
/// scored on one by the model and on the other by the rules.
#[test]
fn issue_10_a_count_that_disagrees_with_the_activities_is_refused() {
    let err = serde_json::from_str::<LeadRecord>(
        r#"{"activities": [{"type": "demo_request", "at": "2026-02-01T00:00:00Z"}],
            "demo_request_count": 0}"#,
    )
    .expect_err("disagrees");
    assert!(err.to_string().contains("demo_request_count"), "{err}");
}

/// Issue 10: missing tokens are the schema's by default ("N/A" was present to the rules and
/// missing to the model).
#[test]
fn issue_10_missing_tokens_are_the_schemas_by_default() {
    let r = rules(
        r#"[[fit]]
id = "has_country"
points = 1
when = { field = "country", present = true }
"#,
    );
    for token in ["N/A", "unknown", "-", "Select", " "] {
        let row = BTreeMap::from([("country".to_string(), RawValue::Text(token.into()))]);
        assert!(fired(&r, &row).is_empty(), "{token:?} is missing");
    }
    // A file that names its own tokens uses those only, as a schema does.
    let own = CompiledRules::from_text(
        "missing_values = [\"Select\"]\n[stages]\nmql = 1\n[[fit]]\nid = \"c\"\npoints = 1\nwhen = { field = \"country\", present = true }\n",
        "r.toml",
    )
    .expect("compiles");
    let row = BTreeMap::from([("country".to_string(), RawValue::Text("N/A".into()))]);
    assert_eq!(fired(&own, &row), ["c 1"]);
}

/// Issue 11, R9: `points = 1.7e308` was silently capped at 9e13; it is refused.
#[test]
fn issue_11_r9_absurd_points_are_refused() {
    for (key, text) in [
        (
            "points",
            "[stages]\nmql = 1\n[[fit]]\nid = \"a\"\npoints = 1.7e308\nwhen = { field = \"x\", present = true }\n",
        ),
        (
            "cap",
            "[stages]\nmql = 1\n[[engagement]]\nid = \"a\"\nactivity = \"demo_request\"\npoints = 1\ncap = 1e12\n",
        ),
        ("mql", "[stages]\nmql = -1e300\n"),
    ] {
        let problems = check_text(text, "r.toml", None);
        assert!(
            problems
                .iter()
                .any(|p| p.is_error() && p.message.contains("out of range")),
            "{key}: {problems:?}"
        );
        assert!(CompiledRules::from_text(text, "r.toml").is_err(), "{key}");
    }
    assert!(
        check_text(
            "[stages]\nmql = 1\n[[fit]]\nid = \"a\"\npoints = 1e9\nwhen = { field = \"x\", present = true }\n",
            "r.toml",
            None
        )
        .is_empty()
    );
}
