"""SymmetryGAN (Desai, Nachman & Thaler 2022): one learned group element that fools a critic."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from .._validation import Options, Real, as_samples
from ._adversarial import SHARED_CONSTRAINTS, AdversarialSymmetry

__all__ = ["SymmetryGAN"]

PARAMETRIZATIONS = ("qr", "expm", "linear", "rotation-scaling")


class SymmetryGAN(AdversarialSymmetry):
    """Learn one linear map ``M`` such that a discriminator cannot tell ``M x`` from ``x``.

    Any symmetry of the data is a solution (the identity too), so a run finds *some* group
    element, decided by its random initialisation; SymmetryGAN's authors run many seeds and
    analyse the set of solutions. Score a result against a known generator with
    :func:`symmetrykit.metrics.shift_power_similarity` (the best power ``G^s``, ``s ≠ 0``).

    Parameters
    ----------
    parametrization
        ``"qr"`` (default; the orthogonal factor of a free matrix, as in SymmetryLens's
        "SymmetryGAN-QR" baseline), ``"expm"`` (``expm`` of the antisymmetric part of a free
        matrix: a rotation), ``"rotation-scaling"`` (``exp(a) · expm(S)``, the same rotation
        times a learned scale, ``a`` starting at 0: in 2-D exactly the original SymmetryGAN's
        ``[[c, −s], [s, c]]`` layer) or ``"linear"`` (the free matrix itself).
    n_steps, batch_size
        Adversarial steps and samples per step (real and transformed each).
    lr, discriminator_lr
        Adam learning rates of the map and of the discriminator (1e-3 each, as in the SymmetryLens
        baseline).
    hidden
        Width of the discriminator's two hidden layers (25, the original's).
    anti_identity
        Weight of LieGAN's penalty ``mean |cos(Mx, x)|`` against the identity (0: the plain
        SymmetryGAN objective).
    init_scale
        Std of the free matrix's entries at initialisation (``"expm"``, ``"rotation-scaling"``:
        of the skew part ``S = (A − Aᵀ)/2``).
    max_time, log_every, device, progress, random_state
        As in :class:`AdversarialSymmetry`.

    Attributes
    ----------
    generator_ : ndarray (d, d)
        The learned group element ``M`` (acting on samples normalised by ``mean_``/``scale_``,
        scalars, so it acts the same way on the raw samples up to the mean).
    history_ : dict of lists
        ``d_loss``, ``g_loss``, ``penalty``, ``identity_cos`` (mean ``|cos(Mx, x)|``) and monitor
        values at each logged step.
    n_steps_, mean_, scale_, fit_time_
        As in :class:`AdversarialSymmetry` (steps run, normalisation, timing).
    """

    _hidden_default = 25
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **SHARED_CONSTRAINTS,
        "parametrization": [Options(PARAMETRIZATIONS)],
        "anti_identity": [Real(0)],
    }

    def __init__(self, parametrization: str = "qr", n_steps: int = 2000, batch_size: int = 256,
                 lr: float = 1e-3, discriminator_lr: float = 1e-3, hidden: int | None = None,
                 anti_identity: float = 0.0, init_scale: float = 1.0,
                 max_time: float | None = None, log_every: int = 50, device: str = "cpu",
                 progress: Any = "auto", random_state: Any = None):
        self._store_params(locals())

    def _build(self, dim: int, gen: torch.Generator) -> list[torch.Tensor]:
        raw = torch.randn(dim, dim, generator=gen) * self.init_scale
        self._raw = raw.to(self.device).requires_grad_(True)
        if self.parametrization != "rotation-scaling":
            return [self._raw]
        # The log-scale a: exp(a) = |det M|^(1/d), 1 at the start.
        self._log_scale = torch.zeros((), device=self.device, requires_grad=True)
        return [self._raw, self._log_scale]

    def _matrix(self) -> torch.Tensor:
        if self.parametrization == "qr":
            q, r = torch.linalg.qr(self._raw)
            # Fix the QR sign ambiguity so that the map from the free matrix is continuous.
            return q * torch.sign(torch.diagonal(r) + (torch.diagonal(r) == 0))
        if self.parametrization == "expm":
            return torch.linalg.matrix_exp(0.5 * (self._raw - self._raw.mT))
        if self.parametrization == "rotation-scaling":
            rotation = torch.linalg.matrix_exp(0.5 * (self._raw - self._raw.mT))
            return torch.exp(self._log_scale) * rotation
        return self._raw

    def _transform(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return x @ self._matrix().mT

    def _penalty(self, x: torch.Tensor, gx: torch.Tensor) -> torch.Tensor:
        if self.anti_identity == 0:
            return torch.zeros((), device=x.device)
        cos = torch.nn.functional.cosine_similarity(gx, x, dim=1)
        return self.anti_identity * cos.abs().mean()

    def _snapshot(self) -> np.ndarray:
        with torch.no_grad():
            return self._matrix().detach().cpu().numpy().astype(np.float64)

    def _finish(self) -> None:
        self.generator_ = self._snapshot()
        del self._raw
        self.__dict__.pop("_log_scale", None)

    def transform(self, X: Any) -> np.ndarray:
        """Apply the learned element to raw samples: ``mean + M (x − mean)``."""
        self._check_is_fitted()
        X = as_samples(X, owner=self._name(), warn_constant=False)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have shape (n, {self.n_features_in_}), got {X.shape}")
        return self.mean_ + (X - self.mean_) @ self.generator_.T
