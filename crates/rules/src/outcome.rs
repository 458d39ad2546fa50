//! What evaluation says about one lead.
//!
//! Points are kept as whole hundredths ([`Points`]): every reason is rounded to 0.01 once,
//! and the scores are integer sums of the reasons, so the reasons add up to the score
//! *exactly* — in the output and in any spreadsheet that sums them — however decay divided
//! the points. Names (rule ids, descriptions, routes) are borrowed from the compiled rules:
//! an outcome copies no string.

use std::fmt;

use serde::{Serialize, Serializer};

/// Points in whole hundredths; serialized as a number with at most two decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(i64);

impl Points {
    pub const ZERO: Points = Points(0);

    /// Rounds `points` to the nearest hundredth (half away from zero); non-finite is zero.
    pub fn from_f64(points: f64) -> Points {
        if points.is_finite() {
            Points((points * 100.0).round().clamp(-9e15, 9e15) as i64)
        } else {
            Points(0)
        }
    }

    pub fn from_hundredths(h: i64) -> Points {
        Points(h)
    }

    pub fn hundredths(self) -> i64 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl std::ops::Add for Points {
    type Output = Points;
    fn add(self, rhs: Points) -> Points {
        Points(self.0.saturating_add(rhs.0))
    }
}

impl std::iter::Sum for Points {
    fn sum<I: Iterator<Item = Points>>(iter: I) -> Points {
        iter.fold(Points::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        match abs % 100 {
            0 => write!(f, "{sign}{}", abs / 100),
            c if c % 10 == 0 => write!(f, "{sign}{}.{}", abs / 100, c / 10),
            c => write!(f, "{sign}{}.{c:02}", abs / 100),
        }
    }
}

impl Serialize for Points {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            s.serialize_i64(self.0 / 100)
        } else {
            s.serialize_f64(self.as_f64())
        }
    }
}

/// The qualification stage. Precedence, first that applies: `Disqualified` (a gate failed),
/// `Nurture` (a nurture condition holds), `SQL` (MQL and the SQL criteria), `PQL` (product
/// milestones), `MQL` (thresholds reached), else `Lead`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub enum Stage {
    Disqualified,
    Nurture,
    #[default]
    Lead,
    #[serde(rename = "MQL")]
    Mql,
    #[serde(rename = "SQL")]
    Sql,
    #[serde(rename = "PQL")]
    Pql,
}

impl Stage {
    pub const ALL: &'static [Stage] = &[
        Stage::Disqualified,
        Stage::Nurture,
        Stage::Lead,
        Stage::Mql,
        Stage::Sql,
        Stage::Pql,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Disqualified => "Disqualified",
            Stage::Nurture => "Nurture",
            Stage::Lead => "Lead",
            Stage::Mql => "MQL",
            Stage::Sql => "SQL",
            Stage::Pql => "PQL",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which score a reason counts towards.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasonKind {
    Fit,
    Engagement,
}

/// One rule that gave points, after decay and cap.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = RuleReason))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason<'r> {
    pub rule: &'r str,
    pub kind: ReasonKind,
    pub description: &'r str,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub points: Points,
    /// Occurrences counted, for activity rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// One framework's verdict for one lead.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FrameworkOutcome<'r> {
    pub name: &'r str,
    pub met: bool,
    /// Criteria not met, in name order.
    pub missing: Vec<&'r str>,
}

/// Everything the rules say about one lead.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleOutcome<'r> {
    /// `fit_score + engagement_score`, the exact sum of `reasons`.
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub score: Points,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub fit_score: Points,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub engagement_score: Points,
    pub stage: Stage,
    /// Ids of the gates the lead failed (non-empty exactly when `Disqualified`).
    pub gates_failed: Vec<&'r str>,
    /// Ids of the nurture conditions that hold.
    pub nurture: Vec<&'r str>,
    /// Rules that gave non-zero points, in file order (fit, then engagement).
    pub reasons: Vec<Reason<'r>>,
    pub frameworks: Vec<FrameworkOutcome<'r>>,
    /// The first matching route, else the default route.
    pub route: Option<&'r str>,
}

impl RuleOutcome<'_> {
    /// Reasons as one line, e.g. `director +15; saas +10; blog_download +2`, for flat outputs.
    pub fn reasons_text(&self) -> String {
        let mut out = String::new();
        for (i, r) in self.reasons.iter().enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            let sign = if r.points.hundredths() >= 0 { "+" } else { "" };
            out.push_str(&format!("{} {sign}{}", r.rule, r.points));
        }
        out
    }

    pub(crate) fn clear(&mut self) {
        self.score = Points::ZERO;
        self.fit_score = Points::ZERO;
        self.engagement_score = Points::ZERO;
        self.stage = Stage::Lead;
        self.gates_failed.clear();
        self.nurture.clear();
        self.reasons.clear();
        self.route = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_round_display_and_serialize() {
        assert_eq!(Points::from_f64(12.346).hundredths(), 1235);
        assert_eq!(Points::from_f64(-0.5).to_string(), "-0.5");
        assert_eq!(Points::from_f64(-10.0).to_string(), "-10");
        assert_eq!(Points::from_f64(7.05).to_string(), "7.05");
        assert_eq!(Points::from_f64(f64::NAN), Points::ZERO);
        assert_eq!(
            serde_json::to_string(&Points::from_f64(75.0))
                .ok()
                .as_deref(),
            Some("75")
        );
        assert_eq!(
            serde_json::to_string(&Points::from_f64(1.25))
                .ok()
                .as_deref(),
            Some("1.25")
        );
    }

    /// The score log stores a stage by its name; the API answers it through serde. Both
    /// must spell it the same.
    #[test]
    fn a_stage_is_named_as_it_is_serialized() {
        for stage in Stage::ALL {
            assert_eq!(
                serde_json::to_value(stage).ok(),
                Some(serde_json::Value::from(stage.as_str()))
            );
        }
    }
}
