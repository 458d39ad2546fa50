"""Batch scoring, whole commands, against a scikit-learn peer in the same run.

`qualify score --model models/flat --data F.parquet --out O.parquet` against the script a data
scientist writes for the same job: pandas reads the Parquet file, a fitted scikit-learn
pipeline (median imputation and scaling of the numbers, one-hot of the categories, L2 logistic
regression; fitted once on data/sample/leads.csv and loaded from a pickle, as a deployed model
is) scores it with `predict_proba`, and pandas writes the id and the propensity to Parquet.
The peer reads the same columns as the model and does less (no timestamps, no sets, no
calibration, no input checks): it is a floor for Python, not a re-implementation.

Runs alternate (qualify, peer, qualify, ...) so both see the same machine; prints each run's
wall time, the medians, rows/s and the ratio. Used by scripts/bench-score; not part of the
tests (it measures speed).

    python scripts/bench_score.py --qualify BIN --data F.parquet --runs 5
"""

import argparse
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CATEGORICAL = ["email_domain_type", "seniority", "industry", "country", "crm",
               "marketing_automation"]
NUMERIC = ["employees", "annual_revenue", "timeline_days", "website_visit_count",
           "pricing_page_visit_count", "careers_page_visit_count", "demo_request_count",
           "webinar_attended_count", "case_study_download_count", "ebook_download_count",
           "blog_download_count", "email_open_count", "newsletter_signup_count",
           "trial_signup_count", "teammate_invited_count", "core_feature_used_count"]


def fit(path: Path) -> None:
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    data = pd.read_csv(ROOT / "data/sample/leads.csv")
    features = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                              OneHotEncoder(handle_unknown="ignore")), CATEGORICAL),
    ])
    model = make_pipeline(features, LogisticRegression(C=0.1, max_iter=1000))
    model.fit(data[NUMERIC + CATEGORICAL], data["converted"])
    path.write_bytes(pickle.dumps(model))


def peer(model: Path, data: Path, out: Path) -> None:
    import pandas as pd

    pipeline = pickle.loads(model.read_bytes())
    frame = pd.read_parquet(data, columns=["id"] + NUMERIC + CATEGORICAL)
    for column in CATEGORICAL:
        frame[column] = frame[column].astype(object)
    propensity = pipeline.predict_proba(frame[NUMERIC + CATEGORICAL])[:, 1]
    pd.DataFrame({"id": frame["id"], "propensity": propensity}).to_parquet(out, index=False)


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    run = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"{command[0]} failed ({run.returncode}):\n{run.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode")
    run_peer = sub.add_parser("peer", help="one peer run (what the benchmark times)")
    run_peer.add_argument("--model", type=Path, required=True)
    run_peer.add_argument("--data", type=Path, required=True)
    run_peer.add_argument("--out", type=Path, required=True)
    parser.add_argument("--qualify", type=Path)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--model", default=str(ROOT / "models/flat"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.mode == "peer":
        peer(args.model, args.data, args.out)
        return
    if args.qualify is None or args.data is None:
        parser.error("--qualify and --data are required")
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(args.data).metadata.num_rows
    with tempfile.TemporaryDirectory() as scratch:
        pickled = Path(scratch) / "peer.pkl"
        fit(pickled)
        ours = [str(args.qualify), "score", "--model", args.model, "--data", str(args.data),
                "--out", f"{scratch}/qualify.parquet", "--force"]
        theirs = [sys.executable, __file__, "peer", "--model", str(pickled), "--data",
                  str(args.data), "--out", f"{scratch}/peer.parquet"]
        times: dict[str, list[float]] = {"qualify": [], "peer": []}
        for run in range(args.runs):
            times["qualify"].append(timed(ours))
            times["peer"].append(timed(theirs))
            print(f"run {run + 1}: qualify {times['qualify'][-1]:.3f} s, "
                  f"peer {times['peer'][-1]:.3f} s", flush=True)
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"{name}: median {median:.3f} s (min {min(seconds):.3f}, max {max(seconds):.3f}),"
              f" {rows / median:,.0f} rows/s")
    ratios = [q / p for q, p in zip(times["qualify"], times["peer"])]
    print(f"qualify / peer wall time: median {statistics.median(ratios):.3f} "
          f"(pairs {min(ratios):.3f}-{max(ratios):.3f}); {rows:,} rows")


if __name__ == "__main__":
    main()
