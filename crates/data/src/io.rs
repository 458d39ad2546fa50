//! Reading and writing tables with polars (CSV with `,` `;` or tab, Parquet).
//!
//! This is the only place polars appears: a file becomes a [`RawTable`] of typed columns
//! (numbers, booleans, text) and everything after works on that. Column types are inferred
//! over the whole file (not a prefix), so a late text value in a number column turns the column
//! into text and the encoder reports the offending values by row, instead of polars failing
//! half-way with a parse error.
//!
//! Before polars reads a CSV file, [`check_csv_structure`] walks its records with the `csv`
//! crate (same delimiter, same quoting): polars renames a duplicate header
//! (`country_duplicated_0`) and trains on it, fills a short row with nulls and scores it, and
//! reports a long row without its number. Each of those is an error here naming the line,
//! the data row and the column. The walk costs a second pass over the file, at the `csv`
//! crate's speed, far below polars' own parse.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;
use qualify_core::value::{RawColumn, RawTable};
use rayon::prelude::*;

use crate::error::{DataError, Result};

mod frame;

pub use frame::{Frame, FrameCells};

/// File formats qualify reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display)]
pub enum Format {
    #[strum(to_string = "CSV")]
    Csv,
    #[strum(to_string = "Parquet")]
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
            _ => Err(DataError::UnknownFormat {
                path: path.to_path_buf(),
            }),
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
///
/// # Errors
/// An unreadable file (including one polars' reader panics on: [`DataError::ReaderPanic`]),
/// a CSV file whose header repeats a name or whose records do not have the header's number of
/// fields (with line, row and column), a file without data rows.
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<RawTable> {
    Frame::read(path, options, None)?.table()
}

fn io_error(path: &Path, source: std::io::Error) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read_csv(path: &Path, options: &ReadOptions) -> Result<DataFrame> {
    let delimiter = match options.delimiter {
        Some(d) => d,
        None => detect_delimiter(path)?,
    };
    check_csv_structure(path, delimiter)?;
    let text_schema = (!options.text_columns.is_empty()).then(|| {
        Arc::new(Schema::from_iter(
            options
                .text_columns
                .iter()
                .map(|name| Field::new(name.as_str().into(), DataType::String)),
        ))
    });
    polars_read(path, Format::Csv, || {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(None)
            .with_schema_overwrite(text_schema)
            .map_parse_options(|p| p.with_separator(delimiter).with_missing_is_null(true))
            .try_into_reader_with_file_path(Some(path.into()))
            .and_then(|r| r.finish())
    })
}

/// Runs a polars reader, turning its error into [`DataError::Read`] and a panic into
/// [`DataError::ReaderPanic`]: polars' readers are not panic-free on corrupt files (the fuzz
/// target found a Parquet footer that panics its thrift decoder, and a column chunk that
/// panics its page decoder on a worker thread, which the pool hands back here), and a bad
/// file must be an error naming the file, never a crash of the command or the server.
fn polars_read(
    path: &Path,
    format: Format,
    read: impl FnOnce() -> PolarsResult<DataFrame>,
) -> Result<DataFrame> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(read) => read.map_err(|source| DataError::Read {
            path: path.to_path_buf(),
            format,
            source,
        }),
        Err(panic) => Err(DataError::ReaderPanic {
            path: path.to_path_buf(),
            format,
            message: panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned()),
        }),
    }
}

/// Checks that a CSV file's header names each column once, that every record has the
/// header's number of fields and that no line is blank (polars reads a blank line as a row
/// of nulls). Lines are 1-based file lines (a quoted field may span lines: the record's
/// first); data rows count records after the header, as the encoder's errors count rows.
///
/// The `csv` crate skips blank lines and its line numbers do not count them, so lines are
/// counted here from the records' byte offsets.
///
/// # Errors
/// [`DataError::DuplicateColumn`], [`DataError::ShortRow`], [`DataError::LongRow`],
/// [`DataError::BlankLine`], or the reader's own error.
pub fn check_csv_structure(path: &Path, delimiter: u8) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|source| io_error(path, source))?;
    let csv_error = |source: csv::Error| DataError::CsvRecord {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .byte_headers()
        .map_err(csv_error)?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    for (second, name) in header.iter().enumerate() {
        if let Some(first) = header[..second].iter().position(|n| n == name) {
            return Err(DataError::DuplicateColumn {
                path: path.to_path_buf(),
                column: name.clone(),
                first: first + 1,
                second: second + 1,
            });
        }
    }
    let expected = header.len();
    let mut lines = LineCounter::new(&bytes, reader.position().byte());
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    loop {
        let more = reader.read_byte_record(&mut record).map_err(csv_error)?;
        let end = if more {
            reader.position().byte()
        } else {
            bytes.len() as u64
        };
        let line = lines.record(end).map_err(|line| DataError::BlankLine {
            path: path.to_path_buf(),
            line,
        })?;
        if !more {
            return Ok(());
        }
        row += 1;
        let found = record.len();
        if found == expected {
            continue;
        }
        let path = path.to_path_buf();
        return Err(if found < expected {
            DataError::ShortRow {
                path,
                line,
                row,
                found,
                expected,
                column: header[found].clone(),
            }
        } else {
            DataError::LongRow {
                path,
                line,
                row,
                found,
                expected,
                last_column: header.last().cloned().unwrap_or_default(),
            }
        });
    }
}

/// File lines of consecutive byte spans of a CSV file, each span what one read consumed.
struct LineCounter<'b> {
    bytes: &'b [u8],
    at: usize,
    /// The line `at` is on.
    line: u64,
}

impl<'b> LineCounter<'b> {
    fn new(bytes: &'b [u8], header_end: u64) -> Self {
        let at = (header_end as usize).min(bytes.len());
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
        LineCounter { bytes, at, line }
    }

    /// Consumes the span up to `end`: the line its record starts on, or the first blank
    /// line before it. A read starts with what the previous one left: the `\n` of a CRLF
    /// terminator, then any blank lines.
    fn record(&mut self, end: u64) -> Result<u64, u64> {
        let end = (end as usize).min(self.bytes.len());
        let mut p = self.at;
        if p > 0 && p < end && self.bytes[p] == b'\n' && self.bytes[p - 1] == b'\r' {
            self.line += 1;
            p += 1;
        }
        let mut q = p;
        while q < end && matches!(self.bytes[q], b'\r' | b'\n') {
            if self.bytes[q] == b'\n' {
                return Err(self.line);
            }
            q += 1;
        }
        let start = self.line;
        self.line += self.bytes[p..end].iter().filter(|&&b| b == b'\n').count() as u64;
        self.at = end;
        Ok(start)
    }
}

/// Picks `,`, `;` or tab: the one that occurs most often outside quotes in the header line.
pub fn detect_delimiter(path: &Path) -> Result<u8> {
    let file = File::open(path).map_err(|source| io_error(path, source))?;
    let mut header = String::new();
    BufReader::new(file)
        .read_line(&mut header)
        .map_err(|source| io_error(path, source))?;
    if header.trim().is_empty() {
        return Err(DataError::NoHeader {
            path: path.to_path_buf(),
        });
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

/// Writes a [`RawTable`] as CSV or Parquet (by extension). Writes to a temporary file beside
/// the target and renames it, so a failed write never leaves a truncated file.
pub fn write_table(path: &Path, table: &RawTable) -> Result<()> {
    write_columns(path, table.rows(), polars_columns(table))
}

/// `table`'s columns as polars columns.
fn polars_columns(table: &RawTable) -> Vec<Column> {
    table
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
        .collect()
}

/// Writes `columns` (`rows` long) as [`write_table`] writes a table.
fn write_columns(path: &Path, rows: usize, columns: Vec<Column>) -> Result<()> {
    let format = Format::from_path(path)?;
    let write_error = |source: PolarsError| DataError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut df = DataFrame::new(rows, columns).map_err(write_error)?;
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let result = File::create(&tmp)
        .map_err(|source| io_error(&tmp, source))
        .and_then(|file| {
            match format {
                Format::Csv => CsvWriter::new(file)
                    .include_header(true)
                    .finish(&mut df)
                    .map(|_| ()),
                Format::Parquet => write_parquet(file, &df, &row_groups(rows, parallelism())),
            }
            .map_err(write_error)
        })
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|source| io_error(path, source)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Most rows in a Parquet row group (polars' own default).
const ROW_GROUP_ROWS: usize = 512 * 512;
/// Fewest rows in a row group cut only so that the cores can compress side by side.
const MIN_PARALLEL_ROW_GROUP_ROWS: usize = 65_536;

/// The cores there are to read and compress on.
fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How a Parquet file of `rows` rows is cut into row groups: equal ones of at most
/// [`ROW_GROUP_ROWS`], and at least one per core when each still gets
/// [`MIN_PARALLEL_ROW_GROUP_ROWS`] rows, so every core has one to compress.
fn row_groups(rows: usize, cores: usize) -> Vec<Range<usize>> {
    let groups = rows
        .div_ceil(ROW_GROUP_ROWS)
        .max(cores.min(rows / MIN_PARALLEL_ROW_GROUP_ROWS))
        .max(1);
    let size = rows.div_ceil(groups).max(1);
    (0..rows)
        .step_by(size)
        .map(|start| start..(start + size).min(rows))
        .collect()
}

/// Writes `df` as Parquet in the row groups `groups`, encoded and compressed on every core.
///
/// Why not `ParquetWriter::finish`: it encodes a row group's columns in parallel but
/// compresses their pages while writing, on one thread, so writing a scored file was a
/// single-core phase (zstd about 40% of it). Here each row group is encoded and compressed
/// whole, side by side, and the compressed groups are then written in order.
fn write_parquet(file: File, df: &DataFrame, groups: &[Range<usize>]) -> PolarsResult<()> {
    let writer = ParquetWriter::new(file).batched(df.schema())?;
    let compressed = groups
        .par_iter()
        .map(|rows| {
            let offset = i64::try_from(rows.start).unwrap_or(i64::MAX);
            // One chunk per column: a row group is written per chunk.
            let mut group = df.slice(offset, rows.len());
            group.rechunk_mut();
            writer
                .encode_and_compress(&group)
                .collect::<PolarsResult<Vec<_>>>()
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    writer.write_row_groups(compressed.into_iter().flatten().collect())?;
    writer.finish().map(|_| ())
}

#[cfg(test)]
mod tests;
