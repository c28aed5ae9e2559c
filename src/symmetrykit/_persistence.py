"""One run-directory format for every estimator, and :func:`load` that opens any saved run.

A saved estimator is a :class:`~symmetrykit.runs.RunDirectory`:

``config.json``
    ``{"estimator": name, "module": "symmetrykit.<package>", "format_version": 2,
    "params": {...}, "replaced_params": {...}, "fitted": {...},
    "arrays": {attribute: array name}, "history": {key: array name}, "modules": {...},
    "extra": {...}}``. Parameters without a JSON form (a progress-meter object, a callable)
    are recorded by their class name in ``replaced_params`` and come back as the
    constructor's default; tuples, numeric arrays and Lie algebras keep their type.
``arrays.npz``
    ``fitted.<attribute>`` (numeric fitted arrays), ``history.<key>``,
    ``module.<attribute>.<state key>`` (torch module states) and ``extra.<name>``.
``metrics.json``
    The caller's metrics and ``fit_time``.

Nothing is unpickled: arrays are read with ``allow_pickle=False``, everything else is JSON, and
the class to build is looked up among symmetrykit's own estimators only. Runs written by
symmetrykit 0.1 (format 1 run directories, ``flow.json`` + ``flow.npz`` flows and liederiv
``save_model`` directories) are read by each estimator's ``_read_legacy`` with a
``DeprecationWarning``; a run of a newer format version is refused with a clear message.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .runs import RunDirectory, to_jsonable

__all__ = ["FORMAT_VERSION", "load", "save_estimator"]

FORMAT_VERSION = 2
_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")
_MODULE = re.compile(r"^symmetrykit(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# Where the estimators of symmetrykit 0.1 live (their runs do not name a module).
_LEGACY_MODULES = {
    "SymmetryLens": "symmetrykit.lens",
    "LieGAN": "symmetrykit.baselines",
    "SymmetryGAN": "symmetrykit.baselines",
    "GeneratorFlow": "symmetrykit.flows",
    "DictionaryModel": "symmetrykit.liederiv",
}
_LEGACY_DICTIONARY_MODEL = "symmetrykit.liederiv.DictionaryModel"
_LEGACY_FLOW_FILE = "flow.json"


# ------------------------------------------------------------------------------------ saving
def _array_name(prefix: str, key: str, used: set[str]) -> str:
    base = f"{prefix}.{_SAFE.sub('_', key) or '_'}"
    name, i = base, 1
    while name in used:
        i += 1
        name = f"{base}.{i}"
    used.add(name)
    return name


_TYPE_KEY = "__type__"


def _encode_param(value: Any) -> Any:
    """A JSON form of a constructor parameter that :func:`_decode_param` inverts exactly.

    Tuples, numeric numpy arrays and :class:`~symmetrykit.lie.LieAlgebra` values keep their
    type; floats are written with Python's shortest round-trip representation.
    """
    from .lie import LieAlgebra

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not np.isfinite(value):
            return {_TYPE_KEY: "float", "value": repr(value)}
        return value
    if isinstance(value, tuple):
        return {_TYPE_KEY: "tuple", "items": [_encode_param(v) for v in value]}
    if isinstance(value, list):
        return [_encode_param(v) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        if _TYPE_KEY in value:
            raise TypeError(f"a dict parameter may not use the key {_TYPE_KEY!r}")
        return {k: _encode_param(v) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {_TYPE_KEY: "ndarray", "dtype": value.dtype.str, "shape": list(value.shape),
                "data": [_encode_param(v) for v in value.ravel().tolist()]}
    if isinstance(value, LieAlgebra):
        return {_TYPE_KEY: "LieAlgebra", "name": value.name, "affine": value.affine,
                "generators": _encode_param(value.generators)}
    raise TypeError(f"{type(value).__name__} has no JSON form")


def _decode_param(value: Any) -> Any:
    from .lie import LieAlgebra

    if isinstance(value, list):
        return [_decode_param(v) for v in value]
    if not isinstance(value, Mapping):
        return value
    kind = value.get(_TYPE_KEY)
    if kind is None:
        return {k: _decode_param(v) for k, v in value.items()}
    if kind == "tuple":
        return tuple(_decode_param(v) for v in value["items"])
    if kind == "float":
        return float(value["value"])
    if kind == "ndarray":
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in "biuf":
            raise ValueError(f"unsupported array dtype {dtype}")
        data = [_decode_param(v) for v in value["data"]]
        return np.asarray(data, dtype=dtype).reshape([int(n) for n in value["shape"]])
    if kind == "LieAlgebra":
        return LieAlgebra(_decode_param(value["generators"]), name=str(value["name"]),
                          affine=bool(value["affine"]))
    raise ValueError(f"unknown parameter type {kind!r}")


def _params(estimator: Any) -> tuple[dict[str, Any], dict[str, str]]:
    params: dict[str, Any] = {}
    replaced: dict[str, str] = {}
    for name, value in estimator.get_params(deep=False).items():
        if name == "progress" and not (value is None or isinstance(value, str)):
            value = None  # meters and callables do not survive a round trip; strings do
            replaced[name] = type(estimator.get_params(deep=False)[name]).__qualname__
        try:
            params[name] = _encode_param(value)
        except TypeError:
            params[name] = None
            replaced[name] = type(value).__qualname__
    return params, replaced


def save_estimator(estimator: Any, path: str | os.PathLike[str], *, overwrite: bool = False,
                   metrics: Mapping[str, Any] | None = None) -> Path:
    """Write a fitted :class:`~symmetrykit._estimator.SymmetryEstimator` to ``path``."""
    import torch  # modules are torch modules; only estimators that were fitted get here

    from ._estimator import _is_json_value

    estimator._check_is_fitted()
    if metrics is not None and not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a mapping, got {type(metrics).__name__}")
    params, replaced = _params(estimator)
    used: set[str] = set()
    arrays: dict[str, np.ndarray] = {}
    fitted: dict[str, Any] = {}
    array_names: dict[str, str] = {}
    history_names: dict[str, str] = {}
    history_kinds: dict[str, str] = {}
    modules: dict[str, Any] = {}
    skip = {*estimator._derived_attributes, *estimator._custom_attributes(), "fit_time_"}
    for name, value in sorted(vars(estimator).items()):
        if not name.endswith("_") or name.startswith("_") or name in skip:
            continue
        if name == "history_" and isinstance(value, Mapping):
            for key, values in value.items():
                array_name = _array_name("history", str(key), used)
                history_names[str(key)] = array_name
                history_kinds[str(key)] = "array" if isinstance(values, np.ndarray) else "list"
                arrays[array_name] = np.asarray(values, dtype=np.float64)
        elif isinstance(value, torch.nn.Module):
            prefix = _array_name("module", name, used)
            modules[name] = {"prefix": prefix, "config": estimator._module_config(name, value)}
            for key, tensor in value.state_dict().items():
                arrays[f"{prefix}.{key}"] = tensor.detach().cpu().numpy()
        elif isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            array_names[name] = _array_name("fitted", name, used)
            arrays[array_names[name]] = value
        elif _is_json_value(value):
            fitted[name] = to_jsonable(value)
        else:
            raise TypeError(
                f"{type(estimator).__name__}.{name} ({type(value).__name__}) has no saved form; "
                "list it in _derived_attributes or save it in _save_extra")
    extra_info, extra_arrays = estimator._save_extra()
    for key, array in extra_arrays.items():
        arrays[f"extra.{key}"] = np.asarray(array)
    all_metrics = dict(metrics or {})
    fit_time = getattr(estimator, "fit_time_", None)
    if fit_time is not None:
        all_metrics.setdefault("fit_time", fit_time)
    config = {
        "estimator": estimator._name(),
        "module": type(estimator).__module__.rsplit("._", 1)[0],
        "format_version": FORMAT_VERSION,
        "params": params,
        "replaced_params": replaced,
        "fitted": fitted,
        "arrays": array_names,
        "history": history_names,
        "history_kinds": history_kinds,
        "modules": modules,
        "fit_time": fit_time,
        "extra": extra_info,
    }
    # Convert everything before the directory is touched: a bad value leaves no half run.
    config = to_jsonable(config)
    all_metrics = to_jsonable(all_metrics)
    run = RunDirectory.create(path, config, overwrite=overwrite)
    run.save_arrays(**arrays)
    run.save_metrics(all_metrics)
    return run.path


# ------------------------------------------------------------------------------------ loading
def _estimator_class(name: Any, module: Any, path: Any) -> type:
    from ._estimator import _REGISTRY

    if not isinstance(name, str) or not name:
        raise ValueError(f"{path} is not a saved symmetrykit estimator: config.json names no "
                         "estimator")
    if name not in _REGISTRY:
        module = module if isinstance(module, str) else _LEGACY_MODULES.get(name)
        if module is None or not _MODULE.match(module):
            raise ValueError(f"{path}: unknown estimator {name!r}")
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ValueError(f"{path}: cannot import {module} for {name!r} ({error})") from None
    if name not in _REGISTRY:
        raise ValueError(f"{path}: unknown estimator {name!r}")
    return _REGISTRY[name]


def _saved_params(cls: type, config: Mapping[str, Any], path: Any,
                  removed: tuple[str, ...] = ()) -> Mapping[str, Any]:
    """``config["params"]``, checked to name only parameters of ``cls`` (or ``removed`` ones)."""
    params = config.get("params")
    if not isinstance(params, Mapping):
        raise ValueError(f"{path}: config.json has no 'params'")
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(params) - accepted - set(removed))
    if unknown:
        raise ValueError(f"{path}: saved parameters {unknown} are not parameters of "
                         f"{cls.__name__} (saved by a different symmetrykit version?)")
    return params


def _restore_params(cls: type, config: Mapping[str, Any], path: Any) -> dict[str, Any]:
    params = _saved_params(cls, config, path)
    replaced = config.get("replaced_params") or {}
    restored: dict[str, Any] = {}
    for name, value in params.items():
        if name in replaced:
            continue  # recorded by class name only: the constructor default is used
        try:
            restored[name] = _decode_param(value)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: saved parameter {name!r} is malformed ({error})") from None
    return restored


def _arrays(run: RunDirectory) -> dict[str, np.ndarray]:
    try:
        return run.load_arrays()
    except FileNotFoundError:
        raise ValueError(f"{run.path}: arrays.npz is missing") from None
    except (OSError, ValueError) as error:
        raise ValueError(f"{run.path}: arrays.npz is unreadable ({error})") from None


def _from_run(cls: type, run: RunDirectory, config: Mapping[str, Any]) -> Any:
    import torch

    path = run.path
    try:
        estimator = cls(**_restore_params(cls, config, path))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: cannot rebuild the {cls.__name__} ({error})") from None
    arrays = _arrays(run)

    def need(name: str) -> np.ndarray:
        if name not in arrays:
            raise ValueError(f"{path}: arrays.npz lacks {name!r}")
        return arrays[name]

    for section in ("fitted", "arrays", "history", "modules", "extra"):
        if not isinstance(config.get(section, {}), Mapping):
            raise ValueError(f"{path}: config.json entry {section!r} must be an object")
    for name, value in config.get("fitted", {}).items():
        setattr(estimator, str(name), value)
    for name, array_name in config.get("arrays", {}).items():
        setattr(estimator, str(name), need(array_name))
    kinds = config.get("history_kinds") or {}
    history: dict[str, Any] = {}
    for key, array_name in config.get("history", {}).items():
        values = np.asarray(need(array_name), dtype=np.float64)
        history[key] = values if kinds.get(key) == "array" else [float(v) for v in values.ravel()]
    if config.get("history") is not None:
        estimator.history_ = history
    for name, info in config.get("modules", {}).items():
        if not isinstance(info, Mapping) or not isinstance(info.get("prefix"), str):
            raise ValueError(f"{path}: config.json has a malformed module entry {name!r}")
        module = estimator._build_module(name, info.get("config") or {})
        prefix = info["prefix"] + "."
        state = {key[len(prefix):]: torch.as_tensor(value)
                 for key, value in arrays.items() if key.startswith(prefix)}
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as error:
            raise ValueError(f"{path}: saved weights of {name!r} do not match its "
                             f"configuration ({error})") from None
        setattr(estimator, name, module)
    fit_time = config.get("fit_time")
    if isinstance(fit_time, Mapping):
        estimator.fit_time_ = {str(k): float(v) for k, v in fit_time.items() if v is not None}
    extra = {key[len("extra."):]: value for key, value in arrays.items()
             if key.startswith("extra.")}
    try:
        estimator._load_extra(config.get("extra") or {}, extra)
        estimator._after_load()
    except (KeyError, TypeError, IndexError) as error:
        raise ValueError(f"{path}: the saved {cls.__name__} is inconsistent ({error})") from None
    return estimator


def load(path: str | os.PathLike[str]) -> Any:
    """Open any saved symmetrykit run and return the fitted estimator, of the right class.

    Works for every estimator's :meth:`save` (SymmetryLens, GeneratorFlow,
    ImageGeneratorFlow, LieGAN, SymmetryGAN, the liederiv regressors) and for the run
    directories of symmetrykit 0.1 (with a ``DeprecationWarning``).

    Raises
    ------
    ValueError
        If ``path`` holds no saved estimator, a tampered or inconsistent one, or one written by
        a newer symmetrykit (format version above this one's).
    """
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path} is not a run directory (no such directory)")
    has_config = (path / "config.json").is_file()
    config: dict[str, Any] | None = None
    if has_config:
        config = RunDirectory.open(path).config()
    if (path / _LEGACY_FLOW_FILE).is_file() and (config is None or "estimator" not in config):
        cls = _estimator_class("GeneratorFlow", None, path)
        return _legacy(cls, path, None)
    if config is None:
        raise ValueError(f"{path} is not a saved symmetrykit estimator: config.json is missing")
    if config.get("kind") == _LEGACY_DICTIONARY_MODEL:
        return _legacy(_estimator_class("DictionaryModel", None, path), path, config)
    version = config.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{path}: config.json has an invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ValueError(f"{path} was written in format version {version}, newer than this "
                         f"symmetrykit reads ({FORMAT_VERSION}); upgrade symmetrykit")
    cls = _estimator_class(config.get("estimator"), config.get("module"), path)
    if version < FORMAT_VERSION:
        return _legacy(cls, path, config)
    return _from_run(cls, RunDirectory.open(path), config)


def _legacy(cls: type, path: Path, config: Mapping[str, Any] | None) -> Any:
    warnings.warn(f"{path} was saved by symmetrykit 0.1; it still loads, but save it again to "
                  "get the current format", DeprecationWarning, stacklevel=3)
    return cls._read_legacy(path, config)


_PROGRESS_SPECS = ("auto", "none", "text", "tqdm")


def format_1_params(cls: type, config: Mapping[str, Any], path: Any,
                    removed: tuple[str, ...] = ()) -> dict[str, Any]:
    """Constructor parameters of a run saved in format 1 (symmetrykit 0.1, lens and baselines).

    That format stored tuples as JSON lists and objects by class name only; a replaced
    progress meter becomes ``"none"``, other replaced objects the constructor default, and
    parameters that no longer exist (``removed``) are dropped.
    """
    params = _saved_params(cls, config, path, removed)
    replaced = config.get("replaced_params") or {}
    restored: dict[str, Any] = {}
    for name, value in params.items():
        if name in removed:
            continue
        if name == "progress" and (name in replaced or value not in _PROGRESS_SPECS):
            restored[name] = "none"
        elif name in replaced:
            continue  # an object that was only recorded by its class name: use the default
        else:
            restored[name] = tuple(value) if isinstance(value, list) else value
    return restored
