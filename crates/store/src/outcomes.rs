//! Outcomes: how and when a lead closed, by the file readers' policy (docs/history.md,
//! "Bad input"), which is qualify-core's ([`qualify_core::history::Outcomes`]): a lead may
//! hold several outcomes, but only a bad-timing disqualification can be followed by another
//! (a conversion and any other disqualification are final; two at one instant are refused),
//! and none comes before its creation (an error: check the time zones). The same outcome
//! sent again (same kind, time and reason) is a retry and changes nothing. An outcome of a lead
//! the store does not know creates a stub lead, as an event does; the lead's attributes
//! may follow, but not with a creation after the outcome.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use qualify_core::history::{Outcome, Outcomes};

use crate::Store;
use crate::error::{Item, Part, StoreError, db};
use crate::leads::{ms, push_values, put_stubs, rows_of, stored_outcome};
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
    /// A blank lead id, [`StoreError::OutcomeConflict`], [`StoreError::OutcomeBeforeCreation`],
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
            let held = known.entry(lead.to_string()).or_default();
            let sent = StoredOutcome {
                outcome: o.outcome,
                at: o.at,
                reason: o.reason.clone(),
            };
            if held.iter().any(|h| {
                h.outcome == sent.outcome && ms(h.at) == ms(sent.at) && h.reason == sent.reason
            }) {
                out.push(Recorded::Again);
                continue;
            }
            held.push(sent);
            check_policy(lead, held)?;
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
    let rows = rows_of(
        tx,
        "SELECT id, created_at FROM leads WHERE created_at IS NOT NULL AND id IN ",
        leads,
        "",
    )
    .await
    .map_err(db(Part::Leads))?;
    let mut created = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get(0).map_err(db(Part::Leads))?;
        let at: i64 = row.try_get(1).map_err(db(Part::Leads))?;
        created.insert(id, at);
    }
    Ok(created)
}

/// A lead's outcomes checked against the policy (module docs).
fn check_policy(lead: &str, outcomes: &[StoredOutcome]) -> Result<(), StoreError> {
    let core: Vec<Outcome> = outcomes.iter().map(StoredOutcome::core).collect();
    let mut sorted = core.clone();
    sorted.sort_by_key(|o| o.at);
    Outcomes::new(core)
        .map(|_| ())
        .map_err(|c| StoreError::OutcomeConflict {
            lead: lead.to_string(),
            first: sorted[c.first],
            second: sorted[c.second],
            why: c.why,
        })
}

/// The stored outcomes of each of `leads` that has some, in arrival order.
async fn stored_outcomes(
    tx: &mut sqlx::AnyConnection,
    leads: &[&str],
) -> Result<HashMap<String, Vec<StoredOutcome>>, StoreError> {
    let rows = rows_of(
        tx,
        "SELECT outcome, at, reason, lead_id FROM outcomes WHERE lead_id IN ",
        leads,
        " ORDER BY seq",
    )
    .await
    .map_err(db(Part::Outcomes))?;
    let mut stored: HashMap<String, Vec<StoredOutcome>> = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get(3).map_err(db(Part::Outcomes))?;
        let outcome = stored_outcome(&id, &row)?;
        stored.entry(id).or_default().push(outcome);
    }
    Ok(stored)
}

/// Inserts `outcomes` (checked) in one statement.
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
