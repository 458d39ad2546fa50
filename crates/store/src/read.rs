//! Reading leads back with their events and outcomes: one lead (`GET /v1/leads/{id}`,
//! scoring a stored lead) or many at once. The server's monitor reads every lead answered in
//! its drift window; one at a time that was three queries per lead, here it is three per
//! [`IDS_PER_QUERY`] leads. One code path serves both, so a lead reads the same either way.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use sqlx::Row;

use crate::Store;
use crate::error::{Part, StoreError, db};
use crate::leads::{rows_of, stored_event, stored_outcome};
use crate::model::StoredLead;
use crate::time::from_ms;

/// Most ids in one `IN (...)` list (far below both backends' parameter limits).
const IDS_PER_QUERY: usize = 1000;

impl Store {
    /// Lead `id` with its events (in time order, then arrival) and outcomes; `None` when
    /// the store has never heard of it.
    ///
    /// # Errors
    /// The database; a stored row the code cannot read.
    pub async fn lead(&self, id: &str) -> Result<Option<StoredLead>, StoreError> {
        Ok(self.leads(&[id]).await?.pop())
    }

    /// The leads among `ids` the store knows, each as [`Store::lead`] reads it, in the
    /// order of their first mention in `ids`.
    ///
    /// # Errors
    /// The database; a stored row the code cannot read.
    pub async fn leads(&self, ids: &[&str]) -> Result<Vec<StoredLead>, StoreError> {
        let mut seen = HashSet::with_capacity(ids.len());
        let ids: Vec<&str> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
        let mut conn = self.read(Part::Leads).await?;
        let mut leads = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let mut found = HashMap::with_capacity(chunk.len());
            let rows = rows_of(
                &mut conn,
                "SELECT id, attributes, created_at, updated_at FROM leads WHERE id IN ",
                chunk,
                "",
            )
            .await
            .map_err(db(Part::Leads))?;
            for row in &rows {
                let lead = lead_row(row)?;
                found.insert(lead.id.clone(), lead);
            }
            // The lead's id comes last, so the shared row readers see their usual columns.
            let rows = rows_of(
                &mut conn,
                "SELECT type, at, event_id, value, lead_id FROM events WHERE lead_id IN ",
                chunk,
                " ORDER BY at, seq",
            )
            .await
            .map_err(db(Part::Events))?;
            for row in &rows {
                let id: String = row.try_get(4).map_err(db(Part::Events))?;
                if let Some(lead) = found.get_mut(&id) {
                    lead.events.push(stored_event(&id, row)?);
                }
            }
            let rows = rows_of(
                &mut conn,
                "SELECT outcome, at, reason, lead_id FROM outcomes WHERE lead_id IN ",
                chunk,
                " ORDER BY at, seq",
            )
            .await
            .map_err(db(Part::Outcomes))?;
            for row in &rows {
                let id: String = row.try_get(3).map_err(db(Part::Outcomes))?;
                if let Some(lead) = found.get_mut(&id) {
                    lead.outcomes.push(stored_outcome(&id, row)?);
                }
            }
            for id in chunk {
                if let Some(mut lead) = found.remove(*id) {
                    lead.outcome = lead.outcomes.last().cloned();
                    leads.push(lead);
                }
            }
        }
        Ok(leads)
    }
}

/// A `leads` row (`id, attributes, created_at, updated_at`), its history still empty.
fn lead_row(row: &sqlx::any::AnyRow) -> Result<StoredLead, StoreError> {
    let id: String = row.try_get(0).map_err(db(Part::Leads))?;
    let attributes: Option<String> = row.try_get(1).map_err(db(Part::Leads))?;
    let created: Option<i64> = row.try_get(2).map_err(db(Part::Leads))?;
    let updated: i64 = row.try_get(3).map_err(db(Part::Leads))?;
    let attributes = attributes
        .map(|text| match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(StoreError::Corrupt {
                part: Part::Leads,
                lead: id.clone(),
                message: "the attributes are not a JSON object".into(),
            }),
        })
        .transpose()?;
    Ok(StoredLead {
        created_at: created
            .map(|ms| from_ms(ms, Part::Leads, &id))
            .transpose()?,
        updated_at: from_ms(updated, Part::Leads, &id)?,
        id,
        attributes,
        events: Vec::new(),
        outcomes: Vec::new(),
        outcome: None,
    })
}
