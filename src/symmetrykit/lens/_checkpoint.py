"""SymmetryLens checkpoints: the state of finished and current restarts as named arrays.

Everything a restart needs to continue exactly where it stopped — ``A``, the filter, both density
estimators, both Adam states, the history so far and the state of the torch random generator —
flattened into the arrays of the shared atomic :class:`symmetrykit._checkpoint.Checkpoint` (which
:meth:`SymmetryLens._checkpoint_store` opens with the kind ``"symmetrylens-checkpoint"``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .._checkpoint import (
    flatten_history,
    flatten_module,
    flatten_optimizer,
    restore_history,
    restore_module,
    restore_optimizer,
    restore_rng,
)

#: Why a run ended (``SymmetryLens.stop_reasons_``).
STOP_REASONS = {"converged", "max_time", "n_steps"}

__all__ = ["STOP_REASONS", "check_meta", "pack_current", "pack_finished", "unpack_current",
           "unpack_finished"]


def _edited(source: Any, what: str) -> ValueError:
    return ValueError(f"{source}: {what}; the file was edited or damaged (delete it to start "
                      "afresh)")


def check_meta(meta: Any, padding: int) -> None:
    """Check the metadata fields that the counters' bounds do not cover: the padding of the fit
    and one finite final loss per finished restart."""
    source = getattr(meta, "source", "the checkpoint")
    if meta["padding"] != padding or isinstance(meta["padding"], bool):
        raise _edited(source, f"the checkpoint's padding is {meta['padding']!r}, this fit's "
                              f"{padding}")
    for key, kind in (("run_steps", int), ("stop_reasons", str)):
        if key in meta and (not isinstance(meta[key], list)
                            or len(meta[key]) != meta["finished_restarts"]
                            or not all(isinstance(v, kind) and not isinstance(v, bool)
                                       for v in meta[key])):
            raise _edited(source, f"{key!r} must list one {kind.__name__} per finished restart "
                                  f"({meta['finished_restarts']}), got {meta[key]!r:.60}")
    if "stop_reasons" in meta and not set(meta["stop_reasons"]) <= STOP_REASONS:
        raise _edited(source, f"'stop_reasons' must be among {sorted(STOP_REASONS)}, got "
                              f"{meta['stop_reasons']!r:.60}")
    losses = meta["final_losses"]
    if (not isinstance(losses, list) or len(losses) != meta["finished_restarts"]
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       for v in losses)):
        raise _edited(source, f"'final_losses' must list one number per finished restart "
                              f"({meta['finished_restarts']}), got {losses!r:.60}")


def _run_steps(meta: Any, index: int, history: dict[str, list[float]]) -> int:
    """Model steps of finished run ``index``: from the metadata, or (checkpoints written before
    runs could stop early) one past the last logged step."""
    if "run_steps" in meta:
        return int(meta["run_steps"][index])
    steps = history.get("step") or [-1.0]
    return int(steps[-1]) + 1


def _matrix(arrays: Any, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    """``arrays[name]`` as a tensor, checked to be real, finite and of ``shape``."""
    array = np.asarray(arrays[name])
    if array.dtype.kind != "f" or array.shape != shape or not np.all(np.isfinite(array)):
        raise _edited(getattr(arrays, "source", "the checkpoint"),
                      f"{name!r} must be a finite float array of shape {shape}, got "
                      f"{array.dtype} {array.shape}")
    return torch.as_tensor(array)


def pack_finished(index: int, run: dict[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of finished restart ``index`` (its ``A``, filter and history)."""
    prefix = f"done{index}"
    arrays = {f"{prefix}.a": run["a"].cpu().numpy(), f"{prefix}.f": run["f"].cpu().numpy()}
    arrays.update(flatten_history(f"{prefix}.history", run["history"]))
    return arrays


def unpack_finished(index: int, arrays: dict[str, np.ndarray], meta: dict[str, Any],
                    size: int) -> dict[str, Any]:
    """Finished restart ``index`` as :func:`pack_finished` and the checkpoint's meta saved it
    (``size``: that of the padded space, ``M = N + 2P``)."""
    prefix = f"done{index}"
    dim = size - 2 * int(meta["padding"])
    history = restore_history(f"{prefix}.history", arrays)
    return {"a": _matrix(arrays, f"{prefix}.a", (size, size)),
            "f": _matrix(arrays, f"{prefix}.f", (dim,)),
            "history": history,
            "final_loss": float(meta["final_losses"][index]),
            "steps": _run_steps(meta, index, history),
            "stop_reason": (meta["stop_reasons"][index] if "stop_reasons" in meta
                            else "n_steps"),
            "padding": int(meta["padding"])}


def pack_current(state: dict[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of the restart in progress (every object in ``state``)."""
    arrays = {"now.a": state["a"].detach().cpu().numpy(),
              "now.f": state["f"].detach().cpu().numpy(),
              "now.rng": state["gen"].get_state().numpy()}
    arrays.update(flatten_module("now.marginal", state["marginal"]))
    arrays.update(flatten_module("now.conditional", state["conditional"]))
    arrays.update(flatten_optimizer("now.model_opt", state["model_opt"]))
    arrays.update(flatten_optimizer("now.est_opt", state["est_opt"]))
    arrays.update(flatten_history("now.history", state["history"]))
    # The reference losses of the divergence guards (NaN: none yet), so that a resumed fit
    # stops exactly where the uninterrupted one would.
    for name, guard in state["guards"].items():
        reference = guard.reference
        arrays[f"now.guard.{name}"] = np.asarray(math.nan if reference is None else reference)
    if state.get("convergence") is not None:
        arrays.update(state["convergence"].state_arrays("now.stop"))
    return arrays


def unpack_current(arrays: dict[str, np.ndarray], state: dict[str, Any]) -> None:
    """Load the current restart's state into the freshly built objects in ``state``."""
    device = state["a"].device
    a = _matrix(arrays, "now.a", tuple(state["a"].shape))
    f = _matrix(arrays, "now.f", tuple(state["f"].shape))
    with torch.no_grad():
        state["a"].copy_(a)
        state["f"].copy_(f)
    restore_rng("now.rng", state["gen"], arrays)
    restore_module("now.marginal", state["marginal"], arrays)
    restore_module("now.conditional", state["conditional"], arrays)
    restore_optimizer("now.model_opt", state["model_opt"], arrays, device)
    restore_optimizer("now.est_opt", state["est_opt"], arrays, device)
    state["history"].clear()
    state["history"].update(restore_history("now.history", arrays))
    for name, guard in state["guards"].items():
        # Checkpoints written before the guards existed have none: the first loss after the
        # resume becomes the reference.
        if f"now.guard.{name}" in arrays:
            reference = np.asarray(arrays[f"now.guard.{name}"])
            if reference.shape != () or reference.dtype.kind != "f":
                raise _edited(getattr(arrays, "source", "the checkpoint"),
                              f"'now.guard.{name}' must be a float scalar, got "
                              f"{reference.dtype} {reference.shape}")
            guard.reference = float(reference) if np.isfinite(reference) else None
    if state.get("convergence") is not None:
        state["convergence"].load(arrays, "now.stop", int(state["f"].shape[0]))
