#!/usr/bin/env python3
"""Recompute `qualify compare`'s figures from its leads.csv and check comparison.json.

An independent path: pandas reads leads.csv (id, label, propensity, decile, rule_score, stage,
route, qualifies_anyway, qualifies_by_points); scikit-learn gives ROC AUC, average precision,
log loss and Brier; numpy gives what scikit-learn lacks, written here from the definitions in
docs/compare.md (lift and capacity with ties at the cut shared pro rata, deciles from counts of
strictly higher propensities, ECE over 10 equal-width bins, threshold suggestions). Every figure
of comparison.json except the `applied` re-runs of the rules (they need the rules engine; they
are checked to equal `selection`) is compared, to 1e-6.

Usage: python scripts/check_compare.py OUT_DIR   (the --out directory of qualify compare)
Exit status 1 on any disagreement, listing each one.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

TOL = 1e-6
STAGES = ["Disqualified", "Nurture", "Lead", "MQL", "SQL", "PQL"]
QUALIFIED = {"MQL", "SQL", "PQL"}
problems = []
checked = 0


def check(name, got, want):
    """Records a disagreement between comparison.json (`got`) and the recomputation (`want`)."""
    global checked
    checked += 1
    if got is None or want is None:
        if got is not None or want is not None:
            problems.append(f"{name}: json {got!r}, recomputed {want!r}")
        return
    if isinstance(want, str):
        if got != want:
            problems.append(f"{name}: json {got!r}, recomputed {want!r}")
        return
    if not abs(float(got) - float(want)) <= TOL:
        problems.append(f"{name}: json {got!r}, recomputed {want!r}")


def rate(conv, n):
    return conv / n if n > 0 else None


def captured(y, s, k):
    """Expected positives among the top k rows by score s, ties at the cut pro rata."""
    values, inverse = np.unique(-s, return_inverse=True)  # ascending -s = descending s
    size = np.bincount(inverse)
    pos = np.bincount(inverse, weights=y)
    ends = np.cumsum(size)
    full = np.searchsorted(ends, k, side="right")  # groups wholly inside the cut
    got = pos[:full].sum()
    if full < len(size):
        taken = ends[full - 1] if full > 0 else 0
        got += pos[full] * (k - taken) / size[full]
    return float(got)


def selection(name, sel, leads, conv, positives):
    check(f"{name}.leads", sel["leads"], leads)
    check(f"{name}.conversions", sel["conversions"], conv)
    check(f"{name}.precision", sel["precision"], rate(conv, leads))
    check(f"{name}.recall", sel["recall"], conv / positives)


def main(out):
    c = json.loads((out / "comparison.json").read_text())
    d = pd.read_csv(out / "leads.csv", keep_default_na=False, na_values=[""])
    y = d["label"].to_numpy(dtype=float)
    p = d["propensity"].to_numpy(dtype=float)
    s = d["rule_score"].to_numpy(dtype=float)
    stage = d["stage"].to_numpy(dtype=str)
    n, positives = len(d), int(y.sum())
    qualified = np.isin(stage, list(QUALIFIED))

    check("leads", c["leads"], n)
    check("conversions", c["conversions"], positives)
    check("conversion_rate", c["conversion_rate"], positives / n)

    # Ranking figures: scikit-learn, and lift from the pro-rata definition.
    for key, score in [("propensity", p), ("rule_score", s)]:
        check(f"{key}.roc_auc", c[key]["roc_auc"], roc_auc_score(y, score))
        check(f"{key}.pr_auc", c[key]["pr_auc"], average_precision_score(y, score))
        k = 0.1 * n
        check(f"{key}.lift_at_10", c[key]["lift_at_10"], captured(y, score, k) / k / (positives / n))

    # Calibration.
    cal = c["calibration"]
    check("calibration.log_loss", cal["log_loss"], log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)))
    check("calibration.brier", cal["brier"], brier_score_loss(y, p))
    bins = np.minimum(np.floor(p * 10).astype(int), 9)
    ece = 0.0
    for b in range(10):
        m = bins == b
        row = cal["reliability"][b]
        check(f"reliability[{b}].count", row["count"], int(m.sum()))
        mean_p = float(p[m].mean()) if m.any() else None
        observed = float(y[m].mean()) if m.any() else None
        check(f"reliability[{b}].mean_predicted", row["mean_predicted"], mean_p)
        check(f"reliability[{b}].observed_rate", row["observed_rate"], observed)
        if m.any():
            ece += m.sum() / n * abs(mean_p - observed)
    check("calibration.ece", cal["ece"], ece)

    # Stages and the MQL-or-better set.
    for row in c["stages"]:
        m = stage == row["stage"]
        check(f"stages.{row['stage']}.leads", row["leads"], int(m.sum()))
        check(f"stages.{row['stage']}.conversions", row["conversions"], int(y[m].sum()))
        check(f"stages.{row['stage']}.conversion_rate", row["conversion_rate"], rate(y[m].sum(), m.sum()))
        check(f"stages.{row['stage']}.mean_propensity", row["mean_propensity"], float(p[m].mean()) if m.any() else None)
    check("stages (all listed)", ",".join(r["stage"] for r in c["stages"]), ",".join(STAGES))
    selection("mql", c["mql"], int(qualified.sum()), int(y[qualified].sum()), positives)

    # Deciles: 1 + floor(10 * (leads with a strictly higher propensity) / n).
    above = n - np.searchsorted(np.sort(p), p, side="right")
    decile = 1 + (10 * above) // n
    bad = int((decile != d["decile"].to_numpy()).sum())
    check("leads.csv decile column (rows that differ)", bad, 0)
    for row in c["deciles"]:
        m = decile == row["decile"]
        key = f"deciles[{row['decile']}]"
        check(f"{key}.leads", row["leads"], int(m.sum()))
        check(f"{key}.conversions", row["conversions"], int(y[m].sum()))
        check(f"{key}.min_propensity", row["min_propensity"], float(p[m].min()) if m.any() else None)
        check(f"{key}.max_propensity", row["max_propensity"], float(p[m].max()) if m.any() else None)
        check(f"{key}.rules_qualified", row["rules_qualified"], int((m & qualified).sum()))
    check("stage_by_decile cells", len(c["stage_by_decile"]), 60)
    for cell in c["stage_by_decile"]:
        m = (stage == cell["stage"]) & (decile == cell["decile"])
        key = f"matrix[{cell['stage']},{cell['decile']}]"
        check(f"{key}.leads", cell["leads"], int(m.sum()))
        check(f"{key}.conversions", cell["conversions"], int(y[m].sum()))
        check(f"{key}.conversion_rate", cell["conversion_rate"], rate(y[m].sum(), m.sum()))

    # Capacity.
    cap = c["capacity"]
    k = cap["leads"]
    if cap["source"].startswith("default"):
        check("capacity.leads (default = MQL-or-better count)", k, int(qualified.sum()))
    selection("capacity.model", cap["model"], k, captured(y, p, k), positives)
    selection("capacity.rule_score", cap["rule_score"], k, captured(y, s, k), positives)
    selection("capacity.rules_qualified", cap["rules_qualified"], int(qualified.sum()), int(y[qualified].sum()), positives)
    for point in cap["curve"]:
        worked = n * point["percent"] / 100
        check(f"curve[{point['percent']}].leads", point["leads"], worked)
        check(f"curve[{point['percent']}].model", point["model"], captured(y, p, worked))
        check(f"curve[{point['percent']}].rule_score", point["rule_score"], captured(y, s, worked))

    # Disagreements.
    groups = {
        "rules_reject_model_top_decile": np.isin(stage, ["Disqualified", "Nurture"]) & (decile == 1),
        "rules_below_mql_model_top_decile": (stage == "Lead") & (decile == 1),
        "rules_qualify_model_bottom_half": qualified & (decile >= 6),
    }
    check("disagreements", ",".join(g["id"] for g in c["disagreements"]), ",".join(groups))
    for g in c["disagreements"]:
        m = groups[g["id"]]
        check(f"{g['id']}.leads", g["leads"], int(m.sum()))
        check(f"{g['id']}.conversions", g["conversions"], int(y[m].sum()))
        check(f"{g['id']}.conversion_rate", g["conversion_rate"], rate(y[m].sum(), m.sum()))

    # Thresholds: MQL or better at t = qualifies anyway, or by points with rule score >= t.
    anyway = d["qualifies_anyway"].to_numpy() == 1
    by_points = (d["qualifies_by_points"].to_numpy() == 1) & ~anyway
    check("qualifies_anyway/by_points agree with current stages (rows that differ)",
          int(((anyway | (by_points & (s >= c["thresholds"]["current"]))) != qualified).sum()), 0)
    candidates = np.unique(s[by_points])[::-1]
    steps = []
    for t in candidates:
        m = anyway | (by_points & (s >= t))
        steps.append((float(t), int(m.sum()), int(y[m].sum())))
    t = c["thresholds"]
    fits = [st for st in steps if st[1] <= t["for_capacity"]["target"]]
    want_cap = fits[-1] if fits else None
    meets = [st for st in steps if st[2] / st[1] >= t["for_precision"]["target"]]
    want_prec = meets[-1] if meets else None
    for key, want in [("for_capacity", want_cap), ("for_precision", want_prec)]:
        sug = t[key]
        check(f"thresholds.{key}.threshold", sug["threshold"], want[0] if want else None)
        if want:
            selection(f"thresholds.{key}.selection", sug["selection"], want[1], want[2], positives)
            if sug["applied"] is not None:
                selection(f"thresholds.{key}.applied", sug["applied"], want[1], want[2], positives)
    if t["for_precision"]["target_source"].startswith("default"):
        check("thresholds.for_precision.target (model precision at K)",
              t["for_precision"]["target"], captured(y, p, k) / k)

    if problems:
        print(f"check_compare: {len(problems)} of {checked} figures disagree:")
        for line in problems:
            print("  " + line)
        return 1
    print(f"check_compare: {checked} figures of {out / 'comparison.json'} agree with "
          f"scikit-learn/numpy to {TOL:g}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
