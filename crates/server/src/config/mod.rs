//! Server settings: defaults, then an optional TOML file, then environment variables and
//! command-line flags (the binary maps `QUALIFY_*` variables and flags onto [`Config`]).
//!
//! Every setting has a default that serves the bundled model and rules on loopback, so
//! `qualify serve` with no arguments just works from the repository root.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Everything `qualify serve` can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// A models directory (one subdirectory per model, each holding versions), a model
    /// directory, or a single bundle directory.
    pub models: PathBuf,
    /// Model that scores requests which do not name one (`?model=`).
    pub default_model: String,
    /// Rules file for the rule-based stage.
    pub rules: PathBuf,
    pub addr: SocketAddr,
    /// Propensity bands for the letter grade, best first.
    pub grades: Grades,
    /// Largest request body, in bytes (JSON routes; one NDJSON line).
    pub max_body_bytes: usize,
    /// Most leads in one JSON-array batch (NDJSON streams are not limited in count).
    pub max_batch: usize,
    /// Requests handled at once; more are refused with 503 and `Retry-After`.
    pub max_concurrency: usize,
    /// Time a request may take before it is answered with 503.
    pub timeout_ms: u64,
    /// Bearer token for the scoring routes; none = open.
    pub api_token: Option<String>,
    /// Bearer token for `/v1/admin/*`; none = admin routes are off.
    pub admin_token: Option<String>,
    /// Reasons per direction in `explanation`.
    pub explain_top: usize,
    /// A bundle scored in shadow next to the champion.
    pub challenger: Option<Challenger>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            models: PathBuf::from("models"),
            default_model: "default".into(),
            rules: PathBuf::from("rules/default.toml"),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            grades: Grades::default(),
            max_body_bytes: 1 << 20,
            max_batch: 1000,
            max_concurrency: 512,
            timeout_ms: 10_000,
            api_token: None,
            admin_token: None,
            explain_top: 3,
            challenger: None,
        }
    }
}

/// Champion/challenger: the challenger scores a fraction of requests in shadow; its score is
/// logged and counted in metrics (and returned under `shadow` if asked), never used to decide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenger {
    /// Model directory or bundle directory.
    pub model: PathBuf,
    /// Share of requests scored in shadow, 0–1. A lead with an id is always in or always out.
    #[serde(default = "one")]
    pub fraction: f64,
    /// Also return the shadow score in responses (under `shadow`).
    #[serde(default)]
    pub in_response: bool,
}

fn one() -> f64 {
    1.0
}

impl Config {
    /// Reads a TOML config file; unknown keys are errors (a typo must not silently fall back to
    /// a default).
    pub fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let config: Config =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        config
            .validate()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(config)
    }

    /// Checks ranges that types alone do not.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_body_bytes < 64 {
            return Err(format!(
                "max_body_bytes = {} is too small",
                self.max_body_bytes
            ));
        }
        if self.max_batch == 0 || self.max_concurrency == 0 || self.timeout_ms == 0 {
            return Err("max_batch, max_concurrency and timeout_ms must be at least 1".into());
        }
        if let Some(c) = &self.challenger
            && !(0.0..=1.0).contains(&c.fraction)
        {
            return Err(format!(
                "challenger.fraction = {} is not within 0–1",
                c.fraction
            ));
        }
        for token in [&self.api_token, &self.admin_token].into_iter().flatten() {
            if token.trim().len() < 8 {
                return Err("a bearer token must be at least 8 characters".into());
            }
        }
        Ok(())
    }
}

/// Letter grades by propensity: the first band whose `min` the propensity reaches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Grade>", into = "Vec<Grade>")]
pub struct Grades(Vec<Grade>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    pub grade: String,
    pub min: f64,
}

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
    type Error = String;
    fn try_from(bands: Vec<Grade>) -> Result<Self, String> {
        if bands.is_empty() {
            return Err("grades: at least one band is needed".into());
        }
        for w in bands.windows(2) {
            if w[1].min >= w[0].min {
                return Err(format!(
                    "grades: band {:?} (min {}) must have a lower min than {:?} (min {})",
                    w[1].grade, w[1].min, w[0].grade, w[0].min
                ));
            }
        }
        if let Some(g) = bands
            .iter()
            .find(|g| !(0.0..=1.0).contains(&g.min) || g.grade.is_empty())
        {
            return Err(format!(
                "grades: band {:?} needs a name and a min within 0–1",
                g.grade
            ));
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
    type Err = String;
    /// `A=0.5,B=0.25,C=0.1,D=0`, best first.
    fn from_str(s: &str) -> Result<Self, String> {
        let bands = s
            .split(',')
            .map(|part| {
                let (grade, min) = part
                    .split_once('=')
                    .ok_or_else(|| format!("grades: {part:?} is not GRADE=MIN"))?;
                let min = min
                    .trim()
                    .parse::<f64>()
                    .map_err(|e| format!("grades: {part:?}: {e}"))?;
                Ok(Grade {
                    grade: grade.trim().to_string(),
                    min,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Grades::try_from(bands)
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
        assert!("A=0.2,B=0.5".parse::<Grades>().is_err());
        assert!("A".parse::<Grades>().is_err());
        assert!("A=2".parse::<Grades>().is_err());
    }

    #[test]
    fn config_file_rejects_unknown_keys_and_reads_nested_tables() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("serve.toml");
        std::fs::write(
            &path,
            "addr = \"0.0.0.0:9000\"\nmax_batch = 10\n[challenger]\nmodel = \"m\"\nfraction = 0.25\n\
             [[grades]]\ngrade = \"hot\"\nmin = 0.3\n[[grades]]\ngrade = \"cold\"\nmin = 0\n",
        )
        .expect("write");
        let c = Config::from_file(&path).expect("valid config");
        assert_eq!(c.addr.port(), 9000);
        assert_eq!(c.max_batch, 10);
        assert_eq!(c.grades.grade(0.31), "hot");
        assert_eq!(c.challenger.as_ref().map(|c| c.fraction), Some(0.25));
        std::fs::write(&path, "adress = \"0.0.0.0:9000\"\n").expect("write");
        let err = Config::from_file(&path).expect_err("typo").to_string();
        assert!(err.contains("adress"), "{err}");
        std::fs::write(&path, "[challenger]\nmodel = \"m\"\nfraction = 2\n").expect("write");
        assert!(Config::from_file(&path).is_err());
    }
}
