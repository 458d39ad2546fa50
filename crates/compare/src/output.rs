//! The files `qualify compare` writes: `comparison.json`, the per-lead table (Parquet and
//! CSV) and the HTML report, each written to a temporary file and renamed, so a reader never
//! sees half a file.

use std::path::Path;

use qualify_core::value::{RawColumn, RawTable, TableError};

use crate::CompareError;
use crate::pipeline::Compared;

/// The files [`write_outputs`] writes into its directory.
pub const OUTPUTS: [&str; 4] = [
    "comparison.json",
    "leads.parquet",
    "leads.csv",
    "report.html",
];

/// One row per lead: id, label, propensity, decile, rule score, stage, route and the
/// threshold basis.
pub fn leads_table(compared: &Compared) -> Result<RawTable, TableError> {
    let leads = &compared.leads;
    let outcomes = &compared.rules;
    let number = |v: Vec<f64>| RawColumn::Number(v.into_iter().map(Some).collect());
    let flag = |v: &[bool]| number(v.iter().map(|&b| f64::from(u8::from(b))).collect());
    let mut table = RawTable::new();
    table.push("id", compared.ids.clone())?;
    table.push("label", flag(&leads.labels))?;
    table.push("propensity", number(leads.propensity.clone()))?;
    table.push(
        "decile",
        number(leads.decile.iter().map(|&d| f64::from(d)).collect()),
    )?;
    table.push("rule_score", number(leads.rule_score.clone()))?;
    table.push(
        "stage",
        RawColumn::Text(
            outcomes
                .iter()
                .map(|r| Some(r.stage.as_str().to_string()))
                .collect(),
        ),
    )?;
    table.push(
        "route",
        RawColumn::Text(outcomes.iter().map(|r| r.route.clone()).collect()),
    )?;
    table.push("qualifies_anyway", flag(&leads.qualifies_anyway))?;
    table.push("qualifies_by_points", flag(&leads.qualifies_by_points))?;
    Ok(table)
}

/// Writes the [`OUTPUTS`] into `out` (created if needed), replacing existing ones.
pub fn write_outputs(out: &Path, compared: &Compared) -> Result<(), CompareError> {
    std::fs::create_dir_all(out).map_err(|source| CompareError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let json = serde_json::to_vec_pretty(&compared.comparison)
        .map_err(|source| CompareError::Json { source })?;
    write_file(&out.join(OUTPUTS[0]), &json)?;
    let table = leads_table(compared).map_err(|source| CompareError::Table { source })?;
    for name in [OUTPUTS[1], OUTPUTS[2]] {
        qualify_data::write_table(&out.join(name), &table)
            .map_err(|source| CompareError::Write { source })?;
    }
    let html = crate::report::html(&compared.comparison, &compared.leads)?;
    write_file(&out.join(OUTPUTS[3]), html.as_bytes())
}

/// Writes through a temporary file and a rename.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CompareError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| CompareError::Io {
            path: path.to_path_buf(),
            source,
        })
}
