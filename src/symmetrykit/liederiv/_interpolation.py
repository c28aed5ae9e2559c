"""The interpolation program ``min ‖M_F(W)‖_* s.t. Φ W = Y`` solved by ADMM and the polish.

The constraint is eliminated exactly (``W = W₀ + null-space coordinates``); what is left is the
minimum nuclear norm over an affine set of compressed matrices, solved by :mod:`._admm` and
refined by :mod:`._polish`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ._admm import _admm_loop, _AdmmState, _norm
from ._compress import CompressedLieOperator, PromotionResult, _rank
from ._polish import _candidate_ranks, _polish

__all__: list[str] = []

#: ADMM residuals at which the certified low-rank polish is first tried (SCS's default accuracy).
_POLISH_START = 1e-4


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
