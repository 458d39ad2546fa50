//! A hand-built log of five leads whose every figure was worked out by hand (in the comments),
//! against what `monitor` reports; calibration also against qualify-eval on the hand-labelled
//! rows.

use chrono::{DateTime, Utc};
use qualify_core::history::OutcomeKind;
use qualify_core::scorelog::{ScoreLogEntry, ScoreSource};
use qualify_monitor::reasons::ReasonFamily;
use qualify_monitor::{EventRecord, MonitorConfig, MonitorInput, OutcomeRecord, monitor};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

fn entry(lead: &str, at: &str, p: f64, stage: &str, holdout: bool) -> ScoreLogEntry {
    ScoreLogEntry {
        lead_id: Some(lead.into()),
        scored_at: t(at),
        as_of: t(at),
        source: ScoreSource::Stored,
        model_name: "m".into(),
        model_version: "v1".into(),
        rules_hash: "h".into(),
        propensity: p,
        rule_score: p * 100.0,
        stage: stage.into(),
        route: None,
        reasons: vec![],
        holdout,
    }
}

fn outcome(lead: &str, at: &str, kind: OutcomeKind, reason: Option<&str>) -> OutcomeRecord {
    OutcomeRecord {
        lead_id: lead.into(),
        at: t(at),
        outcome: kind,
        reason: reason.map(str::to_string),
    }
}

fn event(lead: &str, kind: &str, at: &str) -> EventRecord {
    EventRecord {
        lead_id: lead.into(),
        kind: kind.into(),
        at: t(at),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn every_figure_as_worked_out_by_hand() {
    use OutcomeKind::{Converted, Disqualified};
    let entries = vec![
        entry("A", "2026-03-02T00:00:00Z", 0.1, "Lead", false),
        entry("A", "2026-03-03T10:00:00Z", 0.4, "MQL", false), // same week: a repeat
        entry("A", "2026-03-10T00:00:00Z", 0.6, "SQL", false),
        entry("B", "2026-03-04T09:00:00Z", 0.3, "MQL", true),
        entry("C", "2026-04-06T00:00:00Z", 0.5, "MQL", false),
        entry("C", "2026-04-07T00:00:00Z", 0.5, "SQL", false), // same week: a repeat
        entry("D", "2026-04-01T00:00:00Z", 0.05, "Lead", true),
        entry("E", "2026-06-29T12:00:00Z", 0.2, "MQL", false), // not matured
    ];
    let outcomes = vec![
        outcome("A", "2026-03-20T00:00:00Z", Converted, None),
        outcome(
            "B",
            "2026-03-25T00:00:00Z",
            Disqualified,
            Some("Bad Timing"),
        ),
        outcome("B", "2026-05-01T00:00:00Z", Converted, None),
        outcome(
            "D",
            "2026-04-02T00:00:00Z",
            Disqualified,
            Some("not_decision_maker"),
        ),
    ];
    let events = vec![
        event("A", "sales_contacted", "2026-03-03T20:00:00Z"), // 10 h after MQL: on time
        event("B", "demo_request", "2026-03-04T08:00:00Z"),    // demo: a 1 h deadline
        event("B", "sales_contacted", "2026-03-04T12:00:00Z"), // 3 h after: late
        event("B", "web_visit", "2026-04-10T00:00:00Z"),       // re-engaged
    ];
    let config = MonitorConfig {
        label_window_days: 30,
        ..MonitorConfig::default()
    };
    let input = MonitorInput {
        events: Some(&events),
        ..MonitorInput::new(&entries, &outcomes, t("2026-06-30T00:00:00Z"))
    };
    let r = monitor(&input, &config).expect("monitor");

    // Labels (window 30 days): A@03-02 converted (03-20), A@03-10 converted, B@03-04 not
    // (its next outcome is the disqualification), C@04-06 not, D@04-01 not; E not matured.
    assert_eq!(
        (
            r.sample.entries,
            r.sample.repeats_in_week,
            r.sample.not_matured,
            r.sample.matured
        ),
        (8, 2, 1, 5)
    );
    let (y, p) = (
        [true, true, false, false, false],
        [0.1, 0.6, 0.3, 0.5, 0.05],
    );
    let all = r.calibration.overall.as_ref().expect("overall");
    assert!(close(all.expected, 1.55));
    assert_eq!(all.observed, 2);
    let want = qualify_eval::ece(&y, &p, 10).expect("ece");
    assert!(close(all.ece, want), "{} vs {want}", all.ece);
    let holdout = r.calibration.holdout.as_ref().expect("holdout");
    let want = qualify_eval::ece(&[false, false], &[0.3, 0.05], 10).expect("ece");
    assert!(close(holdout.ece, want));
    // Weeks of 03-02 (A, B), 03-09 (A), 03-30 (D), 04-06 (C).
    let weeks: Vec<String> = r
        .calibration
        .cohorts
        .iter()
        .map(|c| c.week.to_string())
        .collect();
    assert_eq!(
        weeks,
        ["2026-03-02", "2026-03-09", "2026-03-30", "2026-04-06"]
    );
    assert_eq!(r.calibration.cohorts[0].figures.rows, 2);

    // MQL->SQL: A, B, C qualified more than 30 days before; A and C reached SQL: 2/3.
    let f = &r.funnel;
    assert_eq!((f.mql_to_sql.leads, f.mql_to_sql.reached), (3, 2));
    // SQL->won: A (SQL 03-10, won 03-20) and C (SQL 04-07, never): 1/2.
    assert_eq!((f.sql_to_won.leads, f.sql_to_won.reached), (2, 1));
    // Qualified per month: March 2 (A, B), April 1 (C), May 0, June 1 (E, partial).
    let months: Vec<(String, usize)> = f
        .monthly
        .iter()
        .map(|m| (m.month.clone(), m.qualified))
        .collect();
    assert_eq!(
        months,
        [
            ("2026-03".into(), 2),
            ("2026-04".into(), 1),
            ("2026-05".into(), 0),
            ("2026-06".into(), 1)
        ]
    );
    assert!(close(f.monthly[1].growth.expect("april"), -0.5));
    assert_eq!(f.lead_velocity, Some(-1.0), "May, the last complete month");
    // Time to conversion: A 16.5833 days (03-03 10:00 -> 03-20), B 57.625 (03-04 09:00 ->
    // 05-01); nearest rank: median the first, p90 the second.
    let ttc = f.time_to_conversion.as_ref().expect("time to conversion");
    assert_eq!(ttc.converted, 2);
    assert!(close(ttc.median_days, 16.0 + 14.0 / 24.0));
    assert!(close(ttc.p90_days, 57.625));

    // SLA: A on time, B late (demo: 1 h), C overdue since 04-07 00:00, E pending.
    let sla = r.sla.as_ref().expect("sla");
    assert_eq!(
        (sla.mqls, sla.on_time, sla.late, sla.overdue, sla.pending),
        (4, 1, 1, 1, 1)
    );
    assert!(close(sla.share_on_time.expect("share"), 1.0 / 3.0));
    assert_eq!(sla.overdue_leads.len(), 1);
    assert_eq!(sla.overdue_leads[0].lead_id, "C");
    assert!(close(sla.overdue_leads[0].hours_overdue, 84.0 * 24.0));

    // Reasons: B bad timing at its MQL score, re-engaged and converted; D bad fit.
    let re = &r.reasons;
    assert_eq!(re.disqualified, 2);
    let b = re
        .reasons
        .iter()
        .find(|x| x.reason == "bad_timing")
        .expect("bad_timing");
    assert_eq!(b.family, ReasonFamily::BadTiming);
    assert_eq!(b.by_stage_route.get("MQL / -"), Some(&1));
    let d = re
        .reasons
        .iter()
        .find(|x| x.reason == "not_decision_maker")
        .expect("ndm");
    assert_eq!(d.by_stage_route.get("Lead / -"), Some(&1));
    assert_eq!(
        (
            re.bad_timing.disqualified,
            re.bad_timing.re_engaged,
            re.bad_timing.converted
        ),
        (1, 1, 1)
    );
    assert_eq!((re.bad_fit.disqualified, re.bad_fit.re_engaged), (1, 0));

    // Rules vs model on the 5 rows; the holdout's 2 rows hold one class: left out, said so.
    let all = r.rules_vs_model.all.as_ref().expect("compare");
    assert_eq!((all.leads, all.conversions), (5, 2));
    assert!(r.rules_vs_model.holdout.is_none());
    assert!(!r.rules_vs_model.notes.is_empty());

    // No reference given: drift says so.
    assert!(r.drift.score.is_none() && !r.drift.notes.is_empty());
    let gauges = r.headline.gauges();
    assert!(
        gauges
            .iter()
            .any(|g| g.0 == "qualify_monitor_ece" && close(g.2, r.headline.ece.expect("ece")))
    );

    // The page renders every plot.
    let page = qualify_monitor::html::page(&r).expect("page");
    assert_eq!(
        page.matches("<svg").count(),
        qualify_monitor::html::PLOTS.len()
    );
}

#[test]
fn bad_input_is_an_error_not_a_figure() {
    let mut e = entry("A", "2026-03-02T00:00:00Z", 1.5, "Lead", false);
    let input = MonitorInput::new(std::slice::from_ref(&e), &[], t("2026-06-30T00:00:00Z"));
    let err = monitor(&input, &MonitorConfig::default()).expect_err("propensity");
    assert!(err.to_string().contains("propensity 1.5"), "{err}");
    e.propensity = 0.5;
    e.stage = "Hot".into();
    let input = MonitorInput::new(std::slice::from_ref(&e), &[], t("2026-06-30T00:00:00Z"));
    let err = monitor(&input, &MonitorConfig::default()).expect_err("stage");
    assert!(err.to_string().contains("\"Hot\""), "{err}");
    let bad = MonitorConfig {
        sla_hours: -1.0,
        ..MonitorConfig::default()
    };
    assert!(monitor(&input, &bad).is_err());
}
