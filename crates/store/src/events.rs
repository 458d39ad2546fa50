//! Events: appended in batches, one transaction per batch, idempotent on `event_id`.
//!
//! An event whose `event_id` the store already holds (from an earlier call, or earlier in
//! the same batch) is the same event sent again and is not stored twice; that is what makes
//! a client's retry after a lost answer safe. An event of a lead the store does not know
//! creates a stub lead (no attributes), so events may arrive before the lead does; training
//! reads a stub as the file readers read an event of a lead missing from the leads table
//! (dropped and counted) until its attributes arrive. Events before their lead's creation
//! are kept, as in files (a CRM merges earlier anonymous activity into the lead).

use std::collections::HashSet;

use crate::Store;
use crate::error::{EventProblem, Item, Part, StoreError, db};
use crate::leads::{ms, push_values, put_stubs};
use crate::model::NewEvent;
use crate::time::now_ms;

/// Most events per `INSERT` (5 parameters each).
const EVENTS_PER_STATEMENT: usize = 2000;

/// What a batch of events did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Appended {
    /// Events stored.
    pub stored: u64,
    /// Events whose `event_id` was already stored (or repeated in the batch): not stored again.
    pub duplicates: u64,
    /// Stub leads created for events of leads the store did not know.
    pub stub_leads: u64,
}

/// Checks one event; `index` is its place in the batch.
fn check(index: usize, e: &NewEvent) -> Result<(), StoreError> {
    let what = Item::Batch(index);
    if e.lead_id.trim().is_empty() {
        return Err(StoreError::BlankLeadId { what });
    }
    let problem = if e.event_id.as_deref().is_some_and(|id| id.trim().is_empty()) {
        Some(EventProblem::BlankEventId)
    } else {
        e.value
            .filter(|v| !v.is_finite())
            .map(|value| EventProblem::NotFinite { value })
    };
    match problem {
        Some(problem) => Err(StoreError::Event {
            what,
            lead: e.lead_id.clone(),
            problem,
        }),
        None => Ok(()),
    }
}

impl Store {
    /// Appends `events` in one transaction (see the module docs): all of them are checked
    /// first, and a bad one stores none. Committed when it returns `Ok`.
    ///
    /// # Errors
    /// A blank lead id or event id, a value that is not finite (with its index in the
    /// batch and its lead), the database.
    pub async fn append_events(&self, events: &[NewEvent]) -> Result<Appended, StoreError> {
        for (i, e) in events.iter().enumerate() {
            check(i, e)?;
        }
        let mut seen = HashSet::new();
        let ids: Vec<&str> = events
            .iter()
            .map(|e| e.lead_id.as_str())
            .filter(|id| seen.insert(*id))
            .collect();
        let mut tx = self.write(Part::Events).await?;
        let stub_leads = put_stubs(&mut tx, &ids, now_ms()).await?;
        let stored = put_events(&mut tx, events).await?;
        tx.commit().await.map_err(db(Part::Events))?;
        Ok(Appended {
            stored,
            duplicates: events.len() as u64 - stored,
            stub_leads,
        })
    }
}

/// Inserts checked events of known leads in the caller's transaction; returns how many
/// were stored (the others had an `event_id` already stored).
pub(crate) async fn put_events(
    tx: &mut sqlx::AnyConnection,
    events: &[NewEvent],
) -> Result<u64, StoreError> {
    // SQLite keeps the statement of a full chunk prepared (parsing its 10,000 placeholders
    // was a tenth of an import's database time); a shorter chunk's is not kept, so batches
    // of every size do not fill the statement cache. See below for PostgreSQL.
    let sqlite = tx.backend_name().eq_ignore_ascii_case("sqlite");
    let mut sql = String::new();
    let mut stored = 0;
    for chunk in events.chunks(EVENTS_PER_STATEMENT) {
        if chunk.len() != EVENTS_PER_STATEMENT || sql.is_empty() {
            sql = String::from("INSERT INTO events (lead_id, type, at, event_id, value) VALUES ");
            push_values(&mut sql, chunk.len(), 5, tx);
            sql.push_str(" ON CONFLICT (event_id) DO NOTHING");
        }
        // Not a cached statement on PostgreSQL: sqlx 0.8's `Any` driver declares a NULL
        // `f64` to PostgreSQL as float4, so a statement prepared on a batch whose first value
        // is missing would refuse a later batch's float8 value in the same place. Prepared
        // per batch, each batch's types are its own (the column is float8 either way).
        let keep = sqlite && chunk.len() == EVENTS_PER_STATEMENT;
        let mut query = sqlx::query(&sql).persistent(keep);
        for e in chunk {
            query = query
                .bind(e.lead_id.as_str())
                .bind(e.kind.as_str())
                .bind(ms(e.at))
                .bind(e.event_id.as_deref())
                .bind(e.value);
        }
        stored += query
            .execute(&mut *tx)
            .await
            .map_err(db(Part::Events))?
            .rows_affected();
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_events_are_named_by_index_and_lead() {
        let event = |lead: &str, id: Option<&str>, value: Option<f64>| NewEvent {
            lead_id: lead.into(),
            kind: qualify_core::lead::EventType::new("demo_request").expect("type"),
            at: chrono::DateTime::from_timestamp_millis(0).expect("time"),
            event_id: id.map(str::to_string),
            value,
        };
        assert!(check(0, &event("L1", Some("e1"), Some(2.0))).is_ok());
        let err = check(3, &event("L1", Some(" "), None)).expect_err("blank id");
        assert_eq!(
            err.to_string(),
            "item 3 of the batch, lead \"L1\": the event_id is blank (leave it out instead)"
        );
        let err = check(1, &event("L2", None, Some(f64::NAN))).expect_err("nan");
        assert!(
            err.to_string().contains("item 1") && err.to_string().contains("L2"),
            "{err}"
        );
        assert!(matches!(
            check(0, &event("", None, None)),
            Err(StoreError::BlankLeadId {
                what: Item::Batch(0)
            })
        ));
    }
}
