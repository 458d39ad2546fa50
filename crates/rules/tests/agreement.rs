//! The rules and the model see the same facts: a property test over random lead records.
//!
//! Each record is sent as JSON (so the record's own parsing runs too), then read by two
//! independent paths: the model's encoder (through `LeadRecord::to_flat`, as the server does)
//! and the rules engine (the record itself). For every boolean, number, activity count,
//! category and missing token, a generated rules file asks the question the encoder's output
//! answers, and the two must agree. The values are the ones CRM exports send: `1`, `"1"`,
//! `"yes"`, `"Y"` and `true` for a flag, numbers as text, missing tokens (`"N/A"`, `"Select"`,
//! blank), counts sent instead of activities, derived fields sent beside their source.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use qualify_core::encoder::{ColumnState, Encoder, FittedColumn, Scaling};
use qualify_core::lead::{ActivityType, EmailDomainType, LeadRecord, Seniority};
use qualify_core::schema::DEFAULT_MISSING_TOKENS;
use qualify_rules::CompiledRules;
use serde_json::{Value, json};

fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid time")
}

const BOOLS: &[&str] = &["budget_confirmed", "champion"];
const NUMBERS: &[&str] = &["employees", "visits_score"];
const COUNTS: &[ActivityType] = &[ActivityType::DemoRequest, ActivityType::WebsiteVisit];
const THRESHOLDS: &[f64] = &[-5.5, 0.5, 3.5, 120.5];

/// Flag values as CRM exports send them (each one the encoder reads).
fn flag() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        (0u8..2).prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "1", "0", "yes", "No", "Y", "n", "TRUE", " false ", "N/A", "Select", "", "null",
        ])
        .prop_map(|s| json!(s)),
        Just(Value::Null),
    ])
}

/// Numbers as numbers, as text, or missing tokens.
fn number() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop_oneof![
        (-1000i32..1000).prop_map(|n| json!(n)),
        (-1000i32..1000).prop_map(|n| json!(format!(" {n} "))),
        prop::sample::select(vec!["N/A", "", "-", "unknown"]).prop_map(|s| json!(s)),
        Just(Value::Null),
    ])
}

/// Counts sent as numbers or text, or missing.
fn count() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop_oneof![
        (0u32..20).prop_map(|n| json!(n)),
        (0u32..20).prop_map(|n| json!(n.to_string())),
        prop::sample::select(vec!["N/A", ""]).prop_map(|s| json!(s)),
    ])
}

prop_compose! {
    fn record()(
        flags in prop::collection::vec(flag(), BOOLS.len()),
        numbers in prop::collection::vec(number(), NUMBERS.len()),
        activities in prop::collection::vec((0..COUNTS.len(), 0i64..400), 0..6),
        counts in prop::collection::vec(count(), COUNTS.len()),
        last in prop::option::of(0i64..400),
        email in prop::option::of(prop::sample::select(vec!["a@gmail.com", "b@acme.io", "nobody", "N/A", ""])),
        domain in prop::option::of(prop::sample::select(vec!["business", "Personal", "missing", "N/A"])),
        title in prop::option::of(prop::sample::select(vec!["VP Sales", "Marketing Intern", "Engineer", "", "Select"])),
        seniority in prop::option::of(prop::sample::select(Seniority::ALL.to_vec())),
        both in 0u8..10,
    ) -> serde_json::Map<String, Value> {
        // Mostly a fact or its source; sometimes both (agreeing or not: a disagreeing pair
        // must be refused).
        let activities = if both < 4 { Vec::new() } else { activities };
        let counts = if both < 8 && !activities.is_empty() { vec![None; COUNTS.len()] } else { counts };
        let last = if both < 8 && !activities.is_empty() { None } else { last };
        let domain = if both < 7 && email.is_some_and(|e| e.contains('@')) { None } else { domain };
        let mut r = serde_json::Map::new();
        for (name, v) in BOOLS.iter().zip(flags) {
            if let Some(v) = v { r.insert(name.to_string(), v); }
        }
        // `employees` is a typed count of people: the record takes whole numbers only.
        match &numbers[0] {
            Some(v) if v.as_i64().is_some_and(|n| n >= 0) => { r.insert("employees".into(), v.clone()); }
            _ => {}
        }
        if let Some(v) = &numbers[1] { r.insert(NUMBERS[1].into(), v.clone()); }
        let acts: Vec<Value> = activities.iter().map(|(k, days)| json!({
            "type": COUNTS[*k].as_str(),
            "at": (as_of() - Duration::days(*days)).to_rfc3339(),
        })).collect();
        if !acts.is_empty() { r.insert("activities".into(), Value::Array(acts)); }
        for (kind, v) in COUNTS.iter().zip(counts) {
            if let Some(v) = v { r.insert(kind.count_column(), v); }
        }
        if let Some(days) = last {
            r.insert("last_activity_at".into(), json!((as_of() - Duration::days(days)).to_rfc3339()));
        }
        if let Some(e) = email { r.insert("email".into(), json!(e)); }
        if let Some(d) = domain { r.insert("email_domain_type".into(), json!(d)); }
        if let Some(t) = title { r.insert("job_title".into(), json!(t)); }
        if let Some(s) = seniority { r.insert("seniority".into(), json!(s.as_str())); }
        r
    }
}

/// An encoder over the facts under test: numbers unscaled (mean 0, std 1, no range), so the
/// encoded value is the value the model read.
fn encoder() -> Encoder {
    let tokens: Vec<String> = DEFAULT_MISSING_TOKENS
        .iter()
        .map(|t| t.to_string())
        .collect();
    let identity = ColumnState::Numeric(Scaling {
        median: 0.0,
        mean: 0.0,
        std: 1.0,
        range: None,
    });
    let column = |name: &str, state: ColumnState| FittedColumn {
        name: name.to_string(),
        missing_tokens: tokens.clone(),
        state,
    };
    let levels = |all: &[&str]| ColumnState::Categorical {
        levels: all.iter().map(|s| s.to_string()).collect(),
    };
    let mut columns: Vec<FittedColumn> = BOOLS
        .iter()
        .map(|n| column(n, ColumnState::Boolean))
        .collect();
    columns.extend(NUMBERS.iter().map(|n| column(n, identity.clone())));
    columns.extend(
        COUNTS
            .iter()
            .map(|k| column(&k.count_column(), identity.clone())),
    );
    columns.push(column(
        "last_activity_at",
        ColumnState::Timestamp(Scaling {
            median: 0.0,
            mean: 0.0,
            std: 1.0,
            range: None,
        }),
    ));
    let domains: Vec<&str> = EmailDomainType::ALL.iter().map(|d| d.as_str()).collect();
    columns.push(column("email_domain_type", levels(&domains)));
    let seniorities: Vec<&str> = Seniority::ALL.iter().map(|s| s.as_str()).collect();
    columns.push(column("seniority", levels(&seniorities)));
    serde_json::from_value(json!({ "columns": columns })).expect("an encoder")
}

/// One rule per question; rule ids say which.
fn rules() -> CompiledRules {
    let mut t = String::from("[stages]\nmql = 1\n");
    let mut fit = |id: &str, when: &str| {
        let _ = write!(t, "[[fit]]\nid = \"{id}\"\npoints = 1\nwhen = {when}\n");
    };
    for f in BOOLS {
        fit(
            &format!("{f}=true"),
            &format!("{{ field = \"{f}\", equals = true }}"),
        );
        fit(
            &format!("{f}=false"),
            &format!("{{ field = \"{f}\", equals = false }}"),
        );
        fit(
            &format!("{f}?"),
            &format!("{{ field = \"{f}\", present = true }}"),
        );
    }
    for f in NUMBERS {
        fit(
            &format!("{f}?"),
            &format!("{{ field = \"{f}\", present = true }}"),
        );
        for k in THRESHOLDS {
            fit(
                &format!("{f}>={k}"),
                &format!("{{ field = \"{f}\", min = {k} }}"),
            );
        }
    }
    fit(
        "last_activity_at?",
        "{ field = \"last_activity_at\", present = true }",
    );
    for d in EmailDomainType::ALL {
        let d = d.as_str();
        fit(
            &format!("email_domain_type={d}"),
            &format!("{{ field = \"email_domain_type\", equals = \"{d}\" }}"),
        );
    }
    for s in Seniority::ALL {
        let s = s.as_str();
        fit(
            &format!("seniority={s}"),
            &format!("{{ field = \"seniority\", equals = \"{s}\" }}"),
        );
    }
    for k in COUNTS {
        let k = k.as_str();
        let _ = write!(
            t,
            "[[engagement]]\nid = \"{k}\"\nactivity = \"{k}\"\npoints = 1\ndecay = {{}}\n"
        );
    }
    CompiledRules::from_text(&t, "agreement").expect("the generated rules compile")
}

/// What the encoder's output says each rule should do: fit rule ids that hold, and the
/// engagement points of each count.
fn expected(encoder: &Encoder, x: &[f32]) -> (Vec<String>, BTreeMap<String, f64>) {
    let mut holds = Vec::new();
    let mut points = BTreeMap::new();
    for (column, span) in encoder.column_spans() {
        let v = &x[span];
        let present = || *v.last().unwrap_or(&1.0) == 0.0;
        if BOOLS.contains(&column) {
            if present() {
                holds.push(format!("{column}?"));
                holds.push(format!("{column}={}", v[0] == 1.0));
            }
        } else if NUMBERS.contains(&column) {
            if present() {
                holds.push(format!("{column}?"));
                for k in THRESHOLDS {
                    if f64::from(v[0]) >= *k {
                        holds.push(format!("{column}>={k}"));
                    }
                }
            }
        } else if let Some(kind) = COUNTS.iter().find(|k| k.count_column() == column) {
            let n = if present() { f64::from(v[0]) } else { 0.0 };
            points.insert(kind.as_str().to_string(), n);
        } else if column == "last_activity_at" {
            if present() {
                holds.push("last_activity_at?".into());
            }
        } else {
            let levels: Vec<&str> = if column == "seniority" {
                Seniority::ALL.iter().map(|s| s.as_str()).collect()
            } else {
                EmailDomainType::ALL.iter().map(|d| d.as_str()).collect()
            };
            for (level, slot) in levels.iter().zip(v) {
                if *slot == 1.0 {
                    holds.push(format!("{column}={level}"));
                }
            }
        }
    }
    holds.sort();
    (holds, points)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn rules_and_encoder_agree_on_every_fact(json in record()) {
        let text = Value::Object(json.clone()).to_string();
        let lead: LeadRecord = match serde_json::from_str(&text) {
            Ok(lead) => lead,
            Err(e) => {
                // Refused only for a derived field that disagrees with its source.
                let why = e.to_string();
                prop_assert!(why.contains("disagrees"), "{why}\n{text}");
                return Ok(());
            }
        };
        let encoder = encoder();
        let mut x = vec![0.0f32; encoder.n_features()];
        encoder.encode_flat(&lead.to_flat(), as_of(), &mut x).expect("the encoder reads every generated value");
        let (want_holds, want_points) = expected(&encoder, &x);

        let rules = rules();
        let outcome = rules.evaluate(&lead, as_of());
        let mut holds: Vec<String> = outcome.reasons.iter()
            .filter(|r| r.kind == qualify_rules::ReasonKind::Fit)
            .map(|r| r.rule.to_string())
            .collect();
        holds.sort();
        let points: BTreeMap<String, f64> = COUNTS.iter().map(|k| {
            let p = outcome.reasons.iter().find(|r| r.rule == k.as_str()).map_or(0.0, |r| r.points.as_f64());
            (k.as_str().to_string(), p)
        }).collect();
        prop_assert_eq!(&holds, &want_holds, "{}", text);
        prop_assert_eq!(&points, &want_points, "{}", text);

        // The flat form (what `qualify rules score` reads from a file) agrees too.
        let flat = rules.evaluate_flat(&lead.to_flat(), as_of());
        let mut flat_holds: Vec<String> = flat.reasons.iter()
            .filter(|r| r.kind == qualify_rules::ReasonKind::Fit)
            .map(|r| r.rule.to_string())
            .collect();
        flat_holds.sort();
        prop_assert_eq!(&flat_holds, &want_holds, "flat: {}", text);
    }
}
