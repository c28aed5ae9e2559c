"""What SymmetryGAN and LieGAN share: a discriminator that tells ``g·x`` from ``x``.

Both baselines learn a transformation ``g`` (one matrix, or ``exp`` of a combination of learned
Lie-algebra elements) by an adversarial game: a small MLP discriminator ``D`` is trained to tell
real samples from transformed ones, and ``g`` to make the transformed samples look real. A
symmetry of the data distribution is a transformation ``D`` cannot detect. The identity always is
one, which is why both methods need some pressure away from it (random initialisation spread for
SymmetryGAN, regularisers for LieGAN).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator

from .._validation import as_samples
from ..progress import make_progress

__all__ = ["AdversarialSymmetry", "Discriminator"]


class Discriminator(torch.nn.Module):
    """MLP ``dim → hidden → hidden → 1`` (logit) with LeakyReLU(0.2)."""

    def __init__(self, dim: int, hidden: int, generator: torch.Generator):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(dim, hidden), torch.nn.LeakyReLU(0.2),
            torch.nn.Linear(hidden, hidden), torch.nn.LeakyReLU(0.2),
            torch.nn.Linear(hidden, 1))
        with torch.no_grad():
            for layer in self.layers:
                if isinstance(layer, torch.nn.Linear):
                    bound = float(np.sqrt(6.0 / (layer.in_features + layer.out_features)))
                    layer.weight.uniform_(-bound, bound, generator=generator)
                    layer.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).squeeze(-1)


def torch_seed(random_state: Any) -> int:
    """A torch seed derived from ``random_state`` without touching any global RNG."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    return int(np.random.SeedSequence(random_state).generate_state(1, np.uint64)[0] >> 1)


class AdversarialSymmetry(BaseEstimator):
    """Base class: the adversarial training loop; subclasses define ``g`` and its penalty.

    Subclasses implement ``_build(dim, generator) -> list of parameters``,
    ``_transform(x, generator) -> g·x`` (differentiable), ``_penalty(x, gx) -> scalar``,
    ``_snapshot() -> ndarray`` (the current learned matrix, for monitors) and ``_finish()``
    (set the learned attributes).
    """

    _hidden_default = 64

    def _check(self, X: Any) -> np.ndarray:
        X = as_samples(X)
        if X.shape[0] < 16:
            raise ValueError(f"need at least 16 samples, got {X.shape[0]}")
        if X.shape[1] < 2:
            raise ValueError(f"need at least 2 features, got {X.shape[1]}")
        for name in ("n_steps", "batch_size", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.max_time is not None and not self.max_time > 0:
            raise ValueError(f"max_time must be positive seconds, got {self.max_time!r}")
        for name in ("lr", "discriminator_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.hidden is not None and (not isinstance(self.hidden, (int, np.integer))
                                        or self.hidden < 1):
            raise ValueError(f"hidden must be a positive integer, got {self.hidden!r}")
        if self.device not in ("cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {self.device!r}")
        if str(self.device).startswith("cuda") and not torch.cuda.is_available():
            raise ValueError("device='cuda' requested but CUDA is not available")
        return X

    def fit(self, X: Any, y: Any = None, *, monitor: Any = None) -> AdversarialSymmetry:
        """Learn from samples ``X`` (n_samples, dim); ``monitor(matrix) -> dict`` is logged."""
        X = self._check(X)
        self._check_params()
        n_samples, dim = X.shape
        device = torch.device(self.device)
        gen = torch.Generator(device="cpu").manual_seed(torch_seed(self.random_state))
        # Scalar normalisation (as SymmetryLens does): keeps every linear map meaningful.
        self.mean_, self.scale_ = float(X.mean()), float(X.std() + 1e-12)
        data = torch.as_tensor((X - self.mean_) / self.scale_, dtype=torch.float32,
                               device=device)
        params = self._build(dim, gen)
        hidden = self.hidden if self.hidden is not None else self._hidden_default
        disc = Discriminator(dim, hidden, gen).to(device)
        g_opt = torch.optim.Adam(params, lr=self.lr)
        d_opt = torch.optim.Adam(disc.parameters(), lr=self.discriminator_lr)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        batch = min(self.batch_size, n_samples)
        history: dict[str, list[float]] = {}
        meter = make_progress(self.progress)
        meter.start(self.n_steps, type(self).__name__)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        monitor_s = 0.0
        try:
            for step in range(self.n_steps):
                real = data[torch.randint(n_samples, (batch,), generator=gen).to(device)]
                source = data[torch.randint(n_samples, (batch,), generator=gen).to(device)]
                fake = self._transform(source, gen)
                ones = torch.ones(batch, device=device)
                d_real, d_fake = disc(real), disc(fake.detach())
                d_loss = bce(d_real, ones) + bce(d_fake, torch.zeros_like(ones))
                d_opt.zero_grad()
                d_loss.backward()
                d_opt.step()
                penalty = self._penalty(source, fake)
                g_loss = bce(disc(fake), ones) + penalty
                g_opt.zero_grad()
                g_loss.backward()
                g_opt.step()
                # The budget counts training only, not the caller's monitor.
                out_of_time = (self.max_time is not None
                               and time.perf_counter() - wall0 - monitor_s > self.max_time)
                last = step == self.n_steps - 1 or out_of_time
                if step % self.log_every == 0 or last:
                    with torch.no_grad():
                        identity = torch.nn.functional.cosine_similarity(fake, source, dim=1)
                    record = {"step": step, "d_loss": float(d_loss.detach()),
                              "g_loss": float(g_loss.detach()),
                              "penalty": float(penalty.detach()),
                              "identity_cos": float(identity.abs().mean())}
                    if monitor is not None:
                        tick = time.perf_counter()
                        record.update(monitor(self._snapshot()))
                        monitor_s += time.perf_counter() - tick
                    for key, value in record.items():
                        history.setdefault(key, []).append(float(value))
                    meter.update(0, **{k: v for k, v in record.items() if k != "step"})
                meter.update(1)
                if out_of_time:
                    break
        finally:
            meter.close()
        self.history_ = history
        self.n_steps_ = step + 1
        self.n_features_in_ = dim
        self._finish()
        self.fit_time_ = {"wall_s": time.perf_counter() - wall0,
                          "cpu_s": time.process_time() - cpu0, "monitor_s": monitor_s}
        return self

    def _check_params(self) -> None:
        """Subclass-specific parameter checks."""

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        """Learned arrays besides ``generator_`` that :meth:`save` must keep."""
        return {}

    def save(self, path: Any, *, overwrite: bool = False, metrics: dict | None = None) -> Any:
        """Write a run directory (parameters, learned matrices, history, metrics)."""
        from ._io import save_baseline

        return save_baseline(self, path, overwrite=overwrite, metrics=metrics)

    @classmethod
    def load(cls, path: Any) -> AdversarialSymmetry:
        """Rebuild a fitted model from a run directory written by :meth:`save`."""
        from ._io import load_baseline

        return load_baseline(cls, path)
