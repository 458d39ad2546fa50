//! Inputs the `ingest` fuzz target (docs/fuzzing.md) found crashing the reader, each kept as a
//! named test so that `cargo test` holds the fix. The inputs live in `tests/fuzz/`.

use std::path::{Path, PathBuf};

use qualify_data::error::DataError;
use qualify_data::io::Format;
use qualify_data::{ReadOptions, read_table};

fn input(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz")
        .join(name)
}

/// `path` must be refused as unreadable Parquet, by the reader's caught panic, with the file
/// named, with and without text columns.
fn assert_reader_panic(path: &Path) {
    for options in [
        ReadOptions::default(),
        ReadOptions {
            text_columns: vec!["id".into()],
            ..ReadOptions::default()
        },
    ] {
        match read_table(path, &options) {
            Err(DataError::ReaderPanic {
                path: named,
                format,
                message,
            }) => {
                assert_eq!(named, path, "the error names the file");
                assert_eq!(format, Format::Parquet);
                assert!(!message.is_empty(), "the reader's message is kept");
            }
            other => panic!(
                "expected a ReaderPanic error for {}, got {other:?}",
                path.display()
            ),
        }
    }
}

/// A Parquet file with a corrupt footer on which polars' thrift decoder panics ("thrift bool
/// field", reading a column chunk's statistics). The reader must report the file as unreadable
/// Parquet, naming it, instead of crashing.
#[test]
fn parquet_footer_with_a_malformed_thrift_bool_is_an_error() {
    assert_reader_panic(&input("parquet-footer-thrift-bool.parquet"));
}

/// A Parquet file with a corrupt boolean column chunk: in the fuzz build polars' page decoder
/// subtracted past zero ("attempt to subtract with overflow") on one of its worker threads and
/// the pool handed the panic to the reading thread. Which of the file's corrupt columns polars
/// decodes first depends on its threads: here it may instead report the thrift protocol error
/// of another column. Either way the file must be refused as unreadable Parquet, by name.
#[test]
fn parquet_boolean_page_longer_than_its_data_is_an_error() {
    let path = input("parquet-boolean-page-overflow.parquet");
    for options in [
        ReadOptions::default(),
        ReadOptions {
            text_columns: vec!["id".into()],
            ..ReadOptions::default()
        },
    ] {
        match read_table(&path, &options) {
            Err(
                DataError::ReaderPanic {
                    path: named,
                    format,
                    ..
                }
                | DataError::Read {
                    path: named,
                    format,
                    ..
                },
            ) => {
                assert_eq!(named, path, "the error names the file");
                assert_eq!(format, Format::Parquet);
            }
            other => panic!("expected the file refused as Parquet, got {other:?}"),
        }
    }
}
