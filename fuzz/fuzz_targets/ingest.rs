//! CSV and Parquet ingest: the fuzz input becomes a file (`input.csv` or `input.parquet`,
//! chosen by the first byte) that `qualify_data::read_table` reads, as `qualify train` and
//! `qualify score` do: with default options and with the bundled schema's text columns. A
//! table that reads is scored by the bundled model (the `qualify score` path) and, when it
//! has a `converted` column, has a schema inferred (the `qualify train` path).
//!
//! Checks: no panic; a table that reads has at least one row and columns of its row count;
//! every score is a probability. A panic inside polars' readers (on the calling thread or on
//! polars' worker threads) is the exception: qualify-data catches it (`polars_read`) and
//! returns an error, so the target lets it unwind (`unwind_panics_caught_by`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use qualify_data::infer::{InferOptions, infer_schema};
use qualify_data::{ReadOptions, read_table};
use qualify_fuzz::{as_of, check_propensity, model, scratch, unwind_panics_caught_by};

fuzz_target!(init: unwind_panics_caught_by("polars_read", Some("polars-")), |data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let name = if selector % 2 == 0 {
        "input.csv"
    } else {
        "input.parquet"
    };
    let path = scratch().join(name);
    std::fs::write(&path, bytes).expect("the scratch file is writable");

    let model = model();
    let schema_options = ReadOptions::for_schema(&model.manifest().schema, None);
    for options in [ReadOptions::default(), schema_options] {
        let Ok(table) = read_table(&path, &options) else {
            continue;
        };
        assert!(table.rows() > 0, "a table that reads has rows");
        for column in table.names() {
            let column = table.column(column).expect("a named column exists");
            assert_eq!(column.len(), table.rows(), "every column has every row");
        }
        if let Ok(scores) = model.score_table(&table, Some(as_of())) {
            assert_eq!(scores.len(), table.rows());
            for p in scores {
                check_propensity(p, "score_table");
            }
        }
        if table.column("converted").is_some() {
            let options = InferOptions {
                label: Some("converted".into()),
                ..InferOptions::default()
            };
            let _ = infer_schema(&table, &options);
        }
    }
});
