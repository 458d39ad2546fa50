//! The store settings: which store the server keeps (a URL, or none) and whether it logs
//! every scored answer there.
//!
//! A store URL is checked when it is read (flag, variable or file key alike): a scheme that
//! names neither backend is an error naming the setting, before anything connects or binds.
//! Connecting (and refusing a store newer than this build) happens at start, before the
//! server announces it listens (`crate::serve`).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::defaults;

/// `store`: a store URL, or `none`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum StoreSetting {
    /// No store: the store routes answer 404 `no_store` and nothing is logged.
    None,
    /// `sqlite://PATH` or `postgres://…` (checked to name a backend).
    Url(String),
}

impl StoreSetting {
    /// The URL, when there is a store.
    pub fn url(&self) -> Option<&str> {
        match self {
            StoreSetting::None => None,
            StoreSetting::Url(url) => Some(url),
        }
    }
}

impl Default for StoreSetting {
    fn default() -> Self {
        StoreSetting::Url(defaults::STORE.to_string())
    }
}

/// A store setting that is neither `none` nor a URL of a backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "store {given:?}: give sqlite://PATH, postgres://USER@HOST:PORT/DB, or none (serve without a store)"
)]
pub struct StoreSettingError {
    pub given: String,
}

impl FromStr for StoreSetting {
    type Err = StoreSettingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("none") {
            return Ok(StoreSetting::None);
        }
        match qualify_store::Backend::of_url(s) {
            Ok(_) => Ok(StoreSetting::Url(s.to_string())),
            Err(_) => Err(StoreSettingError {
                given: s.to_string(),
            }),
        }
    }
}

impl TryFrom<String> for StoreSetting {
    type Error = StoreSettingError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<StoreSetting> for String {
    fn from(s: StoreSetting) -> Self {
        s.to_string()
    }
}

impl std::fmt::Display for StoreSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreSetting::None => f.write_str("none"),
            StoreSetting::Url(url) => f.write_str(url),
        }
    }
}

/// `score_log`: `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ScoreLogSwitch {
    #[default]
    On,
    Off,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_settings_name_a_backend_or_none() {
        assert_eq!(
            "none".parse::<StoreSetting>().expect("none"),
            StoreSetting::None
        );
        assert_eq!(
            StoreSetting::default().url(),
            Some("sqlite://var/qualify.db")
        );
        assert!("postgres://u@h:5432/db".parse::<StoreSetting>().is_ok());
        let err = "mysql://u@h/db"
            .parse::<StoreSetting>()
            .expect_err("not a backend");
        assert!(err.to_string().contains("sqlite://PATH"), "{err}");
        let text: String = StoreSetting::None.into();
        assert_eq!(text, "none");
    }
}
