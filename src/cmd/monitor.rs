//! `qualify monitor`: the served scores against what happened since (docs/monitoring.md).
//!
//! Flags, reading the bundle (and, with `--store`, the store's history for the inputs'
//! drift), printing; the records, the figures, the JSON and the page are `qualify_monitor`.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Utc};
use qualify_core::bundle::Bundle;
use qualify_data::history::{HistoryPaths, read_history};
use qualify_monitor::{MonitorConfig, Range, Records, monitor_store, write_report};

use super::common::parse_time;

#[derive(Debug, clap::Args)]
pub struct MonitorArgs {
    /// The score log: JSON lines, one `ScoreLogEntry` each. Or --store.
    #[arg(long, required_unless_present = "store", conflicts_with = "store")]
    pub log: Option<PathBuf>,
    /// Or a lead store (sqlite://PATH or postgres://..., docs/store.md): its score log,
    /// outcomes and events; with --model (trained on a history), its leads for the inputs'
    /// drift.
    #[arg(long)]
    pub store: Option<String>,
    /// Outcomes CSV (with --log): `lead_id`, `at`, `outcome` (converted / disqualified),
    /// optional `reason`.
    #[arg(long, required_unless_present = "store", conflicts_with = "store")]
    pub outcomes: Option<PathBuf>,
    /// Events CSV (with --log): `lead_id`, `at`, `type` (other columns ignored). Needed for
    /// the sales SLA and for re-engagement.
    #[arg(long, conflicts_with = "store")]
    pub events: Option<PathBuf>,
    /// Model bundle: its training reference gives the drift figures, and its label window
    /// the default --window-days.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The stored leads table (with --log; as trained on: the history's leads.csv). With
    /// --model (trained on a history) and --events, the model inputs at each logged moment
    /// are recomputed from it for the inputs' drift.
    #[arg(long, requires_all = ["model", "events"], conflicts_with = "store")]
    pub leads: Option<PathBuf>,
    /// Output directory: monitor.json and monitor.html.
    #[arg(long)]
    pub out: PathBuf,
    /// Only score-log entries answered at or after this time.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<DateTime<Utc>>,
    /// Only score-log entries answered before this time; also the default --as-of.
    #[arg(long, value_parser = parse_time)]
    pub to: Option<DateTime<Utc>>,
    /// The monitoring time. Default: --to, else the latest time in the log, outcomes and
    /// events.
    #[arg(long, value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,
    /// A logged score predicts conversion within this many days. Default: the model's label
    /// window (a history model), else 90.
    #[arg(long)]
    pub window_days: Option<u32>,
    /// The event type of a sales contact.
    #[arg(long, default_value = "sales_contacted")]
    pub sla_event: String,
    /// Hours sales has to contact a new MQL.
    #[arg(long, default_value_t = 24.0)]
    pub sla_hours: f64,
    /// Hours sales has to contact a new MQL that requested a demo.
    #[arg(long, default_value_t = 1.0)]
    pub demo_sla_hours: f64,
    /// The event type of a demo request.
    #[arg(long, default_value = "demo_request")]
    pub demo_event: String,
    /// Drift compares each lead's latest score of this many days with training.
    #[arg(long, default_value_t = 28)]
    pub drift_days: u32,
}

pub fn run(a: MonitorArgs) -> Result<()> {
    let bundle = a
        .model
        .as_deref()
        .map(|dir| {
            Bundle::read(dir).with_context(|| format!("reading the model {}", dir.display()))
        })
        .transpose()?;
    let manifest = bundle.as_ref().map(|b| &b.manifest);
    let spec = manifest.and_then(|m| m.history.as_ref()).map(|h| &h.spec);
    if let (Some(from), Some(to)) = (a.from, a.to)
        && from >= to
    {
        bail!("--from {from} is not before --to {to}");
    }
    let range = Range {
        from: a.from,
        to: a.to,
    };
    let defaults = MonitorConfig::for_model(manifest);
    let config = MonitorConfig {
        label_window_days: a.window_days.unwrap_or(defaults.label_window_days),
        sla_event_type: a.sla_event,
        sla_hours: a.sla_hours,
        demo_sla_hours: a.demo_sla_hours,
        demo_event_type: a.demo_event,
        drift_days: a.drift_days,
        ..defaults
    };
    let report = match (&a.store, &a.log, &a.outcomes) {
        (Some(url), _, _) => {
            super::store::runtime()?.block_on(async {
                let store = qualify_store::Store::connect(url)
                    .await
                    .with_context(|| format!("opening the store {url}"))?;
                // The inputs' drift needs the stored history, checked as training reads it.
                let history = match manifest.filter(|_| spec.is_some()) {
                    Some(m) => {
                        let read = qualify_store::files::read_history(&store, &m.schema)
                            .await
                            .with_context(|| format!("reading the history in {url}"))?;
                        for warning in &read.report.warnings {
                            eprintln!("warning: {warning}");
                        }
                        Some(read.history)
                    }
                    None => None,
                };
                let report =
                    monitor_store(&store, range, a.as_of, manifest, history.as_ref(), &config)
                        .await
                        .with_context(|| format!("monitoring from {url}"));
                store.close().await;
                report
            })?
        }
        (None, Some(log), Some(outcomes)) => {
            let records = Records::read_files(log, outcomes, a.events.as_deref(), range)?;
            let history = match (&a.leads, manifest, &a.events) {
                (Some(leads), Some(m), Some(events)) => {
                    if spec.is_none() {
                        bail!(
                            "--leads needs a model trained on a history (its manifest has no history spec)"
                        );
                    }
                    let paths = HistoryPaths {
                        leads: leads.clone(),
                        events: events.clone(),
                        outcomes: None,
                    };
                    let read = read_history(&paths, &m.schema, None)?;
                    for warning in &read.report.warnings {
                        eprintln!("warning: {warning}");
                    }
                    Some(read.history)
                }
                _ => None,
            };
            let as_of = records.as_of(a.as_of, range).with_context(|| {
                format!(
                    "{}: the score log is empty and no --as-of was given",
                    log.display()
                )
            })?;
            records.monitor(as_of, manifest, history.as_ref(), &config)?
        }
        _ => bail!("give --log and --outcomes, or --store"),
    };
    let (json, html) = write_report(&a.out, &report)?;
    let h = &report.headline;
    let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    println!(
        "{} scores of {} leads as of {}; {} matured (window {} days)",
        h.entries,
        h.leads,
        report.as_of.to_rfc3339(),
        h.matured,
        config.label_window_days
    );
    println!(
        "calibration: expected {} conversions, observed {}, ECE {} (holdout {})",
        show(h.expected_conversions),
        h.observed_conversions.map_or("-".into(), |v| v.to_string()),
        show(h.ece),
        show(h.holdout_ece)
    );
    println!(
        "drift: score PSI {}, largest input PSI {}",
        show(h.score_psi),
        show(h.max_feature_psi)
    );
    println!(
        "funnel: MQL->SQL {}, SQL->won {}, lead velocity {}; SLA on time {}, overdue {}",
        show(h.mql_to_sql),
        show(h.sql_to_won),
        show(h.lead_velocity),
        show(h.sla_share_on_time),
        h.sla_overdue.map_or("-".into(), |v| v.to_string())
    );
    for note in &report.notes {
        println!("note: {note}");
    }
    println!("wrote {} and {}", json.display(), html.display());
    Ok(())
}
