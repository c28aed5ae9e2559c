"""Reading LieGAN and SymmetryGAN run directories written by symmetrykit 0.1 (format 1).

Layout of that format: ``config.json`` held ``{"estimator": "LieGAN" | "SymmetryGAN",
"format_version": 1, "params": ..., "replaced_params": ..., "history": {key: array name},
"n_features_in": ..., "n_steps_run": ..., "mean": ..., "scale": ...}``; ``arrays.npz`` held
``generator``, ``generators`` (LieGAN) and the history arrays; ``metrics.json`` held
``fit_time``. Nothing is unpickled. :func:`symmetrykit.load` calls this through
``LieGAN._read_legacy`` / ``SymmetryGAN._read_legacy`` with a ``DeprecationWarning``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._persistence import check_saved_array, format_1_params
from ..runs import RunDirectory

__all__ = ["read_format_1"]


def _config_numbers(config: Mapping[str, Any], path: Path) -> tuple[int, int, float, float]:
    """``n_features_in``, ``n_steps_run``, ``mean`` and ``scale``; one line naming what is
    missing or malformed."""
    wanted = {"n_features_in": int, "n_steps_run": int, "mean": float, "scale": float}
    missing = [key for key in wanted if key not in config]
    if missing:
        raise ValueError(f"{path}: config.json lacks {', '.join(repr(k) for k in missing)}")
    values = []
    for key, kind in wanted.items():
        value = config[key]
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
              and np.isfinite(value) and (kind is float or float(value).is_integer()))
        if not ok:
            raise ValueError(f"{path}: config.json entry {key!r} must be a finite "
                             f"{'integer' if kind is int else 'number'}, got {value!r}")
        values.append(kind(value))
    return values[0], values[1], values[2], values[3]


def read_format_1(cls: type, path: str | Path) -> Any:
    """Rebuild a fitted ``cls`` (LieGAN or SymmetryGAN) from a format-1 run directory.

    Missing or malformed entries and arrays (complex, non-finite, of the wrong shape) are
    refused with one line naming the file and what is wrong; history arrays may hold NaN.
    """
    run = RunDirectory.open(path)
    config = run.config()
    if config.get("estimator") != cls.__name__:
        raise ValueError(f"{run.path} is not a {cls.__name__} run (config.json names "
                         f"{config.get('estimator')!r})")
    try:
        model = cls(**format_1_params(cls, config, run.path))
    except TypeError as error:
        raise ValueError(f"{run.path}: saved parameters do not fit {cls.__name__} ({error})"
                         ) from None
    try:
        arrays = run.load_arrays()
    except FileNotFoundError:
        raise ValueError(f"{run.path}: arrays.npz is missing") from None
    except OSError as error:
        raise ValueError(f"{run.path}: arrays.npz is unreadable ({error})") from None
    dim, n_steps, mean, scale = _config_numbers(config, run.path)
    names = config.get("history") or {}
    if not isinstance(names, Mapping):
        raise ValueError(f"{run.path}: config.json 'history' must be an object")
    missing = [a for a in ("generator", *names.values()) if a not in arrays]
    if missing:
        raise ValueError(f"{run.path}: arrays.npz lacks {missing}")
    file = run.path / "arrays.npz"
    history_arrays = set(names.values())
    for name, array in arrays.items():
        check_saved_array(file, name, array, allow_nonfinite=name in history_arrays)
    if arrays["generator"].shape != (dim, dim):
        raise ValueError(f"{run.path}: generator has shape {arrays['generator'].shape}, "
                         f"expected {(dim, dim)}")
    model.generator_ = arrays["generator"]
    model.history_ = {str(k): [float(v) for v in np.asarray(arrays[a], dtype=np.float64).ravel()]
                      for k, a in names.items()}
    model.n_features_in_ = dim
    model.n_steps_ = n_steps
    model.mean_, model.scale_ = mean, scale
    if "generators" in arrays:
        model.generators_ = arrays["generators"]
        try:
            model._after_load()  # checks the shape, rebuilds algebra_
        except (AttributeError, KeyError, TypeError, IndexError, ValueError) as error:
            raise ValueError(f"{run.path}: the saved {cls.__name__} is inconsistent "
                             f"({' '.join(str(error).split())})") from None
    try:
        fit_time = run.load_metrics().get("fit_time")
    except (OSError, ValueError, AttributeError):
        fit_time = None
    if isinstance(fit_time, Mapping):
        try:
            model.fit_time_ = {str(k): float(v) for k, v in fit_time.items() if v is not None}
        except (TypeError, ValueError):
            raise ValueError(f"{run.path}: metrics.json entry 'fit_time' must hold numbers"
                             ) from None
    return model
