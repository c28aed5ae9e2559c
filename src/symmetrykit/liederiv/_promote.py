"""Promote: the nuclear norm of ``ξ ↦ L_ξ F_W`` as a convex symmetry-promoting objective.

For a linear-in-parameter model ``F_W(x) = W φ(x)`` the matrix ``M_F(W)`` (rows: points and
outputs, columns: generators; :meth:`LieTensor.generator_matrix`) is linear in ``W``, so its
nuclear norm is convex in ``W``; its rank is ``dim 𝔤 − dim sym(F_W)``. Two programs:

* :func:`promote_interpolation` — ``min ‖M_F(W)‖_*  s.t.  Φ W = Y`` (exact data; the "recovery
  dimension" experiments of Otto et al.);
* :func:`promote_penalized` — ``min ‖ΦW − Y‖²/n + γ ‖M_F(W)‖_* + α ‖W‖₁`` (noisy data);

and the estimator :class:`PromotedRegressor` built on them. Both programs are solved by our own
ADMM (``solver="admm"``, :mod:`._interpolation` and :mod:`._admm`) on a row-compressed problem
(:mod:`._compress`), with a reference through cvxpy (``solver="cvxpy"``, SCS by default,
:mod:`._cvxpy`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .._validation import Boolean, Integer, Options, Real, Whatever, as_samples
from ..lie import LieAlgebra
from ..runs import to_jsonable
from ._admm import _penalized_admm
from ._checks import (
    NUMPY_RANDOM_STATE,
    OUTPUT_ALGEBRA,
    _as_targets,
    _check_nonnegative,
    _check_positive,
)
from ._compress import CompressedLieOperator, PromotionResult, _as_operator
from ._cvxpy import _solve_cvxpy
from ._dictionary import PolynomialDictionary, n_monomials
from ._discover import _orthonormal_pairs
from ._interpolation import _interpolation_admm
from ._operators import LieTensor, lie_tensor
from ._regression import _DictionaryRegressor

__all__ = ["PromotedRegressor", "promote_interpolation", "promote_penalized"]

SOLVERS = ("admm", "cvxpy")


def _check_problem(
    features: Any, targets: Any, tensor: Any, solver: str, tol: Any, max_iter: Any, rho: Any
) -> tuple[np.ndarray, np.ndarray, CompressedLieOperator]:
    # Monomials of the data: float64 solvers, so only finiteness matters, not float32 range.
    phi = as_samples(features, name="features", check_scale=False)
    y, _ = _as_targets(targets, phi.shape[0], name="targets")
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
    """Most symmetric interpolant: ``min_W ‖M_F(W)‖_*`` subject to ``Φ W = Y``.

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
        return _solve_cvxpy(phi, y, operator, start, cvxpy_solver, cvxpy_options or {})
    return _interpolation_admm(phi, y, operator, start, tol=tol, max_iter=max_iter, rho=rho,
                               alpha=over_relaxation, polish=polish)


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
        return _solve_cvxpy(phi, y, operator, start, cvxpy_solver, cvxpy_options or {},
                            gamma=float(gamma), alpha=float(alpha_l1))
    return _penalized_admm(phi, y, operator, start, gamma=float(gamma),
                           alpha=float(alpha_l1), tol=tol, max_iter=max_iter, rho=rho)


def _lowers_degree(algebra: LieAlgebra, output_algebra: Any) -> bool:
    """Whether every Lie derivative lowers the polynomial degree: constant fields (pure
    translations) and a zero output action (invariance)."""
    if np.any(algebra.linear_parts != 0):
        return False  # linear parts keep the degree; "tangent" outputs are these parts too
    if isinstance(output_algebra, LieAlgebra):
        return not np.any(output_algebra.generators != 0)
    return True


class PromotedRegressor(_DictionaryRegressor):
    """Polynomial regression that promotes symmetry: the nuclear-norm Lie penalty of Otto et al.

    Fits ``F_W(x) = W φ(x)`` (``φ`` all monomials of degree ≤ ``degree``) by

    * ``gamma=None``: the most symmetric interpolant, ``min ‖M_F(W)‖_* s.t. F_W(x_s) = y_s``
      (:func:`promote_interpolation`; for exact data), or
    * ``gamma ≥ 0``: ``min ‖ΦWᵀ − Y‖²/n + γ‖M_F(W)‖_* + α‖W‖₁`` (:func:`promote_penalized`).

    ``M_F(W)`` is the Lie-derivative matrix on ``n_points`` points drawn uniformly in the
    training data's bounding box. The fitted model has an exact :meth:`lie_derivative`, so
    ``symmetrykit.liederiv.discover(model, X, algebra)`` reads off the symmetries it acquired
    ("promote, then discover"). ``save(path)`` writes the fitted model to a run directory;
    ``symmetrykit.load(path)`` reads it back.

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

    _algebra_attributes: ClassVar[tuple[str, ...]] = ("algebra_", "output_algebra_")
    _derived_attributes: ClassVar[tuple[str, ...]] = ("lie_tensor_",)

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "degree": [Integer(1)],
        # Required by fit (refused there with an example): None is only the unset default.
        "algebra": [Whatever(lambda value: isinstance(value, LieAlgebra), "a LieAlgebra"),
                    None],
        "output_algebra": OUTPUT_ALGEBRA,
        "gamma": [Real(0), None],
        "alpha_l1": [Real(0)],
        "solver": [Options(SOLVERS)],
        "n_points": [Integer(1), None],
        "normalize": [Boolean()],
        "random_state": NUMPY_RANDOM_STATE,
        "solver_options": [Whatever(lambda value: isinstance(value, Mapping),
                                    "a dict of solver keywords"), None],
    }

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
        self._store_params(locals())

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
            count = int(self.n_points)
        rng = np.random.default_rng(self.random_state)
        low, high = X.min(axis=0), X.max(axis=0)
        return low + (high - low) * rng.random((count, n))

    # -------------------------------------------------------------- fit
    def _fit(self, X: Any, y: Any) -> None:
        if self.gamma is None and self.alpha_l1:
            raise ValueError("PromotedRegressor: alpha_l1 needs the penalised program: set "
                             "gamma (e.g. 0.0)")
        X = as_samples(X, owner=self._name())
        targets, one_d = _as_targets(y, X.shape[0], owner=self._name())
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
        self._y_is_1d = one_d

    # -------------------------------------------------------------- saved form
    def _custom_attributes(self) -> tuple[str, ...]:
        return (*super()._custom_attributes(), "result_")

    def _save_extra(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        info, arrays = super()._save_extra()
        result = self.result_
        info["result"] = to_jsonable({
            "objective": result.objective,
            "iterations": result.iterations,
            "converged": result.converged,
            "solve_time": result.solve_time,
            "solver": result.solver,
            "constraint_residual": result.constraint_residual,
            "duality_gap": result.duality_gap,
            "polished": result.polished,
            "details": result.details,
        })
        arrays["result.singular_values"] = np.asarray(result.singular_values)
        return info, arrays

    def _load_extra(self, info: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        super()._load_extra(info, arrays)
        saved = info["result"]

        def number(key: str) -> float:  # non-finite numbers are saved as null
            return float("nan") if saved[key] is None else float(saved[key])

        self.result_ = PromotionResult(
            coef=self.coef_,
            objective=number("objective"),
            iterations=int(saved["iterations"]),
            converged=bool(saved["converged"]),
            solve_time=number("solve_time"),
            solver=str(saved["solver"]),
            singular_values=arrays["result.singular_values"],
            constraint_residual=number("constraint_residual"),
            duality_gap=number("duality_gap"),
            polished=bool(saved["polished"]),
            details=dict(saved["details"]),
        )

    def _after_load(self) -> None:
        self.lie_tensor_ = lie_tensor(self.dictionary_, self.lie_points_, self.algebra_,
                                      self.output_algebra_, n_outputs=self.n_outputs_)
