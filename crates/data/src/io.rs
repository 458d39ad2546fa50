//! Reading and writing tables with polars (CSV with `,` `;` or tab, Parquet).
//!
//! This is the only place polars appears: a file becomes a [`RawTable`] of typed columns
//! (numbers, booleans, text) and everything after works on that. Column types are inferred
//! over the whole file (not a prefix), so a late text value in a number column turns the column
//! into text and the encoder reports the offending values by row, instead of polars failing
//! half-way with a parse error.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;
use qualify_core::value::{RawColumn, RawTable};

use crate::error::{DataError, Result};

/// File formats qualify reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    /// The format named by a path's extension (`.csv`, `.tsv`, `.txt` are CSV).
    pub fn from_path(path: &Path) -> Result<Format> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv" | "tsv" | "txt") => Ok(Format::Csv),
            Some("parquet" | "pq") => Ok(Format::Parquet),
            _ => Err(DataError::new(
                path,
                "unknown file type: use .csv, .tsv or .parquet",
            )),
        }
    }
}

/// How to read a file.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// CSV delimiter; detected from the header line when `None`.
    pub delimiter: Option<u8>,
    /// CSV columns read as text whatever they look like: the schema's categorical, set,
    /// boolean, timestamp and id columns, so that a code such as `"02134"` stays the text a
    /// service would send, not the number 2134.
    pub text_columns: Vec<String>,
}

impl ReadOptions {
    /// Options that read the columns `schema` treats as text, as text.
    pub fn for_schema(schema: &qualify_core::schema::Schema, delimiter: Option<u8>) -> ReadOptions {
        use qualify_core::schema::{ColumnType, Role};
        let text_columns = schema
            .columns
            .iter()
            .filter(|c| {
                c.role == Role::Id || (c.role.is_feature() && c.kind != Some(ColumnType::Numeric))
            })
            .map(|c| c.name.clone())
            .collect();
        ReadOptions {
            delimiter,
            text_columns,
        }
    }
}

/// Reads a CSV or Parquet file into a [`RawTable`].
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<RawTable> {
    let df = match Format::from_path(path)? {
        Format::Csv => read_csv(path, options)?,
        Format::Parquet => {
            let file = File::open(path).map_err(|e| DataError::new(path, e.to_string()))?;
            ParquetReader::new(file)
                .finish()
                .map_err(|e| DataError::new(path, e.to_string()))?
        }
    };
    if df.height() == 0 {
        return Err(DataError::new(path, "the file holds no data rows"));
    }
    to_raw_table(&df).map_err(|e| DataError::new(path, e))
}

fn read_csv(path: &Path, options: &ReadOptions) -> Result<DataFrame> {
    let delimiter = match options.delimiter {
        Some(d) => d,
        None => detect_delimiter(path)?,
    };
    let text_schema = (!options.text_columns.is_empty()).then(|| {
        Arc::new(Schema::from_iter(
            options
                .text_columns
                .iter()
                .map(|name| Field::new(name.as_str().into(), DataType::String)),
        ))
    });
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .with_schema_overwrite(text_schema)
        .map_parse_options(|p| p.with_separator(delimiter).with_missing_is_null(true))
        .try_into_reader_with_file_path(Some(path.into()))
        .and_then(|r| r.finish())
        .map_err(|e| DataError::new(path, format!("not a readable CSV file: {e}")))
}

/// Picks `,`, `;` or tab: the one that occurs most often outside quotes in the header line.
pub fn detect_delimiter(path: &Path) -> Result<u8> {
    let file = File::open(path).map_err(|e| DataError::new(path, e.to_string()))?;
    let mut header = String::new();
    BufReader::new(file)
        .read_line(&mut header)
        .map_err(|e| DataError::new(path, format!("cannot read the header line: {e}")))?;
    if header.trim().is_empty() {
        return Err(DataError::new(path, "the file is empty (no header line)"));
    }
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in &mut counts {
                *n += usize::from(b == *d);
            }
        }
    }
    let (best, n) = counts
        .iter()
        .copied()
        .max_by_key(|(_, n)| *n)
        .unwrap_or((b',', 0));
    Ok(if n == 0 { b',' } else { best })
}

fn to_raw_table(df: &DataFrame) -> Result<RawTable, String> {
    let mut table = RawTable::new();
    for col in df.columns() {
        let name = col.name().to_string();
        let raw = convert_column(col).map_err(|e| format!("column {name:?}: {e}"))?;
        table.push(name, raw).map_err(|e| e.to_string())?;
    }
    Ok(table)
}

fn convert_column(col: &Column) -> PolarsResult<RawColumn> {
    let dtype = col.dtype();
    Ok(if dtype.is_primitive_numeric() {
        let floats = col.cast(&DataType::Float64)?;
        RawColumn::Number(floats.f64()?.iter().collect())
    } else if dtype.is_bool() {
        RawColumn::Bool(col.bool()?.iter().collect())
    } else if dtype.is_null() {
        RawColumn::Text(vec![None; col.len()])
    } else {
        let text = col.cast(&DataType::String)?;
        RawColumn::Text(text.str()?.iter().map(|v| v.map(str::to_string)).collect())
    })
}

/// Writes a [`RawTable`] as CSV or Parquet (by extension). Writes to a temporary file beside
/// the target and renames it, so a failed write never leaves a truncated file.
pub fn write_table(path: &Path, table: &RawTable) -> Result<()> {
    let format = Format::from_path(path)?;
    let columns: Vec<Column> = table
        .columns()
        .map(|(name, col)| match col {
            // Whole numbers are written as integers ("3", not "3.0").
            RawColumn::Number(v)
                if v.iter()
                    .flatten()
                    .all(|x| x.fract() == 0.0 && x.abs() < 9e15) =>
            {
                Column::new(
                    name.into(),
                    v.iter().map(|x| x.map(|x| x as i64)).collect::<Vec<_>>(),
                )
            }
            RawColumn::Number(v) => Column::new(name.into(), v.as_slice()),
            RawColumn::Bool(v) => Column::new(name.into(), v.as_slice()),
            RawColumn::Text(v) => Column::new(name.into(), v.as_slice()),
        })
        .collect();
    let mut df =
        DataFrame::new(table.rows(), columns).map_err(|e| DataError::new(path, e.to_string()))?;
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let result = File::create(&tmp)
        .map_err(|e| e.to_string())
        .and_then(|file| match format {
            Format::Csv => CsvWriter::new(file)
                .include_header(true)
                .finish(&mut df)
                .map_err(|e| e.to_string()),
            Format::Parquet => ParquetWriter::new(file)
                .finish(&mut df)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        })
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| e.to_string()));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| DataError::new(path, e))
}

#[cfg(test)]
mod tests;
