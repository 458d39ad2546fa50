//! The feature schema: what each column of a training table is and how to read it.
//!
//! A schema is a small TOML file (`docs/schema.md`) that `qualify schema infer` writes and a
//! person edits. It names the label, the id and the time column, and for every feature column
//! its role (what kind of fact it is) and type (how the encoder reads it), plus the tokens that
//! mean "not answered". Columns the schema does not list are ignored.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::history::HistoryColumns;

/// A schema file that cannot be used: which file, and why.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// Not TOML, or not the schema's shape (unknown key, wrong type).
    #[error("{origin}: {source}")]
    Toml {
        origin: String,
        #[source]
        source: toml::de::Error,
    },
    /// Well-formed, but it breaks a rule of schemas.
    #[error("{origin}: {source}")]
    Rule {
        origin: String,
        #[source]
        source: SchemaRule,
    },
    /// The file could not be read.
    #[error("cannot read schema {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A rule of schemas that a schema breaks ([`Schema::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaRule {
    #[error(
        "schema format_version {found} is not supported (this build reads {SCHEMA_FORMAT_VERSION})"
    )]
    Version { found: u32 },
    #[error("column {column:?} is listed twice")]
    Duplicate { column: String },
    #[error(
        "column {column:?} has role {role} but no type; add type = \"numeric\", \"categorical\", \"boolean\", \"set\" or \"timestamp\""
    )]
    Untyped { column: String, role: Role },
    #[error(
        "column {column:?}: monotone applies to numeric feature columns only (this one is {role} {})",
        kind.map_or("without a type".to_string(), |k| k.to_string())
    )]
    MonotoneNotNumeric {
        column: String,
        role: Role,
        kind: Option<ColumnType>,
    },
    #[error("column {column:?}: separator must not be empty")]
    EmptySeparator { column: String },
    #[error("{count} columns have role {role:?}; at most one may")]
    TooMany { role: Role, count: usize },
    #[error(
        "no column has role \"label\" (a leads table's schema, whose label comes from the \
         outcomes, has a [history] section instead)"
    )]
    NoLabel,
    #[error("a leads schema ([history] section) needs a column with role {role:?}")]
    HistoryNeeds { role: Role },
    #[error("no feature columns: every column is label, id, timestamp or ignore")]
    NoFeatures,
}

/// Current schema format version.
pub const SCHEMA_FORMAT_VERSION: u32 = 1;

/// Tokens that mean "not answered" unless a schema says otherwise. Compared after trimming,
/// ignoring ASCII case. The empty string is always missing. `NaN` is deliberately not one:
/// a NaN is an error (a broken computation upstream), in files and JSON alike.
pub const DEFAULT_MISSING_TOKENS: &[&str] =
    &["", "NA", "N/A", "null", "none", "Select", "unknown", "-"];

/// Default minimum count for a categorical level to get its own column; rarer levels are pooled
/// into `__other__`.
pub const DEFAULT_MIN_LEVEL_COUNT: usize = 10;

/// Default separator of multi-valued (set) cells.
pub const DEFAULT_SET_SEPARATOR: &str = ";";

/// A feature schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    #[serde(default = "default_version")]
    pub format_version: u32,
    /// Tokens read as missing in every column (besides the empty string).
    #[serde(default = "default_missing_tokens")]
    pub missing_tokens: Vec<String>,
    /// Minimum count for a categorical or set level to be kept.
    #[serde(default = "default_min_level_count")]
    pub min_level_count: usize,
    #[serde(rename = "column", default)]
    pub columns: Vec<ColumnSpec>,
    /// A leads table's schema (docs/history.md): the column names of the events and outcomes
    /// tables. Its label comes from the outcomes, so it has no label column; it needs an id
    /// and a timestamp (the lead's creation) column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryColumns>,
}

/// One column of the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    pub name: String,
    pub role: Role,
    /// How the encoder reads the column; required for feature roles.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ColumnType>,
    /// Extra missing tokens for this column only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Separator of set cells (type = "set"); default ";".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separator: Option<String>,
    /// Why the column has its role (e.g. why it is ignored), for people reading the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A direction the model's score must follow along this numeric column, all else equal
    /// (enforced by the gradient-boosted model; see [`Monotone`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monotone: Option<Monotone>,
}

/// A monotone constraint on a numeric feature: more of it never lowers (`increasing`) or never
/// raises (`decreasing`) the score. The encoder standardises numbers with a positive scale, so
/// the direction carries over to the encoded value; its missing indicator stays free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monotone {
    Increasing,
    Decreasing,
}

/// What kind of fact a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// The binary outcome (converted or not).
    Label,
    /// A row identifier: carried to outputs, never a feature.
    Id,
    /// When the lead arrived: used for time-based splits, never a feature.
    Timestamp,
    /// Industry, size, revenue, country.
    Firmographic,
    /// The prospect's software stack.
    Technographic,
    /// Engagement: visits, downloads, activity counts and recency.
    Behavioural,
    /// Qualification answers (budget, need, timeline).
    Qualification,
    /// A feature of no particular kind.
    Feature,
    /// Not used: leakage, free text, constant, or anything the data scientist excluded.
    Ignore,
}

impl Role {
    /// Whether columns of this role feed the model.
    pub fn is_feature(self) -> bool {
        matches!(
            self,
            Role::Firmographic
                | Role::Technographic
                | Role::Behavioural
                | Role::Qualification
                | Role::Feature
        )
    }
}

/// How a feature column is read and encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ColumnType {
    /// A number: median-imputed, missing indicator, standardised.
    Numeric,
    /// One level of many: one-hot, rare levels pooled, unseen levels to `__other__`,
    /// missing its own level.
    Categorical,
    /// Yes/no, true/false, 1/0 in any case: one value plus a missing indicator.
    Boolean,
    /// Several levels in one cell ("salesforce;hubspot"): multi-hot.
    Set,
    /// An RFC 3339 time or a date: encoded as days before the scoring time, then as a number.
    Timestamp,
}

fn default_version() -> u32 {
    SCHEMA_FORMAT_VERSION
}
fn default_missing_tokens() -> Vec<String> {
    DEFAULT_MISSING_TOKENS
        .iter()
        .map(|s| s.to_string())
        .collect()
}
fn default_min_level_count() -> usize {
    DEFAULT_MIN_LEVEL_COUNT
}

impl Schema {
    /// Parses and validates a schema from TOML text; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Schema, SchemaError> {
        let schema: Schema = toml::from_str(text).map_err(|source| SchemaError::Toml {
            origin: origin.to_string(),
            source,
        })?;
        schema.validate().map_err(|source| SchemaError::Rule {
            origin: origin.to_string(),
            source,
        })?;
        Ok(schema)
    }

    /// Reads and validates a schema file.
    pub fn read(path: &Path) -> Result<Schema, SchemaError> {
        let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Schema::from_toml(&text, &path.display().to_string())
    }

    /// Checks the rules a schema must obey: one label, at most one id and one timestamp,
    /// unique names, a type on every feature column, a non-empty set separator. A leads
    /// schema (with a `[history]` section) needs no label and no feature column (its
    /// behavioural features come from the events), but an id and a timestamp column.
    pub fn validate(&self) -> Result<(), SchemaRule> {
        if self.format_version != SCHEMA_FORMAT_VERSION {
            return Err(SchemaRule::Version {
                found: self.format_version,
            });
        }
        let mut seen = BTreeSet::new();
        for col in &self.columns {
            let column = || col.name.clone();
            if !seen.insert(col.name.as_str()) {
                return Err(SchemaRule::Duplicate { column: column() });
            }
            if col.role.is_feature() && col.kind.is_none() {
                return Err(SchemaRule::Untyped {
                    column: column(),
                    role: col.role,
                });
            }
            if col.monotone.is_some()
                && !(col.role.is_feature() && col.kind == Some(ColumnType::Numeric))
            {
                return Err(SchemaRule::MonotoneNotNumeric {
                    column: column(),
                    role: col.role,
                    kind: col.kind,
                });
            }
            if col.separator.as_deref() == Some("") {
                return Err(SchemaRule::EmptySeparator { column: column() });
            }
        }
        for role in [Role::Label, Role::Id, Role::Timestamp] {
            let count = self.columns.iter().filter(|c| c.role == role).count();
            if count > 1 {
                return Err(SchemaRule::TooMany { role, count });
            }
        }
        if self.history.is_some() {
            for role in [Role::Id, Role::Timestamp] {
                if self.with_role(role).is_none() {
                    return Err(SchemaRule::HistoryNeeds { role });
                }
            }
            return Ok(());
        }
        if self.label().is_none() {
            return Err(SchemaRule::NoLabel);
        }
        if self.features().next().is_none() {
            return Err(SchemaRule::NoFeatures);
        }
        Ok(())
    }

    fn with_role(&self, role: Role) -> Option<&str> {
        self.columns
            .iter()
            .find(|c| c.role == role)
            .map(|c| c.name.as_str())
    }

    /// Name of the label column.
    pub fn label(&self) -> Option<&str> {
        self.with_role(Role::Label)
    }

    /// Name of the id column, if any.
    pub fn id(&self) -> Option<&str> {
        self.with_role(Role::Id)
    }

    /// Name of the timestamp column, if any.
    pub fn time(&self) -> Option<&str> {
        self.with_role(Role::Timestamp)
    }

    /// Feature columns, in schema order (which is the encoder's order).
    pub fn features(&self) -> impl Iterator<Item = &ColumnSpec> {
        self.columns.iter().filter(|c| c.role.is_feature())
    }

    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether `text` is a missing token in column `col` (the schema's tokens and the
    /// column's own, through the one missing-token test).
    pub fn is_missing_token(&self, col: &ColumnSpec, text: &str) -> bool {
        crate::value::is_missing_text(text, &self.missing_tokens)
            || crate::value::is_missing_text(text, &col.missing)
    }

    /// Stable content hash (sha256 of the canonical JSON form), hex.
    pub fn hash(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex(&Sha256::digest(&json))
    }

    /// The schema as TOML text (no comments; `qualify schema infer` writes the commented form).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

impl ColumnSpec {
    /// The separator of set cells.
    pub fn set_separator(&self) -> &str {
        self.separator.as_deref().unwrap_or(DEFAULT_SET_SEPARATOR)
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"
        missing_tokens = ["", "Select"]
        [[column]]
        name = "converted"
        role = "label"
        [[column]]
        name = "industry"
        role = "firmographic"
        type = "categorical"
        [[column]]
        name = "tags"
        role = "ignore"
        note = "post-hoc sales field (leakage)"
    "#;

    #[test]
    fn parses_and_finds_roles() {
        let s = Schema::from_toml(SCHEMA, "s.toml").expect("valid");
        assert_eq!(s.label(), Some("converted"));
        assert_eq!(
            s.features().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["industry"]
        );
        let col = s.column("industry").expect("column");
        assert!(s.is_missing_token(col, " select "));
        assert!(s.is_missing_token(col, ""));
        assert!(!s.is_missing_token(col, "saas"));
        let again = Schema::from_toml(&s.to_toml(), "again").expect("round trip");
        assert_eq!(again, s);
        let monotone = SCHEMA.replace(
            "type = \"categorical\"",
            "type = \"numeric\"\nmonotone = \"decreasing\"",
        );
        let m = Schema::from_toml(&monotone, "m.toml").expect("monotone numeric");
        assert_eq!(
            m.column("industry").and_then(|c| c.monotone),
            Some(Monotone::Decreasing)
        );
        assert_eq!(
            Schema::from_toml(&m.to_toml(), "again").expect("round trip"),
            m
        );
        assert_eq!(again.hash(), s.hash());
    }

    /// A leads schema: no label, an id and a creation time, a `[history]` section whose
    /// names default to the contract's.
    #[test]
    fn leads_schemas_have_a_history_section_instead_of_a_label() {
        let leads = r#"
            [[column]]
            name = "Id"
            role = "id"
            [[column]]
            name = "CreatedDate"
            role = "timestamp"
            [history.events]
            at = "ActivityDate"
            type = "Activity Type"
            [history.outcomes]
            converted = ["Closed Won"]
        "#;
        let s = Schema::from_toml(leads, "leads.toml").expect("a leads schema");
        let h = s.history.as_ref().expect("history");
        assert_eq!(h.events.at, "ActivityDate");
        assert_eq!(h.events.kind, "Activity Type");
        assert_eq!(h.events.lead_id, "lead_id", "default");
        assert_eq!(h.outcomes.converted, ["Closed Won"]);
        assert_eq!(h.outcomes.disqualified, ["disqualified"], "default");
        assert_eq!(
            Schema::from_toml(&s.to_toml(), "again").expect("round trip"),
            s
        );
        let no_time = leads.replace("role = \"timestamp\"", "role = \"ignore\"");
        let err = Schema::from_toml(&no_time, "leads.toml").expect_err("no creation time");
        assert!(err.to_string().contains("Timestamp"), "{err}");
        let unknown = format!("{leads}\nbogus = 1\n");
        assert!(Schema::from_toml(&unknown, "leads.toml").is_err());
        // Flat schemas hash as before: the section is not written when absent.
        assert!(
            !Schema::from_toml(SCHEMA, "s")
                .expect("flat")
                .to_toml()
                .contains("history")
        );
    }

    #[test]
    fn rejects_bad_schemas_with_reasons() {
        let no_type = SCHEMA.replace("type = \"categorical\"", "");
        let err = Schema::from_toml(&no_type, "s.toml").expect_err("no type");
        assert!(
            err.to_string().contains("industry") && err.to_string().contains("s.toml"),
            "{err}"
        );
        let monotone_category = SCHEMA.replace(
            "type = \"categorical\"",
            "type = \"categorical\"\nmonotone = \"increasing\"",
        );
        let err = Schema::from_toml(&monotone_category, "s.toml").expect_err("categorical");
        assert!(
            err.to_string().contains("industry") && err.to_string().contains("numeric"),
            "{err}"
        );
        let unknown = format!("{SCHEMA}\nbogus = 1\n");
        assert!(Schema::from_toml(&unknown, "s.toml").is_err());
        let no_label = SCHEMA.replace("role = \"label\"", "role = \"id\"");
        assert!(
            Schema::from_toml(&no_label, "s.toml")
                .expect_err("no label")
                .to_string()
                .contains("label")
        );
    }
}
