//! Times as the store keeps them: milliseconds since the Unix epoch, UTC (the unit of the
//! history's feature code, `qualify_core::history::millis`).

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::{Part, StoreError};

/// A stored time back as a `DateTime`.
pub(crate) fn from_ms(ms: i64, part: Part, lead: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt {
        part,
        lead: lead.to_string(),
        message: format!("{ms} is not a time in milliseconds"),
    })
}

/// A time as messages write it.
pub(crate) fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Now, in milliseconds.
pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}
