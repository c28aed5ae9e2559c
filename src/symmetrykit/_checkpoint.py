"""Atomic, resumable checkpoints of long fits (shared by SymmetryLens and GeneratorFlow).

A checkpoint is a run directory (``config.json`` naming the kind of fit, its parameters and a
fingerprint of the data; ``checkpoint.npz`` with the state). Nothing is pickled: modules,
optimisers and histories are flattened into named arrays by the helpers below, and a checkpoint
written for other data or other parameters is refused, never overwritten.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .runs import RunDirectory, to_jsonable

__all__ = ["Checkpoint", "data_fingerprint", "flatten_history", "flatten_module",
           "flatten_optimizer", "restore_history", "restore_module", "restore_optimizer"]

# Parameters that do not change the numbers a fit produces.
NEUTRAL_PARAMS = ("progress", "device", "checkpoint", "checkpoint_every")


def data_fingerprint(X: np.ndarray) -> str:
    """SHA-256 of the float64 samples and their shape."""
    digest = hashlib.sha256(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    digest.update(repr(X.shape).encode())
    return digest.hexdigest()


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


def restore_module(prefix: str, module: torch.nn.Module, arrays: dict[str, np.ndarray]) -> None:
    state = {k[len(prefix) + 1:]: torch.as_tensor(v) for k, v in arrays.items()
             if k.startswith(prefix + ".")}
    module.load_state_dict(state)


def flatten_history(prefix: str, history: dict[str, list[float]]) -> dict[str, np.ndarray]:
    return {f"{prefix}.{k}": np.asarray(v, dtype=np.float64) for k, v in history.items()}


def restore_history(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, list[float]]:
    return {k[len(prefix) + 1:]: [float(x) for x in v] for k, v in arrays.items()
            if k.startswith(prefix + ".")}


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

    def load(self) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """The saved ``(arrays, meta)``, ``None`` for a fresh path; errors for a foreign one."""
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
