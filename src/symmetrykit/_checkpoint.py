"""Atomic, resumable checkpoints of long fits (shared by SymmetryLens and GeneratorFlow).

A checkpoint is a run directory (``config.json`` naming the kind of fit, its parameters and a
fingerprint of the data; ``checkpoint.npz`` with the state). Nothing is pickled: modules,
optimisers and histories are flattened into named arrays by the helpers below, and a checkpoint
written for other data or other parameters is refused, never overwritten.

A checkpoint is read as untrusted input. :meth:`Checkpoint.load` refuses a damaged file and,
given the fit's step range, metadata out of range; the arrays and metadata it returns raise a
one-line :class:`MissingEntryError` naming the file for an absent entry; the ``restore_*``
helpers check every array against the freshly built module, optimiser or generator first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .runs import RunDirectory, to_jsonable

__all__ = ["Checkpoint", "CheckpointEntries", "MissingEntryError", "data_fingerprint",
           "flatten_history", "flatten_module", "flatten_optimizer", "load_module_state",
           "restore_history", "restore_module", "restore_optimizer", "restore_rng"]

# Parameters that do not change the numbers a fit produces.
NEUTRAL_PARAMS = ("progress", "device", "checkpoint", "checkpoint_every")


def data_fingerprint(X: np.ndarray) -> str:
    """SHA-256 of the float64 samples and their shape."""
    digest = hashlib.sha256(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    digest.update(repr(X.shape).encode())
    return digest.hexdigest()


# ------------------------------------------------------------------------------ checked entries
class MissingEntryError(KeyError, ValueError):
    """An array or metadata field that a checkpoint should hold is absent.

    A ``KeyError`` (a mapping look-up raises it) and a ``ValueError`` (the file is bad, which
    is what callers and the command line report), printed as one plain line.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class CheckpointEntries(dict):
    """The arrays or the metadata of a checkpoint; a look-up of an absent key names the file.

    ``source`` (the file) and ``what`` (``"array"`` or ``"field"``) go into the message of the
    :class:`MissingEntryError` raised instead of a bare ``KeyError``.
    """

    def __init__(self, entries: Mapping[str, Any], source: Any, what: str) -> None:
        super().__init__(entries)
        self.source, self.what = str(source), what

    def __missing__(self, key: Any) -> Any:
        raise MissingEntryError(f"{self.source} lacks the {self.what} {key!r}; the checkpoint "
                                "is incomplete or was edited (delete it to start afresh)")


def _source(arrays: Any) -> str:
    return str(getattr(arrays, "source", "the checkpoint"))


def _names(names: Collection[str], limit: int = 4) -> str:
    ordered = sorted(names)
    shown = ", ".join(repr(n) for n in ordered[:limit])
    return shown + (f" and {len(ordered) - limit} more" if len(ordered) > limit else "")


_KIND_WORDS = {"b": "boolean", "f": "floating-point", "iu": "integer", "biuf": "real",
               "c": "complex"}


def _tensor_kind(tensor: torch.Tensor) -> str:
    if tensor.dtype == torch.bool:
        return "b"
    if tensor.is_complex():
        return "c"
    return "f" if tensor.is_floating_point() else "iu"


def _checked(value: Any, kinds: str, shape: tuple[int, ...] | None, label: str) -> np.ndarray:
    """``value`` as an array of one of the dtype ``kinds`` and ``shape``; floats finite."""
    array = np.asarray(value)
    if array.dtype.kind not in kinds:
        raise ValueError(f"{label} has dtype {array.dtype}, expected a "
                         f"{_KIND_WORDS.get(kinds, kinds)} array")
    if shape is not None and array.shape != shape:
        raise ValueError(f"{label} has shape {array.shape}, expected {shape}")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ValueError(f"{label} contains NaN or infinite values")
    return array


def load_module_state(module: torch.nn.Module, state: Mapping[str, Any], what: str) -> None:
    """Load ``state`` (arrays by state-dict key) into ``module`` after checking it.

    Keys, shapes and dtype kinds must match the freshly built module's own state dict and
    floating-point weights must be finite: a broken weight would otherwise only show as NaN
    predictions. Anything else is one ``ValueError`` line starting with ``what`` (e.g.
    ``"<run>: the saved weights of 'field_'"``).
    """
    expected = module.state_dict()
    missing, unexpected = set(expected) - set(state), set(state) - set(expected)
    if missing or unexpected:
        parts = ([f"missing {_names(missing)}"] if missing else []) + (
            [f"unexpected {_names(unexpected)}"] if unexpected else [])
        raise ValueError(f"{what} do not match the module ({'; '.join(parts)})")
    checked = {key: torch.as_tensor(_checked(state[key], _tensor_kind(tensor),
                                             tuple(tensor.shape), f"{what}: {key!r}"))
               for key, tensor in expected.items()}
    try:
        module.load_state_dict(checked, strict=True)
    except RuntimeError as error:  # pragma: no cover - the checks above match torch's own
        raise ValueError(f"{what} do not fit the module ({' '.join(str(error).split())})"
                         ) from None


# ------------------------------------------------------------------------------ flatten / restore
def flatten_module(prefix: str, module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {f"{prefix}.{k}": v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def flatten_optimizer(prefix: str, optimizer: torch.optim.Optimizer) -> dict[str, np.ndarray]:
    out = {}
    for index, slots in optimizer.state_dict()["state"].items():
        for key, value in slots.items():
            out[f"{prefix}.{index}.{key}"] = torch.as_tensor(value).detach().cpu().numpy()
    return out


def restore_optimizer(prefix: str, optimizer: torch.optim.Optimizer,
                      arrays: dict[str, np.ndarray], device: torch.device) -> None:
    """Load the optimiser state saved by :func:`flatten_optimizer`, after checking it.

    Each slot must belong to a parameter of ``optimizer``, be a finite real array and have
    that parameter's shape (or be a scalar, like Adam's step count), and every parameter with
    state must hold the same slots. Problems are one ``ValueError`` line naming the checkpoint.
    """
    source = _source(arrays)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    state_dict = optimizer.state_dict()
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in arrays.items():
        if not name.startswith(prefix + "."):
            continue
        index_text, _, key = name[len(prefix) + 1:].partition(".")
        label = f"{source}: optimiser state {name!r}"
        if not (index_text.isdigit() and key) or int(index_text) >= len(params):
            raise ValueError(f"{label} names no parameter of the optimiser (it has "
                             f"{len(params)})")
        index = int(index_text)
        array = np.asarray(value)
        shape = None if array.ndim == 0 else tuple(params[index].shape)
        tensor = torch.as_tensor(_checked(array, "biuf", shape, label))
        # Adam keeps its step counter on the CPU; moments live with the parameters.
        slots.setdefault(index, {})[key] = tensor if key == "step" else tensor.to(device)
    if len({frozenset(slot) for slot in slots.values()}) > 1:
        raise ValueError(f"{source}: the optimiser state {prefix!r} is inconsistent (its "
                         "parameters hold different slots)")
    state_dict["state"] = slots
    optimizer.load_state_dict(state_dict)


def restore_module(prefix: str, module: torch.nn.Module, arrays: dict[str, np.ndarray]) -> None:
    """Load the state saved by :func:`flatten_module`, checked by :func:`load_module_state`."""
    state = {k[len(prefix) + 1:]: v for k, v in arrays.items() if k.startswith(prefix + ".")}
    load_module_state(module, state, f"{_source(arrays)}: the saved state of {prefix!r}")


def restore_rng(name: str, generator: torch.Generator, arrays: dict[str, np.ndarray]) -> None:
    """Set ``generator`` to the state saved as ``arrays[name]`` (``get_state().numpy()``).

    The state must be a uint8 vector of the generator's own state length; otherwise one
    ``ValueError`` line naming the checkpoint, where torch would raise a bare RuntimeError.
    """
    expected = tuple(generator.get_state().shape)
    value = np.asarray(arrays[name])
    if value.dtype != np.uint8 or value.shape != expected:
        raise ValueError(f"{_source(arrays)}: the random state {name!r} has dtype {value.dtype} "
                         f"and shape {value.shape}, expected uint8 of shape {expected}")
    try:
        generator.set_state(torch.as_tensor(value))
    except RuntimeError as error:
        raise ValueError(f"{_source(arrays)}: the random state {name!r} is invalid "
                         f"({' '.join(str(error).split())})") from None


def flatten_history(prefix: str, history: dict[str, list[float]]) -> dict[str, np.ndarray]:
    return {f"{prefix}.{k}": np.asarray(v, dtype=np.float64) for k, v in history.items()}


def restore_history(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, list[float]]:
    """The history saved by :func:`flatten_history`.

    Values must be real numbers but may be NaN or infinite: a history records what was logged
    (a quantity can be undefined at a step) and is never computed with.
    """
    history = {}
    for name, value in arrays.items():
        if name.startswith(prefix + "."):
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise ValueError(f"{_source(arrays)}: history {name!r} has dtype {array.dtype}, "
                                 "expected real numbers")
            history[name[len(prefix) + 1:]] = [float(x) for x in array.ravel()]
    return history


# ------------------------------------------------------------------------------ the checkpoint
def _check_counters(meta: Mapping[str, Any], bounds: Mapping[str, tuple[int, int]],
                    optional: Collection[str], file: Any) -> None:
    for field, (low, high) in bounds.items():
        if field not in meta:
            raise ValueError(f"{file}: the checkpoint metadata lacks {field!r}; it is incomplete "
                             "or was edited (delete it to start afresh)")
        value = meta[field]
        if value is None and field in optional:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{file}: the checkpoint field {field!r} must be an integer, got "
                             f"{value!r}; the file was edited or damaged (delete it to start "
                             "afresh)")
        if not low <= value <= high:
            raise ValueError(f"{file}: the checkpoint field {field!r} is {value}, outside "
                             f"{low}..{high} for this fit; the file was edited or damaged "
                             "(delete it to start afresh)")


class Checkpoint:
    """The checkpoint directory of one fit; refuses to resume a different fit.

    ``kind`` is stored in the directory and checked on load; ``label`` names the estimator in
    messages.
    """

    def __init__(self, path: Any, params: dict[str, Any], fingerprint: str, *, kind: str,
                 label: str):
        seed = params.get("random_state")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError("a checkpointed fit needs an integer random_state: resuming must "
                             f"replay the same random numbers, got {type(seed).__name__}")
        self.path = Path(path)
        self.kind, self.label = kind, label
        self.config = to_jsonable({
            "kind": kind, "fingerprint": fingerprint,
            "params": {k: v for k, v in params.items() if k not in NEUTRAL_PARAMS}})
        self._run: RunDirectory | None = None

    def load(self, *, bounds: Mapping[str, tuple[int, int]] | None = None,
             optional: Collection[str] = ()
             ) -> tuple[CheckpointEntries, CheckpointEntries] | None:
        """The saved ``(arrays, meta)``, ``None`` for a fresh path; errors for a foreign one.

        Parameters
        ----------
        bounds
            ``{metadata field: (low, high)}``: each field must be present and an integer
            (not a bool) with ``low <= value <= high``, both ends included. Give the fit's
            step range here, e.g. ``{"next_iteration": (0, n_iterations)}``, so that an edited
            ``next_iteration = 10**6`` is refused rather than taken for a finished fit.
        optional
            Fields of ``bounds`` that may also be ``None`` (e.g. "no restart in progress").

        Returns
        -------
        (arrays, meta) or None
            Both are :class:`CheckpointEntries`: looking up an absent array or field raises a
            one-line :class:`MissingEntryError` (a ``KeyError`` and ``ValueError``) that names
            the file.

        Raises
        ------
        ValueError
            One line naming the directory or ``checkpoint.npz``: not a checkpoint of this kind,
            of other data or parameters, an empty, truncated or damaged file, metadata that is
            not a JSON object, or a field of ``bounds`` missing, of the wrong type or out of
            range.
        """
        if not self.path.exists() or (self.path.is_dir() and not any(self.path.iterdir())):
            return None
        try:
            run = RunDirectory.open(self.path)
            config = run.config()
        except (OSError, ValueError) as error:
            raise ValueError(f"checkpoint {self.path} exists but is not a {self.label} "
                             f"checkpoint ({error}); choose another path") from None
        if config.get("kind") != self.kind:
            raise ValueError(f"{self.path} is not a {self.label} checkpoint; choose another path")
        if config.get("fingerprint") != self.config["fingerprint"]:
            raise ValueError(f"checkpoint {self.path} was written for different data; "
                             "choose another path or delete it")
        saved_params = config.get("params")
        if not isinstance(saved_params, dict):
            raise ValueError(f"{self.path / 'config.json'}: the checkpoint's 'params' must be a "
                             "JSON object; the file was edited or damaged")
        if saved_params != self.config["params"]:
            changed = sorted(k for k in set(saved_params) | set(self.config["params"])
                             if saved_params.get(k) != self.config["params"].get(k))
            raise ValueError(f"checkpoint {self.path} was written with different parameters "
                             f"({', '.join(changed)}); choose another path or delete it")
        file = self.path / "checkpoint.npz"
        try:
            saved = run.load_checkpoint()
        except OSError as error:
            raise ValueError(f"{file}: cannot be read ({' '.join(str(error).split())})"
                             ) from None
        self._run = run
        if saved is None:
            return None
        arrays, meta = saved
        _check_counters(meta, bounds or {}, optional, file)
        return CheckpointEntries(arrays, file, "array"), CheckpointEntries(meta, file, "field")

    def save(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        if self._run is None:
            self._run = RunDirectory.create(self.path, self.config)
        self._run.save_checkpoint(arrays, meta)
