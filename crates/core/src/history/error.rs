//! What can be wrong with a history spec, a point-in-time table or a record's history fields.

use crate::encoder::ValueError;
use crate::value::TableError;

/// A history spec that breaks its rules, a table that cannot be built, a record field that
/// cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HistoryError {
    #[error("count windows must be positive whole days in increasing order, got {windows:?}")]
    Windows { windows: Vec<u32> },
    #[error("the half-life must be a positive number of days, got {days}")]
    HalfLife { days: f64 },
    #[error("the label window must be at least one day")]
    LabelWindow,
    #[error(
        "moment offsets must be whole days in increasing order (at least one), got {offsets:?}"
    )]
    Offsets { offsets: Vec<u32> },
    #[error("event type {event_type:?} is listed twice")]
    DuplicateType { event_type: String },
    /// A feature's name is already a column of the leads table.
    #[error(
        "the leads table has a column {column:?}, which is also the name of a point-in-time \
         feature; rename the column (or the event type)"
    )]
    NameClash { column: String },
    #[error(transparent)]
    Table(#[from] TableError),
    /// A record's creation time that is not a time.
    #[error("field {field:?}: {source}")]
    Created {
        field: String,
        #[source]
        source: ValueError,
    },
}
