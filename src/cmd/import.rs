//! `qualify import`: wrap a binary ONNX classifier trained elsewhere (scikit-learn through
//! skl2onnx, LightGBM through onnxmltools) into a model bundle (docs/import.md).
//!
//! Flags, reading the files and printing; the conversion, golden rows, manifest and the
//! verified write are `qualify_train::import`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use qualify_core::schema::Schema;
use qualify_runtime::NativeKind;
use qualify_train::import::{ImportError, ImportInput, import};
use qualify_train::pipeline::DataSource;
use qualify_train::progress::Silent;

use super::common::{InputArgs, read_table};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The ONNX classifier (binary; one float input `[N, F]`).
    #[arg(long)]
    pub onnx: PathBuf,
    /// Feature schema: the model's F inputs are its feature columns, in order (numeric or
    /// boolean).
    #[arg(long)]
    pub schema: PathBuf,
    /// Leads with the schema's feature columns: golden rows, fill values for missing cells,
    /// and the node covers of a tree ensemble.
    #[arg(long)]
    pub data: PathBuf,
    /// Model directory; the bundle is written as a new version inside it.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: ImportArgs) -> Result<()> {
    let schema = Schema::read(&args.schema)?;
    let table = read_table(&args.data, &args.input, Some(&schema))?;
    let bytes = std::fs::read(&args.onnx).with_context(|| args.onnx.display().to_string())?;
    let source = DataSource::file(&args.data)?;
    let onnx_name = args
        .onnx
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let imported = import(
        &ImportInput {
            onnx: &bytes,
            onnx_name: &onnx_name,
            schema: &schema,
            table: &table,
            source: &source,
            name: None,
        },
        &args.out,
        &Silent,
    )
    .map_err(|e| {
        let file = match &e {
            ImportError::Schema(_) => &args.schema,
            ImportError::NoRows | ImportError::Data(_) => &args.data,
            ImportError::Convert(_) | ImportError::Graph { .. } => &args.onnx,
            ImportError::Hyperparameters { .. } | ImportError::Write(_) => &args.out,
        };
        anyhow::Error::new(e).context(file.display().to_string())
    })?;
    // Loaded again for the summary (the writer verified it before publishing).
    let model = qualify_runtime::Model::load(&imported.dir)?;
    eprintln!(
        "imported {} ({}, scored by {}, {}) -> {}",
        args.onnx.display(),
        imported.classifier,
        match model.graph().native_kind() {
            NativeKind::Trees => "the native evaluator",
            NativeKind::Linear | NativeKind::Graph => "tract",
        },
        if model.can_explain() {
            "explainable"
        } else {
            "not explainable"
        },
        imported.dir.display()
    );
    if let Some(why) = model.graph().not_native_reason() {
        eprintln!("note: tract scores this tree ensemble alone: {why}");
    }
    Ok(())
}
