//! Semantic checks of a parsed rules file: what serde cannot see.
//!
//! Duplicate ids, inverted ranges, conditions with no or two operators, regexes that do not
//! compile, values of the wrong kind for a canonical field, fields a data set does not have,
//! references to missing frameworks, and thresholds no lead can reach. Every finding carries
//! the line and column of the key it is about. [`crate::CompiledRules::compile`] refuses a
//! file with errors, so the evaluator can trust what it is given.

use std::collections::BTreeMap;

use crate::error::{Problem, Severity};
use crate::field::{Kind, Pseudo, derived_from, is_pseudo, kind_of};
use crate::format::{DecaySpec, FORMAT_VERSION, MAX_POINTS};
use crate::parse::{RulesFile, Source};

mod condition;

/// Where a condition sits decides which engine values it may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Fit, engagement, gates, nurture: lead fields only, frameworks allowed.
    Lead,
    /// Framework criteria: lead fields only, no frameworks (no cycles).
    Framework,
    /// `[stages]`: scores allowed, not the stage itself.
    Stages,
    /// Routes: everything.
    Route,
}

impl RulesFile {
    /// Every semantic problem, sorted by position. With `known_fields` (a schema's or a flat
    /// file's column names), fields the data does not have are errors too.
    pub fn check(&self, known_fields: Option<&[String]>) -> Vec<Problem> {
        let mut c = Checker {
            file: self,
            src: &self.source,
            known: known_fields,
            problems: Vec::new(),
        };
        c.run();
        let mut problems = c.problems;
        problems.sort_by_key(|p| (p.line, p.column));
        problems
    }
}

/// Parses and checks `text`: the problems `qualify rules check` prints. Empty when the file is
/// good; warnings alone do not make it bad ([`Problem::is_error`]).
pub fn check_text(text: &str, origin: &str, known_fields: Option<&[String]>) -> Vec<Problem> {
    match RulesFile::parse(text, origin) {
        Ok(file) => file.check(known_fields),
        Err(e) => e.problems().to_vec(),
    }
}

pub(crate) struct Checker<'a> {
    file: &'a RulesFile,
    src: &'a Source,
    known: Option<&'a [String]>,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn error(&mut self, path: &str, message: String) {
        self.problems.push(self.src.problem(path, message));
    }

    fn warning(&mut self, path: &str, message: String) {
        let mut p = self.src.problem(path, message);
        p.severity = Severity::Warning;
        self.problems.push(p);
    }

    fn run(&mut self) {
        let f = self.file;
        if f.version != FORMAT_VERSION {
            self.error(
                "version",
                format!(
                    "unsupported format version {}, expected {FORMAT_VERSION}",
                    f.version
                ),
            );
        }
        self.decay(&f.decay, "decay");
        self.ids();
        for (i, r) in f.fit.iter().enumerate() {
            self.points(r.points, &format!("fit[{i}].points"));
            self.condition(&r.when, &format!("fit[{i}].when"), Place::Lead);
        }
        for (i, r) in f.engagement.iter().enumerate() {
            self.engagement(i);
            self.points(r.points, &format!("engagement[{i}].points"));
        }
        for (i, g) in f.gates.iter().enumerate() {
            self.condition(&g.require, &format!("gates[{i}].require"), Place::Lead);
        }
        for (i, n) in f.nurture.iter().enumerate() {
            self.condition(&n.when, &format!("nurture[{i}].when"), Place::Lead);
        }
        if f.frameworks.len() > 64 {
            self.error(
                "frameworks",
                format!(
                    "{} frameworks; at most 64 are supported",
                    f.frameworks.len()
                ),
            );
        }
        for (name, criteria) in &f.frameworks {
            if criteria.is_empty() {
                self.error(
                    &format!("frameworks.{name}"),
                    format!("framework `{name}` has no criteria"),
                );
            }
            for (criterion, cond) in criteria {
                self.condition(
                    cond,
                    &format!("frameworks.{name}.{criterion}"),
                    Place::Framework,
                );
            }
        }
        if let Some(sql) = &f.stages.sql {
            self.condition(sql, "stages.sql", Place::Stages);
        }
        if let Some(pql) = &f.stages.pql {
            self.condition(pql, "stages.pql", Place::Stages);
        }
        for (i, r) in f.routes.iter().enumerate() {
            self.condition(&r.when, &format!("routes[{i}].when"), Place::Route);
        }
        self.thresholds();
    }

    /// Points, caps and thresholds: finite and at most [`MAX_POINTS`] in size, so that sums
    /// of whole hundredths stay exact instead of being silently capped.
    fn points(&mut self, v: f64, path: &str) {
        if !v.is_finite() {
            self.error(path, format!("{v} is not a finite number"));
        } else if v.abs() > MAX_POINTS {
            self.error(
                path,
                format!("{v} is out of range: points, caps and thresholds must be within ±{MAX_POINTS:e}"),
            );
        }
    }

    fn ids(&mut self) {
        let f = self.file;
        let all = f
            .fit
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("fit[{i}].id"), &r.id))
            .chain(
                f.engagement
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (format!("engagement[{i}].id"), &r.id)),
            )
            .chain(
                f.gates
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (format!("gates[{i}].id"), &r.id)),
            )
            .chain(
                f.nurture
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (format!("nurture[{i}].id"), &r.id)),
            )
            .chain(
                f.routes
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (format!("routes[{i}].id"), &r.id)),
            );
        let mut seen: BTreeMap<&str, String> = BTreeMap::new();
        for (path, id) in all {
            if id.trim().is_empty() {
                self.error(&path, "empty rule id".into());
            } else if let Some(first) = seen.get(id.as_str()) {
                let line = self.src.problem(first, String::new()).line;
                self.error(
                    &path,
                    format!("duplicate rule id `{id}` (first used on line {line})"),
                );
            } else {
                seen.insert(id, path);
            }
        }
    }

    fn decay(&mut self, d: &DecaySpec, path: &str) {
        let set = [d.half_life_days, d.linear_per_month, d.window_days];
        if set.iter().flatten().count() > 1 {
            self.error(
                path,
                "decay takes one of half_life_days, linear_per_month, window_days".into(),
            );
        }
        if let Some(h) = d.half_life_days.filter(|h| !(h.is_finite() && *h > 0.0)) {
            self.error(
                &format!("{path}.half_life_days"),
                format!("half-life must be > 0 days, got {h}"),
            );
        }
        if let Some(r) = d.linear_per_month.filter(|r| !(r.is_finite() && *r >= 0.0)) {
            self.error(
                &format!("{path}.linear_per_month"),
                format!("linear decay must be >= 0, got {r}"),
            );
        }
        if let Some(w) = d.window_days.filter(|w| !(w.is_finite() && *w >= 0.0)) {
            self.error(
                &format!("{path}.window_days"),
                format!("window must be >= 0 days, got {w}"),
            );
        }
    }

    fn engagement(&mut self, i: usize) {
        let r = &self.file.engagement[i];
        let path = format!("engagement[{i}]");
        let modes = [r.activity.is_some(), r.field.is_some(), r.when.is_some()];
        if modes.iter().filter(|m| **m).count() != 1 {
            self.error(
                &path,
                format!(
                    "rule `{}` needs exactly one of `activity`, `field`, `when`",
                    r.id
                ),
            );
        }
        if let Some(cap) = r.cap {
            if cap.is_finite() && cap < 0.0 {
                self.error(
                    &format!("{path}.cap"),
                    format!("cap must be >= 0, got {cap}"),
                );
            } else {
                self.points(cap, &format!("{path}.cap"));
            }
        }
        if let Some(d) = &r.decay {
            if r.when.is_some() {
                self.error(
                    &format!("{path}.decay"),
                    "decay applies to `activity` and `field` rules only".into(),
                );
            }
            self.decay(d, &format!("{path}.decay"));
        }
        if let Some(field) = &r.field {
            let fpath = format!("{path}.field");
            self.field(field, &fpath, Place::Lead);
            if kind_of(field).is_some_and(|k| k != Kind::Number) {
                self.error(
                    &fpath,
                    format!("`{field}` is not numeric; per-unit points need a number"),
                );
            }
        }
        if let (Some(activity), Some(known)) = (r.activity, self.known) {
            let column = activity.count_column();
            if !known.contains(&column) {
                self.warning(
                    &format!("{path}.activity"),
                    format!("the data has no `{column}` column: this rule never fires"),
                );
            }
        }
        if let Some(when) = &r.when {
            self.condition(when, &format!("{path}.when"), Place::Lead);
        }
    }

    /// Checks a field reference: engine values only where they exist, data fields only when
    /// the data has them.
    fn field(&mut self, name: &str, path: &str, place: Place) {
        if let Some(p) = is_pseudo(name) {
            let ok = match place {
                Place::Route => true,
                Place::Stages => p != Pseudo::Stage,
                Place::Lead | Place::Framework => false,
            };
            if !ok {
                let whereto = if p == Pseudo::Stage {
                    "[[routes]]"
                } else {
                    "[stages] and [[routes]]"
                };
                self.error(
                    path,
                    format!("`{name}` is computed by the engine; it can be read in {whereto} only"),
                );
            }
            return;
        }
        let Some(known) = self.known else { return };
        let has = |n: &str| known.iter().any(|k| k == n);
        if has(name) || derived_from(name).is_some_and(has) {
            return;
        }
        let hint = known
            .iter()
            .find(|k| k.eq_ignore_ascii_case(name))
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        self.error(path, format!("unknown field `{name}`{hint}"));
    }

    fn thresholds(&mut self) {
        let f = self.file;
        let fit_max: f64 = f.fit.iter().map(|r| r.points.max(0.0)).sum();
        let eng_max: f64 = f
            .engagement
            .iter()
            .filter(|r| r.points > 0.0)
            .map(|r| match (&r.when, r.cap) {
                (Some(_), _) => r.points,
                (None, Some(cap)) => cap,
                (None, None) => f64::INFINITY,
            })
            .sum();
        let s = &f.stages;
        self.points(s.mql, "stages.mql");
        for (v, path) in [
            (s.mql_fit, "stages.mql_fit"),
            (s.mql_engagement, "stages.mql_engagement"),
        ] {
            if let Some(v) = v {
                self.points(v, path);
            }
        }
        let mut reach = |value: Option<f64>, max: f64, path: &str, what: &str| {
            if let Some(v) = value.filter(|v| *v > max) {
                self.error(
                    path,
                    format!(
                        "threshold {v} cannot be reached: the most {what} any lead can get is {max}"
                    ),
                );
            }
        };
        reach(Some(s.mql), fit_max + eng_max, "stages.mql", "points");
        reach(s.mql_fit, fit_max, "stages.mql_fit", "fit points");
        reach(
            s.mql_engagement,
            eng_max,
            "stages.mql_engagement",
            "engagement points",
        );
    }
}
