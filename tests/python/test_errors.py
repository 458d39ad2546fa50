"""Bad frames raise qualify's exceptions with the command line's message and the offending
column (`field`) and 1-based row, never a panic or a silently wrong score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import qualify
from conftest import MODEL, RULES, SAMPLE


@pytest.fixture(scope="module")
def model():
    return qualify.Model.load(MODEL)


@pytest.fixture(scope="module")
def leads():
    return pd.read_csv(SAMPLE).head(50)


def cli_error(cli, frame: pd.DataFrame, tmp_path) -> str:
    """What `qualify score` prints for the same rows written to a CSV file."""
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    done = cli("score", "--model", MODEL, "--data", path, "--out", tmp_path / "o.csv", check=False)
    assert done.returncode != 0
    return done.stderr


def test_text_in_a_numeric_column_names_column_and_row(model, leads, cli, tmp_path):
    bad = leads.copy()
    bad["employees"] = bad["employees"].astype("string")
    bad.loc[6, "employees"] = "many"
    with pytest.raises(qualify.InputError) as caught:
        model.score(bad)
    error = caught.value
    assert isinstance(error, ValueError) and isinstance(error, qualify.QualifyError)
    assert (error.field, error.row) == ("employees", 7)
    assert str(error) == 'column "employees", row 7: expected a number, found text "many"'
    # The CLI says the same about the same rows in a file.
    assert str(error) in cli_error(cli, bad, tmp_path)


def test_a_missing_column_is_named(model, leads, cli, tmp_path):
    with pytest.raises(qualify.InputError) as caught:
        model.score(leads.drop(columns=["industry"]))
    assert caught.value.field == "industry" and caught.value.row is None
    assert "column \"industry\" that the model reads is not in the data" in str(caught.value)
    assert str(caught.value) in cli_error(cli, leads.drop(columns=["industry"]), tmp_path)


@pytest.mark.parametrize("kind", ["pyarrow", "polars"])
def test_nan_in_a_numeric_column_is_refused(model, leads, kind):
    table = pa.Table.from_pandas(leads, preserve_index=False)
    values = [float(v) if v is not None else 1.0 for v in table.column("employees").to_pylist()]
    values[9] = float("nan")
    column = pa.array(values, type=pa.float64(), from_pandas=False)
    table = table.set_column(table.schema.get_field_index("employees"), "employees", column)
    frame = table if kind == "pyarrow" else pl.from_arrow(table)
    with pytest.raises(qualify.InputError) as caught:
        model.score(frame)
    assert (caught.value.field, caught.value.row) == ("employees", 10)
    assert "expected a finite number, found NaN" in str(caught.value)


def test_pandas_nan_is_missing_as_an_empty_cell_is(model, leads):
    # pandas writes missing numbers as NaN: they arrive as nulls, scored as empty cells.
    assert leads["employees"].isna().any()
    scores = model.score(leads)
    assert np.isfinite(scores).all()


def test_an_empty_frame_is_refused(model, leads):
    for frame in [leads.head(0), pl.from_pandas(leads).head(0)]:
        with pytest.raises(qualify.InputError, match="the frame has no rows"):
            model.score(frame)


def test_an_unsupported_type_names_its_column(model, leads):
    table = pa.Table.from_pandas(leads, preserve_index=False)
    lists = pa.array([[1, 2]] * len(leads))
    table = table.set_column(table.schema.get_field_index("employees"), "employees", lists)
    with pytest.raises(qualify.InputError) as caught:
        model.score(table)
    assert caught.value.field == "employees"
    assert "Arrow type" in str(caught.value)


def test_a_mixed_object_column_names_its_column(model, leads):
    bad = leads.copy()
    bad["employees"] = bad["employees"].astype(object)
    bad.loc[2, "employees"] = "many"
    with pytest.raises(qualify.InputError) as caught:
        model.score(bad)
    assert caught.value.field == "employees"


def test_a_bad_row_in_a_later_batch_has_its_frame_row(model, leads):
    table = pa.Table.from_pandas(leads, preserve_index=False)
    text = pa.array([str(v) for v in table.column("employees").to_pylist()])
    values = text.to_pylist()
    values[42] = "lots"
    table = table.set_column(
        table.schema.get_field_index("employees"), "employees", pa.array(values)
    )
    batched = pa.Table.from_batches(table.to_batches(max_chunksize=10))
    with pytest.raises(qualify.InputError) as caught:
        model.score(batched)
    assert (caught.value.field, caught.value.row) == ("employees", 43)


def test_other_inputs_are_refused_clearly(model, leads, tmp_path):
    with pytest.raises(TypeError, match="pandas or polars DataFrame"):
        model.score([1, 2, 3])
    with pytest.raises(qualify.InputError) as caught:
        model.score(leads, as_of="yesterday")
    assert caught.value.field == "as_of"
    with pytest.raises(qualify.BundleError, match="cannot load the model bundle"):
        qualify.Model.load(tmp_path / "nothing")
    with pytest.raises(qualify.RulesError):
        qualify.Rules.load(tmp_path / "nothing.toml")
    with pytest.raises(qualify.InputError) as caught:
        qualify.train(leads, tmp_path / "m", label="converted", model="forest")
    assert caught.value.field == "model"


def test_training_errors_carry_the_label_column(leads, tmp_path):
    with pytest.raises(qualify.InputError) as caught:
        qualify.train(leads.drop(columns=["converted"]), tmp_path / "m", label="converted")
    assert caught.value.field == "converted"
    bad = leads.copy()
    bad["converted"] = bad["converted"].astype("string")
    bad.loc[4, "converted"] = "maybe"
    with pytest.raises(qualify.InputError) as caught:
        qualify.train(bad, tmp_path / "m", label="converted")
    assert (caught.value.field, caught.value.row) == ("converted", 5)


def test_rules_on_a_column_the_frame_lacks_are_refused(leads):
    rules = qualify.Rules.load(RULES)
    with pytest.raises(qualify.RulesError, match="unknown field `employees`"):
        rules.evaluate(leads.drop(columns=["employees"]))
