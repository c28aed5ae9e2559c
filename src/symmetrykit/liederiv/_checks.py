"""Argument checks shared by the Lie-derivative framework's functions and estimators."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import Integer, Text, Whatever, as_samples
from ..lie import LieAlgebra, as_array

__all__: list[str] = []


def _is_integer(value: Any) -> bool:
    """An ``int`` or NumPy integer, not a bool (whose ``True`` would read as 1)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_rtol(rtol: Any) -> float:
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float, np.floating)):
        raise ValueError(f"rtol must be a number in (0, 1), got {rtol!r}")
    if not 0 < rtol < 1:
        raise ValueError(f"rtol must be in (0, 1), got {rtol!r}")
    return float(rtol)


def _check_positive(name: str, value: Any, *, integer: bool = False) -> None:
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if (isinstance(value, bool) or not isinstance(value, kinds) or not value > 0
            or not math.isfinite(value)):
        kind = "integer" if integer else "finite number"
        raise ValueError(f"{name} must be a positive {kind}, got {value!r}")


def _check_nonnegative(name: str, value: Any) -> None:
    kinds = (int, float, np.integer, np.floating)
    if (isinstance(value, bool) or not isinstance(value, kinds) or not value >= 0
            or not math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _as_targets(y: Any, n_samples: int, *, name: str = "y", owner: str | None = None
                ) -> tuple[np.ndarray, bool]:
    """Targets as a real, finite float64 ``(n_samples, m)`` array, and whether they were 1-D.

    Refused with one line naming ``name``: complex values (never cut to their real part),
    non-numeric data, NaN/inf and a number of rows other than ``n_samples``. Their scale is
    not checked: the regressions solve in float64.
    """
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    try:
        one_d = np.ndim(y) == 1
    except (TypeError, ValueError):  # ragged nesting: as_samples names the problem
        one_d = False
    array = as_samples(np.asarray(y)[:, None] if one_d else y, name=name, owner=owner,
                       check_scale=False, warn_constant=False)
    if array.shape[0] != n_samples:
        who = f"{owner}: " if owner else ""
        raise ValueError(f"{who}{name} must have shape ({n_samples},) or ({n_samples}, m), one "
                         f"row per sample, got {array.shape[0]} rows")
    return array, one_d


def _as_algebra(value: Any, name: str) -> LieAlgebra | None:
    """``value`` as a :class:`LieAlgebra` (a ``(k, d, d)`` array is accepted), or ``None``."""
    if value is None or isinstance(value, LieAlgebra):
        return value
    try:
        return LieAlgebra(as_array(value, name=name), name=name)
    except ValueError as exc:
        raise ValueError(f"{name} must be a LieAlgebra or a (k, d, d) array: {exc}") from exc


def _required_algebra(value: Any) -> LieAlgebra:
    """The candidate generators acting on the inputs, which must be given."""
    algebra = _as_algebra(value, "algebra")
    if algebra is None:
        raise ValueError("algebra is required")
    return algebra


def _as_output_action(value: Any) -> Any:
    """``None``, a named action (``"invariant"``, ``"tangent"``) or a :class:`LieAlgebra`."""
    if value is None or isinstance(value, str):
        return value
    return _as_algebra(value, "output_algebra")


# ------------------------------------------------------------------ parameter forms
def _is_numpy_seed(value: Any) -> bool:
    """What ``numpy.random.default_rng`` takes besides None and non-negative integers."""
    return isinstance(value, (np.random.Generator, np.random.BitGenerator,
                              np.random.SeedSequence))


def _is_algebra_like(value: Any) -> bool:
    """A :class:`LieAlgebra`, or an array-like of numbers of shape ``(k, d, d)`` (its values
    are checked when the fit converts it)."""
    if isinstance(value, LieAlgebra):
        return True
    if isinstance(value, (str, bytes)):
        return False
    shape = np.shape(value)
    return len(shape) == 3 and shape[1] == shape[2] and shape[0] >= 1


def _is_element_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


#: ``random_state`` of the NumPy-seeded estimators (``numpy.random.default_rng``).
NUMPY_RANDOM_STATE: list[Any] = [None, Integer(0), Whatever(
    _is_numpy_seed, "a numpy Generator, BitGenerator or SeedSequence")]
#: Candidate generators acting on the inputs.
ALGEBRA = Whatever(_is_algebra_like, "a LieAlgebra or a (k, d, d) array")
#: The output action paired with the candidates: a name is checked against the known actions
#: when the fit builds them (``"unknown output action ..."``, with the list of names).
OUTPUT_ALGEBRA: list[Any] = [None, Text(), ALGEBRA]
#: Group elements the Lie derivatives cannot see.
DISCRETE_ELEMENTS = Whatever(_is_element_list, "a list of (g_in, g_out) pairs")
