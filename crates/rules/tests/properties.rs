//! Property tests: no input makes the engine panic, reasons always add up, decay only takes.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use qualify_core::lead::{Activity, ActivityType, LeadRecord, Seniority};
use qualify_core::value::RawValue;
use qualify_rules::{CompiledRules, Decay, RuleOutcome, RulesFile, check_text};

const DEFAULT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../rules/default.toml"
));
const GATES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../rules/examples/gates-uk-eu.toml"
));
const XEDU: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/examples/xeducation-rules.toml"
));

fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid time")
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("saas".to_string()),
        Just("GB".to_string()),
        Just("Marketing Director".to_string()),
        Just("Select".to_string()),
        Just("".to_string()),
        ".{0,12}",
    ])
}

fn activity() -> impl Strategy<Value = Activity> {
    (0..ActivityType::ALL.len(), -30i64..2000)
        .prop_map(|(k, days)| Activity::new(ActivityType::ALL[k], as_of() - Duration::days(days)))
}

fn lead() -> impl Strategy<Value = LeadRecord> {
    (
        (text(), text(), text(), text(), text()),
        (
            prop::option::of(0..Seniority::ALL.len()),
            prop::option::of(0u64..100_000),
            prop::option::of(any::<f64>()),
        ),
        prop::collection::vec(activity(), 0..12),
        (
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
            prop::option::of(0u32..1000),
        ),
        prop::collection::vec(".{0,6}", 0..3),
        prop::option::of(prop_oneof![
            Just("Yes".to_string()),
            Just("No".to_string()),
            ".{0,4}"
        ]),
    )
        .prop_map(
            |(
                (email, title, industry, country, crm),
                (sen, employees, revenue),
                activities,
                (budget, need, timeline),
                tech,
                extra,
            )| {
                let mut lead = LeadRecord {
                    email: email.map(|e| {
                        format!(
                            "{e}@{}",
                            if e.len() % 2 == 0 {
                                "gmail.com"
                            } else {
                                "acme.io"
                            }
                        )
                    }),
                    job_title: title,
                    seniority: sen.map(|i| Seniority::ALL[i]),
                    industry,
                    employees,
                    annual_revenue: revenue,
                    country,
                    crm,
                    tech_stack: tech,
                    activities,
                    budget_confirmed: budget,
                    need_confirmed: need,
                    timeline_days: timeline,
                    ..LeadRecord::default()
                };
                if let Some(x) = extra {
                    lead.extra
                        .insert("Do Not Email".into(), serde_json::Value::String(x));
                }
                lead
            },
        )
}

fn sums(o: &RuleOutcome) -> bool {
    o.reasons.iter().map(|r| r.points.hundredths()).sum::<i64>() == o.score.hundredths()
        && (o.fit_score + o.engagement_score) == o.score
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_lead_evaluates_and_reasons_sum_to_score(lead in lead()) {
        for text in [DEFAULT, GATES, XEDU] {
            let rules = CompiledRules::from_text(text, "t").expect("shipped rules compile");
            let o = rules.evaluate(&lead, as_of());
            prop_assert!(sums(&o), "{o:#?}");
            prop_assert_eq!(o.gates_failed.is_empty(), o.stage != qualify_rules::Stage::Disqualified);
            let flat = rules.evaluate_flat(&lead.to_flat(), as_of());
            prop_assert!(sums(&flat), "{flat:#?}");
        }
    }

    #[test]
    fn older_activities_never_give_more_points(lead in lead(), shift in 0i64..400) {
        let rules = CompiledRules::from_text(DEFAULT, "t").expect("compiles");
        let mut older = lead.clone();
        for a in &mut older.activities {
            a.at -= Duration::days(shift);
        }
        let young = rules.evaluate(&lead, as_of());
        let old = rules.evaluate(&older, as_of());
        for r in &old.reasons {
            let before = young.reasons.iter().find(|y| y.rule == r.rule).map_or(0, |y| y.points.hundredths());
            prop_assert!(r.points.hundredths().abs() <= before.abs(), "{r:?} grew from {before}");
        }
    }

    #[test]
    fn decay_factor_is_non_increasing(a in -100.0f64..5000.0, b in 0.0f64..5000.0, h in 0.1f64..1000.0) {
        for d in [Decay::HalfLife { per_day: std::f64::consts::LN_2 / h }, Decay::Linear { per_day: h / 3000.0 }, Decay::Window { days: h }, Decay::None] {
            let (young, old) = (d.factor(a), d.factor(a + b));
            prop_assert!((0.0..=1.0).contains(&young));
            prop_assert!(old <= young, "{d:?}: {old} > {young}");
        }
    }

    #[test]
    fn arbitrary_text_parses_or_errors(text in ".{0,200}") {
        let _ = check_text(&text, "fuzz", None);
        let _ = CompiledRules::from_text(&text, "fuzz");
    }

    #[test]
    fn mutated_rules_check_or_evaluate(cut in 0usize..DEFAULT.len(), len in 0usize..40, insert in "[ =\\[\\]{}\"a-z0-9.,-]{0,8}", lead in lead()) {
        let mut text = DEFAULT.to_string();
        let start = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let end = (start + len).min(text.len());
        let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
        text.replace_range(start..end, &insert);
        let problems = check_text(&text, "m", Some(&["country".to_string()]));
        for p in &problems {
            prop_assert!(p.line >= 1 && p.column >= 1);
        }
        if let Ok(rules) = RulesFile::parse(&text, "m").and_then(|f| CompiledRules::compile(&f)) {
            let o = rules.evaluate(&lead, as_of());
            prop_assert!(sums(&o));
        }
    }

    #[test]
    fn flat_rows_of_any_values_evaluate(values in prop::collection::btree_map("[a-z_ ]{1,12}|demo_request_count|last_activity_at|employees|Lead Origin", prop_oneof![
        Just(RawValue::Missing), any::<bool>().prop_map(RawValue::Bool), any::<f64>().prop_map(RawValue::Number),
        ".{0,10}".prop_map(RawValue::Text), prop::collection::vec(".{0,4}", 0..3).prop_map(RawValue::List),
    ], 0..12)) {
        let values: BTreeMap<String, RawValue> = values;
        for text in [DEFAULT, XEDU] {
            let rules = CompiledRules::from_text(text, "t").expect("compiles");
            prop_assert!(sums(&rules.evaluate_flat(&values, as_of())));
        }
    }
}
