//! A file read into polars' columns, typed into [`RawTable`]s whole or a piece at a time.
//!
//! Batch scoring reads a file once and then works on pieces of it: typing a million rows into
//! one [`RawTable`] costs a `String` per text cell and hundreds of megabytes of fresh memory
//! at once, while a piece of 16,384 rows is read, scored and dropped on one core while
//! another core does the next. A reader that only needs some columns (a model's inputs and
//! the id) names them, and the others are never decoded (Parquet) or typed (CSV).

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use qualify_core::value::{Cell, CellColumn, CellTable, RawColumn, RawTable};

use super::{Format, ReadOptions, io_error, polars_read, read_csv};
use crate::error::{DataError, Result};

/// A CSV or Parquet file in polars' columnar form, with at least one row.
#[derive(Debug, Clone)]
pub struct Frame {
    path: PathBuf,
    format: Format,
    df: DataFrame,
}

impl Frame {
    /// Reads `path`. With `columns`, only those of them the file has are kept (in the file's
    /// order); a column the file lacks is left for the table's reader to report, as when
    /// reading the whole file.
    ///
    /// # Errors
    /// As [`super::read_table`].
    pub fn read(path: &Path, options: &ReadOptions, columns: Option<&[&str]>) -> Result<Frame> {
        let format = Format::from_path(path)?;
        let df = match format {
            Format::Csv => {
                let df = read_csv(path, options)?;
                match columns {
                    Some(wanted) => {
                        let keep = kept(df.columns().iter().map(|c| c.name().as_str()), wanted);
                        df.select(keep).map_err(|source| DataError::Read {
                            path: path.to_path_buf(),
                            format: Format::Csv,
                            source,
                        })?
                    }
                    None => df,
                }
            }
            Format::Parquet => {
                let file = File::open(path).map_err(|source| io_error(path, source))?;
                polars_read(path, Format::Parquet, || {
                    let mut reader = ParquetReader::new(file);
                    let mut read = reader.schema()?.len();
                    if let Some(wanted) = columns {
                        let schema = reader.schema()?;
                        let keep = kept(schema.iter_names().map(|n| n.as_str()), wanted);
                        read = keep.len();
                        reader = reader.with_columns(Some(keep));
                    }
                    reader = reader.read_parallel(parallel_strategy(read));
                    reader.finish()
                })?
            }
        };
        if df.height() == 0 {
            return Err(DataError::NoRows {
                path: path.to_path_buf(),
            });
        }
        Ok(Frame {
            path: path.to_path_buf(),
            format,
            df,
        })
    }

    /// The same rows with only `columns` (those the frame has, in the frame's order; none
    /// at all when it has none of them). Polars' columns are shared, not copied.
    ///
    /// # Errors
    /// None in practice: the columns come from one frame.
    pub fn select(&self, columns: &[&str]) -> Result<Frame> {
        let keep: Vec<Column> = self
            .df
            .columns()
            .iter()
            .filter(|c| columns.contains(&c.name().as_str()))
            .cloned()
            .collect();
        let df = DataFrame::new(self.df.height(), keep).map_err(|source| DataError::Read {
            path: self.path.clone(),
            format: self.format,
            source,
        })?;
        Ok(Frame {
            path: self.path.clone(),
            format: self.format,
            df,
        })
    }

    /// Writes this frame's columns as the file holds them, followed by `table`'s (as
    /// [`super::write_table`] writes a table), to `path`: a scored file's id column goes out
    /// without a typed copy of a million ids.
    ///
    /// # Errors
    /// `table` has another number of rows or repeats a name; the file cannot be written.
    pub fn write_beside(&self, path: &Path, table: &RawTable) -> Result<()> {
        let mut columns = self.df.columns().to_vec();
        columns.extend(super::polars_columns(table));
        super::write_columns(path, self.rows(), columns)
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.df.height()
    }

    /// The whole file as a typed table.
    ///
    /// # Errors
    /// A column polars cannot cast to numbers or text (named with the file).
    pub fn table(&self) -> Result<RawTable> {
        to_raw_table(&self.path, &self.df)
    }

    /// Rows `rows` (clamped to the file) read in place, cell by cell: what batch scoring
    /// encodes, without the typed copy of [`Frame::piece`].
    ///
    /// # Errors
    /// As [`Frame::table`].
    pub fn cells(&self, rows: Range<usize>) -> Result<FrameCells> {
        let start = i64::try_from(rows.start).unwrap_or(i64::MAX);
        let piece = self.df.slice(start, rows.len());
        let mut cells = FrameCells {
            names: Vec::with_capacity(piece.width()),
            columns: Vec::with_capacity(piece.width()),
            height: piece.height(),
        };
        for col in piece.columns() {
            let typed = ColumnCells::of(col).map_err(|source| DataError::Column {
                path: self.path.clone(),
                column: col.name().to_string(),
                source,
            })?;
            cells.names.push(col.name().to_string());
            cells.columns.push(typed);
        }
        Ok(cells)
    }

    /// Rows `rows` (clamped to the file) as a typed table, typed as [`Frame::table`] types
    /// them: a piece of the whole table.
    ///
    /// # Errors
    /// As [`Frame::table`].
    pub fn piece(&self, rows: Range<usize>) -> Result<RawTable> {
        let start = i64::try_from(rows.start).unwrap_or(i64::MAX);
        to_raw_table(&self.path, &self.df.slice(start, rows.len()))
    }
}

/// How polars spreads reading `columns` columns of a Parquet file over the cores. Its own
/// choice goes by row groups as soon as a file has more of them than there are cores, and a
/// writer's usual three or four row groups then leave a core idle for the last one (a third
/// of the read, on two cores, for a million rows in three groups). Many columns spread
/// evenly instead: over columns when there are at least [`COLUMNS_PER_CORE`] per core.
fn parallel_strategy(columns: usize) -> ParallelStrategy {
    if columns >= COLUMNS_PER_CORE * super::parallelism() {
        ParallelStrategy::Columns
    } else {
        ParallelStrategy::Auto
    }
}

/// See [`parallel_strategy`].
const COLUMNS_PER_CORE: usize = 4;

/// The names of `file` that are `wanted`, in the file's order; the file's first column when
/// none is (polars reads no rows without a column, and the caller's reader then reports the
/// missing columns by name rather than an empty file).
fn kept<'f>(file: impl Iterator<Item = &'f str>, wanted: &[&str]) -> Vec<String> {
    let mut file = file.peekable();
    let first = file.peek().map(|name| (*name).to_string());
    let keep: Vec<String> = file
        .filter(|name| wanted.contains(name))
        .map(str::to_string)
        .collect();
    match (keep.is_empty(), first) {
        (true, Some(first)) => vec![first],
        _ => keep,
    }
}

fn to_raw_table(path: &Path, df: &DataFrame) -> Result<RawTable> {
    let mut table = RawTable::new();
    for col in df.columns() {
        let name = col.name().to_string();
        let raw = convert_column(col).map_err(|source| DataError::Column {
            path: path.to_path_buf(),
            column: name.clone(),
            source,
        })?;
        table.push(name, raw).map_err(|source| DataError::Table {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(table)
}

fn convert_column(col: &Column) -> PolarsResult<RawColumn> {
    Ok(ColumnCells::of(col)?.to_raw())
}

/// Rows of a [`Frame`] as a [`CellTable`]: each cell read where polars holds it, typed as
/// [`Frame::table`] types it.
#[derive(Debug)]
pub struct FrameCells {
    names: Vec<String>,
    columns: Vec<ColumnCells>,
    height: usize,
}

impl CellTable for FrameCells {
    fn height(&self) -> usize {
        self.height
    }

    fn cell_column(&self, name: &str) -> Option<&dyn CellColumn> {
        let i = self.names.iter().position(|n| n == name)?;
        Some(&self.columns[i])
    }
}

/// One column typed the one way files are typed: numbers (any numeric type, as `f64`),
/// booleans, and everything else as text (a column of nulls only reads as missing text).
/// The cells stay in polars' arrays (numbers cast to `f64`), one array per column, read
/// by index.
#[derive(Debug)]
enum ColumnCells {
    Number(<Float64Type as PolarsDataType>::Array),
    Bool(<BooleanType as PolarsDataType>::Array),
    Text(<StringType as PolarsDataType>::Array),
    Null(usize),
}

impl ColumnCells {
    fn of(col: &Column) -> PolarsResult<ColumnCells> {
        let dtype = col.dtype();
        let one = |typed: Option<ColumnCells>| typed.unwrap_or(ColumnCells::Null(col.len()));
        Ok(if dtype.is_primitive_numeric() {
            let numbers = col.cast(&DataType::Float64)?;
            let numbers = numbers.f64()?.rechunk();
            one(numbers
                .downcast_iter()
                .next()
                .cloned()
                .map(ColumnCells::Number))
        } else if dtype.is_bool() {
            let booleans = col.bool()?.rechunk();
            one(booleans
                .downcast_iter()
                .next()
                .cloned()
                .map(ColumnCells::Bool))
        } else if dtype.is_null() {
            ColumnCells::Null(col.len())
        } else {
            let text = col.cast(&DataType::String)?;
            let text = text.str()?.rechunk();
            one(text.downcast_iter().next().cloned().map(ColumnCells::Text))
        })
    }

    /// The cells as a typed column.
    fn to_raw(&self) -> RawColumn {
        let rows = 0..self.len();
        let cells = rows.clone().map(|r| self.cell(r));
        match self {
            ColumnCells::Number(_) => RawColumn::Number(
                cells
                    .map(|c| {
                        if let Cell::Number(v) = c {
                            Some(v)
                        } else {
                            None
                        }
                    })
                    .collect(),
            ),
            ColumnCells::Bool(_) => RawColumn::Bool(
                cells
                    .map(|c| if let Cell::Bool(b) = c { Some(b) } else { None })
                    .collect(),
            ),
            ColumnCells::Text(_) | ColumnCells::Null(_) => RawColumn::Text(
                cells
                    .map(|c| {
                        if let Cell::Text(t) = c {
                            Some(t.to_string())
                        } else {
                            None
                        }
                    })
                    .collect(),
            ),
        }
    }

    fn len(&self) -> usize {
        match self {
            ColumnCells::Number(a) => a.len(),
            ColumnCells::Bool(a) => a.len(),
            ColumnCells::Text(a) => a.len(),
            ColumnCells::Null(rows) => *rows,
        }
    }
}

impl CellColumn for ColumnCells {
    fn cell(&self, row: usize) -> Cell<'_> {
        match self {
            ColumnCells::Number(a) => {
                if a.validity().is_none_or(|valid| valid.get_bit(row)) {
                    Cell::Number(a.value(row))
                } else {
                    Cell::Missing
                }
            }
            ColumnCells::Bool(a) => a.get(row).map_or(Cell::Missing, Cell::Bool),
            ColumnCells::Text(a) => a.get(row).map_or(Cell::Missing, Cell::Text),
            ColumnCells::Null(_) => Cell::Missing,
        }
    }

    fn numbers(&self, rows: &[usize], out: &mut Vec<Option<f64>>) -> bool {
        let ColumnCells::Number(a) = self else {
            return false;
        };
        let values = a.values().as_slice();
        match a.validity() {
            None => out.extend(rows.iter().map(|&r| Some(values[r]))),
            Some(valid) => out.extend(rows.iter().map(|&r| valid.get_bit(r).then(|| values[r]))),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, table: &RawTable) -> PathBuf {
        let path = dir.join(name);
        crate::write_table(&path, table).expect("write");
        path
    }

    fn sample(rows: usize) -> RawTable {
        let mut table = RawTable::new();
        let push = |table: &mut RawTable, name: &str, column| {
            table.push(name, column).expect("push");
        };
        push(
            &mut table,
            "id",
            RawColumn::Text((0..rows).map(|i| Some(format!("lead-{i}"))).collect()),
        );
        push(
            &mut table,
            "employees",
            RawColumn::Number(
                (0..rows)
                    .map(|i| (i % 7 != 0).then_some(i as f64 * 1.5))
                    .collect(),
            ),
        );
        push(
            &mut table,
            "trial",
            RawColumn::Bool(
                (0..rows)
                    .map(|i| (i % 5 != 0).then_some(i % 2 == 0))
                    .collect(),
            ),
        );
        push(
            &mut table,
            "industry",
            RawColumn::Text(
                (0..rows)
                    .map(|i| (i % 3 != 0).then(|| ["saas", "retail"][i % 2].to_string()))
                    .collect(),
            ),
        );
        table
    }

    #[test]
    fn pieces_put_together_are_the_whole_table_in_both_formats() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = sample(1_000);
        for name in ["t.csv", "t.parquet"] {
            let path = write(dir.path(), name, &table);
            let frame = Frame::read(&path, &ReadOptions::default(), None).expect("read");
            let whole = frame.table().expect("whole");
            assert_eq!(
                whole,
                crate::read_table(&path, &ReadOptions::default()).expect("read")
            );
            for (rows, step) in [(1_000, 300), (1_000, 1_000), (1_000, 1)] {
                for (name, column) in whole.columns() {
                    let mut joined = Vec::new();
                    for start in (0..rows).step_by(step) {
                        let piece = frame.piece(start..(start + step).min(rows)).expect("piece");
                        let cells = piece.column(name).expect("column");
                        joined.extend((0..piece.rows()).map(|r| cells.get(r)));
                    }
                    let expected: Vec<_> = (0..rows).map(|r| column.get(r)).collect();
                    assert_eq!(joined, expected, "{name} in {step}-row pieces of {path:?}");
                }
            }
        }
    }

    #[test]
    fn cells_read_in_place_are_the_typed_pieces_cells() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = sample(1_000);
        for name in ["t.csv", "t.parquet"] {
            let path = write(dir.path(), name, &table);
            let frame = Frame::read(&path, &ReadOptions::default(), None).expect("read");
            for rows in [0..1_000, 3..700, 999..1_000] {
                let typed = frame.piece(rows.clone()).expect("piece");
                let cells = frame.cells(rows.clone()).expect("cells");
                assert_eq!(cells.height(), typed.rows());
                for (name, column) in typed.columns() {
                    let read = cells.cell_column(name).expect("column");
                    for r in 0..typed.rows() {
                        assert_eq!(read.cell(r), column.cell(r), "{name} row {r} of {rows:?}");
                    }
                    // A block of numbers reads as the cells do (gaps included), and only
                    // from a numeric column.
                    let picked: Vec<usize> = (0..typed.rows()).rev().step_by(3).collect();
                    let (mut in_place, mut from_typed) = (Vec::new(), Vec::new());
                    let numeric = read.numbers(&picked, &mut in_place);
                    assert_eq!(numeric, column.numbers(&picked, &mut from_typed), "{name}");
                    assert_eq!(numeric, name == "employees", "{name}");
                    assert_eq!(in_place, from_typed, "{name} in {rows:?}");
                    if numeric {
                        let cells: Vec<Cell<'_>> = picked.iter().map(|&r| read.cell(r)).collect();
                        let numbers: Vec<Cell<'_>> = in_place
                            .iter()
                            .map(|v| v.map_or(Cell::Missing, Cell::Number))
                            .collect();
                        assert_eq!(numbers, cells, "{name} in {rows:?}");
                    }
                }
                assert!(cells.cell_column("absent").is_none());
            }
        }
    }

    #[test]
    fn columns_written_beside_a_frame_follow_its_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = sample(50);
        for name in ["t.csv", "t.parquet"] {
            let path = write(dir.path(), name, &table);
            let options = ReadOptions::default();
            let ids = Frame::read(&path, &options, Some(&["id"])).expect("read");
            let mut scores = RawTable::new();
            let score: Vec<Option<f64>> = (0..50).map(|i| Some(f64::from(i) / 64.0)).collect();
            scores
                .push("propensity", RawColumn::Number(score.clone()))
                .expect("push");
            let out = dir.path().join(format!("out-{name}"));
            ids.write_beside(&out, &scores).expect("write");
            let mut expected = RawTable::new();
            expected
                .push("id", table.column("id").expect("id").clone())
                .expect("push");
            expected
                .push("propensity", RawColumn::Number(score))
                .expect("push");
            assert_eq!(crate::read_table(&out, &options).expect("read"), expected);
            let mut short = RawTable::new();
            short
                .push("propensity", RawColumn::Number(vec![Some(0.5)]))
                .expect("push");
            assert!(ids.write_beside(&out, &short).is_err(), "49 rows short");
        }
    }

    #[test]
    fn only_the_wanted_columns_the_file_has_are_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = sample(10);
        for name in ["t.csv", "t.parquet"] {
            let path = write(dir.path(), name, &table);
            let options = ReadOptions::default();
            let frame =
                Frame::read(&path, &options, Some(&["industry", "id", "absent"])).expect("read");
            let got = frame.table().expect("table");
            let names: Vec<&str> = got.columns().map(|(name, _)| name).collect();
            assert_eq!(names, ["id", "industry"], "{path:?}");
            assert_eq!(got.column("industry"), table.column("industry"));
            // None of the wanted columns: the first column keeps the rows.
            let frame = Frame::read(&path, &options, Some(&["absent"])).expect("read");
            assert_eq!(frame.rows(), 10);
        }
    }

    /// A wide file in several row groups is read across its columns
    /// ([`parallel_strategy`]); what comes out is what polars' own choice reads.
    #[test]
    fn a_wide_file_in_row_groups_reads_as_polars_reads_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rows = 1_000;
        let mut columns = Vec::new();
        for c in 0..40 {
            let name = format!("c{c}");
            columns.push(if c % 2 == 0 {
                let values: Vec<Option<f64>> = (0..rows)
                    .map(|i| ((i + c) % 9 != 0).then_some((i * c) as f64))
                    .collect();
                Column::new(name.into(), values)
            } else {
                let values: Vec<Option<String>> = (0..rows)
                    .map(|i| ((i + c) % 7 != 0).then(|| format!("v{}", (i * c) % 13)))
                    .collect();
                Column::new(name.into(), values)
            });
        }
        let mut df = DataFrame::new(rows, columns).expect("frame");
        let path = dir.path().join("wide.parquet");
        let file = File::create(&path).expect("create");
        ParquetWriter::new(file)
            .with_row_group_size(Some(150))
            .finish(&mut df)
            .expect("write");
        if 40 >= COLUMNS_PER_CORE * crate::io::parallelism() {
            assert_eq!(parallel_strategy(40), ParallelStrategy::Columns);
        }
        let frame = Frame::read(&path, &ReadOptions::default(), None).expect("read");
        let polars_own = ParquetReader::new(File::open(&path).expect("open"))
            .finish()
            .expect("polars");
        assert!(frame.df.equals_missing(&polars_own));
        assert_eq!(frame.table().expect("table").rows(), rows);
    }
}
