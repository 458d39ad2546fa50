use proptest::prelude::*;

use super::*;
use crate::value::RawColumn;

const SCHEMA: &str = r#"
    min_level_count = 2
    missing_tokens = ["", "Select"]
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
    name = "budget"
    role = "qualification"
    type = "boolean"
    [[column]]
    name = "stack"
    role = "technographic"
    type = "set"
    [[column]]
    name = "seen_at"
    role = "behavioural"
    type = "timestamp"
"#;

fn schema() -> Schema {
    Schema::from_toml(SCHEMA, "test").expect("valid schema")
}

type Row<'a> = (
    Option<f64>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

fn table(rows: &[Row<'_>]) -> RawTable {
    let mut t = RawTable::new();
    let text = |cells: Vec<Option<&str>>| {
        RawColumn::Text(cells.into_iter().map(|c| c.map(str::to_string)).collect())
    };
    t.push(
        "employees",
        RawColumn::Number(rows.iter().map(|r| r.0).collect()),
    )
    .expect("col");
    t.push("industry", text(rows.iter().map(|r| r.1).collect()))
        .expect("col");
    t.push("budget", text(rows.iter().map(|r| r.2).collect()))
        .expect("col");
    t.push("stack", text(rows.iter().map(|r| r.3).collect()))
        .expect("col");
    t.push("seen_at", text(rows.iter().map(|r| r.4).collect()))
        .expect("col");
    t
}

fn sample() -> RawTable {
    table(&[
        (
            Some(10.0),
            Some("saas"),
            Some("yes"),
            Some("sf;hub"),
            Some("2026-01-01"),
        ),
        (
            None,
            Some("saas"),
            Some("No"),
            Some("sf"),
            Some("2026-01-11"),
        ),
        (Some(30.0), Some("retail"), None, Some("Select"), None),
        (
            Some(50.0),
            Some("retail"),
            Some("TRUE"),
            Some("hub;rare"),
            Some("2026-01-21T00:00:00Z"),
        ),
        (
            Some(70.0),
            Some("Select"),
            Some("0"),
            None,
            Some("2026-01-31"),
        ),
    ])
}

#[test]
fn fits_the_documented_layout() {
    let t = sample();
    let enc = Encoder::fit(&schema(), &t, &[0, 1, 2, 3, 4], None).expect("fit");
    assert_eq!(
        enc.feature_names(),
        [
            "employees",
            "employees__missing__",
            "industry=retail",
            "industry=saas",
            "industry=__other__",
            "industry=__missing__",
            "budget",
            "budget__missing__",
            "stack=hub",
            "stack=sf",
            "stack=__other__",
            "stack=__missing__",
            "seen_at",
            "seen_at__missing__",
        ]
    );
    let reference = enc.reference_time();
    assert_eq!(reference.to_rfc3339(), "2026-01-31T00:00:00+00:00");
    let x = enc.encode_table(&t, &[1, 3], reference).expect("encode");
    let row = |i: usize| &x[i * enc.n_features()..(i + 1) * enc.n_features()];
    // Row 2 (index 1): employees missing -> median 40 imputed, indicator set.
    assert_eq!(row(0)[1], 1.0);
    let ColumnState::Numeric(s) = enc.columns[0].state else {
        panic!("numeric")
    };
    assert!((f64::from(row(0)[0]) - (40.0 - s.mean) / s.std).abs() < 1e-6);
    assert_eq!(&row(0)[2..6], &[0.0, 1.0, 0.0, 0.0]);
    assert_eq!(&row(0)[6..8], &[0.0, 0.0]);
    // Row 4 (index 3): "rare" pooled into __other__.
    assert_eq!(&row(1)[8..12], &[1.0, 0.0, 1.0, 0.0]);
    assert_eq!(&row(1)[6..8], &[1.0, 0.0]);
}

#[test]
fn bad_cells_are_reported_with_column_and_rows() {
    let t = table(&[
        (Some(1.0), Some("a"), Some("maybe"), None, None),
        (Some(2.0), Some("a"), Some("perhaps"), None, None),
    ]);
    let err = Encoder::fit(&schema(), &t, &[0, 1], None)
        .expect_err("bad booleans")
        .to_string();
    assert!(
        err.contains("\"budget\"")
            && err.contains("2 bad")
            && err.contains("row 1")
            && err.contains("\"maybe\""),
        "{err}"
    );
    let mut missing = RawTable::new();
    missing
        .push("employees", RawColumn::Number(vec![Some(1.0)]))
        .expect("col");
    let err = Encoder::fit(&schema(), &missing, &[0], None)
        .expect_err("missing column")
        .to_string();
    assert!(err.contains("industry"), "{err}");
}

#[test]
fn json_errors_name_the_field() {
    let enc = Encoder::fit(&schema(), &sample(), &[0, 1, 2, 3, 4], None).expect("fit");
    let record: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"employees": "many"}"#).expect("json");
    let mut out = vec![0.0; enc.n_features()];
    let err = enc
        .encode_json(&record, enc.reference_time(), &mut out)
        .expect_err("type");
    assert!(
        matches!(err, EncodeError::Field { ref field, .. } if field == "employees"),
        "{err}"
    );
}

fn cell_text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some(String::new())),
        Just(Some("Select".to_string())),
        "[a-c]{1,2}".prop_map(Some),
    ]
}

proptest! {
    /// The table path and the JSON path agree on every row, including unseen levels.
    #[test]
    fn table_and_json_paths_agree(
        rows in prop::collection::vec(
            (prop::option::of(-1e6f64..1e6), cell_text(), prop::option::of(prop::bool::ANY),
             prop::collection::vec("[a-c]{1,2}", 0..3), prop::option::of(0i64..400)),
            1..40),
    ) {
        let mut t = RawTable::new();
        t.push("employees", RawColumn::Number(rows.iter().map(|r| r.0).collect())).expect("col");
        t.push("industry", RawColumn::Text(rows.iter().map(|r| r.1.clone()).collect())).expect("col");
        t.push("budget", RawColumn::Bool(rows.iter().map(|r| r.2).collect())).expect("col");
        t.push("stack", RawColumn::Text(rows.iter().map(|r| Some(r.3.join(";"))).collect())).expect("col");
        let day0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").expect("time").to_utc();
        t.push("seen_at", RawColumn::Text(rows.iter().map(|r| r.4.map(|d| (day0 + chrono::TimeDelta::hours(d)).to_rfc3339())).collect())).expect("col");
        let fit_rows: Vec<usize> = (0..rows.len() / 2 + 1).collect();
        let all: Vec<usize> = (0..rows.len()).collect();
        let enc = Encoder::fit(&schema(), &t, &fit_rows, None).expect("fit");
        let as_of = enc.reference_time();
        let x = enc.encode_table(&t, &all, as_of).expect("table");
        let width = enc.n_features();
        for r in all {
            let mut out = vec![0.0f32; width];
            enc.encode_json(&t.row_json(r), as_of, &mut out).expect("json");
            prop_assert_eq!(&x[r * width..(r + 1) * width], &out[..]);
        }
    }
}

#[test]
fn raw_encoder_passes_numbers_and_booleans_through() {
    let schema = Schema::from_toml(
        r#"
        [[column]]
        name = "y"
        role = "label"
        [[column]]
        name = "n"
        role = "feature"
        type = "numeric"
        [[column]]
        name = "b"
        role = "feature"
        type = "boolean"
        "#,
        "test",
    )
    .expect("schema");
    let mut table = RawTable::new();
    table
        .push(
            "n",
            RawColumn::Number(vec![Some(1.5), None, Some(7.0), Some(3.0)]),
        )
        .expect("n");
    table
        .push(
            "b",
            RawColumn::Text(vec![
                Some("yes".into()),
                Some("no".into()),
                None,
                Some("true".into()),
            ]),
        )
        .expect("b");
    let enc = Encoder::raw(&schema, &table, &[0, 1, 2, 3]).expect("raw");
    assert_eq!(enc.feature_names(), ["n", "b"]);
    let x = enc
        .encode_table(&table, &[0, 1, 2], enc.reference_time())
        .expect("encode");
    // n: as is, missing -> median of 1.5, 7, 3 = 3; b: 1/0, missing -> median of 1, 0, 1 = 1.
    assert_eq!(x, [1.5, 1.0, 3.0, 0.0, 7.0, 1.0]);
    let mut out = [0.0; 2];
    let record: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"n": 2.25, "b": false}"#).expect("json");
    let warnings = enc
        .encode_json(&record, enc.reference_time(), &mut out)
        .expect("json");
    assert_eq!((out, warnings.len()), ([2.25, 0.0], 0));
    let huge: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"n": 1e300}"#).expect("json");
    // Far outside the range 1.5..7 (band -4..12.5): clamped to 12.5 and reported.
    let warnings = enc
        .encode_json(&huge, enc.reference_time(), &mut out)
        .expect("clamped");
    assert_eq!(out[0], 12.5);
    assert!(
        matches!(&warnings[0], Warning::OutOfRange { column, .. } if column == "n"),
        "{warnings:?}"
    );
    // A bundle written before ranges were recorded: an overflow is still an error.
    let mut old = enc.clone();
    if let ColumnState::Raw { range, .. } = &mut old.columns[0].state {
        *range = None;
    }
    let err = old
        .encode_json(&huge, enc.reference_time(), &mut out)
        .expect_err("overflows f32");
    assert!(err.to_string().contains("\"n\""), "{err}");

    let categorical = Schema::from_toml(
        "[[column]]\nname = \"y\"\nrole = \"label\"\n[[column]]\nname = \"c\"\nrole = \"feature\"\ntype = \"categorical\"\n",
        "test",
    )
    .expect("schema");
    let err = Encoder::raw(&categorical, &table, &[0]).expect_err("categorical");
    assert!(err.to_string().contains("\"c\" is categorical"), "{err}");
}

/// Issue 11, item 6: a numeric cell of 1e308 overflowed the column's statistics, and the
/// failure surfaced as a manifest parse error; it must name the column and the row.
#[test]
fn a_value_that_overflows_the_statistics_names_column_and_row() {
    let mut t = sample();
    t = {
        let mut fixed = RawTable::new();
        for (name, col) in t.columns() {
            let col = if name == "employees" {
                RawColumn::Number(vec![Some(10.0), None, Some(1e308), Some(50.0), Some(70.0)])
            } else {
                col.clone()
            };
            fixed.push(name, col).expect("col");
        }
        fixed
    };
    let err = Encoder::fit(&schema(), &t, &[0, 1, 2, 3, 4], None).expect_err("overflow");
    assert!(
        matches!(
            err,
            EncodeError::Overflow { ref column, row: 3, value } if column == "employees" && value == 1e308
        ),
        "{err}"
    );
    assert!(err.to_string().contains("row 3"), "{err}");
    // A fitted encoder holds finite statistics only: its JSON (the manifest) has no null.
    let enc = Encoder::fit(&schema(), &sample(), &[0, 1, 2, 3, 4], None).expect("fit");
    let json = serde_json::to_string(&enc).expect("serialises");
    assert!(!json.contains("null"), "{json}");
}

/// Issue 11, R5: absurd numbers and times get a bounded encoding and an `out_of_range`
/// warning naming the field, the value and the training range.
#[test]
fn absurd_values_are_clamped_and_reported() {
    let enc = Encoder::fit(&schema(), &sample(), &[0, 1, 2, 3, 4], None).expect("fit");
    let as_of = enc.reference_time();
    let encode = |json: &str| {
        let record: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).expect("json");
        let mut out = vec![0.0f32; enc.n_features()];
        let warnings = enc.encode_json(&record, as_of, &mut out).expect("encodes");
        (out, warnings)
    };
    // Training range of employees: 10..70 (width 60), so the band is -50..130.
    let (edge, none) = encode(r#"{"employees": 130, "seen_at": "2026-01-01"}"#);
    assert!(
        none.iter()
            .all(|w| !matches!(w, Warning::OutOfRange { .. })),
        "{none:?}"
    );
    let (far, warnings) = encode(r#"{"employees": 1e18, "seen_at": "0000-01-01"}"#);
    assert_eq!(far[0], edge[0], "1e18 is encoded as the band's edge");
    assert!(
        warnings.contains(&Warning::OutOfRange {
            column: "employees".into(),
            value: 1e18,
            min: 10.0,
            max: 70.0,
        }),
        "{warnings:?}"
    );
    // seen_at trained 0..30 days before the reference time: year 0 is far outside.
    assert!(
        warnings.iter().any(
            |w| matches!(w, Warning::OutOfRange { column, value, min, max }
                if column == "seen_at" && *value > 700_000.0 && *min == 0.0 && *max == 30.0)
        ),
        "{warnings:?}"
    );
    let json = serde_json::to_value(&warnings[0]).expect("serialises");
    assert_eq!(json["kind"], "out_of_range");
    // The table path clamps the same way.
    let mut t = RawTable::new();
    t.push("employees", RawColumn::Number(vec![Some(1e18)]))
        .expect("col");
    for name in ["industry", "budget", "stack"] {
        t.push(name, RawColumn::Text(vec![None])).expect("col");
    }
    t.push("seen_at", RawColumn::Text(vec![Some("0000-01-01".into())]))
        .expect("col");
    let x = enc.encode_table(&t, &[0], as_of).expect("table");
    assert_eq!(x, far);
}

/// Bundles written before training ranges were recorded still load and encode as before.
#[test]
fn scalings_without_a_range_still_load() {
    let old: Scaling =
        serde_json::from_str(r#"{"median": 1.0, "mean": 2.0, "std": 3.0}"#).expect("old form");
    assert_eq!(old.range, None);
}

/// A reader that keeps only [`Encoder::table_columns`] of a wide table encodes it exactly as
/// the whole table: the list holds every feature and the source a derived one reads.
#[test]
fn the_table_columns_are_all_encoding_reads() {
    let schema = Schema::from_toml(
        r#"
        [[column]]
        name = "converted"
        role = "label"
        [[column]]
        name = "employees"
        role = "firmographic"
        type = "numeric"
        [[column]]
        name = "email_domain_type"
        role = "feature"
        type = "categorical"
        [[column]]
        name = "notes"
        role = "ignore"
        type = "categorical"
        "#,
        "test",
    )
    .expect("schema");
    let mut wide = RawTable::new();
    let text = |cells: &[Option<&str>]| {
        RawColumn::Text(cells.iter().map(|c| c.map(str::to_string)).collect())
    };
    wide.push("notes", text(&[Some("x"), None, Some("y"), Some("z")]))
        .expect("col");
    wide.push(
        "employees",
        RawColumn::Number(vec![Some(10.0), None, Some(30.0), Some(12.0)]),
    )
    .expect("col");
    wide.push(
        "email_domain_type",
        text(&[Some("business"), None, Some("personal"), None]),
    )
    .expect("col");
    wide.push(
        "email",
        text(&[None, Some("ann@gmail.com"), Some("bo@acme.example"), None]),
    )
    .expect("col");
    let rows: Vec<usize> = (0..wide.rows()).collect();
    let encoder = Encoder::fit(&schema, &wide, &rows, None).expect("fit");
    assert_eq!(
        encoder.table_columns(),
        ["employees", "email_domain_type", "email"]
    );
    let mut narrow = RawTable::new();
    for name in encoder.table_columns() {
        let column = wide.column(name).expect("column").clone();
        narrow.push(name, column).expect("col");
    }
    let now = encoder.reference_time();
    assert_eq!(
        encoder.encode_table(&narrow, &rows, now).expect("narrow"),
        encoder.encode_table(&wide, &rows, now).expect("wide")
    );
}

/// Batch encoding remembers the texts of categorical and set columns (`table.rs`); whether a
/// column's texts never repeat (its memo retires), repeat (hits) or outgrow the memo, the
/// table's rows must equal the same rows encoded one record at a time.
#[test]
fn remembered_texts_encode_as_records_do() {
    let rows = 12_000;
    // The first 6,000 all new (the memo retires), then a few levels, spelled several ways.
    let industry = |i: usize| match (i < 6_000, i % 6) {
        (true, _) => Some(format!("rare-{i}")),
        (false, 0) => None,
        (false, 1) => Some(" Select ".to_string()),
        (false, 2) => Some("saas".to_string()),
        (false, 3) => Some(" SaaS".to_string()),
        (false, 4) => Some("fintech".to_string()),
        (false, _) => Some("retail".to_string()),
    };
    // Half the sets repeat, half are new: the memo fills up and keeps hitting.
    let stack = |i: usize| match i % 4 {
        0 => Some("crm; erp".to_string()),
        2 => Some(";;Select".to_string()),
        _ => Some(format!("crm;tool-{i}")),
    };
    let mut t = RawTable::new();
    t.push(
        "employees",
        RawColumn::Number((0..rows).map(|i| Some(i as f64)).collect()),
    )
    .expect("col");
    t.push(
        "industry",
        RawColumn::Text((0..rows).map(industry).collect()),
    )
    .expect("col");
    t.push(
        "budget",
        RawColumn::Text((0..rows).map(|i| Some((i % 2).to_string())).collect()),
    )
    .expect("col");
    t.push("stack", RawColumn::Text((0..rows).map(stack).collect()))
        .expect("col");
    t.push(
        "seen_at",
        RawColumn::Text(vec![Some("2026-01-01T00:00:00Z".to_string()); rows]),
    )
    .expect("col");
    let fit_rows: Vec<usize> = (6_000..6_100).collect();
    let enc = Encoder::fit(&schema(), &t, &fit_rows, None).expect("fit");
    let as_of = enc.reference_time();
    let width = enc.n_features();
    let all: Vec<usize> = (0..rows).collect();
    let mut chunked = Vec::new();
    let mut bound = enc.table_encoder(&t, as_of).expect("bind");
    for chunk in all.chunks(1_000) {
        chunked.extend(bound.encode(chunk).expect("chunk"));
    }
    assert_eq!(chunked, enc.encode_table(&t, &all, as_of).expect("table"));
    for r in (0..rows).step_by(7).chain(rows - 20..rows) {
        let mut out = vec![0.0f32; width];
        enc.encode_json(&t.row_json(r), as_of, &mut out)
            .expect("json");
        assert_eq!(&chunked[r * width..(r + 1) * width], &out[..], "row {r}");
    }
}

/// A numeric column is encoded a block at a time (`table.rs`); a bad number in it is still
/// the error a cell at a time gives, naming the column and the table's row, and the rows
/// before it encode as records do.
#[test]
fn a_block_of_numbers_fails_at_its_first_bad_value() {
    let enc = Encoder::fit(&schema(), &sample(), &[0, 1, 2, 3, 4], None).expect("fit");
    let as_of = enc.reference_time();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut t = RawTable::new();
        for (name, col) in sample().columns() {
            let col = if name == "employees" {
                RawColumn::Number(vec![Some(10.0), None, Some(3.0), Some(bad), Some(f64::NAN)])
            } else {
                col.clone()
            };
            t.push(name, col).expect("col");
        }
        let err = enc
            .encode_table(&t, &[0, 1, 2, 3, 4], as_of)
            .expect_err("not finite");
        assert!(
            matches!(
                &err,
                EncodeError::Cell { column, row: 4, source: ValueError::NotFinite(_) }
                    if column == "employees"
            ),
            "{err}"
        );
        let good = enc
            .encode_table(&t, &[2, 1, 0], as_of)
            .expect("finite rows");
        let width = enc.n_features();
        for (i, r) in [2, 1, 0].into_iter().enumerate() {
            let mut out = vec![0.0f32; width];
            enc.encode_json(&t.row_json(r), as_of, &mut out)
                .expect("json");
            assert_eq!(&good[i * width..(i + 1) * width], &out[..], "row {r}");
        }
    }
}
