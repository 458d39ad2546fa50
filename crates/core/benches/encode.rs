//! Encoder throughput: 100,000 rows of a typical lead table (numbers with gaps, categories,
//! booleans, a multi-valued set), by the batch path (a table) and the single-row path (JSON).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qualify_core::encoder::Encoder;
use qualify_core::schema::Schema;
use qualify_core::value::{RawColumn, RawTable};

const ROWS: usize = 100_000;

const SCHEMA: &str = r#"
[[column]]
name = "converted"
role = "label"
[[column]]
name = "employees"
role = "firmographic"
type = "numeric"
[[column]]
name = "annual_revenue"
role = "firmographic"
type = "numeric"
[[column]]
name = "pricing_page_visit_count"
role = "behavioural"
type = "numeric"
[[column]]
name = "industry"
role = "firmographic"
type = "categorical"
[[column]]
name = "country"
role = "firmographic"
type = "categorical"
[[column]]
name = "budget_confirmed"
role = "qualification"
type = "boolean"
[[column]]
name = "tech_stack"
role = "technographic"
type = "set"
"#;

fn table() -> RawTable {
    let pick = |i: usize, options: &[&str]| Some(options[(i * 7919) % options.len()].to_string());
    let mut t = RawTable::new();
    let push = |t: &mut RawTable, name: &str, col: RawColumn| t.push(name, col).expect("column");
    push(
        &mut t,
        "employees",
        RawColumn::Number(
            (0..ROWS)
                .map(|i| (i % 9 != 0).then_some((i % 5000) as f64))
                .collect(),
        ),
    );
    push(
        &mut t,
        "annual_revenue",
        RawColumn::Number(
            (0..ROWS)
                .map(|i| (i % 3 != 0).then_some(i as f64 * 13.0))
                .collect(),
        ),
    );
    push(
        &mut t,
        "pricing_page_visit_count",
        RawColumn::Number((0..ROWS).map(|i| Some((i % 4) as f64)).collect()),
    );
    let industries = [
        "saas",
        "fintech",
        "healthcare",
        "retail",
        "manufacturing",
        "education",
        "Select",
    ];
    push(
        &mut t,
        "industry",
        RawColumn::Text((0..ROWS).map(|i| pick(i, &industries)).collect()),
    );
    let countries = ["GB", "DE", "FR", "US", "IE", "NL", "ES", "AU", "IN", ""];
    push(
        &mut t,
        "country",
        RawColumn::Text((0..ROWS).map(|i| pick(i, &countries)).collect()),
    );
    push(
        &mut t,
        "budget_confirmed",
        RawColumn::Text((0..ROWS).map(|i| pick(i, &["yes", "no", ""])).collect()),
    );
    let stacks = [
        "salesforce;marketo",
        "hubspot",
        "",
        "salesforce",
        "pipedrive;mailchimp",
    ];
    push(
        &mut t,
        "tech_stack",
        RawColumn::Text((0..ROWS).map(|i| pick(i, &stacks)).collect()),
    );
    t
}

fn encode(c: &mut Criterion) {
    let schema = Schema::from_toml(SCHEMA, "bench").expect("schema");
    let t = table();
    let rows: Vec<usize> = (0..ROWS).collect();
    let encoder = Encoder::fit(&schema, &t, &rows, None).expect("fit");
    let as_of = encoder.reference_time();
    let records: Vec<_> = (0..1000).map(|r| t.row_json(r)).collect();
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(20);
    group.bench_function("table_100k_rows", |b| {
        b.iter(|| encoder.encode_table(black_box(&t), &rows, as_of))
    });
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("json_1k_records", |b| {
        let mut out = vec![0.0f32; encoder.n_features()];
        b.iter(|| {
            for r in &records {
                encoder
                    .encode_json(black_box(r), as_of, &mut out)
                    .expect("encode");
            }
        })
    });
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
