#!/usr/bin/env bash
# Tree-ensemble scoring, 100 trees × 31 leaves on 40 features: qualify's native evaluator and
# tract (criterion, crates/runtime/benches/score.rs) against onnxruntime on the very same ONNX
# file (scripts/bench_onnxruntime_trees.py), in one run; prints the ratios.
# Usage: scripts/bench_trees.sh   (PYTHON defaults to .venv/bin/python; it needs numpy and
# onnxruntime: pip install -r scripts/requirements-onnx.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qualify/target}"
python=${PYTHON:-.venv/bin/python}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "== load: $(uptime)"
echo "== qualify: native evaluator and tract (RUST_BACKTRACE unset: tract builds an error with"
echo "   a backtrace per tree per row, so RUST_BACKTRACE=1 slows it several-fold)"
QUALIFY_BENCH_DIR=$dir env -u RUST_BACKTRACE cargo bench -q -p qualify-runtime --bench score -- trees_100x31 \
    --warm-up-time 2 --measurement-time 10
echo "== onnxruntime (same ONNX file, one thread)"
"$python" scripts/bench_onnxruntime_trees.py "$dir" | tee "$dir/ort.txt"
echo "== ratios (criterion mean estimates; onnxruntime best and median of 7)"
"$python" - "$CARGO_TARGET_DIR/criterion/trees_100x31" "$dir/ort.txt" <<'PY'
import json, sys
crit, ort_file = sys.argv[1], sys.argv[2]
ort = json.loads(open(ort_file).read().strip().splitlines()[-1])
def mean_us(bench):
    with open(f"{crit}/{bench}/new/estimates.json") as f:
        return json.load(f)["mean"]["point_estimate"] / 1000.0
for rows, key in [(1, "1"), (1000, "1000")]:
    native = mean_us(f"native_{rows}_rows")
    tract = mean_us(f"tract_{rows}_rows")
    best, med = ort[f"ort_{key}_best_us"], ort[f"ort_{key}_median_us"]
    print(f"{rows:>5} rows: native {native:9.2f} µs  tract {tract:10.1f} µs  onnxruntime {best:8.2f} / {med:8.2f} µs")
    print(f"            native / onnxruntime best {native / best:.3f}, median {native / med:.3f};"
          f" tract / native {tract / native:.0f}")
native1 = mean_us("native_1_row_no_alloc")
print(f"native 1 row without the Vec: {native1:.2f} µs")
PY
echo "== load: $(uptime)"
