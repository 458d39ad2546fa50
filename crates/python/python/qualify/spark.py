"""Scoring Spark DataFrames: :func:`score` adds a ``propensity`` column through
``DataFrame.mapInArrow``, so rows travel to the model as Arrow record batches.

Each executor process loads a bundle once: the loaded model is kept in a module-level
cache keyed by the bundle's path, and every batch of every task that process runs reuses
it. The bundle's path must be readable from every executor (a shared file system or a
path that exists on each node).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Dict, Iterator, Union

import pyarrow as pa

from . import Model, _as_of

if TYPE_CHECKING:
    from datetime import datetime

    from pyspark.sql import DataFrame

_MODELS: Dict[str, Model] = {}
_LOCK = threading.Lock()


def _model(path: str) -> Model:
    """The bundle in ``path``, loaded once per process."""
    with _LOCK:
        model = _MODELS.get(path)
        if model is None:
            model = Model.load(path)
            _MODELS[path] = model
        return model


def score(
    df: "DataFrame",
    model_path: Union[str, "os.PathLike[str]"],
    *,
    column: str = "propensity",
    as_of: Union[None, str, "datetime"] = None,
) -> "DataFrame":
    """``df`` with a ``column`` (double) holding each row's calibrated propensity, as
    ``qualify score`` computes it. ``df`` needs the bundle's feature columns (others are
    carried through). ``as_of`` is the scoring time of timestamp features (default: the
    training data's reference time)."""
    from pyspark.sql.types import DoubleType, StructField, StructType

    path = os.fspath(model_path)
    if column in df.columns:
        raise ValueError(f"the DataFrame already has a column {column!r}: pass column=...")
    when = _as_of(as_of)
    schema = StructType(df.schema.fields + [StructField(column, DoubleType(), False)])

    def scored(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        model = _model(path)
        for batch in batches:
            if batch.num_rows == 0:
                continue
            scores = model._native.score(pa.Table.from_batches([batch]), when)
            yield batch.append_column(column, scores)

    return df.mapInArrow(scored, schema)


def loaded_models() -> Dict[str, Any]:
    """The bundles this process has loaded (path to model): what the cache holds."""
    with _LOCK:
        return dict(_MODELS)
