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
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch

from .._estimator import SymmetryEstimator
from .._validation import POSITIVE, TRAINING, Integer, as_samples

__all__ = ["AdversarialSymmetry", "Discriminator"]

# A healthy adversarial loss is a sum of binary cross-entropies of order 1 (plus a bounded
# penalty); 1e4 times the first loss means logits in the thousands, i.e. a game that has
# blown up, while no healthy fit comes near it.
DIVERGENCE_FACTOR = 1e4
DIVERGENCE_FIX = "lower the learning rates (lr, discriminator_lr)"

# Parameters every adversarial baseline has (subclasses add their own).
SHARED_CONSTRAINTS: dict[str, list[Any]] = {
    "n_steps": [Integer(1)],
    "batch_size": [Integer(1)],
    "lr": [POSITIVE],
    "discriminator_lr": [POSITIVE],
    "hidden": [Integer(1), None],
    "init_scale": [POSITIVE],
    "max_time": [POSITIVE, None],
    "log_every": [Integer(1)],
    **TRAINING,
}


class Discriminator(torch.nn.Module):
    """MLP ``dim → hidden → hidden → 1`` (logit) with LeakyReLU(0.2)."""

    def __init__(self, dim: int, hidden: int, rng: torch.Generator):
        super().__init__()
        # torch's default initialisation draws from the global generator; it is overwritten
        # below from ``rng``, so the global state is restored untouched.
        with torch.random.fork_rng(devices=[]):
            self.layers = torch.nn.Sequential(
                torch.nn.Linear(dim, hidden), torch.nn.LeakyReLU(0.2),
                torch.nn.Linear(hidden, hidden), torch.nn.LeakyReLU(0.2),
                torch.nn.Linear(hidden, 1))
        with torch.no_grad():
            for layer in self.layers:
                if isinstance(layer, torch.nn.Linear):
                    bound = float(np.sqrt(6.0 / (layer.in_features + layer.out_features)))
                    layer.weight.uniform_(-bound, bound, generator=rng)
                    layer.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).squeeze(-1)


class AdversarialSymmetry(SymmetryEstimator):
    """Base class: the adversarial training loop; subclasses define ``g`` and its penalty.

    Subclasses implement ``_build(dim, rng) -> list of parameters``,
    ``_transform(x, rng) -> g·x`` (differentiable), ``_penalty(x, gx) -> scalar``,
    ``_snapshot() -> ndarray`` (the current learned matrix, for monitors) and ``_finish()``
    (set the learned attributes). Saving and loading (:meth:`save`, :meth:`load`,
    :func:`symmetrykit.load`) come from :class:`~symmetrykit._estimator.SymmetryEstimator`.

    Parameters shared by the baselines
    ----------------------------------
    max_time
        Wall-clock budget in seconds: training stops after the first step past it (for
        comparisons at equal budget; ``n_steps`` still caps the run).
    log_every, device, progress, random_state
        As in :class:`symmetrykit.SymmetryLens`.

    Attributes shared by the baselines
    ----------------------------------
    paired_ : bool
        Whether the fit saw pairs ``(X, Y)``.
    n_steps_ : int
        Steps actually run (fewer than ``n_steps`` when ``max_time`` stopped the fit).
    mean_, scale_ : float
        The scalar normalisation of the samples.
    fit_time_ : dict
        ``{"wall_s", "cpu_s", "monitor_s"}`` (the monitor's time is not training time).
    """

    # Not an estimator of its own: not registered for symmetrykit.load.
    _abstract: ClassVar[bool] = True
    _hidden_default = 64

    def _samples(self, X: Any) -> np.ndarray:
        """``X`` checked by :func:`~symmetrykit._validation.as_samples`: real, finite, of a
        usable scale, at least 16 samples of at least 2 features."""
        X = as_samples(X, min_samples=16, owner=self._name())
        if X.shape[1] < 2:
            raise ValueError(f"{self._name()}: need at least 2 features, got {X.shape[1]}")
        return X

    def fit(self, X: Any, Y: Any = None, *, monitor: Any = None) -> AdversarialSymmetry:
        """Learn from samples ``X`` (n_samples, dim); ``monitor(matrix) -> dict`` is logged.

        With ``Y`` (same shape as ``X``) the samples are pairs ``(x, y)`` — e.g. a state and the
        state a fixed time later — and one group element acts on both: the discriminator judges
        ``(x, y)`` against ``(g x, g y)`` (LieGAN's set-up for dynamical systems).
        """
        self._validate_params()
        self._check_params()
        device = self._torch_device()
        X = self._samples(X)
        if Y is not None:
            Y = self._samples(Y)
            if Y.shape != X.shape:
                raise ValueError(f"{self._name()}: Y must have the shape of X {X.shape} (pairs "
                                 f"x → y), got {Y.shape}")
        n_samples, dim = X.shape
        gen = self._torch_generator()
        # Scalar normalisation (as SymmetryLens does): keeps every linear map meaningful.
        both = X if Y is None else np.concatenate([X, Y])
        mean, scale = float(both.mean()), float(both.std() + 1e-12)
        data = torch.as_tensor((X - mean) / scale, dtype=torch.float32, device=device)
        pairs = None if Y is None else torch.as_tensor((Y - mean) / scale, dtype=torch.float32,
                                                       device=device)
        if pairs is not None:
            data = torch.stack([data, pairs], dim=1)  # (n, 2, dim): one element acts on both
        params = self._build(dim, gen)
        hidden = self.hidden if self.hidden is not None else self._hidden_default
        disc = Discriminator(dim * (1 if pairs is None else 2), hidden, gen).to(device)
        betas, generator_first = self._game_settings()
        g_opt = torch.optim.Adam(params, lr=self.lr, betas=betas)
        d_opt = torch.optim.Adam(disc.parameters(), lr=self.discriminator_lr)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        batch = min(self.batch_size, n_samples)
        history: dict[str, list[float]] = {}
        # Every step's losses are watched, not only the logged ones: a diverging game stops
        # at the step it diverged, with the fix.
        d_guard = self._loss_guard(factor=DIVERGENCE_FACTOR, fix=DIVERGENCE_FIX)
        g_guard = self._loss_guard(factor=DIVERGENCE_FACTOR, fix=DIVERGENCE_FIX)
        def discriminator_step(real, fake, ones, step) -> float:
            d_real, d_fake = disc(real), disc(fake.detach())
            d_loss = bce(d_real, ones) + bce(d_fake, torch.zeros_like(ones))
            value = d_guard(d_loss, step, "discriminator loss")
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            return value

        def generator_step(source, fake, ones, step) -> tuple[float, torch.Tensor]:
            penalty = self._penalty(source, fake)
            g_loss = bce(disc(fake), ones) + penalty
            value = g_guard(g_loss, step, "generator loss")
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            return value, penalty

        with self._progress_meter(self.n_steps) as meter, self._fit_clock() as clock:
            wall0 = time.perf_counter()
            monitor_s = 0.0
            for step in range(self.n_steps):
                real = data[torch.randint(n_samples, (batch,), generator=gen).to(device)]
                source = data[torch.randint(n_samples, (batch,), generator=gen).to(device)]
                fake = self._transform(source, gen)
                if pairs is not None:  # the discriminator and the penalty see (x, y) joined
                    real, source, fake = real.flatten(1), source.flatten(1), fake.flatten(1)
                ones = torch.ones(batch, device=device)
                if generator_first:  # the official LieGAN code's order
                    g_value, penalty = generator_step(source, fake, ones, step)
                    d_value = discriminator_step(real, fake, ones, step)
                else:
                    d_value = discriminator_step(real, fake, ones, step)
                    g_value, penalty = generator_step(source, fake, ones, step)
                # The budget counts training only, not the caller's monitor.
                out_of_time = (self.max_time is not None
                               and time.perf_counter() - wall0 - monitor_s > self.max_time)
                last = step == self.n_steps - 1 or out_of_time
                if step % self.log_every == 0 or last:
                    with torch.no_grad():
                        identity = torch.nn.functional.cosine_similarity(fake, source, dim=1)
                    record = {"step": step, "d_loss": d_value, "g_loss": g_value,
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
            self.mean_, self.scale_ = mean, scale
            self.history_ = history
            self.n_steps_ = step + 1
            self.n_features_in_ = dim
            self.paired_ = pairs is not None
            self._finish()
            clock["monitor_s"] = monitor_s
        return self

    def _check_params(self) -> None:
        """Checks of parameter combinations that ``_parameter_constraints`` cannot express."""

    def _game_settings(self) -> tuple[tuple[float, float], bool]:
        """The generator's Adam betas and whether it moves before the discriminator."""
        return (0.9, 0.999), False

    @classmethod
    def _read_legacy(cls, path: Any, config: Mapping[str, Any] | None) -> AdversarialSymmetry:
        """A run directory written by symmetrykit 0.1 (format 1)."""
        from ._legacy import read_format_1

        return read_format_1(cls, path)
