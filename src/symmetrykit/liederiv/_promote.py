"""Promote: the nuclear norm of ``ξ ↦ L_ξ F_W`` as a convex symmetry-promoting objective.

For a linear-in-parameter model ``F_W(x) = W φ(x)`` the matrix ``M_F(W)`` (rows: points and
outputs, columns: generators; :meth:`LieTensor.generator_matrix`) is linear in ``W``, so its
nuclear norm is convex in ``W``; its rank is ``dim 𝔤 − dim sym(F_W)``. Two programs:

* :func:`promote_interpolation` — ``min ‖M_F(W)‖_*  s.t.  Φ W = Y`` (exact data; the "recovery
  dimension" experiments of Otto et al.);
* :func:`promote_penalized` — ``min ‖ΦW − Y‖²/n + γ ‖M_F(W)‖_* + α ‖W‖₁`` (noisy data);

and the estimator :class:`PromotedRegressor` built on them. Both programs are solved by our own
ADMM (``solver="admm"``) on a row-compressed problem, with a reference through cvxpy
(``solver="cvxpy"``, SCS by default).

Row compression (spec otto2023 §4.1): every column of ``M_F(W)`` lies in the span of the slices
``T[k]`` of the Lie tensor, so ``M_F(W) = Q QᵀM_F(W)`` for an orthonormal basis ``Q`` of that
span, and ``QᵀM_F(W)`` (usually much smaller) has the same singular values.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.linalg import lapack as _lapack
from sklearn.base import BaseEstimator, RegressorMixin

from .._validation import as_samples
from ..lie import LieAlgebra
from ._dictionary import PolynomialDictionary, n_monomials
from ._discover import _orthonormal_pairs
from ._operators import LieTensor, lie_tensor

__all__ = [
    "CompressedLieOperator",
    "PromotedRegressor",
    "PromotionResult",
    "compress_lie_tensor",
    "promote_interpolation",
    "promote_penalized",
]

SOLVERS = ("admm", "cvxpy")

#: ADMM residuals at which the certified low-rank polish is first tried (SCS's default accuracy).
_POLISH_START = 1e-4


# ------------------------------------------------------------------------------ results
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
    n_generators, n_outputs, n_terms : int
        ``k``, ``m`` and ``p`` of the tensor.
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
    """Exact row compression of ``W ↦ M_F(W)`` (spec otto2023 §4.1).

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


def _svt(matrix: np.ndarray, threshold: float) -> np.ndarray:
    """Singular-value soft-thresholding (the prox of ``threshold · ‖·‖_*``).

    Computed from the eigendecomposition of the small Gram matrix (``MᵀM`` or ``MMᵀ``): about a
    third cheaper than an SVD for the small matrices ADMM sees, and the singular values that
    survive the threshold are resolved to ``ε‖M‖² / σ``.
    """
    tall = matrix.shape[0] >= matrix.shape[1]
    values, vectors = _eigh(matrix.T @ matrix if tall else matrix @ matrix.T)
    # σ_i = √λ_i; the factor 1 − threshold/σ_i (clipped at 0) shrinks every singular value.
    shrink = np.maximum(1.0 - threshold / np.sqrt(np.maximum(values, 1e-300)), 0.0)
    if tall:
        return ((matrix @ vectors) * shrink) @ vectors.T
    return vectors @ (shrink[:, None] * (vectors.T @ matrix))


def _eigh(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenpairs of a small symmetric matrix (LAPACK ``syevd`` called directly: the wrapper of
    ``numpy.linalg.eigh`` costs as much as the work for the matrices ADMM sees)."""
    values, vectors, info = _lapack.dsyevd(matrix)
    if info != 0:
        return np.linalg.eigh(matrix)
    return values, vectors


def _solve_spd(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``matrix⁻¹ rhs`` for a small symmetric positive definite matrix (LAPACK ``posv``, whose
    call overhead is a fraction of ``numpy.linalg.solve``'s); falls back to least squares."""
    _, solution, info = _lapack.dposv(matrix, rhs)
    if info != 0:
        solution = np.linalg.lstsq(matrix, rhs, rcond=None)[0]
    return solution


def _nuclear(matrix: np.ndarray) -> float:
    return float(np.linalg.svd(matrix, compute_uv=False).sum()) if matrix.size else 0.0


def _norm(vector: np.ndarray) -> float:
    return math.sqrt(float(vector @ vector))


# ------------------------------------------------------------------------------ input checks
def _check_problem(
    features: Any, targets: Any, tensor: Any, solver: str, tol: Any, max_iter: Any, rho: Any
) -> tuple[np.ndarray, np.ndarray, CompressedLieOperator]:
    phi = as_samples(features)
    y = np.asarray(targets, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise ValueError(f"targets must have shape (n,) or (n, m), got {np.shape(targets)}")
    if y.shape[0] != phi.shape[0]:
        raise ValueError(
            f"features have {phi.shape[0]} rows but targets {y.shape[0]}: one row per sample"
        )
    if y.shape[0] == 0:
        raise ValueError("need at least one sample")
    if not np.all(np.isfinite(y)):
        raise ValueError("targets contain NaN or inf values")
    operator = _as_operator(tensor)
    if operator.n_terms != phi.shape[1]:
        raise ValueError(
            f"features have {phi.shape[1]} columns but the Lie tensor's dictionary "
            f"{operator.n_terms}"
        )
    if operator.n_outputs != y.shape[1]:
        raise ValueError(
            f"targets have {y.shape[1]} outputs but the Lie tensor was built for "
            f"{operator.n_outputs}"
        )
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; use one of {SOLVERS}")
    _check_positive("tol", tol)
    _check_positive("max_iter", max_iter, integer=True)
    if rho is not None:
        _check_positive("rho", rho)
    return phi, y, operator


def _check_positive(name: str, value: Any, *, integer: bool = False) -> None:
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
        kind = "integer" if integer else "number"
        raise ValueError(f"{name} must be a positive {kind}, got {value!r}")


def _check_nonnegative(name: str, value: Any) -> None:
    kinds = (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")


# ------------------------------------------------------------------------------ interpolation
def promote_interpolation(
    features: Any,
    targets: Any,
    tensor: LieTensor | CompressedLieOperator,
    *,
    solver: str = "admm",
    tol: float = 1e-6,
    max_iter: int = 20_000,
    rho: float | None = None,
    over_relaxation: float = 1.6,
    polish: bool = True,
    cvxpy_solver: str = "SCS",
    cvxpy_options: dict | None = None,
) -> PromotionResult:
    """Most symmetric interpolant: ``min_W ‖M_F(W)‖_*  s.t.  Φ W = Y``.

    ``M_F(W) = tensor.generator_matrix(W)`` is the Lie-derivative matrix of ``F_W(x) = W φ(x)``
    (rows: points × outputs, columns: generators); its nuclear norm is a convex surrogate of
    ``dim 𝔤 − dim sym(F_W)``. ``Φ W = Y`` means ``F_W(x_s) = y_s`` at every training sample.

    Parameters
    ----------
    features
        ``Φ``, the dictionary evaluated at the training inputs, shape ``(n, p)``.
    targets
        ``Y``, shape ``(n,)`` or ``(n, m)``.
    tensor
        The Lie tensor of the same dictionary (:func:`~symmetrykit.liederiv.lie_tensor`) with
        ``m`` outputs, built on points where the symmetry is sought, or its
        :func:`compress_lie_tensor` (to reuse the compression across calls).
    solver
        ``"admm"`` (default): our solver. The constraint is eliminated exactly
        (``W = W₀ + null-space coordinates``), leaving ``min ‖X‖_*`` over an affine set of
        compressed matrices; ADMM with the split ``Z = X`` alternates an orthogonal projection
        onto the affine set and singular-value soft-thresholding, with over-relaxation,
        safeguarded Anderson acceleration and residual-balanced ``rho``; it stops on primal/dual
        residuals and a certified duality gap. With ``polish``, once the residuals reach
        ``1e−4`` the rank of the iterate is fixed and Newton's method on the optimality
        conditions at that rank refines it to an exactly rank-deficient interpolant; if a dual
        point then certifies a duality gap ``≤ tol`` it is returned (typically exact to
        rounding), otherwise ADMM continues to ``tol`` and the refinement is tried once more.
        ``"cvxpy"``: the reference conic program (same compression) through cvxpy.
    tol
        Relative tolerance of the ADMM residuals and duality gap.
    max_iter
        ADMM iteration limit.
    rho
        Initial ADMM penalty (default ``3√min(rank, k)`` for the problem scaled to a unit
        minimum-norm interpolant); adapted during the run.
    over_relaxation
        ADMM relaxation parameter in ``(0, 2)``.
    polish
        Try the certified Newton refinement (see ``solver``).
    cvxpy_solver, cvxpy_options
        Solver name and keyword options for ``solver="cvxpy"`` (e.g. ``{"max_iters": 2500}``).

    Returns
    -------
    PromotionResult
        ``coef`` has shape ``(m, p)`` (``m = 1`` for 1-D targets).

    Notes
    -----
    If ``Φ W = Y`` has no exact solution, the constraint becomes ``Φ W = Φ W_ls`` with ``W_ls``
    the least-squares solution (``constraint_residual`` reports the misfit). Coefficient
    directions that change neither ``ΦW`` nor ``M_F(W)`` are set to minimum norm.

    Examples
    --------
    >>> import numpy as np, symmetrykit as sk
    >>> from symmetrykit.liederiv import PolynomialDictionary, lie_tensor
    >>> rng = np.random.default_rng(0)
    >>> lib = PolynomialDictionary(3, 2)
    >>> T = lie_tensor(lib, rng.uniform(-1, 1, (5, 3)), sk.lie.translations(3))
    >>> X = rng.uniform(-1, 1, (8, 3))
    >>> y = 1 + (X @ [1.0, 2.0, 2.0] / 3) ** 2       # depends on one direction only
    >>> res = promote_interpolation(lib.transform(X), y, T)
    >>> res.polished, int(np.sum(res.singular_values < 1e-9))   # certified; 2 symmetries
    (True, 2)
    """
    start = time.perf_counter()
    phi, y, operator = _check_problem(features, targets, tensor, solver, tol, max_iter, rho)
    if not 0 < over_relaxation < 2:
        raise ValueError(f"over_relaxation must be in (0, 2), got {over_relaxation!r}")
    if solver == "cvxpy":
        return _interpolation_cvxpy(phi, y, operator, start, cvxpy_solver, cvxpy_options or {})
    return _interpolation_admm(phi, y, operator, start, tol=tol, max_iter=max_iter, rho=rho,
                               alpha=over_relaxation, polish=polish)


def _null_space(phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """``pinv(Φ)`` (shape ``(p, n)``), an orthonormal basis of ``ker Φ`` and ``rank Φ``.

    A complete QR of ``Φᵀ`` gives both when ``Φ`` has full row rank (the usual case, and about
    three times cheaper than an SVD); otherwise a full SVD.
    """
    n, p = phi.shape
    if n <= p:
        q_factor, r_factor = np.linalg.qr(phi.T, mode="complete")
        diagonal = np.abs(np.diag(r_factor))
        if diagonal.size and diagonal.min() > 1e-10 * diagonal.max():
            # Φ = Rᵀ Q₁ᵀ, so pinv(Φ) = Q₁ R⁻ᵀ and ker Φ = span(Q₂).
            pinv = np.linalg.solve(r_factor[:n], q_factor[:, :n].T).T
            return pinv, q_factor[:, n:], n
    u, s, vt = np.linalg.svd(phi, full_matrices=True)
    rank = _rank(s, phi.shape)
    pinv = (vt[:rank].T / s[:rank]) @ u[:, :rank].T
    return pinv, vt[rank:].T, rank


def _range_basis(matrix: np.ndarray) -> tuple[np.ndarray, Any]:
    """An orthonormal basis ``B`` of ``range(matrix)`` and a map ``Bᵀ(matrix c) ↦ c`` (the
    minimum-norm ``c``). QR when ``matrix`` has full column rank, SVD otherwise."""
    rows, cols = matrix.shape
    if cols == 0:
        return np.zeros((rows, 0)), lambda coords: np.zeros(0)
    if cols <= rows:
        q_factor, r_factor = np.linalg.qr(matrix)
        diagonal = np.abs(np.diag(r_factor))
        if diagonal.min() > 1e-10 * diagonal.max():
            return q_factor, lambda coords: np.linalg.solve(r_factor, coords)
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    rank = _rank(s, matrix.shape)
    u, s, vt = u[:, :rank], s[:rank], vt[:rank]
    return u, lambda coords: vt.T @ (coords / s)


def _interpolation_admm(
    phi: np.ndarray,
    y: np.ndarray,
    operator: CompressedLieOperator,
    start: float,
    *,
    tol: float,
    max_iter: int,
    rho: float | None,
    alpha: float,
    polish: bool,
) -> PromotionResult:
    m, p = y.shape[1], phi.shape[1]
    shape = (operator.rank, operator.n_generators)
    pinv, null, phi_rank = _null_space(phi)
    w0 = (pinv @ y).T.reshape(-1)  # minimum-norm (least-squares) interpolant, row-major (m, p)
    free = null.shape[1]
    # Feasible compressed matrices: b + A c with vec(W) = w0 + (I_m ⊗ N) c.
    matrix = operator.matrix
    a_matrix = np.tensordot(matrix.reshape(-1, m, p), null, axes=(2, 0)).reshape(
        matrix.shape[0], m * free
    )
    b = matrix @ w0
    basis, coordinates = _range_basis(a_matrix)
    b_range = basis.T @ b
    offset = b - basis @ b_range  # the feasible set is offset + range(basis), offset ⊥ basis

    scale = _norm(offset)
    iterations, converged, gap, polished = 0, True, 0.0, False
    details: dict[str, Any] = {"compressed_shape": shape, "free_parameters": basis.shape[1],
                               "feature_rank": int(phi_rank)}
    t = np.zeros(basis.shape[1])
    # A feasible point with M_F = 0 to rounding (an exactly symmetric interpolant): t = 0.
    if basis.shape[1] and scale > 1e-13 * max(_norm(b), 1e-300) and operator.rank:
        # Positively homogeneous: solve for the unit-norm offset and scale back.
        t, iterations, converged, gap, polished, info = _solve_compressed(
            basis, offset / scale, shape, tol=tol, max_iter=max_iter, rho=rho, alpha=alpha,
            polish=polish,
        )
        t = t * scale
        details.update(info)
    c = coordinates(t - b_range)
    coef = (w0 + (c.reshape(m, free) @ null.T).reshape(-1)).reshape(m, p)
    values = np.linalg.svd(operator.generator_matrix(coef), compute_uv=False)
    fitted = phi @ coef.T
    return PromotionResult(
        coef=coef,
        objective=float(values.sum()),
        iterations=iterations,
        converged=converged,
        solve_time=time.perf_counter() - start,
        solver="admm",
        singular_values=values,
        constraint_residual=float(np.max(np.abs(fitted - y))),
        duality_gap=gap,
        polished=polished,
        details=details,
    )


@dataclass
class _AdmmState:
    """Where an ADMM run stopped: enough to resume it or to read off the solution."""

    h: np.ndarray  # z + u, the Douglas–Rachford variable
    z: np.ndarray  # the soft-thresholded iterate (exactly low rank)
    t: np.ndarray  # coordinates of the feasible iterate x = offset + basis t
    rho: float
    iterations: int = 0
    converged: bool = False
    gap: float = float("nan")


def _solve_compressed(
    basis: np.ndarray,
    offset: np.ndarray,
    shape: tuple[int, int],
    *,
    tol: float,
    max_iter: int,
    rho: float | None,
    alpha: float,
    polish: bool,
) -> tuple[np.ndarray, int, bool, float, bool, dict]:
    """``min ‖mat(x)‖_*`` over ``x ∈ offset + range(basis)`` (orthonormal ``basis``,
    ``offset ⊥ range(basis)``, ``‖offset‖ = 1``): ADMM, then a certified polish.

    With ``polish``, ADMM first runs to the residuals ``max(tol, 1e-4)``; if the Newton
    refinement then yields a point whose certified duality gap is at most ``tol``, that point is
    returned; otherwise ADMM resumes down to ``tol`` and the refinement is tried once more.

    Returns the coordinates ``t`` of the solution, iterations, convergence flag, relative duality
    gap, whether a polished point was returned, and diagnostics.
    """
    state = _AdmmState(
        h=offset.copy(), z=offset.copy(), t=np.zeros(basis.shape[1]),
        rho=float(3.0 * np.sqrt(min(shape)) if rho is None else rho),
    )
    stages = [_POLISH_START, tol] if polish and tol < _POLISH_START else [tol]
    info: dict[str, Any] = {}
    for stage_tol in stages:
        state = _admm_loop(basis, offset, shape, state, tol=stage_tol, max_iter=max_iter,
                           alpha=alpha)
        if polish:
            for target in _candidate_ranks(state, offset, basis, shape):
                refined = _polish(basis, offset, state, shape, tol, target)
                info.setdefault("polish", []).append(refined["info"])
                if refined["certified"]:
                    info["rho_final"] = state.rho
                    return refined["t"], state.iterations, True, refined["gap"], True, info
        if state.iterations >= max_iter:
            break
    info["rho_final"] = state.rho
    return state.t, state.iterations, state.converged, state.gap, False, info


def _admm_loop(
    basis: np.ndarray,
    offset: np.ndarray,
    shape: tuple[int, int],
    state: _AdmmState,
    *,
    tol: float,
    max_iter: int,
    alpha: float,
    memory: int = 8,
    adapt_every: int = 25,
) -> _AdmmState:
    """Resume ADMM from ``state`` until the residuals and duality gap are below ``tol``.

    Splitting ``x = z`` with ``x`` in the affine set and ``z`` free, the x-step is a projection
    and the z-step a singular-value soft-thresholding. With ``h = z + u`` (``u`` the scaled dual)
    one over-relaxed iteration is the Douglas–Rachford map
    ``h ← h + α (P(2 prox(h) − h) − prox(h))``; it is accelerated by safeguarded Anderson
    mixing (type II, ``memory`` past steps; a mixed step is kept only if it shrinks the
    fixed-point residual, as in SCS 3). ``rho`` is balanced against the primal/dual residual
    ratio (Boyd et al. 2011, §3.4.1), rarely, since each change restarts the mixing.
    """
    dim = offset.size
    rho = state.rho

    basis_t = np.ascontiguousarray(basis.T)
    tall = shape[0] >= shape[1]

    def step(h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Singular-value soft-thresholding at 1/rho (as in _svt, inlined: this is the hot loop).
        matrix = h.reshape(shape)
        values, vectors = _eigh(matrix.T @ matrix if tall else matrix @ matrix.T)
        shrink = np.maximum(1.0 - (1.0 / rho) / np.sqrt(np.maximum(values, 1e-300)), 0.0)
        if tall:
            z = (((matrix @ vectors) * shrink) @ vectors.T).reshape(-1)
        else:
            z = (vectors @ (shrink[:, None] * (vectors.T @ matrix))).reshape(-1)
        t = basis_t @ (2.0 * z - h)
        return z, t, alpha * (offset + basis @ t - z)

    h = state.h
    z, t, g = step(h)
    g_norm = _norm(g)
    delta_h = np.zeros((dim, memory))
    delta_g = np.zeros((dim, memory))
    delta_sum = np.zeros((dim, memory))
    gram = np.zeros((memory, memory))
    identity = np.eye(memory)
    stored, slot, since_rho = 0, 0, 0
    z_norm = _norm(z)
    iteration = state.iterations
    converged, gap = False, float("nan")
    while iteration < max_iter:
        iteration += 1
        plain = h + g
        candidate = plain
        if stored:
            small = gram[:stored, :stored]
            # A tiny Tikhonov term keeps the normal equations solvable when the stored residual
            # changes are (nearly) collinear.
            small = small + (1e-12 * small.trace() + 1e-300) * identity[:stored, :stored]
            weights = _solve_spd(small, delta_g[:, :stored].T @ g)
            candidate = plain - delta_sum[:, :stored] @ weights
        z_new, t_new, g_new = step(candidate)
        g_new_norm = _norm(g_new)
        if candidate is not plain and g_new_norm > g_norm:
            candidate = plain  # safeguard: the mixed step did not shrink the residual
            z_new, t_new, g_new = step(candidate)
            g_new_norm = _norm(g_new)
            stored, slot = 0, 0
        delta_h[:, slot] = candidate - h
        delta_g[:, slot] = g_new - g
        delta_sum[:, slot] = delta_h[:, slot] + delta_g[:, slot]
        column = delta_g.T @ delta_g[:, slot]
        gram[slot, :] = column
        gram[:, slot] = column
        slot = (slot + 1) % memory
        stored = min(stored + 1, memory)
        z_old = z
        h, z, t, g, g_norm = candidate, z_new, t_new, g_new, g_new_norm
        since_rho += 1
        primal = g_norm / alpha
        # Scales: the problem is normalised so that the least-norm feasible point has norm 1.
        # ‖z‖ changes slowly: refresh it only when the test could pass.
        check = primal <= tol * max(2.0 * z_norm, 1.0)
        if check:
            z_norm = _norm(z)
            check = primal <= tol * max(z_norm, 1.0)
        if check or since_rho >= adapt_every:
            dual = rho * _norm(basis.T @ (z - z_old))
            if check and dual <= tol * max(rho * _norm(h - z), 1.0):
                gap = _duality_gap(basis, offset, offset + basis @ t, rho * (h - z), shape)
                if gap <= tol:
                    converged = True
                    break
            if since_rho >= adapt_every and not 0.2 < primal / max(dual, 1e-300) < 5.0:
                # Move rho towards balancing the residuals (OSQP-style square-root rule).
                factor = float(np.clip(np.sqrt(primal / max(dual, 1e-300)), 0.1, 10.0))
                rho *= factor
                h = z + (h - z) / factor  # the scaled dual u = h − z rescales with 1/rho
                z, t, g = step(h)
                g_norm = _norm(g)
                stored, slot = 0, 0
            if since_rho >= adapt_every:
                since_rho = 0
    if not converged:
        gap = _duality_gap(basis, offset, offset + basis @ t, rho * (h - z), shape)
    return _AdmmState(h=h, z=z, t=t, rho=rho, iterations=iteration, converged=converged,
                      gap=gap)


def _duality_gap(
    basis: np.ndarray, offset: np.ndarray, x: np.ndarray, dual: np.ndarray, shape: tuple[int, int]
) -> float:
    """Gap between ``‖mat(x)‖_*`` and the bound of a feasible dual point, relative to
    ``max(‖mat(x)‖_*, ‖offset‖)`` (``‖offset‖ = 1``: the least-norm feasible point).

    The dual of ``min ‖mat(x)‖_*`` over ``offset + range(basis)`` is ``max ⟨Y, offset⟩`` over
    ``‖mat(Y)‖₂ ≤ 1``, ``basisᵀY = 0``; ``dual`` is made feasible by projecting and rescaling.
    """
    y = dual - basis @ (basis.T @ dual)
    norm = np.linalg.norm(y.reshape(shape), ord=2)
    if norm > 1.0:
        y = y / norm
    primal = _nuclear(x.reshape(shape))
    return max(primal - float(y @ offset), 0.0) / max(primal, 1.0)


def _polish(
    basis: np.ndarray,
    offset: np.ndarray,
    state: _AdmmState,
    shape: tuple[int, int],
    tol: float,
    target: int,
) -> dict:
    """Refine ADMM's answer by Newton's method on the optimality conditions at fixed rank, and
    certify the result.

    For a candidate rank ``r`` (:func:`_candidate_ranks`): a feasible ``X = U Σ Vᵀ`` of rank
    ``r`` is optimal iff some ``Y = U Vᵀ + U⊥ W V⊥ᵀ`` with ``‖W‖₂ ≤ 1`` is orthogonal to the
    feasible directions (the subdifferential of the nuclear norm meets the normal space of the
    affine set). Newton's method solves ``basisᵀ vec(Y) = 0`` (stationarity) and
    ``U⊥ᵀ X V⊥ = 0`` (rank ``r``) for ``(t, W)``, starting from ADMM's primal and dual iterates,
    with the derivatives of the singular subspaces and of the polar factor ``U Vᵀ`` from
    first-order perturbation theory; the rank equations fix the step's component in the range of
    their Jacobian, stationarity the rest (null-space method). When the rank is right this
    converges quadratically. The point is accepted only with a certificate: exact rank ``r`` and
    a dual ``Y`` solving the equations to rounding whose rescaling to ``‖Y‖₂ ≤ 1`` bounds the
    relative duality gap by ``tol`` (:func:`_certificate` searches ``W`` of least norm).
    """
    rows, cols = shape
    info: dict[str, Any] = {"rank": target, "certified": False}
    result = {"t": state.t, "certified": False, "gap": state.gap, "info": info}
    deltas = basis.T.reshape(-1, rows, cols)  # deltas[c] = mat(basis[:, c])
    t = state.t.copy()
    # The normal-space part of the dual, kept as a full matrix so that it can be re-expressed in
    # the trailing singular vectors of every iterate (whose basis the SVD chooses freely).
    y_perp = (state.rho * (state.h - state.z)).reshape(shape)
    newton_steps, previous = 0, np.inf
    for newton_steps in range(1, 11):  # noqa: B007 - reported
        x_mat = (offset + basis @ t).reshape(shape)
        u, s, vt = np.linalg.svd(x_mat, full_matrices=True)
        if s[target - 1] <= 1e-10 * s[0]:
            info["reason"] = "the rank collapsed during the refinement"
            return result
        u_r, u_perp, v_r, v_perp = u[:, :target], u[:, target:], vt[:target].T, vt[target:].T
        w = u_perp.T @ y_perp @ v_perp
        rank_residual = (u_perp.T @ x_mat @ v_perp).reshape(-1)
        stationarity = basis.T @ (u_r @ v_r.T + u_perp @ w @ v_perp.T).reshape(-1)
        residual = _norm(rank_residual) / s[0] + _norm(stationarity)
        if _norm(rank_residual) <= 1e-14 * s[0] and _norm(stationarity) <= 1e-12:
            break
        w_norm = float(np.linalg.norm(w, ord=2)) if w.size else 0.0
        if newton_steps > 2 and (residual > previous or w_norm > 3.0):
            # Not converging, or towards multipliers no certificate can come from: a wrong rank
            # or a wrong basin. ADMM goes on instead.
            info["reason"] = "Newton's method left the region of a certifiable solution"
            return result
        previous = residual
        frame = (u_r, s[:target], v_r, u_perp, v_perp, w)

        def hessian_times(directions: np.ndarray, frame: tuple = frame) -> np.ndarray:
            return _stationarity_derivative(basis, shape, frame, directions)

        step_t, step_w = _newton_step(_normal_jacobian(deltas, u_perp, v_perp), hessian_times,
                                      stationarity, rank_residual)
        t = t + step_t
        y_perp = u_perp @ (w + step_w.reshape(w.shape)) @ v_perp.T
    info["newton_steps"] = newton_steps
    x_mat = (offset + basis @ t).reshape(shape)
    u, s, vt = np.linalg.svd(x_mat, full_matrices=True)
    info["tail"] = float(np.linalg.norm(s[target:]) / s[0]) if s[0] > 0 else 0.0
    if s[target - 1] <= 1e-8 * s[0] or info["tail"] > 1e-10:
        info["reason"] = "the refinement did not reach an exact rank-r point"
        return result
    u_perp, v_perp = u[:, target:], vt[target:].T
    sign = (u[:, :target] @ vt[:target]).reshape(-1)
    w_shape = (rows - target, cols - target)
    # Newton's own multiplier usually certifies the point already (the gap computation projects
    # and rescales it into a feasible dual); only otherwise search the multipliers.
    w_newton = u_perp.T @ y_perp @ v_perp
    dual = sign + (u_perp @ w_newton @ v_perp.T).reshape(-1)
    gap = _duality_gap(basis, offset, offset + basis @ t, dual, shape)
    if gap <= tol:
        info.update(gap=gap, certified=True, certificate="newton",
                    certificate_norm=float(np.linalg.norm(w_newton, ord=2)) if w_newton.size
                    else 0.0)
        info["unique"] = bool(info["certificate_norm"] < 1.0 - 1e-9)
        return {"t": t, "certified": True, "gap": gap, "info": info}
    certificate = _certificate(
        _normal_jacobian(deltas, u_perp, v_perp).T,
        -(basis.T @ sign),
        (u_perp.T @ y_perp @ v_perp).reshape(-1),
        w_shape,
    )
    info.update(certificate["info"])
    if certificate["w"] is None:
        info["reason"] = "the optimality equations have no solution at this rank"
        return result
    # Y = UVᵀ + U⊥WV⊥ᵀ is orthogonal to the feasible directions and ⟨Y, X⟩ = ‖X‖_*; scaled to
    # ‖Y‖₂ ≤ 1 it is dual feasible, and the gap is ‖X‖_* (1 − 1/max(1, ‖W‖₂)).
    dual = sign + (u_perp @ certificate["w"].reshape(w_shape) @ v_perp.T).reshape(-1)
    gap = _duality_gap(basis, offset, offset + basis @ t, dual, shape)
    info["gap"] = gap
    if gap > tol:
        info["reason"] = "the certified gap exceeds the tolerance"
        return result
    info["certified"] = True
    info["unique"] = bool(info["certificate_norm"] < 1.0 - 1e-9)
    return {"t": t, "certified": True, "gap": gap, "info": info}


def _newton_step(
    normal: np.ndarray, hessian_times: Any, stationarity: np.ndarray, rank_residual: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``[[H, Nᵀ], [N, 0]] (δt, δw) = −(stationarity, rank_residual)`` by the null-space
    method: ``δt`` = least-squares solution of ``N δt = −rank_residual`` plus the stationarity
    correction within ``ker N``; ``δw`` = least-squares solution of the first block row.
    ``hessian_times(D)`` returns ``H @ D``; ``H`` is only applied on ``ker N`` and to one step."""
    free = stationarity.size
    if normal.shape[0] == 0:  # full rank: no rank equations, no multiplier
        step_t = np.linalg.lstsq(hessian_times(np.eye(free)), -stationarity, rcond=None)[0]
        return step_t, np.zeros(0)
    # Singular triplets of N from the eigendecomposition of its small Gram matrix (several times
    # cheaper than an SVD of the tall N; only singular values above 1e-3 of the largest are used).
    rows_n, cols_n = normal.shape
    if rows_n >= cols_n:
        values, right = np.linalg.eigh(normal.T @ normal)
        order = np.argsort(values)[::-1]
        ns = np.sqrt(np.maximum(values[order], 0.0))
        nvt = right[:, order].T  # (free, free), rows ordered like ns
        k = int(np.sum(ns > 1e-3 * ns[0])) if ns[0] > 0 else 0
        nu_k = (normal @ nvt[:k].T) / ns[:k]
    else:
        values, left = np.linalg.eigh(normal @ normal.T)
        order = np.argsort(values)[::-1]
        ns = np.sqrt(np.maximum(values[order], 0.0))
        k = int(np.sum(ns > 1e-3 * ns[0])) if ns[0] > 0 else 0
        nu_k = left[:, order[:k]]
        right_k = (normal.T @ nu_k) / ns[:k]
        # Complete the k right singular vectors to an orthonormal basis of R^free.
        complete, _ = np.linalg.qr(right_k, mode="complete")
        nvt = np.vstack([right_k.T, complete[:, k:].T])
    # (The rank equations are structurally dependent for structured operators, e.g. the
    # symmetric Hessians behind translation generators; off the manifold the dependent
    # directions show up as small, spurious singular values, which the cutoff keeps from being
    # inverted.)
    step_t = -nvt[:k].T @ ((nu_k.T @ rank_residual) / ns[:k])
    tangent = nvt[k:].T  # directions that keep the rank to first order
    both = hessian_times(np.column_stack([step_t, tangent]))
    curvature = both[:, 0]  # H δt
    if tangent.shape[1]:
        h_tangent = both[:, 1:]
        rhs = -tangent.T @ (stationarity + curvature)
        reduced = tangent.T @ h_tangent
        try:
            shift = np.linalg.solve(reduced, rhs)
        except np.linalg.LinAlgError:
            shift = np.linalg.lstsq(reduced, rhs, rcond=None)[0]
        step_t = step_t + tangent @ shift
        curvature = curvature + h_tangent @ shift
    step_w = -nu_k @ ((nvt[:k] @ (stationarity + curvature)) / ns[:k])
    return step_t, step_w


def _stationarity_derivative(
    basis: np.ndarray, shape: tuple[int, int], frame: tuple, directions: np.ndarray
) -> np.ndarray:
    """``H @ directions`` for the Jacobian ``H`` (shape ``(free, free)``) of the stationarity
    residual ``basisᵀ vec(U_r V_rᵀ + U⊥ W V⊥ᵀ)`` with respect to ``t`` (``W`` held fixed in the
    moving frame ``(U_r, σ, V_r, U⊥, V⊥, W)``).

    First-order perturbation of the rank-``r`` singular triplets along ``Δ``:
    ``d(U_r V_rᵀ) = U_r K V_rᵀ + (I − U_rU_rᵀ) Δ V_r Σ⁻¹ V_rᵀ + U_r Σ⁻¹ U_rᵀ Δ (I − V_rV_rᵀ)``
    with ``K`` skew, ``K_ij = (C_ij − C_ji) / (σ_i + σ_j)``, ``C = U_rᵀ Δ V_r``;
    ``dU⊥ = −U_r Σ⁻¹ V_rᵀ Δᵀ U⊥``, ``dV⊥ = −V_r Σ⁻¹ U_rᵀ Δ V⊥``. Only the requested directions
    are differentiated (the Newton step needs ``H`` on a small subspace).
    """
    u_r, sigma, v_r, u_perp, v_perp, w = frame
    count = directions.shape[1]
    deltas = (basis @ directions).T.reshape(count, *shape)
    inverse = 1.0 / sigma
    delta_v = deltas @ v_r  # Δ V_r, (count, rows, r)
    ut_delta = u_r.T @ deltas  # U_rᵀ Δ, (count, r, cols)
    core = u_r.T @ delta_v  # U_rᵀ Δ V_r
    skew = (core - core.transpose(0, 2, 1)) / (sigma[:, None] + sigma[None, :])
    g_mat = u_perp @ w  # U⊥ W, (rows, cols − r)
    d_y = u_r @ skew @ v_r.T
    d_y += ((delta_v - u_r @ core) * inverse) @ v_r.T
    d_y += u_r @ ((ut_delta - core @ v_r.T) * inverse[:, None])
    d_y -= u_r @ ((delta_v.transpose(0, 2, 1) @ g_mat) * inverse[:, None]) @ v_perp.T
    d_y -= g_mat @ (((ut_delta @ v_perp).transpose(0, 2, 1)) * inverse) @ v_r.T
    return (d_y.reshape(count, -1) @ basis).T


def _candidate_ranks(state: _AdmmState, offset: np.ndarray, basis: np.ndarray,
                     shape: tuple[int, int]) -> list[int]:
    """Ranks worth a Newton refinement: that of the soft-thresholded iterate ``z`` and those at
    which the spectrum of the feasible iterate drops by a factor 100 or more (ADMM leaves small
    but non-zero trailing singular values long before it gets the rank exactly). At most three,
    smallest first."""
    top = min(shape)
    ranks = {_rank(np.linalg.svd(state.z.reshape(shape), compute_uv=False), shape)}
    values = np.linalg.svd((offset + basis @ state.t).reshape(shape), compute_uv=False)
    if values[0] > 0:
        ratios = values[1:] / values[:-1]
        ranks.update(int(i) + 1 for i in np.flatnonzero(ratios < 1e-2))
    return sorted(r for r in ranks if 0 < r <= top)[:3]


def _normal_jacobian(deltas: np.ndarray, u_perp: np.ndarray, v_perp: np.ndarray) -> np.ndarray:
    """``J[(i, j), c] = (U⊥ᵀ Δ_c V⊥)[i, j]`` for the stack ``deltas[c] = Δ_c``."""
    return (u_perp.T @ deltas @ v_perp).reshape(deltas.shape[0], -1).T


def _stationarity_jacobian(
    basis: np.ndarray,
    deltas: np.ndarray,
    u_r: np.ndarray,
    sigma: np.ndarray,
    v_r: np.ndarray,
    u_perp: np.ndarray,
    v_perp: np.ndarray,
    w: np.ndarray,
) -> np.ndarray:
    """Derivative of ``basisᵀ vec(U_r V_rᵀ + U⊥ W V⊥ᵀ)`` along every ``Δ_c = deltas[c]`` (``W``
    held fixed in the moving frame), shape ``(free, free)``.

    First-order perturbation of the rank-``r`` singular triplets: ``d(U_r V_rᵀ) = U_r K V_rᵀ +
    (I − U_rU_rᵀ) Δ V_r Σ⁻¹ V_rᵀ + U_r Σ⁻¹ U_rᵀ Δ (I − V_rV_rᵀ)`` with ``K`` skew,
    ``K_ij = (C_ij − C_ji) / (σ_i + σ_j)``, ``C = U_rᵀ Δ V_r``; ``dU⊥ = −U_r Σ⁻¹ V_rᵀ Δᵀ U⊥``,
    ``dV⊥ = −V_r Σ⁻¹ U_rᵀ Δ V⊥``.
    """
    inverse = 1.0 / sigma
    delta_v = deltas @ v_r  # Δ V_r, (free, rows, r)
    ut_delta = u_r.T @ deltas  # U_rᵀ Δ, (free, r, cols)
    core = u_r.T @ delta_v  # U_rᵀ Δ V_r
    skew = (core - core.transpose(0, 2, 1)) / (sigma[:, None] + sigma[None, :])
    g_mat = u_perp @ w  # U⊥ W, (rows, cols − r)
    d_y = u_r @ skew @ v_r.T
    d_y += ((delta_v - u_r @ core) * inverse) @ v_r.T
    d_y += u_r @ ((ut_delta - core @ v_r.T) * inverse[:, None])
    d_y -= u_r @ ((delta_v.transpose(0, 2, 1) @ g_mat) * inverse[:, None]) @ v_perp.T
    d_y -= g_mat @ (((ut_delta @ v_perp).transpose(0, 2, 1)) * inverse) @ v_r.T
    return (d_y.reshape(deltas.shape[0], -1) @ basis).T


def _certificate(
    system: np.ndarray, rhs: np.ndarray, start: np.ndarray, shape: tuple[int, int]
) -> dict:
    """A point of ``{w : system w = rhs}`` of small spectral norm ``‖mat(w)‖₂`` (ideally ≤ 1).

    Tries the minimum-norm solution and the projection of ``start`` onto the affine set, then
    alternates projections between the affine set and the unit spectral-norm ball (a convex
    feasibility problem) for a few dozen rounds, keeping the best point. Returns ``None`` for
    ``w`` when the equations have no solution; a returned point solves them to rounding.
    """
    if system.shape[1] == 0:  # full rank: Y = U Vᵀ must itself be orthogonal to the directions
        mismatch = _norm(rhs)
        solvable = mismatch <= 1e-9 * max(1.0, mismatch)
        info = {"certificate_mismatch": mismatch, "certificate_norm": 0.0 if solvable else np.inf}
        return {"w": np.zeros(0) if solvable else None, "info": info}
    u, s, vt = np.linalg.svd(system, full_matrices=False)
    rank = _rank(s, system.shape)
    u, s, vt = u[:, :rank], s[:rank], vt[:rank]
    particular = vt.T @ ((u.T @ rhs) / s)
    mismatch = _norm(system @ particular - rhs)
    info: dict[str, Any] = {"certificate_mismatch": mismatch}
    if mismatch > 1e-9 * max(1.0, _norm(rhs)):
        info["certificate_norm"] = float("inf")
        return {"w": None, "info": info}

    def project(w: np.ndarray) -> np.ndarray:
        return w - vt.T @ (vt @ w) + particular

    def spectral(w: np.ndarray) -> float:
        return float(np.linalg.norm(w.reshape(shape), ord=2))

    best = min((particular, project(start)), key=spectral)
    best_norm = spectral(best)
    w = best
    checkpoint = best_norm
    for round_ in range(1, 51):
        if best_norm <= 1.0 + 1e-12:
            break
        left, values, right = np.linalg.svd(w.reshape(shape), full_matrices=False)
        w = project(((left * np.minimum(values, 1.0)) @ right).reshape(-1))
        norm = spectral(w)
        if norm < best_norm:
            best, best_norm = w, norm
        if round_ % 10 == 0:
            if best_norm - 1.0 > 0.5 * (checkpoint - 1.0):
                break  # the excess norm no longer halves every ten rounds: give up
            checkpoint = best_norm
    info["certificate_norm"] = best_norm
    return {"w": best, "info": info}


# ------------------------------------------------------------------------------ penalised
def promote_penalized(
    features: Any,
    targets: Any,
    tensor: LieTensor | CompressedLieOperator,
    *,
    gamma: float,
    alpha_l1: float = 0.0,
    solver: str = "admm",
    tol: float = 1e-6,
    max_iter: int = 20_000,
    rho: float | None = None,
    cvxpy_solver: str = "SCS",
    cvxpy_options: dict | None = None,
) -> PromotionResult:
    """Symmetry-promoting regression: ``min_W ‖ΦWᵀ − Y‖²/n + γ‖M_F(W)‖_* + α‖W‖₁``.

    Parameters
    ----------
    features, targets, tensor
        As in :func:`promote_interpolation`.
    gamma
        Weight ``γ ≥ 0`` of the nuclear-norm penalty (``M_F`` carries the ``1/√N`` point
        scaling, so ``γ`` does not depend on the number of Lie-derivative points).
    alpha_l1
        Weight ``α ≥ 0`` of the ℓ1 penalty (sparsity, SINDy-style).
    solver
        ``"admm"``: splits ``Z = QᵀM_F(W)`` (and ``V = W`` when ``α > 0``); the W-step solves
        ``(2ΦᵀΦ/n + ρ(𝓜ᵀ𝓜 + [α>0] I)) w = …`` with a factorisation reused until ``rho`` changes
        (residual balancing), the Z-step is singular-value soft-thresholding at ``γ/ρ``, the V-step
        soft-thresholding at ``α/ρ``; stops on primal/dual residuals. With ``α > 0`` the returned
        coefficients are the V iterate (exact zeros). ``"cvxpy"``: the reference conic program.
    tol
        Relative tolerance of the ADMM residuals.
    max_iter, rho
        ADMM iteration limit and initial penalty (default: balances the two quadratic terms).
    cvxpy_solver, cvxpy_options
        As in :func:`promote_interpolation`.

    Returns
    -------
    PromotionResult
    """
    start = time.perf_counter()
    phi, y, operator = _check_problem(features, targets, tensor, solver, tol, max_iter, rho)
    _check_nonnegative("gamma", gamma)
    _check_nonnegative("alpha_l1", alpha_l1)
    if solver == "cvxpy":
        return _penalized_cvxpy(phi, y, operator, start, float(gamma), float(alpha_l1),
                                cvxpy_solver, cvxpy_options or {})
    return _penalized_admm(phi, y, operator, start, gamma=float(gamma),
                           alpha=float(alpha_l1), tol=tol, max_iter=max_iter, rho=rho)


def _penalized_objective(
    phi: np.ndarray, y: np.ndarray, operator: CompressedLieOperator, coef: np.ndarray,
    gamma: float, alpha: float,
) -> tuple[float, np.ndarray]:
    values = np.linalg.svd(operator.generator_matrix(coef), compute_uv=False)
    data = float(np.sum((phi @ coef.T - y) ** 2)) / phi.shape[0]
    return data + gamma * float(values.sum()) + alpha * float(np.abs(coef).sum()), values


def _penalized_admm(
    phi: np.ndarray,
    y: np.ndarray,
    operator: CompressedLieOperator,
    start: float,
    *,
    gamma: float,
    alpha: float,
    tol: float,
    max_iter: int,
    rho: float | None,
) -> PromotionResult:
    n, p = phi.shape
    m = y.shape[1]
    shape = (operator.rank, operator.n_generators)
    lie = operator.matrix  # (D, m·p)
    data_hessian = np.kron(np.eye(m), (2.0 / n) * (phi.T @ phi))
    data_rhs = ((2.0 / n) * (phi.T @ y)).T.reshape(-1)
    penalty_hessian = lie.T @ lie
    if alpha > 0:
        penalty_hessian = penalty_hessian + np.eye(m * p)
    penalty_scale = float(np.linalg.norm(penalty_hessian, ord=2))  # ‖[𝓜; I]‖₂²
    if rho is None:
        # Balance the curvature of the data term against the penalty's quadratic term.
        rho = float(np.linalg.norm(data_hessian, ord=2)) / penalty_scale if penalty_scale else 1.0
        rho = rho if rho > 0 else 1.0

    def factor(rho_value: float) -> Any:
        values, vectors = np.linalg.eigh(data_hessian + rho_value * penalty_hessian)
        cutoff = values.max() * m * p * np.finfo(np.float64).eps if values.size else 0.0
        inverse = np.where(values > cutoff, 1.0 / np.where(values > cutoff, values, 1.0), 0.0)
        # Pseudo-inverse: directions that neither the data nor the penalties see stay at zero.
        return lambda rhs: vectors @ (inverse * (vectors.T @ rhs))

    solve = factor(rho)
    w = solve(data_rhs)
    # Absolute floors of the stopping tests, so that solutions with M_F(W) = 0 or W = 0 are
    # recognised: the operator norm times the size of the first (penalty-free) iterate, and the
    # size of the data gradient.
    primal_floor = math.sqrt(penalty_scale) * _norm(w)
    dual_floor = _norm(data_rhs)
    z = lie @ w
    u = np.zeros_like(z)
    v = w.copy() if alpha > 0 else np.zeros(0)
    s = np.zeros_like(v)
    converged, iteration, since_rho = False, 0, 0
    while iteration < max_iter:
        iteration += 1
        rhs = data_rhs + rho * (lie.T @ (z - u))
        if alpha > 0:
            rhs = rhs + rho * (v - s)
        w = solve(rhs)
        lw = lie @ w
        z_old, v_old = z, v
        z = _svt((lw + u).reshape(shape), gamma / rho).reshape(-1)
        u = u + lw - z
        if alpha > 0:
            shifted = w + s
            v = np.sign(shifted) * np.maximum(np.abs(shifted) - alpha / rho, 0.0)
            s = s + w - v
        primal = np.sqrt(_norm(lw - z) ** 2 + (_norm(w - v) ** 2 if alpha > 0 else 0.0))
        change = lie.T @ (z - z_old) + (v - v_old if alpha > 0 else 0.0)
        dual = rho * _norm(change)
        primal_scale = max(np.sqrt(_norm(lw) ** 2 + (_norm(w) ** 2 if alpha > 0 else 0.0)),
                           np.sqrt(_norm(z) ** 2 + (_norm(v) ** 2 if alpha > 0 else 0.0)))
        dual_vector = lie.T @ u + (s if alpha > 0 else 0.0)
        if (primal <= tol * max(primal_scale, primal_floor, 1e-300)
                and dual <= tol * max(rho * _norm(dual_vector), dual_floor, 1e-300)):
            converged = True
            break
        since_rho += 1
        if since_rho >= 50 and (primal > 10.0 * dual or dual > 10.0 * primal):
            factor_change = 2.0 if primal > dual else 0.5
            rho *= factor_change
            u = u / factor_change
            s = s / factor_change
            solve = factor(rho)
            since_rho = 0
    coef = (v if alpha > 0 else w).reshape(m, p)
    objective, values = _penalized_objective(phi, y, operator, coef, gamma, alpha)
    return PromotionResult(
        coef=coef,
        objective=objective,
        iterations=iteration,
        converged=converged,
        solve_time=time.perf_counter() - start,
        solver="admm",
        singular_values=values,
        details={"compressed_shape": shape, "rho_final": rho},
    )


# ------------------------------------------------------------------------------ cvxpy
def _import_cvxpy() -> Any:
    try:
        import cvxpy
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "solver='cvxpy' needs cvxpy: `pip install 'symmetrykit[cvx]'` "
            "(or `pip install 'cvxpy>=1.5'`), or use solver='admm'"
        ) from exc
    return cvxpy


def _cvxpy_nuclear(cp: Any, operator: CompressedLieOperator, w: Any) -> Any:
    # The compressed matrix flattened row-major over (a, k) is, read column-major as (k, a), its
    # transpose: same nuclear norm.
    flat = operator.matrix @ cp.vec(w, order="C")
    return cp.normNuc(cp.reshape(flat, (operator.n_generators, operator.rank), order="F"))


def _interpolation_cvxpy(
    phi: np.ndarray,
    y: np.ndarray,
    operator: CompressedLieOperator,
    start: float,
    name: str,
    options: dict,
) -> PromotionResult:
    cp = _import_cvxpy()
    w = cp.Variable((y.shape[1], phi.shape[1]))
    problem = cp.Problem(cp.Minimize(_cvxpy_nuclear(cp, operator, w)), [phi @ w.T == y])
    problem.solve(solver=name, **options)
    coef = _cvxpy_coef(problem, w, name)
    values = np.linalg.svd(operator.generator_matrix(coef), compute_uv=False)
    return _cvxpy_result(problem, coef, values, float(values.sum()), start, name,
                         residual=float(np.max(np.abs(phi @ coef.T - y))))


def _penalized_cvxpy(
    phi: np.ndarray,
    y: np.ndarray,
    operator: CompressedLieOperator,
    start: float,
    gamma: float,
    alpha: float,
    name: str,
    options: dict,
) -> PromotionResult:
    cp = _import_cvxpy()
    w = cp.Variable((y.shape[1], phi.shape[1]))
    objective = cp.sum_squares(phi @ w.T - y) / phi.shape[0]
    if gamma > 0:
        objective = objective + gamma * _cvxpy_nuclear(cp, operator, w)
    if alpha > 0:
        objective = objective + alpha * cp.sum(cp.abs(w))
    problem = cp.Problem(cp.Minimize(objective))
    problem.solve(solver=name, **options)
    coef = _cvxpy_coef(problem, w, name)
    value, values = _penalized_objective(phi, y, operator, coef, gamma, alpha)
    return _cvxpy_result(problem, coef, values, value, start, name, residual=float("nan"))


def _cvxpy_coef(problem: Any, w: Any, name: str) -> np.ndarray:
    if w.value is None:
        raise RuntimeError(f"cvxpy ({name}) returned no solution: status {problem.status}")
    return np.asarray(w.value, dtype=np.float64)


def _cvxpy_result(
    problem: Any, coef: np.ndarray, values: np.ndarray, objective: float, start: float, name: str,
    *, residual: float,
) -> PromotionResult:
    stats = problem.solver_stats
    iterations = -1
    details: dict[str, Any] = {"status": problem.status}
    if stats is not None:
        if stats.num_iters is not None:
            iterations = int(stats.num_iters)
        if stats.solve_time is not None:
            details["solver_time"] = float(stats.solve_time)
    return PromotionResult(
        coef=coef,
        objective=objective,
        iterations=iterations,
        converged=problem.status == "optimal",
        solve_time=time.perf_counter() - start,
        solver=f"cvxpy:{name}",
        singular_values=values,
        constraint_residual=residual,
        details=details,
    )


# ------------------------------------------------------------------------------ estimator
def _lowers_degree(algebra: LieAlgebra, output_algebra: Any) -> bool:
    """Whether every Lie derivative lowers the polynomial degree: constant fields (pure
    translations) and a zero output action (invariance)."""
    if np.any(algebra.linear_parts != 0):
        return False  # linear parts keep the degree; "tangent" outputs are these parts too
    if isinstance(output_algebra, LieAlgebra):
        return not np.any(output_algebra.generators != 0)
    return True


class PromotedRegressor(RegressorMixin, BaseEstimator):
    """Polynomial regression that promotes symmetry: the nuclear-norm Lie penalty of Otto et al.

    Fits ``F_W(x) = W φ(x)`` (``φ`` all monomials of degree ≤ ``degree``) by

    * ``gamma=None``: the most symmetric interpolant, ``min ‖M_F(W)‖_* s.t. F_W(x_s) = y_s``
      (:func:`promote_interpolation`; for exact data), or
    * ``gamma ≥ 0``: ``min ‖ΦWᵀ − Y‖²/n + γ‖M_F(W)‖_* + α‖W‖₁`` (:func:`promote_penalized`).

    ``M_F(W)`` is the Lie-derivative matrix on ``n_points`` points drawn uniformly in the
    training data's bounding box. The fitted model has an exact :meth:`lie_derivative`, so
    ``symmetrykit.liederiv.discover(model, X, algebra)`` reads off the symmetries it acquired
    ("promote, then discover").

    Parameters
    ----------
    degree
        Polynomial degree ``d ≥ 1``.
    algebra
        Candidate generators acting on the inputs (:class:`~symmetrykit.lie.LieAlgebra`,
        linear or affine); required.
    output_algebra
        ``None`` (invariance), ``"tangent"`` (vector fields) or a :class:`LieAlgebra` paired
        with ``algebra`` (equivariance).
    gamma
        Penalty weight, or ``None`` for interpolation.
    alpha_l1
        ℓ1 weight (penalised program only).
    solver
        ``"admm"`` or ``"cvxpy"``.
    n_points
        Lie-derivative points (default ``#monomials(d', n) + 1`` with ``d' = degree − 1`` when
        every Lie derivative lowers the degree — pure translations, invariant outputs — and
        ``d' = degree`` otherwise: enough points in general position for the sampled nullspace
        to be exact).
    normalize
        Orthonormalise the candidates (Frobenius, jointly with paired outputs) first, so that the
        penalty does not depend on the basis chosen for the algebra.
    random_state
        Seed or :class:`numpy.random.Generator` for the Lie-derivative points.
    solver_options
        Extra keywords for the solver function (e.g. ``{"tol": 1e-8}``).

    Attributes
    ----------
    coef_ : ndarray of shape (m, p)
        Coefficients (rows: outputs, columns: :attr:`dictionary_` features).
    dictionary_ : PolynomialDictionary
    lie_tensor_ : LieTensor
        The tensor on :attr:`lie_points_` for :attr:`algebra_`.
    lie_points_ : ndarray of shape (n_points, n)
    algebra_ : LieAlgebra
        The candidates used in the penalty (orthonormalised when ``normalize``).
    result_ : PromotionResult
    n_features_in_ : int
    n_outputs_ : int

    Examples
    --------
    >>> import numpy as np, symmetrykit as sk
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, (12, 4))
    >>> y = 1.0 + (X @ [0.5, 0.5, 0.5, 0.5]) ** 2   # invariant along 3 directions
    >>> model = PromotedRegressor(degree=2, algebra=sk.lie.translations(4), gamma=None,
    ...                           random_state=0)
    >>> model.fit(X, y).result_.polished
    True
    >>> sk.liederiv.discover(model, X, sk.lie.translations(4)).nullity
    3
    """

    def __init__(
        self,
        degree: int = 2,
        algebra: LieAlgebra | None = None,
        output_algebra: Any = None,
        gamma: float | None = 1e-2,
        alpha_l1: float = 0.0,
        solver: str = "admm",
        n_points: int | None = None,
        normalize: bool = True,
        random_state: Any = None,
        solver_options: dict | None = None,
    ) -> None:
        self.degree = degree
        self.algebra = algebra
        self.output_algebra = output_algebra
        self.gamma = gamma
        self.alpha_l1 = alpha_l1
        self.solver = solver
        self.n_points = n_points
        self.normalize = normalize
        self.random_state = random_state
        self.solver_options = solver_options

    # -------------------------------------------------------------- helpers
    def _candidates(self) -> tuple[LieAlgebra, Any]:
        algebra, output = self.algebra, self.output_algebra
        if not isinstance(algebra, LieAlgebra):
            raise ValueError(
                f"algebra must be a LieAlgebra (e.g. sk.lie.translations(n)), got "
                f"{type(algebra).__name__}"
            )
        if isinstance(output, LieAlgebra) and len(output) != len(algebra):
            raise ValueError(
                f"output_algebra has {len(output)} generators, the input algebra {len(algebra)}: "
                "they are paired one to one"
            )
        if not self.normalize:
            return algebra, output
        paired = output.generators if isinstance(output, LieAlgebra) else None
        _, inputs, outputs = _orthonormal_pairs(algebra, paired)
        new_algebra = LieAlgebra(inputs, name=algebra.name, affine=algebra.affine)
        if outputs is not None:
            output = LieAlgebra(outputs, name=output.name)
        return new_algebra, output

    def _lie_points(self, X: np.ndarray, algebra: LieAlgebra, output: Any) -> np.ndarray:
        n = X.shape[1]
        if self.n_points is None:
            reduced = self.degree - 1 if _lowers_degree(algebra, output) else self.degree
            count = n_monomials(n, reduced) + 1
        else:
            _check_positive("n_points", self.n_points, integer=True)
            count = int(self.n_points)
        rng = np.random.default_rng(self.random_state)
        low, high = X.min(axis=0), X.max(axis=0)
        return low + (high - low) * rng.random((count, n))

    # -------------------------------------------------------------- API
    def fit(self, X: Any, y: Any) -> PromotedRegressor:
        """Fit the coefficients.

        Parameters
        ----------
        X
            Inputs, shape ``(n_samples, n)``.
        y
            Targets, shape ``(n_samples,)`` or ``(n_samples, m)``.

        Returns
        -------
        self
        """
        X = as_samples(X)
        y_array = np.asarray(y, dtype=np.float64)
        if y_array.ndim not in (1, 2) or y_array.shape[0] != X.shape[0]:
            raise ValueError(
                f"y must have shape ({X.shape[0]},) or ({X.shape[0]}, m), got {y_array.shape}"
            )
        targets = y_array[:, None] if y_array.ndim == 1 else y_array
        if self.gamma is None and self.alpha_l1:
            raise ValueError("alpha_l1 needs the penalised program: set gamma (e.g. 0.0)")
        if self.gamma is not None:
            _check_nonnegative("gamma", self.gamma)
        _check_nonnegative("alpha_l1", self.alpha_l1)
        algebra, output = self._candidates()
        if algebra.space_dim != X.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} features but {algebra.name} acts on R^{algebra.space_dim}"
            )
        if isinstance(output, str) and output == "tangent" and targets.shape[1] != X.shape[1]:
            raise ValueError(
                f"output_algebra='tangent' needs as many outputs as inputs ({X.shape[1]}), "
                f"got {targets.shape[1]}"
            )
        dictionary = PolynomialDictionary(X.shape[1], self.degree)
        points = self._lie_points(X, algebra, output)
        tensor = lie_tensor(dictionary, points, algebra, output, n_outputs=targets.shape[1])
        if tensor.n_outputs != targets.shape[1]:
            raise ValueError(
                f"the output action acts on {tensor.n_outputs} outputs, y has {targets.shape[1]}"
            )
        options = dict(self.solver_options or {})
        features = dictionary.transform(X)
        if self.gamma is None:
            result = promote_interpolation(features, targets, tensor, solver=self.solver,
                                           **options)
        else:
            result = promote_penalized(features, targets, tensor, gamma=self.gamma,
                                       alpha_l1=self.alpha_l1, solver=self.solver, **options)
        self.dictionary_ = dictionary
        self.lie_points_ = points
        self.lie_tensor_ = tensor
        self.algebra_ = algebra
        self.output_algebra_ = output
        self.result_ = result
        self.coef_ = result.coef
        self.n_features_in_ = X.shape[1]
        self.n_outputs_ = targets.shape[1]
        self._one_output = y_array.ndim == 1
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ValueError("this PromotedRegressor is not fitted yet; call fit(X, y) first")

    def predict(self, X: Any) -> np.ndarray:
        """``F_W(X)``: shape ``(n_samples,)`` if ``y`` was 1-D, else ``(n_samples, m)``."""
        self._check_fitted()
        values = self.dictionary_.transform(X) @ self.coef_.T
        return values[:, 0] if self._one_output else values

    def lie_derivative(
        self, points: Any, algebra: LieAlgebra, output_algebra: Any = None
    ) -> np.ndarray:
        """Exact ``L_{ξ_k} F_W(x_s)`` for every generator and point, shape ``(k, N, m)``.

        Used by :func:`~symmetrykit.liederiv.lie_derivative` and
        :func:`~symmetrykit.liederiv.discover` in place of numerical differentiation.
        """
        self._check_fitted()
        if not isinstance(algebra, LieAlgebra):
            raise ValueError(f"algebra must be a LieAlgebra, got {type(algebra).__name__}")
        tensor = lie_tensor(self.dictionary_, points, algebra, output_algebra,
                            n_outputs=self.n_outputs_)
        if tensor.n_outputs != self.n_outputs_:
            raise ValueError(
                f"the output action acts on {tensor.n_outputs} outputs, the model has "
                f"{self.n_outputs_}"
            )
        return np.einsum("ksilj,lj->ksi", tensor.array, self.coef_)
