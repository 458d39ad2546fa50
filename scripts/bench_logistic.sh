#!/usr/bin/env bash
# Logistic fit on 100k × 40: qualify (criterion, crates/train/benches/fit.rs) against
# scikit-learn's lbfgs on the very same rows, measured in the same run.
# Usage: scripts/bench_logistic.sh   (creates .venv with scikit-learn if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qualify/target}"
[ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q -r scripts/requirements.txt; }
data=$(mktemp -d)/bench-100k-40.csv
cargo run -q --release -p qualify-train --example bench_data -- "$data"
echo "== scikit-learn"
.venv/bin/python scripts/bench_sklearn_logistic.py "$data"
echo "== qualify (linfa-logistic)"
cargo bench -q -p qualify-train --bench fit -- --warm-up-time 2 --measurement-time 20
