//! Records the versions of the libraries that train and export models (read from the
//! workspace's Cargo.lock), so every bundle's manifest can say what made it.

fn main() {
    // Read when the script runs, not when it is compiled: cargo reuses a compiled build
    // script for a checkout at another path sharing the target directory, and a path baked
    // in at compile time would then name the other (perhaps deleted) checkout's lock file.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let lock_path = format!("{manifest_dir}/../../Cargo.lock");
    println!("cargo:rerun-if-changed={lock_path}");
    let lock = std::fs::read_to_string(lock_path).unwrap_or_default();
    for (krate, var) in [
        ("linfa-logistic", "QUALIFY_LINFA_LOGISTIC_VERSION"),
        ("tract-onnx", "QUALIFY_TRACT_ONNX_VERSION"),
        ("polars", "QUALIFY_POLARS_VERSION"),
    ] {
        let needle = format!("name = \"{krate}\"\nversion = \"");
        let version = lock
            .find(&needle)
            .map(|at| &lock[at + needle.len()..])
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("unknown");
        println!("cargo:rustc-env={var}={version}");
    }
}
