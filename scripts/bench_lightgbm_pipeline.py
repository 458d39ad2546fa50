"""LightGBM doing the work of `qualify train --model gbm` on the same encoded training rows:
5 stratified folds; each fold's model fitted on the other folds minus a stratified 10% that
early stopping watches (validation log loss, 50 rounds, up to 1,000 trees) and predicting its
held-out fold; a refit on all rows at the mean of the folds' best tree counts; Platt scaling
(a one-feature logistic regression) on the out-of-fold log-odds.

Settings are qualify's GBM defaults: learning rate 0.05, 15 leaves, min leaf hessian 5, L2 1,
256 bins (LightGBM's other settings default; its min_child_samples of 20 never binds, as a
hessian of 5 needs at least 20 rows of hessian <= 0.25).

Usage: bench_lightgbm_pipeline.py ENCODED.csv [--json] [--threads N]
ENCODED.csv holds the encoded training rows, the label last (as written by
`cargo run --release -p qualify-train --example export_encoded`, run by
scripts/bench_gbm_pipeline.sh). Prints the time of the
pipeline (the CSV read is not timed) and its cross-validated log loss and ROC AUC
(uncalibrated out-of-fold probabilities, as qualify's manifest records in metrics.cv); with
--json the last line is a JSON object of them.
"""
import json
import sys
import time

import lightgbm
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split


def params(threads):
    return dict(
        n_estimators=1000,
        learning_rate=0.05,
        num_leaves=15,
        min_child_weight=5.0,
        reg_lambda=1.0,
        max_bin=256,
        n_jobs=threads,
        verbose=-1,
    )


def pipeline(x, y, threads, seed=42):
    oof = np.zeros(len(y))
    best = []
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    for fold, (rest, held_out) in enumerate(folds.split(x, y)):
        fit_rows, stop_rows = train_test_split(
            rest, test_size=0.1, stratify=y[rest], random_state=seed + fold
        )
        model = lightgbm.LGBMClassifier(**params(threads))
        model.fit(
            x[fit_rows],
            y[fit_rows],
            eval_set=[(x[stop_rows], y[stop_rows])],
            eval_metric="binary_logloss",
            callbacks=[lightgbm.early_stopping(50, verbose=False)],
        )
        best.append(model.best_iteration_)
        oof[held_out] = model.predict(x[held_out], raw_score=True)
    final = params(threads) | {"n_estimators": max(1, round(sum(best) / len(best)))}
    model = lightgbm.LGBMClassifier(**final).fit(x, y)
    platt = LogisticRegression(C=1e6).fit(oof.reshape(-1, 1), y)
    return model, platt, oof, best


def main():
    args = sys.argv[1:]
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else None
    data = pd.read_csv(args[0]).to_numpy()
    x, y = data[:, :-1].astype(np.float32), data[:, -1].astype(int)
    start = time.perf_counter()
    model, platt, oof, best = pipeline(x, y, threads)
    seconds = time.perf_counter() - start
    p = 1.0 / (1.0 + np.exp(-oof))
    result = {
        "seconds": seconds,
        "rows": int(x.shape[0]),
        "cols": int(x.shape[1]),
        "best_trees": best,
        "final_trees": model.n_estimators,
        "cv_log_loss": log_loss(y, p),
        "cv_roc_auc": roc_auc_score(y, p),
    }
    print(
        f"lightgbm {lightgbm.__version__} pipeline on {x.shape[0]}x{x.shape[1]}: "
        f"{seconds:.3f} s; folds' best trees {best}, refit {model.n_estimators}; "
        f"CV log loss {result['cv_log_loss']:.4f}, CV ROC AUC {result['cv_roc_auc']:.4f}"
    )
    if "--json" in args:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
