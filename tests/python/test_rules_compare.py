"""Rules.evaluate and compare against `qualify rules score` and `qualify compare`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pyarrow.csv as pacsv
import pytest

import qualify
from conftest import MODEL, RULES, SAMPLE

AS_OF = "2026-06-01T00:00:00Z"


def test_rule_outcomes_equal_the_cli(cli, tmp_path):
    out = tmp_path / "rules.csv"
    cli("rules", "score", "--rules", RULES, "--data", SAMPLE, "--out", out, "--as-of", AS_OF)
    want = pd.read_csv(out, keep_default_na=False)
    rules = qualify.Rules.load(RULES)
    for frame in [pd.read_csv(SAMPLE), pl.read_csv(SAMPLE), pacsv.read_csv(SAMPLE)]:
        got = rules.evaluate(frame, as_of=AS_OF)
        if not isinstance(got, pd.DataFrame):
            got = got.to_pandas()
        got = got.fillna("")
        assert list(got.columns) == list(want.columns)
        for name in ["score", "fit_score", "engagement_score"]:
            np.testing.assert_allclose(got[name], want[name], atol=1e-9, rtol=0)
        for name in ["id", "stage", "gates_failed", "route", "reasons"]:
            assert list(got[name].astype(str)) == list(want[name].astype(str)), name


def test_comparison_equals_the_cli(cli, tmp_path):
    cli("compare", "--data", SAMPLE, "--label", "converted", "--model", MODEL, "--rules",
        RULES, "--out", tmp_path / "cli", "--capacity", "500")
    want = json.loads((tmp_path / "cli" / "comparison.json").read_text())
    got = qualify.compare(SAMPLE, label="converted", model=MODEL, rules=RULES,
                          capacity="500", out=tmp_path / "py")
    assert got == want
    assert (tmp_path / "py" / "report.html").is_file()
    # A frame compares as its file does, model and rules alike.
    framed = qualify.compare(pacsv.read_csv(SAMPLE), label="converted",
                             model=qualify.Model.load(MODEL), rules=qualify.Rules.load(RULES),
                             capacity="500")
    for key in ["leads", "conversions", "propensity", "rule_score", "capacity"]:
        assert framed[key] == want[key], key


def test_compare_options_are_checked():
    with pytest.raises(qualify.InputError) as caught:
        qualify.compare(SAMPLE, label="converted", model=MODEL, rules=RULES, capacity="lots")
    assert caught.value.field == "capacity"
