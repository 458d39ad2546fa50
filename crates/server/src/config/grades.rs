//! Letter grades by propensity: bands a CRM can show next to the number.
//!
//! The bands are read from the settings file as a list of tables and from flags and the
//! environment as `A=0.5,B=0.25,C=0`; both go through [`Grades::try_from`], so the rules
//! (best first, strictly falling minimums within 0–1, named) hold whatever the source.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Letter grades by propensity: the first band whose `min` the propensity reaches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Grade>", into = "Vec<Grade>")]
pub struct Grades(Vec<Grade>);

/// One band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    pub grade: String,
    pub min: f64,
}

/// Bands that break the rules above, or a `GRADE=MIN` list that does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GradesError {
    #[error("grades: at least one band is needed")]
    Empty,
    #[error("grades: {part:?} is not GRADE=MIN with MIN a number")]
    Syntax { part: String },
    #[error(
        "grades: band {grade:?} (min {min}) must have a lower min than {previous:?} (min {previous_min})"
    )]
    NotFalling {
        grade: String,
        min: f64,
        previous: String,
        previous_min: f64,
    },
    #[error("grades: band {grade:?} needs a name and a min within 0–1 (got {min})")]
    Band { grade: String, min: f64 },
}

/// The default bands, in the `GRADE=MIN` form (also the flag's default).
pub const DEFAULT_GRADES: &str = "A=0.5,B=0.25,C=0.1,D=0";

impl Default for Grades {
    /// A ≥ 0.5, B ≥ 0.25, C ≥ 0.1, else D.
    fn default() -> Self {
        Grades(
            [("A", 0.5), ("B", 0.25), ("C", 0.1), ("D", 0.0)]
                .into_iter()
                .map(|(g, min)| Grade {
                    grade: g.into(),
                    min,
                })
                .collect(),
        )
    }
}

impl Grades {
    pub fn grade(&self, propensity: f64) -> &str {
        self.0
            .iter()
            .find(|g| propensity >= g.min)
            .or(self.0.last())
            .map_or("", |g| g.grade.as_str())
    }

    pub fn bands(&self) -> &[Grade] {
        &self.0
    }
}

impl TryFrom<Vec<Grade>> for Grades {
    type Error = GradesError;
    fn try_from(bands: Vec<Grade>) -> Result<Self, GradesError> {
        if bands.is_empty() {
            return Err(GradesError::Empty);
        }
        if let Some(g) = bands
            .iter()
            .find(|g| !(0.0..=1.0).contains(&g.min) || g.grade.trim().is_empty())
        {
            return Err(GradesError::Band {
                grade: g.grade.clone(),
                min: g.min,
            });
        }
        for w in bands.windows(2) {
            if w[1].min >= w[0].min {
                return Err(GradesError::NotFalling {
                    grade: w[1].grade.clone(),
                    min: w[1].min,
                    previous: w[0].grade.clone(),
                    previous_min: w[0].min,
                });
            }
        }
        Ok(Grades(bands))
    }
}

impl From<Grades> for Vec<Grade> {
    fn from(g: Grades) -> Self {
        g.0
    }
}

impl FromStr for Grades {
    type Err = GradesError;
    /// `A=0.5,B=0.25,C=0.1,D=0`, best first.
    fn from_str(s: &str) -> Result<Self, GradesError> {
        let bands = s
            .split(',')
            .map(|part| {
                let syntax = || GradesError::Syntax {
                    part: part.to_string(),
                };
                let (grade, min) = part.split_once('=').ok_or_else(syntax)?;
                let min = min.trim().parse::<f64>().map_err(|_| syntax())?;
                Ok(Grade {
                    grade: grade.trim().to_string(),
                    min,
                })
            })
            .collect::<Result<Vec<_>, GradesError>>()?;
        Grades::try_from(bands)
    }
}

impl std::fmt::Display for Grades {
    /// The `GRADE=MIN` form [`FromStr`] reads.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, g) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}={}", g.grade, g.min)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_pick_the_first_band_reached() {
        let g: Grades = "A=0.5,B=0.2,C=0".parse().expect("valid grades");
        assert_eq!(g.grade(0.9), "A");
        assert_eq!(g.grade(0.5), "A");
        assert_eq!(g.grade(0.49), "B");
        assert_eq!(g.grade(0.0), "C");
        assert!(matches!(
            "A=0.2,B=0.5".parse::<Grades>(),
            Err(GradesError::NotFalling { .. })
        ));
        assert!(matches!(
            "A".parse::<Grades>(),
            Err(GradesError::Syntax { .. })
        ));
        assert!(matches!(
            "A=2".parse::<Grades>(),
            Err(GradesError::Band { .. })
        ));
    }

    #[test]
    fn the_default_bands_and_their_text_form_agree() {
        let parsed: Grades = DEFAULT_GRADES.parse().expect("valid");
        assert_eq!(parsed, Grades::default());
        assert_eq!(parsed.to_string(), DEFAULT_GRADES);
    }
}
