//! Leads: upserting attributes (reading them back: the `read` module).
//!
//! A lead's attributes are a JSON object read with the canonical lead record's rules
//! ([`LeadRecord`]: whole employee counts, the boolean forms, derived fields that agree with
//! their source), so the store accepts exactly what `/v1/score` accepts, minus `activities`
//! (those are events). Attributes are replaced whole (PUT semantics); events and the outcome
//! stay. The attributes always carry the lead's `id`, so a leads table read back for
//! training has its id column whichever way the lead arrived. Its `created_at` is also kept
//! as a time, to refuse an outcome before the creation (and a creation after the outcome).

use chrono::{DateTime, Utc};
use qualify_core::encoder::parse::time_from_text;
use qualify_core::history::OutcomeKind;
use qualify_core::lead::{EventType, LeadRecord};
use qualify_core::schema::DEFAULT_MISSING_TOKENS;
use qualify_core::value::is_missing_text;
use serde_json::{Map, Value};
use sqlx::Row;

use crate::Store;
use crate::error::{Item, Part, StoreError, db};
use crate::model::{StoredEvent, StoredOutcome};
use crate::time::{from_ms, now_ms, text};

/// The attribute holding a lead's creation time (the history contract's name).
pub const CREATED_AT: &str = "created_at";

/// Most leads per `INSERT` (4 parameters each; far below both backends' limits).
const LEADS_PER_STATEMENT: usize = 1000;

/// One lead as written: its id, its attributes as JSON text (keys in order), its creation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LeadRow {
    pub id: String,
    pub attributes: String,
    pub created_at: Option<i64>,
}

/// Checks `attributes` for lead `id` and returns the row to write.
///
/// # Errors
/// A blank id, `activities` among the attributes, an `id` that is not the lead's, a record
/// the canonical rules refuse, a `created_at` that is not a time.
pub(crate) fn lead_row(id: &str, attributes: &Map<String, Value>) -> Result<LeadRow, StoreError> {
    if id.trim().is_empty() {
        return Err(StoreError::BlankLeadId { what: Item::One });
    }
    if attributes.contains_key("activities") {
        return Err(StoreError::ActivitiesInAttributes {
            lead: id.to_string(),
        });
    }
    match attributes.get("id") {
        None | Some(Value::Null) => {}
        Some(Value::String(sent)) if sent == id => {}
        Some(other) => {
            return Err(StoreError::IdMismatch {
                lead: id.to_string(),
                sent: match other {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                },
            });
        }
    }
    let mut attributes = attributes.clone();
    attributes.insert("id".to_string(), Value::String(id.to_string()));
    serde_json::from_value::<LeadRecord>(Value::Object(attributes.clone())).map_err(|e| {
        StoreError::Attributes {
            lead: id.to_string(),
            message: e.to_string(),
        }
    })?;
    let created_at = created_ms(id, attributes.get(CREATED_AT))?;
    Ok(LeadRow {
        id: id.to_string(),
        attributes: Value::Object(attributes).to_string(),
        created_at,
    })
}

/// The creation time in an attribute value: a time text, or nothing when absent, null or a
/// missing token.
pub(crate) fn created_ms(lead: &str, value: Option<&Value>) -> Result<Option<i64>, StoreError> {
    let bad = |text: String| StoreError::CreatedAt {
        lead: lead.to_string(),
        field: CREATED_AT.to_string(),
        text,
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if is_missing_text(s, DEFAULT_MISSING_TOKENS) => Ok(None),
        Some(Value::String(s)) => time_from_text(s)
            .map(|t| Some(t.timestamp_millis()))
            .ok_or_else(|| bad(s.clone())),
        Some(other) => Err(bad(other.to_string())),
    }
}

impl Store {
    /// Creates or replaces lead `id`'s attributes (see the module docs); its events and
    /// outcome are kept. Committed when it returns `Ok`.
    ///
    /// # Errors
    /// Attributes the canonical lead record refuses (see `lead_row`), a creation
    /// after the lead's recorded outcome, the database.
    pub async fn upsert_lead(
        &self,
        id: &str,
        attributes: &Map<String, Value>,
    ) -> Result<(), StoreError> {
        let row = lead_row(id, attributes)?;
        let mut tx = self.write(Part::Leads).await?;
        put_leads(&mut tx, std::slice::from_ref(&row), now_ms()).await?;
        check_outcomes_after_creation(&mut tx).await?;
        tx.commit().await.map_err(db(Part::Leads))
    }
}

pub(crate) fn stored_event(lead: &str, r: &sqlx::any::AnyRow) -> Result<StoredEvent, StoreError> {
    let kind: String = r.try_get(0).map_err(db(Part::Events))?;
    let at: i64 = r.try_get(1).map_err(db(Part::Events))?;
    Ok(StoredEvent {
        kind: EventType::new(&kind).map_err(|e| StoreError::Corrupt {
            part: Part::Events,
            lead: lead.to_string(),
            message: e.to_string(),
        })?,
        at: from_ms(at, Part::Events, lead)?,
        event_id: r.try_get(2).map_err(db(Part::Events))?,
        value: r.try_get(3).map_err(db(Part::Events))?,
    })
}

pub(crate) fn outcome_kind(lead: &str, text: &str) -> Result<OutcomeKind, StoreError> {
    match text {
        "converted" => Ok(OutcomeKind::Converted),
        "disqualified" => Ok(OutcomeKind::Disqualified),
        other => Err(StoreError::Corrupt {
            part: Part::Outcomes,
            lead: lead.to_string(),
            message: format!("{other:?} is not an outcome"),
        }),
    }
}

pub(crate) fn stored_outcome(
    lead: &str,
    r: &sqlx::any::AnyRow,
) -> Result<StoredOutcome, StoreError> {
    let kind: String = r.try_get(0).map_err(db(Part::Outcomes))?;
    let at: i64 = r.try_get(1).map_err(db(Part::Outcomes))?;
    Ok(StoredOutcome {
        outcome: outcome_kind(lead, &kind)?,
        at: from_ms(at, Part::Outcomes, lead)?,
        reason: r.try_get(2).map_err(db(Part::Outcomes))?,
    })
}

/// Upserts `rows` (ids unique within the call) in the caller's transaction.
pub(crate) async fn put_leads(
    tx: &mut sqlx::AnyConnection,
    rows: &[LeadRow],
    now: i64,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(LEADS_PER_STATEMENT) {
        let mut sql =
            String::from("INSERT INTO leads (id, attributes, created_at, updated_at) VALUES ");
        push_values(&mut sql, chunk.len(), 4, tx);
        sql.push_str(
            " ON CONFLICT (id) DO UPDATE SET attributes = excluded.attributes, \
             created_at = excluded.created_at, updated_at = excluded.updated_at",
        );
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = query
                .bind(row.id.as_str())
                .bind(row.attributes.as_str())
                .bind(row.created_at)
                .bind(now);
        }
        query.execute(&mut *tx).await.map_err(db(Part::Leads))?;
    }
    Ok(())
}

/// Creates stub leads (no attributes) for the ids in `ids` the store does not hold yet;
/// returns how many it created.
pub(crate) async fn put_stubs(
    tx: &mut sqlx::AnyConnection,
    ids: &[&str],
    now: i64,
) -> Result<u64, StoreError> {
    let mut created = 0;
    for chunk in ids.chunks(LEADS_PER_STATEMENT) {
        let mut sql = String::from("INSERT INTO leads (id, updated_at) VALUES ");
        push_values(&mut sql, chunk.len(), 2, tx);
        sql.push_str(" ON CONFLICT (id) DO NOTHING");
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id).bind(now);
        }
        created += query
            .execute(&mut *tx)
            .await
            .map_err(db(Part::Leads))?
            .rows_affected();
    }
    Ok(created)
}

/// Refuses the transaction when a lead's outcome is now before its creation.
pub(crate) async fn check_outcomes_after_creation(
    tx: &mut sqlx::AnyConnection,
) -> Result<(), StoreError> {
    let row = sqlx::query(
        "SELECT l.id, l.created_at, o.at FROM leads l JOIN outcomes o ON o.lead_id = l.id \
         WHERE o.at < l.created_at LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(db(Part::Outcomes))?;
    if let Some(row) = row {
        let lead: String = row.try_get(0).map_err(db(Part::Leads))?;
        let created: i64 = row.try_get(1).map_err(db(Part::Leads))?;
        let at: i64 = row.try_get(2).map_err(db(Part::Outcomes))?;
        return Err(StoreError::OutcomeBeforeCreation {
            at: text(from_ms(at, Part::Outcomes, &lead)?),
            created: text(from_ms(created, Part::Leads, &lead)?),
            lead,
        });
    }
    Ok(())
}

/// Appends `rows` groups of `width` placeholders: `($1, $2), ($3, $4)` on PostgreSQL,
/// `(?, ?), (?, ?)` on SQLite. SQLite looks a named parameter (`$N`) up by a linear scan of
/// the statement's names, once per parameter when it parses and again when sqlx binds: with
/// thousands of parameters per statement that is quadratic (it cost 90% of an import);
/// anonymous `?` parameters are bound by position.
pub(crate) fn push_values(sql: &mut String, rows: usize, width: usize, conn: &sqlx::AnyConnection) {
    use std::fmt::Write;
    let anonymous = conn.backend_name().eq_ignore_ascii_case("sqlite");
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            let sep = if c == 0 { "" } else { ", " };
            if anonymous {
                let _ = write!(sql, "{sep}?");
            } else {
                let _ = write!(sql, "{sep}${}", r * width + c + 1);
            }
        }
        sql.push(')');
    }
}

/// The rows `select` (ending in `IN `) finds for `leads`, then `tail`: one query whatever
/// the number of leads (callers keep it within both backends' parameter limits).
pub(crate) async fn rows_of(
    conn: &mut sqlx::AnyConnection,
    select: &str,
    leads: &[&str],
    tail: &str,
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
    let mut sql = String::from(select);
    push_values(&mut sql, 1, leads.len(), conn);
    sql.push_str(tail);
    let mut query = sqlx::query(&sql).persistent(false);
    for lead in leads {
        query = query.bind(*lead);
    }
    query.fetch_all(&mut *conn).await
}

/// When `t` is as a stored time.
pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_follow_the_lead_record_rules() {
        let obj = |s: &str| match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let row = lead_row(
            "L1",
            &obj(r#"{"employees": 250, "created_at": "2026-01-02"}"#),
        )
        .expect("valid");
        assert_eq!(row.created_at, Some(1_767_312_000_000));
        assert!(
            row.attributes.contains(r#""id":"L1""#),
            "{}",
            row.attributes
        );
        for (bad, want) in [
            (r#"{"employees": 12.5}"#, "not a lead record"),
            (r#"{"id": "L2"}"#, "not the lead's id"),
            (r#"{"activities": []}"#, "send them as events"),
            (r#"{"created_at": "last tuesday"}"#, "not a time"),
        ] {
            let err = lead_row("L1", &obj(bad)).expect_err(bad);
            assert!(err.to_string().contains(want), "{bad}: {err}");
            assert!(err.to_string().contains("L1"), "{bad}: {err}");
        }
        assert!(matches!(
            lead_row(" ", &Map::new()),
            Err(StoreError::BlankLeadId { .. })
        ));
    }
}
