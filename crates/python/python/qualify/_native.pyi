"""Type stubs of the native module (crates/python/src). Use the wrappers in :mod:`qualify`."""

from typing import Any, Dict, List, Optional, Tuple

import pyarrow as pa

__version__: str

class Model:
    @staticmethod
    def load(path: str) -> Model: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def can_explain(self) -> bool: ...
    def manifest_json(self) -> str: ...
    def score(
        self, frame: Any, as_of: Optional[str] = None, threads: Optional[int] = None
    ) -> pa.Array: ...
    def explain(
        self,
        frame: Any,
        top: int = 3,
        as_of: Optional[str] = None,
        threads: Optional[int] = None,
    ) -> pa.Table: ...

class Rules:
    @staticmethod
    def load(path: str) -> Rules: ...
    @property
    def name(self) -> Optional[str]: ...
    @property
    def mql_threshold(self) -> float: ...
    def evaluate(
        self, frame: Any, as_of: Optional[str] = None, id: str = "id"
    ) -> Tuple[pa.RecordBatch, List[str]]: ...

def train_file(data: str, out: str, options: Dict[str, Any]) -> Tuple[str, str, List[str]]: ...
def train_frame(frame: Any, out: str, options: Dict[str, Any]) -> Tuple[str, str, List[str]]: ...
def train_history_tables(
    leads: Any, events: Any, outcomes: Any, out: str, options: Dict[str, Any], rows: Dict[str, Any]
) -> Tuple[str, str, List[str]]: ...
def compare(
    data: Any,
    label: str,
    model: Model,
    rules: Rules,
    out: Optional[str] = None,
    capacity: Optional[str] = None,
    target_precision: Optional[float] = None,
    as_of: Optional[str] = None,
    id: Optional[str] = None,
) -> Tuple[str, List[str]]: ...
