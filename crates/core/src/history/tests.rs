//! The batch path and the record path against each other and against a naive definition, on
//! random event logs and moments; events at or after a moment change nothing.

use chrono::{DateTime, Utc};
use proptest::prelude::*;

use super::*;
use crate::lead::{Activity, EventType};

const HOUR: i64 = 3_600_000;
/// Types the random logs draw from; the spec knows the first three.
const TYPES: [&str; 5] = ["demo_request", "Phone Call", "a", "invoice_paid", "zz"];

fn spec() -> HistorySpec {
    let known = TYPES[..3]
        .iter()
        .map(|t| EventType::new(t).expect("type"))
        .collect();
    HistorySpec {
        windows_days: vec![1, 7, 30],
        half_life_days: 5.0,
        ..HistorySpec::new(known, "created_at")
    }
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("in range")
}

/// One lead: creation, events `(type, at)` in any order, and moments.
#[derive(Debug, Clone)]
struct Lead {
    created: i64,
    events: Vec<(usize, i64)>,
    moments: Vec<i64>,
}

fn lead() -> impl Strategy<Value = Lead> {
    (
        0i64..100 * 24,
        prop::collection::vec((0..TYPES.len(), 0i64..200 * 24), 0..25),
        prop::collection::vec(-10i64 * 24..210 * 24, 1..5),
    )
        .prop_map(|(created, events, moments)| Lead {
            created: created * HOUR,
            // Whole hours: ties between events, and between events and moments, are common.
            events: events.into_iter().map(|(k, h)| (k, h * HOUR)).collect(),
            moments: moments.into_iter().map(|h| h * HOUR).collect(),
        })
}

fn activities(lead: &Lead) -> Vec<Activity> {
    lead.events
        .iter()
        .map(|&(k, at)| Activity::new(EventType::new(TYPES[k]).expect("type"), time(at)))
        .collect()
}

/// The batch path: a log of every lead, restricted to the spec, over every moment.
fn batch(spec: &HistorySpec, leads: &[Lead]) -> Vec<f64> {
    let mut builder = EventLogBuilder::new(leads.len());
    for (i, lead) in leads.iter().enumerate() {
        for &(k, at) in &lead.events {
            builder.push(i, at, &EventType::new(TYPES[k]).expect("type"));
        }
    }
    let (log, _) = builder.finish().for_spec(&spec.event_types);
    let created: Vec<i64> = leads.iter().map(|l| l.created).collect();
    let moments: Vec<Moment> = leads
        .iter()
        .enumerate()
        .flat_map(|(lead, l)| l.moments.iter().map(move |&at| Moment { lead, at }))
        .collect();
    spec.batch_features(&log, &created, &moments)
}

/// The record path: each lead's activities, one moment at a time.
fn records(spec: &HistorySpec, leads: &[Lead]) -> Vec<f64> {
    leads
        .iter()
        .flat_map(|l| {
            let acts = activities(l);
            l.moments
                .iter()
                .flat_map(move |&at| {
                    spec.record_features(&acts, Some(time(l.created)), time(at))
                        .values
                })
                .collect::<Vec<f64>>()
        })
        .collect()
}

/// The definitions of docs/history.md, written out naively (no sorting, no search).
fn naive(spec: &HistorySpec, lead: &Lead, moment: i64) -> Vec<f64> {
    let day = DAY_MS as f64;
    let mut out = Vec::new();
    let mut any: Option<i64> = None;
    for t in &spec.event_types {
        let ages: Vec<i64> = lead
            .events
            .iter()
            .filter(|(k, at)| TYPES[*k] == t.as_str() && *at < moment)
            .map(|(_, at)| moment - at)
            .collect();
        for w in &spec.windows_days {
            let w = i64::from(*w) * DAY_MS;
            out.push(ages.iter().filter(|&&a| a <= w).count() as f64);
        }
        out.push(
            ages.iter()
                .map(|&a| 0.5f64.powf(a as f64 / day / spec.half_life_days))
                .sum(),
        );
        let youngest = ages.iter().copied().min();
        out.push(youngest.map_or(f64::NAN, |a| a as f64 / day));
        any = match (any, youngest) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
    }
    out.push((moment - lead.created) as f64 / day);
    out.push(any.map_or(f64::NAN, |a| a as f64 / day));
    out
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The trainer's columnar path and the runtime's record path agree bit for bit.
    #[test]
    fn batch_equals_records(leads in prop::collection::vec(lead(), 1..6)) {
        let spec = spec();
        let (b, r) = (batch(&spec, &leads), records(&spec, &leads));
        prop_assert_eq!(b.len(), r.len());
        for (i, (x, y)) in b.iter().zip(&r).enumerate() {
            prop_assert!(same(*x, *y), "value {i}: batch {x} record {y}");
        }
    }

    /// Both agree with the naive definitions (to rounding: the decayed sums add in another
    /// order).
    #[test]
    fn features_follow_the_definitions(lead in lead()) {
        let spec = spec();
        let got = records(&spec, std::slice::from_ref(&lead));
        let want: Vec<f64> = lead.moments.iter().flat_map(|&m| naive(&spec, &lead, m)).collect();
        for (i, (x, y)) in got.iter().zip(&want).enumerate() {
            prop_assert!(
                same(*x, *y) || (x - y).abs() <= 1e-12 * y.abs().max(1.0),
                "value {i}: {x} vs {y}"
            );
        }
    }

    /// Events at or after a moment change none of its features, in either path.
    #[test]
    fn later_events_change_nothing(
        lead in lead(),
        extra in prop::collection::vec((0..TYPES.len(), 0i64..100 * 24), 1..10),
    ) {
        let spec = spec();
        let moment = lead.moments[0];
        let base = Lead { moments: vec![moment], ..lead.clone() };
        let mut more = base.clone();
        more.events.extend(extra.iter().map(|&(k, h)| (k, moment + h * HOUR)));
        let leads = [base, more];
        let b = batch(&spec, &leads);
        let r = records(&spec, &leads);
        let w = spec.width();
        for v in [&b, &r] {
            for i in 0..w {
                prop_assert!(same(v[i], v[w + i]), "feature {i}: {} vs {}", v[i], v[w + i]);
            }
        }
    }
}

#[test]
fn unknown_types_are_counted_and_ignored() {
    let spec = spec();
    let lead = Lead {
        created: 0,
        events: vec![(3, HOUR), (3, 2 * HOUR), (4, HOUR), (0, HOUR)],
        moments: vec![10 * HOUR],
    };
    let f = spec.record_features(&activities(&lead), Some(time(0)), time(10 * HOUR));
    let unknown: Vec<(String, usize)> = f
        .unknown_types
        .iter()
        .map(|(t, n)| (t.to_string(), *n))
        .collect();
    assert_eq!(
        unknown,
        vec![("invoice_paid".to_string(), 2), ("zz".to_string(), 1)]
    );
    let names = spec.feature_names();
    let last = names
        .iter()
        .position(|n| n == DAYS_SINCE_LAST_EVENT)
        .expect("column");
    assert_eq!(
        f.values[last],
        9.0 / 24.0,
        "only known types count as any kind"
    );
}

#[test]
fn spec_rules_are_checked() {
    let ok = spec();
    assert_eq!(ok.validate(), Ok(()));
    assert_eq!(ok.width(), 3 * 5 + 2);
    assert_eq!(
        ok.feature_names()[..5],
        [
            "demo_request_1d",
            "demo_request_7d",
            "demo_request_30d",
            "demo_request_decayed",
            "demo_request_days_since"
        ]
    );
    for bad in [
        HistorySpec {
            windows_days: vec![7, 7],
            ..spec()
        },
        HistorySpec {
            windows_days: vec![0, 7],
            ..spec()
        },
        HistorySpec {
            half_life_days: 0.0,
            ..spec()
        },
        HistorySpec {
            label_window_days: 0,
            ..spec()
        },
        HistorySpec {
            offsets_days: vec![],
            ..spec()
        },
        HistorySpec {
            offsets_days: vec![7, 0],
            ..spec()
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
    let mut twice = spec();
    twice.event_types.push(EventType::new("a").expect("type"));
    assert!(matches!(
        twice.validate(),
        Err(HistoryError::DuplicateType { .. })
    ));
    assert_eq!(
        ok.target(),
        "probability of converting within 90 days of the scoring moment"
    );
}
