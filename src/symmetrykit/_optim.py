"""A lean Adam optimiser for the library's training loops.

``torch.optim`` imports ``torch._dynamo`` the first time an optimiser is built (1.5–2.7 s on
the 2-core development machine), which is a fifth of the README's first command. :class:`Adam`
performs the update of Kingma & Ba (2015) with bias correction, exactly as ``torch.optim.Adam``
does without weight decay or AMSGrad, and exposes the parts of the ``torch.optim.Optimizer``
interface that the training loops and checkpoints use: ``param_groups`` (with a settable
``"lr"``), ``step()``, ``state_dict()`` and ``load_state_dict()`` in torch's layout (so
:func:`symmetrykit._checkpoint.flatten_optimizer` and ``restore_optimizer`` work unchanged).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import torch

__all__ = ["Adam"]


class Adam:
    """Adam over one group of tensors: ``m ← β₁m + (1−β₁)g``, ``v ← β₂v + (1−β₂)g²``,
    ``p ← p − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + eps)``."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, *,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        params = list(params)
        if not params:
            raise ValueError("Adam got an empty parameter list")
        self.param_groups = [{"params": params, "lr": float(lr), "betas": tuple(betas),
                              "eps": float(eps)}]
        self.state: dict[int, dict[str, torch.Tensor]] = {}

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        group = self.param_groups[0]
        beta1, beta2 = group["betas"]
        lr, eps = group["lr"], group["eps"]
        for index, param in enumerate(group["params"]):
            grad = param.grad
            if grad is None:
                continue
            state = self.state.get(index)
            if state is None:
                state = self.state[index] = {
                    "step": torch.tensor(0.0),
                    "exp_avg": torch.zeros_like(param),
                    "exp_avg_sq": torch.zeros_like(param)}
            state["step"] += 1
            step = float(state["step"])
            state["exp_avg"].lerp_(grad, 1 - beta1)
            state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denominator = (state["exp_avg_sq"].sqrt() / math.sqrt(1 - beta2**step)).add_(eps)
            param.addcdiv_(state["exp_avg"], denominator, value=-lr / (1 - beta1**step))

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: slots}, "param_groups": [...]}``, as ``torch.optim`` lays it out."""
        group = self.param_groups[0]
        return {"state": {index: dict(slots) for index, slots in self.state.items()},
                "param_groups": [{"lr": group["lr"], "betas": group["betas"],
                                  "eps": group["eps"],
                                  "params": list(range(len(group["params"])))}]}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (moments moved to their parameters)."""
        params = self.param_groups[0]["params"]
        state: dict[int, dict[str, torch.Tensor]] = {}
        for index, slots in state_dict["state"].items():
            param = params[int(index)]
            state[int(index)] = {
                key: (torch.as_tensor(value, dtype=torch.float32).clone() if key == "step"
                      else torch.as_tensor(value).to(param.device, param.dtype).clone())
                for key, value in slots.items()}
        self.state = state
        saved = state_dict["param_groups"][0]
        self.param_groups[0].update({key: saved[key] for key in ("lr", "betas", "eps")
                                     if key in saved})
