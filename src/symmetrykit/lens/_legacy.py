"""Reading SymmetryLens run directories written by symmetrykit 0.1 (format version 1).

Layout of that format: ``config.json`` held ``{"estimator": "SymmetryLens", "format_version": 1,
"params": ..., "replaced_params": ..., "padding": ..., "n_features_in": ..., "history":
{key: array name}, "best_restart": ..., "restart_starts": [...], "warm_start": {...}}``;
``arrays.npz`` held ``generator``, ``padded_generator``, ``filter``, ``group_convolution``,
``restart_losses``, ``warm_*`` (the kept run's warm start) and ``history__<key>``;
``metrics.json`` held ``fit_time``. The options removed since (``recenter_at``,
``filter_init``) are dropped from the saved parameters. Nothing is unpickled.
:func:`symmetrykit.load` calls this through ``SymmetryLens._read_legacy`` with a
``DeprecationWarning``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._persistence import check_saved_array, format_1_params
from ..runs import RunDirectory
from ._warm_start import warm_start_from_fields

__all__ = ["read_format_1"]

_ARRAY_KEYS = ("generator", "padded_generator", "filter", "group_convolution")
_HISTORY_PREFIX = "history__"
# Parameters of symmetrykit 0.1 that no longer exist (they did not help; see docs/decisions.md).
_REMOVED_PARAMS = ("recenter_at", "filter_init")


def _not_a_lens(path: Any, why: str) -> ValueError:
    return ValueError(f"{path} is not a saved SymmetryLens run: {why}")


def read_format_1(cls: type, path: str | Path) -> Any:
    """Rebuild a fitted ``cls`` (SymmetryLens) from a format-1 run directory."""
    run = RunDirectory.open(path)
    config = run.config()
    if config.get("estimator") != "SymmetryLens":
        raise _not_a_lens(run.path, f"config.json names estimator {config.get('estimator')!r}")
    try:
        lens = cls(**format_1_params(cls, config, run.path, removed=_REMOVED_PARAMS))
    except TypeError as error:
        raise ValueError(f"{run.path}: saved parameters do not fit SymmetryLens ({error})"
                         ) from None
    try:
        arrays = run.load_arrays()
    except FileNotFoundError:
        raise _not_a_lens(run.path, "arrays.npz is missing") from None
    except OSError as error:
        raise ValueError(f"{run.path}: arrays.npz is unreadable ({error})") from None
    missing = [key for key in _ARRAY_KEYS if key not in arrays]
    if missing:
        raise _not_a_lens(run.path, f"arrays.npz lacks {', '.join(missing)}")
    # Complex or non-finite values would only show later as NaN transforms; histories may
    # hold NaN (a logged quantity can be undefined at a step).
    listed = config.get("history")
    history_arrays = set(listed.values()) if isinstance(listed, Mapping) else set()
    for name, array in arrays.items():
        check_saved_array(run.path / "arrays.npz", name, array,
                          allow_nonfinite=name.startswith(_HISTORY_PREFIX)
                          or name in history_arrays)
    try:
        dim = int(config["n_features_in"])
        padding = int(config["padding"])
    except (KeyError, TypeError, ValueError):
        raise _not_a_lens(run.path, "config.json lacks n_features_in or padding") from None
    size = dim + 2 * padding
    expected = {"generator": (dim, dim), "padded_generator": (size, size), "filter": (dim,),
                "group_convolution": (dim, dim)}
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise ValueError(f"{run.path}: array {key!r} has shape {arrays[key].shape}, "
                             f"expected {shape} for dim {dim} and padding {padding}")

    names = config.get("history")
    if not isinstance(names, Mapping):
        names = {k[len(_HISTORY_PREFIX):]: k for k in arrays if k.startswith(_HISTORY_PREFIX)}
    history: dict[str, list[float]] = {}
    for key, name in names.items():
        if not isinstance(name, str) or name not in arrays:
            raise _not_a_lens(run.path, f"arrays.npz lacks the history array {name!r}")
        history[str(key)] = [float(v) for v in np.asarray(arrays[name], dtype=np.float64).ravel()]

    lens.generator_ = arrays["generator"]
    lens.padded_generator_ = arrays["padded_generator"]
    lens.filter_ = arrays["filter"]
    lens.group_convolution_ = arrays["group_convolution"]
    lens.padding_ = padding
    lens.n_features_in_ = dim
    lens.history_ = history
    if "restart_losses" in arrays:
        lens.restart_losses_ = [float(v) for v in arrays["restart_losses"].ravel()]
    if isinstance(config.get("best_restart"), int):
        lens.best_restart_ = config["best_restart"]
    starts = config.get("restart_starts")
    if isinstance(starts, list) and all(isinstance(start, str) for start in starts):
        lens.restart_starts_ = starts

    info = config.get("warm_start")
    lens.warm_start_ = None
    if info is not None:
        shapes = {"warm_basis": (dim, dim), "warm_filter": (dim,),
                  "warm_padded_generator": (size, size), "warm_skew": (size, size)}
        for key, shape in shapes.items():
            if key not in arrays or arrays[key].shape != shape:
                raise _not_a_lens(run.path, f"the warm start needs array {key!r} of shape {shape}")
        if not isinstance(info, Mapping):
            raise _not_a_lens(run.path, "config.json: 'warm_start' must be an object")
        try:
            lens.warm_start_ = warm_start_from_fields(
                {name: arrays[f"warm_{name}"] for name in ("basis", "filter", "padded_generator",
                                                           "skew")}, info)
        except (KeyError, TypeError, ValueError) as error:
            raise _not_a_lens(run.path, f"config.json: bad 'warm_start' entry ({error})") from None
    # Format 1 kept only the kept run's warm start.
    lens.warm_starts_ = [] if lens.warm_start_ is None else [lens.warm_start_]
    try:
        saved_metrics = run.load_metrics()
    except (OSError, ValueError):
        saved_metrics = None
    fit_time = saved_metrics.get("fit_time") if isinstance(saved_metrics, Mapping) else None
    if isinstance(fit_time, Mapping):
        lens.fit_time_ = {str(k): float(v) for k, v in fit_time.items() if v is not None}
    return lens
