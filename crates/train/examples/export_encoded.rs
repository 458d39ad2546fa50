//! Writes the encoded training part of a data set as CSV (one column per encoded feature,
//! the label last, `1`/`0`): the rows `qualify train` fits on with its default split (by the
//! schema's time column when it names one, else stratified with seed 42; test fraction 0.2)
//! and the encoder fitted on them. The Python LightGBM
//! peer of `scripts/bench_gbm_pipeline.sh` trains on this file, so both sides see the same
//! numbers.
//!
//! `cargo run --release -p qualify-train --example export_encoded -- DATA SCHEMA.toml OUT.csv`

use std::io::{BufWriter, Write};
use std::path::Path;

use qualify_core::encoder::{Encoder, parse::time_from_text};
use qualify_core::schema::Schema;
use qualify_core::value::Cell;
use qualify_data::ReadOptions;
use qualify_data::label::read_labels;
use qualify_train::split::{stratified_split, time_split};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, schema, out] = args.as_slice() else {
        return Err("usage: export_encoded DATA SCHEMA.toml OUT.csv".into());
    };
    let schema = Schema::read(Path::new(schema))?;
    let table = qualify_data::read_table(Path::new(data), &ReadOptions::for_schema(&schema, None))?;
    let label = schema.label().ok_or("the schema has no label column")?;
    let labels = read_labels(&table, label)?;
    let split = match schema.time() {
        Some(column) => {
            let data = table
                .column(column)
                .ok_or("the time column is not in the data")?;
            let times = (0..table.rows())
                .map(|r| match data.cell(r) {
                    Cell::Text(t) => time_from_text(t).map(|t| t.timestamp_millis()),
                    Cell::Number(v) if v.is_finite() => Some(v as i64),
                    _ => None,
                })
                .collect::<Option<Vec<i64>>>()
                .ok_or("a row has no time")?;
            time_split(&times, 0.2)
        }
        None => stratified_split(&labels, 0.2, 42),
    };
    let encoder = Encoder::fit(&schema, &table, &split.train, None)?;
    let x = encoder.encode_table(&table, &split.train, encoder.reference_time())?;
    let cols = encoder.n_features();
    let mut w = BufWriter::new(std::fs::File::create(out)?);
    let header: Vec<String> = (0..cols).map(|j| format!("f{j}")).collect();
    writeln!(w, "{},label", header.join(","))?;
    for (row, &i) in x.chunks(cols).zip(&split.train) {
        for v in row {
            write!(w, "{v},")?;
        }
        writeln!(w, "{}", u8::from(labels[i]))?;
    }
    w.flush()?;
    eprintln!(
        "wrote {} rows x {cols} features to {out}",
        split.train.len()
    );
    Ok(())
}
