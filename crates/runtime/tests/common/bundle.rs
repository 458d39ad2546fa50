//! Test bundles: a four-column schema (numeric, categorical, numeric, boolean), random
//! records, an encoder fitted on them, and bundles written around any graph.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use qualify_core::bundle::{
    BUNDLE_FORMAT_VERSION, Bundle, DataFingerprint, Golden, GoldenRow, Manifest, ModelInfo,
    sha256_hex, version_for,
};
use qualify_core::calibrate::Calibrator;
use qualify_core::encoder::Encoder;
use qualify_core::schema::Schema;
use qualify_core::value::{RawColumn, RawTable};
use rand::RngExt;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};

pub const SCHEMA: &str = r#"
[[column]]
name = "converted"
role = "label"
[[column]]
name = "employees"
role = "firmographic"
type = "numeric"
[[column]]
name = "industry"
role = "firmographic"
type = "categorical"
[[column]]
name = "visits"
role = "behavioural"
type = "numeric"
[[column]]
name = "partner"
role = "feature"
type = "boolean"
"#;

pub const INDUSTRIES: [&str; 4] = ["saas", "retail", "bank", "media"];

pub fn as_of() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
        .expect("time")
        .to_utc()
}

/// A random record; `None` fields are left out (missing).
pub fn record(rng: &mut StdRng) -> Map<String, Value> {
    let mut r = Map::new();
    if rng.random_bool(0.9) {
        r.insert("employees".into(), json!(rng.random_range(1..5000)));
    }
    if rng.random_bool(0.9) {
        let i = rng.random_range(0..INDUSTRIES.len() + 1);
        r.insert(
            "industry".into(),
            json!(INDUSTRIES.get(i).unwrap_or(&"mining")),
        );
    }
    if rng.random_bool(0.9) {
        r.insert("visits".into(), json!(rng.random_range(0.0..30.0)));
    }
    if rng.random_bool(0.9) {
        r.insert("partner".into(), json!(rng.random_bool(0.3)));
    }
    r
}

pub fn encoder(schema: &Schema, records: &[Map<String, Value>]) -> Encoder {
    let rows: Vec<usize> = (0..records.len()).collect();
    Encoder::fit(schema, &table(records), &rows, Some(as_of())).expect("fit")
}

/// The records as a table with the schema's four columns, typed as a file reader types them.
pub fn table(records: &[Map<String, Value>]) -> RawTable {
    let mut table = RawTable::new();
    fn get<'r>(
        records: &'r [Map<String, Value>],
        name: &'static str,
    ) -> impl Iterator<Item = Option<&'r Value>> {
        records.iter().map(move |r| r.get(name))
    }
    table
        .push(
            "employees",
            RawColumn::Number(
                get(records, "employees")
                    .map(|v| v.and_then(Value::as_f64))
                    .collect(),
            ),
        )
        .expect("employees");
    table
        .push(
            "industry",
            RawColumn::Text(
                get(records, "industry")
                    .map(|v| v.and_then(Value::as_str).map(str::to_owned))
                    .collect(),
            ),
        )
        .expect("industry");
    table
        .push(
            "visits",
            RawColumn::Number(
                get(records, "visits")
                    .map(|v| v.and_then(Value::as_f64))
                    .collect(),
            ),
        )
        .expect("visits");
    table
        .push(
            "partner",
            RawColumn::Bool(
                get(records, "partner")
                    .map(|v| v.and_then(Value::as_bool))
                    .collect(),
            ),
        )
        .expect("partner");
    table
}

/// Writes a bundle whose golden scores come from `logit` on the encoded rows.
pub fn bundle(
    dir: &Path,
    kind: &str,
    onnx: Vec<u8>,
    encoder: Encoder,
    golden: &[Map<String, Value>],
    logit: impl Fn(&[f32]) -> f64,
) -> PathBuf {
    let rows = golden
        .iter()
        .map(|record| {
            let mut x = vec![0.0; encoder.n_features()];
            encoder
                .encode_json(record, as_of(), &mut x)
                .expect("encode");
            GoldenRow {
                record: record.clone(),
                propensity: CALIBRATOR.apply(logit(&x)),
            }
        })
        .collect();
    write(dir, kind, onnx, encoder, rows)
}

/// The calibrator of every test bundle.
pub const CALIBRATOR: Calibrator = Calibrator::Platt { a: 0.8, b: 0.1 };

/// Writes a bundle with the given golden rows, as they are.
pub fn write(
    dir: &Path,
    kind: &str,
    onnx: Vec<u8>,
    encoder: Encoder,
    rows: Vec<GoldenRow>,
) -> PathBuf {
    let schema = Schema::from_toml(SCHEMA, "test").expect("schema");
    let calibrator = CALIBRATOR;
    let manifest = Manifest {
        format_version: BUNDLE_FORMAT_VERSION,
        name: "t".into(),
        version: version_for(as_of()),
        created_at: as_of(),
        model: ModelInfo {
            kind: serde_json::from_value(json!(kind)).expect("model kind"),
            hyperparameters: json!({}),
            onnx_input: qualify_onnx::INPUT_NAME.into(),
            onnx_output: qualify_onnx::LOGIT_NAME.into(),
            n_features: encoder.n_features(),
            onnx_sha256: sha256_hex(&onnx),
        },
        schema_hash: schema.hash(),
        schema,
        encoder,
        calibrator,
        training_data: DataFingerprint {
            file: "t.csv".into(),
            sha256: sha256_hex(b"t"),
            rows: 0,
            label_rate: 0.5,
            train_rows: 0,
            test_rows: 0,
            split: "none".into(),
        },
        metrics: None,
        history: None,
        reference: None,
        libraries: BTreeMap::new(),
    };
    let golden = Golden {
        as_of: as_of(),
        rows,
    };
    Bundle::write(dir, &manifest, &onnx, &golden).expect("write bundle")
}
