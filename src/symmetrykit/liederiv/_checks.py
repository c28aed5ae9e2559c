"""Argument checks shared by the Lie-derivative framework's functions and estimators."""

from __future__ import annotations

from typing import Any

import numpy as np

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
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
        kind = "integer" if integer else "number"
        raise ValueError(f"{name} must be a positive {kind}, got {value!r}")


def _check_nonnegative(name: str, value: Any) -> None:
    kinds = (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")


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
