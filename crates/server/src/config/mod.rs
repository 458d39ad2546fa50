//! Server settings: one struct, [`Config`], read in layers — defaults, then a TOML file, then
//! environment variables (`QUALIFY_*`), then command-line flags.
//!
//! Why one struct: every setting is declared once, with its flag, variable, default and help
//! text side by side (clap) and its file key (serde), so a new setting cannot be forgotten in
//! one layer, and a flag cannot reset a file's value it did not name (the layering in
//! `layers` takes from flags and the environment only what was given there).
//!
//! Every setting has a default that serves the bundled model and rules on loopback, so
//! `qualify serve` with no arguments just works from the repository root. Every value is
//! checked by [`Config::validate`] before anything is loaded or bound.

mod grades;
mod layers;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use grades::{DEFAULT_GRADES, Grade, Grades, GradesError};
pub use layers::CommandLine;
pub use store::{ScoreLogSwitch, StoreSetting};

/// Everything `qualify serve` can be told. Flags, variables and file keys: docs/api.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Models directory (one subdirectory per model, each holding versions), a model
    /// directory, or one bundle directory.
    #[arg(long, env = "QUALIFY_MODELS", value_name = "DIR", default_value = defaults::MODELS)]
    pub models: PathBuf,
    /// Model that scores requests which do not name one (`?model=`).
    #[arg(long, env = "QUALIFY_DEFAULT_MODEL", value_name = "NAME", default_value = defaults::DEFAULT_MODEL)]
    pub default_model: String,
    /// Rules file for the rule-based stage.
    #[arg(long, env = "QUALIFY_RULES", value_name = "FILE", default_value = defaults::RULES)]
    pub rules: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "QUALIFY_ADDR", default_value = defaults::ADDR)]
    pub addr: SocketAddr,
    /// Grade bands by propensity, best first.
    #[arg(long, env = "QUALIFY_GRADES", value_name = "BANDS", default_value = DEFAULT_GRADES)]
    pub grades: Grades,
    /// Largest request body in bytes (after gzip decoding), and longest NDJSON line.
    #[arg(long, env = "QUALIFY_MAX_BODY_BYTES", value_name = "BYTES", default_value_t = defaults::MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Most leads in one JSON-array batch.
    #[arg(long, env = "QUALIFY_MAX_BATCH", value_name = "LEADS", default_value_t = defaults::MAX_BATCH)]
    pub max_batch: usize,
    /// Scoring requests and NDJSON streams handled at once; more get 503 with Retry-After.
    #[arg(long, env = "QUALIFY_MAX_CONCURRENCY", value_name = "REQUESTS", default_value_t = defaults::MAX_CONCURRENCY)]
    pub max_concurrency: usize,
    /// Leads admitted for scoring at once (waiting for a core or being scored; a batch counts
    /// its size). A request whose leads do not fit gets 503 with Retry-After.
    #[arg(long, env = "QUALIFY_MAX_QUEUED_LEADS", value_name = "LEADS", default_value_t = defaults::MAX_QUEUED_LEADS)]
    pub max_queued_leads: usize,
    /// Time a scoring request may take once its body is read (an NDJSON stream: each chunk
    /// of up to 32 lines); work past it stops and is answered with 503.
    #[arg(long, env = "QUALIFY_TIMEOUT_MS", value_name = "MS", default_value_t = defaults::TIMEOUT_MS)]
    pub timeout_ms: u64,
    /// Time to receive a JSON request body (408 past it), apart from the work timeout.
    #[arg(long, env = "QUALIFY_BODY_TIMEOUT_MS", value_name = "MS", default_value_t = defaults::BODY_TIMEOUT_MS)]
    pub body_timeout_ms: u64,
    /// Time to receive a request's headers, counted from when the connection is ready for the
    /// next request: closes connections that trickle headers or sit idle.
    #[arg(long, env = "QUALIFY_HEADER_TIMEOUT_MS", value_name = "MS", default_value_t = defaults::HEADER_TIMEOUT_MS)]
    pub header_timeout_ms: u64,
    /// After SIGTERM: time to keep serving with /readyz at 503 `draining`, so balancers stop
    /// sending, before new connections are refused.
    #[arg(long, env = "QUALIFY_DRAIN_MS", value_name = "MS", default_value_t = defaults::DRAIN_MS)]
    pub drain_ms: u64,
    /// After the drain: longest wait for requests and streams in flight before exiting.
    #[arg(long, env = "QUALIFY_SHUTDOWN_TIMEOUT_MS", value_name = "MS", default_value_t = defaults::SHUTDOWN_TIMEOUT_MS)]
    pub shutdown_timeout_ms: u64,
    /// Longest a reload may take (reading and checking bundles and rules); past it the old
    /// models keep serving and /readyz says `degraded`.
    #[arg(long, env = "QUALIFY_RELOAD_TIMEOUT_MS", value_name = "MS", default_value_t = defaults::RELOAD_TIMEOUT_MS)]
    pub reload_timeout_ms: u64,
    /// Bearer token required on the scoring routes (none: open). A flag is visible to other
    /// users in `ps`: prefer QUALIFY_API_TOKEN or --api-token-file.
    #[arg(
        long,
        env = "QUALIFY_API_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub api_token: Option<Token>,
    /// File holding the scoring routes' bearer token (surrounding whitespace ignored).
    #[arg(long, env = "QUALIFY_API_TOKEN_FILE", value_name = "FILE")]
    pub api_token_file: Option<PathBuf>,
    /// Bearer token for /v1/admin/* (none: admin routes answer 403). A flag is visible to
    /// other users in `ps`: prefer QUALIFY_ADMIN_TOKEN or --admin-token-file.
    #[arg(
        long,
        env = "QUALIFY_ADMIN_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub admin_token: Option<Token>,
    /// File holding the admin bearer token (surrounding whitespace ignored).
    #[arg(long, env = "QUALIFY_ADMIN_TOKEN_FILE", value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Reasons per direction in `explanation`.
    #[arg(long, env = "QUALIFY_EXPLAIN_TOP", value_name = "N", default_value_t = defaults::EXPLAIN_TOP)]
    pub explain_top: usize,
    /// A bundle scored in shadow next to the champion (`[challenger]` in the file).
    #[command(flatten)]
    pub challenger: Challenger,
    /// The lead store: `sqlite://PATH` (created when missing; a relative PATH is relative to
    /// the working directory), `postgres://USER@HOST:PORT/DB`, or `none` (no store: the
    /// store routes answer 404 `no_store`).
    #[arg(long, env = "QUALIFY_STORE", value_name = "URL", default_value = defaults::STORE)]
    pub store: StoreSetting,
    /// Log every scored answer to the store (`on` or `off`; nothing is logged without a
    /// store).
    #[arg(
        long,
        env = "QUALIFY_SCORE_LOG",
        value_name = "on|off",
        default_value = "on"
    )]
    pub score_log: ScoreLogSwitch,
    /// Share of leads in the exploration holdout, 0–1 (0: none): chosen by a hash of the
    /// lead's id, flagged `holdout: true` so routing ignores their score.
    #[arg(long, env = "QUALIFY_HOLDOUT_FRACTION", value_name = "SHARE", default_value_t = defaults::HOLDOUT_FRACTION)]
    pub holdout_fraction: f64,
}

/// The defaults, shared by [`Config::default`] and the flags' `[default: …]`.
pub mod defaults {
    pub const MODELS: &str = "models";
    pub const DEFAULT_MODEL: &str = "default";
    pub const RULES: &str = "rules/default.toml";
    pub const ADDR: &str = "127.0.0.1:8080";
    pub const MAX_BODY_BYTES: usize = 1 << 20;
    pub const MAX_BATCH: usize = 1000;
    pub const MAX_CONCURRENCY: usize = 512;
    pub const MAX_QUEUED_LEADS: usize = 2000;
    pub const TIMEOUT_MS: u64 = 10_000;
    pub const BODY_TIMEOUT_MS: u64 = 10_000;
    pub const HEADER_TIMEOUT_MS: u64 = 30_000;
    pub const DRAIN_MS: u64 = 5_000;
    pub const SHUTDOWN_TIMEOUT_MS: u64 = 15_000;
    pub const RELOAD_TIMEOUT_MS: u64 = 60_000;
    pub const EXPLAIN_TOP: usize = 3;
    pub const CHALLENGER_FRACTION: f64 = 1.0;
    /// The store `qualify serve` keeps when told nothing: a git-ignored file under the
    /// working directory.
    pub const STORE: &str = "sqlite://var/qualify.db";
    pub const HOLDOUT_FRACTION: f64 = 0.0;
}

impl Default for Config {
    fn default() -> Self {
        Config {
            models: PathBuf::from(defaults::MODELS),
            default_model: defaults::DEFAULT_MODEL.into(),
            rules: PathBuf::from(defaults::RULES),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            grades: Grades::default(),
            max_body_bytes: defaults::MAX_BODY_BYTES,
            max_batch: defaults::MAX_BATCH,
            max_concurrency: defaults::MAX_CONCURRENCY,
            max_queued_leads: defaults::MAX_QUEUED_LEADS,
            timeout_ms: defaults::TIMEOUT_MS,
            body_timeout_ms: defaults::BODY_TIMEOUT_MS,
            header_timeout_ms: defaults::HEADER_TIMEOUT_MS,
            drain_ms: defaults::DRAIN_MS,
            shutdown_timeout_ms: defaults::SHUTDOWN_TIMEOUT_MS,
            reload_timeout_ms: defaults::RELOAD_TIMEOUT_MS,
            api_token: None,
            api_token_file: None,
            admin_token: None,
            admin_token_file: None,
            explain_top: defaults::EXPLAIN_TOP,
            challenger: Challenger::default(),
            store: StoreSetting::default(),
            score_log: ScoreLogSwitch::On,
            holdout_fraction: defaults::HOLDOUT_FRACTION,
        }
    }
}

/// Champion/challenger: the challenger scores a fraction of requests in shadow; its score is
/// logged and counted in metrics (and returned under `shadow` if asked), never used to decide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct Challenger {
    /// Challenger model scored in shadow (model or bundle directory).
    #[arg(
        id = "challenger.model",
        long = "challenger",
        env = "QUALIFY_CHALLENGER",
        value_name = "DIR"
    )]
    pub model: Option<PathBuf>,
    /// Share of requests the challenger scores, 0–1; a lead with an id is always in or out.
    #[arg(id = "challenger.fraction", long = "challenger-fraction", env = "QUALIFY_CHALLENGER_FRACTION", value_name = "SHARE", default_value_t = defaults::CHALLENGER_FRACTION)]
    pub fraction: f64,
    /// Also return the challenger's score under `shadow` in responses.
    #[arg(
        id = "challenger.in_response",
        long = "shadow-in-response",
        env = "QUALIFY_SHADOW_IN_RESPONSE"
    )]
    pub in_response: bool,
}

impl Default for Challenger {
    fn default() -> Self {
        Challenger {
            model: None,
            fraction: defaults::CHALLENGER_FRACTION,
            in_response: false,
        }
    }
}

/// A bearer token. Never shown by `Debug` (settings are logged).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    pub fn new(token: impl Into<String>) -> Token {
        Token(token.into())
    }

    /// Compares in constant time for tokens of the same length (no early exit on the first
    /// differing byte).
    pub fn matches(&self, given: &str) -> bool {
        let expected = self.0.as_bytes();
        let given = given.as_bytes();
        let diff = expected
            .iter()
            .zip(given)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        expected.len() == given.len() && diff == 0
    }

    fn is_weak(&self) -> bool {
        self.0.chars().count() < 8 || self.0.chars().any(|c| c.is_whitespace() || c.is_control())
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

impl std::str::FromStr for Token {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Token(s.to_string()))
    }
}

/// A setting that cannot be used, or a settings file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("settings file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("settings file {path}: {source}")]
    Toml {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    /// A value of the wrong type or an unknown key; says which key and which layer.
    #[error("settings: {0}")]
    Layers(Box<figment::Error>),
    #[error("{key} = {value} is out of range: {expected}")]
    OutOfRange {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("{key} is set but challenger.model (--challenger) is not")]
    ChallengerWithoutModel { key: &'static str },
    #[error("{key}: a bearer token needs at least 8 characters and no whitespace")]
    WeakToken { key: &'static str },
    #[error("{key} and {key}_file are both set; give one")]
    TokenTwice { key: &'static str },
    #[error("{key}_file {path}: {source}")]
    TokenFile {
        key: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Longest any of the timeouts may be: a day (longer is a typo, and overflows nothing).
const MAX_MS: u64 = 86_400_000;

impl Config {
    /// Checks ranges that types alone do not. Called before anything is loaded or bound, so a
    /// bad value is an error that names its key, never a panic later.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn range<T: PartialOrd + ToString>(
            key: &'static str,
            value: T,
            min: T,
            max: T,
            expected: &'static str,
        ) -> Result<(), ConfigError> {
            if value < min || value > max {
                return Err(ConfigError::OutOfRange {
                    key,
                    value: value.to_string(),
                    expected,
                });
            }
            Ok(())
        }
        range(
            "max_body_bytes",
            self.max_body_bytes,
            64,
            1 << 30,
            "64 B to 1 GiB",
        )?;
        range("max_batch", self.max_batch, 1, 1_000_000, "1 to 1,000,000")?;
        range(
            "max_concurrency",
            self.max_concurrency,
            1,
            1_000_000,
            "1 to 1,000,000",
        )?;
        range(
            "max_queued_leads",
            self.max_queued_leads,
            self.max_batch,
            100_000_000,
            "at least max_batch (a full batch must fit), at most 100,000,000",
        )?;
        for (key, value) in [
            ("timeout_ms", self.timeout_ms),
            ("body_timeout_ms", self.body_timeout_ms),
            ("header_timeout_ms", self.header_timeout_ms),
            ("reload_timeout_ms", self.reload_timeout_ms),
        ] {
            range(key, value, 1, MAX_MS, "1 ms to a day (86400000)")?;
        }
        for (key, value) in [
            ("drain_ms", self.drain_ms),
            ("shutdown_timeout_ms", self.shutdown_timeout_ms),
        ] {
            range(key, value, 0, MAX_MS, "0 to a day (86400000)")?;
        }
        range("explain_top", self.explain_top, 0, 100, "0 to 100")?;
        if self.default_model.trim().is_empty() {
            return Err(ConfigError::OutOfRange {
                key: "default_model",
                value: "\"\"".into(),
                expected: "a model name",
            });
        }
        if !(0.0..=1.0).contains(&self.holdout_fraction) {
            return Err(ConfigError::OutOfRange {
                key: "holdout_fraction",
                value: self.holdout_fraction.to_string(),
                expected: "a share within 0–1",
            });
        }
        let c = &self.challenger;
        if !(0.0..=1.0).contains(&c.fraction) {
            return Err(ConfigError::OutOfRange {
                key: "challenger.fraction",
                value: c.fraction.to_string(),
                expected: "a share within 0–1",
            });
        }
        if c.model.is_none() {
            if c.fraction != defaults::CHALLENGER_FRACTION {
                return Err(ConfigError::ChallengerWithoutModel {
                    key: "challenger.fraction",
                });
            }
            if c.in_response {
                return Err(ConfigError::ChallengerWithoutModel {
                    key: "challenger.in_response",
                });
            }
        }
        for (key, token, file) in [
            ("api_token", &self.api_token, &self.api_token_file),
            ("admin_token", &self.admin_token, &self.admin_token_file),
        ] {
            if token.is_some() && file.is_some() {
                return Err(ConfigError::TokenTwice { key });
            }
            if token.as_ref().is_some_and(Token::is_weak) {
                return Err(ConfigError::WeakToken { key });
            }
        }
        Ok(())
    }

    /// Reads `api_token_file` and `admin_token_file` into the tokens (the file settings are
    /// then cleared: the token is what the server uses).
    pub fn read_token_files(&mut self) -> Result<(), ConfigError> {
        for (key, token, file) in [
            ("api_token", &mut self.api_token, &mut self.api_token_file),
            (
                "admin_token",
                &mut self.admin_token,
                &mut self.admin_token_file,
            ),
        ] {
            let Some(path) = file.take() else { continue };
            if token.is_some() {
                return Err(ConfigError::TokenTwice { key });
            }
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::TokenFile {
                key,
                path,
                source,
            })?;
            *token = Some(Token(text.trim().to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bound_is_checked_with_its_key() {
        let cases: Vec<(Config, &str)> = vec![
            (
                Config {
                    max_concurrency: 2_305_843_009_213_693_952,
                    ..Config::default()
                },
                "max_concurrency",
            ),
            (
                Config {
                    max_batch: 0,
                    ..Config::default()
                },
                "max_batch",
            ),
            (
                Config {
                    max_queued_leads: 10,
                    ..Config::default()
                },
                "max_queued_leads",
            ),
            (
                Config {
                    timeout_ms: u64::MAX,
                    ..Config::default()
                },
                "timeout_ms",
            ),
            (
                Config {
                    max_body_bytes: 10,
                    ..Config::default()
                },
                "max_body_bytes",
            ),
            (
                Config {
                    challenger: Challenger {
                        fraction: 0.5,
                        ..Challenger::default()
                    },
                    ..Config::default()
                },
                "challenger.fraction",
            ),
            (
                Config {
                    challenger: Challenger {
                        model: Some("m".into()),
                        fraction: 2.0,
                        in_response: false,
                    },
                    ..Config::default()
                },
                "challenger.fraction",
            ),
            (
                Config {
                    admin_token: Some(Token::new("short")),
                    ..Config::default()
                },
                "admin_token",
            ),
        ];
        for (config, key) in cases {
            let err = config.validate().expect_err(key).to_string();
            assert!(err.starts_with(key), "{key}: {err}");
        }
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn tokens_compare_whole_and_never_print() {
        let t = Token::new("s3cret-token");
        assert!(t.matches("s3cret-token"));
        assert!(!t.matches("s3cret-tokeN"));
        assert!(!t.matches("s3cret-token-and-more"));
        assert!(!t.matches(""));
        assert_eq!(format!("{t:?}"), "Token(***)");
        let c = Config {
            api_token: Some(t),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn token_files_are_read_trimmed_and_exclusive() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("admin.token");
        std::fs::write(&path, "  from-a-file-123\n").expect("write");
        let mut c = Config {
            admin_token_file: Some(path.clone()),
            ..Config::default()
        };
        c.read_token_files().expect("reads");
        assert!(
            c.admin_token
                .as_ref()
                .is_some_and(|t| t.matches("from-a-file-123"))
        );
        c.validate().expect("a token read from a file is valid");
        let mut twice = Config {
            admin_token: Some(Token::new("another-token")),
            admin_token_file: Some(path),
            ..Config::default()
        };
        assert!(matches!(
            twice.read_token_files(),
            Err(ConfigError::TokenTwice { key: "admin_token" })
        ));
        let mut missing = Config {
            api_token_file: Some(dir.path().join("nope")),
            ..Config::default()
        };
        let err = missing
            .read_token_files()
            .expect_err("missing file")
            .to_string();
        assert!(
            err.contains("api_token_file") && err.contains("nope"),
            "{err}"
        );
    }
}
