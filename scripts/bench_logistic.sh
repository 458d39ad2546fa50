#!/usr/bin/env bash
# Logistic fit on 100k × 40: qualify (criterion, crates/train/benches/fit.rs) against
# scikit-learn's lbfgs on the very same rows, measured in the same run.
# Usage: scripts/bench_logistic.sh   (creates .venv with scikit-learn if needed)
# If OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set (they slow a current numpy), scikit-learn
# is timed twice: as the environment is, and with both unset for that command alone.
# scikit-learn is also timed on one thread, since linfa-logistic fits on one core.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qualify/target}"
[ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q -r scripts/requirements.txt; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
data=$dir/bench-100k-40.csv
echo "== load: $(uptime)"
cargo run -q --release -p qualify-train --example bench_data -- "$data"
echo "== scikit-learn"
.venv/bin/python scripts/bench_sklearn_logistic.py "$data"
if [ -n "${OPENBLAS_CORETYPE:-}${OPENBLAS_L2_SIZE:-}" ]; then
    echo "== scikit-learn, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python scripts/bench_sklearn_logistic.py "$data"
fi
echo "== scikit-learn on one thread (OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1; linfa runs on one)"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_sklearn_logistic.py "$data"
echo "== qualify (linfa-logistic)"
cargo bench -q -p qualify-train --bench fit -- --warm-up-time 2 --measurement-time 20
echo "== load: $(uptime)"
