"""Shared helpers of the data-set generators: argument checks, random state, normalisation."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = [
    "check_int",
    "check_range",
    "check_nonnegative",
    "normalise_and_add_noise",
    "resolve_random_state",
]


def check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` as an int; ValueError unless it is an integer in
    ``[minimum, maximum]`` (no upper bound when ``maximum`` is None)."""
    # bool is an Integral too, but ``n_samples=True`` is always a mistake.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_nonnegative(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is finite and ``>= 0``."""
    return _check_real(name, value, strict=False)


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise ValueError unless it is finite and ``> 0``."""
    return _check_real(name, value, strict=True)


def _check_real(name: str, value: Any, *, strict: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (strict and value == 0):
        raise ValueError(f"{name} must be finite and {'>' if strict else '>='} 0, got {value}")
    return value


def check_range(name: str, value: Any, *, positive: bool) -> tuple[float, float]:
    """Return ``(low, high)`` as floats: finite, ``low <= high``, ``low > 0`` if ``positive``."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high), got {value!r}") from None
    if not (np.isfinite(low) and np.isfinite(high)) or low > high:
        raise ValueError(f"{name} must be finite with low <= high, got {value!r}")
    if positive and low <= 0:
        raise ValueError(f"{name} must be strictly positive, got {value!r}")
    return low, high


def resolve_random_state(random_state: Any) -> tuple[np.random.Generator, int | str]:
    """A private ``numpy.random.Generator`` and the JSON value that records where it came from.

    ``None`` draws fresh OS entropy and records it, so that even an unseeded data set can be
    regenerated from its ``params``. An int seeds :func:`numpy.random.default_rng`. A Generator is
    used as is (its draws advance it) and is recorded by its bit-generator name only.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state, f"Generator({type(random_state.bit_generator).__name__})"
    if random_state is None:
        # SeedSequence reads OS entropy; numpy's global RNG is never involved.
        seed = int(np.random.SeedSequence().entropy)
        return np.random.default_rng(seed), seed
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            "random_state must be None, a non-negative int or a numpy.random.Generator, "
            f"got {type(random_state).__name__}"
        )
    seed = check_int("random_state", random_state, 0)
    return np.random.default_rng(seed), seed


def normalise_and_add_noise(
    x: np.ndarray, noise: float, rng: np.random.Generator, *, what: str
) -> np.ndarray:
    """Divide by the data-set-wide std, then add ``noise · std · N(0, 1)`` (in place).

    The std is taken over all samples and pixels about the global mean, but the mean itself is
    kept: the original generator stopped demeaning on purpose. No noise is drawn when
    ``noise == 0``, so the remaining draws do not depend on it.

    Raises
    ------
    ValueError
        If every value is identical (std 0, e.g. only empty samples): the scale is undefined.
    """
    std = float(np.std(x))
    if not np.isfinite(std) or std == 0.0:
        raise ValueError(
            f"{what}: all generated values are identical (std = {std}), so the data cannot be "
            "normalised; use more samples or a larger signal probability"
        )
    x /= std
    if noise > 0:
        x += noise * float(np.std(x)) * rng.standard_normal(x.shape)
    return x
