"""Saving a fitted :class:`SymmetryLens` to a run directory and reading it back.

Layout (see :mod:`symmetrykit.runs`):

``config.json``
    ``{"estimator": "SymmetryLens", "format_version": 1, "params": ..., "padding": ...,
    "n_features_in": ..., "history": {key: array name}, "replaced_params": {...}}``.
    Parameters without a JSON form (a progress-meter object, a ``numpy.random.Generator``) are
    stored as their class name and listed in ``replaced_params``.
``arrays.npz``
    ``generator``, ``padded_generator``, ``filter``, ``group_convolution``, ``restart_losses``
    (when the lens has them) and one float array ``history__<key>`` per entry of ``history_``.
``metrics.json``
    The caller's metrics plus ``fit_time`` (``wall_s``, ``cpu_s``).

Loading never unpickles: arrays are read with ``allow_pickle=False`` and everything else is JSON.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..runs import RunDirectory, to_jsonable
from ._warm_start import WarmStart

if TYPE_CHECKING:
    from ._estimator import SymmetryLens

__all__ = ["load_lens", "save_lens"]

ESTIMATOR_NAME = "SymmetryLens"
FORMAT_VERSION = 1
HISTORY_PREFIX = "history__"
_PROGRESS_SPECS = ("auto", "none", "text", "tqdm")
_FITTED_ATTRIBUTES = (
    "generator_",
    "padded_generator_",
    "filter_",
    "group_convolution_",
    "padding_",
    "history_",
    "n_features_in_",
)
_ARRAY_KEYS = ("generator", "padded_generator", "filter", "group_convolution")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.\-]")


# ------------------------------------------------------------------------------------- saving
def _jsonable_params(lens: SymmetryLens) -> tuple[dict[str, Any], dict[str, str]]:
    """``get_params()`` as JSON values, and the parameters that had to be replaced by a name."""
    params: dict[str, Any] = {}
    replaced: dict[str, str] = {}
    for name, value in lens.get_params(deep=False).items():
        if name == "progress" and not (isinstance(value, str) and value in _PROGRESS_SPECS):
            params[name] = type(value).__name__
            replaced[name] = type(value).__name__
            continue
        try:
            params[name] = to_jsonable(value)
        except TypeError:
            params[name] = type(value).__name__
            replaced[name] = type(value).__name__
    return params, replaced


def _history_array_names(keys: list[str]) -> dict[str, str]:
    """A valid, unique ``history__<key>`` array name for every history key."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for key in keys:
        base = HISTORY_PREFIX + (_SAFE_NAME.sub("_", key) or "_")
        name, i = base, 1
        while name in used:
            i += 1
            name = f"{base}.{i}"
        used.add(name)
        names[key] = name
    return names


def _check_fitted(lens: Any) -> None:
    missing = [name for name in _FITTED_ATTRIBUTES if not hasattr(lens, name)]
    if missing:
        raise ValueError(
            "this SymmetryLens is not fitted yet (missing "
            f"{', '.join(missing)}); call fit(X) before save()"
        )


def save_lens(
    lens: SymmetryLens,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    metrics: Mapping[str, Any] | None = None,
) -> Path:
    """Write a fitted lens to the run directory ``path`` and return its path.

    Parameters
    ----------
    lens
        A fitted :class:`SymmetryLens`.
    path
        The run directory; created if needed, and it must be empty unless ``overwrite``.
    overwrite
        Replace the files of an existing run directory (other files are left alone).
    metrics
        Extra JSON-convertible scalars to store in ``metrics.json``; ``fit_time`` is added.

    Raises
    ------
    ValueError
        If the lens is not fitted.
    FileExistsError
        If ``path`` is a non-empty directory (or a file) and ``overwrite`` is false.
    TypeError
        If ``metrics`` is not a mapping or holds values without a JSON form.
    """
    _check_fitted(lens)
    if metrics is not None and not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a mapping, got {type(metrics).__name__}")
    params, replaced = _jsonable_params(lens)
    history = {str(key): list(values) for key, values in lens.history_.items()}
    history_names = _history_array_names(list(history))
    arrays: dict[str, np.ndarray] = {
        "generator": np.asarray(lens.generator_),
        "padded_generator": np.asarray(lens.padded_generator_),
        "filter": np.asarray(lens.filter_),
        "group_convolution": np.asarray(lens.group_convolution_),
    }
    if hasattr(lens, "restart_losses_"):
        arrays["restart_losses"] = np.asarray(lens.restart_losses_, dtype=np.float64)
    warm = getattr(lens, "warm_start_", None)
    if warm is not None:
        arrays.update(warm_basis=warm.basis, warm_filter=warm.filter,
                      warm_padded_generator=warm.padded_generator, warm_skew=warm.skew)
    for key, values in history.items():
        arrays[history_names[key]] = np.asarray(values, dtype=np.float64)
    all_metrics = dict(metrics or {})
    fit_time = getattr(lens, "fit_time_", None)
    if fit_time is not None:
        all_metrics.setdefault("fit_time", dict(fit_time))
    # Convert everything before the directory is created, so a bad metric leaves no half run.
    all_metrics = to_jsonable(all_metrics)
    config = {
        "estimator": ESTIMATOR_NAME,
        "format_version": FORMAT_VERSION,
        "params": params,
        "replaced_params": replaced,
        "padding": int(lens.padding_),
        "n_features_in": int(lens.n_features_in_),
        "history": history_names,
    }
    if hasattr(lens, "best_restart_"):
        config["best_restart"] = int(lens.best_restart_)
    if hasattr(lens, "restart_starts_"):
        config["restart_starts"] = [str(start) for start in lens.restart_starts_]
    if warm is not None:
        config["warm_start"] = {"cyclic": warm.cyclic, "chain_similarity": warm.chain_similarity,
                                "closure_similarity": warm.closure_similarity,
                                "iterations": warm.iterations, "converged": warm.converged,
                                "source": warm.source}
    run = RunDirectory.create(path, config, overwrite=overwrite)
    run.save_arrays(**arrays)
    run.save_metrics(all_metrics)
    return run.path


# ------------------------------------------------------------------------------------ loading
def _not_a_lens(path: Any, why: str) -> ValueError:
    return ValueError(f"{path} is not a saved SymmetryLens run: {why}")


def _restore_params(config: Mapping[str, Any], cls: type, path: Any) -> dict[str, Any]:
    params = config.get("params")
    if not isinstance(params, Mapping):
        raise _not_a_lens(path, "config.json has no 'params'")
    replaced = config.get("replaced_params") or {}
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(
            f"{path}: saved parameters {unknown} are not parameters of {cls.__name__} "
            "(saved by a different symmetrykit version?)"
        )
    restored: dict[str, Any] = {}
    for name, value in params.items():
        if name == "progress" and (name in replaced or value not in _PROGRESS_SPECS):
            restored[name] = "none"
        elif name in replaced:
            continue  # an object that was only recorded by its class name: use the default
        elif isinstance(value, list):
            restored[name] = tuple(value)  # JSON turned tuples (recenter_at) into lists
        else:
            restored[name] = value
    return restored


def load_lens(path: str | os.PathLike[str]) -> SymmetryLens:
    """Rebuild a fitted :class:`SymmetryLens` from a run directory written by :func:`save_lens`.

    Nothing is unpickled. Parameters that were stored only by their class name fall back to
    ``progress="none"`` and to the constructor default for anything else.

    Raises
    ------
    ValueError
        If ``path`` is not a run directory, not a SymmetryLens run, or its arrays are missing or
        inconsistent.
    """
    from ._estimator import SymmetryLens

    run = RunDirectory.open(path)
    config = run.config()
    if config.get("estimator") != ESTIMATOR_NAME:
        found = config.get("estimator")
        raise _not_a_lens(
            run.path,
            f"config.json names estimator {found!r}" if found else "config.json names no estimator",
        )
    version = config.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{run.path}: SymmetryLens format version {version!r} is newer than this symmetrykit "
            f"reads ({FORMAT_VERSION})"
        )
    lens = SymmetryLens(**_restore_params(config, SymmetryLens, run.path))

    try:
        arrays = run.load_arrays()
    except FileNotFoundError:
        raise _not_a_lens(run.path, "arrays.npz is missing") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{run.path}: arrays.npz is unreadable ({exc})") from exc
    missing = [key for key in _ARRAY_KEYS if key not in arrays]
    if missing:
        raise _not_a_lens(run.path, f"arrays.npz lacks {', '.join(missing)}")

    try:
        dim = int(config["n_features_in"])
        padding = int(config["padding"])
    except (KeyError, TypeError, ValueError):
        raise _not_a_lens(run.path, "config.json lacks n_features_in or padding") from None
    size = dim + 2 * padding
    expected = {
        "generator": (dim, dim),
        "padded_generator": (size, size),
        "filter": (dim,),
        "group_convolution": (dim, dim),
    }
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise ValueError(
                f"{run.path}: array {key!r} has shape {arrays[key].shape}, expected {shape} "
                f"for dim {dim} and padding {padding}"
            )

    names = config.get("history")
    if not isinstance(names, Mapping):
        # Fall back to the array names themselves.
        names = {k[len(HISTORY_PREFIX):]: k for k in arrays if k.startswith(HISTORY_PREFIX)}
    history: dict[str, list[float]] = {}
    for key, name in names.items():
        if name not in arrays:
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
    lens.warm_start_ = _load_warm_start(run.path, config, arrays, dim, size)
    lens.warm_starts_ = [] if lens.warm_start_ is None else [lens.warm_start_]
    try:
        saved_metrics = run.load_metrics()
    except (OSError, ValueError):
        saved_metrics = None
    fit_time = saved_metrics.get("fit_time") if isinstance(saved_metrics, Mapping) else None
    if isinstance(fit_time, Mapping):
        lens.fit_time_ = {str(k): float(v) for k, v in fit_time.items() if v is not None}
    return lens


def _load_warm_start(path: Any, config: Mapping, arrays: Mapping, dim: int, size: int
                     ) -> WarmStart | None:
    info = config.get("warm_start")
    if info is None:
        return None
    shapes = {"warm_basis": (dim, dim), "warm_filter": (dim,),
              "warm_padded_generator": (size, size), "warm_skew": (size, size)}
    for key, shape in shapes.items():
        if key not in arrays or arrays[key].shape != shape:
            raise _not_a_lens(path, f"the warm start needs array {key!r} of shape {shape}")
    if not isinstance(info, Mapping):
        raise _not_a_lens(path, "config.json: 'warm_start' must be an object")
    try:
        return WarmStart(basis=arrays["warm_basis"], filter=arrays["warm_filter"],
                         padded_generator=arrays["warm_padded_generator"],
                         skew=arrays["warm_skew"], cyclic=bool(info["cyclic"]),
                         chain_similarity=float(info["chain_similarity"]),
                         closure_similarity=float(info["closure_similarity"]),
                         iterations=int(info["iterations"]),
                         converged=bool(info["converged"]),
                         # Runs saved before the coordinates candidate existed used the rotation.
                         source=str(info.get("source", "rotation")))
    except (KeyError, TypeError, ValueError) as error:
        raise _not_a_lens(path, f"config.json: bad 'warm_start' entry ({error})") from None
