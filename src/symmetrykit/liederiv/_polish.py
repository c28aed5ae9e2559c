"""The certified polish of ADMM's answer to the interpolation program.

ADMM gets the low-rank structure of a nuclear-norm minimiser only slowly (its trailing singular
values decay but do not vanish). At a candidate rank, Newton's method on the optimality conditions
refines the iterate to an exactly rank-deficient interpolant, and a dual point certifies its
duality gap; an uncertified point is never returned (:mod:`._interpolation` then lets ADMM go on).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._admm import _AdmmState, _duality_gap, _norm
from ._compress import _rank

__all__: list[str] = []


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
