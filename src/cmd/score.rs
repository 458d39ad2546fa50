//! `qualify score`: batch scoring of a file through the runtime the server uses.
//!
//! `--explain` adds, per lead, the raw score in log-odds and the `--top` columns that pushed
//! it up and down most (`qualify_runtime::explain`): for each rank `k`,
//! `positive_k_column`, `positive_k_value` (the lead's value, as text) and
//! `positive_k_contribution` (log-odds), and the same for `negative_k_…`; cells are empty
//! when a lead has fewer reasons. With `--leads`, each scored moment is explained from its
//! point-in-time row (the history features are columns like `demo_request_30d`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use qualify_core::history::{MOMENT_COLUMN, time_text};
use qualify_core::value::{RawColumn, RawTable};
use qualify_data::history::{HistoryPaths, MOMENTS_LEAD, moments_from_table, read_history};
use qualify_runtime::pieces::{PIECE_ROWS, in_order, pieces};
use qualify_runtime::{ExplainedTable, Model, RuntimeError};
use qualify_train::history::score::{MomentsChoice, history_model, score_moments};

use super::common::{InputArgs, check_output, parse_time, read_frame, read_table, spinner};

#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// Model bundle (a version directory, or a model directory: its latest version).
    #[arg(long)]
    pub model: PathBuf,
    /// Leads to score (CSV or Parquet) with the bundle's feature columns (a model trained on
    /// a flat file). A model trained on a history scores --leads and --events instead.
    #[arg(long, required_unless_present = "leads", conflicts_with = "leads")]
    pub data: Option<PathBuf>,
    /// A history's leads table (a model trained with --leads): id, created_at, attributes.
    #[arg(long, requires = "events")]
    pub leads: Option<PathBuf>,
    /// The history's events table: lead_id, at, type.
    #[arg(long, requires = "leads")]
    pub events: Option<PathBuf>,
    /// The history's outcomes table, optional: with it, --as-of leaves out leads already
    /// closed at that time.
    #[arg(long, requires = "leads")]
    pub outcomes: Option<PathBuf>,
    /// With --leads: score each (lead_id, as_of) row of this file (CSV or Parquet), its other
    /// columns carried through to --out.
    #[arg(long, requires = "leads", conflicts_with = "as_of")]
    pub moments: Option<PathBuf>,
    /// Output file (.csv or .parquet), in input order: the id column (if the data has the
    /// schema's id) and `propensity`; with --leads, `lead_id`, `as_of` (or the moments file's
    /// columns) and `propensity`.
    #[arg(long)]
    pub out: PathBuf,
    /// Scoring time for timestamp features (default: the training data's reference time).
    /// With --leads: the moment; every lead open at it is scored, from events strictly before
    /// it.
    #[arg(long, value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
    /// Add the raw score (`raw_score`, log-odds) and the top reasons per lead.
    #[arg(long)]
    pub explain: bool,
    /// With --explain: how many positive and how many negative reasons.
    #[arg(long, default_value_t = 3, requires = "explain")]
    pub top: usize,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: ScoreArgs) -> Result<()> {
    qualify_data::Format::from_path(&args.out)?;
    check_output(&args.out, args.force)?;
    let model = Model::load(&args.model)?;
    if let Some(why) = model.why_not_explainable().filter(|_| args.explain) {
        return Err(anyhow!(
            "--explain: cannot explain scores of the model in {why}"
        ));
    }
    if let (Some(leads), Some(events)) = (&args.leads, &args.events) {
        return history(&args, &model, leads, events);
    }
    let data = args
        .data
        .as_deref()
        .context("pass --data FILE, or --leads and --events")?;
    let manifest = model.manifest();
    let id = manifest.schema.id();
    let mut columns = manifest.encoder.table_columns();
    columns.extend(id);
    let frame = read_frame(data, &args.input, &manifest.schema, &columns)?;
    if args.as_of.is_none() && manifest.encoder.uses_time() {
        eprintln!(
            "note: time features are measured as of {} (the training data's reference time); \
             pass --as-of for leads scored at another time",
            manifest.encoder.reference_time().to_rfc3339()
        );
    }
    let inputs = frame.select(&manifest.encoder.table_columns())?;
    let scored = score_frame(&args, &model, data, &inputs)?;
    let mut out = RawTable::new();
    out.push(
        "propensity",
        RawColumn::Number(scored.propensity.iter().copied().map(Some).collect()),
    )?;
    if let Some(explained) = &scored.explained {
        explained.push_columns(&mut out)?;
    }
    // The id column (when the file has the schema's id) goes out as the file holds it.
    frame.select(id.as_slice())?.write_beside(&args.out, &out)?;
    eprintln!(
        "scored {} leads with {} {} -> {}",
        frame.rows(),
        manifest.name,
        manifest.version,
        args.out.display()
    );
    Ok(())
}

/// The propensities (and with `--explain`, the reasons) of a file's rows, in row order.
struct ScoredRows {
    propensity: Vec<f64>,
    explained: Option<ExplainedTable>,
}

/// Scores `frame` (read from `path`) in pieces of [`PIECE_ROWS`] rows, one piece per core at
/// a time: each piece is encoded from polars' arrays where they lie (explained from a typed
/// copy of the piece) and scored on its own. An error names the file and its row, the first
/// bad one in row order.
fn score_frame(
    args: &ScoreArgs,
    model: &Model,
    path: &Path,
    frame: &qualify_data::Frame,
) -> Result<ScoredRows> {
    let explain_as_of = args
        .as_of
        .unwrap_or_else(|| model.manifest().encoder.reference_time());
    let pieces = pieces(frame.rows(), PIECE_ROWS);
    let scored = in_order(&pieces, None, |rows| -> Result<ScoredRows> {
        let after = |e: RuntimeError| anyhow!("{}: {}", path.display(), e.after_rows(rows.start));
        if args.explain {
            let table = frame.piece(rows.clone())?;
            let explained = model
                .explain_table(&table, explain_as_of, args.top)
                .map_err(after)?;
            return Ok(ScoredRows {
                propensity: explained.propensity.clone(),
                explained: Some(explained),
            });
        }
        let cells = frame.cells(rows.clone())?;
        let propensity = model.score_table(&cells, args.as_of).map_err(after)?;
        Ok(ScoredRows {
            propensity,
            explained: None,
        })
    })?;
    let mut all = ScoredRows {
        propensity: Vec::with_capacity(frame.rows()),
        explained: None,
    };
    for piece in scored {
        all.propensity.extend(piece.propensity);
        if let Some(piece) = piece.explained {
            match &mut all.explained {
                Some(explained) => explained.append(piece),
                None => all.explained = Some(piece),
            }
        }
    }
    Ok(all)
}

/// Scores a history's leads at moments (`--as-of` or `--moments`).
fn history(args: &ScoreArgs, model: &Model, leads: &Path, events: &Path) -> Result<()> {
    let paths = HistoryPaths {
        leads: leads.to_path_buf(),
        events: events.to_path_buf(),
        outcomes: args.outcomes.clone(),
    };
    let read = read_model_history(model, &paths, &args.input)?;
    let history = &read.history;
    let (moments, mut out) = match (&args.moments, args.as_of) {
        (Some(file), _) => {
            let table = read_table(file, &args.input, None)?;
            let moments = moments_from_table(&table, file, history)?;
            (moments, table)
        }
        (None, Some(t)) => {
            let moments = MomentsChoice::At(t).moments(history, history_model(model)?, 0);
            let mut out = RawTable::new();
            out.push(
                MOMENTS_LEAD,
                RawColumn::Text(
                    moments
                        .iter()
                        .map(|m| Some(history.ids[m.lead].clone()))
                        .collect(),
                ),
            )?;
            out.push(
                MOMENT_COLUMN,
                RawColumn::Text(moments.iter().map(|m| time_text(m.at)).collect()),
            )?;
            (moments, out)
        }
        (None, None) => bail!("with --leads, pass --as-of TIME or --moments FILE"),
    };
    let scored = score_moments(model, history, &moments)?;
    out.push(
        "propensity",
        RawColumn::Number(scored.propensity.iter().copied().map(Some).collect()),
    )?;
    if args.explain {
        // The moments' point-in-time rows, explained as the batch path scored them (the
        // features are columns of the rows; time is the bundle's reference time).
        let as_of = model.manifest().encoder.reference_time();
        model
            .explain_table(&scored.table, as_of, args.top)
            .map_err(|e| anyhow!("{}: {e}", leads.display()))?
            .push_columns(&mut out)?;
    }
    qualify_data::write_table(&args.out, &out)?;
    let manifest = model.manifest();
    eprintln!(
        "scored {} moments with {} {} ({}) -> {}",
        moments.len(),
        manifest.name,
        manifest.version,
        history_model(model)?.target,
        args.out.display()
    );
    if scored.ignored_events > 0 {
        eprintln!(
            "note: {} events of types the model does not know were ignored",
            scored.ignored_events
        );
    }
    Ok(())
}

/// Reads a history with the bundle's leads schema, printing the counted warnings.
pub fn read_model_history(
    model: &Model,
    paths: &HistoryPaths,
    input: &InputArgs,
) -> Result<qualify_data::history::ReadHistory> {
    let spinner = spinner("reading the history");
    let read = read_history(paths, &model.manifest().schema, input.delimiter);
    spinner.finish_and_clear();
    let read = read?;
    for warning in &read.report.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(read)
}
