//! Tables printed at the end of `train` and by `evaluate`.

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use qualify_eval::Metrics;
use qualify_train::history::PointInTimeRows;
use qualify_train::model::TrainedModel;
use qualify_train::pipeline::TrainedBundle;

/// The model's metrics beside the constant prior's.
pub fn metrics_table(model: &Metrics, prior: &Metrics) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(["metric", "model", "constant prior"]);
    let rows: [(&str, f64, f64); 6] = [
        ("ROC AUC", model.roc_auc, prior.roc_auc),
        ("PR AUC", model.pr_auc, prior.pr_auc),
        ("log loss", model.log_loss, prior.log_loss),
        ("Brier", model.brier, prior.brier),
        ("ECE (10 bins)", model.ece, prior.ece),
        ("lift at 10%", model.lift_at_10, prior.lift_at_10),
    ];
    for (name, m, p) in rows {
        table.add_row([Cell::new(name), num(m), num(p)]);
    }
    table
}

/// Per bin: count, mean predicted, observed rate.
pub fn reliability_table(model: &Metrics) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "bin",
        "count",
        "mean predicted",
        "observed rate",
    ]);
    for bin in &model.reliability {
        let opt = |v: Option<f64>| v.map_or_else(|| Cell::new("-"), num);
        table.add_row([
            Cell::new(format!(
                "[{:.1}, {:.1}{}",
                bin.lower,
                bin.upper,
                if bin.upper >= 1.0 { "]" } else { ")" }
            )),
            Cell::new(bin.count).set_alignment(CellAlignment::Right),
            opt(bin.mean_predicted),
            opt(bin.observed_rate),
        ]);
    }
    table
}

fn num(v: f64) -> Cell {
    Cell::new(format!("{v:.4}")).set_alignment(CellAlignment::Right)
}

/// What `train` prints when it is done.
pub fn print_training_summary(trained: &TrainedBundle) {
    let m = &trained.manifest;
    let mut info = Table::new();
    info.load_preset(UTF8_FULL_CONDENSED);
    let data = &m.training_data;
    info.add_row([
        "model",
        &format!("{} {} ({})", m.name, m.version, m.model.kind),
    ]);
    info.add_row([
        "data",
        &format!(
            "{}: {} rows, {:.1}% converted",
            data.file,
            data.rows,
            100.0 * data.label_rate
        ),
    ]);
    info.add_row([
        "split",
        &format!(
            "{}: {} train / {} test",
            data.split, data.train_rows, data.test_rows
        ),
    ]);
    info.add_row([
        "features",
        &format!(
            "{} columns encoded as {}",
            m.encoder.columns.len(),
            m.model.n_features
        ),
    ]);
    match &trained.model {
        TrainedModel::Logistic(t) => {
            let cv: Vec<String> =
                t.cv.iter()
                    .map(|p| format!("{}: {:.4}", p.l2, p.log_loss))
                    .collect();
            info.add_row([
                "L2 (CV log loss)",
                &format!("{} chosen; {}", t.model.alpha, cv.join(", ")),
            ]);
        }
        TrainedModel::Gbm(t) => {
            let p = &t.options.params;
            info.add_row([
                "trees",
                &format!(
                    "{} (folds stopped early at {:?}); {} leaves, learning rate {}",
                    t.ensemble.trees.len(),
                    t.cv.best_trees,
                    p.max_leaves,
                    p.learning_rate
                ),
            ]);
        }
    }
    let metrics = &trained.metrics;
    if let Some(selection) = &metrics.selection {
        let rows: Vec<String> = selection
            .candidates
            .iter()
            .map(|c| format!("{} {:.4}", c.kind, c.cv_log_loss))
            .collect();
        info.add_row([
            "auto (CV log loss, calibrated)",
            &format!("{} chosen; {}", selection.chosen, rows.join(", ")),
        ]);
    }
    info.add_row(["calibration", m.calibrator.name()]);
    println!("{info}");
    println!("test split ({} rows):", metrics.test.n);
    println!("{}", metrics_table(&metrics.test, &metrics.prior));
}

/// What `train` prints about a history's rows: moments, censoring, event types.
pub fn print_history_summary(rows: &PointInTimeRows) {
    let model = &rows.model;
    let (spec, s) = (&model.spec, &model.summary);
    let mut info = Table::new();
    info.load_preset(UTF8_FULL_CONDENSED);
    info.add_row(["target", &model.target]);
    info.add_row([
        "history",
        &format!(
            "{} leads, {} events, up to {}",
            s.leads,
            s.events,
            s.end.map_or_else(|| "-".to_string(), |t| t.to_rfc3339())
        ),
    ]);
    info.add_row([
        "moments",
        &format!(
            "{} labelled ({} converted within {} days); {} censored (left out); {} leads \
             without a moment",
            s.moments, s.converted, spec.label_window_days, s.censored, s.leads_without_moments
        ),
    ]);
    info.add_row([
        "event types",
        &format!(
            "{} known (below); {} events of other types ignored",
            spec.event_types.len(),
            rows.ignored_events
        ),
    ]);
    println!("{info}");
    let types: Vec<&str> = spec.event_types.iter().map(|t| t.as_str()).collect();
    println!("event types known to the model: {}", types.join(", "));
}
