//! The OpenAPI schema of a lead's boolean fields (`budget_confirmed`, `need_confirmed`),
//! which read more than JSON booleans (`flexible_bool`: 0/1, and the texts of
//! `encoder::parse::bool_from_text` and the missing tokens, trimmed, in any case). A schema
//! narrower than the parser would make generated clients refuse what the server takes, and
//! contract tests flag the server for accepting it; this one is made from the same word lists.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

use crate::schema::DEFAULT_MISSING_TOKENS;

/// The texts `bool_from_text` reads (kept in step with it by a test there).
pub(crate) const BOOL_WORDS: &[&str] = &[
    "true", "yes", "y", "1", "1.0", "false", "no", "n", "0", "0.0",
];

/// `true`/`false`, 0/1, or a text the parser reads as one (or as missing).
#[derive(Debug)]
pub struct FlexibleBool;

/// An ECMA-262 pattern for `words` (or blank), trimmed, in any case.
fn pattern(words: impl Iterator<Item = String>) -> String {
    let escape = |c: char| match c {
        c if c.is_ascii_alphabetic() => {
            format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
        }
        c if r"^$\.*+?()[]{}|/".contains(c) => format!("\\{c}"),
        c => c.to_string(),
    };
    let alternatives: Vec<String> = words
        .filter(|w| !w.trim().is_empty())
        .map(|w| w.trim().chars().map(escape).collect())
        .collect();
    format!(r"^[\s\u0085]*(?:{})?[\s\u0085]*$", alternatives.join("|"))
}

impl utoipa::PartialSchema for FlexibleBool {
    fn schema() -> RefOr<Schema> {
        let words = BOOL_WORDS
            .iter()
            .chain(DEFAULT_MISSING_TOKENS)
            .map(|w| (*w).to_string());
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .maximum(Some(1)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(pattern(words))),
            )
            .description(Some(
                "true/false; 0/1; or the text true/false, yes/no, y/n, 1/0 (any case, trimmed); a blank or missing token (NA, null, none, …) is missing",
            ))
            .into()
    }
}

impl utoipa::ToSchema for FlexibleBool {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_are_the_parsers() {
        for w in BOOL_WORDS {
            assert!(crate::encoder::parse::bool_from_text(w).is_some(), "{w}");
        }
        assert_eq!(
            pattern(["n/a".to_string(), "y".to_string()].into_iter()),
            r"^[\s\u0085]*(?:[nN]\/[aA]|[yY])?[\s\u0085]*$"
        );
    }
}
