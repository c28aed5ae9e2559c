"""The row-compressed promotion problem, and the result every promotion solver returns.

Every column of ``M_F(W)`` (the Lie-derivative matrix of ``F_W(x) = W φ(x)``, rows: points and
outputs, columns: generators) lies in the span of the slices ``T[k]`` of the Lie tensor, so
``M_F(W) = Q QᵀM_F(W)`` for an orthonormal basis ``Q`` of that span, and ``QᵀM_F(W)`` (usually
much smaller) has the same singular values (Otto et al. 2023, promoting symmetry: the nuclear norm
depends on ``M_F(W)`` only through its singular values). The ADMM and cvxpy solvers all work on
the compressed operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._operators import LieTensor

__all__ = ["CompressedLieOperator", "PromotionResult", "compress_lie_tensor"]


@dataclass(frozen=True)
class PromotionResult:
    """The solution of a symmetry-promoting program.

    Attributes
    ----------
    coef : ndarray of shape (m, p)
        Coefficients ``W`` of ``F_W(x) = W φ(x)``.
    objective : float
        The program's objective at ``coef``: ``‖M_F(W)‖_*`` for interpolation,
        ``‖ΦW − Y‖²/n + γ‖M_F(W)‖_* + α‖W‖₁`` for the penalised program.
    iterations : int
        ADMM iterations (cvxpy: the solver's count, ``-1`` if unknown).
    converged : bool
        Whether the stopping criteria were met (cvxpy: status ``optimal``).
    solve_time : float
        Wall-clock seconds, including the setup (factorisations, cvxpy's compilation).
    solver : str
        ``"admm"`` or ``"cvxpy:<SOLVER>"``.
    singular_values : ndarray
        Singular values of ``M_F(coef)``, descending.
    constraint_residual : float
        ``max |ΦWᵀ − Y|`` (interpolation; ``nan`` for the penalised program).
    duality_gap : float
        Duality gap certified by an explicit dual-feasible point, relative to
        ``max(objective, ‖X₀‖_F)`` with ``X₀`` the least-Frobenius-norm feasible Lie matrix
        (ADMM interpolation; ``nan`` otherwise). Usually at rounding level when ``polished``.
    polished : bool
        Whether the returned point is the Newton refinement (ADMM interpolation): an exactly
        rank-deficient interpolant whose duality gap, certified by an explicit dual point, is
        at most ``tol`` (usually at rounding level).
    details : dict
        Diagnostics (compressed size, final ``rho``, polish and certificate information, cvxpy
        status).
    """

    coef: np.ndarray
    objective: float
    iterations: int
    converged: bool
    solve_time: float
    solver: str
    singular_values: np.ndarray
    constraint_residual: float = float("nan")
    duality_gap: float = float("nan")
    polished: bool = False
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CompressedLieOperator:
    """The row-compressed linear map ``vec(W) ↦ QᵀM_F(W)`` of a Lie tensor.

    Build it once with :func:`compress_lie_tensor` and pass it instead of the tensor to solve
    many programs on the same tensor (e.g. growing training sets) without repeating the
    compression.

    Attributes
    ----------
    matrix : ndarray of shape (rank · k, m · p)
        ``matrix @ W.reshape(-1)`` is the compressed ``(rank, k)`` matrix flattened by rows.
    rank : int
        Dimension of the span of the columns of ``M_F(W)`` over all ``W``.
    n_generators : int
        ``k``, the number of generators.
    n_outputs : int
        ``m``, the number of model outputs.
    n_terms : int
        ``p``, the number of dictionary features.
    """

    matrix: np.ndarray
    rank: int
    n_generators: int
    n_outputs: int
    n_terms: int

    def generator_matrix(self, coef: Any) -> np.ndarray:
        """``QᵀM_F(W)``, shape ``(rank, k)``: the singular values of ``M_F(W)``."""
        coef = np.asarray(coef, dtype=np.float64).reshape(-1)
        return (self.matrix @ coef).reshape(self.rank, self.n_generators)


def _rank(values: np.ndarray, shape: tuple[int, ...]) -> int:
    """Numerical rank from descending singular values (LAPACK's default tolerance)."""
    if values.size == 0 or values[0] <= 0:
        return 0
    tol = max(shape) * np.finfo(np.float64).eps * values[0]
    return int(np.sum(values > tol))


def compress_lie_tensor(tensor: LieTensor) -> CompressedLieOperator:
    """Exact row compression of ``W ↦ M_F(W)`` (Otto et al. 2023, promoting symmetry: the nuclear
    norm only sees the singular values).

    The columns of ``M_F(W)`` (scaled by ``1/√N`` as in :meth:`LieTensor.generator_matrix`)
    always lie in the span of the slices ``T[k]``; with ``Q`` an orthonormal basis of that span,
    ``QᵀM_F(W)`` has the singular values of ``M_F(W)`` and usually far fewer rows.

    Parameters
    ----------
    tensor
        From :func:`~symmetrykit.liederiv.lie_tensor`.

    Returns
    -------
    CompressedLieOperator
    """
    if not isinstance(tensor, LieTensor):
        raise ValueError(f"tensor must be a LieTensor, got {type(tensor).__name__}")
    q, n, m, _, p = tensor.array.shape
    slices = tensor.array.reshape(q, n * m, m * p) / np.sqrt(n)
    stacked = np.transpose(slices, (1, 0, 2)).reshape(n * m, q * m * p)
    basis, values, _ = np.linalg.svd(stacked, full_matrices=False)
    rank = _rank(values, stacked.shape)
    projected = np.matmul(basis[:, :rank].T, slices)  # (q, rank, m·p)
    matrix = np.ascontiguousarray(np.transpose(projected, (1, 0, 2))).reshape(rank * q, m * p)
    return CompressedLieOperator(matrix, rank, q, m, p)


def _as_operator(tensor: Any) -> CompressedLieOperator:
    if isinstance(tensor, CompressedLieOperator):
        return tensor
    if isinstance(tensor, LieTensor):
        return compress_lie_tensor(tensor)
    raise ValueError(
        f"tensor must be a LieTensor or a CompressedLieOperator, got {type(tensor).__name__}"
    )


def _penalized_objective(
    phi: np.ndarray, y: np.ndarray, operator: CompressedLieOperator, coef: np.ndarray,
    gamma: float, alpha: float,
) -> tuple[float, np.ndarray]:
    values = np.linalg.svd(operator.generator_matrix(coef), compute_uv=False)
    data = float(np.sum((phi @ coef.T - y) ** 2)) / phi.shape[0]
    return data + gamma * float(values.sum()) + alpha * float(np.abs(coef).sum()), values
