//! Writes the benchmark rows of `crates/train/examples/bench_data.rs` (the same file, the
//! same rows) from this crate, so `scripts/bench_gbm.sh` builds only qualify-gbm's small
//! dependency tree: `cargo run --release -p qualify-gbm --example gbm_bench_data -- OUT.csv`.

#[path = "../../train/examples/bench_data.rs"]
mod bench_data;

fn main() -> std::io::Result<()> {
    bench_data::main()
}
