"""Model.load / score / explain against `qualify score` on the same rows: the bundled
model on the bundled sample, and models trained in the test (logistic and GBM)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv  # noqa: F401  (pa.csv)
import pyarrow.parquet as pq
import pytest

import qualify
from conftest import MODEL, SAMPLE

TOL = 1e-12


def cli_scores(cli, model, data, out, *extra) -> pa.Table:
    cli("score", "--model", model, "--data", data, "--out", out, *extra)
    return pq.read_table(out)


@pytest.fixture(scope="module")
def sample_scores(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "scores.parquet"
    return cli_scores(cli, MODEL, SAMPLE, out)


@pytest.mark.parametrize("reader", ["pandas", "polars", "pyarrow"])
def test_sample_scores_equal_the_cli(reader, sample_scores):
    frame = {
        "pandas": lambda: pd.read_csv(SAMPLE),
        "polars": lambda: pl.read_csv(SAMPLE),
        "pyarrow": lambda: pa.csv.read_csv(SAMPLE),
    }[reader]()
    model = qualify.Model.load(MODEL)
    got = model.score(frame)
    want = sample_scores.column("propensity").to_numpy()
    assert got.dtype == np.float64
    assert len(got) == len(want) == 5000
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    assert sample_scores.column("id").to_pylist() == list(pd.read_csv(SAMPLE)["id"])


def test_batches_score_as_one_frame(sample_scores):
    table = pa.csv.read_csv(SAMPLE)
    batches = table.to_batches(max_chunksize=777)
    assert len(batches) > 5
    model = qualify.Model.load(MODEL)
    got = model.score(pa.Table.from_batches(batches))
    np.testing.assert_allclose(got, sample_scores.column("propensity").to_numpy(), atol=TOL, rtol=0)
    one = model.score(batches[3])
    np.testing.assert_allclose(one, got[3 * 777 : 4 * 777], atol=0, rtol=0)


def test_as_of_matches_the_cli(cli, tmp_path):
    when = "2026-06-01T00:00:00Z"
    want = cli_scores(cli, MODEL, SAMPLE, tmp_path / "s.parquet", "--as-of", when)
    model = qualify.Model.load(MODEL)
    from datetime import datetime, timezone

    for as_of in [when, datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 6, 1)]:
        got = model.score(pd.read_csv(SAMPLE), as_of=as_of)
        np.testing.assert_allclose(got, want.column("propensity").to_numpy(), atol=TOL, rtol=0)


def assert_explanations_equal(got: pa.Table, want: pa.Table):
    assert got.column_names == want.column_names
    for name in want.column_names:
        g, w = got.column(name).to_pylist(), want.column(name).to_pylist()
        if name.endswith("_contribution") or name in ("propensity", "raw_score"):
            g = np.array([np.nan if v is None else v for v in g], dtype=float)
            w = np.array([np.nan if v is None else v for v in w], dtype=float)
            np.testing.assert_allclose(g, w, atol=TOL, rtol=0, err_msg=name)
        else:
            # pyarrow's CSV reader keeps an empty cell of a text column as "", polars (the
            # CLI's reader) as null: both are missing to the encoder, and a reason shows the
            # value as it was passed.
            assert [v or None for v in g] == [v or None for v in w], name


def test_explanations_equal_the_cli(cli, tmp_path):
    want = cli_scores(
        cli, MODEL, SAMPLE, tmp_path / "why.parquet", "--explain", "--top", "3"
    )
    model = qualify.Model.load(MODEL)
    got = model.explain(pa.csv.read_csv(SAMPLE), top=3)
    assert isinstance(got, pa.Table)
    assert_explanations_equal(got, want)
    # As the caller's kind of frame.
    frame = model.explain(pd.read_csv(SAMPLE).head(50), top=2)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns[:3]) == ["id", "propensity", "raw_score"]
    assert "negative_2_contribution" in frame.columns and "positive_3_column" not in frame.columns
    assert isinstance(model.explain(pl.read_csv(SAMPLE).head(5)), pl.DataFrame)


@pytest.fixture(scope="module")
def synthetic(cli, tmp_path_factory):
    """A synthetic data set written by `qualify synth`."""
    path = tmp_path_factory.mktemp("synth") / "leads.csv"
    cli("synth", "--rows", 3000, "--seed", 7, "--out", path)
    return path


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_a_model_trained_in_python_scores_as_the_cli(kind, cli, synthetic, tmp_path):
    trained = qualify.train(
        synthetic, tmp_path / "models" / kind, label="converted", id="id", model=kind,
        folds=3, max_trees=60,
    )
    assert trained.path.parent == tmp_path / "models" / kind
    assert (trained.path / "manifest.json").is_file()
    assert 0.5 < trained.metrics["test"]["roc_auc"] <= 1.0
    assert trained.metrics["test"]["roc_auc"] > trained.metrics["prior"]["roc_auc"]
    model = qualify.Model.load(trained.path)
    assert model.manifest["model"]["kind"] == kind
    want = cli_scores(cli, trained.path, synthetic, tmp_path / "s.parquet")
    got = model.score(pl.read_csv(synthetic))
    np.testing.assert_allclose(got, want.column("propensity").to_numpy(), atol=TOL, rtol=0)
    why = cli_scores(cli, trained.path, synthetic, tmp_path / "w.parquet", "--explain", "--top", "2")
    assert_explanations_equal(model.explain(pa.csv.read_csv(synthetic), top=2), why)


def test_training_on_a_frame_equals_training_on_its_file(cli, synthetic, tmp_path):
    options = dict(label="converted", id="id", folds=3, seed=3)
    from_file = qualify.train(synthetic, tmp_path / "file", **options)
    from_frame = qualify.train(pd.read_csv(synthetic), tmp_path / "frame", **options)
    assert from_file.metrics["test"] == from_frame.metrics["test"]
    frame = pa.csv.read_csv(synthetic)
    np.testing.assert_allclose(
        qualify.Model.load(from_file.path).score(frame),
        qualify.Model.load(from_frame.path).score(frame),
        atol=TOL,
        rtol=0,
    )
    manifest = qualify.Model.load(from_frame.path).manifest
    assert manifest["training_data"]["file"] == "data frame"
    assert len(manifest["training_data"]["sha256"]) == 64
    # The CLI trains the same model from the file.
    cli("train", "--data", synthetic, "--label", "converted", "--id", "id", "--folds", 3,
        "--seed", 3, "--out", tmp_path / "cli")
    cli_model = qualify.Model.load(tmp_path / "cli")
    assert cli_model.manifest["metrics"]["test"] == from_file.metrics["test"]


def test_arrow_types_score_as_their_plain_values():
    """Each Arrow type the package reads (docs/python.md) gives the scores its plain
    counterpart gives: integers of every width, floats, decimals, categoricals
    (dictionaries), large strings, string views, timestamps with and without a zone, dates."""
    import pyarrow.compute as pc

    plain = pa.csv.read_csv(SAMPLE, convert_options=pa.csv.ConvertOptions(
        column_types={"last_activity_at": pa.string(), "created_at": pa.string()}))
    model = qualify.Model.load(MODEL)
    want = model.score(plain)

    def cast(table, name, kind):
        return table.set_column(table.schema.get_field_index(name), name,
                                pc.cast(table.column(name), kind))

    typed = plain
    for name, kind in [
        ("employees", pa.float32()),
        ("website_visit_count", pa.int8()),
        ("pricing_page_visit_count", pa.uint64()),
        ("email_open_count", pa.int16()),
        ("demo_request_count", pa.decimal128(22, 2)),
        ("industry", pa.dictionary(pa.int32(), pa.string())),
        ("country", pa.large_string()),
        ("seniority", pa.string_view()),
    ]:
        typed = cast(typed, name, kind)
    stamps = pc.strptime(typed.column("last_activity_at"), format="%Y-%m-%dT%H:%M:%S%z", unit="s",
                         error_is_null=True)
    typed = typed.set_column(typed.schema.get_field_index("last_activity_at"),
                             "last_activity_at", pc.cast(stamps, pa.timestamp("ms", tz="UTC")))
    got = model.score(typed)
    # float32 employees lose digits beyond 24 bits: none in the sample (< 16.7 M).
    np.testing.assert_allclose(got, want, atol=1e-12, rtol=0)
    # A time-zone-less timestamp reads as UTC; a date as midnight UTC.
    naive = typed.set_column(typed.schema.get_field_index("last_activity_at"), "last_activity_at",
                             pc.cast(stamps, pa.timestamp("us")))
    np.testing.assert_allclose(model.score(naive), want, atol=1e-12, rtol=0)
    dates = pc.cast(pc.cast(stamps, pa.timestamp("s")), pa.date32())
    as_dates = typed.set_column(typed.schema.get_field_index("last_activity_at"),
                                "last_activity_at", dates)
    day_text = pc.strftime(dates, format="%Y-%m-%d")
    as_text = plain.set_column(plain.schema.get_field_index("last_activity_at"),
                               "last_activity_at", day_text)
    np.testing.assert_allclose(model.score(as_dates), model.score(as_text), atol=0, rtol=0)
