"""qualify.spark.score on PySpark in local mode: generated rows (the bundled sample repeated,
QUALIFY_SPARK_ROWS rows, default 1,000,000) scored through mapInArrow, a sample of them
checked against `qualify score`, rows per second printed beside the CLI's on the same rows."""

from __future__ import annotations

import os
import shutil
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest

import qualify
import qualify.spark
from conftest import MODEL, SAMPLE

ROWS = int(os.environ.get("QUALIFY_SPARK_ROWS", "1000000"))


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("qualify-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.local.dir", str(tmp_path_factory.mktemp("spark")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_scores_equal_the_cli(spark, cli, tmp_path, capsys):
    from pyspark.sql import functions as F

    import pandas as pd

    sample = pd.read_csv(SAMPLE, dtype={"crm": "string", "tech_stack": "string"})
    copies = -(-ROWS // len(sample))
    leads = (
        spark.createDataFrame(sample)
        .crossJoin(spark.range(copies).withColumnRenamed("id", "copy"))
        .limit(ROWS)
        .repartition(4)
        .cache()
    )
    assert leads.count() == ROWS
    data = tmp_path / "leads.parquet"
    leads.coalesce(1).write.parquet(str(data))

    scored = qualify.spark.score(leads, str(MODEL))
    started = time.perf_counter()
    scored.write.format("noop").mode("overwrite").save()
    spark_seconds = time.perf_counter() - started

    # A sample of the scored rows against `qualify score` on the bundled sample.
    cli("score", "--model", MODEL, "--data", SAMPLE, "--out", tmp_path / "cli.parquet")
    want = pq.read_table(tmp_path / "cli.parquet").to_pandas().set_index("id")["propensity"]
    checked = scored.sample(fraction=min(1.0, 20000 / ROWS), seed=1).select("id", "propensity")
    got = checked.toPandas()
    assert len(got) > 1000
    np.testing.assert_allclose(
        got["propensity"].to_numpy(), want.loc[got["id"]].to_numpy(), atol=1e-12, rtol=0
    )
    assert scored.filter(F.col("propensity").isNull()).count() == 0

    # The CLI on the same rows, for rows per second on this machine.
    part = next(p for p in data.iterdir() if p.suffix == ".parquet")
    started = time.perf_counter()
    cli("score", "--model", MODEL, "--data", part, "--out", tmp_path / "all.parquet")
    cli_seconds = time.perf_counter() - started
    assert pq.read_metadata(tmp_path / "all.parquet").num_rows == ROWS
    leads.unpersist()
    shutil.rmtree(data)
    (tmp_path / "all.parquet").unlink()
    with capsys.disabled():
        print(
            f"\nqualify.spark.score: {ROWS} rows in {spark_seconds:.1f} s "
            f"({ROWS / spark_seconds:,.0f} rows/s, local[2]); "
            f"qualify score (this run's binary): {cli_seconds:.1f} s "
            f"({ROWS / cli_seconds:,.0f} rows/s)"
        )


def test_each_process_loads_a_bundle_once(tmp_path):
    first = qualify.spark._model(str(MODEL))
    assert qualify.spark._model(str(MODEL)) is first
    assert list(qualify.spark.loaded_models()) == [str(MODEL)]


def test_spark_explanations_equal_the_cli(spark, cli, tmp_path):
    import pandas as pd

    # The file's first 2,000 leads as written (booleans as the file spells them).
    path = tmp_path / "head.csv"
    path.write_text("".join(SAMPLE.read_text().splitlines(keepends=True)[:2001]))
    sample = pd.read_csv(path, dtype={"crm": "string", "tech_stack": "string"})
    cli("score", "--model", MODEL, "--data", path, "--out", tmp_path / "why.parquet",
        "--explain", "--top", "2")
    want = pq.read_table(tmp_path / "why.parquet").to_pandas().set_index("id")
    scored = qualify.spark.score(spark.createDataFrame(sample).repartition(3), str(MODEL),
                                 explain=True, top=2)
    added = ["propensity"] + qualify.spark.explain_columns(2)
    assert scored.columns[-len(added):] == added
    got = scored.select("id", *added).toPandas().set_index("id").loc[want.index]
    for name in added:
        if name.endswith(("_column", "_value")):
            assert [v or None for v in got[name]] == [v or None for v in want[name]], name
        else:
            np.testing.assert_allclose(got[name].astype(float), want[name].astype(float),
                                       atol=1e-12, rtol=0, err_msg=name)
