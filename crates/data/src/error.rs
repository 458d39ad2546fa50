//! The error type of qualify-data: what went wrong, in which file, and where in it.

use std::path::PathBuf;

use polars::prelude::PolarsError;
use qualify_core::value::TableError;

/// An error about a data file; variants name the line, row and column where they are known.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: unknown file type: use .csv, .tsv or .parquet", path.display())]
    UnknownFormat { path: PathBuf },
    #[error("{}: the file is empty (no header line)", path.display())]
    NoHeader { path: PathBuf },
    #[error("{}: the file holds no data rows", path.display())]
    NoRows { path: PathBuf },
    /// Two header fields with one name (polars would rename the second and train on it).
    #[error(
        "{}: line 1: column {column:?} appears twice in the header (fields {first} and {second})",
        path.display()
    )]
    DuplicateColumn {
        path: PathBuf,
        column: String,
        first: usize,
        second: usize,
    },
    /// A record with fewer fields than the header: `column` is the first one it lacks.
    #[error(
        "{}: line {line} (data row {row}) has {found} field(s), the header has {expected}: column {column:?} and those after it are missing",
        path.display()
    )]
    ShortRow {
        path: PathBuf,
        line: u64,
        row: u64,
        found: usize,
        expected: usize,
        column: String,
    },
    /// A record with more fields than the header: `last_column` is the header's last.
    #[error(
        "{}: line {line} (data row {row}) has {found} fields, the header has {expected}: fields after column {last_column:?} belong to no column (an unquoted delimiter?)",
        path.display()
    )]
    LongRow {
        path: PathBuf,
        line: u64,
        row: u64,
        found: usize,
        expected: usize,
        last_column: String,
    },
    /// A blank line among the records: polars would read it as a row of missing values.
    #[error(
        "{}: line {line} is blank: it would be read as a lead with every field missing; delete it",
        path.display()
    )]
    BlankLine { path: PathBuf, line: u64 },
    /// The CSV reader's own error (bad UTF-8 in the header, an I/O failure mid-file).
    #[error("{}: not a readable CSV file: {source}", path.display())]
    CsvRecord {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    /// polars could not read the file.
    #[error("{}: not a readable {format} file: {source}", path.display())]
    Read {
        path: PathBuf,
        format: crate::io::Format,
        #[source]
        source: PolarsError,
    },
    /// polars panicked reading the file (a corrupt Parquet footer or column chunk, for one);
    /// the panic is caught and reported here.
    #[error("{}: not a readable {format} file: the {format} reader failed: {message}", path.display())]
    ReaderPanic {
        path: PathBuf,
        format: crate::io::Format,
        /// The reader's panic message.
        message: String,
    },
    /// A column polars read that cannot be converted.
    #[error("{}: column {column:?}: {source}", path.display())]
    Column {
        path: PathBuf,
        column: String,
        #[source]
        source: PolarsError,
    },
    #[error("{}: {source}", path.display())]
    Table {
        path: PathBuf,
        #[source]
        source: TableError,
    },
    /// polars could not write the table.
    #[error("{}: cannot write the table: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: PolarsError,
    },
}

pub type Result<T, E = DataError> = std::result::Result<T, E>;
