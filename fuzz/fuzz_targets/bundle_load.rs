//! Bundle loading (qualify-runtime's `Model::load`: manifest, golden rows, ONNX graph, the
//! golden check). Each input replaces one file of the bundled model (`models/default`), chosen
//! by the first byte, and the bundle is written to a scratch directory and loaded:
//!
//! - 0: `manifest.json`. When the input is a JSON object, its ONNX hash and schema hash are
//!   set to the right values first, so the fuzzer gets past the hash checks into the encoder,
//!   the calibrator and the model sections;
//! - 1: `golden.json`;
//! - 2: `model.onnx`, with the manifest's ONNX hash updated to match, so the bytes reach the
//!   graph reader and tract.
//!
//! Checks: no panic; a bundle that loads scores an empty lead to a probability. A panic
//! inside tract while the graph loads is the exception: `OnnxModel::from_bytes` catches it and
//! returns an error, so the target lets it unwind (`unwind_panics_caught_by`).

#![no_main]

use std::fs;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use qualify_core::bundle::{GOLDEN_FILE, MANIFEST_FILE, ONNX_FILE, sha256_hex};
use qualify_core::lead::LeadRecord;
use qualify_core::schema::Schema;
use qualify_fuzz::{as_of, bundled_version, check_propensity, scratch, unwind_panics_caught_by};
use qualify_runtime::Model;
use serde_json::Value;

struct Original {
    manifest: Vec<u8>,
    golden: Vec<u8>,
    onnx: Vec<u8>,
}

fn original() -> &'static Original {
    static ORIGINAL: OnceLock<Original> = OnceLock::new();
    ORIGINAL.get_or_init(|| {
        let read = |name: &str| fs::read(bundled_version().join(name)).expect("bundled file");
        Original {
            manifest: read(MANIFEST_FILE),
            golden: read(GOLDEN_FILE),
            onnx: read(ONNX_FILE),
        }
    })
}

/// `manifest` with the hashes a loader checks set to match `onnx` and its own schema (when it
/// is a JSON object; other bytes are returned as they are).
fn with_hashes(manifest: &[u8], onnx: &[u8]) -> Vec<u8> {
    let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(manifest) else {
        return manifest.to_vec();
    };
    if let Some(Value::Object(model)) = m.get_mut("model") {
        model.insert("onnx_sha256".into(), Value::String(sha256_hex(onnx)));
    }
    if let Some(schema) = m.get("schema")
        && let Ok(schema) = serde_json::from_value::<Schema>(schema.clone())
    {
        m.insert("schema_hash".into(), Value::String(schema.hash()));
    }
    serde_json::to_vec(&Value::Object(m)).expect("a JSON object serialises")
}

fuzz_target!(init: unwind_panics_caught_by("OnnxModel::from_bytes", None), |data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let original = original();
    let (manifest, golden, onnx): (Vec<u8>, &[u8], &[u8]) = match selector % 3 {
        0 => (
            with_hashes(bytes, &original.onnx),
            &original.golden,
            &original.onnx,
        ),
        1 => (original.manifest.clone(), bytes, &original.onnx),
        _ => (
            with_hashes(&original.manifest, bytes),
            &original.golden,
            bytes,
        ),
    };
    let dir = scratch().join("bundle");
    fs::create_dir_all(&dir).expect("the scratch bundle directory");
    fs::write(dir.join(MANIFEST_FILE), &manifest).expect("write manifest");
    fs::write(dir.join(GOLDEN_FILE), golden).expect("write golden rows");
    fs::write(dir.join(ONNX_FILE), onnx).expect("write graph");

    let Ok(model) = Model::load(&dir) else {
        return;
    };
    if let Ok(scored) = model.score_flat(&LeadRecord::default().to_flat(), as_of()) {
        check_propensity(scored.propensity, "an empty lead");
    }
    if model.can_explain() {
        let _ = model.explain_flat(&LeadRecord::default().to_flat(), as_of(), 3);
    }
});
