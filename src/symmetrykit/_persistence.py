"""One run-directory format for every estimator, and :func:`load` that opens any saved run.

A saved estimator is a :class:`~symmetrykit.runs.RunDirectory`:

``config.json``
    ``{"estimator": name, "module": "symmetrykit.<package>", "format_version": 2,
    "params": {...}, "replaced_params": {...}, "fitted": {...},
    "arrays": {attribute: array name}, "history": {key: array name}, "modules": {...},
    "extra": {...}, "array_specs": {array name: [dtype, shape]}, "nonfinite_arrays": [...],
    "fitted_attributes": [...]}``. Parameters without a JSON form (a progress-meter object,
    a callable) are recorded by their class name in ``replaced_params`` and come back as the
    constructor's default; tuples, numeric arrays and Lie algebras keep their type.
``arrays.npz``
    ``fitted.<attribute>`` (numeric fitted arrays), ``history.<key>``,
    ``module.<attribute>.<state key>`` (torch module states) and ``extra.<name>``.
``metrics.json``
    The caller's metrics and ``fit_time``.

Nothing is unpickled: arrays are read by :mod:`symmetrykit._array_files` (object arrays refused
from their header, sizes bounded before allocation), everything else is JSON, and the class
to build is looked up among symmetrykit's own estimators only. A saved run is untrusted input:
:func:`load` checks the arrays against ``array_specs`` (names, dtype kinds, shapes), refuses
complex or non-finite values (histories may hold NaN; ``nonfinite_arrays`` lists the fitted
arrays that legitimately held NaN or inf), module weights that do not fit the rebuilt module,
and a config that lost a fitted attribute, each with one line naming the file. Runs written by
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

__all__ = ["FORMAT_VERSION", "check_saved_array", "load", "save_estimator"]

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


def _array_specs(arrays: Mapping[str, Any], history: set[str]
                 ) -> tuple[dict[str, list[Any]], list[str]]:
    """``{name: [dtype.str, shape]}`` of every array, and the non-history float arrays that
    hold NaN or inf (e.g. a validity gap that is infinite); the loader refuses such values
    in any other array."""
    specs: dict[str, list[Any]] = {}
    nonfinite: list[str] = []
    for name, value in arrays.items():
        array = np.asarray(value)
        specs[name] = [array.dtype.str, list(array.shape)]
        if (name not in history and array.dtype.kind == "f"
                and not bool(np.all(np.isfinite(array)))):
            nonfinite.append(name)
    return specs, sorted(nonfinite)


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
    # What the loader checks the files against: every array's dtype and shape, the arrays that
    # legitimately held NaN or inf when saved, and every fitted attribute the sections restore.
    array_specs, nonfinite = _array_specs(arrays, set(history_names.values()))
    restored = [*fitted, *array_names, *modules]
    if isinstance(getattr(estimator, "history_", None), Mapping):
        restored.append("history_")
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
        "array_specs": array_specs,
        "nonfinite_arrays": nonfinite,
        "fitted_attributes": sorted(restored),
    }
    # Convert everything before the directory is touched: a bad value leaves no half run.
    config = to_jsonable(config)
    all_metrics = to_jsonable(all_metrics)
    from .runs import staged_directory

    # Written beside the target and renamed in once complete: an overwrite keeps the old run
    # until the new one is whole, and a failure anywhere leaves the target untouched.
    with staged_directory(path, overwrite=overwrite) as stage:
        run = RunDirectory.create(stage, config)
        run.save_arrays(**arrays)
        run.save_metrics(all_metrics)
    return Path(path)


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
    except OSError as error:
        raise ValueError(f"{run.path}: arrays.npz is unreadable ({error})") from None
    # A ValueError of the reader already names the file in one line.


_ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*_$")
_SECTIONS = ("fitted", "arrays", "history", "history_kinds", "modules", "extra")


def _few(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _spec(value: Any, name: str, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    try:
        dtype_text, shape = value[0], value[1]
        if not isinstance(dtype_text, str) or not isinstance(shape, list):
            raise TypeError("expected [dtype, shape]")
        dims = tuple(int(n) for n in shape if isinstance(n, int) and not isinstance(n, bool))
        if len(dims) != len(shape):
            raise TypeError("the shape must be a list of integers")
        return np.dtype(dtype_text), dims
    except (TypeError, ValueError, IndexError, KeyError) as error:
        raise ValueError(f"{path}: config.json has a malformed array_specs entry for {name!r} "
                         f"({error})") from None


def check_saved_array(file: Any, name: str, array: np.ndarray, *,
                      allow_nonfinite: bool = False) -> np.ndarray:
    """``array`` if it is real (bool, int or float) and, unless allowed, finite.

    Complex, string and other dtypes and NaN/inf values in a saved array mean a damaged or
    edited file: loaded silently they would only show later as NaN results. One line naming
    ``file`` and the array.
    """
    kind = array.dtype.kind
    if kind not in "biuf":
        what = "complex numbers" if kind == "c" else f"dtype {array.dtype}"
        raise ValueError(f"{file}: array {name!r} holds {what}; a saved run holds real numbers "
                         "only (the file is damaged or was edited)")
    if kind == "f" and not allow_nonfinite:
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        if bad:
            raise ValueError(f"{file}: array {name!r} holds {bad} NaN or infinite value(s); "
                             "the file is damaged or was edited")
    return array


def _unused_arrays(config: Mapping[str, Any], names: Any) -> list[str]:
    """The arrays among ``names`` that no entry of ``config`` refers to (fitted arrays and
    histories by name, module states and ``extra.*`` by prefix)."""
    used = {v for section in ("arrays", "history")
            for v in (config.get(section) or {}).values() if isinstance(v, str)}
    prefixes = ("extra.", *(f"{info['prefix']}." for info in (config.get("modules") or {}).values()
                            if isinstance(info, Mapping) and isinstance(info.get("prefix"), str)))
    return sorted(n for n in names if n not in used and not n.startswith(prefixes))


def _check_arrays(path: Path, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
                  ) -> None:
    """Every array of ``arrays.npz`` against ``config.json``, before any is used.

    With ``array_specs`` (recorded by :func:`save_estimator`): the same names, dtype kinds
    and shapes. Always: real dtypes only; history arrays floating-point, where NaN is allowed (a
    logged quantity may be undefined at a step, and the history is never computed with);
    other float arrays finite unless ``nonfinite_arrays`` lists them (they held NaN or inf
    when saved, e.g. an infinite validity gap). Runs saved before the specs get the dtype
    checks only: a boolean array where a float one belongs is then caught for module weights
    and histories, not for fitted arrays.
    """
    file = path / "arrays.npz"
    specs = config.get("array_specs")
    if specs is not None:
        if not isinstance(specs, Mapping):
            raise ValueError(f"{path}: config.json entry 'array_specs' must be an object")
        missing = sorted(set(specs) - set(arrays))
        if missing:
            raise ValueError(f"{file} lacks {_few(missing)}, listed in config.json")
        unlisted = sorted(set(arrays) - set(specs))
        if unlisted:
            raise ValueError(f"{file} holds {_few(unlisted)}, which config.json does not list "
                             "(the file was edited or belongs to another run)")
        unused = _unused_arrays(config, arrays)
        if unused:
            raise ValueError(f"{file} holds {_few(unused)}, which no entry of config.json uses "
                             "(an entry was removed from it?)")
        for name, value in specs.items():
            dtype, shape = _spec(value, name, path)
            array = arrays[name]
            if array.dtype.kind != dtype.kind:
                raise ValueError(f"{file}: {name} has dtype {array.dtype}, but "
                                 f"config.json records {dtype}")
            if array.shape != shape:
                raise ValueError(f"{file}: {name} has shape {array.shape}, but "
                                 f"config.json records {shape}")
    nonfinite = config.get("nonfinite_arrays") or []
    if not isinstance(nonfinite, list):
        raise ValueError(f"{path}: config.json entry 'nonfinite_arrays' must be a list")
    history = config.get("history") or {}
    history_arrays = ({v for v in history.values() if isinstance(v, str)}
                      if isinstance(history, Mapping) else set())
    for name, array in arrays.items():
        if name in history_arrays and array.dtype.kind != "f":
            raise ValueError(f"{file}: history array {name!r} has dtype {array.dtype}; a "
                             "history holds floating-point numbers")
        check_saved_array(file, name, array,
                          allow_nonfinite=name in history_arrays or name in nonfinite)


def _check_sections(path: Path, config: Mapping[str, Any]) -> None:
    """The config's sections are objects, name fitted attributes, and restore every attribute
    that ``fitted_attributes`` records (a run whose config lost an entry is refused here,
    instead of loading an estimator that fails later)."""
    for section in _SECTIONS:
        if not isinstance(config.get(section, {}), Mapping):
            raise ValueError(f"{path}: config.json entry {section!r} must be an object")
    for section in ("fitted", "arrays", "modules"):
        for name in config.get(section, {}):
            if not _ATTRIBUTE.match(name):
                raise ValueError(f"{path}: config.json entry {section!r} names {name!r}, which "
                                 "is not a fitted attribute (the file was edited)")
    expected = config.get("fitted_attributes")
    if expected is None:  # saved before the list was recorded
        return
    if not isinstance(expected, list) or not all(isinstance(n, str) for n in expected):
        raise ValueError(f"{path}: config.json entry 'fitted_attributes' must be a list of "
                         "names")
    restored = {*config.get("fitted", {}), *config.get("arrays", {}), *config.get("modules", {})}
    if config.get("history") is not None:
        restored.add("history_")
    missing = sorted(set(expected) - restored)
    if missing:
        raise ValueError(f"{path}: config.json lacks the fitted attribute(s) {_few(missing)} "
                         "(the file was edited or is incomplete)")


def _from_run(cls: type, run: RunDirectory, config: Mapping[str, Any]) -> Any:
    from ._checkpoint import load_module_state

    path = run.path
    try:
        estimator = cls(**_restore_params(cls, config, path))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: cannot rebuild the {cls.__name__} ({error})") from None
    _check_sections(path, config)
    arrays = _arrays(run)
    _check_arrays(path, config, arrays)

    def need(name: Any) -> np.ndarray:
        if not isinstance(name, str) or name not in arrays:
            raise ValueError(f"{path}: arrays.npz lacks {name!r}")
        return arrays[name]

    for name, value in config.get("fitted", {}).items():
        setattr(estimator, name, value)
    for name, array_name in config.get("arrays", {}).items():
        setattr(estimator, name, need(array_name))
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
        try:
            module = estimator._build_module(name, info.get("config") or {})
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise ValueError(f"{path}: cannot rebuild the module {name!r} from config.json "
                             f"({' '.join(str(error).split())})") from None
        prefix = info["prefix"] + "."
        state = {key[len(prefix):]: value for key, value in arrays.items()
                 if key.startswith(prefix)}
        load_module_state(module, state, f"{path}: the saved weights of {name!r}")
        setattr(estimator, name, module)
    fit_time = config.get("fit_time")
    if isinstance(fit_time, Mapping):
        try:
            estimator.fit_time_ = {str(k): float(v) for k, v in fit_time.items()
                                   if v is not None}
        except (TypeError, ValueError):
            raise ValueError(f"{path}: config.json entry 'fit_time' must hold numbers"
                             ) from None
    extra = {key[len("extra."):]: value for key, value in arrays.items()
             if key.startswith("extra.")}
    try:
        estimator._load_extra(config.get("extra") or {}, extra)
        estimator._after_load()
    except (KeyError, TypeError, IndexError, AttributeError) as error:
        # AttributeError first: NotFittedError is one too, and here it means a lost attribute.
        raise ValueError(f"{path}: the saved {cls.__name__} is incomplete or inconsistent "
                         f"({' '.join(str(error).split())})") from None
    except ValueError as error:
        message = " ".join(str(error).split())
        raise ValueError(message if str(path) in message else f"{path}: {message}") from None
    is_fitted = getattr(estimator, "_is_fitted", None)
    if callable(is_fitted) and not is_fitted():
        raise ValueError(f"{path}: the saved {cls.__name__} lacks its fitted state "
                         f"({getattr(cls, '_fitted_marker', 'history_')!r}); the file was edited "
                         "or is incomplete")
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
