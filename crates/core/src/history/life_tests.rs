//! The policy, the open intervals, the moments and the labels of docs/history.md, by example
//! and on random lives.

use proptest::prelude::*;

use super::*;

const W: i64 = 90;

fn won(at: i64) -> Outcome {
    Outcome::converted(at)
}

fn lost(at: i64) -> Outcome {
    Outcome::disqualified(at, Some(ReasonFamily::BadFit))
}

fn later(at: i64) -> Outcome {
    Outcome::disqualified(at, Some(ReasonFamily::BadTiming))
}

fn ev(at: &[i64]) -> Vec<Ev> {
    at.iter().map(|&at| Ev { at, kind: 0 }).collect()
}

fn life<'a>(created: i64, outcomes: &'a [Outcome], events: &'a [Ev]) -> Life<'a> {
    Life {
        created,
        outcomes,
        events,
    }
}

#[test]
fn reasons_map_to_families() {
    assert_eq!(normalise(" Not Decision-Maker "), "not_decision_maker");
    assert_eq!(family_of(Some("No Budget")), Some(ReasonFamily::BadFit));
    assert_eq!(family_of(Some("not now")), Some(ReasonFamily::BadTiming));
    assert_eq!(family_of(Some("competitor")), Some(ReasonFamily::Other));
    assert_eq!(family_of(Some("  ")), None);
    assert_eq!(family_of(None), None);
}

#[test]
fn the_policy_accepts_and_refuses_the_documented_pairs() {
    let ok = |v: Vec<Outcome>| Outcomes::new(v).map(|o| o.as_slice().to_vec());
    assert_eq!(ok(vec![won(5), later(1)]), Ok(vec![later(1), won(5)]));
    assert!(ok(vec![later(1), later(3), lost(9)]).is_ok());
    let why = |v: Vec<Outcome>| Outcomes::new(v).map_err(|c| (c.first, c.second, c.why));
    assert_eq!(
        why(vec![won(3), later(3)]).err(),
        Some((0, 1, ConflictKind::SameInstant))
    );
    assert_eq!(
        why(vec![later(1), won(3), lost(4)]).err(),
        Some((1, 2, ConflictKind::AfterConversion))
    );
    assert_eq!(
        why(vec![lost(1), won(3)]).err(),
        Some((
            0,
            1,
            ConflictKind::AfterFinal {
                family: Some(ReasonFamily::BadFit)
            }
        ))
    );
    assert_eq!(
        why(vec![Outcome::disqualified(1, None), later(3)]).err(),
        Some((0, 1, ConflictKind::AfterFinal { family: None }))
    );
    let other = Outcome::disqualified(1, Some(ReasonFamily::Other));
    assert!(why(vec![other, won(2)]).is_err());
}

#[test]
fn labels_follow_the_documented_rules() {
    let end = 1000;
    let label = |m: i64, o: &[Outcome]| life(0, o, &[]).label_at(m, W, end);
    assert_eq!(label(100, &[won(150)]), Label::Converted);
    assert_eq!(label(100, &[won(190)]), Label::Converted, "edge");
    assert_eq!(label(100, &[won(191)]), Label::NotConverted);
    assert_eq!(label(100, &[lost(120)]), Label::NotConverted);
    assert_eq!(label(100, &[]), Label::NotConverted);
    assert_eq!(label(950, &[]), Label::Censored);
    // An incomplete window is censored whatever happened before the end: keeping these
    // would choose moments by their outcome.
    assert_eq!(label(950, &[lost(960)]), Label::Censored);
    assert_eq!(label(950, &[won(980)]), Label::Censored);
    assert_eq!(
        label(910, &[won(1000)]),
        Label::Converted,
        "complete window"
    );
    // An outcome after the end has not happened yet.
    assert_eq!(label(950, &[won(1010)]), Label::Censored);
    assert_eq!(label(100, &[won(1010)]), Label::NotConverted);
    assert_eq!(label(150, &[won(150)]), Label::Closed);
    assert_eq!(
        label(1100, &[won(1050)]),
        Label::Censored,
        "closed after the end"
    );
    assert_eq!(Label::Censored.converted(), None);
    // A conversion after a bad-timing disqualification counts for the moments before it.
    assert_eq!(label(100, &[later(120), won(180)]), Label::Converted);
}

#[test]
fn a_bad_timing_lead_that_re_engages_is_open_again() {
    let outcomes = [later(100), won(400)];
    let events = ev(&[50, 100, 250, 300]);
    let l = life(0, &outcomes, &events);
    assert_eq!(l.intervals(), vec![(0, 100), (250, 400)]);
    assert!(l.is_open(99) && !l.is_open(100) && !l.is_open(249));
    assert!(l.is_open(250) && l.is_open(399) && !l.is_open(400));
    let offsets = [0, 7, 14, 30, 60, 200];
    assert_eq!(
        l.training_moments(&offsets, 1000),
        vec![0, 7, 14, 30, 60, 250, 257, 264, 280, 310]
    );
    assert_eq!(l.label_at(310, W, 1000), Label::Converted);
    assert_eq!(l.label_at(200, W, 1000), Label::Closed);
    // Without a re-engaging event it stays closed; a bad fit never reopens.
    assert_eq!(life(0, &outcomes, &ev(&[50])).intervals(), vec![(0, 100)]);
    let fit = [lost(100)];
    assert_eq!(life(0, &fit, &events).intervals(), vec![(0, 100)]);
    // Open forever after re-engaging when nothing follows; an event at the next outcome's
    // instant does not re-engage.
    let once = [later(100)];
    assert_eq!(
        life(0, &once, &events).intervals(),
        vec![(0, 100), (250, i64::MAX)]
    );
    assert_eq!(life(0, &outcomes, &ev(&[400])).intervals(), vec![(0, 100)]);
}

#[test]
fn moments_stop_at_the_outcome_and_the_end() {
    let offsets = [0, 7, 14, 30, 60];
    let moments = |o: &[Outcome], end: i64| life(100, o, &[]).training_moments(&offsets, end);
    assert_eq!(moments(&[], 1000), vec![100, 107, 114, 130, 160]);
    assert_eq!(moments(&[won(114)], 1000), vec![100, 107]);
    assert!(moments(&[lost(100)], 1000).is_empty());
    assert_eq!(moments(&[], 131), vec![100, 107, 114, 130]);
    assert_eq!(moments(&[won(2000)], 120), vec![100, 107, 114]);
    let o = [won(150)];
    assert!(life(100, &o, &[]).is_open(149));
    assert!(!life(100, &o, &[]).is_open(150));
    assert!(!life(100, &[], &[]).is_open(99));
}

/// A random life: creation, bad-timing disqualifications, then a final outcome at `last`,
/// and events.
fn random_life() -> impl Strategy<Value = (i64, Vec<i64>, i64, Vec<i64>)> {
    (
        0i64..500,
        prop::collection::btree_set(0i64..700, 0..4),
        0i64..1500,
        prop::collection::vec(0i64..1500, 0..8),
    )
        .prop_map(|(created, timing, last, mut events)| {
            events.sort_unstable();
            // A set: distinct, ascending; the final outcome comes strictly after them.
            let timing: Vec<i64> = timing.into_iter().map(|t| created + t).collect();
            let last = timing.last().copied().unwrap_or(created) + 1 + last % 800;
            (created, timing, last, events)
        })
}

proptest! {
    /// Censoring never looks at what happened: whether a moment is kept depends on the
    /// moment, the window and the end of the data (and whether the lead is open), never on
    /// whether the lead's final outcome is a conversion or a final disqualification at the
    /// same time, re-engagements included. Keeping the incomplete windows that ended in a
    /// conversion would raise the kept moments' conversion rate.
    #[test]
    fn kept_moments_do_not_depend_on_the_outcome(
        (created, timing, last, events) in random_life(),
        offsets in prop::collection::btree_set(0i64..400, 1..6),
        window in 1i64..300,
        end in 0i64..1200,
    ) {
        let offsets: Vec<i64> = offsets.into_iter().collect();
        let events = ev(&events);
        let kept = |final_outcome: Option<Outcome>| -> Vec<i64> {
            let mut v: Vec<Outcome> = timing.iter().map(|&t| later(t)).collect();
            v.extend(final_outcome);
            let outcomes = Outcomes::new(v).expect("a valid life");
            let l = life(created, outcomes.as_slice(), &events);
            l.training_moments(&offsets, end)
                .into_iter()
                .filter(|&m| l.label_at(m, window, end).converted().is_some())
                .collect()
        };
        let as_won = kept(Some(won(last)));
        prop_assert_eq!(&as_won, &kept(Some(lost(last))));
        for &m in &as_won {
            prop_assert!(m + window <= end, "an incomplete window was kept");
        }
        // A lead still open keeps the same moments as long as its outcome is after the end.
        if last > end {
            prop_assert_eq!(&as_won, &kept(None));
        }
    }

    /// Every training moment is open and labelled; the intervals are disjoint and in order.
    #[test]
    fn training_moments_are_open(
        (created, timing, last, events) in random_life(),
        offsets in prop::collection::btree_set(0i64..400, 1..6),
        end in 0i64..2000,
    ) {
        let offsets: Vec<i64> = offsets.into_iter().collect();
        let events = ev(&events);
        let mut v: Vec<Outcome> = timing.iter().map(|&t| later(t)).collect();
        v.push(won(last));
        let outcomes = Outcomes::new(v).expect("a valid life");
        let l = life(created, outcomes.as_slice(), &events);
        let intervals = l.intervals();
        for pair in intervals.windows(2) {
            prop_assert!(pair[0].1 <= pair[1].0);
        }
        for m in l.training_moments(&offsets, end) {
            prop_assert!(m < end && l.is_open(m) && !l.closed_at(m, end));
        }
    }
}
