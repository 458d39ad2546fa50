#!/usr/bin/env bash
# The whole GBM pipeline against LightGBM's, in the same run: `qualify train --model gbm`
# (read, encode, 5 stratified folds each early-stopped on 10%, refit at the mean best
# iteration, calibration, export and the verified bundle write) against
# scripts/bench_lightgbm_pipeline.py (the same folds-early-stopping-refit-Platt pipeline with
# LightGBM, on the same encoded training rows, written by the export_encoded example; its CSV
# read is not timed). Each side runs RUNS times (default 3), alternating; prints the best and
# median times, the ratio, and both cross-validated log losses (out-of-fold, uncalibrated).
# Usage: scripts/bench_gbm_pipeline.sh DATA SCHEMA.toml   (DATA: any file `qualify train` reads;
# LGB_THREADS=1 gives LightGBM one thread, default 2; RUNS=N runs each side N times)
set -euo pipefail
# A debugging setting, not a user's: with it, tract captures a backtrace for an error it
# builds per tree and row while the new bundle's load-time probe runs.
unset RUST_BACKTRACE
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 DATA SCHEMA.toml" >&2; exit 2; }
data=$1 schema=$2 runs=${RUNS:-3}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qualify/target}"
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || { python3 -m venv .venv && .venv/bin/pip install -q -r scripts/requirements.txt; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build -q --release --bin qualify --example export_encoded -p qualify -p qualify-train
bin=$CARGO_TARGET_DIR/release
"$bin/examples/export_encoded" "$data" "$schema" "$dir/encoded.csv"
echo "== load: $(uptime)"
for i in $(seq "$runs"); do
  "$PY" - "$bin/qualify" "$data" "$schema" "$dir/models-$i" "$dir/qualify-$i.json" <<'PY'
import json, subprocess, sys, time
qualify, data, schema, out, result = sys.argv[1:]
start = time.perf_counter()
subprocess.run([qualify, "train", "--data", data, "--schema", schema, "--model", "gbm",
                "--out", out], check=True, stdout=subprocess.DEVNULL)
seconds = time.perf_counter() - start
import glob
manifest = json.load(open(glob.glob(f"{out}/*/manifest.json")[0]))
cv = manifest["metrics"]["cv"]
json.dump({"seconds": seconds, "cv": cv}, open(result, "w"))
print(f"qualify train --model gbm: {seconds:.3f} s; CV log loss {cv['log_loss']:.4f}, "
      f"CV ROC AUC {cv['roc_auc']:.4f}, folds' best trees {cv['best_trees']}, "
      f"refit {cv['final_trees']}")
PY
  "$PY" scripts/bench_lightgbm_pipeline.py "$dir/encoded.csv" --threads "${LGB_THREADS:-2}" --json \
    | tee "$dir/lightgbm-$i.txt"
done
echo "== load: $(uptime)"
"$PY" - "$dir" "$runs" <<'PY'
import json, statistics, sys
d, runs = sys.argv[1], int(sys.argv[2])
q = [json.load(open(f"{d}/qualify-{i}.json")) for i in range(1, runs + 1)]
l = [json.loads(open(f"{d}/lightgbm-{i}.txt").read().strip().splitlines()[-1])
     for i in range(1, runs + 1)]
qs, ls = sorted(r["seconds"] for r in q), sorted(r["seconds"] for r in l)
print(f"qualify best {qs[0]:.3f} s, median {statistics.median(qs):.3f} s; "
      f"LightGBM best {ls[0]:.3f} s, median {statistics.median(ls):.3f} s")
print(f"ratio qualify / LightGBM: best {qs[0] / ls[0]:.2f}, "
      f"median {statistics.median(qs) / statistics.median(ls):.2f}")
print(f"CV log loss: qualify {q[0]['cv']['log_loss']:.4f}, LightGBM {l[0]['cv_log_loss']:.4f}; "
      f"CV ROC AUC: qualify {q[0]['cv']['roc_auc']:.4f}, LightGBM {l[0]['cv_roc_auc']:.4f}")
PY
