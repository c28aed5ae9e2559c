"""Reading the ``flow.json`` + ``flow.npz`` flows of symmetrykit 0.1.

Fitted flows are now saved by :meth:`GeneratorFlow.save` in the run-directory format every
estimator shares (:mod:`symmetrykit._persistence`). Directories written by symmetrykit 0.1 hold
two files instead, which :func:`read_legacy_flow` still reads (``symmetrykit.load`` and
``GeneratorFlow.load`` call it with a ``DeprecationWarning``):

``flow.json``
    Format name and version 1, the constructor parameters (without ``validity`` and
    ``progress``), the :class:`GeneratorField` configuration (``field_.config()``),
    ``periodic_``, the fit's wall time, the names of the saved arrays and the SHA-256 of
    ``flow.npz``.
``flow.npz``
    The field's ``state_dict`` (``field.<name>``), the fitted float or bool arrays
    (``fitted.<name>``) and the history (``history.<name>``). Read as untrusted input: sizes
    bounded before allocation, no pickle, weights checked against the rebuilt field, complex
    or non-finite values refused (except in the history and the validity gaps and roughness,
    which a real fit can leave infinite).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .._array_files import read_npz
from .._checkpoint import load_module_state
from .._persistence import check_saved_array
from ._fields import build_field

__all__ = ["read_legacy_flow"]

FLOW_FORMAT = "symmetrykit.GeneratorFlow"
FLOW_FORMAT_VERSION = 1
META_FILE = "flow.json"
ARRAYS_FILE = "flow.npz"
_ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*_$")
# Fitted arrays that a real fit can leave non-finite (an infinite validity gap, the roughness
# of a vanishing field); every other saved float must be finite.
_MAY_BE_NONFINITE = frozenset({"fitted.validity_gap_", "fitted.roughness_"})


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
    # Sizes bounded before allocation, object arrays refused from their header.
    arrays = read_npz(io.BytesIO(payload), name=str(file))
    listed = meta.get("arrays", [])
    if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
        raise ValueError(f"{directory / META_FILE} is corrupt: 'arrays' must be a list of names")
    missing = sorted(set(listed) - set(arrays))
    if missing or "fitted.scales_" not in arrays:
        raise ValueError(f"{file} is corrupt: missing arrays {missing or ['fitted.scales_']}")
    for name, array in arrays.items():
        if name.startswith("fitted.") and not _ATTRIBUTE.match(name.removeprefix("fitted.")):
            raise ValueError(f"{file} is corrupt: {name!r} names no fitted attribute")
        # Histories and these judgements may legitimately be NaN or inf (a diverging flow).
        check_saved_array(file, name, array,
                          allow_nonfinite=name.startswith("history.") or name in _MAY_BE_NONFINITE)
    return arrays


def read_legacy_flow(cls: type, directory: str | os.PathLike[str]) -> Any:
    """Rebuild a fitted ``cls`` (a :class:`GeneratorFlow`) from a symmetrykit 0.1 directory.

    ``fit_time_`` becomes ``{"wall_s": <saved seconds>, "cpu_s": nan}`` (CPU time was not
    saved) and ``validity_`` is ``None``.

    Raises
    ------
    ValueError
        If a file is missing, unreadable, of an unknown format version, or corrupt.
    """
    directory = Path(directory)
    meta = _read_meta(directory)
    arrays = _read_arrays(directory, meta)
    known = set(cls().get_params(deep=False))
    params = dict(meta["params"])
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"{directory / META_FILE} has parameters this GeneratorFlow does not "
                         f"take: {', '.join(unknown)}")
    params = {name: tuple(value) if isinstance(value, list) else value
              for name, value in params.items()}
    try:
        flow = cls(**params)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot rebuild the GeneratorFlow from {directory}: {exc}") from exc

    try:
        field = build_field(meta["field_config"])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"{directory / META_FILE}: cannot rebuild the field from "
                         f"'field_config' ({' '.join(str(exc).split())})") from None
    state = {name.removeprefix("field."): array
             for name, array in arrays.items() if name.startswith("field.")}
    load_module_state(field, state, f"{directory / ARRAYS_FILE}: the saved field weights")
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
    if "fitted.is_symmetry_" not in arrays:  # judged without a margin
        flow.is_symmetry_ = None
    flow.history_ = {name.removeprefix("history."): array
                     for name, array in arrays.items() if name.startswith("history.")}
    fit_time = meta.get("fit_time")
    if fit_time is not None and (isinstance(fit_time, bool)
                                 or not isinstance(fit_time, (int, float))):
        raise ValueError(f"{directory / META_FILE} is corrupt: 'fit_time' must be a number")
    flow.fit_time_ = {"wall_s": float("nan") if fit_time is None else float(fit_time),
                      "cpu_s": float("nan")}
    try:
        flow._after_load()
    except (AttributeError, KeyError, TypeError, IndexError, ValueError) as exc:
        raise ValueError(f"{directory}: the saved flow is inconsistent "
                         f"({' '.join(str(exc).split())})") from None
    return flow
