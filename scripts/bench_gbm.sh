#!/usr/bin/env bash
# GBM fit on 100k × 40: qualify (criterion, crates/train/benches/gbm.rs: forust-ml, 200 trees,
# learning rate 0.05, 31 leaves) against LightGBM (Python, same settings) on the very same
# rows, measured in the same run; prints the ratios (qualify / LightGBM, below 1 = faster).
# Usage: scripts/bench_gbm.sh   (creates .venv with scripts/requirements.txt if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qualify/target}"
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || { python3 -m venv .venv && .venv/bin/pip install -q -r scripts/requirements.txt; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
data=$dir/bench-100k-40.csv
echo "== load: $(uptime)"
cargo run -q --release -p qualify-train --example bench_data -- "$data"
echo "== LightGBM"
"$PY" scripts/bench_lightgbm.py "$data" --json | tee "$dir/lightgbm.txt"
echo "== qualify (forust-ml)"
cargo bench -q -p qualify-train --bench gbm -- --warm-up-time 2 --measurement-time 20
echo "== load: $(uptime)"
"$PY" - "$dir/lightgbm.txt" "$CARGO_TARGET_DIR/criterion/gbm_fit_100k_x_40" <<'PY'
import json, sys
lgb = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
def mean_s(name):
    with open(f"{sys.argv[2]}/{name}/new/estimates.json") as f:
        return json.load(f)["mean"]["point_estimate"] / 1e9
for name, peer in (("forust_fit", "default threads"), ("qualify_fit", "default threads"),
                   ("forust_fit_1_thread", "1 thread")):
    q, l = mean_s(name), lgb[peer]["best_s"]
    print(f"ratio {name} / LightGBM {peer} (best): {q:.3f} s / {l:.3f} s = {q / l:.2f}")
PY
