//! Lean reads of every outcome and event up to a time, for monitoring.
//!
//! Why not [`Store::history_tables`]: monitoring needs each outcome's `reason` and the events'
//! lead, type and time, for every lead at once, and none of the attributes; reading them as
//! typed records saves building (and then taking apart) the training tables.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::Store;
use crate::error::{Part, StoreError, db};
use crate::leads::{ms, stored_event, stored_outcome};
use crate::model::{StoredEvent, StoredOutcome};

/// An outcome with its lead.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadOutcome {
    pub lead_id: String,
    pub outcome: StoredOutcome,
}

/// An event with its lead.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadEvent {
    pub lead_id: String,
    pub event: StoredEvent,
}

impl Store {
    /// Every outcome at or before `until` (all of them for `None`), by time then lead, read
    /// in one snapshot.
    ///
    /// # Errors
    /// The database; a stored row the code cannot read.
    pub async fn outcomes_until(
        &self,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<LeadOutcome>, StoreError> {
        let mut conn = self.read(Part::Outcomes).await?;
        let rows = sqlx::query(
            "SELECT outcome, at, reason, lead_id FROM outcomes WHERE at <= $1 \
             ORDER BY at, lead_id",
        )
        .bind(until.map_or(i64::MAX, ms))
        .fetch_all(&mut *conn)
        .await
        .map_err(db(Part::Outcomes))?;
        rows.iter()
            .map(|r| {
                let lead_id: String = r.try_get(3).map_err(db(Part::Outcomes))?;
                Ok(LeadOutcome {
                    outcome: stored_outcome(&lead_id, r)?,
                    lead_id,
                })
            })
            .collect()
    }

    /// Every event at or before `until` (all of them for `None`), in arrival order.
    ///
    /// # Errors
    /// The database; a stored row the code cannot read.
    pub async fn events_until(
        &self,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<LeadEvent>, StoreError> {
        let mut conn = self.read(Part::Events).await?;
        let rows = sqlx::query(
            "SELECT type, at, event_id, value, lead_id FROM events WHERE at <= $1 ORDER BY seq",
        )
        .bind(until.map_or(i64::MAX, ms))
        .fetch_all(&mut *conn)
        .await
        .map_err(db(Part::Events))?;
        rows.iter()
            .map(|r| {
                let lead_id: String = r.try_get(4).map_err(db(Part::Events))?;
                Ok(LeadEvent {
                    event: stored_event(&lead_id, r)?,
                    lead_id,
                })
            })
            .collect()
    }
}
