//! The worked examples of docs/concepts.md ("Worked examples"), on the rules files the
//! repository ships.

use chrono::{DateTime, TimeZone, Utc};
use qualify_core::lead::{Activity, ActivityType, LeadRecord};
use qualify_rules::{CompiledRules, Points, RuleOutcome, Stage};

const DEFAULT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../rules/default.toml"
));
const EBOOK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../rules/examples/ebook-webinar.toml"
));
const GATES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../rules/examples/gates-uk-eu.toml"
));

fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("valid time")
}

fn rules(text: &str, origin: &str) -> CompiledRules {
    CompiledRules::from_text(text, origin).unwrap_or_else(|e| panic!("{e}"))
}

/// Activities at `as_of` (age zero), so decayed points are exact.
fn acts(kinds: &[ActivityType]) -> Vec<Activity> {
    kinds
        .iter()
        .map(|&kind| Activity::new(kind, as_of()))
        .collect()
}

fn score(o: &RuleOutcome) -> f64 {
    o.score.as_f64()
}

fn assert_sums(o: &RuleOutcome) {
    let sum: i64 = o.reasons.iter().map(|r| r.points.hundredths()).sum();
    assert_eq!(sum, o.score.hundredths(), "{o:#?}");
    assert_eq!(o.fit_score + o.engagement_score, o.score);
}

fn lead_a() -> LeadRecord {
    LeadRecord {
        id: Some("A".into()),
        email: Some("sam@smallco.co.uk".into()),
        job_title: Some("Marketing Intern".into()),
        industry: Some("retail".into()),
        employees: Some(20),
        country: Some("GB".into()),
        activities: acts(&[ActivityType::BlogDownload]),
        ..LeadRecord::default()
    }
}

fn lead_b() -> LeadRecord {
    LeadRecord {
        id: Some("B".into()),
        email: Some("jo@saasco.io".into()),
        job_title: Some("Marketing Director".into()),
        industry: Some("SaaS".into()),
        employees: Some(500),
        country: Some("GB".into()),
        activities: acts(&[
            ActivityType::CaseStudyDownload,
            ActivityType::PricingPageVisit,
        ]),
        ..LeadRecord::default()
    }
}

#[test]
fn example_2_lead_a_scores_minus_8() {
    let r = rules(DEFAULT, "default.toml");
    let o = r.evaluate(&lead_a(), as_of());
    assert_eq!(score(&o), -8.0, "{o:#?}");
    assert_eq!(o.stage, Stage::Lead);
    assert_eq!(o.reasons_text(), "seniority_intern -10; blog_download +2");
    assert_eq!(o.route, Some("nurture"));
    assert_sums(&o);
}

#[test]
fn example_2_lead_b_scores_50_not_mql() {
    let r = rules(DEFAULT, "default.toml");
    let o = r.evaluate(&lead_b(), as_of());
    assert_eq!(score(&o), 50.0, "{o:#?}");
    assert_eq!(o.fit_score, Points::from_f64(35.0));
    assert_eq!(o.engagement_score, Points::from_f64(15.0));
    assert_eq!(o.stage, Stage::Lead);
    assert_sums(&o);
}

#[test]
fn example_2_lead_c_scores_75_mql_routed_to_sales() {
    let mut c = lead_b();
    c.activities.extend(acts(&[ActivityType::DemoRequest]));
    let r = rules(DEFAULT, "default.toml");
    let o = r.evaluate(&c, as_of());
    assert_eq!(score(&o), 75.0, "{o:#?}");
    assert_eq!(o.stage, Stage::Mql);
    assert_eq!(o.route, Some("sales_now"));
    let bant = o
        .frameworks
        .iter()
        .find(|f| f.name == "bant")
        .expect("bant reported");
    assert!(!bant.met);
    assert_eq!(bant.missing, ["budget", "need", "timeline"]);
    assert_sums(&o);
}

#[test]
fn example_2_negative_points_and_sql() {
    let mut c = lead_b();
    c.activities.extend(acts(&[ActivityType::DemoRequest]));
    c.budget_confirmed = Some(true);
    let rules = rules(DEFAULT, "default.toml");
    assert_eq!(rules.evaluate(&c, as_of()).stage, Stage::Sql);
    c.email = Some("jo@gmail.com".into());
    c.country = Some("US".into());
    let o = rules.evaluate(&c, as_of());
    assert_eq!(score(&o), 35.0, "{o:#?}");
    assert_eq!(o.stage, Stage::Lead);
    c.timeline_days = Some(365);
    assert_eq!(rules.evaluate(&c, as_of()).stage, Stage::Nurture);
}

#[test]
fn example_2_engagement_halves_after_90_days() {
    let mut b = lead_b();
    for a in &mut b.activities {
        a.at = as_of() - chrono::Duration::days(90);
    }
    let r = rules(DEFAULT, "default.toml");
    let o = r.evaluate(&b, as_of());
    assert_eq!(o.engagement_score, Points::from_f64(7.5), "{o:#?}");
    assert_sums(&o);
}

#[test]
fn example_1_visit_ebook_webinar_is_60_and_mql() {
    let lead = LeadRecord {
        activities: acts(&[
            ActivityType::WebsiteVisit,
            ActivityType::EbookDownload,
            ActivityType::WebinarAttended,
        ]),
        ..LeadRecord::default()
    };
    let rules = rules(EBOOK, "ebook-webinar.toml");
    let o = rules.evaluate(&lead, as_of());
    assert_eq!(score(&o), 60.0, "{o:#?}");
    assert_eq!(o.stage, Stage::Mql);
    assert_sums(&o);
    let titled = LeadRecord {
        job_title: Some("Head of Growth".into()),
        ..lead
    };
    assert_eq!(score(&rules.evaluate(&titled, as_of())), 75.0);
}

#[test]
fn example_3_small_australian_company_is_disqualified() {
    let lead = LeadRecord {
        job_title: Some("CEO".into()),
        industry: Some("saas".into()),
        employees: Some(50),
        country: Some("AU".into()),
        crm: Some("Salesforce".into()),
        activities: acts(&[
            ActivityType::DemoRequest,
            ActivityType::DemoRequest,
            ActivityType::PricingPageVisit,
        ]),
        ..LeadRecord::default()
    };
    let rules = rules(GATES, "gates-uk-eu.toml");
    let o = rules.evaluate(&lead, as_of());
    assert_eq!(o.stage, Stage::Disqualified, "{o:#?}");
    assert_eq!(o.gates_failed, ["uk_or_eu", "company_size"]);
    assert!(score(&o) >= 50.0, "points do not save it: {o:#?}");
    assert_eq!(o.route, Some("discard"));

    let fine = LeadRecord {
        employees: Some(800),
        country: Some("DE".into()),
        ..lead
    };
    let o = rules.evaluate(&fine, as_of());
    assert_eq!(o.stage, Stage::Mql, "{o:#?}");
    assert_eq!(o.route, Some("sales"));
}

#[test]
fn flat_rows_score_like_records() {
    let rules = rules(DEFAULT, "default.toml");
    let mut c = lead_b();
    c.activities.extend(acts(&[ActivityType::DemoRequest]));
    for lead in [lead_a(), lead_b(), c] {
        let record = rules.evaluate(&lead, as_of());
        let flat = rules.evaluate_flat(&lead.to_flat(), as_of());
        assert_eq!(record, flat, "{lead:?}");
    }
}

#[test]
fn outcome_serializes_with_documented_names() {
    let r = rules(DEFAULT, "default.toml");
    let o = r.evaluate(&lead_a(), as_of());
    let json = serde_json::to_value(&o).expect("serializes");
    assert_eq!(json["score"], serde_json::json!(-8));
    assert_eq!(json["stage"], "Lead");
    assert_eq!(json["reasons"][0]["rule"], "seniority_intern");
    assert_eq!(json["reasons"][0]["kind"], "fit");
    assert_eq!(json["reasons"][1]["count"], 1);
    assert_eq!(json["route"], "nurture");
}
