#!/usr/bin/env bash
# Logistic fit on 100k × 40: qualify (criterion, crates/train/benches/fit.rs) against
# scikit-learn's lbfgs on the very same rows, measured in the same run.
# Usage: scripts/bench_logistic.sh   (creates .venv with scikit-learn if needed)
# If OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set (they slow a current numpy), scikit-learn
# is timed twice: as the environment is, and with both unset for that command alone.
# scikit-learn is also timed on one thread, since qualify fits on one core.
# Then the training log loss of qualify's fits of the same rows (to compare with
# scikit-learn's), and the criterion bench: Newton–Cholesky and linfa-logistic's L-BFGS.
# BENCH_CROSSOVER=1 also runs the bench's `logistic_crossover` group (both solvers on 20k rows
# at 40 to 400 features; several minutes).
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
echo "== scikit-learn on one thread (OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1; qualify fits on one)"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_sklearn_logistic.py "$data"
echo "== qualify: training log loss of the same rows"
cargo run -q --release -p qualify-train --example bench_logistic_loss
echo "== qualify: fit times (criterion)"
cargo bench -q -p qualify-train --bench fit -- --warm-up-time 2 --measurement-time 20 logistic_fit_100k_x_40
if [ -n "${BENCH_CROSSOVER:-}" ]; then
    echo "== qualify: Newton vs L-BFGS by width (20k rows)"
    cargo bench -q -p qualify-train --bench fit -- --warm-up-time 1 --measurement-time 5 logistic_crossover
fi
echo "== load: $(uptime)"
