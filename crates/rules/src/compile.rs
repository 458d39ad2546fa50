//! The fast form of a rules file.
//!
//! Compiling happens once per file (at server start, once per `rules score` run); evaluation
//! happens per lead, so everything that can be decided from the file alone is decided here:
//! field names become [`Field`]s, regexes are built, activity types are enum values, fit
//! points are rounded to hundredths, framework references become bit indices, and every name
//! an outcome carries is stored here for the outcome to borrow.

use std::collections::BTreeMap;
use std::path::Path;

use qualify_core::lead::ActivityType;

use crate::cond::Cond;
use crate::decay::Decay;
use crate::error::RulesError;
use crate::field::Field;
use crate::format::Condition;
use crate::outcome::Points;

/// A name an outcome borrows.
type Name = Box<str>;
use crate::parse::RulesFile;

/// A checked, compiled rules file, ready to evaluate leads. Cheap to share (`Arc` it).
#[derive(Debug, Clone)]
pub struct CompiledRules {
    pub(crate) name: Option<Name>,
    pub(crate) missing: Box<[Box<str>]>,
    pub(crate) fit: Box<[FitC]>,
    pub(crate) engagement: Box<[EngagementC]>,
    pub(crate) gates: Box<[Named]>,
    pub(crate) nurture: Box<[Named]>,
    pub(crate) mql: f64,
    pub(crate) mql_fit: Option<f64>,
    pub(crate) mql_engagement: Option<f64>,
    pub(crate) sql: Option<Cond>,
    pub(crate) pql: Option<Cond>,
    pub(crate) frameworks: Box<[FrameworkC]>,
    pub(crate) routes: Box<[Named]>,
    pub(crate) default_route: Option<Name>,
}

#[derive(Debug, Clone)]
pub(crate) struct FitC {
    pub id: Name,
    pub description: Name,
    pub points: Points,
    pub when: Cond,
}

#[derive(Debug, Clone)]
pub(crate) enum Mode {
    /// Per occurrence of an activity type; the field is its `<type>_count` column.
    Activity(ActivityType, Field),
    /// Per unit of a numeric field.
    PerUnit(Field),
    /// Once, when the condition holds.
    When(Cond),
}

#[derive(Debug, Clone)]
pub(crate) struct EngagementC {
    pub id: Name,
    pub description: Name,
    pub points: f64,
    pub cap: Option<f64>,
    pub decay: Decay,
    pub mode: Mode,
}

#[derive(Debug, Clone)]
pub(crate) struct Named {
    pub id: Name,
    pub cond: Cond,
}

#[derive(Debug, Clone)]
pub(crate) struct FrameworkC {
    pub name: Name,
    pub criteria: Box<[(Name, Cond)]>,
}

impl CompiledRules {
    /// Checks `file` and compiles it. Fails with every problem when the check finds errors
    /// (warnings alone do not stop it).
    pub fn compile(file: &RulesFile) -> Result<CompiledRules, RulesError> {
        let problems = file.check(None);
        if problems.iter().any(|p| p.is_error()) {
            return Err(RulesError::Invalid { problems });
        }
        let index: BTreeMap<String, u32> = file
            .frameworks
            .keys()
            .zip(0u32..)
            .map(|(k, i)| (k.clone(), i))
            .collect();
        let mut failures = Vec::new();
        let mut cond = |c: &Condition, path: String| match Cond::compile(c, &index) {
            Ok(c) => Some(c),
            Err(message) => {
                failures.push(file.source.problem(&path, message));
                None
            }
        };
        let text = |id: &str, d: &Option<String>| -> Name { d.as_deref().unwrap_or(id).into() };
        let mut fit = Vec::new();
        for (i, r) in file.fit.iter().enumerate() {
            if let Some(when) = cond(&r.when, format!("fit[{i}].when")) {
                let (id, description) = (r.id.as_str().into(), text(&r.id, &r.description));
                fit.push(FitC {
                    id,
                    description,
                    points: Points::from_f64(r.points),
                    when,
                });
            }
        }
        let mut engagement = Vec::new();
        for (i, r) in file.engagement.iter().enumerate() {
            let mode = match (&r.activity, &r.field, &r.when) {
                (Some(kind), _, _) => {
                    Some(Mode::Activity(*kind, Field::resolve(&kind.count_column())))
                }
                (None, Some(f), _) => Some(Mode::PerUnit(Field::resolve(f))),
                (None, None, Some(c)) => cond(c, format!("engagement[{i}].when")).map(Mode::When),
                (None, None, None) => None,
            };
            if let Some(mode) = mode {
                engagement.push(EngagementC {
                    id: r.id.as_str().into(),
                    description: text(&r.id, &r.description),
                    points: r.points,
                    cap: r.cap,
                    decay: Decay::from_spec(r.decay.as_ref().unwrap_or(&file.decay)),
                    mode,
                });
            }
        }
        let mut named = |list: Vec<(&String, &Condition)>, section: &str| -> Box<[Named]> {
            list.into_iter()
                .enumerate()
                .filter_map(|(i, (id, c))| {
                    let key = if section == "gates" {
                        "require"
                    } else {
                        "when"
                    };
                    cond(c, format!("{section}[{i}].{key}")).map(|cond| Named {
                        id: id.as_str().into(),
                        cond,
                    })
                })
                .collect()
        };
        let gates = named(
            file.gates.iter().map(|g| (&g.id, &g.require)).collect(),
            "gates",
        );
        let nurture = named(
            file.nurture.iter().map(|n| (&n.id, &n.when)).collect(),
            "nurture",
        );
        let routes = named(
            file.routes.iter().map(|r| (&r.id, &r.when)).collect(),
            "routes",
        );
        let sql = file
            .stages
            .sql
            .as_ref()
            .and_then(|c| cond(c, "stages.sql".into()));
        let pql = file
            .stages
            .pql
            .as_ref()
            .and_then(|c| cond(c, "stages.pql".into()));
        let mut frameworks = Vec::new();
        for (name, criteria) in &file.frameworks {
            let criteria = criteria
                .iter()
                .filter_map(|(k, c)| {
                    cond(c, format!("frameworks.{name}.{k}")).map(|c| (k.as_str().into(), c))
                })
                .collect();
            frameworks.push(FrameworkC {
                name: name.as_str().into(),
                criteria,
            });
        }
        if !failures.is_empty() {
            return Err(RulesError::Invalid { problems: failures });
        }
        Ok(CompiledRules {
            name: file.name.as_deref().map(Name::from),
            missing: file.missing_tokens().map(|m| m.trim().into()).collect(),
            fit: fit.into(),
            engagement: engagement.into(),
            gates,
            nurture,
            mql: file.stages.mql,
            mql_fit: file.stages.mql_fit,
            mql_engagement: file.stages.mql_engagement,
            sql,
            pql,
            frameworks: frameworks.into(),
            routes,
            default_route: file.default_route.as_deref().map(Name::from),
        })
    }

    /// Parses, checks and compiles rules text.
    pub fn from_text(text: &str, origin: &str) -> Result<CompiledRules, RulesError> {
        CompiledRules::compile(&RulesFile::parse(text, origin)?)
    }

    /// Reads, checks and compiles a rules file.
    pub fn load(path: &Path) -> Result<CompiledRules, RulesError> {
        CompiledRules::compile(&RulesFile::load(path)?)
    }

    /// The file's `name`, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The MQL threshold on the total score.
    pub fn mql_threshold(&self) -> f64 {
        self.mql
    }

    /// Data fields (columns) the rules read, sorted and deduplicated; activity rules read their
    /// `<type>_count` column, and `last_activity_at` is listed when anything decays.
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let conds = self
            .fit
            .iter()
            .map(|r| &r.when)
            .chain(
                self.gates
                    .iter()
                    .chain(self.nurture.iter())
                    .chain(self.routes.iter())
                    .map(|n| &n.cond),
            )
            .chain(self.sql.iter().chain(self.pql.iter()))
            .chain(
                self.frameworks
                    .iter()
                    .flat_map(|f| f.criteria.iter().map(|(_, c)| c)),
            );
        for c in conds {
            c.fields(&mut out);
        }
        for r in self.engagement.iter() {
            match &r.mode {
                Mode::Activity(_, f) | Mode::PerUnit(f) => out.push(&f.name),
                Mode::When(c) => c.fields(&mut out),
            }
            if r.decay != Decay::None && !matches!(r.mode, Mode::When(_)) {
                out.push(qualify_core::lead::LAST_ACTIVITY_AT);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}
