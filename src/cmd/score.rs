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
use qualify_runtime::Model;
use qualify_runtime::pieces::PieceError;
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
    let features = manifest.encoder.table_columns();
    let mut columns = features.clone();
    columns.extend(id);
    let frame = read_frame(data, &args.input, &manifest.schema, &columns)?;
    if args.as_of.is_none() && manifest.encoder.uses_time() {
        eprintln!(
            "note: time features are measured as of {} (the training data's reference time); \
             pass --as-of for leads scored at another time",
            manifest.encoder.reference_time().to_rfc3339()
        );
    }
    // Pieces on every core: scored from polars' arrays where they lie, explained from a
    // typed copy of each piece.
    let inputs = frame.select(&features)?;
    let mut out = RawTable::new();
    if args.explain {
        let as_of = args
            .as_of
            .unwrap_or_else(|| manifest.encoder.reference_time());
        let explained = model
            .explain_pieces(inputs.rows(), as_of, args.top, |rows| inputs.piece(rows))
            .map_err(|e| piece_error(data, e))?;
        out.push("propensity", numbers(&explained.propensity))?;
        explained.push_columns(&mut out)?;
    } else {
        let propensity = model
            .score_pieces(inputs.rows(), args.as_of, |rows| inputs.cells(rows))
            .map_err(|e| piece_error(data, e))?;
        out.push("propensity", numbers(&propensity))?;
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

/// A column of numbers without gaps.
fn numbers(values: &[f64]) -> RawColumn {
    RawColumn::Number(values.iter().copied().map(Some).collect())
}

/// The error of scoring `path` in pieces: the reader's names the file already; the runtime's
/// gets it.
fn piece_error(path: &Path, error: PieceError<qualify_data::DataError>) -> anyhow::Error {
    match error {
        PieceError::Read(e) => e.into(),
        PieceError::Runtime(e) => anyhow!("{}: {e}", path.display()),
    }
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
    out.push("propensity", numbers(&scored.propensity))?;
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
