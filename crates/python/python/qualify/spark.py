"""Scoring Spark DataFrames: :func:`score` adds a ``propensity`` column (and, on request,
the explanation columns of ``qualify score --explain``) through ``DataFrame.mapInArrow``, so
rows travel to the model as Arrow record batches.

Each executor process loads a bundle once: the loaded model is kept in a module-level
cache keyed by the bundle's path, and every batch of every task that process runs reuses
it. The bundle's path must be readable from every executor (a shared file system or a
path that exists on each node).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Union

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


def explain_columns(top: int) -> List[str]:
    """The columns :func:`score` adds with ``explain=True`` after the propensity, as
    ``qualify score --explain --top TOP`` names them."""
    names = ["raw_score"]
    for sign in ("positive", "negative"):
        for k in range(1, top + 1):
            names += [f"{sign}_{k}_column", f"{sign}_{k}_value", f"{sign}_{k}_contribution"]
    return names


def score(
    df: "DataFrame",
    model_path: Union[str, "os.PathLike[str]"],
    *,
    column: str = "propensity",
    explain: bool = False,
    top: int = 3,
    as_of: Union[None, str, "datetime"] = None,
) -> "DataFrame":
    """``df`` with a ``column`` (double) holding each row's calibrated propensity, as
    ``qualify score`` computes it; with ``explain``, also ``raw_score`` and the ``top``
    reasons of each sign (:func:`explain_columns`), as ``qualify score --explain``. ``df``
    needs the bundle's feature columns (others are carried through). ``as_of`` is the
    scoring time of timestamp features (default: the training data's reference time)."""
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    path = os.fspath(model_path)
    added = [column] + (explain_columns(top) if explain else [])
    clash = [name for name in added if name in df.columns]
    if clash:
        raise ValueError(f"the DataFrame already has the column(s) {clash}: rename them")
    when = _as_of(as_of)
    fields = [StructField(column, DoubleType(), False)]
    for name in added[1:]:
        kind = StringType() if name.endswith(("_column", "_value")) else DoubleType()
        fields.append(StructField(name, kind, name != "raw_score"))
    schema = StructType(df.schema.fields + fields)

    # One thread per batch: Spark already runs a task per core.
    def scored(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        model = _model(path)
        for batch in batches:
            if batch.num_rows == 0:
                continue
            frame = pa.Table.from_batches([batch])
            if explain:
                why = model._native.explain(frame, top, when, 1)
                arrays = [why.column("propensity")] + [why.column(n) for n in added[1:]]
            else:
                arrays = [model._native.score(frame, when, 1)]
            out = batch
            for name, array in zip(added, arrays):
                if isinstance(array, pa.ChunkedArray):
                    array = array.combine_chunks()
                out = out.append_column(name, array)
            yield out

    return df.mapInArrow(scored, schema)


def loaded_models() -> Dict[str, Any]:
    """The bundles this process has loaded (path to model): what the cache holds."""
    with _LOCK:
        return dict(_MODELS)
