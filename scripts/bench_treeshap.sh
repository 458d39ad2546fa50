#!/usr/bin/env bash
# TreeSHAP per row, in one run: qualify's algorithm (quadrature) and Algorithm 2 (the in-run
# peer) in criterion (crates/runtime/benches/treeshap.rs), and LightGBM's own pred_contrib
# (scripts/bench_treeshap_lightgbm.py) on the very models it trained, which the bench also
# explains after checking that all three agree; prints the ratios.
# Usage: scripts/bench_treeshap.sh   (PYTHON defaults to .venv/bin/python; it needs numpy and
# lightgbm: pip install -r scripts/requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qualify/target}"
python=${PYTHON:-.venv/bin/python}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "== load: $(uptime)"
echo "== LightGBM: train the two models, time pred_contrib (one thread)"
"$python" scripts/bench_treeshap_lightgbm.py "$dir" | tee "$dir/lightgbm.txt"
echo "== qualify: quadrature and Algorithm 2 (criterion)"
QUALIFY_BENCH_LIGHTGBM=$dir cargo bench -q -p qualify-runtime --bench treeshap -- \
    --warm-up-time 2 --measurement-time 8
echo "== ratios (criterion mean estimates; LightGBM best and median)"
"$python" - "$CARGO_TARGET_DIR/criterion" "$dir/lightgbm.txt" <<'PY'
import json, sys
crit, lgb_file = sys.argv[1], sys.argv[2]
lgb = json.loads(open(lgb_file).read().strip().splitlines()[-1])
def mean_us(group, bench):
    with open(f"{crit}/{group}/{bench}/new/estimates.json") as f:
        return json.load(f)["mean"]["point_estimate"] / 1000.0
for group in ["treeshap_100x31", "treeshap_187x15", "lightgbm_100x31", "lightgbm_187x15"]:
    quad, alg2 = mean_us(group, "quadrature_1_row"), mean_us(group, "algorithm2_1_row")
    line = f"{group}: quadrature {quad:7.1f} us, algorithm 2 {alg2:7.1f} us, ratio {alg2 / quad:5.2f}"
    if group.startswith("lightgbm_"):
        peer = lgb[group.removeprefix("lightgbm_")]
        line += (f"; pred_contrib 1,000-row call {peer['batch_best_us']:.1f} / "
                 f"{peer['batch_median_us']:.1f} us per row, ratio {peer['batch_best_us'] / quad:.2f}"
                 f" / {peer['batch_median_us'] / quad:.2f}")
    print(line)
explained = mean_us("treeshap_100x31", "explained_score_1_row")
print(f"explained score (logit + TreeSHAP + top reasons), 100x31: {explained:.1f} us per row")
PY
echo "== load: $(uptime)"
