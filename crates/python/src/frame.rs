//! Frames in and out: Arrow record batches to qualify's [`RawTable`] and back.
//!
//! Frames cross from Python through the Arrow C stream interface (`__arrow_c_stream__`,
//! which pyarrow, polars and pandas implement) as record batches; this module turns each
//! batch into the typed columns the encoder reads, column by column, without Python: the
//! same kinds polars' reader gives the command line (`qualify_data::read_table`), so a frame
//! and a file with the same values score the same:
//!
//! - integers, floats and decimals → numbers (`f64`); a NaN stays NaN, which the encoder
//!   refuses as it refuses one in a file (pandas' missing values arrive as nulls);
//! - booleans → booleans; text, large text, text views and dictionary-encoded text
//!   (pandas and polars categoricals) → text;
//! - timestamps → RFC 3339 text in UTC (`+00:00`; a timestamp without a time zone is read
//!   as UTC),
//!   dates → `YYYY-MM-DD` text: the forms the encoder parses for timestamp columns;
//! - an all-null column → missing text; any other type is refused, naming the column.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, BooleanArray, Float64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{NaiveDateTime, SecondsFormat};
use qualify_core::value::{RawColumn, RawTable, TableError};

/// A frame qualify cannot read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A column of an Arrow type with no qualify reading (lists, structs, binary, ...).
    #[error(
        "column {column:?} has the Arrow type {data_type}, which qualify does not read: pass \
         numbers, booleans, text, categoricals, timestamps or dates"
    )]
    UnsupportedType { column: String, data_type: DataType },
    /// Two columns with one name, or batches of different lengths.
    #[error("{0}")]
    Table(#[from] TableError),
    /// The producer's stream failed (or handed over a malformed batch).
    #[error("reading the frame's Arrow stream: {0}")]
    Stream(#[from] arrow_schema::ArrowError),
    /// A frame without rows: nothing to score, train on or evaluate.
    #[error("the frame has no rows")]
    Empty,
}

/// One record batch as a [`RawTable`] (columns in the batch's order).
pub fn batch_table(batch: &RecordBatch) -> Result<RawTable, FrameError> {
    let mut table = RawTable::new();
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        table.push(field.name().clone(), column(field.name(), array.as_ref())?)?;
    }
    Ok(table)
}

/// Several batches of one schema as one [`RawTable`].
pub fn batches_table(batches: &[RecordBatch]) -> Result<RawTable, FrameError> {
    let mut tables = batches.iter().map(batch_table);
    let Some(first) = tables.next() else {
        return Err(FrameError::Empty);
    };
    let mut columns: Vec<(String, RawColumn)> = first?
        .columns()
        .map(|(n, c)| (n.to_string(), c.clone()))
        .collect();
    for table in tables {
        let table = table?;
        for ((_, into), (_, from)) in columns.iter_mut().zip(table.columns()) {
            append(into, from);
        }
    }
    let mut table = RawTable::new();
    for (name, column) in columns {
        table.push(name, column)?;
    }
    if table.rows() == 0 {
        return Err(FrameError::Empty);
    }
    Ok(table)
}

fn append(into: &mut RawColumn, from: &RawColumn) {
    match (into, from) {
        (RawColumn::Number(a), RawColumn::Number(b)) => a.extend_from_slice(b),
        (RawColumn::Bool(a), RawColumn::Bool(b)) => a.extend_from_slice(b),
        (RawColumn::Text(a), RawColumn::Text(b)) => a.extend_from_slice(b),
        // Batches of one stream share one schema, hence one kind per column; should a
        // producer break that, the cells still arrive, as text.
        (into, from) => {
            let mut text: Vec<Option<String>> =
                (0..into.len()).map(|r| cell_text(into, r)).collect();
            text.extend((0..from.len()).map(|r| cell_text(from, r)));
            *into = RawColumn::Text(text);
        }
    }
}

pub(crate) fn cell_text(column: &RawColumn, row: usize) -> Option<String> {
    match column {
        RawColumn::Number(v) => v[row].map(|x| x.to_string()),
        RawColumn::Bool(v) => v[row].map(|x| x.to_string()),
        RawColumn::Text(v) => v[row].clone(),
    }
}

/// One Arrow array as a typed column (module docs).
pub fn column(name: &str, array: &dyn Array) -> Result<RawColumn, FrameError> {
    Ok(match array.data_type() {
        DataType::Null => RawColumn::Text(vec![None; array.len()]),
        DataType::Boolean => RawColumn::Bool(array.as_boolean().iter().collect()),
        DataType::Int8 => numbers::<Int8Type>(array, f64::from),
        DataType::Int16 => numbers::<Int16Type>(array, f64::from),
        DataType::Int32 => numbers::<Int32Type>(array, f64::from),
        DataType::Int64 => numbers::<Int64Type>(array, |v| v as f64),
        DataType::UInt8 => numbers::<UInt8Type>(array, f64::from),
        DataType::UInt16 => numbers::<UInt16Type>(array, f64::from),
        DataType::UInt32 => numbers::<UInt32Type>(array, f64::from),
        DataType::UInt64 => numbers::<UInt64Type>(array, |v| v as f64),
        DataType::Float32 => numbers::<Float32Type>(array, f64::from),
        DataType::Float64 => numbers::<Float64Type>(array, |v| v),
        DataType::Decimal128(_, scale) => {
            let divisor = 10f64.powi(i32::from(*scale));
            numbers::<Decimal128Type>(array, |v| v as f64 / divisor)
        }
        DataType::Utf8 => texts(array.as_string::<i32>().iter()),
        DataType::LargeUtf8 => texts(array.as_string::<i64>().iter()),
        DataType::Utf8View => texts(array.as_string_view().iter()),
        DataType::Dictionary(_, value_type)
            if matches!(
                **value_type,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            let dictionary = array.as_any_dictionary();
            let values = column(name, dictionary.values().as_ref())?;
            if values.is_empty() {
                RawColumn::Text(vec![None; array.len()])
            } else {
                let keys = dictionary.normalized_keys();
                RawColumn::Text(
                    keys.iter()
                        .enumerate()
                        .map(|(row, &key)| {
                            if array.is_null(row) {
                                None
                            } else {
                                cell_text(&values, key)
                            }
                        })
                        .collect(),
                )
            }
        }
        DataType::Timestamp(unit, _) => {
            let time = match unit {
                TimeUnit::Second => times::<TimestampSecondType>(array),
                TimeUnit::Millisecond => times::<TimestampMillisecondType>(array),
                TimeUnit::Microsecond => times::<TimestampMicrosecondType>(array),
                TimeUnit::Nanosecond => times::<TimestampNanosecondType>(array),
            };
            RawColumn::Text(
                time.into_iter()
                    .map(|t| t.map(|t| t.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, false)))
                    .collect(),
            )
        }
        DataType::Date32 => dates(times::<Date32Type>(array)),
        DataType::Date64 => dates(times::<Date64Type>(array)),
        _ => return Err(unsupported(name, array)),
    })
}

fn unsupported(name: &str, array: &dyn Array) -> FrameError {
    FrameError::UnsupportedType {
        column: name.to_string(),
        data_type: array.data_type().clone(),
    }
}

fn numbers<T: ArrowPrimitiveType>(
    array: &dyn Array,
    to_f64: impl Fn(T::Native) -> f64,
) -> RawColumn {
    RawColumn::Number(
        array
            .as_primitive::<T>()
            .iter()
            .map(|v| v.map(&to_f64))
            .collect(),
    )
}

fn texts<'a>(cells: impl Iterator<Item = Option<&'a str>>) -> RawColumn {
    RawColumn::Text(cells.map(|c| c.map(str::to_string)).collect())
}

/// Times (and dates, at midnight) of a temporal array; `None` for nulls and for values
/// chrono cannot represent.
fn times<T: ArrowPrimitiveType>(array: &dyn Array) -> Vec<Option<NaiveDateTime>>
where
    i64: From<T::Native>,
{
    array
        .as_primitive::<T>()
        .iter()
        .map(|v| v.and_then(|v| arrow_array::temporal_conversions::as_datetime::<T>(i64::from(v))))
        .collect()
}

fn dates(times: Vec<Option<NaiveDateTime>>) -> RawColumn {
    RawColumn::Text(
        times
            .into_iter()
            .map(|t| t.map(|t| t.date().format("%Y-%m-%d").to_string()))
            .collect(),
    )
}

/// A [`RawTable`] as one record batch: numbers as `float64`, booleans as `bool`, text as
/// `string`, in the table's column order.
pub fn table_batch(table: &RawTable) -> Result<RecordBatch, FrameError> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, column) in table.columns() {
        let (data_type, array): (DataType, ArrayRef) = match column {
            RawColumn::Number(v) => (DataType::Float64, Arc::new(Float64Array::from(v.clone()))),
            RawColumn::Bool(v) => (DataType::Boolean, Arc::new(BooleanArray::from(v.clone()))),
            RawColumn::Text(v) => (
                DataType::Utf8,
                Arc::new(v.iter().map(Option::as_deref).collect::<StringArray>()),
            ),
        };
        fields.push(Field::new(name, data_type, true));
        arrays.push(array);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}
