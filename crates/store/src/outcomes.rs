//! Outcomes: how and when a lead closed, by the file readers' policy (docs/history.md,
//! "Bad input"): a lead closes once (a different second outcome is an error naming both),
//! and never before its creation (an error: check the time zones). The same outcome sent
//! again (same kind, time and reason) is a retry and changes nothing. An outcome of a lead
//! the store does not know creates a stub lead, as an event does; the lead's attributes
//! may follow, but not with a creation after the outcome.

use sqlx::Row;

use crate::Store;
use crate::error::{Item, Part, StoreError, db};
use crate::leads::{ms, put_stubs, stored_outcome};
use crate::model::NewOutcome;
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

/// Records checked outcomes in the caller's transaction.
pub(crate) async fn put_outcomes(
    tx: &mut sqlx::AnyConnection,
    outcomes: &[NewOutcome],
) -> Result<Vec<Recorded>, StoreError> {
    let now = now_ms();
    let mut out = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        let lead = o.lead_id.as_str();
        put_stubs(&mut *tx, &[lead], now).await?;
        let created: Option<i64> = sqlx::query_scalar("SELECT created_at FROM leads WHERE id = $1")
            .bind(lead)
            .fetch_one(&mut *tx)
            .await
            .map_err(db(Part::Leads))?;
        if let Some(created) = created
            && ms(o.at) < created
        {
            return Err(StoreError::OutcomeBeforeCreation {
                lead: lead.to_string(),
                at: text(o.at),
                created: text(from_ms(created, Part::Leads, lead)?),
            });
        }
        let existing = sqlx::query("SELECT outcome, at, reason FROM outcomes WHERE lead_id = $1")
            .bind(lead)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db(Part::Outcomes))?;
        if let Some(row) = existing {
            let stored = stored_outcome(lead, &row)?;
            let at: i64 = row.try_get(1).map_err(db(Part::Outcomes))?;
            if stored.outcome == o.outcome && at == ms(o.at) && stored.reason == o.reason {
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
        sqlx::query(
            "INSERT INTO outcomes (lead_id, outcome, at, reason, recorded_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(lead)
        .bind(o.outcome.to_string())
        .bind(ms(o.at))
        .bind(o.reason.as_deref())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db(Part::Outcomes))?;
        out.push(Recorded::New);
    }
    Ok(out)
}
