//! The two written forms of synthetic leads: the flat training table and JSON lines.
//!
//! The table is built from `LeadRecord::to_flat`, the one definition of the flat form, so the
//! synthetic file cannot drift from what the encoder and the server expect; only the
//! multi-valued `tech_stack` is joined into one text cell (";"), as CRM exports write sets.

use qualify_core::lead::{ActivityType, EMAIL_DOMAIN_TYPE, LAST_ACTIVITY_AT};
use qualify_core::value::{RawColumn, RawTable, RawValue, TableError, ValueKind};

use super::SynthLead;

/// Separator of the values of a multi-valued cell.
pub const SET_SEPARATOR: &str = ";";

/// The canonical record changed and the synthetic table layout did not follow it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LayoutError {
    #[error("synthetic lead {row}: flat column {column:?} is not in the synthetic table layout")]
    UnknownColumn { row: usize, column: String },
    #[error(
        "column {column:?}: the synthetic table expects {expected:?} cells, got a {found} value"
    )]
    WrongCell {
        column: String,
        expected: Kind,
        found: ValueKind,
    },
    #[error(transparent)]
    Table(#[from] TableError),
}

/// The cell types of the synthetic table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Bool,
}

/// The canonical attribute columns after `id` (who the lead is), in order, with their cell
/// type: the flat table's first fields and the history's leads table.
pub(super) const ATTRIBUTES: &[(&str, Kind)] = &[
    ("email", Kind::Text),
    (EMAIL_DOMAIN_TYPE, Kind::Text),
    ("job_title", Kind::Text),
    ("seniority", Kind::Text),
    ("industry", Kind::Text),
    ("employees", Kind::Number),
    ("annual_revenue", Kind::Number),
    ("country", Kind::Text),
    ("crm", Kind::Text),
    ("marketing_automation", Kind::Text),
    ("tech_stack", Kind::Text),
];

/// The qualification answers after the attributes (flat table only: in a history they are
/// not known when the lead is created).
const ANSWERS: &[(&str, Kind)] = &[
    ("budget_confirmed", Kind::Bool),
    ("need_confirmed", Kind::Bool),
    ("timeline_days", Kind::Number),
];

/// Column names and types of [`to_raw_table`], in order.
fn layout() -> Vec<(String, Kind)> {
    let mut cols = vec![("id".to_string(), Kind::Text)];
    cols.extend(
        ATTRIBUTES
            .iter()
            .chain(ANSWERS)
            .map(|(n, k)| (n.to_string(), *k)),
    );
    cols.extend(
        ActivityType::ALL
            .iter()
            .map(|a| (a.count_column(), Kind::Number)),
    );
    cols.push((LAST_ACTIVITY_AT.to_string(), Kind::Text));
    cols
}

/// The flat table: `id`, the canonical fields, one `<type>_count` per activity type,
/// `last_activity_at`, then `created_at` (RFC 3339) and `converted` (0/1).
///
/// An error if `to_flat` yields a column this layout does not know or a cell of the wrong
/// type: the canonical record changed and the generator must follow it.
pub fn to_raw_table(leads: &[SynthLead]) -> Result<RawTable, LayoutError> {
    let layout = layout();
    let mut cells: Vec<Vec<RawValue>> = vec![Vec::with_capacity(leads.len()); layout.len()];
    for (row, synth) in leads.iter().enumerate() {
        let mut flat = synth.lead.to_flat();
        for ((name, _), column) in layout.iter().zip(&mut cells) {
            column.push(flat.remove(name).unwrap_or(RawValue::Missing));
        }
        if let Some(name) = flat.keys().next() {
            return Err(LayoutError::UnknownColumn {
                row,
                column: name.clone(),
            });
        }
    }
    let mut table = RawTable::new();
    for ((name, kind), values) in layout.into_iter().zip(cells) {
        let column = to_column(&name, kind, values)?;
        table.push(name, column)?;
    }
    table.push(
        "created_at",
        RawColumn::Text(
            leads
                .iter()
                .map(|l| Some(l.created_at.to_rfc3339()))
                .collect(),
        ),
    )?;
    table.push(
        "converted",
        RawColumn::Number(
            leads
                .iter()
                .map(|l| Some(f64::from(u8::from(l.converted))))
                .collect(),
        ),
    )?;
    Ok(table)
}

pub(super) fn to_column(
    name: &str,
    kind: Kind,
    values: Vec<RawValue>,
) -> Result<RawColumn, LayoutError> {
    let wrong = |v: &RawValue| LayoutError::WrongCell {
        column: name.to_string(),
        expected: kind,
        found: v.kind(),
    };
    Ok(match kind {
        Kind::Text => RawColumn::Text(
            values
                .into_iter()
                .map(|v| match v {
                    RawValue::Missing => Ok(None),
                    RawValue::Text(s) => Ok(Some(s)),
                    RawValue::List(items) => Ok(Some(items.join(SET_SEPARATOR))),
                    other => Err(wrong(&other)),
                })
                .collect::<Result<_, _>>()?,
        ),
        Kind::Number => RawColumn::Number(
            values
                .into_iter()
                .map(|v| match v {
                    RawValue::Missing => Ok(None),
                    RawValue::Number(x) => Ok(Some(x)),
                    other => Err(wrong(&other)),
                })
                .collect::<Result<_, _>>()?,
        ),
        Kind::Bool => RawColumn::Bool(
            values
                .into_iter()
                .map(|v| match v {
                    RawValue::Missing => Ok(None),
                    RawValue::Bool(b) => Ok(Some(b)),
                    other => Err(wrong(&other)),
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// One canonical lead record per line, as services send it (with `activities`), plus
/// `created_at` (RFC 3339) and `converted` (0/1). Each line ends with a newline.
pub fn to_jsonl(leads: &[SynthLead]) -> String {
    let mut out = String::new();
    for synth in leads {
        let mut lead = synth.lead.clone();
        lead.extra.insert(
            "created_at".to_string(),
            serde_json::Value::String(synth.created_at.to_rfc3339()),
        );
        lead.extra.insert(
            "converted".to_string(),
            serde_json::Value::from(u8::from(synth.converted)),
        );
        // A LeadRecord holds only strings, numbers, booleans and JSON values: serialising it
        // cannot fail, and the fallback keeps a line per lead.
        out.push_str(&serde_json::to_string(&lead).unwrap_or_else(|_| "{}".to_string()));
        out.push('\n');
    }
    out
}
