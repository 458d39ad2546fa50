#!/usr/bin/env bash
# GBM single fit on 100k × 40: qualify's trainer (criterion, crates/gbm/benches/fit.rs: 200
# trees, learning rate 0.05, 31 leaves, 255 bins, on 2 threads and on 1) against LightGBM
# (Python, scripts/bench_lightgbm.py, same settings) on the very same rows, measured in the same
# run; prints the ratios (qualify / LightGBM, below 1 = faster) at each thread count.
# Usage: scripts/bench_gbm.sh   (creates .venv with scripts/requirements.txt if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qualify/target}"
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || { python3 -m venv .venv && .venv/bin/pip install -q -r scripts/requirements.txt; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
data=$dir/bench-100k-40.csv
# Build first, so compiling never overlaps a timing.
cargo bench -q -p qualify-gbm --bench fit --no-run
cargo run -q --release -p qualify-gbm --example gbm_bench_data -- "$data"
echo "== load: $(uptime)"
echo "== LightGBM"
"$PY" scripts/bench_lightgbm.py "$data" --json | tee "$dir/lightgbm.txt"
echo "== qualify-gbm"
cargo bench -q -p qualify-gbm --bench fit -- --warm-up-time 2 --measurement-time 20
echo "== load: $(uptime)"
"$PY" - "$dir/lightgbm.txt" "$CARGO_TARGET_DIR/criterion/gbm_fit_100k_x_40" <<'PY'
import json, sys
lgb = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
def mean_s(name):
    with open(f"{sys.argv[2]}/{name}/new/estimates.json") as f:
        return json.load(f)["mean"]["point_estimate"] / 1e9
for name, peer in (("qualify_gbm_2_threads", "2 threads"), ("qualify_gbm_1_thread", "1 thread")):
    q, l = mean_s(name), lgb[peer]
    print(f"ratio {name} / LightGBM {peer}: mean {q:.3f} s / best {l['best_s']:.3f} s = "
          f"{q / l['best_s']:.2f}; / median {l['median_s']:.3f} s = {q / l['median_s']:.2f}")
PY
