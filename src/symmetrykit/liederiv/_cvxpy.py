"""The reference solver of the promotion programs: the same compressed conic programs in cvxpy.

cvxpy is optional (``pip install 'symmetrykit[cvx]'``); it is imported only when asked for.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ._compress import CompressedLieOperator, PromotionResult, _penalized_objective

__all__: list[str] = []


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


def _solve_cvxpy(phi: np.ndarray, y: np.ndarray, operator: CompressedLieOperator, start: float,
                 name: str, options: dict, *, gamma: float | None = None,
                 alpha: float = 0.0) -> PromotionResult:
    """The interpolation program (``gamma=None``) or the penalised one through cvxpy."""
    cp = _import_cvxpy()
    w = cp.Variable((y.shape[1], phi.shape[1]))
    if gamma is None:
        problem = cp.Problem(cp.Minimize(_cvxpy_nuclear(cp, operator, w)), [phi @ w.T == y])
    else:
        objective = cp.sum_squares(phi @ w.T - y) / phi.shape[0]
        if gamma > 0:
            objective = objective + gamma * _cvxpy_nuclear(cp, operator, w)
        if alpha > 0:
            objective = objective + alpha * cp.sum(cp.abs(w))
        problem = cp.Problem(cp.Minimize(objective))
    problem.solve(solver=name, **options)
    coef = _cvxpy_coef(problem, w, name)
    if gamma is None:
        values = np.linalg.svd(operator.generator_matrix(coef), compute_uv=False)
        return _cvxpy_result(problem, coef, values, float(values.sum()), start, name,
                             residual=float(np.max(np.abs(phi @ coef.T - y))))
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
