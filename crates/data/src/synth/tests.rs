//! Tests of the generator: reproducibility, the documented rates, and the signals the
//! generative model promises (docs/synthetic-data.md).

use std::sync::OnceLock;

use qualify_core::lead::{
    ActivityType, EmailDomainType, LeadRecord, classify_email, seniority_from_title,
};
use qualify_core::value::{RawColumn, RawValue};

use super::contact::TITLES;
use super::*;

/// 20,000 leads from seed 7, generated once for all the statistical tests.
fn big() -> &'static [SynthLead] {
    static LEADS: OnceLock<Vec<SynthLead>> = OnceLock::new();
    LEADS.get_or_init(|| generate(&SynthConfig::new(20_000, 7)))
}

fn rate<'a>(leads: impl IntoIterator<Item = &'a SynthLead>) -> (f64, usize) {
    let (mut n, mut pos) = (0usize, 0usize);
    for l in leads {
        n += 1;
        pos += usize::from(l.converted);
    }
    (pos as f64 / n.max(1) as f64, n)
}

fn share(leads: &[SynthLead], missing: impl Fn(&LeadRecord) -> bool) -> f64 {
    leads.iter().filter(|l| missing(&l.lead)).count() as f64 / leads.len() as f64
}

#[test]
fn same_seed_same_leads_and_prefix_stable() {
    let a = generate(&SynthConfig::new(300, 42));
    let b = generate(&SynthConfig::new(300, 42));
    assert_eq!(a, b);
    assert_eq!(to_jsonl(&a), to_jsonl(&b));
    let prefix = generate(&SynthConfig::new(100, 42));
    assert_eq!(prefix[..], a[..100]);
    let other = generate(&SynthConfig::new(300, 43));
    assert_ne!(a, other);
}

#[test]
fn base_rate_is_between_10_and_20_percent() {
    let (r, n) = rate(big());
    assert_eq!(n, 20_000);
    assert!((0.10..=0.20).contains(&r), "base rate {r:.4}");
}

#[test]
fn missingness_is_as_documented() {
    let leads = big();
    let near = |name: &str, got: f64, want: f64| {
        assert!(
            (got - want).abs() < 0.03,
            "{name}: missing {got:.3}, documented {want:.2}"
        );
    };
    near("job_title", share(leads, |l| l.job_title.is_none()), 0.10);
    near("employees", share(leads, |l| l.employees.is_none()), 0.15);
    near(
        "annual_revenue",
        share(leads, |l| l.annual_revenue.is_none()),
        0.30,
    );
    near("industry", share(leads, |l| l.industry.is_none()), 0.08);
    near("crm", share(leads, |l| l.crm.is_none()), 0.20);
    near(
        "tech_stack",
        share(leads, |l| l.tech_stack.is_empty()),
        0.30,
    );
    for (name, got) in [
        (
            "budget_confirmed",
            share(leads, |l| l.budget_confirmed.is_none()),
        ),
        (
            "need_confirmed",
            share(leads, |l| l.need_confirmed.is_none()),
        ),
        ("timeline_days", share(leads, |l| l.timeline_days.is_none())),
    ] {
        assert!((0.80..0.98).contains(&got), "{name}: missing {got:.3}");
    }
    let personal = share(leads, |l| {
        classify_email(l.email.as_deref()) == EmailDomainType::Personal
    });
    assert!(
        (0.10..0.25).contains(&personal),
        "personal email share {personal:.3}"
    );
}

#[test]
fn conversion_rises_with_demo_requests() {
    let leads = big();
    let by_demos = |k: usize| {
        rate(
            leads
                .iter()
                .filter(|l| l.lead.activity_count(ActivityType::DemoRequest).min(2) == k),
        )
    };
    let (r0, n0) = by_demos(0);
    let (r1, n1) = by_demos(1);
    let (r2, n2) = by_demos(2);
    assert!(
        n1 >= 200 && n2 >= 50,
        "too few demo requests: {n0}/{n1}/{n2}"
    );
    assert!(
        r0 < r1 && r1 < r2,
        "rates by demo requests: 0 → {r0:.3}, 1 → {r1:.3}, 2+ → {r2:.3}"
    );
    assert!(
        r1 >= 2.0 * r0,
        "demo request lift too small: {r1:.3} vs {r0:.3}"
    );
}

#[test]
fn negative_signals_recency_and_product_milestones_matter() {
    let leads = big();
    let (personal, _) = rate(
        leads
            .iter()
            .filter(|l| classify_email(l.lead.email.as_deref()) == EmailDomainType::Personal),
    );
    let (business, _) = rate(
        leads
            .iter()
            .filter(|l| classify_email(l.lead.email.as_deref()) == EmailDomainType::Business),
    );
    assert!(
        personal < 0.7 * business,
        "personal {personal:.3} vs business {business:.3}"
    );

    let as_of = SynthConfig::default_as_of();
    let age = |l: &SynthLead| l.lead.last_activity_at().map(|t| (as_of - t).num_days());
    let (fresh, _) = rate(leads.iter().filter(|l| age(l).is_some_and(|d| d <= 30)));
    let (stale, _) = rate(leads.iter().filter(|l| age(l).is_some_and(|d| d > 180)));
    assert!(fresh > 2.0 * stale, "fresh {fresh:.3} vs stale {stale:.3}");

    let invited = |l: &SynthLead| l.lead.activity_count(ActivityType::TeammateInvited) > 0;
    let (pql, n) = rate(leads.iter().filter(|l| invited(l)));
    let (rest, _) = rate(leads.iter().filter(|l| !invited(l)));
    assert!(
        n > 500 && pql > 1.5 * rest,
        "teammate invited {pql:.3} (n={n}) vs {rest:.3}"
    );
}

#[test]
fn titles_map_to_their_seniority_and_records_are_sane() {
    for (level, titles) in TITLES {
        for title in *titles {
            assert_eq!(seniority_from_title(title), Some(*level), "{title}");
        }
    }
    let config = SynthConfig::new(2_000, 1);
    for l in generate(&config) {
        assert!(l.created_at <= config.as_of);
        assert!(
            l.lead
                .activities
                .iter()
                .all(|a| a.at >= l.created_at && a.at <= config.as_of)
        );
        assert!(l.lead.activities.windows(2).all(|w| w[0].at <= w[1].at));
        let first = |kind| {
            l.lead
                .activities
                .iter()
                .find(|a| a.kind == kind)
                .map(|a| a.at)
        };
        if let Some(trial) = first(ActivityType::TrialSignup) {
            let milestone = [ActivityType::TeammateInvited, ActivityType::CoreFeatureUsed];
            assert!(milestone.into_iter().filter_map(first).all(|t| t >= trial));
        }
        if let Some(email) = &l.lead.email {
            let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            let personal = classify_email(Some(email)) == EmailDomainType::Personal;
            assert!(personal || domain.ends_with(".example"), "{email}");
        }
    }
}

#[test]
fn raw_table_has_the_canonical_columns_in_order() {
    let leads = generate(&SynthConfig::new(500, 3));
    let table = to_raw_table(&leads).expect("table");
    assert_eq!(table.rows(), 500);
    let mut want: Vec<String> = [
        "id",
        "email",
        "email_domain_type",
        "job_title",
        "seniority",
        "industry",
        "employees",
        "annual_revenue",
        "country",
        "crm",
        "marketing_automation",
        "tech_stack",
        "budget_confirmed",
        "need_confirmed",
        "timeline_days",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    want.extend(ActivityType::ALL.iter().map(|a| a.count_column()));
    want.extend(["last_activity_at", "created_at", "converted"].map(String::from));
    assert_eq!(table.names(), &want[..]);
    assert!(table.columns().all(|(_, c)| c.len() == 500));
    assert!(matches!(
        table.column("employees"),
        Some(RawColumn::Number(_))
    ));
    assert!(matches!(
        table.column("budget_confirmed"),
        Some(RawColumn::Bool(_))
    ));
    assert!(matches!(
        table.column("tech_stack"),
        Some(RawColumn::Text(_))
    ));
    let Some(RawColumn::Number(converted)) = table.column("converted") else {
        panic!("converted is numeric")
    };
    let positives = leads.iter().filter(|l| l.converted).count() as f64;
    assert_eq!(converted.iter().flatten().sum::<f64>(), positives);
    let row = leads
        .iter()
        .position(|l| l.lead.tech_stack.len() >= 2)
        .expect("a multi-tool stack");
    let cell = table.column("tech_stack").map(|c| c.get(row));
    assert_eq!(
        cell,
        Some(RawValue::Text(leads[row].lead.tech_stack.join(";")))
    );
}

#[test]
fn jsonl_lines_are_canonical_records_with_outcome() {
    let leads = generate(&SynthConfig::new(50, 5));
    let text = to_jsonl(&leads);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 50);
    for (line, synth) in lines.iter().zip(&leads) {
        let mut back: LeadRecord = serde_json::from_str(line).expect("a lead record");
        let converted = back.extra.remove("converted").expect("converted");
        let created = back.extra.remove("created_at").expect("created_at");
        assert_eq!(
            converted,
            serde_json::Value::from(u8::from(synth.converted))
        );
        assert_eq!(
            created.as_str(),
            Some(synth.created_at.to_rfc3339().as_str())
        );
        assert_eq!(back, synth.lead);
    }
}
