//! Outcomes: how and when a lead closed, by the file readers' policy (docs/history.md,
//! "Bad input"): a lead closes once (a different second outcome is an error naming both),
//! and never before its creation (an error: check the time zones). The same outcome sent
//! again (same kind, time and reason) is a retry and changes nothing. An outcome of a lead
//! the store does not know creates a stub lead, as an event does; the lead's attributes
//! may follow, but not with a creation after the outcome.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use crate::Store;
use crate::error::{Item, Part, StoreError, db};
use crate::leads::{ms, push_values, put_stubs, stored_outcome};
use crate::model::{NewOutcome, StoredOutcome};
use crate::time::{from_ms, now_ms, text};

/// What recording an outcome did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Stored.
    New,
    /// The same outcome was already stored: nothing changed.
    Again,
}

impl Store {
    /// Records one outcome (see the module docs). Committed when it returns `Ok`.
    ///
    /// # Errors
    /// A blank lead id, [`StoreError::TwoOutcomes`], [`StoreError::OutcomeBeforeCreation`],
    /// the database.
    pub async fn record_outcome(&self, outcome: &NewOutcome) -> Result<Recorded, StoreError> {
        let mut recorded = self.record_outcomes(std::slice::from_ref(outcome)).await?;
        Ok(recorded.pop().unwrap_or(Recorded::Again))
    }

    /// Records `outcomes` in one transaction: one that breaks the policy stores none.
    ///
    /// # Errors
    /// As [`Store::record_outcome`], naming the index in the batch for a blank lead id.
    pub async fn record_outcomes(
        &self,
        outcomes: &[NewOutcome],
    ) -> Result<Vec<Recorded>, StoreError> {
        for (i, o) in outcomes.iter().enumerate() {
            if o.lead_id.trim().is_empty() {
                return Err(StoreError::BlankLeadId {
                    what: if outcomes.len() == 1 {
                        Item::One
                    } else {
                        Item::Batch(i)
                    },
                });
            }
        }
        let mut tx = self.write(Part::Outcomes).await?;
        let recorded = put_outcomes(&mut tx, outcomes).await?;
        tx.commit().await.map_err(db(Part::Outcomes))?;
        Ok(recorded)
    }
}

/// Leads per statement of [`put_outcomes`]: 4 parameters a row, far below SQLite's and
/// PostgreSQL's limits.
const OUTCOMES_PER_STATEMENT: usize = 1000;

/// Records checked outcomes in the caller's transaction, in order, as if one by one (a
/// lead twice in `outcomes` is checked against its first one), but in a few statements per
/// [`OUTCOMES_PER_STATEMENT`] leads: a bulk import records tens of thousands, and one round
/// trip per outcome to SQLite's worker thread cost seconds.
pub(crate) async fn put_outcomes(
    tx: &mut sqlx::AnyConnection,
    outcomes: &[NewOutcome],
) -> Result<Vec<Recorded>, StoreError> {
    let now = now_ms();
    let mut out = Vec::with_capacity(outcomes.len());
    for chunk in outcomes.chunks(OUTCOMES_PER_STATEMENT) {
        let mut seen = HashSet::new();
        let leads: Vec<&str> = chunk
            .iter()
            .map(|o| o.lead_id.as_str())
            .filter(|id| seen.insert(*id))
            .collect();
        put_stubs(&mut *tx, &leads, now).await?;
        let created = created_at(&mut *tx, &leads).await?;
        let mut known = stored_outcomes(&mut *tx, &leads).await?;
        let mut new = Vec::new();
        for o in chunk {
            let lead = o.lead_id.as_str();
            if let Some(&created) = created.get(lead)
                && ms(o.at) < created
            {
                return Err(StoreError::OutcomeBeforeCreation {
                    lead: lead.to_string(),
                    at: text(o.at),
                    created: text(from_ms(created, Part::Leads, lead)?),
                });
            }
            if let Some(stored) = known.get(lead) {
                if stored.outcome == o.outcome
                    && ms(stored.at) == ms(o.at)
                    && stored.reason == o.reason
                {
                    out.push(Recorded::Again);
                    continue;
                }
                return Err(StoreError::TwoOutcomes {
                    lead: lead.to_string(),
                    existing: stored.outcome.to_string(),
                    existing_at: text(stored.at),
                    sent: o.outcome.to_string(),
                    sent_at: text(o.at),
                });
            }
            known.insert(
                lead.to_string(),
                StoredOutcome {
                    outcome: o.outcome,
                    at: o.at,
                    reason: o.reason.clone(),
                },
            );
            new.push(o);
            out.push(Recorded::New);
        }
        insert_outcomes(&mut *tx, &new, now).await?;
    }
    Ok(out)
}

/// The creation time of each of `leads` that has one (stubs have none).
async fn created_at(
    tx: &mut sqlx::AnyConnection,
    leads: &[&str],
) -> Result<HashMap<String, i64>, StoreError> {
    let mut sql =
        String::from("SELECT id, created_at FROM leads WHERE created_at IS NOT NULL AND id IN ");
    push_values(&mut sql, 1, leads.len(), tx);
    let mut query = sqlx::query(&sql).persistent(false);
    for lead in leads {
        query = query.bind(*lead);
    }
    let rows = query.fetch_all(&mut *tx).await.map_err(db(Part::Leads))?;
    let mut created = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get(0).map_err(db(Part::Leads))?;
        let at: i64 = row.try_get(1).map_err(db(Part::Leads))?;
        created.insert(id, at);
    }
    Ok(created)
}

/// The stored outcome of each of `leads` that has one.
async fn stored_outcomes(
    tx: &mut sqlx::AnyConnection,
    leads: &[&str],
) -> Result<HashMap<String, StoredOutcome>, StoreError> {
    let mut sql =
        String::from("SELECT outcome, at, reason, lead_id FROM outcomes WHERE lead_id IN ");
    push_values(&mut sql, 1, leads.len(), tx);
    let mut query = sqlx::query(&sql).persistent(false);
    for lead in leads {
        query = query.bind(*lead);
    }
    let rows = query
        .fetch_all(&mut *tx)
        .await
        .map_err(db(Part::Outcomes))?;
    let mut stored = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get(3).map_err(db(Part::Outcomes))?;
        let outcome = stored_outcome(&id, &row)?;
        stored.insert(id, outcome);
    }
    Ok(stored)
}

/// Inserts `outcomes` (checked, at most one per lead) in one statement.
async fn insert_outcomes(
    tx: &mut sqlx::AnyConnection,
    outcomes: &[&NewOutcome],
    now: i64,
) -> Result<(), StoreError> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let mut sql =
        String::from("INSERT INTO outcomes (lead_id, outcome, at, reason, recorded_at) VALUES ");
    push_values(&mut sql, outcomes.len(), 5, tx);
    let mut query = sqlx::query(&sql).persistent(false);
    for o in outcomes {
        query = query
            .bind(o.lead_id.as_str())
            .bind(o.outcome.to_string())
            .bind(ms(o.at))
            .bind(o.reason.as_deref())
            .bind(now);
    }
    query.execute(&mut *tx).await.map_err(db(Part::Outcomes))?;
    Ok(())
}
