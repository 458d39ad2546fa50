//! qualify-data: tables in and out, schema inference, synthetic CRM data.
//!
//! The only crate that links polars. It reads CSV (`,` `;` tab, quoted fields, CRLF) and
//! Parquet into qualify-core's [`RawTable`](qualify_core::value::RawTable), infers a first
//! schema for a person to edit, reads and checks the label, and writes tables back out.
//! Everything downstream (encoder, trainer, runtime) works on core types.
//!
//! ```no_run
//! use qualify_data::{read_table, ReadOptions};
//! let table = read_table("data/sample/leads.csv".as_ref(), &ReadOptions::default()).unwrap();
//! println!("{} rows", table.rows());
//! ```

pub mod error;
pub mod history;
pub mod infer;
pub mod io;
pub mod label;
pub mod synth;

pub use error::{DataError, Result};
pub use io::{Format, Frame, ReadOptions, read_table, write_table};

/// sha256 of a file's bytes (the training-data fingerprint), hex.
pub fn file_sha256(path: &std::path::Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(qualify_core::bundle::sha256_hex(&bytes))
}
