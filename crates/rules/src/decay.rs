//! Lead decay: old engagement weighs less than fresh engagement.
//!
//! A factor in `[0, 1]` from the age of an activity, non-increasing with age, so decay can
//! only ever take points away. Activities dated after `as_of` count as age zero (fresh), never
//! as more than full points.

use chrono::{DateTime, Utc};

use crate::format::DecaySpec;

const MS_PER_DAY: f64 = 86_400_000.0;

/// A compiled decay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decay {
    None,
    /// Rate per day (`ln 2 / half_life_days`).
    HalfLife {
        per_day: f64,
    },
    /// Fraction lost per day (`linear_per_month / 30`).
    Linear {
        per_day: f64,
    },
    /// Full points within this many days.
    Window {
        days: f64,
    },
}

impl Decay {
    /// The decay a checked spec describes; `None` for an empty spec.
    pub fn from_spec(spec: &DecaySpec) -> Decay {
        if let Some(h) = spec.half_life_days {
            Decay::HalfLife {
                per_day: std::f64::consts::LN_2 / h,
            }
        } else if let Some(m) = spec.linear_per_month {
            Decay::Linear { per_day: m / 30.0 }
        } else if let Some(days) = spec.window_days {
            Decay::Window { days }
        } else {
            Decay::None
        }
    }

    /// Weight of an activity `age_days` old, in `[0, 1]`.
    pub fn factor(self, age_days: f64) -> f64 {
        let age = if age_days.is_nan() {
            0.0
        } else {
            age_days.max(0.0)
        };
        let f = match self {
            Decay::None => 1.0,
            Decay::HalfLife { per_day } => (-per_day * age).exp(),
            Decay::Linear { per_day } => 1.0 - per_day * age,
            Decay::Window { days } => {
                if age <= days {
                    1.0
                } else {
                    0.0
                }
            }
        };
        f.clamp(0.0, 1.0)
    }

    /// Weight of an activity at `at`, seen from `as_of`.
    pub fn factor_at(self, at: DateTime<Utc>, as_of: DateTime<Utc>) -> f64 {
        match self {
            Decay::None => 1.0,
            _ => self.factor(age_days(at, as_of)),
        }
    }
}

/// Age in days (fractional) of `at` as of `as_of`; negative for the future.
pub fn age_days(at: DateTime<Utc>, as_of: DateTime<Utc>) -> f64 {
    (as_of - at).num_milliseconds() as f64 / MS_PER_DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(h: Option<f64>, l: Option<f64>, w: Option<f64>) -> Decay {
        Decay::from_spec(&DecaySpec {
            half_life_days: h,
            linear_per_month: l,
            window_days: w,
        })
    }

    #[test]
    fn half_life_halves() {
        let d = spec(Some(90.0), None, None);
        assert_eq!(d.factor(0.0), 1.0);
        assert!((d.factor(90.0) - 0.5).abs() < 1e-12);
        assert!((d.factor(180.0) - 0.25).abs() < 1e-12);
        assert_eq!(d.factor(-5.0), 1.0);
    }

    #[test]
    fn linear_and_window() {
        let l = spec(None, Some(0.25), None);
        assert!((l.factor(60.0) - 0.5).abs() < 1e-12);
        assert_eq!(l.factor(400.0), 0.0);
        let w = spec(None, None, Some(30.0));
        assert_eq!(w.factor(30.0), 1.0);
        assert_eq!(w.factor(30.5), 0.0);
        assert_eq!(spec(None, None, None).factor(1e9), 1.0);
    }
}
