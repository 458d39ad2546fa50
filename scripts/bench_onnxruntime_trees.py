"""Times onnxruntime on the tree-ensemble ONNX file the qualify bench wrote, and checks that
it computes the same logits as qualify's native evaluator.

Usage: python scripts/bench_onnxruntime_trees.py DIR
DIR holds trees_100x31.onnx, rows_1000x40.f32 and logits_1000.f64 (written by
`QUALIFY_BENCH_DIR=DIR cargo bench -p qualify-runtime --bench score`).
onnxruntime runs on one thread (intra- and inter-op), like the native evaluator; the
single-row figure includes the Python call overhead of `InferenceSession.run`.
Prints one JSON object on the last line (µs per call: best and median of 7 repetitions).
"""

import json
import sys
import time

import numpy as np
import onnxruntime as ort


def per_call_us(fn, calls, repeats=7):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls * 1e6)
    times.sort()
    return times[0], times[len(times) // 2]


def main():
    d = sys.argv[1]
    x = np.fromfile(f"{d}/rows_1000x40.f32", dtype="<f4").reshape(1000, 40)
    native = np.fromfile(f"{d}/logits_1000.f64", dtype="<f8")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        f"{d}/trees_100x31.onnx", options, providers=["CPUExecutionProvider"]
    )
    logit = session.run(["logit"], {"features": x})[0][:, 0]
    max_diff = float(np.max(np.abs(logit.astype(np.float64) - native)))
    print(f"onnxruntime {ort.__version__}: max |logit - native| over 1000 rows = {max_diff:.3g}")
    one = x[:1].copy()
    best1, med1 = per_call_us(lambda: session.run(["logit"], {"features": one}), 20000)
    best1k, med1k = per_call_us(lambda: session.run(["logit"], {"features": x}), 200)
    print(f"onnxruntime 1 row: best {best1:.2f} µs, median {med1:.2f} µs per call")
    print(f"onnxruntime 1000 rows: best {best1k:.1f} µs, median {med1k:.1f} µs per call")
    print(json.dumps({"max_diff": max_diff, "ort_1_best_us": best1, "ort_1_median_us": med1,
                      "ort_1000_best_us": best1k, "ort_1000_median_us": med1k}))


if __name__ == "__main__":
    main()
