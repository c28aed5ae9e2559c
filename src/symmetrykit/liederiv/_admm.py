"""ADMM for the promotion programs: the shared loop of the interpolation program (on the
compressed, constraint-free form) and the whole penalised program.

Both split the nuclear norm off with ``Z = QᵀM_F(W)`` and alternate a linear step with
singular-value soft-thresholding, the proximal map of the nuclear norm (Boyd et al. 2011).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg import lapack as _lapack

from ._compress import CompressedLieOperator, PromotionResult, _penalized_objective

__all__: list[str] = []


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
