"""The exceptions qualify raises, with the command line's message and, where known, the
offending column (``field``) and 1-based data row (``row``).

Every exception is a :class:`QualifyError`; :class:`InputError` (a frame, file or option
the caller passed) is also a :class:`ValueError`.
"""

from __future__ import annotations

from typing import Optional


class QualifyError(Exception):
    """Base class: ``str(e)`` is the message ``qualify`` prints; ``field`` is the column
    (or option) at fault and ``row`` the 1-based data row, when the error knows them."""

    field: Optional[str]
    row: Optional[int]

    def __init__(
        self, message: str, field: Optional[str] = None, row: Optional[int] = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.row = row


class InputError(QualifyError, ValueError):
    """A frame, file or option the library refuses: a missing column, a value of the
    wrong type, NaN, an empty frame, an unknown option value."""


class BundleError(QualifyError):
    """A model bundle that cannot be loaded or cannot do what was asked (explain)."""


class RulesError(QualifyError):
    """A rules file that cannot be read, is invalid, or names columns the data lacks."""


class TrainError(QualifyError):
    """A training run that stopped (too few rows of a class, too many folds, ...)."""


class CompareError(QualifyError):
    """A comparison of model and rules that could not be made."""


class QualifyWarning(UserWarning):
    """Something to know that does not stop the work (a rules check's warnings)."""
