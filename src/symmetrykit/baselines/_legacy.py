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

from .._persistence import format_1_params
from ..runs import RunDirectory

__all__ = ["read_format_1"]



def read_format_1(cls: type, path: str | Path) -> Any:
    """Rebuild a fitted ``cls`` (LieGAN or SymmetryGAN) from a format-1 run directory."""
    run = RunDirectory.open(path)
    config = run.config()
    if config.get("estimator") != cls.__name__:
        raise ValueError(f"{run.path} is not a {cls.__name__} run (config.json names "
                         f"{config.get('estimator')!r})")
    model = cls(**format_1_params(cls, config, run.path))
    try:
        arrays = run.load_arrays()
    except FileNotFoundError:
        raise ValueError(f"{run.path}: arrays.npz is missing") from None
    except (OSError, ValueError) as error:
        raise ValueError(f"{run.path}: arrays.npz is unreadable ({error})") from None
    try:
        dim = int(config["n_features_in"])
        n_steps = int(config["n_steps_run"])
        mean, scale = float(config["mean"]), float(config["scale"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{run.path}: config.json lacks n_features_in, n_steps_run, mean or "
                         "scale") from None
    names = config.get("history") or {}
    if not isinstance(names, Mapping):
        raise ValueError(f"{run.path}: config.json 'history' must be an object")
    missing = [a for a in ("generator", *names.values()) if a not in arrays]
    if missing:
        raise ValueError(f"{run.path}: arrays.npz lacks {missing}")
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
        model._after_load()  # checks the shape, rebuilds algebra_
    try:
        fit_time = run.load_metrics().get("fit_time")
    except (OSError, ValueError):
        fit_time = None
    if isinstance(fit_time, Mapping):
        model.fit_time_ = {str(k): float(v) for k, v in fit_time.items() if v is not None}
    return model
