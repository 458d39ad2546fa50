//! Reading one cell as the type its schema column declares.
//!
//! These functions are the only place where a raw value becomes a number, a boolean, a
//! level, a set or a time, for the batch path (files), the single-row path (JSON) and the
//! rules engine alike, so none of them can drift apart: `1`, `"1"`, `"yes"` and `true` are
//! the same boolean to the model and to a rule `equals = true`. Each returns `Ok(None)` for a
//! missing value and a [`ValueError`] (without the column name, which the caller adds) for a
//! value of the wrong type. `docs/values.md` describes the accepted forms.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::value::{Cell, ValueKind};

/// What a reader expected to find, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::Display)]
pub enum Expected {
    #[strum(to_string = "a number")]
    Number,
    #[strum(to_string = "a boolean (yes/no, true/false, 1/0)")]
    Boolean,
    #[strum(to_string = "a single category")]
    Category,
    #[strum(to_string = "an RFC 3339 time or a YYYY-MM-DD date")]
    Time,
}

/// A value that cannot be read as its column's type, or encoded at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// A value of another kind (a list where a number belongs, a number where a time does).
    #[error("expected {expected}, found a {found} value")]
    WrongKind {
        expected: Expected,
        found: ValueKind,
    },
    /// Text that does not read as the expected type.
    #[error("expected {expected}, found text {text:?}")]
    Unreadable { expected: Expected, text: String },
    /// A number where a boolean belongs that is neither 0 nor 1.
    #[error("expected a boolean (0 or 1), found {0}")]
    NotZeroOrOne(f64),
    /// NaN or an infinity.
    #[error("expected a finite number, found {0}")]
    NotFinite(f64),
    /// A number so far outside the training range that it overflows `f32` once standardised.
    #[error(
        "{value} is too far outside the training range (mean {mean:.6}, std {std:.6}) to encode"
    )]
    BeyondScale { value: f64, mean: f64, std: f64 },
    /// A number that does not fit the 32-bit input of an imported model.
    #[error("{0} does not fit the model's 32-bit input")]
    BeyondF32(f64),
}

/// A missing-token test for one column.
pub(crate) type IsMissing<'a> = &'a dyn Fn(&str) -> bool;

/// A finite number. Text is parsed (after trimming); NaN and infinities are errors.
pub fn parse_number(cell: Cell<'_>, is_missing: IsMissing<'_>) -> Result<Option<f64>, ValueError> {
    let value = match cell {
        Cell::Missing => return Ok(None),
        Cell::Number(v) => v,
        Cell::Text(t) if is_missing(t) => return Ok(None),
        Cell::Text(t) => number_from_text(t).ok_or_else(|| ValueError::Unreadable {
            expected: Expected::Number,
            text: t.to_string(),
        })?,
        other => {
            return Err(ValueError::WrongKind {
                expected: Expected::Number,
                found: other.kind(),
            });
        }
    };
    if value.is_finite() {
        Ok(Some(value))
    } else {
        Err(ValueError::NotFinite(value))
    }
}

/// A number written as text (trimmed), in Rust's `f64` syntax (`12`, `-3.5`, `1e6`);
/// `None` when it is not one. Infinities and NaN parse here: [`parse_number`] refuses them.
pub fn number_from_text(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok()
}

/// A boolean: true/false, yes/no, y/n, 1/0 in any case, or a JSON boolean or 0/1 number.
pub fn parse_bool(cell: Cell<'_>, is_missing: IsMissing<'_>) -> Result<Option<bool>, ValueError> {
    match cell {
        Cell::Missing => Ok(None),
        Cell::Bool(b) => Ok(Some(b)),
        Cell::Number(0.0) => Ok(Some(false)),
        Cell::Number(1.0) => Ok(Some(true)),
        Cell::Number(v) => Err(ValueError::NotZeroOrOne(v)),
        Cell::Text(t) if is_missing(t) => Ok(None),
        Cell::Text(t) => bool_from_text(t)
            .map(Some)
            .ok_or_else(|| ValueError::Unreadable {
                expected: Expected::Boolean,
                text: t.to_string(),
            }),
        Cell::List(_) => Err(ValueError::WrongKind {
            expected: Expected::Boolean,
            found: ValueKind::List,
        }),
    }
}

/// true/false, yes/no, y/n, 1/0 (also `1.0`/`0.0`), trimmed, in any case.
pub fn bool_from_text(text: &str) -> Option<bool> {
    const YES: &[&str] = &["true", "yes", "y", "1", "1.0"];
    const NO: &[&str] = &["false", "no", "n", "0", "0.0"];
    let t = text.trim();
    if YES.iter().any(|w| w.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if NO.iter().any(|w| w.eq_ignore_ascii_case(t)) {
        Some(false)
    } else {
        None
    }
}

/// A categorical level: trimmed text; numbers and booleans are written as text (integers
/// without a decimal point), so `5` and `"5"` are the same level.
pub fn parse_level<'c>(
    cell: Cell<'c>,
    is_missing: IsMissing<'_>,
) -> Result<Option<Cow<'c, str>>, ValueError> {
    match cell {
        Cell::Missing => Ok(None),
        Cell::Text(t) if is_missing(t) => Ok(None),
        Cell::Text(t) => Ok(Some(Cow::Borrowed(t.trim()))),
        Cell::Number(v) if v.is_finite() => Ok(Some(Cow::Owned(number_text(v)))),
        Cell::Number(v) => Err(ValueError::NotFinite(v)),
        Cell::Bool(b) => Ok(Some(Cow::Borrowed(if b { "true" } else { "false" }))),
        Cell::List(_) => Err(ValueError::WrongKind {
            expected: Expected::Category,
            found: ValueKind::List,
        }),
    }
}

/// Levels of a multi-valued cell: a list, or text split at `separator`; blanks and missing
/// tokens dropped. An empty result is a missing value.
pub fn parse_set<'c>(
    cell: Cell<'c>,
    separator: &str,
    is_missing: IsMissing<'_>,
) -> Result<Option<Vec<Cow<'c, str>>>, ValueError> {
    let mut items = Vec::new();
    for_each_set_item(cell, separator, is_missing, |item| items.push(item))?;
    Ok(if items.is_empty() { None } else { Some(items) })
}

/// The levels [`parse_set`] reads, handed to `item` one by one without collecting them
/// (batch encoding reads millions of sets). Returns how many there were: none is a missing
/// value.
pub fn for_each_set_item<'c>(
    cell: Cell<'c>,
    separator: &str,
    is_missing: IsMissing<'_>,
    mut item: impl FnMut(Cow<'c, str>),
) -> Result<usize, ValueError> {
    let mut count = 0;
    let mut keep = |part: &'c str| {
        let part = part.trim();
        if !is_missing(part) {
            count += 1;
            item(Cow::Borrowed(part));
        }
    };
    match cell {
        Cell::Missing => {}
        // A one-character separator (the usual `;` or `|`) splits at a byte search, several
        // times faster than the substring search a `&str` pattern runs.
        Cell::Text(t) => match one_char(separator) {
            Some(c) => t.split(c).for_each(&mut keep),
            None => t.split(separator).for_each(&mut keep),
        },
        Cell::List(items) => items.iter().for_each(|s| keep(s)),
        Cell::Number(v) => {
            count += 1;
            item(Cow::Owned(number_text(v)));
        }
        Cell::Bool(b) => {
            count += 1;
            item(Cow::Borrowed(if b { "true" } else { "false" }));
        }
    }
    Ok(count)
}

/// The only character of `text`, if it has exactly one.
fn one_char(text: &str) -> Option<char> {
    let mut chars = text.chars();
    chars.next().filter(|_| chars.next().is_none())
}

/// A point in time: RFC 3339, `YYYY-MM-DD HH:MM:SS` (read as UTC) or a date `YYYY-MM-DD`
/// (midnight UTC).
pub fn parse_time(
    cell: Cell<'_>,
    is_missing: IsMissing<'_>,
) -> Result<Option<DateTime<Utc>>, ValueError> {
    match cell {
        Cell::Missing => Ok(None),
        Cell::Text(t) if is_missing(t) => Ok(None),
        Cell::Text(t) => time_from_text(t)
            .map(Some)
            .ok_or_else(|| ValueError::Unreadable {
                expected: Expected::Time,
                text: t.to_string(),
            }),
        other => Err(ValueError::WrongKind {
            expected: Expected::Time,
            found: other.kind(),
        }),
    }
}

/// Parses RFC 3339, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`.
pub fn time_from_text(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S") {
        return Some(naive.and_utc());
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|naive| naive.and_utc())
}

/// A number as a level name: integers without a decimal point.
pub fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(t: &str) -> bool {
        t.trim().is_empty() || t.eq_ignore_ascii_case("select")
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(Cell::Text(" 2.5 "), &none), Ok(Some(2.5)));
        assert_eq!(parse_number(Cell::Text("Select"), &none), Ok(None));
        assert!(
            parse_number(Cell::Text("abc"), &none)
                .expect_err("text")
                .to_string()
                .contains("\"abc\"")
        );
        assert!(parse_number(Cell::Number(f64::NAN), &none).is_err());
        assert!(parse_number(Cell::Text("inf"), &none).is_err());
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_bool(Cell::Text("YES"), &none), Ok(Some(true)));
        assert_eq!(parse_bool(Cell::Text("False"), &none), Ok(Some(false)));
        assert_eq!(parse_bool(Cell::Number(1.0), &none), Ok(Some(true)));
        assert!(parse_bool(Cell::Text("maybe"), &none).is_err());
    }

    #[test]
    fn levels_sets_and_times() {
        assert_eq!(parse_level(Cell::Number(5.0), &none), Ok(Some("5".into())));
        assert_eq!(
            parse_level(Cell::Text(" saas "), &none),
            Ok(Some("saas".into()))
        );
        assert_eq!(
            parse_set(Cell::Text("a; b;;Select"), ";", &none),
            Ok(Some(vec!["a".into(), "b".into()]))
        );
        assert_eq!(parse_set(Cell::Text(" ; "), ";", &none), Ok(None));
        let t = time_from_text("2026-01-02").expect("date");
        assert_eq!(Some(t), time_from_text("2026-01-02T00:00:00Z"));
        assert_eq!(Some(t), time_from_text("2026-01-02 00:00:00"));
        assert!(parse_time(Cell::Text("yesterday"), &none).is_err());
    }
}
