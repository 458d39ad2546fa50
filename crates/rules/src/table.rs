//! Rule outcomes as table columns: what `qualify rules score` writes to CSV or Parquet, as a
//! library call, so the command line and the Python package (`Rules.evaluate`) produce the
//! same columns from the same function.
//!
//! A table's rows are evaluated as flat rows ([`FlatRow`](crate::FlatRow): every column by name, activity
//! counts as `<type>_count` and `last_activity_at`), exactly as the command line evaluates a
//! CSV file read as is.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use qualify_core::value::{RawColumn, RawTable, RawValue, TableError};

use crate::{CompiledRules, RuleOutcome};

/// The names of the columns [`outcome_table`] writes, in order.
pub const OUTCOME_COLUMNS: [&str; 8] = [
    "id",
    "score",
    "fit_score",
    "engagement_score",
    "stage",
    "gates_failed",
    "route",
    "reasons",
];

/// Every row of `table` evaluated as a flat row as of `as_of`, in row order.
pub fn evaluate_table<'r>(
    rules: &'r CompiledRules,
    table: &RawTable,
    as_of: DateTime<Utc>,
) -> Vec<RuleOutcome<'r>> {
    (0..table.rows())
        .map(|r| {
            let flat: BTreeMap<String, RawValue> = table
                .columns()
                .map(|(n, c)| (n.to_string(), c.get(r)))
                .collect();
            rules.evaluate_flat(&flat, as_of)
        })
        .collect()
}

/// The outcome columns ([`OUTCOME_COLUMNS`]): the lead's id (`ids`, one per outcome), the
/// score and its fit and engagement parts (points), the stage, the failed gates (`;`
/// separated), the route and the reasons as text.
///
/// # Errors
/// [`TableError`] when `ids` and `outcomes` differ in length.
pub fn outcome_table<'a, 'r: 'a>(
    ids: Vec<Option<String>>,
    outcomes: impl IntoIterator<Item = &'a RuleOutcome<'r>>,
) -> Result<RawTable, TableError> {
    let outcomes: Vec<&RuleOutcome<'r>> = outcomes.into_iter().collect();
    let text = |f: &dyn Fn(&RuleOutcome<'_>) -> Option<String>| {
        RawColumn::Text(outcomes.iter().map(|o| f(o)).collect())
    };
    let number = |f: &dyn Fn(&RuleOutcome<'_>) -> f64| {
        RawColumn::Number(outcomes.iter().map(|o| Some(f(o))).collect())
    };
    let mut table = RawTable::new();
    table.push(OUTCOME_COLUMNS[0], RawColumn::Text(ids))?;
    table.push(OUTCOME_COLUMNS[1], number(&|o| o.score.as_f64()))?;
    table.push(OUTCOME_COLUMNS[2], number(&|o| o.fit_score.as_f64()))?;
    table.push(OUTCOME_COLUMNS[3], number(&|o| o.engagement_score.as_f64()))?;
    table.push(
        OUTCOME_COLUMNS[4],
        text(&|o| Some(o.stage.as_str().to_string())),
    )?;
    table.push(
        OUTCOME_COLUMNS[5],
        text(&|o| Some(o.gates_failed.join(";"))),
    )?;
    table.push(OUTCOME_COLUMNS[6], text(&|o| o.route.map(str::to_string)))?;
    table.push(OUTCOME_COLUMNS[7], text(&|o| Some(o.reasons_text())))?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_evaluates_as_its_flat_rows_and_writes_every_column() {
        let rules = CompiledRules::from_text(
            "[stages]\nmql = 20\n[[fit]]\nid = \"director\"\npoints = 15\nwhen = { field = \"seniority\", equals = \"director\" }\n[[engagement]]\nid = \"pricing\"\nactivity = \"pricing_page_visit\"\npoints = 10\n",
            "inline",
        )
        .expect("valid rules");
        let mut table = RawTable::new();
        let seniority = RawColumn::Text(vec![Some("director".into()), None]);
        table.push("seniority", seniority).expect("a column");
        let visits = RawColumn::Number(vec![Some(1.0), Some(2.0)]);
        table
            .push("pricing_page_visit_count", visits)
            .expect("a column");
        let as_of = DateTime::<Utc>::from_timestamp(1_780_000_000, 0).expect("a time");
        let outcomes = evaluate_table(&rules, &table, as_of);
        let ids = vec![Some("a".to_string()), None];
        let out = outcome_table(ids, &outcomes).expect("a table");
        assert_eq!(out.names(), OUTCOME_COLUMNS.map(String::from));
        for (row, lead) in outcomes.iter().enumerate() {
            let flat: BTreeMap<String, RawValue> = table
                .columns()
                .map(|(n, c)| (n.to_string(), c.get(row)))
                .collect();
            let one = rules.evaluate_flat(&flat, as_of);
            assert_eq!(lead.score, one.score);
            assert_eq!(lead.stage, one.stage);
        }
        assert_eq!(
            out.column("score").map(|c| c.get(0)),
            Some(RawValue::Number(25.0))
        );
        assert_eq!(
            out.column("stage").map(|c| c.get(0)),
            Some(RawValue::Text("MQL".into()))
        );
    }
}
