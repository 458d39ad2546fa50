"""LightGBM's own TreeSHAP (`predict(..., pred_contrib=True)`) on the models that
`crates/runtime/benches/treeshap.rs` then explains with qualify's TreeSHAP: the peer of that
bench. Usage: bench_treeshap_lightgbm.py OUT_DIR

Trains two binary LightGBM models on one thread on a synthetic 20,000 × 40 design (seed 42,
a non-linear logit with interactions): 100 trees × 31 leaves and 187 trees × 15 leaves
(learning rate 0.05, otherwise defaults). For each, writes to OUT_DIR:
- `lightgbm_<shape>.json`: the trees as qualify's `TreeEnsemble` (serde JSON: split rule
  `x <= threshold` with the threshold rounded down to f32, the NaN direction, and LightGBM's
  data counts as covers, which is what its TreeSHAP weighs branches by);
- `contribs_<shape>.f64`: pred_contrib on the 1,000 rows (row-major, 41 columns: 40 SHAP
  values then the expected value), little-endian f64;
and once `rows_1000x40.f32` (held-out rows, little-endian f32, row-major). Then times
pred_contrib on one thread: the 1,000 rows in one call (best and median of 7, per row), and
2,000 single-row calls (best and median of 5 passes, per call, Python's call overhead
included). The last line printed is a JSON object of those figures in µs.
"""
import json
import sys
import time
from pathlib import Path

import lightgbm
import numpy as np

N_FEATURES = 40
SHAPES = {"100x31": (100, 31), "187x15": (187, 15)}


def design(rng, rows):
    x = rng.normal(size=(rows, N_FEATURES))
    logit = (
        -1.5
        + 0.8 * x[:, 0]
        - 0.6 * x[:, 1] * (x[:, 2] > 0)
        + 0.5 * np.sin(2 * x[:, 3])
        + 0.4 * x[:, 4] * x[:, 5]
        + 0.3 * (x[:, 6:12].sum(axis=1) / 2.5)
        + 0.2 * np.abs(x[:, 12])
    )
    y = rng.random(rows) < 1 / (1 + np.exp(-logit))
    return x.astype(np.float32), y.astype(np.int32)


def f32_threshold_leq(t):
    """The largest f32 <= t (qualify_core::trees::f32_threshold_leq)."""
    r = np.float32(t)
    if float(r) > t:
        r = np.nextafter(r, np.float32(-np.inf), dtype=np.float32)
    return float(r)


def to_ensemble(booster):
    dump = booster.dump_model()
    trees = []
    for info in dump["tree_info"]:
        nodes = []

        def visit(node):
            index = len(nodes)
            nodes.append(None)
            if "leaf_value" in node:
                nodes[index] = {"Leaf": {"value": node["leaf_value"],
                                         "cover": float(node.get("leaf_count", 0))}}
                return index
            if node["decision_type"] != "<=":
                raise SystemExit(f"unsupported decision type {node['decision_type']}")
            left = visit(node["left_child"])
            right = visit(node["right_child"])
            nodes[index] = {"Split": {
                "feature": node["split_feature"],
                "threshold": f32_threshold_leq(node["threshold"]),
                "nan_left": bool(node["default_left"]),
                "left": left,
                "right": right,
                "cover": float(node["internal_count"]),
            }}
            return index

        visit(info["tree_structure"])
        trees.append({"nodes": nodes})
    return {"n_features": N_FEATURES, "base_score": 0.0, "trees": trees}


def best_median(times):
    times = sorted(times)
    return times[0], times[len(times) // 2]


def main(out):
    out = Path(out)
    rng = np.random.default_rng(42)
    x, y = design(rng, 20_000)
    rows, _ = design(rng, 1_000)
    rows.tofile(out / "rows_1000x40.f32")
    rows64 = rows.astype(np.float64)
    figures = {"lightgbm": lightgbm.__version__}
    for shape, (n_trees, leaves) in SHAPES.items():
        params = {"objective": "binary", "num_leaves": leaves, "learning_rate": 0.05,
                  "num_threads": 1, "verbose": -1, "seed": 42}
        booster = lightgbm.train(params, lightgbm.Dataset(x, y), num_boost_round=n_trees)
        ensemble = to_ensemble(booster)
        (out / f"lightgbm_{shape}.json").write_text(json.dumps(ensemble))
        contribs = booster.predict(rows64, pred_contrib=True, num_threads=1)
        contribs.astype("<f8").tofile(out / f"contribs_{shape}.f64")
        raw = booster.predict(rows64, raw_score=True, num_threads=1)
        assert np.allclose(contribs.sum(axis=1), raw, atol=1e-9), "contributions add up"
        depth = max(
            max_depth(t["tree_structure"]) for t in booster.dump_model()["tree_info"])
        batch = []
        for _ in range(7):
            start = time.perf_counter()
            booster.predict(rows64, pred_contrib=True, num_threads=1)
            batch.append((time.perf_counter() - start) / len(rows64) * 1e6)
        single = []
        for _ in range(5):
            start = time.perf_counter()
            for i in range(2_000):
                booster.predict(rows64[i % 1000: i % 1000 + 1], pred_contrib=True,
                                num_threads=1)
            single.append((time.perf_counter() - start) / 2_000 * 1e6)
        (b_best, b_med), (s_best, s_med) = best_median(batch), best_median(single)
        print(f"lightgbm {lightgbm.__version__} pred_contrib, {booster.num_trees()} trees x "
              f"{leaves} leaves (max depth {depth}), one thread: 1,000-row call "
              f"{b_best:.1f} / {b_med:.1f} us per row (best / median of 7); single-row call "
              f"{s_best:.1f} / {s_med:.1f} us (best / median of 5 x 2,000)")
        figures[shape] = {"batch_best_us": b_best, "batch_median_us": b_med,
                          "single_best_us": s_best, "single_median_us": s_med,
                          "max_depth": depth}
    print(json.dumps(figures))


def max_depth(node):
    if "leaf_value" in node:
        return 0
    return 1 + max(max_depth(node["left_child"]), max_depth(node["right_child"]))


if __name__ == "__main__":
    main(sys.argv[1])
