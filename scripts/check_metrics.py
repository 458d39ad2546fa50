#!/usr/bin/env python3
"""Cross-check qualify-eval's metrics against scikit-learn and numpy.

Generates random datasets (continuous scores, heavy ties from rounding to 2
decimals, a strongly imbalanced case, coarse scores with exact 0/1, a tiny set
with a fractional lift cut, and 1M rows), pipes each through
`cargo run -q -p qualify-eval --example metrics_json`, and compares against:

* sklearn: roc_auc_score, average_precision_score, log_loss (on probabilities
  clipped to [1e-15, 1 - 1e-15], the design's definition), brier_score_loss;
* numpy reference formulas for ECE (10 equal-width bins, bin index
  min(floor(p * 10), 9), weighted by count) and lift at 10% (cut at k = 0.1 * n
  rows; rows tied at the cut score share the remaining slots pro rata).

Fails (exit 1) if any figure deviates by more than 1e-6.
Usage: "$(scripts/python-env)" scripts/check_metrics.py [--quick]  (scripts/test runs it)
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)

ROOT = Path(__file__).resolve().parent.parent
TOL = 1e-6
EPS = 1e-15
BINS = 10
METRICS = ["roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_at_10"]


def make(rng, n, base_rate, signal, decimals=None):
    """Labels ~ Bernoulli(base_rate); scores = sigmoid(logit(base) + signal*y + noise)."""
    y = rng.random(n) < base_rate
    logit = np.log(base_rate / (1 - base_rate)) + signal * (y - base_rate) + rng.normal(0, 1, n)
    p = 1 / (1 + np.exp(-logit))
    if decimals is not None:
        p = np.round(p, decimals)
    return y.astype(int), p


def datasets(quick):
    rng = np.random.default_rng(20240611)
    out = [
        ("continuous n=5000", *make(rng, 5_000, 0.3, 1.5)),
        ("ties 2dp n=20000", *make(rng, 20_000, 0.25, 1.0, decimals=2)),
        ("imbalanced 2% 2dp", *make(rng, 50_000, 0.02, 2.0, decimals=2)),
        ("imbalanced 0.5% n=8000", *make(rng, 8_000, 0.005, 2.5)),
        ("tiny n=37 (k=3.7)", *make(rng, 37, 0.4, 1.0, decimals=1)),
    ]
    # Coarse scores with exact 0 and 1 (exercises clipping and the last ECE bin).
    y = (rng.random(3_000) < 0.4).astype(int)
    p = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], size=3_000)
    p = np.where(y == 1, np.maximum(p, rng.choice([0.0, 0.5], size=3_000)), p)
    out.append(("coarse with 0/1", y, p))
    if not quick:
        out.append(("large n=1e6 3dp", *make(rng, 1_000_000, 0.1, 1.5, decimals=3)))
    return out


def ref_ece(y, p, bins=BINS):
    idx = np.minimum(np.floor(p * bins).astype(np.int64), bins - 1)
    count = np.bincount(idx, minlength=bins).astype(float)
    sum_p = np.bincount(idx, weights=p, minlength=bins)
    pos = np.bincount(idx, weights=y.astype(float), minlength=bins)
    nz = count > 0
    gaps = np.abs(sum_p[nz] / count[nz] - pos[nz] / count[nz])
    return float(np.sum(count[nz] / len(y) * gaps)), count


def ref_lift(y, p, fraction=0.1):
    n = len(y)
    k = fraction * n
    s = np.sort(p)
    right = np.searchsorted(s, p, side="right")
    left = np.searchsorted(s, p, side="left")
    above = n - right  # rows with a strictly higher score
    tied = right - left  # rows sharing this row's score (itself included)
    weight = np.clip((k - above) / tied, 0.0, 1.0)
    return float(np.sum(weight * y) / k / y.mean())


def reference(y, p):
    ece, counts = ref_ece(y, p)
    return {
        "roc_auc": roc_auc_score(y, p),
        "pr_auc": average_precision_score(y, p),
        "log_loss": log_loss(y, np.clip(p, EPS, 1 - EPS), labels=[0, 1]),
        "brier": brier_score_loss(y, p),
        "ece": ece,
        "lift_at_10": ref_lift(y, p),
    }, counts


def run_rust(y, p):
    text = "label,probability\n" + "".join(f"{a},{b!r}\n" for a, b in zip(y.tolist(), p.tolist()))
    start = time.perf_counter()
    res = subprocess.run(
        ["cargo", "run", "-q", "-p", "qualify-eval", "--example", "metrics_json"],
        input=text, capture_output=True, text=True, cwd=ROOT, env=os.environ,
    )
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        sys.exit(f"metrics_json failed:\n{res.stderr}")
    return json.loads(res.stdout), elapsed


def main():
    quick = "--quick" in sys.argv
    # Build once up front so timings below measure the run, not the compile.
    subprocess.run(["cargo", "build", "-q", "-p", "qualify-eval", "--example", "metrics_json"],
                   cwd=ROOT, check=True)
    max_dev = {m: 0.0 for m in METRICS}
    failures = []
    header = f"{'dataset':<24}{'n':>9}{'pos':>7}" + "".join(f"{m:>12}" for m in METRICS)
    print(header + f"{'max|dev|':>11}{'secs':>7}")
    print("-" * (len(header) + 18))
    for name, y, p in datasets(quick):
        got, secs = run_rust(y, p)
        want, counts = reference(y, p)
        assert got["n"] == len(y) and got["positives"] == int(y.sum()), name
        rust_counts = [b["count"] for b in got["reliability"]]
        if rust_counts != counts.astype(int).tolist():
            failures.append(f"{name}: reliability counts {rust_counts} != {counts.tolist()}")
        devs = {m: abs(got[m] - want[m]) for m in METRICS}
        for m, d in devs.items():
            max_dev[m] = max(max_dev[m], d)
            if not d <= TOL:
                failures.append(f"{name}: {m} rust={got[m]!r} ref={want[m]!r} dev={d:.3g}")
        row = f"{name:<24}{len(y):>9}{int(y.sum()):>7}" + "".join(f"{got[m]:>12.6f}" for m in METRICS)
        print(row + f"{max(devs.values()):>11.1e}{secs:>7.2f}")
    print("-" * (len(header) + 18))
    print("max deviation per metric: " + ", ".join(f"{m}={d:.2e}" for m, d in max_dev.items()))
    if failures:
        print("\nFAILED (tolerance %g):" % TOL)
        for f in failures:
            print("  " + f)
        sys.exit(1)
    print(f"OK: all metrics agree within {TOL:g}")


if __name__ == "__main__":
    main()
