//! From three tables to a checked [`History`], by the policy of docs/history.md ("Bad
//! input"): a row that would make a label wrong or ambiguous is an error naming the file, the
//! row and the column; a row that can be dropped or kept without changing any label is
//! counted in the [`HistoryReport`].

use std::collections::{HashMap, HashSet};
use std::path::Path;

use qualify_core::encoder::parse::{number_text, time_from_text};
use qualify_core::history::{
    EventColumns, EventLogBuilder, History, Moment, Outcome, OutcomeColumns, OutcomeKind, Outcomes,
    family_of, millis, time_text,
};
use qualify_core::lead::EventType;
use qualify_core::value::{Cell, RawColumn, RawTable};

use super::report::{HistoryIssue, HistoryReport};
use super::{CellProblem, HistoryReadError, Table};

/// A table and the file it came from, for errors.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub table: &'a RawTable,
    pub path: &'a Path,
}

/// Column reader with the table's name and path for errors.
struct Col<'a> {
    table: Table,
    path: &'a Path,
    name: &'a str,
    data: Option<&'a RawColumn>,
}

impl<'a> Col<'a> {
    fn required(table: Table, src: Source<'a>, name: &'a str) -> Result<Col<'a>, HistoryReadError> {
        let col = Col::optional(table, src, name);
        if col.data.is_none() {
            return Err(HistoryReadError::MissingColumn {
                table,
                path: src.path.to_path_buf(),
                column: name.to_string(),
                present: src.table.names().to_vec(),
            });
        }
        Ok(col)
    }

    fn optional(table: Table, src: Source<'a>, name: &'a str) -> Col<'a> {
        Col {
            table,
            path: src.path,
            name,
            data: src.table.column(name),
        }
    }

    fn error(&self, row: usize, problem: CellProblem) -> HistoryReadError {
        HistoryReadError::Cell {
            table: self.table,
            path: self.path.to_path_buf(),
            row: row + 1,
            column: self.name.to_string(),
            problem,
        }
    }

    /// The cell as trimmed text (numbers as their text); `None` when blank or absent.
    fn text(&self, row: usize) -> Option<std::borrow::Cow<'a, str>> {
        match self.data?.cell(row) {
            Cell::Text(t) if !t.trim().is_empty() => Some(t.trim().into()),
            Cell::Number(v) => Some(number_text(v).into()),
            Cell::Bool(b) => Some(b.to_string().into()),
            _ => None,
        }
    }

    fn required_text(&self, row: usize) -> Result<std::borrow::Cow<'a, str>, HistoryReadError> {
        self.text(row)
            .ok_or_else(|| self.error(row, CellProblem::Blank))
    }

    fn time(&self, row: usize) -> Result<i64, HistoryReadError> {
        let text = self.required_text(row)?;
        time_from_text(&text).map(millis).ok_or_else(|| {
            self.error(
                row,
                CellProblem::NotATime {
                    text: text.into_owned(),
                },
            )
        })
    }

    /// A number, or nothing when the cell is blank or the column absent.
    fn number(&self, row: usize) -> Result<Option<f64>, HistoryReadError> {
        match self.data.map(|d| d.cell(row)) {
            Some(Cell::Number(v)) if v.is_finite() => Ok(Some(v)),
            Some(Cell::Text(t)) if !t.trim().is_empty() => t
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Some)
                .ok_or_else(|| {
                    self.error(
                        row,
                        CellProblem::NotANumber {
                            text: t.to_string(),
                        },
                    )
                }),
            Some(Cell::Number(v)) => Err(self.error(
                row,
                CellProblem::NotANumber {
                    text: v.to_string(),
                },
            )),
            _ => Ok(None),
        }
    }
}

/// The leads: ids (unique) and creation times, with the table kept as read.
pub fn leads(
    src: Source<'_>,
    id: &str,
    created: &str,
) -> Result<(Vec<String>, Vec<i64>), HistoryReadError> {
    let ids = Col::required(Table::Leads, src, id)?;
    let times = Col::required(Table::Leads, src, created)?;
    let rows = src.table.rows();
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(rows);
    let mut out_ids = Vec::with_capacity(rows);
    let mut out_created = Vec::with_capacity(rows);
    for row in 0..rows {
        let lead = ids.required_text(row)?.into_owned();
        if let Some(first) = seen.insert(lead.clone(), row) {
            return Err(HistoryReadError::DuplicateLead {
                path: src.path.to_path_buf(),
                id: lead,
                first: first + 1,
                second: row + 1,
            });
        }
        out_created.push(times.time(row)?);
        out_ids.push(lead);
    }
    Ok((out_ids, out_created))
}

/// Moments `(lead, as_of)` of a table, in order; every lead must be known.
pub fn moments(
    src: Source<'_>,
    lead: &str,
    at: &str,
    index: &HashMap<&str, usize>,
) -> Result<Vec<Moment>, HistoryReadError> {
    let lead_col = Col::required(Table::Moments, src, lead)?;
    let at_col = Col::required(Table::Moments, src, at)?;
    (0..src.table.rows())
        .map(|row| {
            let id = lead_col.required_text(row)?;
            let at = at_col.time(row)?;
            match index.get(id.as_ref()) {
                Some(&lead) => Ok(Moment { lead, at }),
                None => Err(HistoryReadError::UnknownLead {
                    path: src.path.to_path_buf(),
                    row: row + 1,
                    lead: id.into_owned(),
                }),
            }
        })
        .collect()
}

/// Builds the history from the checked leads, the events and the outcomes.
pub fn history(
    leads_table: RawTable,
    ids: Vec<String>,
    created: Vec<i64>,
    events: Option<Source<'_>>,
    outcomes: Option<Source<'_>>,
    columns: (&EventColumns, &OutcomeColumns),
) -> Result<(History, HistoryReport), HistoryReadError> {
    let mut report = HistoryReport::default();
    let index: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut latest = created.iter().copied().max().unwrap_or(i64::MIN);
    let mut log = EventLogBuilder::new(ids.len());
    if let Some(src) = events {
        latest = latest.max(read_events(
            src,
            columns.0,
            &index,
            &created,
            &mut log,
            &mut report,
        )?);
    }
    let mut outcome_of = vec![Vec::new(); ids.len()];
    let mut path = None;
    if let Some(src) = outcomes {
        path = Some(src.path);
        latest = latest.max(read_outcomes(
            src,
            columns.1,
            &index,
            &created,
            &mut outcome_of,
            &mut report,
        )?);
    }
    let outcomes = outcome_of
        .into_iter()
        .enumerate()
        .map(|(lead, rows)| lead_outcomes(path, &ids[lead], rows))
        .collect::<Result<Vec<Outcomes>, _>>()?;
    let history = History {
        leads: leads_table,
        outcomes,
        events: log.finish(),
        latest,
        ids,
        created,
    };
    Ok((history, report))
}

/// Reads the events into `log`; returns the latest event time kept.
fn read_events(
    src: Source<'_>,
    names: &EventColumns,
    index: &HashMap<&str, usize>,
    created: &[i64],
    log: &mut EventLogBuilder,
    report: &mut HistoryReport,
) -> Result<i64, HistoryReadError> {
    let lead_col = Col::required(Table::Events, src, &names.lead_id)?;
    let at_col = Col::required(Table::Events, src, &names.at)?;
    let type_col = Col::required(Table::Events, src, &names.kind)?;
    let id_col = Col::optional(Table::Events, src, &names.event_id);
    let value_col = Col::optional(Table::Events, src, &names.value);
    let mut types: HashMap<String, EventType> = HashMap::new();
    let mut seen_ids: HashSet<String> = HashSet::new();
    let mut latest = i64::MIN;
    for row in 0..src.table.rows() {
        let lead_id = lead_col.required_text(row)?;
        let at = at_col.time(row)?;
        let text = type_col.required_text(row)?;
        value_col.number(row)?;
        let Some(&lead) = index.get(lead_id.as_ref()) else {
            report.note(HistoryIssue::EventOfUnknownLead, row + 1, &lead_id);
            continue;
        };
        if let Some(id) = id_col.text(row)
            && !seen_ids.insert(id.into_owned())
        {
            report.note(HistoryIssue::DuplicateEvent, row + 1, &lead_id);
            continue;
        }
        if at < created[lead] {
            report.note(HistoryIssue::EventBeforeCreation, row + 1, &lead_id);
        }
        let kind = match types.get(text.as_ref()) {
            Some(k) => k,
            None => {
                let k =
                    EventType::new(&text).map_err(|_| type_col.error(row, CellProblem::Blank))?;
                types.entry(text.into_owned()).or_insert(k)
            }
        };
        log.push(lead, at, kind);
        latest = latest.max(at);
    }
    Ok(latest)
}

/// A lead's outcomes (with their rows, in file order) checked against the policy of
/// [`qualify_core::history::Life`]: the first pair that breaks it names both rows.
fn lead_outcomes(
    path: Option<&Path>,
    lead: &str,
    mut rows: Vec<(Outcome, usize)>,
) -> Result<Outcomes, HistoryReadError> {
    rows.sort_by_key(|(o, _)| o.at);
    Outcomes::new(rows.iter().map(|(o, _)| *o).collect()).map_err(|c| {
        HistoryReadError::OutcomeConflict {
            path: path.map(Path::to_path_buf).unwrap_or_default(),
            lead: lead.to_string(),
            first: rows[c.first].1 + 1,
            second: rows[c.second].1 + 1,
            first_outcome: rows[c.first].0,
            second_outcome: rows[c.second].0,
            why: c.why,
        }
    })
}

/// Reads the outcomes into `outcome_of` (with their rows); returns the latest outcome time.
fn read_outcomes(
    src: Source<'_>,
    names: &OutcomeColumns,
    index: &HashMap<&str, usize>,
    created: &[i64],
    outcome_of: &mut [Vec<(Outcome, usize)>],
    report: &mut HistoryReport,
) -> Result<i64, HistoryReadError> {
    let lead_col = Col::required(Table::Outcomes, src, &names.lead_id)?;
    let at_col = Col::required(Table::Outcomes, src, &names.at)?;
    let outcome_col = Col::required(Table::Outcomes, src, &names.outcome)?;
    let reason_col = Col::optional(Table::Outcomes, src, &names.reason);
    let is = |options: &[String], text: &str| {
        options.iter().any(|o| o.trim().eq_ignore_ascii_case(text))
    };
    let mut latest = i64::MIN;
    for row in 0..src.table.rows() {
        let lead_id = lead_col.required_text(row)?;
        let at = at_col.time(row)?;
        let text = outcome_col.required_text(row)?;
        let kind = if is(&names.converted, &text) {
            OutcomeKind::Converted
        } else if is(&names.disqualified, &text) {
            OutcomeKind::Disqualified
        } else {
            let expected = names
                .converted
                .iter()
                .chain(&names.disqualified)
                .cloned()
                .collect();
            return Err(outcome_col.error(
                row,
                CellProblem::UnknownOutcome {
                    text: text.into_owned(),
                    expected,
                },
            ));
        };
        let Some(&lead) = index.get(lead_id.as_ref()) else {
            report.note(HistoryIssue::OutcomeOfUnknownLead, row + 1, &lead_id);
            continue;
        };
        if at < created[lead] {
            return Err(HistoryReadError::OutcomeBeforeCreation {
                path: src.path.to_path_buf(),
                row: row + 1,
                lead: lead_id.into_owned(),
                at: time_text(at).unwrap_or_default(),
                created: time_text(created[lead]).unwrap_or_default(),
            });
        }
        let outcome = match kind {
            OutcomeKind::Converted => Outcome::converted(at),
            OutcomeKind::Disqualified => {
                Outcome::disqualified(at, family_of(reason_col.text(row).as_deref()))
            }
        };
        outcome_of[lead].push((outcome, row));
        latest = latest.max(at);
    }
    Ok(latest)
}
