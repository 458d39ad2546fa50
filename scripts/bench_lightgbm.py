"""Times LightGBM's LGBMClassifier (200 trees, learning rate 0.05, 31 leaves, 255 bins,
otherwise defaults) on a CSV written by `cargo run -p qualify-gbm --example gbm_bench_data`: the
peer of `crates/gbm/benches/fit.rs`. Prints the best and median of 5 fits on two threads and
on one (loading the CSV is not timed), and the training log loss; with --json, the last line
is a JSON object of the best and median times in seconds per thread count."""
import json
import os
import sys
import time

import lightgbm
import numpy as np
from sklearn.metrics import log_loss


def timed(x, y, threads):
    times = []
    for _ in range(5):
        model = lightgbm.LGBMClassifier(
            n_estimators=200,
            learning_rate=0.05,
            num_leaves=31,
            max_bin=255,
            n_jobs=threads,
            verbose=-1,
        )
        start = time.perf_counter()
        model.fit(x, y)
        times.append(time.perf_counter() - start)
    return sorted(times), model


def main(path: str, as_json: bool) -> None:
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    x, y = data[:, :-1], data[:, -1].astype(int)
    best = {}
    for label, threads in (("2 threads", 2), ("1 thread", 1)):
        times, model = timed(x, y, threads)
        loss = log_loss(y, model.predict_proba(x)[:, 1])
        print(f"lightgbm {lightgbm.__version__} fit {x.shape[0]}x{x.shape[1]}, 200 trees, "
              f"{label} (cpus {os.cpu_count()}): best {times[0]*1000:.1f} ms, "
              f"median {times[2]*1000:.1f} ms, training log loss {loss:.6f}")
        best[label] = {"best_s": times[0], "median_s": times[2]}
    if as_json:
        print(json.dumps(best))


if __name__ == "__main__":
    main(sys.argv[1], "--json" in sys.argv[2:])
