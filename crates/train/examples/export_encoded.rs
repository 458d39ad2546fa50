//! Writes the encoded training part of a data set as CSV (one column per encoded feature,
//! the label last, `1`/`0`): the rows `qualify train` fits on with its default stratified
//! split (test fraction 0.2, seed 42) and the encoder fitted on them. The Python LightGBM
//! peer of `scripts/bench_gbm_pipeline.sh` trains on this file, so both sides see the same
//! numbers.
//!
//! `cargo run --release -p qualify-train --example export_encoded -- DATA SCHEMA.toml OUT.csv`

use std::io::{BufWriter, Write};
use std::path::Path;

use qualify_core::encoder::Encoder;
use qualify_core::schema::Schema;
use qualify_data::ReadOptions;
use qualify_data::label::read_labels;
use qualify_train::split::stratified_split;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, schema, out] = args.as_slice() else {
        return Err("usage: export_encoded DATA SCHEMA.toml OUT.csv".into());
    };
    let schema = Schema::read(Path::new(schema))?;
    let table = qualify_data::read_table(Path::new(data), &ReadOptions::for_schema(&schema, None))?;
    let label = schema.label().ok_or("the schema has no label column")?;
    let labels = read_labels(&table, label)?;
    let split = stratified_split(&labels, 0.2, 42);
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
