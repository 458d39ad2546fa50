//! `qualify compare` and `qualify_compare::pipeline::compare` on the same files give the same
//! comparison, and the library's leads table is the one the CLI writes.

use std::path::Path;
use std::process::Command;

use qualify_compare::output::leads_table;
use qualify_compare::pipeline::{CompareInput, compare};
use qualify_rules::RulesFile;

#[test]
fn library_and_cli_compare_alike() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (data, model_dir, rules_path) = (
        root.join("data/sample/leads.csv"),
        root.join("models/default"),
        root.join("rules/default.toml"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let as_of = "2026-07-01T00:00:00Z";
    let out = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args([
            "compare",
            "--label",
            "converted",
            "--as-of",
            as_of,
            "--data",
        ])
        .arg(&data)
        .arg("--model")
        .arg(&model_dir)
        .arg("--rules")
        .arg(&rules_path)
        .arg("--out")
        .arg(dir.path())
        .output()
        .expect("run qualify");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let model = qualify_runtime::Model::load(&model_dir).expect("model");
    let text = std::fs::read_to_string(&rules_path).expect("rules");
    let origin = rules_path.display().to_string();
    let rules = RulesFile::parse(&text, &origin).expect("rules parse");
    let options = qualify_data::ReadOptions::for_schema(&model.manifest().schema, None);
    let scored = qualify_data::read_table(&data, &options).expect("scored read");
    let flat = qualify_data::read_table(&data, &Default::default()).expect("flat read");
    let data_origin = data.display().to_string();
    let compared = compare(&CompareInput {
        model: &model,
        rules: &rules,
        rules_origin: &origin,
        scored: &scored,
        flat: &flat,
        data_origin: &data_origin,
        label: "converted",
        id: None,
        as_of: Some(as_of.parse().expect("time")),
        moments: None,
        capacity: None,
        target_precision: None,
    })
    .expect("compare");

    let cli: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("comparison.json")).expect("comparison.json"),
    )
    .expect("json");
    assert_eq!(
        cli,
        serde_json::to_value(&compared.comparison).expect("json")
    );
    let written = qualify_data::read_table(&dir.path().join("leads.csv"), &Default::default())
        .expect("leads.csv");
    let table = leads_table(&compared).expect("table");
    assert_eq!(written.names(), table.names());
    assert_eq!(written.rows(), table.rows());
    for name in ["propensity", "rule_score", "decile"] {
        assert_eq!(written.column(name), table.column(name), "{name}");
    }
    assert_eq!(written.column("stage"), table.column("stage"));
}
