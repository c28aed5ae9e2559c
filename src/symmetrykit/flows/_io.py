"""Save and load fitted :class:`GeneratorFlow` estimators without pickle.

A saved flow is two files in a directory:

``flow.json``
    Format name and version, the estimator's constructor parameters (all except ``validity`` and
    ``progress``, which are not serialisable; whether a custom validity was used is recorded),
    the :class:`GeneratorField` configuration (``field_.config()``), ``periodic_``,
    ``fit_time_``, the names of the saved arrays and the SHA-256 of ``flow.npz``.
``flow.npz``
    Plain float arrays: the field's ``state_dict`` (``field.<name>``), every fitted float (or
    bool) array attribute such as ``scales_`` (``fitted.<name>``) and every ``history_`` entry
    (``history.<name>``). Written without pickle and read with
    ``allow_pickle=False``.

Both files are written atomically (``flow.npz`` first, ``flow.json`` last, so the JSON file,
with the checksum of the arrays it belongs to, commits the pair). :func:`load_flow` rebuilds the
field and the fitted attributes; ``flow.evaluate(points)`` is then bit-identical to the original's.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..runs import _write_npz, atomic_write_bytes, atomic_write_text, to_jsonable

__all__ = ["FLOW_FORMAT_VERSION", "load_flow", "save_flow"]

FLOW_FORMAT = "symmetrykit.GeneratorFlow"
FLOW_FORMAT_VERSION = 1
META_FILE = "flow.json"
ARRAYS_FILE = "flow.npz"
_NOT_SAVED = ("validity", "progress")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _constructor_names(cls: type) -> list[str]:
    signature = inspect.signature(cls.__init__)
    return [name for name, p in signature.parameters.items()
            if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _flow_params(flow) -> tuple[dict[str, Any], dict[str, str]]:
    """JSON-ready constructor parameters, and notes on those that could not be stored."""
    params: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for name in _constructor_names(type(flow)):
        if name in _NOT_SAVED or not hasattr(flow, name):
            continue
        value = getattr(flow, name)
        try:
            params[name] = to_jsonable(value)
        except TypeError:
            params[name] = None
            notes[name] = f"{type(value).__name__} (not serialisable; saved as null)"
    return params, notes


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    _write_npz(buffer, arrays)
    return buffer.getvalue()


def save_flow(flow, directory: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Save a fitted :class:`GeneratorFlow` to ``directory`` (``flow.json`` + ``flow.npz``).

    Parameters
    ----------
    flow : GeneratorFlow
        A fitted estimator.
    directory : path
        Created (with parents) if missing; it may hold other files (e.g. a run directory).
    overwrite : bool, default False
        Replace an existing saved flow in ``directory``.

    Returns
    -------
    Path
        ``directory``.

    Raises
    ------
    ValueError
        If ``flow`` is not fitted, or ``directory`` is a file.
    FileExistsError
        If ``directory`` already holds a saved flow and ``overwrite`` is false.
    """
    if not hasattr(flow, "field_") or not hasattr(flow, "scales_"):
        raise ValueError("this GeneratorFlow is not fitted yet; call fit(data) before saving")
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"{directory} exists and is not a directory")
    taken = [name for name in (META_FILE, ARRAYS_FILE) if (directory / name).exists()]
    if taken and not overwrite:
        raise FileExistsError(f"{directory} already holds a saved flow ({', '.join(taken)}); "
                              "pass overwrite=True to replace it")

    params, notes = _flow_params(flow)
    validity = getattr(flow, "validity", None)
    arrays: dict[str, np.ndarray] = {}
    for name, tensor in flow.field_.state_dict().items():
        arrays[f"field.{name}"] = tensor.detach().cpu().numpy()
    # Every fitted float or bool array (scales_, mixing_, is_symmetry_, ...), so new fitted
    # state travels too.
    for name, value in sorted(vars(flow).items()):
        if (name.endswith("_") and not name.startswith("_") and isinstance(value, np.ndarray)
                and value.dtype.kind in "fb"):
            arrays[f"fitted.{name}"] = value
    history = getattr(flow, "history_", None) or {}
    for name, values in history.items():
        arrays[f"history.{name}"] = np.asarray(values, dtype=np.float64)
    for name, array in arrays.items():
        if array.dtype.kind != "f" and not (name.startswith("fitted.") and array.dtype.kind == "b"):
            raise ValueError(f"array {name!r} has dtype {array.dtype}; expected floats")
    payload = _npz_bytes(arrays)
    meta = {
        "format": FLOW_FORMAT,
        "format_version": FLOW_FORMAT_VERSION,
        "class": type(flow).__name__,
        "params": params,
        "unsaved_params": notes,
        "validity": "default" if validity is None else "custom",
        "validity_type": None if validity is None else type(validity).__qualname__,
        "field_config": flow.field_.config(),
        "periodic": bool(flow.periodic_),
        "fit_time": float(getattr(flow, "fit_time_", float("nan"))),
        "arrays": sorted(arrays),
        "arrays_sha256": hashlib.sha256(payload).hexdigest(),
    }
    text = json.dumps(to_jsonable(meta), indent=2, allow_nan=False) + "\n"
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(directory / ARRAYS_FILE, payload)
    atomic_write_text(directory / META_FILE, text)
    return directory


def _read_meta(directory: Path) -> dict[str, Any]:
    file = directory / META_FILE
    if not directory.is_dir():
        raise ValueError(f"{directory} is not a saved flow: no such directory")
    if not file.is_file():
        raise ValueError(f"{directory} is not a saved flow: {META_FILE} is missing")
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"cannot read {file}: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FLOW_FORMAT:
        raise ValueError(f"{file} is not a saved GeneratorFlow")
    version = meta.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FLOW_FORMAT_VERSION:
        raise ValueError(f"{file} has format version {version!r}; this symmetrykit reads "
                         f"versions up to {FLOW_FORMAT_VERSION}")
    for key, kind in (("params", dict), ("field_config", dict), ("arrays_sha256", str)):
        if not isinstance(meta.get(key), kind):
            raise ValueError(f"{file} is corrupt: {key!r} is missing or malformed")
    return meta


def _read_arrays(directory: Path, meta: dict[str, Any]) -> dict[str, np.ndarray]:
    file = directory / ARRAYS_FILE
    if not file.is_file():
        raise ValueError(f"{directory} is not a complete saved flow: {ARRAYS_FILE} is missing")
    payload = file.read_bytes()
    if hashlib.sha256(payload).hexdigest() != meta["arrays_sha256"]:
        raise ValueError(f"{file} is corrupt or does not belong to {META_FILE} "
                         "(checksum mismatch)")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"cannot read {file}: {exc}") from exc
    missing = sorted(set(meta.get("arrays", [])) - set(arrays))
    if missing or "fitted.scales_" not in arrays:
        raise ValueError(f"{file} is corrupt: missing arrays {missing or ['fitted.scales_']}")
    return arrays


def _field_from(config: dict[str, Any], arrays: dict[str, np.ndarray], device) -> Any:
    from ._fields import GeneratorField

    config = dict(config)
    dtype_name = config.pop("dtype", "float32")
    if dtype_name not in _DTYPES:
        raise ValueError(f"saved field has unsupported dtype {dtype_name!r}")
    try:
        field = GeneratorField(**config, dtype=_DTYPES[dtype_name], device=device)
    except TypeError as exc:
        raise ValueError(f"saved field configuration is invalid: {exc}") from exc
    state = {name.removeprefix("field."): torch.as_tensor(array)
             for name, array in arrays.items() if name.startswith("field.")}
    try:
        field.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"saved field weights do not match its configuration: {exc}") from exc
    return field


def load_flow(directory: str | os.PathLike[str], device: str | None = None):
    """Load a :class:`GeneratorFlow` written by :func:`save_flow`.

    Parameters
    ----------
    directory : path
    device : str, optional
        Where to put the field (default ``"cpu"``); the saved ``device`` parameter is kept for
        later fits.

    Returns
    -------
    GeneratorFlow
        With ``field_``, ``scales_`` (and every other saved fitted array, e.g. ``mixing_``),
        ``periodic_``, ``history_``, ``fit_time_`` and
        ``generators_`` restored; ``validity_`` is ``None`` (a validity function is not saved,
        so :func:`compare` skips the validity column unless one is set again).

    Raises
    ------
    ValueError
        If a file is missing, unreadable, of an unknown format version, or corrupt.
    """
    from ._estimator import GeneratorFlow

    directory = Path(directory)
    meta = _read_meta(directory)
    arrays = _read_arrays(directory, meta)

    known = set(_constructor_names(GeneratorFlow))
    params = dict(meta["params"])
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"{directory / META_FILE} has parameters this GeneratorFlow does not "
                         f"take: {', '.join(unknown)}")
    params = {name: tuple(value) if isinstance(value, list) else value
              for name, value in params.items()}
    try:
        flow = GeneratorFlow(**params)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot rebuild the GeneratorFlow from {directory}: {exc}") from exc

    field = _field_from(meta["field_config"], arrays, device or "cpu")
    scales = np.asarray(arrays["fitted.scales_"], dtype=np.float64)
    if scales.shape != (field.n_generators,):
        raise ValueError(f"{directory / ARRAYS_FILE} is corrupt: scales has shape {scales.shape}, "
                         f"expected ({field.n_generators},)")
    flow.field_ = field
    flow.periodic_ = bool(meta.get("periodic", False))
    for name, array in arrays.items():
        if name.startswith("fitted."):
            setattr(flow, name.removeprefix("fitted."), array)
    flow.scales_ = scales
    if "fitted.is_symmetry_" not in arrays:  # judged without a margin (or saved before 0.x)
        flow.is_symmetry_ = None
    flow.history_ = {name.removeprefix("history."): array
                     for name, array in arrays.items() if name.startswith("history.")}
    fit_time = meta.get("fit_time")
    flow.fit_time_ = float("nan") if fit_time is None else float(fit_time)
    flow.validity_ = None
    flow.generators_ = [flow._numpy_field(i) for i in range(field.n_generators)]
    return flow
