//! Evaluating compiled rules on one lead.
//!
//! The order is fixed and matters: frameworks first (gates, points and stages may refer to
//! them), then gates, fit and engagement points, nurture conditions, the stage (which may read
//! the scores) and finally the route (which may read the stage). The `_into` forms reuse an
//! outcome's buffers, so a caller scoring many leads allocates nothing per lead once the
//! buffers have grown (core's email and title classifiers aside, see the crate docs).

use chrono::{DateTime, Utc};
use qualify_core::lead::LeadRecord;

use crate::compile::{CompiledRules, Mode};
use crate::cond::{Lookup, Val};
use crate::field::{Field, FieldKind, Pseudo};
use crate::outcome::{Points, Reason, ReasonKind, RuleOutcome, Stage};
use crate::view::{FlatRow, FlatSource, RecordSource, Source};

/// One lead as conditions see it, plus what the engine has decided so far.
struct Env<'a, S> {
    src: &'a S,
    missing: &'a [Box<str>],
    frameworks: u64,
    scores: Option<[f64; 3]>,
    stage: Option<Stage>,
}

impl<S: Source> Lookup for Env<'_, S> {
    fn value(&self, f: &Field) -> Val<'_> {
        match f.kind {
            FieldKind::Pseudo(p) => match (p, self.scores, self.stage) {
                (Pseudo::Score, Some(s), _) => Val::Num(s[0]),
                (Pseudo::FitScore, Some(s), _) => Val::Num(s[1]),
                (Pseudo::EngagementScore, Some(s), _) => Val::Num(s[2]),
                (Pseudo::Stage, _, Some(stage)) => Val::Text(stage.as_str()),
                _ => Val::Missing,
            },
            _ => self.src.value(f).normalize(self.missing),
        }
    }

    fn framework_met(&self, index: u32) -> bool {
        index < 64 && self.frameworks & (1u64 << index) != 0
    }

    fn is_missing(&self, text: &str) -> bool {
        qualify_core::value::is_missing_text(text, self.missing)
    }
}

impl CompiledRules {
    /// Evaluates a canonical lead record as of `as_of` (decay is measured back from it).
    pub fn evaluate(&self, lead: &LeadRecord, as_of: DateTime<Utc>) -> RuleOutcome<'_> {
        let mut out = RuleOutcome::default();
        self.evaluate_into(lead, as_of, &mut out);
        out
    }

    /// As [`CompiledRules::evaluate`], writing into `out` and reusing its buffers.
    pub fn evaluate_into<'r>(
        &'r self,
        lead: &LeadRecord,
        as_of: DateTime<Utc>,
        out: &mut RuleOutcome<'r>,
    ) {
        self.run(&RecordSource::new(lead), as_of, out);
    }

    /// Evaluates a flat row (CSV/Parquet): activities are `<type>_count` columns, all dated
    /// `last_activity_at` for decay (undecayed when that column is absent).
    pub fn evaluate_flat<R: FlatRow + ?Sized>(
        &self,
        row: &R,
        as_of: DateTime<Utc>,
    ) -> RuleOutcome<'_> {
        let mut out = RuleOutcome::default();
        self.evaluate_flat_into(row, as_of, &mut out);
        out
    }

    /// As [`CompiledRules::evaluate_flat`], writing into `out` and reusing its buffers.
    pub fn evaluate_flat_into<'r, R: FlatRow + ?Sized>(
        &'r self,
        row: &R,
        as_of: DateTime<Utc>,
        out: &mut RuleOutcome<'r>,
    ) {
        self.run(&FlatSource::new(row, &self.missing), as_of, out);
    }

    fn run<'r, S: Source>(&'r self, src: &S, as_of: DateTime<Utc>, out: &mut RuleOutcome<'r>) {
        out.clear();
        let mut env = Env {
            src,
            missing: &self.missing,
            frameworks: 0,
            scores: None,
            stage: None,
        };

        out.frameworks.truncate(self.frameworks.len());
        out.frameworks
            .resize_with(self.frameworks.len(), Default::default);
        for (i, (fw, fo)) in self
            .frameworks
            .iter()
            .zip(out.frameworks.iter_mut())
            .enumerate()
        {
            fo.name = &fw.name;
            fo.missing.clear();
            fo.missing.extend(
                fw.criteria
                    .iter()
                    .filter(|(_, c)| !c.holds(&env))
                    .map(|(n, _)| &**n),
            );
            fo.met = fo.missing.is_empty();
            if fo.met && i < 64 {
                env.frameworks |= 1u64 << i;
            }
        }

        out.gates_failed.extend(
            self.gates
                .iter()
                .filter(|g| !g.cond.holds(&env))
                .map(|g| &*g.id),
        );

        let mut fit = Points::ZERO;
        for r in self.fit.iter() {
            if r.points != Points::ZERO && r.when.holds(&env) {
                fit = fit + r.points;
                out.reasons.push(Reason {
                    rule: &r.id,
                    kind: ReasonKind::Fit,
                    description: &r.description,
                    points: r.points,
                    count: None,
                });
            }
        }

        let mut engagement = Points::ZERO;
        for r in self.engagement.iter() {
            let (raw, count) = match &r.mode {
                Mode::Activity(kind, column) => {
                    let (weight, n) = src.activity(*kind, column, r.decay, as_of);
                    (weight * r.points, Some(n))
                }
                Mode::PerUnit(f) => {
                    let units = env
                        .value(f)
                        .number()
                        .filter(|v| v.is_finite())
                        .unwrap_or(0.0);
                    (units * r.points * src.unit_factor(r.decay, as_of), None)
                }
                Mode::When(c) => (if c.holds(&env) { r.points } else { 0.0 }, None),
            };
            let capped = r.cap.map_or(raw, |cap| raw.clamp(-cap, cap));
            let points = Points::from_f64(capped);
            if points != Points::ZERO {
                engagement = engagement + points;
                out.reasons.push(Reason {
                    rule: &r.id,
                    kind: ReasonKind::Engagement,
                    description: &r.description,
                    points,
                    count,
                });
            }
        }

        out.fit_score = fit;
        out.engagement_score = engagement;
        out.score = fit + engagement;
        let (score, fit, engagement) = (out.score.as_f64(), fit.as_f64(), engagement.as_f64());
        env.scores = Some([score, fit, engagement]);

        out.nurture.extend(
            self.nurture
                .iter()
                .filter(|n| n.cond.holds(&env))
                .map(|n| &*n.id),
        );

        out.stage = if !out.gates_failed.is_empty() {
            Stage::Disqualified
        } else if !out.nurture.is_empty() {
            Stage::Nurture
        } else {
            let mql = score >= self.mql
                && self.mql_fit.is_none_or(|t| fit >= t)
                && self.mql_engagement.is_none_or(|t| engagement >= t);
            if mql && self.sql.as_ref().is_some_and(|c| c.holds(&env)) {
                Stage::Sql
            } else if self.pql.as_ref().is_some_and(|c| c.holds(&env)) {
                Stage::Pql
            } else if mql {
                Stage::Mql
            } else {
                Stage::Lead
            }
        };
        env.stage = Some(out.stage);

        out.route = self
            .routes
            .iter()
            .find(|r| r.cond.holds(&env))
            .map(|r| &*r.id)
            .or(self.default_route.as_deref());
    }
}
