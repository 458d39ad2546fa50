//! Batch encoding: the rows of a table, column after column, into a row-major matrix.
//!
//! A [`TableEncoder`] finds each feature column in the table once, then encodes rows a
//! chunk at a time (batch scoring encodes a thousand rows, scores them and moves on). Cells
//! go through [`ColumnState::encode_cell`], as a record's do, so the two paths cannot
//! drift apart.
//!
//! Two shortcuts. A numeric feature whose column holds numbers only (a file's numeric
//! column) is read a block of rows at a time ([`CellColumn::numbers`]) and written by the
//! numeric arm of the cell encoding, without a call through the table per cell.
//!
//! The other is for the text of categorical and set columns: a file's category column
//! repeats a handful of values over millions of rows, and reading each one again (the
//! missing-token test, trimming, splitting a set, comparing it with every level) was the
//! largest part of encoding them. A [`TextMemo`] remembers the output slots that a text
//! already encoded to and writes them again. It is exact: in these layouts a text cell's
//! encoding depends on the text alone, and the memo keeps only encodings made of ones in a
//! zeroed row. A column whose texts rarely repeat (free text, ids) stops using it after a
//! few thousand cells, so it costs such a column next to nothing.

use std::collections::HashMap;
use std::ops::Range;

use chrono::{DateTime, Utc};

use super::{EncodeError, Encoder, FittedColumn, Reader, Result, TableColumn};
use crate::encoder::ColumnState;
#[cfg(doc)]
use crate::value::CellColumn;
use crate::value::{Cell, CellTable};

/// Texts a column remembers at most.
const MEMO_CAPACITY: usize = 4_096;
/// Cells after which a column that found fewer than one in [`MEMO_MIN_HIT_SHARE`] of its
/// texts remembered stops remembering.
const MEMO_TRIAL_CELLS: u32 = 4_096;
/// See [`MEMO_TRIAL_CELLS`]: one in four.
const MEMO_MIN_HIT_SHARE: u32 = 4;

/// An encoder bound to one table and one scoring time, encoding its rows chunk by chunk.
pub struct TableEncoder<'e, 't> {
    encoder: &'e Encoder,
    columns: Vec<BoundColumn<'e, 't>>,
    as_of: DateTime<Utc>,
}

impl std::fmt::Debug for TableEncoder<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self
            .columns
            .iter()
            .map(|c| c.fitted.name.as_str())
            .collect();
        f.debug_struct("TableEncoder")
            .field("columns", &names)
            .field("as_of", &self.as_of)
            .finish_non_exhaustive()
    }
}

/// A fitted column, its data in the table and its memo.
struct BoundColumn<'e, 't> {
    fitted: &'e FittedColumn,
    data: TableColumn<'t>,
    /// Output columns of this input column in a row of the matrix.
    span: Range<usize>,
    memo: Option<TextMemo<'t>>,
}

impl Encoder {
    /// Binds the encoder to `table` for encoding its rows with [`TableEncoder::encode`].
    ///
    /// # Errors
    /// A feature column the table neither has nor can derive.
    pub fn table_encoder<'e, 't, T: CellTable + ?Sized>(
        &'e self,
        table: &'t T,
        as_of: DateTime<Utc>,
    ) -> Result<TableEncoder<'e, 't>>
    where
        'e: 't,
    {
        let mut start = 0;
        let mut columns = Vec::with_capacity(self.columns.len());
        for fitted in &self.columns {
            let data = TableColumn::find(table, &fitted.name).ok_or_else(|| {
                EncodeError::MissingColumn {
                    column: fitted.name.clone(),
                    reader: Reader::Model,
                }
            })?;
            let span = start..start + fitted.state.width();
            start = span.end;
            let memo = matches!(
                fitted.state,
                ColumnState::Categorical { .. } | ColumnState::Set { .. }
            )
            .then(TextMemo::default);
            columns.push(BoundColumn {
                fitted,
                data,
                span,
                memo,
            });
        }
        Ok(TableEncoder {
            encoder: self,
            columns,
            as_of,
        })
    }
}

impl TableEncoder<'_, '_> {
    /// Encodes `rows` of the table into a row-major matrix (`rows.len()` × the encoder's
    /// width). Errors name the column and the (1-based) data row. Warnings are not
    /// collected: batch callers that need them score row by row.
    ///
    /// # Errors
    /// A cell its column cannot read (the first in column order, then row order).
    pub fn encode(&mut self, rows: &[usize]) -> Result<Vec<f32>> {
        let width = self.encoder.n_features();
        let mut x = vec![0.0f32; rows.len() * width];
        let mut numbers = Vec::with_capacity(rows.len());
        for col in &mut self.columns {
            let fitted = col.fitted;
            numbers.clear();
            if let ColumnState::Numeric(scaling) = &fitted.state
                && col.data.numbers(rows, &mut numbers)
            {
                scaling
                    .write_numbers(&numbers, &mut x, width, col.span.start)
                    .map_err(|(i, source)| EncodeError::Cell {
                        column: fitted.name.clone(),
                        row: rows[i] + 1,
                        source,
                    })?;
                continue;
            }
            let is_missing = |t: &str| fitted.is_missing(t);
            for (i, &r) in rows.iter().enumerate() {
                let row = &mut x[i * width..(i + 1) * width];
                let out = &mut row[col.span.clone()];
                let cell = col.data.cell(r, &is_missing);
                let text = match (&mut col.memo, cell) {
                    (Some(memo), Cell::Text(text)) => {
                        if memo.write(text, out) {
                            continue;
                        }
                        Some(text)
                    }
                    _ => None,
                };
                fitted
                    .encode(cell, self.as_of, out)
                    .map_err(|source| EncodeError::Cell {
                        column: fitted.name.clone(),
                        row: r + 1,
                        source,
                    })?;
                if let (Some(memo), Some(text)) = (&mut col.memo, text) {
                    memo.remember(text, out);
                }
            }
        }
        Ok(x)
    }
}

/// The output slots (each set to 1) that texts of one column encoded to; see the module
/// doc.
#[derive(Debug, Default)]
struct TextMemo<'t> {
    /// Text -> its range in `ones`.
    seen: HashMap<&'t str, Range<usize>, foldhash::fast::FixedState>,
    ones: Vec<usize>,
    lookups: u32,
    hits: u32,
    retired: bool,
}

impl<'t> TextMemo<'t> {
    /// Writes the encoding of `text` into `out` (zeroed) if it is remembered.
    fn write(&mut self, text: &str, out: &mut [f32]) -> bool {
        if self.retired {
            return false;
        }
        self.lookups = self.lookups.saturating_add(1);
        let Some(range) = self.seen.get(text) else {
            if self.lookups >= MEMO_TRIAL_CELLS && self.hits < self.lookups / MEMO_MIN_HIT_SHARE {
                self.retire();
            }
            return false;
        };
        self.hits = self.hits.saturating_add(1);
        for &slot in &self.ones[range.clone()] {
            out[slot] = 1.0;
        }
        true
    }

    /// Remembers `out` as the encoding of `text`, when it is ones in a zeroed row (the
    /// categorical and set layouts) and the memo has room.
    fn remember(&mut self, text: &'t str, out: &[f32]) {
        if self.retired || self.seen.len() >= MEMO_CAPACITY {
            return;
        }
        if out.iter().any(|&v| v != 0.0 && v != 1.0) {
            return;
        }
        let start = self.ones.len();
        self.ones.extend(
            out.iter()
                .enumerate()
                .filter(|(_, v)| **v == 1.0)
                .map(|(slot, _)| slot),
        );
        self.seen.insert(text, start..self.ones.len());
    }

    fn retire(&mut self) {
        self.retired = true;
        self.seen = HashMap::default();
        self.ones = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_writes_back_what_it_remembered() {
        let mut memo = TextMemo::default();
        let mut out = [0.0f32; 5];
        assert!(!memo.write("a;b", &mut out));
        memo.remember("a;b", &[1.0, 0.0, 0.0, 1.0, 0.0]);
        assert!(memo.write("a;b", &mut out));
        assert_eq!(out, [1.0, 0.0, 0.0, 1.0, 0.0]);
        // Anything but ones in a zeroed row is not remembered.
        memo.remember("x", &[0.5, 0.0, 0.0, 0.0, 0.0]);
        let mut out = [0.0f32; 5];
        assert!(!memo.write("x", &mut out));
        assert_eq!(out, [0.0; 5]);
    }

    #[test]
    fn a_memo_that_rarely_hits_retires_and_one_that_is_full_stops_growing() {
        let mut memo = TextMemo::default();
        let texts: Vec<String> = (0..MEMO_TRIAL_CELLS + 10).map(|i| i.to_string()).collect();
        let mut out = [0.0f32; 1];
        for text in &texts {
            assert!(!memo.write(text, &mut out));
            memo.remember(text, &[1.0]);
        }
        assert!(memo.retired);
        assert!(!memo.write(&texts[0], &mut out), "a retired memo is empty");

        let mut full = TextMemo::default();
        for text in &texts {
            full.remember(text, &[1.0]);
        }
        assert_eq!(full.seen.len(), MEMO_CAPACITY);
        assert!(full.write(&texts[0], &mut out));
        assert!(!full.write(&texts[MEMO_CAPACITY], &mut out));
    }
}
