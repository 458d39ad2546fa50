//! The training/serving skew test: the batch path (a CSV file read by polars, encoded column by
//! column) and the single-row path (JSON records, as a service sends them) give the same
//! encoded rows, for random data full of the things real exports contain: missing tokens,
//! quoted commas, numbers in category columns, yes/no booleans, multi-valued cells.

use proptest::prelude::*;
use qualify_core::encoder::Encoder;
use qualify_core::schema::Schema;
use qualify_data::{ReadOptions, read_table};
use serde_json::{Map, Value, json};

const SCHEMA: &str = r#"
    min_level_count = 2
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
    name = "tier"
    role = "feature"
    type = "categorical"
    [[column]]
    name = "do_not_email"
    role = "feature"
    type = "boolean"
    [[column]]
    name = "tech_stack"
    role = "technographic"
    type = "set"
    [[column]]
    name = "last_activity_at"
    role = "behavioural"
    type = "timestamp"
"#;

#[derive(Debug, Clone)]
struct Row {
    employees: Option<f64>,
    industry: Option<String>,
    tier: Option<u8>,
    do_not_email: Option<bool>,
    bool_spelling: usize,
    tech_stack: Vec<String>,
    days_ago: Option<u16>,
}

fn row() -> impl Strategy<Value = Row> {
    (
        prop_oneof![
            Just(None),
            (0u32..5000).prop_map(|v| Some(f64::from(v))),
            (-1e4f64..1e4).prop_map(Some)
        ],
        prop_oneof![
            Just(None),
            Just(Some("Select".to_string())),
            Just(Some("  saas ".to_string())),
            Just(Some("Retail, online".to_string())),
            Just(Some("say \"hi\"".to_string())),
            "[a-d]{1}".prop_map(Some),
        ],
        prop::option::of(1u8..4),
        prop::option::of(any::<bool>()),
        0usize..3,
        prop::collection::vec(
            prop_oneof![Just("salesforce"), Just("hubspot"), Just("marketo")],
            0..3,
        )
        .prop_map(|v| v.into_iter().map(String::from).collect()),
        prop::option::of(0u16..900),
    )
        .prop_map(
            |(employees, industry, tier, do_not_email, bool_spelling, tech_stack, days_ago)| Row {
                employees,
                industry,
                tier,
                do_not_email,
                bool_spelling,
                tech_stack,
                days_ago,
            },
        )
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) || text.starts_with(' ') || text.ends_with(' ') {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn bool_text(value: bool, spelling: usize) -> &'static str {
    match (spelling, value) {
        (0, true) => "Yes",
        (0, false) => "No",
        (1, true) => "TRUE",
        (1, false) => "false",
        (_, true) => "1",
        (_, false) => "0",
    }
}

fn time_text(days_ago: u16) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-06-30T00:00:00Z")
        .expect("time")
        .to_utc();
    (base - chrono::TimeDelta::days(i64::from(days_ago))).to_rfc3339()
}

fn to_csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "converted,employees,industry,tier,do_not_email,tech_stack,last_activity_at\r\n",
    );
    for (i, r) in rows.iter().enumerate() {
        let fields = [
            (i % 2).to_string(),
            r.employees.map(|v| v.to_string()).unwrap_or_default(),
            r.industry.as_deref().map(csv_field).unwrap_or_default(),
            r.tier.map(|t| t.to_string()).unwrap_or_default(),
            r.do_not_email
                .map(|b| bool_text(b, r.bool_spelling).to_string())
                .unwrap_or_default(),
            r.tech_stack.join(";"),
            r.days_ago.map(time_text).unwrap_or_default(),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The record a service would send: real JSON types (numbers, booleans, arrays), not text.
fn to_json(r: &Row) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "employees".into(),
        r.employees.map_or(Value::Null, |v| json!(v)),
    );
    m.insert(
        "industry".into(),
        r.industry.clone().map_or(Value::Null, Value::String),
    );
    m.insert(
        "tier".into(),
        r.tier.map_or(Value::Null, |t| json!(t.to_string())),
    );
    m.insert(
        "do_not_email".into(),
        r.do_not_email.map_or(Value::Null, Value::Bool),
    );
    m.insert("tech_stack".into(), json!(r.tech_stack));
    if let Some(days) = r.days_ago {
        m.insert("last_activity_at".into(), json!(time_text(days)));
    }
    m.insert("unknown_field".into(), json!({"ignored": true}));
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn polars_batch_path_equals_json_row_path(rows in prop::collection::vec(row(), 2..60)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("leads.csv");
        std::fs::write(&path, to_csv(&rows)).expect("write");
        let table = read_table(&path, &ReadOptions::default()).expect("polars reads it");
        let schema = Schema::from_toml(SCHEMA, "test").expect("schema");
        let all: Vec<usize> = (0..rows.len()).collect();
        // Fit on half the rows so the other half exercises unseen levels.
        let encoder = Encoder::fit(&schema, &table, &all[..rows.len() / 2 + 1], None).expect("fit");
        let as_of = encoder.reference_time();
        let batch = encoder.encode_table(&table, &all, as_of).expect("batch");
        let width = encoder.n_features();
        for (i, r) in rows.iter().enumerate() {
            let mut single = vec![0.0f32; width];
            encoder.encode_json(&to_json(r), as_of, &mut single).expect("json");
            prop_assert_eq!(&batch[i * width..(i + 1) * width], &single[..], "row {}: {:?}", i, r);
        }
    }
}
