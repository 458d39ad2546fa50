//! Raw cell values, before encoding.
//!
//! Both ways into the encoder meet here: the batch path (qualify-data reads polars columns
//! into [`RawColumn`]s) and the single-row path (a JSON object, through
//! [`RawValue::from_json`]). The encoder only ever sees these types, so a value means the same
//! thing whichever way it came in.

use serde::{Deserialize, Serialize};

/// One cell as read from a file or a JSON record, not yet interpreted by a schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawValue {
    Missing,
    Bool(bool),
    Number(f64),
    Text(String),
    /// A multi-valued field sent as a list (JSON array).
    List(Vec<String>),
}

impl RawValue {
    /// Reads a JSON value: `null` is missing, arrays become lists of their scalar texts, objects
    /// are kept as their JSON text (the schema decides whether that is acceptable).
    pub fn from_json(value: &serde_json::Value) -> RawValue {
        use serde_json::Value;
        match value {
            Value::Null => RawValue::Missing,
            Value::Bool(b) => RawValue::Bool(*b),
            Value::Number(n) => n.as_f64().map_or(RawValue::Missing, RawValue::Number),
            Value::String(s) => RawValue::Text(s.clone()),
            Value::Array(items) => RawValue::List(
                items
                    .iter()
                    .filter(|v| !v.is_null())
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
            ),
            Value::Object(_) => RawValue::Text(value.to_string()),
        }
    }

    /// The value as JSON, for golden rows and reports.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            RawValue::Missing => Value::Null,
            RawValue::Bool(b) => Value::Bool(*b),
            RawValue::Number(n) => {
                serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
            }
            RawValue::Text(s) => Value::String(s.clone()),
            RawValue::List(items) => {
                Value::Array(items.iter().cloned().map(Value::String).collect())
            }
        }
    }

    /// The kind of value, for error messages.
    pub fn kind(&self) -> ValueKind {
        self.cell().kind()
    }
}

/// A borrowed view of one cell: what the encoder reads, whichever path the cell came by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Missing,
    Bool(bool),
    Number(f64),
    Text(&'a str),
    List(&'a [String]),
}

impl RawValue {
    /// Borrows the value as a [`Cell`].
    pub fn cell(&self) -> Cell<'_> {
        match self {
            RawValue::Missing => Cell::Missing,
            RawValue::Bool(b) => Cell::Bool(*b),
            RawValue::Number(n) => Cell::Number(*n),
            RawValue::Text(s) => Cell::Text(s),
            RawValue::List(items) => Cell::List(items),
        }
    }
}

impl Cell<'_> {
    /// The kind of value, for error messages.
    pub fn kind(&self) -> ValueKind {
        match self {
            Cell::Missing => ValueKind::Missing,
            Cell::Bool(_) => ValueKind::Boolean,
            Cell::Number(_) => ValueKind::Number,
            Cell::Text(_) => ValueKind::Text,
            Cell::List(_) => ValueKind::List,
        }
    }
}

/// The kinds of raw value, as error messages name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ValueKind {
    Missing,
    Boolean,
    Number,
    Text,
    List,
}

/// Whether `text` means "not answered": blank, or one of `tokens` (both trimmed, ASCII case
/// ignored). The one missing-token test of qualify: the encoder (with a schema column's
/// tokens) and the rules (with a rules file's) both call it, so a token means the same to
/// the model and to the rules.
pub fn is_missing_text<T: AsRef<str>>(text: &str, tokens: &[T]) -> bool {
    let t = trim(text);
    t.is_empty()
        || tokens
            .iter()
            .any(|m| m.as_ref().len() >= t.len() && trim(m.as_ref()).eq_ignore_ascii_case(t))
}

/// `text.trim()`, without its call when `text` starts and ends with ASCII that is not
/// whitespace (the common case: this runs for every text cell a model reads, against each
/// missing token).
fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// A table that cannot be built: what is wrong and with which column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("column {column:?} has {rows} rows, the table has {table_rows}")]
    Ragged {
        column: String,
        rows: usize,
        table_rows: usize,
    },
    #[error("column {column:?} appears twice")]
    Duplicate { column: String },
}

/// One column of a table as loaded from a file, typed as the file stored it.
#[derive(Debug, Clone, PartialEq)]
pub enum RawColumn {
    /// Numbers (integers are widened); `None` is a null cell.
    Number(Vec<Option<f64>>),
    /// Booleans as the file typed them.
    Bool(Vec<Option<bool>>),
    /// Text cells, untrimmed, as in the file.
    Text(Vec<Option<String>>),
}

impl RawColumn {
    pub fn len(&self) -> usize {
        match self {
            RawColumn::Number(v) => v.len(),
            RawColumn::Bool(v) => v.len(),
            RawColumn::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell at `row`, borrowed.
    pub fn cell(&self, row: usize) -> Cell<'_> {
        match self {
            RawColumn::Number(v) => v[row].map_or(Cell::Missing, Cell::Number),
            RawColumn::Bool(v) => v[row].map_or(Cell::Missing, Cell::Bool),
            RawColumn::Text(v) => v[row].as_deref().map_or(Cell::Missing, Cell::Text),
        }
    }

    /// The cell at `row` as a [`RawValue`].
    pub fn get(&self, row: usize) -> RawValue {
        match self {
            RawColumn::Number(v) => v[row].map_or(RawValue::Missing, RawValue::Number),
            RawColumn::Bool(v) => v[row].map_or(RawValue::Missing, RawValue::Bool),
            RawColumn::Text(v) => v[row].clone().map_or(RawValue::Missing, RawValue::Text),
        }
    }
}

/// A table read cell by cell, by column name: what [`crate::encoder::Encoder::encode_table`]
/// scores. A [`RawTable`] is one; a file reader's own columnar form is another (qualify-data
/// reads a piece of a Parquet or CSV file straight from polars' arrays), so that a million
/// rows are encoded without first copying every text cell into a `String`.
pub trait CellTable {
    /// The number of rows.
    fn height(&self) -> usize;
    /// The column `name`, if the table has it.
    fn cell_column(&self, name: &str) -> Option<&dyn CellColumn>;
}

/// One column of a [`CellTable`].
pub trait CellColumn {
    /// The cell at `row`, borrowed. `row` is below the table's height (as for a slice, a
    /// row beyond it panics).
    fn cell(&self, row: usize) -> Cell<'_>;

    /// The cells at `rows` appended to `out` as numbers (`None` for a missing cell), when
    /// the column holds numbers only (a file's numeric column): batch encoding then reads a
    /// block of rows in one call instead of a cell at a time. `false`, with `out`
    /// untouched, for a column of any other type.
    fn numbers(&self, rows: &[usize], out: &mut Vec<Option<f64>>) -> bool {
        let _ = (rows, out);
        false
    }
}

impl CellColumn for RawColumn {
    fn cell(&self, row: usize) -> Cell<'_> {
        RawColumn::cell(self, row)
    }

    fn numbers(&self, rows: &[usize], out: &mut Vec<Option<f64>>) -> bool {
        let RawColumn::Number(values) = self else {
            return false;
        };
        out.extend(rows.iter().map(|&r| values[r]));
        true
    }
}

impl CellTable for RawTable {
    fn height(&self) -> usize {
        self.rows()
    }

    fn cell_column(&self, name: &str) -> Option<&dyn CellColumn> {
        self.column(name).map(|c| c as &dyn CellColumn)
    }
}

/// Named columns of equal length: a training or scoring table in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawTable {
    names: Vec<String>,
    columns: Vec<RawColumn>,
    rows: usize,
}

impl RawTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a column; an error if its length differs from the table's or its name is taken.
    pub fn push(&mut self, name: impl Into<String>, column: RawColumn) -> Result<(), TableError> {
        let name = name.into();
        if !self.columns.is_empty() && column.len() != self.rows {
            return Err(TableError::Ragged {
                column: name,
                rows: column.len(),
                table_rows: self.rows,
            });
        }
        if self.names.contains(&name) {
            return Err(TableError::Duplicate { column: name });
        }
        self.rows = column.len();
        self.names.push(name);
        self.columns.push(column);
        Ok(())
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn column(&self, name: &str) -> Option<&RawColumn> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.columns[i])
    }

    pub fn columns(&self) -> impl Iterator<Item = (&str, &RawColumn)> {
        self.names.iter().map(String::as_str).zip(&self.columns)
    }

    /// Row `row` as a JSON object (column name -> value), the form services send.
    pub fn row_json(&self, row: usize) -> serde_json::Map<String, serde_json::Value> {
        self.columns()
            .map(|(name, col)| (name.to_string(), col.get(row).to_json()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_map_to_raw_values() {
        let v: serde_json::Value =
            serde_json::from_str(r#"[null, true, 3.5, "x", ["a", null, 2]]"#).expect("json");
        let got: Vec<RawValue> = v
            .as_array()
            .expect("array")
            .iter()
            .map(RawValue::from_json)
            .collect();
        assert_eq!(
            got,
            vec![
                RawValue::Missing,
                RawValue::Bool(true),
                RawValue::Number(3.5),
                RawValue::Text("x".into()),
                RawValue::List(vec!["a".into(), "2".into()]),
            ]
        );
    }

    #[test]
    fn table_rejects_ragged_and_duplicate_columns() {
        let mut t = RawTable::new();
        t.push("a", RawColumn::Number(vec![Some(1.0), None]))
            .expect("first column");
        assert!(t.push("b", RawColumn::Bool(vec![Some(true)])).is_err());
        assert!(
            t.push("a", RawColumn::Bool(vec![Some(true), None]))
                .is_err()
        );
        assert_eq!(t.row_json(1)["a"], serde_json::Value::Null);
    }
}
