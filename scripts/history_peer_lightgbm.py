"""The LightGBM peer of a qualify model trained on a history (docs/history.md).

Reads the point-in-time rows `qualify train --leads ... --rows-out ROWS` wrote (the rows the
bundle was trained and tested on, with their `part`: train or test, out of time) and the
bundle's manifest (which columns are features, and their types), fits LightGBM's
LGBMClassifier on the train part and reports ROC AUC and ECE (10 equal-width bins, qualify's
definition) on the test part: the same rows, the same split, a peer's model. With --moments-out
it also writes the test part's (lead_id, as_of) moments, for `qualify evaluate --moments` (the
anti-example of docs/history.md is measured on them).

    python scripts/history_peer_lightgbm.py --rows ROWS.csv --manifest BUNDLE/manifest.json [--json]

Environment: scripts/requirements-history.txt (pinned).
"""
import argparse
import json

import lightgbm
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

FEATURE_ROLES = {"firmographic", "technographic", "behavioural", "qualification", "feature"}


def ece(y, p, bins=10):
    """Expected calibration error with equal-width bins; p == 1 falls in the last bin."""
    idx = np.minimum(np.floor(p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(p[mask].mean() - y[mask].mean())
    return total / len(y)


def features(rows, schema):
    """The schema's feature columns as LightGBM reads them: numbers as floats, categories as
    pandas categories, sets as one 0/1 column per level, booleans as 0/1."""
    out = {}
    for col in schema["column"]:
        if col["role"] not in FEATURE_ROLES:
            continue
        name, kind = col["name"], col.get("type")
        cells = rows[name]
        if kind == "numeric":
            out[name] = pd.to_numeric(cells, errors="coerce")
        elif kind == "boolean":
            text = cells.astype("string").str.strip().str.lower()
            out[name] = text.map({"1": 1.0, "true": 1.0, "yes": 1.0, "0": 0.0, "false": 0.0, "no": 0.0})
        elif kind == "set":
            sep = col.get("separator", ";")
            dummies = cells.fillna("").astype(str).str.get_dummies(sep=sep)
            for level in dummies.columns:
                if level.strip():
                    out[f"{name}={level}"] = dummies[level]
        else:
            out[name] = cells.astype("string").astype("category")
    return pd.DataFrame(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--moments-out")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with open(args.manifest) as f:
        manifest = json.load(f)
    schema = manifest["schema"]
    label = next(c["name"] for c in schema["column"] if c["role"] == "label")
    lead = next(c["name"] for c in schema["column"] if c["role"] == "id")
    rows = pd.read_csv(args.rows, dtype=str, keep_default_na=False, na_values=[""])
    x = features(rows, schema)
    y = rows[label].astype(float).astype(int).to_numpy()
    train = (rows["part"] == "train").to_numpy()
    test = (rows["part"] == "test").to_numpy()

    model = lightgbm.LGBMClassifier(
        n_estimators=300, learning_rate=0.03, num_leaves=15, min_child_samples=40,
        subsample=0.8, subsample_freq=1, colsample_bytree=0.8, verbose=-1, random_state=42,
    )
    model.fit(x[train], y[train])
    p = model.predict_proba(x[test])[:, 1]
    result = {
        "peer": f"lightgbm {lightgbm.__version__}",
        "train_rows": int(train.sum()),
        "test_rows": int(test.sum()),
        "test_positive_rate": float(y[test].mean()),
        "roc_auc": float(roc_auc_score(y[test], p)),
        "ece": float(ece(y[test].astype(float), p)),
    }
    if args.moments_out:
        rows.loc[test, [lead, "as_of"]].rename(columns={lead: "lead_id"}).to_csv(
            args.moments_out, index=False
        )
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['peer']} on {result['train_rows']} train / {result['test_rows']} test rows "
            f"(out of time, held out): ROC AUC {result['roc_auc']:.4f}, ECE {result['ece']:.4f}"
        )


if __name__ == "__main__":
    main()
