"""LieGAN (Yang, Walters, Dehmamy, Yu 2023): learned Lie-algebra generators that fool a critic."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
import torch

from .._validation import Boolean, Integer, Options, Real, Whatever
from ..lie import LieAlgebra
from ._adversarial import SHARED_CONSTRAINTS, AdversarialSymmetry

__all__ = ["LieGAN"]

COEFFICIENTS = ("normal", "uniform", "integer", "learned-normal", "integer-grid")
#: Named masks "block-K" (K ≥ 1): K × K blocks on the diagonal. "block-2" is a planar action on
#: each consecutive pair of coordinates (LieGAN's mask for the two-body task), "block-4" the
#: official code's 4 × 4 mask.
BLOCK_MASK = re.compile(r"block-([1-9][0-9]*)")
#: Named search spaces: the antisymmetric matrices, and one 2 × 2 block repeated along the
#: diagonal (I ⊗ gl(2)).
SUBALGEBRAS = ("so", "kron-2")
UPDATE_ORDERS = ("discriminator-first", "generator-first")


def _is_betas(value: Any) -> bool:
    return (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1
                    for b in value))


def _is_mask(value: Any) -> bool:
    """A named structure ("block-K") or a square nested list of booleans (0/1)."""
    if isinstance(value, str):
        return BLOCK_MASK.fullmatch(value) is not None
    if not isinstance(value, (list, tuple)) or not value:
        return False
    rows = [list(row) for row in value]
    return all(len(row) == len(rows) for row in rows) and all(
        isinstance(v, (bool, np.bool_)) or v in (0, 1) for row in rows for v in row)


def _is_subalgebra(value: Any) -> bool:
    """A named search space or a nested list (no array: parameters stay JSON) of real numbers
    with three levels; the shape, finiteness and independence are checked in ``_check_params``
    with messages of their own."""
    if isinstance(value, str):
        return value in SUBALGEBRAS
    if not isinstance(value, (list, tuple)) or not value:
        return False

    def numbers(item: Any, depth: int) -> bool:
        if depth == 0:
            return isinstance(item, (int, float)) and not isinstance(item, bool)
        return isinstance(item, (list, tuple)) and all(numbers(v, depth - 1) for v in item)

    return numbers(value, 3) and np.asarray(value, dtype=np.float64).ndim == 3


def _named_basis(name: str, dim: int) -> np.ndarray:
    """The basis ``(m, dim, dim)`` of a named search space (see ``SUBALGEBRAS``)."""
    if name == "so":
        rows, cols = np.triu_indices(dim, k=1)
        basis = np.zeros((rows.size, dim, dim))
        basis[np.arange(rows.size), rows, cols] = -1.0
        basis[np.arange(rows.size), cols, rows] = 1.0
        return basis
    if dim % 2:
        raise ValueError(f"LieGAN: subalgebra 'kron-2' needs an even dimension, got {dim}")
    units = np.eye(4).reshape(4, 2, 2)  # E_11, E_12, E_21, E_22
    return np.stack([np.kron(np.eye(dim // 2), unit) for unit in units])


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
        ``[−coef_scale, coef_scale]``), ``"integer"`` (uniform on the integers
        ``−coef_scale … coef_scale``, zero excluded: the mode for discrete groups such as pixel
        shifts, where only integer steps are symmetries), ``"integer-grid"`` (the official
        code's ``uniform_int_grid``: uniform on ``−coef_scale … coef_scale − 1``, zero included)
        or ``"learned-normal"`` (``z = ε Σ + μ``, ``ε ~ N(0, I_k)``, with a ``k × k`` matrix
        ``Σ`` starting at ``coef_scale · I`` and ``μ`` at 0, both trained with the generators:
        the official ``lie_subgrp`` distribution, which learns which part of the group is a
        symmetry).
    coef_scale
        Scale of the coefficient distribution (see above; an integer for the integer modes).
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
        ``"block-K"`` (``K × K`` blocks on the diagonal, ``K`` dividing ``d``: ``"block-2"``
        for planar pairs, ``"block-4"`` the official 4 × 4 mask) or a ``(d, d)`` nested list of
        booleans (``array.tolist()``); entries outside the mask stay 0.
    subalgebra
        A structured search space instead of a mask: each generator is a learned combination
        ``L_i = Σ_j θ_ij B_j`` of a basis ``B_1 … B_m`` (``θ`` starts at ``N(0, init_scale²)``).
        ``"so"`` (the antisymmetric matrices, ``B = E_ab − E_ba``), ``"kron-2"`` (``I_{d/2} ⊗
        gl(2)``: one learned 2 × 2 block repeated on every consecutive pair of coordinates,
        ``d`` even) or a nested list of shape ``(m, d, d)`` (``array.tolist()``; finite and
        linearly independent, not necessarily closed under the bracket). Not with ``mask``.
    learn_generators
        ``False`` freezes the generators at the subalgebra's basis (``L_i = B_i``; needs
        ``m = n_generators`` and ``coefficients="learned-normal"``) and learns only the
        coefficient distribution: the official ``lie_subgrp`` mode.
    decorrelation
        Weight of ``Σ_{i<j} cos(L_i, L_j)²`` keeping the generators apart (k > 1).
    n_steps, batch_size, lr, discriminator_lr, hidden, init_scale
        Training set-up (discriminator 2 × 128 hidden units by default; ``L`` entries, or the
        subalgebra weights ``θ``, start at ``N(0, init_scale²)``).
    max_time, log_every, device, progress, random_state
        As in :class:`AdversarialSymmetry`.

    Attributes
    ----------
    generators_ : ndarray (k, d, d)
        The learned Lie-algebra basis (also as ``algebra_``, a :class:`~symmetrykit.LieAlgebra`).
    generator_ : ndarray (d, d)
        ``expm(L_1)``: the group element at coefficient 1 (the unit step for integer
        coefficients).
    coefficient_mean_ : ndarray (k,)
        ``μ`` of ``"learned-normal"`` coefficients (only with that option).
    coefficient_scale_ : ndarray (k, k)
        ``Σ`` of ``"learned-normal"`` coefficients: ``z = ε Σ + μ`` (only with that option).
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
    # Fitted only with coefficients="learned-normal".
    _distribution_attributes = ("coefficient_mean_", "coefficient_scale_")
    # The training state of one fit, dropped when it ends.
    _fit_state = ("_basis", "_mask_tensor", "_theta", "_subalgebra_basis", "_frozen",
                  "_coef_mean", "_coef_scale")
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
        "mask": [None, Whatever(_is_mask, "'block-K' (K >= 1, e.g. 'block-2') or a square "
                                          "nested list of booleans (array.tolist())")],
        "subalgebra": [None, Whatever(_is_subalgebra, f"one of {', '.join(map(repr, SUBALGEBRAS))}"
                                                      " or an (m, d, d) nested list of numbers "
                                                      "(array.tolist())")],
        "learn_generators": [Boolean()],
    }

    def __init__(self, n_generators: int = 1, coefficients: str = "normal",
                 coef_scale: float = 1.0, regularizer: str = "cosine", reg_weight: float = 1.0,
                 target_norm: float | None = None, decorrelation: float = 1.0,
                 mask: Any = None, subalgebra: Any = None, learn_generators: bool = True,
                 betas: Any = (0.9, 0.999), update_order: str = "discriminator-first",
                 n_steps: int = 2000, batch_size: int = 256, lr: float = 1e-3,
                 discriminator_lr: float = 1e-3, hidden: int | None = None,
                 init_scale: float = 0.1, max_time: float | None = None,
                 log_every: int = 50, device: str = "cpu", progress: Any = "auto",
                 random_state: Any = None):
        self._store_params(locals())

    def _check_params(self) -> None:
        if (self.coefficients in ("integer", "integer-grid")
                and self.coef_scale != int(self.coef_scale)):
            raise ValueError("LieGAN: coef_scale must be a positive integer for integer "
                             f"coefficients, got {self.coef_scale!r}")
        if self.mask is not None and self.subalgebra is not None:
            raise ValueError("LieGAN: mask and subalgebra both restrict the search space; "
                             "give one of them, not both")
        if not isinstance(self.subalgebra, (str, type(None))):
            self._user_basis()
        if not self.learn_generators:
            if self.subalgebra is None:
                raise ValueError("LieGAN: learn_generators=False freezes the generators at a "
                                 "subalgebra's basis; give a subalgebra")
            if self.coefficients != "learned-normal":
                raise ValueError("LieGAN: learn_generators=False learns only the coefficient "
                                 "distribution; it needs coefficients='learned-normal', got "
                                 f"{self.coefficients!r}")

    def _user_basis(self) -> np.ndarray:
        """The given basis ``(m, d, d)``, checked: square, finite, linearly independent."""
        basis = np.asarray(self.subalgebra, dtype=np.float64)
        if basis.shape[1] != basis.shape[2]:
            raise ValueError("LieGAN: subalgebra must have shape (m, d, d) (m square matrices), "
                             f"got {basis.shape}")
        if not np.all(np.isfinite(basis)):
            raise ValueError("LieGAN: subalgebra has non-finite entries (NaN or inf)")
        rank = np.linalg.matrix_rank(basis.reshape(len(basis), -1))
        if rank < len(basis):
            raise ValueError(f"LieGAN: the subalgebra's {len(basis)} matrices are linearly "
                             f"dependent (they span {rank} dimensions); give a basis")
        return basis

    def _subalgebra(self, dim: int) -> np.ndarray | None:
        """The search space's basis ``(m, dim, dim)``, or ``None`` without a subalgebra."""
        if self.subalgebra is None:
            return None
        if isinstance(self.subalgebra, str):
            return _named_basis(self.subalgebra, dim)
        basis = self._user_basis()
        if basis.shape[1:] != (dim, dim):
            raise ValueError(f"LieGAN: subalgebra has matrices of shape {basis.shape[1:]} but "
                             f"the data have {dim} features (need (m, {dim}, {dim}))")
        return basis

    def _game_settings(self) -> tuple[tuple[float, float], bool]:
        return ((float(self.betas[0]), float(self.betas[1])),
                self.update_order == "generator-first")

    def _mask(self, dim: int) -> np.ndarray | None:
        if self.mask is None:
            return None
        if isinstance(self.mask, str):
            size = int(BLOCK_MASK.fullmatch(self.mask).group(1))
            if dim % size:
                need = "an even dimension" if size == 2 else f"a dimension divisible by {size}"
                raise ValueError(f"LieGAN: mask {self.mask!r} needs {need}, got {dim}")
            return np.kron(np.eye(dim // size), np.ones((size, size))).astype(bool)
        mask = np.array(self.mask, dtype=bool)
        if mask.shape != (dim, dim):
            raise ValueError(f"LieGAN: mask has shape {mask.shape} but the data have {dim} "
                             f"features (need ({dim}, {dim}))")
        return mask

    def _build(self, dim: int, gen: torch.Generator) -> list[torch.Tensor]:
        self._dim = dim
        self._frozen = None
        self._theta = self._subalgebra_basis = self._basis = self._mask_tensor = None
        subalgebra = self._subalgebra(dim)
        if subalgebra is not None:
            if not self.learn_generators and len(subalgebra) != self.n_generators:
                raise ValueError(f"LieGAN: learn_generators=False uses the subalgebra's basis as "
                                 f"the generators: need n_generators = {len(subalgebra)} (its "
                                 f"size), got {self.n_generators}")
            self._subalgebra_basis = torch.as_tensor(subalgebra, dtype=torch.float32,
                                                     device=self.device)
            if self.learn_generators:
                theta = torch.randn(self.n_generators, len(subalgebra), generator=gen)
                self._theta = (theta * self.init_scale).to(self.device).requires_grad_(True)
                params = [self._theta]
            else:
                self._frozen = subalgebra
                params = []
        else:
            basis = torch.randn(self.n_generators, dim, dim, generator=gen) * self.init_scale
            mask = self._mask(dim)
            self._mask_tensor = None if mask is None else torch.as_tensor(
                mask, dtype=basis.dtype, device=self.device)
            if self._mask_tensor is not None:
                basis = basis.to(self.device) * self._mask_tensor
            self._basis = basis.to(self.device).requires_grad_(True)
            params = [self._basis]
        if self.coefficients == "learned-normal":
            k = self.n_generators
            self._coef_mean = torch.zeros(k, device=self.device, requires_grad=True)
            scale = torch.eye(k, device=self.device) * float(self.coef_scale)
            self._coef_scale = scale.requires_grad_(True)
            params += [self._coef_mean, self._coef_scale]
        return params

    def _algebra_basis(self) -> torch.Tensor:
        """The generators inside the search space (the mask zeroes the rest and its gradient;
        a subalgebra combines its basis, or is the generators when they are frozen)."""
        if self._subalgebra_basis is not None:
            if self._theta is None:
                return self._subalgebra_basis
            return torch.einsum("km,mij->kij", self._theta, self._subalgebra_basis)
        return self._basis if self._mask_tensor is None else self._basis * self._mask_tensor

    def _coefficients(self, n: int, gen: torch.Generator) -> torch.Tensor:
        shape = (n, self.n_generators)
        if self.coefficients == "normal":
            z = torch.randn(shape, generator=gen) * self.coef_scale
        elif self.coefficients == "uniform":
            z = (2 * torch.rand(shape, generator=gen) - 1) * self.coef_scale
        elif self.coefficients == "learned-normal":  # differentiable in Σ and μ
            noise = torch.randn(shape, generator=gen).to(self.device)
            return noise @ self._coef_scale + self._coef_mean
        elif self.coefficients == "integer-grid":
            top = int(self.coef_scale)
            z = torch.randint(-top, top, shape, generator=gen).to(torch.float32)
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

        if self._frozen is not None:  # exactly the given basis, not its float32 round trip
            self.generators_ = np.array(self._frozen, dtype=np.float64)
        else:
            self.generators_ = self._algebra_basis().detach().cpu().numpy().astype(np.float64)
        self.algebra_ = LieAlgebra(self.generators_)
        self.generator_ = expm(self.generators_[0])
        for name in self._distribution_attributes:  # never left over from an earlier fit
            self.__dict__.pop(name, None)
        if self.coefficients == "learned-normal":
            self.coefficient_mean_ = self._coef_mean.detach().cpu().numpy().astype(np.float64)
            self.coefficient_scale_ = self._coef_scale.detach().cpu().numpy().astype(np.float64)
        for name in self._fit_state:
            self.__dict__.pop(name, None)

    def _after_load(self) -> None:
        if self.generators_.ndim != 3 or self.generators_.shape[1:] != (self.n_features_in_,) * 2:
            raise ValueError(f"generators_ has shape {self.generators_.shape}, expected "
                             f"(k, {self.n_features_in_}, {self.n_features_in_})")
        k = len(self.generators_)
        for name, shape in zip(self._distribution_attributes, ((k,), (k, k)), strict=True):
            value = self.__dict__.get(name)
            if value is not None and np.shape(value) != shape:
                raise ValueError(f"{name} has shape {np.shape(value)}, expected {shape}")
        self.algebra_ = LieAlgebra(self.generators_)
