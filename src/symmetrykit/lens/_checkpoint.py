"""Atomic checkpoints for SymmetryLens fits, so that a long run can be resumed bit for bit.

A checkpoint is a run directory (``config.json`` naming the estimator parameters and a
fingerprint of the data, ``checkpoint.npz`` with the state). It holds the finished restarts and
everything the current one needs to continue exactly where it stopped: ``A``, the filter, both
density estimators, both Adam states, the history so far and the state of the torch random
generator. Nothing is pickled; the state is flattened into named arrays.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..runs import RunDirectory, to_jsonable

__all__ = ["Checkpoint", "data_fingerprint"]

KIND = "symmetrylens-checkpoint"
# Parameters that do not change the numbers a fit produces.
_NEUTRAL_PARAMS = ("progress", "device", "checkpoint", "checkpoint_every")


def data_fingerprint(X: np.ndarray) -> str:
    """SHA-256 of the float64 samples and their shape."""
    digest = hashlib.sha256(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    digest.update(repr(X.shape).encode())
    return digest.hexdigest()


def _flatten_module(prefix: str, module: torch.nn.Module) -> dict[str, np.ndarray]:
    return {f"{prefix}.{k}": v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def _flatten_optimizer(prefix: str, optimizer: torch.optim.Optimizer) -> dict[str, np.ndarray]:
    out = {}
    for index, slots in optimizer.state_dict()["state"].items():
        for key, value in slots.items():
            out[f"{prefix}.{index}.{key}"] = torch.as_tensor(value).detach().cpu().numpy()
    return out


def _restore_optimizer(prefix: str, optimizer: torch.optim.Optimizer,
                       arrays: dict[str, np.ndarray], device: torch.device) -> None:
    state_dict = optimizer.state_dict()
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in arrays.items():
        if name.startswith(prefix + "."):
            index, key = name[len(prefix) + 1:].split(".", 1)
            tensor = torch.as_tensor(value)
            # Adam keeps its step counter on the CPU; moments live with the parameters.
            slots.setdefault(int(index), {})[key] = tensor if key == "step" else tensor.to(device)
    state_dict["state"] = slots
    optimizer.load_state_dict(state_dict)


def _restore_module(prefix: str, module: torch.nn.Module, arrays: dict[str, np.ndarray]) -> None:
    state = {k[len(prefix) + 1:]: torch.as_tensor(v) for k, v in arrays.items()
             if k.startswith(prefix + ".")}
    module.load_state_dict(state)


def _flatten_history(prefix: str, history: dict[str, list[float]]) -> dict[str, np.ndarray]:
    return {f"{prefix}.{k}": np.asarray(v, dtype=np.float64) for k, v in history.items()}


def _restore_history(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, list[float]]:
    return {k[len(prefix) + 1:]: [float(x) for x in v] for k, v in arrays.items()
            if k.startswith(prefix + ".")}


class Checkpoint:
    """The checkpoint directory of one fit; refuses to resume a different fit."""

    def __init__(self, path: Any, params: dict[str, Any], fingerprint: str):
        seed = params.get("random_state")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError("a checkpointed fit needs an integer random_state: resuming must "
                             f"replay the same random numbers, got {type(seed).__name__}")
        self.path = Path(path)
        self.config = to_jsonable({
            "kind": KIND, "fingerprint": fingerprint,
            "params": {k: v for k, v in params.items() if k not in _NEUTRAL_PARAMS}})
        self._run: RunDirectory | None = None

    def load(self) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """The saved ``(arrays, meta)``, ``None`` for a fresh path; errors for a foreign one."""
        if not self.path.exists() or (self.path.is_dir() and not any(self.path.iterdir())):
            return None
        try:
            run = RunDirectory.open(self.path)
            config = run.config()
        except (OSError, ValueError) as error:
            raise ValueError(f"checkpoint {self.path} exists but is not a SymmetryLens "
                             f"checkpoint ({error}); choose another path") from None
        if config.get("kind") != KIND:
            raise ValueError(f"{self.path} is not a SymmetryLens checkpoint; choose another path")
        if config.get("fingerprint") != self.config["fingerprint"]:
            raise ValueError(f"checkpoint {self.path} was written for different data; "
                             "choose another path or delete it")
        if config.get("params") != self.config["params"]:
            changed = sorted(k for k in set(config.get("params", {})) | set(self.config["params"])
                             if config.get("params", {}).get(k) != self.config["params"].get(k))
            raise ValueError(f"checkpoint {self.path} was written with different parameters "
                             f"({', '.join(changed)}); choose another path or delete it")
        self._run = run
        return run.load_checkpoint()

    def save(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        if self._run is None:
            self._run = RunDirectory.create(self.path, self.config)
        self._run.save_checkpoint(arrays, meta)

    # ---------------------------------------------------------------- state (de)serialisation
    @staticmethod
    def pack_finished(index: int, run: dict[str, Any]) -> dict[str, np.ndarray]:
        prefix = f"done{index}"
        arrays = {f"{prefix}.a": run["a"].cpu().numpy(), f"{prefix}.f": run["f"].cpu().numpy()}
        arrays.update(_flatten_history(f"{prefix}.history", run["history"]))
        return arrays

    @staticmethod
    def unpack_finished(index: int, arrays: dict[str, np.ndarray], meta: dict[str, Any]
                        ) -> dict[str, Any]:
        prefix = f"done{index}"
        return {"a": torch.as_tensor(arrays[f"{prefix}.a"]),
                "f": torch.as_tensor(arrays[f"{prefix}.f"]),
                "history": _restore_history(f"{prefix}.history", arrays),
                "final_loss": float(meta["final_losses"][index]),
                "padding": int(meta["padding"])}

    @staticmethod
    def pack_current(state: dict[str, Any]) -> dict[str, np.ndarray]:
        arrays = {"now.a": state["a"].detach().cpu().numpy(),
                  "now.f": state["f"].detach().cpu().numpy(),
                  "now.rng": state["gen"].get_state().numpy()}
        arrays.update(_flatten_module("now.marginal", state["marginal"]))
        arrays.update(_flatten_module("now.conditional", state["conditional"]))
        arrays.update(_flatten_optimizer("now.model_opt", state["model_opt"]))
        arrays.update(_flatten_optimizer("now.est_opt", state["est_opt"]))
        arrays.update(_flatten_history("now.history", state["history"]))
        return arrays

    @staticmethod
    def unpack_current(arrays: dict[str, np.ndarray], state: dict[str, Any]) -> None:
        """Load the current restart's state into freshly built objects in ``state``."""
        device = state["a"].device
        with torch.no_grad():
            state["a"].copy_(torch.as_tensor(arrays["now.a"]))
            state["f"].copy_(torch.as_tensor(arrays["now.f"]))
        state["gen"].set_state(torch.as_tensor(arrays["now.rng"], dtype=torch.uint8))
        _restore_module("now.marginal", state["marginal"], arrays)
        _restore_module("now.conditional", state["conditional"], arrays)
        _restore_optimizer("now.model_opt", state["model_opt"], arrays, device)
        _restore_optimizer("now.est_opt", state["est_opt"], arrays, device)
        state["history"].clear()
        state["history"].update(_restore_history("now.history", arrays))
