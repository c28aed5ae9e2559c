"""SymmetryLens checkpoints: the state of finished and current restarts as named arrays.

Everything a restart needs to continue exactly where it stopped — ``A``, the filter, both density
estimators, both Adam states, the history so far and the state of the torch random generator —
flattened into the arrays of the shared atomic :class:`symmetrykit._checkpoint.Checkpoint` (which
:meth:`SymmetryLens._checkpoint_store` opens with the kind ``"symmetrylens-checkpoint"``).
"""

from __future__ import annotations

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
)

__all__ = ["pack_current", "pack_finished", "unpack_current", "unpack_finished"]


def pack_finished(index: int, run: dict[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of finished restart ``index`` (its ``A``, filter and history)."""
    prefix = f"done{index}"
    arrays = {f"{prefix}.a": run["a"].cpu().numpy(), f"{prefix}.f": run["f"].cpu().numpy()}
    arrays.update(flatten_history(f"{prefix}.history", run["history"]))
    return arrays


def unpack_finished(index: int, arrays: dict[str, np.ndarray], meta: dict[str, Any]
                    ) -> dict[str, Any]:
    """Finished restart ``index`` as :func:`pack_finished` and the checkpoint's meta saved it."""
    prefix = f"done{index}"
    return {"a": torch.as_tensor(arrays[f"{prefix}.a"]),
            "f": torch.as_tensor(arrays[f"{prefix}.f"]),
            "history": restore_history(f"{prefix}.history", arrays),
            "final_loss": float(meta["final_losses"][index]),
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
    return arrays


def unpack_current(arrays: dict[str, np.ndarray], state: dict[str, Any]) -> None:
    """Load the current restart's state into the freshly built objects in ``state``."""
    device = state["a"].device
    with torch.no_grad():
        state["a"].copy_(torch.as_tensor(arrays["now.a"]))
        state["f"].copy_(torch.as_tensor(arrays["now.f"]))
    state["gen"].set_state(torch.as_tensor(arrays["now.rng"], dtype=torch.uint8))
    restore_module("now.marginal", state["marginal"], arrays)
    restore_module("now.conditional", state["conditional"], arrays)
    restore_optimizer("now.model_opt", state["model_opt"], arrays, device)
    restore_optimizer("now.est_opt", state["est_opt"], arrays, device)
    state["history"].clear()
    state["history"].update(restore_history("now.history", arrays))
