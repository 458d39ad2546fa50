//! Reading one cell as the type its schema column declares.
//!
//! These functions are the only place where text becomes a number, a boolean, a level or a
//! time, for both the batch path (files) and the single-row path (JSON), so the two cannot
//! drift apart. Each returns `Ok(None)` for a missing value and an error message (without the
//! column name, which the caller adds) for a value of the wrong type.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::value::Cell;

/// A missing-token test for one column.
pub(crate) type IsMissing<'a> = &'a dyn Fn(&str) -> bool;

/// A finite number. Text is parsed (after trimming); NaN and infinities are errors.
pub fn parse_number(cell: Cell<'_>, is_missing: IsMissing<'_>) -> Result<Option<f64>, String> {
    let value = match cell {
        Cell::Missing => return Ok(None),
        Cell::Number(v) => v,
        Cell::Text(t) if is_missing(t) => return Ok(None),
        Cell::Text(t) => t
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("expected a number, found text {t:?}"))?,
        other => return Err(format!("expected a number, found a {}", other.kind())),
    };
    if value.is_finite() {
        Ok(Some(value))
    } else {
        Err(format!("expected a finite number, found {value}"))
    }
}

/// A boolean: true/false, yes/no, y/n, 1/0 in any case, or a JSON boolean or 0/1 number.
pub fn parse_bool(cell: Cell<'_>, is_missing: IsMissing<'_>) -> Result<Option<bool>, String> {
    match cell {
        Cell::Missing => Ok(None),
        Cell::Bool(b) => Ok(Some(b)),
        Cell::Number(0.0) => Ok(Some(false)),
        Cell::Number(1.0) => Ok(Some(true)),
        Cell::Number(v) => Err(format!("expected a boolean (0 or 1), found {v}")),
        Cell::Text(t) if is_missing(t) => Ok(None),
        Cell::Text(t) => bool_from_text(t)
            .map(Some)
            .ok_or_else(|| format!("expected a boolean (yes/no, true/false, 1/0), found {t:?}")),
        Cell::List(_) => Err("expected a boolean, found a list".into()),
    }
}

/// true/false, yes/no, y/n, 1/0, in any case.
pub fn bool_from_text(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "1.0" => Some(true),
        "false" | "no" | "n" | "0" | "0.0" => Some(false),
        _ => None,
    }
}

/// A categorical level: trimmed text; numbers and booleans are written as text (integers
/// without a decimal point), so `5` and `"5"` are the same level.
pub fn parse_level(cell: Cell<'_>, is_missing: IsMissing<'_>) -> Result<Option<String>, String> {
    match cell {
        Cell::Missing => Ok(None),
        Cell::Text(t) if is_missing(t) => Ok(None),
        Cell::Text(t) => Ok(Some(t.trim().to_string())),
        Cell::Number(v) if v.is_finite() => Ok(Some(number_text(v))),
        Cell::Number(v) => Err(format!("expected a category, found {v}")),
        Cell::Bool(b) => Ok(Some(b.to_string())),
        Cell::List(_) => Err("expected a single category, found a list".into()),
    }
}

/// Levels of a multi-valued cell: a list, or text split at `separator`; blanks and missing
/// tokens dropped. An empty result is a missing value.
pub fn parse_set(
    cell: Cell<'_>,
    separator: &str,
    is_missing: IsMissing<'_>,
) -> Result<Option<Vec<String>>, String> {
    let items: Vec<String> = match cell {
        Cell::Missing => return Ok(None),
        Cell::Text(t) => t
            .split(separator)
            .map(str::trim)
            .filter(|s| !is_missing(s))
            .map(str::to_string)
            .collect(),
        Cell::List(items) => items
            .iter()
            .map(|s| s.trim())
            .filter(|s| !is_missing(s))
            .map(str::to_string)
            .collect(),
        Cell::Number(v) => vec![number_text(v)],
        Cell::Bool(b) => vec![b.to_string()],
    };
    Ok(if items.is_empty() { None } else { Some(items) })
}

/// A point in time: RFC 3339, `YYYY-MM-DD HH:MM:SS` (read as UTC) or a date `YYYY-MM-DD`
/// (midnight UTC).
pub fn parse_time(
    cell: Cell<'_>,
    is_missing: IsMissing<'_>,
) -> Result<Option<DateTime<Utc>>, String> {
    match cell {
        Cell::Missing => Ok(None),
        Cell::Text(t) if is_missing(t) => Ok(None),
        Cell::Text(t) => time_from_text(t)
            .map(Some)
            .ok_or_else(|| format!("expected an RFC 3339 time or a YYYY-MM-DD date, found {t:?}")),
        other => Err(format!(
            "expected a time (RFC 3339 text), found a {}",
            other.kind()
        )),
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
fn number_text(v: f64) -> String {
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
