//! The three tables read back for training, as the file readers' tables.
//!
//! Why tables and not a `History` directly: the file path reads three [`RawTable`]s and
//! checks them into a `History` by the documented policy (qualify-data's
//! `history::from_tables`). Handing that function the store's tables, named by the schema's
//! `[history]` section, makes training from the store share every line after reading with
//! training from files (the `files` feature does it). So the tables must be what a file
//! would have given:
//! - **leads**: one row per lead that has attributes (a stub is a lead missing from the
//!   leads table, so its events and outcome are dropped and counted, as in files), in the
//!   order they arrived; columns in the order first seen, typed as polars types a file's
//!   columns (all numbers: numbers; all booleans: booleans; all missing: text; otherwise
//!   text, numbers written as the encoder writes them, and a list, a set column's value, as
//!   its items joined by the column's separator, as a file cell holds them: see
//!   [`SetSeparators`]);
//! - **events**: in the order they arrived, times as RFC 3339 text;
//! - **outcomes**: the outcome under the first name the schema accepts for it.

use std::collections::HashMap;

use qualify_core::encoder::parse::number_text;
use qualify_core::history::{HistoryColumns, OutcomeKind, time_text};
use qualify_core::schema::{ColumnType, DEFAULT_SET_SEPARATOR, Schema};
use qualify_core::value::{RawColumn, RawTable};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use sqlx::Row;

use crate::Store;
use crate::error::{Part, StoreError, db};
use crate::leads::outcome_kind;

/// The store's three tables, as files would hold them (see the module docs). `events` and
/// `outcomes` are `None` when empty, as an empty file reads.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryTables {
    pub leads: RawTable,
    pub events: Option<RawTable>,
    pub outcomes: Option<RawTable>,
}

/// The separator of each set column's cells, for lists read back as cells (a file writes
/// `["a", "b"]` of a column with separator `|` as `a|b`); `;` for any other column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetSeparators(HashMap<String, String>);

impl SetSeparators {
    /// The separators of `schema`'s set columns.
    pub fn of(schema: &Schema) -> SetSeparators {
        SetSeparators(
            schema
                .columns
                .iter()
                .filter(|c| c.kind == Some(ColumnType::Set))
                .map(|c| (c.name.clone(), c.set_separator().to_string()))
                .collect(),
        )
    }

    /// The separator of `column`'s cells.
    pub fn of_column(&self, column: &str) -> &str {
        self.0
            .get(column)
            .map_or(DEFAULT_SET_SEPARATOR, String::as_str)
    }
}

impl Store {
    /// Reads the three tables, naming the events' and outcomes' columns as `names` does and
    /// writing lists as `sets` says.
    ///
    /// # Errors
    /// The database; a stored row the code cannot read.
    pub async fn history_tables(
        &self,
        names: &HistoryColumns,
        sets: &SetSeparators,
    ) -> Result<HistoryTables, StoreError> {
        let mut conn = self.read(Part::Leads).await?;
        let rows = sqlx::query(
            "SELECT id, attributes FROM leads WHERE attributes IS NOT NULL ORDER BY seq",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db(Part::Leads))?;
        let mut leads = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get(0).map_err(db(Part::Leads))?;
            let text: String = row.try_get(1).map_err(db(Part::Leads))?;
            let attributes = ordered_object(&text).map_err(|message| StoreError::Corrupt {
                part: Part::Leads,
                lead: id.clone(),
                message,
            })?;
            leads.push(attributes);
        }
        let leads = leads_table(&leads, sets)?;

        let rows =
            sqlx::query("SELECT lead_id, type, at, event_id, value FROM events ORDER BY seq")
                .fetch_all(&mut *conn)
                .await
                .map_err(db(Part::Events))?;
        let n = rows.len();
        let (mut lead, mut kind, mut at, mut id, mut value) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for row in &rows {
            let l: String = row.try_get(0).map_err(db(Part::Events))?;
            let t: i64 = row.try_get(2).map_err(db(Part::Events))?;
            at.push(Some(time_text(t).ok_or_else(|| StoreError::Corrupt {
                part: Part::Events,
                lead: l.clone(),
                message: format!("{t} is not a time in milliseconds"),
            })?));
            lead.push(Some(l));
            kind.push(Some(row.try_get::<String, _>(1).map_err(db(Part::Events))?));
            id.push(
                row.try_get::<Option<String>, _>(3)
                    .map_err(db(Part::Events))?,
            );
            value.push(row.try_get::<Option<f64>, _>(4).map_err(db(Part::Events))?);
        }
        let e = &names.events;
        let events = table(vec![
            (&e.lead_id, RawColumn::Text(lead)),
            (&e.at, RawColumn::Text(at)),
            (&e.kind, RawColumn::Text(kind)),
            (&e.event_id, RawColumn::Text(id)),
            (&e.value, RawColumn::Number(value)),
        ])?;

        let rows = sqlx::query("SELECT lead_id, outcome, at, reason FROM outcomes ORDER BY seq")
            .fetch_all(&mut *conn)
            .await
            .map_err(db(Part::Outcomes))?;
        let o = &names.outcomes;
        let name = |kind: OutcomeKind| {
            let names = match kind {
                OutcomeKind::Converted => &o.converted,
                OutcomeKind::Disqualified => &o.disqualified,
            };
            names.first().cloned().unwrap_or_else(|| kind.to_string())
        };
        let (mut lead, mut outcome, mut at, mut reason) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for row in &rows {
            let l: String = row.try_get(0).map_err(db(Part::Outcomes))?;
            let k: String = row.try_get(1).map_err(db(Part::Outcomes))?;
            let t: i64 = row.try_get(2).map_err(db(Part::Outcomes))?;
            outcome.push(Some(name(outcome_kind(&l, &k)?)));
            at.push(time_text(t));
            reason.push(
                row.try_get::<Option<String>, _>(3)
                    .map_err(db(Part::Outcomes))?,
            );
            lead.push(Some(l));
        }
        let outcomes = table(vec![
            (&o.lead_id, RawColumn::Text(lead)),
            (&o.at, RawColumn::Text(at)),
            (&o.outcome, RawColumn::Text(outcome)),
            (&o.reason, RawColumn::Text(reason)),
        ])?;
        Ok(HistoryTables {
            leads,
            events,
            outcomes,
        })
    }
}

impl HistoryTables {
    /// sha256 (hex) of the tables' content: names, then every cell in order, each tagged
    /// with its kind. What a training manifest records as its data's hash.
    pub fn sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (i, table) in [
            Some(&self.leads),
            self.events.as_ref(),
            self.outcomes.as_ref(),
        ]
        .into_iter()
        .enumerate()
        {
            h.update([b'T', i as u8]);
            let Some(table) = table else { continue };
            for (name, column) in table.columns() {
                h.update((name.len() as u64).to_le_bytes());
                h.update(name.as_bytes());
                match column {
                    RawColumn::Number(v) => v.iter().for_each(|c| match c {
                        Some(x) => h.update([&[1u8][..], &x.to_bits().to_le_bytes()].concat()),
                        None => h.update([0u8]),
                    }),
                    RawColumn::Bool(v) => v.iter().for_each(|c| match c {
                        Some(b) => h.update([2u8, u8::from(*b)]),
                        None => h.update([0u8]),
                    }),
                    RawColumn::Text(v) => v.iter().for_each(|c| match c {
                        Some(t) => {
                            h.update([3u8]);
                            h.update((t.len() as u64).to_le_bytes());
                            h.update(t.as_bytes());
                        }
                        None => h.update([0u8]),
                    }),
                }
            }
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A table of `columns`, `None` without rows.
fn table(columns: Vec<(&String, RawColumn)>) -> Result<Option<RawTable>, StoreError> {
    if columns.first().is_none_or(|(_, c)| c.is_empty()) {
        return Ok(None);
    }
    let mut t = RawTable::new();
    for (name, column) in columns {
        t.push(name.clone(), column)?;
    }
    Ok(Some(t))
}

/// The leads table of attribute objects (module docs: column order and types).
pub(crate) fn leads_table(
    leads: &[Vec<(String, Value)>],
    sets: &SetSeparators,
) -> Result<RawTable, StoreError> {
    let mut names: Vec<&str> = Vec::new();
    let mut position: HashMap<&str, usize> = HashMap::new();
    for lead in leads {
        for (name, _) in lead {
            if !position.contains_key(name.as_str()) {
                position.insert(name, names.len());
                names.push(name);
            }
        }
    }
    let mut cells: Vec<Vec<Option<&Value>>> = vec![vec![None; leads.len()]; names.len()];
    for (row, lead) in leads.iter().enumerate() {
        for (name, value) in lead {
            if !value.is_null() {
                cells[position[name.as_str()]][row] = Some(value);
            }
        }
    }
    let mut table = RawTable::new();
    for (name, column) in names.into_iter().zip(cells) {
        table.push(name, typed_column(&column, sets.of_column(name)))?;
    }
    Ok(table)
}

/// A column typed as a file reader would type it (module docs).
fn typed_column(cells: &[Option<&Value>], separator: &str) -> RawColumn {
    let present = || cells.iter().flatten();
    if present().next().is_some() && present().all(|v| v.is_number()) {
        return RawColumn::Number(cells.iter().map(|v| v.and_then(Value::as_f64)).collect());
    }
    if present().next().is_some() && present().all(|v| v.is_boolean()) {
        return RawColumn::Bool(cells.iter().map(|v| v.and_then(Value::as_bool)).collect());
    }
    RawColumn::Text(
        cells
            .iter()
            .map(|v| v.map(|v| cell_text(v, separator)))
            .collect(),
    )
}

/// A value in a text column.
fn cell_text(v: &Value, separator: &str) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), number_text),
        Value::Array(items) => items
            .iter()
            .filter(|i| !i.is_null())
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(separator),
        other => other.to_string(),
    }
}

/// A JSON object's members in the order written (serde_json's `Map` sorts them).
pub(crate) fn ordered_object(text: &str) -> Result<Vec<(String, Value)>, String> {
    struct Ordered;
    impl<'de> Visitor<'de> for Ordered {
        type Value = Vec<(String, Value)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, Value>()? {
                out.push((k, v));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(Ordered).map_err(|e| e.to_string())
}

/// `members` as a JSON object's text, in their order (imports, feature `files`).
#[cfg(any(feature = "files", test))]
pub(crate) fn object_text(members: &[(&str, Value)]) -> String {
    struct Members<'a>(&'a [(&'a str, Value)]);
    impl serde::Serialize for Members<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }
    serde_json::to_string(&Members(members)).unwrap_or_else(|_| "{}".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_their_order_and_columns_their_file_types() {
        let a = ordered_object(r#"{"id": "b", "zeta": 2, "alpha": true, "s": ["x", "y"]}"#)
            .expect("object");
        assert_eq!(a[1].0, "zeta");
        let b = ordered_object(r#"{"id": "a", "alpha": null, "zeta": "n/a", "new": 1.5}"#)
            .expect("object");
        let t = leads_table(&[a.clone(), b], &SetSeparators::default()).expect("table");
        assert_eq!(t.names(), ["id", "zeta", "alpha", "s", "new"]);
        assert_eq!(
            t.column("zeta"),
            Some(&RawColumn::Text(vec![Some("2".into()), Some("n/a".into())]))
        );
        assert_eq!(
            t.column("alpha"),
            Some(&RawColumn::Bool(vec![Some(true), None]))
        );
        assert_eq!(
            t.column("s"),
            Some(&RawColumn::Text(vec![Some("x;y".into()), None]))
        );
        assert_eq!(
            t.column("new"),
            Some(&RawColumn::Number(vec![None, Some(1.5)]))
        );
        // A set column with its own separator writes its lists with it.
        let schema = Schema::from_toml(
            "[[column]]\nname = \"s\"\nrole = \"firmographic\"\ntype = \"set\"\nseparator = \"|\"\n\
             [[column]]\nname = \"won\"\nrole = \"label\"\n",
            "leads.toml",
        )
        .expect("schema");
        let t = leads_table(&[a], &SetSeparators::of(&schema)).expect("table");
        assert_eq!(
            t.column("s"),
            Some(&RawColumn::Text(vec![Some("x|y".into())]))
        );
        let text = object_text(&[("z", Value::from(1)), ("a", Value::Null)]);
        assert_eq!(text, r#"{"z":1,"a":null}"#);
        assert!(ordered_object("[1]").is_err());
    }
}
