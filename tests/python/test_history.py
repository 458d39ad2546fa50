"""Point-in-time training on a CRM history from Python (`qualify.train(leads=, events=,
outcomes=)`) against `qualify train --leads --events --outcomes`: the same history, from
files or from frames, gives the same bundle (test metrics, golden scores)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pytest

import qualify

OPTIONS = dict(window="60d", offsets=[0, 7, 30], seed=5, folds=3)
CLI_OPTIONS = ["--window", "60d", "--offsets", "0,7,30", "--seed", 5, "--folds", 3]


@pytest.fixture(scope="module")
def history(cli, tmp_path_factory):
    """A small synthetic CRM history written by `qualify synth --history`."""
    out = tmp_path_factory.mktemp("history")
    cli("synth", "--history", out, "--leads", 900, "--seed", 21)
    return {name: out / f"{name}.csv" for name in ("leads", "events", "outcomes")}


@pytest.fixture(scope="module")
def cli_bundle(cli, history, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "models"
    cli("train", "--leads", history["leads"], "--events", history["events"],
        "--outcomes", history["outcomes"], *CLI_OPTIONS, "--out", out)
    return qualify.Model.load(out)


def golden(model: qualify.Model) -> dict:
    """The bundle's golden rows and scores (without `as_of`, the time it was written)."""
    rows = json.loads((model.path / "golden.json").read_text())
    rows.pop("as_of")
    return rows


def test_history_files_train_the_bundle_the_cli_trains(history, cli_bundle, tmp_path):
    trained = qualify.train(out=tmp_path / "py", **history, **OPTIONS)
    model = qualify.Model.load(trained.path)
    assert model.manifest["metrics"]["test"] == cli_bundle.manifest["metrics"]["test"]
    assert model.manifest["schema"] == cli_bundle.manifest["schema"]
    assert model.manifest["history"] == cli_bundle.manifest["history"]
    assert model.manifest["training_data"]["sha256"] == (
        cli_bundle.manifest["training_data"]["sha256"]
    )
    assert golden(model) == golden(cli_bundle)
    # A point-in-time model's figures are held out out of time and beat the prior.
    test = trained.metrics["test"]
    assert test["roc_auc"] > trained.metrics["prior"]["roc_auc"]


@pytest.mark.parametrize("reader", ["pandas", "polars"])
def test_history_frames_train_as_their_files(reader, history, cli_bundle, tmp_path):
    read = {"pandas": pd.read_csv, "polars": pl.read_csv}[reader]
    frames = {name: read(path) for name, path in history.items()}
    trained = qualify.train(out=tmp_path / reader, **frames, **OPTIONS)
    model = qualify.Model.load(trained.path)
    assert model.manifest["training_data"]["file"] == "leads+events+outcomes frames"
    assert model.manifest["history"] == cli_bundle.manifest["history"]
    np.testing.assert_allclose(
        [model.manifest["metrics"]["test"][k] for k in ("roc_auc", "log_loss", "ece")],
        [cli_bundle.manifest["metrics"]["test"][k] for k in ("roc_auc", "log_loss", "ece")],
        atol=1e-12,
        rtol=0,
    )


def test_a_history_needs_three_tables_of_one_kind(history, tmp_path):
    with pytest.raises(TypeError, match="all of leads, events and outcomes"):
        qualify.train(out=tmp_path / "m", leads=history["leads"], events=history["events"])
    with pytest.raises(TypeError, match="not both"):
        qualify.train(history["leads"], tmp_path / "m", **history)
    with pytest.raises(qualify.InputError, match="not a mix"):
        qualify.train(out=tmp_path / "m", leads=pd.read_csv(history["leads"]),
                      events=history["events"], outcomes=history["outcomes"])
    with pytest.raises(qualify.InputError) as error:
        qualify.train(out=tmp_path / "m", **history, window="ninety days")
    assert error.value.field == "window"


def test_a_bad_history_cell_names_its_table_column_and_row(history, tmp_path):
    outcomes = pd.read_csv(history["outcomes"])
    outcomes.loc[2, "at"] = "not a time"
    frames = {"leads": pd.read_csv(history["leads"]), "events": pd.read_csv(history["events"]),
              "outcomes": outcomes}
    with pytest.raises(qualify.InputError) as error:
        qualify.train(out=tmp_path / "m", **frames)
    assert "outcomes" in str(error.value)
    assert error.value.field == "at"
    assert error.value.row == 3
