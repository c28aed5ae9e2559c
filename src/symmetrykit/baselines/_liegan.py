"""LieGAN (Yang, Walters, Dehmamy, Yu 2023): learned Lie-algebra generators that fool a critic."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from .._validation import Integer, Options, Real, Whatever
from ..lie import LieAlgebra
from ._adversarial import SHARED_CONSTRAINTS, AdversarialSymmetry

__all__ = ["LieGAN"]

COEFFICIENTS = ("normal", "uniform", "integer")
#: Named search-space structures: "block-2", 2 × 2 blocks on the diagonal (a planar action on
#: each consecutive pair of coordinates, as LieGAN's mask for the two-body task).
MASKS = ("block-2",)
UPDATE_ORDERS = ("discriminator-first", "generator-first")


def _is_betas(value: Any) -> bool:
    return (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1
                    for b in value))


def _is_mask(value: Any) -> bool:
    """A named structure or a square nested list of booleans (0/1)."""
    if isinstance(value, str):
        return value in MASKS
    if not isinstance(value, (list, tuple)) or not value:
        return False
    rows = [list(row) for row in value]
    return all(len(row) == len(rows) for row in rows) and all(
        isinstance(v, (bool, np.bool_)) or v in (0, 1) for row in rows for v in row)
REGULARIZERS = ("cosine", "norm", "none")


class LieGAN(AdversarialSymmetry):
    """Learn Lie-algebra generators ``L_1 … L_k`` such that ``exp(Σ z_i L_i) x`` looks like data.

    Each transformed sample gets fresh random coefficients ``z``; a discriminator tells real from
    transformed samples. Left alone, ``L → 0`` (the identity) fools any discriminator, so a
    regulariser pushes away from it. Score a result against a known group element with
    :func:`symmetrykit.metrics.exponential_similarity` (the best step ``t`` of ``exp(t L)``).

    Parameters
    ----------
    n_generators
        ``k``, the number of learned generators (channels).
    coefficients
        Distribution of ``z``: ``"normal"`` (std ``coef_scale``), ``"uniform"`` (on
        ``[−coef_scale, coef_scale]``) or ``"integer"`` (uniform on the integers
        ``−coef_scale … coef_scale``, zero excluded: the mode for discrete groups such as pixel
        shifts, where only integer steps are symmetries).
    coef_scale
        Scale of the coefficient distribution (see above).
    regularizer, reg_weight
        Against the identity: ``"cosine"`` penalises ``mean |cos(g x, x)|`` (LieGAN's default),
        ``"norm"`` penalises ``relu(target_norm − ‖L_i‖_F)²`` (pushes ``‖L‖`` up, LieGAN's
        ``Li_norm``), ``"none"``.
    target_norm
        For ``"norm"`` (default ``√d``: the norm of a rotation generator with unit angles).
    betas
        Adam's ``(β₁, β₂)`` for the generators (the official code: ``(0.5, 0.999)``; torch's
        default ``(0.9, 0.999)`` here).
    update_order
        ``"discriminator-first"`` (default) or ``"generator-first"`` (the official code's order:
        the generators move, then the discriminator learns from the same transformed batch).
    mask
        Restrict the generators' entries (the search space): ``None`` (all ``d²`` entries),
        ``"block-2"`` (2 × 2 blocks on the diagonal) or a ``(d, d)`` nested list of booleans
        (``array.tolist()``); entries outside the mask stay 0.
    decorrelation
        Weight of ``Σ_{i<j} cos(L_i, L_j)²`` keeping the generators apart (k > 1).
    n_steps, batch_size, lr, discriminator_lr, hidden, init_scale
        Training set-up (discriminator 2 × 128 hidden units by default; ``L`` entries start at
        ``N(0, init_scale²)``).
    max_time, log_every, device, progress, random_state
        As in :class:`AdversarialSymmetry`.

    Attributes
    ----------
    generators_ : ndarray (k, d, d)
        The learned Lie-algebra basis (also as ``algebra_``, a :class:`~symmetrykit.LieAlgebra`).
    generator_ : ndarray (d, d)
        ``expm(L_1)``: the group element at coefficient 1 (the unit step for integer
        coefficients).
    history_ : dict of lists
    n_steps_, mean_, scale_, fit_time_
        As in :class:`AdversarialSymmetry` (steps run, normalisation, timing).
    """

    _hidden_default = 128
    # "discrete-shifts": integer coefficients (only integer steps of a pixel shift are
    # symmetries) and the norm regulariser against the collapse to the identity. What
    # baselines.compare and ``symmetrykit compare`` run, and the best of the four LieGAN settings
    # of benchmarks/compare_baselines.py on the 7-dimensional sets.
    _presets = {"discrete-shifts": {"coefficients": "integer", "coef_scale": 3,
                                    "regularizer": "norm"}}
    # Rebuilt from generators_ after loading.
    _derived_attributes = ("algebra_",)
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **SHARED_CONSTRAINTS,
        "n_generators": [Integer(1)],
        "coefficients": [Options(COEFFICIENTS)],
        # Integer coefficients need an integer scale (checked in _check_params).
        "coef_scale": [Real(0, closed="neither")],
        "regularizer": [Options(REGULARIZERS)],
        "reg_weight": [Real(0)],
        "target_norm": [Real(0, closed="neither"), None],
        "decorrelation": [Real(0)],
        "betas": [Whatever(_is_betas, "a pair (β₁, β₂) of numbers in [0, 1)")],
        "update_order": [Options(UPDATE_ORDERS)],
        "mask": [None, Whatever(_is_mask, f"one of {', '.join(map(repr, MASKS))} or a square "
                                          "nested list of booleans (array.tolist())")],
    }

    def __init__(self, n_generators: int = 1, coefficients: str = "normal",
                 coef_scale: float = 1.0, regularizer: str = "cosine", reg_weight: float = 1.0,
                 target_norm: float | None = None, decorrelation: float = 1.0,
                 mask: Any = None, betas: Any = (0.9, 0.999),
                 update_order: str = "discriminator-first",
                 n_steps: int = 2000, batch_size: int = 256, lr: float = 1e-3,
                 discriminator_lr: float = 1e-3, hidden: int | None = None,
                 init_scale: float = 0.1, max_time: float | None = None,
                 log_every: int = 50, device: str = "cpu", progress: Any = "auto",
                 random_state: Any = None):
        self._store_params(locals())

    def _check_params(self) -> None:
        if self.coefficients == "integer" and self.coef_scale != int(self.coef_scale):
            raise ValueError("LieGAN: coef_scale must be a positive integer for integer "
                             f"coefficients, got {self.coef_scale!r}")

    def _game_settings(self) -> tuple[tuple[float, float], bool]:
        return ((float(self.betas[0]), float(self.betas[1])),
                self.update_order == "generator-first")

    def _mask(self, dim: int) -> np.ndarray | None:
        if self.mask is None:
            return None
        if self.mask == "block-2":
            if dim % 2:
                raise ValueError(f"LieGAN: mask 'block-2' needs an even dimension, got {dim}")
            return np.kron(np.eye(dim // 2), np.ones((2, 2))).astype(bool)
        mask = np.array(self.mask, dtype=bool)
        if mask.shape != (dim, dim):
            raise ValueError(f"LieGAN: mask has shape {mask.shape} but the data have {dim} "
                             f"features (need ({dim}, {dim}))")
        return mask

    def _build(self, dim: int, gen: torch.Generator) -> list[torch.Tensor]:
        basis = torch.randn(self.n_generators, dim, dim, generator=gen) * self.init_scale
        mask = self._mask(dim)
        self._mask_tensor = None if mask is None else torch.as_tensor(
            mask, dtype=basis.dtype, device=self.device)
        if self._mask_tensor is not None:
            basis = basis.to(self.device) * self._mask_tensor
        self._basis = basis.to(self.device).requires_grad_(True)
        self._dim = dim
        return [self._basis]

    def _algebra_basis(self) -> torch.Tensor:
        """The generators inside the search space (the mask zeroes the rest and its gradient)."""
        return self._basis if self._mask_tensor is None else self._basis * self._mask_tensor

    def _coefficients(self, n: int, gen: torch.Generator) -> torch.Tensor:
        shape = (n, self.n_generators)
        if self.coefficients == "normal":
            z = torch.randn(shape, generator=gen) * self.coef_scale
        elif self.coefficients == "uniform":
            z = (2 * torch.rand(shape, generator=gen) - 1) * self.coef_scale
        else:
            top = int(self.coef_scale)
            z = torch.randint(1, top + 1, shape, generator=gen).to(torch.float32)
            z = z * (2 * torch.randint(0, 2, shape, generator=gen) - 1)
        return z.to(self.device)

    def _transform(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        z = self._coefficients(x.shape[0], gen)
        elements = torch.linalg.matrix_exp(torch.einsum("bk,kij->bij", z, self._algebra_basis()))
        if x.ndim == 3:  # pairs (batch, 2, d): one element acts on both
            return torch.einsum("bij,bmj->bmi", elements, x)
        return torch.einsum("bij,bj->bi", elements, x)

    def _penalty(self, x: torch.Tensor, gx: torch.Tensor) -> torch.Tensor:
        penalty = torch.zeros((), device=x.device)
        if self.regularizer == "cosine":
            cos = torch.nn.functional.cosine_similarity(gx, x, dim=1)
            penalty = penalty + self.reg_weight * cos.abs().mean()
        elif self.regularizer == "norm":
            target = self.target_norm if self.target_norm is not None else np.sqrt(self._dim)
            norms = torch.linalg.matrix_norm(self._algebra_basis())
            penalty = penalty + self.reg_weight * torch.relu(target - norms).pow(2).mean()
        if self.n_generators > 1 and self.decorrelation > 0:
            flat = self._algebra_basis().reshape(self.n_generators, -1)
            unit = flat / (flat.norm(dim=1, keepdim=True) + 1e-12)
            gram = unit @ unit.T
            off = gram - torch.diag(torch.diagonal(gram))
            penalty = penalty + self.decorrelation * off.pow(2).sum() / 2
        return penalty

    def _snapshot(self) -> np.ndarray:
        return self._algebra_basis().detach().cpu().numpy().astype(np.float64)[0]

    def _finish(self) -> None:
        from scipy.linalg import expm

        self.generators_ = self._algebra_basis().detach().cpu().numpy().astype(np.float64)
        self.algebra_ = LieAlgebra(self.generators_)
        self.generator_ = expm(self.generators_[0])
        del self._basis, self._mask_tensor

    def _after_load(self) -> None:
        if self.generators_.ndim != 3 or self.generators_.shape[1:] != (self.n_features_in_,) * 2:
            raise ValueError(f"generators_ has shape {self.generators_.shape}, expected "
                             f"(k, {self.n_features_in_}, {self.n_features_in_})")
        self.algebra_ = LieAlgebra(self.generators_)
