"""Run directories for the baselines: parameters, learned matrices and history; no pickles."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..lens._io import _history_array_names, _jsonable_params, _restore_params
from ..lie import LieAlgebra
from ..runs import RunDirectory, to_jsonable

__all__ = ["load_baseline", "save_baseline"]

FORMAT_VERSION = 1


def save_baseline(model: Any, path: str | os.PathLike[str], *, overwrite: bool = False,
                  metrics: dict | None = None) -> Any:
    if not hasattr(model, "generator_"):
        raise ValueError(f"this {type(model).__name__} is not fitted yet; call fit(X) first")
    params, replaced = _jsonable_params(model)
    names = _history_array_names(list(model.history_))
    arrays = {"generator": model.generator_, **model._extra_arrays()}
    arrays.update({names[k]: np.asarray(v, dtype=np.float64) for k, v in model.history_.items()})
    all_metrics = to_jsonable({**(metrics or {}), "fit_time": dict(model.fit_time_)})
    config = {"estimator": type(model).__name__, "format_version": FORMAT_VERSION,
              "params": params, "replaced_params": replaced, "history": names,
              "n_features_in": int(model.n_features_in_), "n_steps_run": int(model.n_steps_),
              "mean": model.mean_, "scale": model.scale_}
    run = RunDirectory.create(path, config, overwrite=overwrite)
    run.save_arrays(**arrays)
    run.save_metrics(all_metrics)
    return run.path


def load_baseline(cls: type, path: str | os.PathLike[str]) -> Any:
    run = RunDirectory.open(path)
    config = run.config()
    if config.get("estimator") != cls.__name__:
        raise ValueError(f"{run.path} is not a {cls.__name__} run (config.json names "
                         f"{config.get('estimator')!r})")
    if not isinstance(config.get("format_version"), int) or config["format_version"] > \
            FORMAT_VERSION:
        raise ValueError(f"{run.path}: unsupported format version {config.get('format_version')!r}")
    model = cls(**_restore_params(config, cls, run.path))
    arrays = run.load_arrays()
    dim = int(config["n_features_in"])
    names = config.get("history") or {}
    missing = [a for a in ("generator", *names.values()) if a not in arrays]
    if missing:
        raise ValueError(f"{run.path}: arrays.npz lacks {missing}")
    if arrays["generator"].shape != (dim, dim):
        raise ValueError(f"{run.path}: generator has shape {arrays['generator'].shape}, "
                         f"expected {(dim, dim)}")
    model.generator_ = arrays["generator"]
    model.history_ = {k: [float(v) for v in arrays[a]] for k, a in names.items()}
    model.n_features_in_ = dim
    model.n_steps_ = int(config["n_steps_run"])
    model.mean_, model.scale_ = float(config["mean"]), float(config["scale"])
    if "generators" in arrays:
        stack = arrays["generators"]
        if stack.ndim != 3 or stack.shape[1:] != (dim, dim):
            raise ValueError(f"{run.path}: generators has shape {stack.shape}")
        model.generators_ = stack
        model.algebra_ = LieAlgebra(stack)
    fit_time = run.load_metrics().get("fit_time")
    if isinstance(fit_time, dict):
        model.fit_time_ = {str(k): float(v) for k, v in fit_time.items()}
    return model
