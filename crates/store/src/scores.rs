//! The score log: every scored answer ([`ScoreLogEntry`]), appended in batches, read back
//! per lead ("why did this lead's score change last Tuesday") and by time range
//! (monitoring). Entries are plain rows; the top reasons are one JSON column, since they
//! are only ever read with their entry.

use std::borrow::Cow;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use qualify_core::scorelog::{LoggedReason, ScoreLogEntry, ScoreSource};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Part, StoreError, db};
use crate::leads::{ms, push_values};
use crate::time::from_ms;
use crate::{Backend, Store};

/// Most entries per `INSERT` (13 parameters each).
const ENTRIES_PER_STATEMENT: usize = 500;

/// The columns an entry is written to and read from, in this order.
const COLUMNS: &str = "lead_id, scored_at, as_of, source, model_name, model_version, \
                       rules_hash, propensity, rule_score, stage, route, reasons, holdout";

impl Store {
    /// Appends `entries` in one transaction, on the score log's own connection. Committed
    /// when it returns `Ok`.
    ///
    /// # Errors
    /// The database.
    pub async fn append_scores(&self, entries: &[ScoreLogEntry]) -> Result<(), StoreError> {
        let mut tx = self.write_score_log().await?;
        for chunk in entries.chunks(ENTRIES_PER_STATEMENT) {
            // Bound by reference, as every text here: an owned `String` is copied when bound.
            let reasons: Vec<String> = chunk
                .iter()
                .map(|e| serde_json::to_string(&e.reasons).unwrap_or_else(|_| "[]".to_string()))
                .collect();
            let sql = insert_statement(self.backend, chunk.len(), &tx);
            let mut query = sqlx::query(&sql);
            for (e, reasons) in chunk.iter().zip(&reasons) {
                let source: &'static str = e.source.into();
                query = query
                    .bind(e.lead_id.as_deref())
                    .bind(ms(e.scored_at))
                    .bind(ms(e.as_of))
                    .bind(source)
                    .bind(e.model_name.as_str())
                    .bind(e.model_version.as_str())
                    .bind(e.rules_hash.as_str())
                    .bind(e.propensity)
                    .bind(e.rule_score)
                    .bind(e.stage.as_str())
                    .bind(e.route.as_deref())
                    .bind(reasons.as_str())
                    .bind(i64::from(e.holdout));
            }
            query.execute(&mut *tx).await.map_err(db(Part::ScoreLog))?;
        }
        tx.commit().await.map_err(db(Part::ScoreLog))
    }

    /// Lead `id`'s logged scores, oldest first (by answer time, then arrival).
    pub async fn lead_scores(&self, id: &str) -> Result<Vec<ScoreLogEntry>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM score_log WHERE lead_id = $1 ORDER BY scored_at, seq");
        sqlx::query(&sql)
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(db(Part::ScoreLog))?
            .iter()
            .map(entry)
            .collect()
    }

    /// The entries answered in `[from, to)`, oldest first.
    pub async fn scores_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ScoreLogEntry>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM score_log WHERE scored_at >= $1 AND scored_at < $2 \
             ORDER BY scored_at, seq"
        );
        sqlx::query(&sql)
            .bind(ms(from))
            .bind(ms(to))
            .fetch_all(&self.pool)
            .await
            .map_err(db(Part::ScoreLog))?
            .iter()
            .map(entry)
            .collect()
    }
}

/// The `INSERT` of `rows` entries on `conn`, a connection to `backend`. A full statement's
/// text (the usual case under load) is built once per backend.
fn insert_statement(
    backend: Backend,
    rows: usize,
    conn: &sqlx::AnyConnection,
) -> Cow<'static, str> {
    static SQLITE: OnceLock<String> = OnceLock::new();
    static POSTGRES: OnceLock<String> = OnceLock::new();
    let build = || {
        let mut sql = format!("INSERT INTO score_log ({COLUMNS}) VALUES ");
        push_values(&mut sql, rows, 13, conn);
        sql
    };
    if rows != ENTRIES_PER_STATEMENT {
        return Cow::Owned(build());
    }
    let full = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    Cow::Borrowed(full.get_or_init(build).as_str())
}

fn entry(r: &AnyRow) -> Result<ScoreLogEntry, StoreError> {
    let get = |e: sqlx::Error| StoreError::Database {
        part: Part::ScoreLog,
        source: e,
    };
    let lead_id: Option<String> = r.try_get(0).map_err(get)?;
    let lead = lead_id.clone().unwrap_or_default();
    let corrupt = |message: String| StoreError::Corrupt {
        part: Part::ScoreLog,
        lead: lead.clone(),
        message,
    };
    let source: String = r.try_get(3).map_err(get)?;
    let reasons: String = r.try_get(11).map_err(get)?;
    let holdout: i64 = r.try_get(12).map_err(get)?;
    Ok(ScoreLogEntry {
        scored_at: from_ms(r.try_get(1).map_err(get)?, Part::ScoreLog, &lead)?,
        as_of: from_ms(r.try_get(2).map_err(get)?, Part::ScoreLog, &lead)?,
        source: source
            .parse::<ScoreSource>()
            .map_err(|_| corrupt(format!("{source:?} is not a score source")))?,
        model_name: r.try_get(4).map_err(get)?,
        model_version: r.try_get(5).map_err(get)?,
        rules_hash: r.try_get(6).map_err(get)?,
        propensity: r.try_get(7).map_err(get)?,
        rule_score: r.try_get(8).map_err(get)?,
        stage: r.try_get(9).map_err(get)?,
        route: r.try_get(10).map_err(get)?,
        reasons: serde_json::from_str::<Vec<LoggedReason>>(&reasons)
            .map_err(|e| corrupt(format!("the reasons are not a list of reasons: {e}")))?,
        holdout: holdout != 0,
        lead_id,
    })
}
