//! The label column: read, checked binary, and checked trainable.

use qualify_core::encoder::parse::bool_from_text;
use qualify_core::value::{Cell, RawTable};

/// Fewest rows of each class that training accepts. Stratified 5-fold cross-validation (which
/// picks the regularisation and fits the calibrator) and the 20% test split each need several
/// leads of both classes; below about 30 of the rarer class, the folds hold a handful of
/// conversions each and the chosen model, its calibration and its metrics are noise.
pub const MIN_PER_CLASS: usize = 30;

/// Why a label column cannot be trained or evaluated on; each variant names the column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("label column {label:?} is not in the data; its columns are: {}", columns.join(", "))]
    Missing { label: String, columns: Vec<String> },
    /// Some cells are not 0/1, yes/no, true/false; `examples` holds the first few, as
    /// (1-based row, the cell as read).
    #[error(
        "label column {label:?} must be binary (0/1, yes/no, true/false); {count} row(s) are not: {}",
        examples.iter().map(|(row, cell)| format!("row {row}: {cell}")).collect::<Vec<_>>().join("; ")
    )]
    NotBinary {
        label: String,
        count: usize,
        examples: Vec<(usize, String)>,
    },
    #[error(
        "label column {label:?} has a single class: every row is {}; a propensity model needs both. \
         Without conversions to learn from, qualify leads with the rule-based stage (`qualify rules`)",
        if *converted { "1 (converted)" } else { "0 (not converted)" }
    )]
    SingleClass { label: String, converted: bool },
    #[error(
        "label column {label:?} has {positives} positive and {negatives} negative rows; training needs at \
         least {MIN_PER_CLASS} of each, because 5-fold cross-validation and the held-out test split each \
         need several of both classes to choose the model, fit its calibration and measure it. \
         Until you have more outcomes, qualify leads with the rule-based stage (`qualify rules`)"
    )]
    TooFew {
        label: String,
        positives: usize,
        negatives: usize,
    },
}

/// Reads the label column as booleans: 0/1, yes/no, true/false (any case).
pub fn read_labels(table: &RawTable, label: &str) -> Result<Vec<bool>, LabelError> {
    let column = table.column(label).ok_or_else(|| LabelError::Missing {
        label: label.to_string(),
        columns: table.names().iter().map(|n| n.to_string()).collect(),
    })?;
    let mut labels = Vec::with_capacity(table.rows());
    let mut bad = Vec::new();
    let mut bad_count = 0;
    for row in 0..table.rows() {
        let value = match column.cell(row) {
            Cell::Bool(b) => Some(b),
            Cell::Number(0.0) => Some(false),
            Cell::Number(1.0) => Some(true),
            Cell::Text(t) => bool_from_text(t),
            _ => None,
        };
        match value {
            Some(v) => labels.push(v),
            None => {
                bad_count += 1;
                if bad.len() < 3 {
                    bad.push((row + 1, describe(column.cell(row))));
                }
            }
        }
    }
    if bad_count > 0 {
        return Err(LabelError::NotBinary {
            label: label.to_string(),
            count: bad_count,
            examples: bad,
        });
    }
    Ok(labels)
}

/// Checks that both classes are present often enough to train on.
pub fn check_trainable(labels: &[bool], label: &str) -> Result<(), LabelError> {
    let positives = labels.iter().filter(|&&y| y).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(LabelError::SingleClass {
            label: label.to_string(),
            converted: positives > 0,
        });
    }
    if positives.min(negatives) < MIN_PER_CLASS {
        return Err(LabelError::TooFew {
            label: label.to_string(),
            positives,
            negatives,
        });
    }
    Ok(())
}

fn describe(cell: Cell<'_>) -> String {
    match cell {
        Cell::Missing => "missing".into(),
        Cell::Bool(b) => b.to_string(),
        Cell::Number(v) => v.to_string(),
        Cell::Text(t) => format!("{t:?}"),
        Cell::List(_) => "a list".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qualify_core::value::RawColumn;

    fn table(col: RawColumn) -> RawTable {
        let mut t = RawTable::new();
        t.push("y", col).expect("column");
        t
    }

    #[test]
    fn reads_every_binary_spelling() {
        let t = table(RawColumn::Text(
            ["1", "0", "Yes", "no", "TRUE", "false"]
                .map(|s| Some(s.to_string()))
                .to_vec(),
        ));
        assert_eq!(
            read_labels(&t, "y"),
            Ok(vec![true, false, true, false, true, false])
        );
    }

    #[test]
    fn rejects_non_binary_and_missing_labels() {
        let t = table(RawColumn::Number(vec![Some(1.0), Some(2.0), None]));
        let err = read_labels(&t, "y").expect_err("not binary").to_string();
        assert!(
            err.contains("row 2: 2") && err.contains("row 3: missing"),
            "{err}"
        );
        let err = read_labels(&t, "converted")
            .expect_err("absent")
            .to_string();
        assert!(err.contains("\"converted\"") && err.contains("y"), "{err}");
    }

    #[test]
    fn rejects_one_class_and_too_few() {
        assert!(
            check_trainable(&[false; 100], "y")
                .expect_err("one class")
                .to_string()
                .contains("single class")
        );
        let mut few = vec![false; 100];
        few[..5].fill(true);
        let err = check_trainable(&few, "y").expect_err("too few").to_string();
        assert!(
            err.contains("at least 30") && err.contains("rules"),
            "{err}"
        );
        let mut ok = vec![false; 100];
        ok[..30].fill(true);
        assert!(check_trainable(&ok, "y").is_ok());
    }
}
