"""qualify from Python: calibrated lead-conversion propensity models and the rule-based
qualification stage, on pandas, polars and pyarrow frames (and Spark, :mod:`qualify.spark`).

Every call runs the library function the ``qualify`` command line runs, so a frame scores
exactly as the same rows in a file score with ``qualify score``::

    import pandas as pd
    import qualify

    model = qualify.Model.load("models/flat")
    leads = pd.read_csv("data/sample/leads.csv")
    leads["propensity"] = model.score(leads)
    reasons = model.explain(leads, top=3)          # a pandas frame, as the input

Frames cross into the native module as Arrow record batches (the Arrow C stream
interface): no per-row Python. pandas' missing values (NaN, None) arrive as missing;
a NaN in a polars or pyarrow float column is an error, as in a file.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Union

import pyarrow as pa

from . import _native
from .errors import (
    BundleError,
    CompareError,
    InputError,
    QualifyError,
    QualifyWarning,
    RulesError,
    TrainError,
)

if TYPE_CHECKING:
    import numpy

__all__ = [
    "Model",
    "Rules",
    "Trained",
    "train",
    "compare",
    "QualifyError",
    "InputError",
    "BundleError",
    "RulesError",
    "TrainError",
    "CompareError",
    "QualifyWarning",
]
__version__: str = _native.__version__

PathLike = Union[str, "os.PathLike[str]"]
#: A pandas or polars DataFrame, a pyarrow Table, RecordBatch or RecordBatchReader, or any
#: object with ``__arrow_c_stream__``.
Frame = Any


def _stream(frame: Frame) -> Any:
    """The frame as an object the native module reads as an Arrow stream."""
    if isinstance(frame, pa.RecordBatch):
        return pa.Table.from_batches([frame])
    if isinstance(frame, (pa.Table, pa.RecordBatchReader)):
        return frame
    if type(frame).__module__.split(".")[0] == "pandas":
        if not hasattr(frame, "columns"):
            raise TypeError("expected a DataFrame, got a pandas Series: pass series.to_frame()")
        return _from_pandas(frame)
    if hasattr(frame, "__arrow_c_stream__"):
        return frame
    raise TypeError(
        f"expected a pandas or polars DataFrame or a pyarrow Table, got {type(frame).__name__}"
    )


def _from_pandas(frame: Any) -> pa.Table:
    """A pandas frame as Arrow: NaN and None (pandas' missing values) become nulls; the
    index is not a column. A column pyarrow cannot type (an object column mixing numbers
    and text) is an :class:`InputError` naming it."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        for name in frame.columns:
            try:
                pa.array(frame[name], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as column_error:
                raise InputError(
                    f"column {str(name)!r} mixes value types pyarrow cannot hold in one "
                    f"column ({column_error}): convert it to one dtype (e.g. .astype(str))",
                    str(name),
                ) from error
        raise InputError(f"the frame cannot be converted to Arrow: {error}") from error


def _like(frame: Frame, table: Union[pa.Table, pa.RecordBatch]) -> Frame:
    """A result table as the caller's kind of frame (pandas, polars, else pyarrow)."""
    top = type(frame).__module__.split(".")[0]
    if top == "pandas":
        return table.to_pandas()
    if top == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table


def _as_of(as_of: Union[None, str, datetime]) -> Optional[str]:
    """A scoring time as RFC 3339 text; a naive ``datetime`` is read as UTC."""
    if as_of is None or isinstance(as_of, str):
        return as_of
    if isinstance(as_of, datetime):
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=timezone.utc)
        return as_of.isoformat()
    raise TypeError(f"as_of: expected a datetime or RFC 3339 text, got {type(as_of).__name__}")


class Model:
    """A model bundle, loaded and checked against its golden rows."""

    def __init__(self, native: _native.Model) -> None:
        self._native = native

    @classmethod
    def load(cls, path: PathLike) -> "Model":
        """Loads the bundle in ``path``: a version directory, or a model directory (its
        latest version). Raises :class:`BundleError`."""
        return cls(_native.Model.load(os.fspath(path)))

    @property
    def name(self) -> str:
        return self._native.name

    @property
    def version(self) -> str:
        return self._native.version

    @property
    def path(self) -> Path:
        """The version directory the bundle was loaded from."""
        return Path(self._native.path)

    @property
    def can_explain(self) -> bool:
        return self._native.can_explain

    @property
    def manifest(self) -> Dict[str, Any]:
        """The bundle's ``manifest.json`` (schema, encoder, calibrator, metrics, ...)."""
        return json.loads(self._native.manifest_json())

    def score(
        self,
        frame: Frame,
        *,
        as_of: Union[None, str, datetime] = None,
        threads: Optional[int] = None,
    ) -> "numpy.ndarray":
        """Calibrated propensities of every row, in row order (float64), as
        ``qualify score`` computes them. ``as_of`` is the scoring time of timestamp features
        (default: the training data's reference time). Pieces of 16,384 rows are scored on
        ``threads`` threads (default: one per core). Raises :class:`InputError` with the
        ``field`` and ``row`` of a value the model cannot read."""
        scores = self._native.score(_stream(frame), _as_of(as_of), threads)
        return scores.to_numpy(zero_copy_only=False)

    def explain(
        self,
        frame: Frame,
        top: int = 3,
        *,
        as_of: Union[None, str, datetime] = None,
        threads: Optional[int] = None,
    ) -> Frame:
        """The columns of ``qualify score --explain --top TOP``: the schema's id (when the
        frame has it), ``propensity``, ``raw_score`` (log-odds) and, for each rank ``k``,
        ``positive_k_column``, ``positive_k_value``, ``positive_k_contribution`` and the
        same for ``negative_k_...``. Returned as the input's kind of frame. ``threads`` as
        for :meth:`score`."""
        if top < 0:
            raise InputError(f"top must be at least 0, got {top}", "top")
        table = self._native.explain(_stream(frame), top, _as_of(as_of), threads)
        return _like(frame, table)

    def __repr__(self) -> str:
        return f"qualify.Model({self.name!r}, version={self.version!r})"


class Rules:
    """A rules file (docs/rules.md), checked and compiled."""

    def __init__(self, native: _native.Rules) -> None:
        self._native = native

    @classmethod
    def load(cls, path: PathLike) -> "Rules":
        """Reads, checks and compiles the rules file. Raises :class:`RulesError` with every
        problem (``file:line:column``)."""
        return cls(_native.Rules.load(os.fspath(path)))

    @property
    def name(self) -> Optional[str]:
        return self._native.name

    @property
    def mql_threshold(self) -> float:
        return self._native.mql_threshold

    def evaluate(
        self, frame: Frame, *, as_of: Union[None, str, datetime] = None, id: str = "id"
    ) -> Frame:
        """Each row's rule outcome, as ``qualify rules score`` writes it: ``id``, ``score``,
        ``fit_score``, ``engagement_score``, ``stage``, ``gates_failed``, ``route``,
        ``reasons``. ``as_of`` (default: now) is when decay is measured. The file is first
        checked against the frame's columns: errors raise :class:`RulesError`, warnings are
        issued as :class:`QualifyWarning`."""
        batch, problems = self._native.evaluate(_stream(frame), _as_of(as_of), id)
        for problem in problems:
            warnings.warn(problem, QualifyWarning, stacklevel=2)
        return _like(frame, batch)

    def __repr__(self) -> str:
        return f"qualify.Rules({self.name!r})"


@dataclass(frozen=True)
class Trained:
    """A published bundle: its version directory, the manifest's metrics and the warnings
    ``qualify train`` prints."""

    path: Path
    metrics: Dict[str, Any]
    warnings: List[str]


def train(
    data: Union[PathLike, Frame, None] = None,
    out: Optional[PathLike] = None,
    *,
    leads: Union[PathLike, Frame, None] = None,
    events: Union[PathLike, Frame, None] = None,
    outcomes: Union[PathLike, Frame, None] = None,
    window: Union[int, str] = "90d",
    offsets: Sequence[int] = (0, 7, 14, 30, 60),
    count_windows: Sequence[int] = (7, 30, 90),
    half_life: Union[float, str] = "14d",
    as_of: Union[datetime, str, None] = None,
    min_type_events: Optional[int] = None,
    label: Optional[str] = None,
    schema: Optional[PathLike] = None,
    id: Optional[str] = None,
    model: str = "logistic",
    calibration: str = "auto",
    time_column: Optional[str] = None,
    test_fraction: float = 0.2,
    seed: int = 42,
    folds: int = 5,
    class_weight: str = "none",
    max_trees: Optional[int] = None,
    learning_rate: Optional[float] = None,
    leaves: Optional[int] = None,
    min_leaf_weight: Optional[float] = None,
    early_stopping_rounds: Optional[int] = None,
    name: Optional[str] = None,
) -> Trained:
    """Trains as ``qualify train`` does and publishes a new version under the model
    directory ``out``. ``data`` is a CSV or Parquet path (read as the CLI reads it) or a
    frame; the options are the CLI's flags (``model``: logistic, gbm or auto;
    ``calibration``: platt, isotonic or auto; ``class_weight``: none or balanced; the GBM
    options default to the CLI's). Raises :class:`InputError` for the data and options,
    :class:`TrainError` when training stops.

    A CRM history trains point-in-time instead of ``data``, as ``qualify train --leads L
    --events E --outcomes O`` does (docs/history.md): ``leads``, ``events`` and
    ``outcomes`` are three paths or three frames; ``window`` (the label's window),
    ``offsets`` (training moments, days after creation), ``count_windows`` and
    ``half_life`` are in days (``90``, or ``"90d"`` as on the command line); ``as_of`` is
    the end of the data. Without ``schema`` the leads schema is inferred from the leads."""
    options = {
        "label": label,
        "schema": None if schema is None else os.fspath(schema),
        "id": id,
        "model": model,
        "calibration": calibration,
        "time_column": time_column,
        "test_fraction": test_fraction,
        "seed": seed,
        "folds": folds,
        "class_weight": class_weight,
        "max_trees": max_trees,
        "learning_rate": learning_rate,
        "leaves": leaves,
        "min_leaf_weight": min_leaf_weight,
        "early_stopping_rounds": early_stopping_rounds,
        "name": name,
    }
    if out is None:
        raise TypeError("train() needs out, the model directory to publish into")
    history = (leads, events, outcomes)
    if any(t is not None for t in history):
        if data is not None:
            raise TypeError("train() takes data or leads/events/outcomes, not both")
        if any(t is None for t in history):
            raise TypeError("a history needs all of leads, events and outcomes")
        rows = {
            "window": _days(window, "window"),
            "offsets": [int(d) for d in offsets],
            "count_windows": [int(d) for d in count_windows],
            "half_life": float(_days(half_life, "half_life", whole=False)),
            "as_of": _as_of(as_of),
            "min_type_events": min_type_events,
        }
        tables = [_table_input(t) for t in history]
        path, metrics, notes = _native.train_history_tables(
            *tables, os.fspath(out), options, rows
        )
    elif data is None:
        raise TypeError("train() needs data, or leads, events and outcomes")
    elif isinstance(data, (str, os.PathLike)):
        path, metrics, notes = _native.train_file(os.fspath(data), os.fspath(out), options)
    else:
        path, metrics, notes = _native.train_frame(_stream(data), os.fspath(out), options)
    return Trained(Path(path), json.loads(metrics), list(notes))


def _table_input(table: Union[PathLike, Frame]) -> Any:
    """A history table as the native module takes it: a path, or an Arrow stream."""
    if isinstance(table, (str, os.PathLike)):
        return os.fspath(table)
    return _stream(table)


def _days(value: Union[int, float, str], option: str, whole: bool = True) -> Union[int, float]:
    """``90``, ``"90d"`` or ``"90"`` as a number of days (the command line's forms)."""
    text = str(value).strip()
    number = text[:-1] if text.endswith("d") else text
    try:
        days = int(number) if whole else float(number)
    except ValueError:
        raise InputError(
            f"{option} {value!r} is not a number of days (e.g. 90d)", option, None
        ) from None
    if days < 0:
        raise InputError(f"{option} {value!r} is negative", option, None)
    return days


def compare(
    data: Union[PathLike, Frame],
    *,
    label: str,
    model: Union[PathLike, Model],
    rules: Union[PathLike, Rules],
    out: Optional[PathLike] = None,
    capacity: Optional[str] = None,
    target_precision: Optional[float] = None,
    as_of: Union[None, str, datetime] = None,
    id: Optional[str] = None,
) -> Dict[str, Any]:
    """Compares the model and the rules on labelled leads as ``qualify compare`` does and
    returns ``comparison.json`` as a dict; with ``out``, writes every output of the command
    (tables, figures, report) into that directory. ``capacity`` is the CLI's
    ``--capacity`` (``500`` leads, or ``10%``)."""
    if not isinstance(model, Model):
        model = Model.load(model)
    if not isinstance(rules, Rules):
        rules = Rules.load(rules)
    source = os.fspath(data) if isinstance(data, (str, os.PathLike)) else _stream(data)
    text, problems = _native.compare(
        source,
        label,
        model._native,
        rules._native,
        None if out is None else os.fspath(out),
        capacity,
        target_precision,
        _as_of(as_of),
        id,
    )
    for problem in problems:
        warnings.warn(problem, QualifyWarning, stacklevel=2)
    return json.loads(text)
