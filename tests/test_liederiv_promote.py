"""Promotion: nuclear-norm Lie penalties for polynomial models (Otto et al. 2023: promoting
symmetry, and the recovery-dimension experiments)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symmetrykit as sk
from symmetrykit.liederiv import (
    CompressedLieOperator,
    PolynomialDictionary,
    PromotedRegressor,
    compress_lie_tensor,
    discover,
    lie_derivative,
    lie_tensor,
    promote_interpolation,
    promote_penalized,
)


def ortho_problem(m: int, degree: int, n: int, seed: int):
    """``F(x) = φ(uᵀx)``: a polynomial invariant under the translations orthogonal to ``u``."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=m)
    u /= np.linalg.norm(u)
    weights = rng.uniform(0.2, 1.0, size=degree + 1)

    def target(x: np.ndarray) -> np.ndarray:
        return np.polyval(weights, x @ u)

    library = PolynomialDictionary(m, degree)
    # Exact monomial coefficients: F lies in the dictionary's span; many points make them unique.
    dense = rng.uniform(-1.0, 1.0, size=(4 * library.n_terms, m))
    coef, *_ = np.linalg.lstsq(library.transform(dense), target(dense), rcond=None)
    X = rng.uniform(-1.0, 1.0, size=(n, m))
    points = rng.uniform(-1.0, 1.0, size=(m + 2, m))  # #monomials(degree − 1 = 1) + 1
    tensor = lie_tensor(library, points, sk.lie.translations(m))
    return library, coef, X, target(X), tensor, u


def relative_error(estimate: np.ndarray, truth: np.ndarray) -> float:
    return float(np.max(np.abs(estimate - truth)) / np.max(np.abs(truth)))


# ------------------------------------------------------------------------------ reference solver
def test_interpolation_matches_cvxpy() -> None:
    pytest.importorskip("cvxpy")
    library, _, X, y, tensor, _ = ortho_problem(4, 2, 9, seed=3)
    phi = library.transform(X)
    ours = promote_interpolation(phi, y, tensor, tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # solver chatter is not what is tested
        reference = promote_interpolation(phi, y, tensor, solver="cvxpy",
                                          cvxpy_solver="CLARABEL")
    assert reference.solver == "cvxpy:CLARABEL" and reference.converged
    assert ours.constraint_residual < 1e-10
    assert reference.constraint_residual < 1e-7
    assert ours.objective == pytest.approx(reference.objective, rel=1e-6)
    # The objective is ‖M_F(W)‖_* of the uncompressed Lie matrix.
    direct = np.linalg.svd(tensor.generator_matrix(ours.coef), compute_uv=False).sum()
    assert ours.objective == pytest.approx(direct, rel=1e-12)
    np.testing.assert_allclose(ours.coef, reference.coef, atol=1e-5)


@pytest.mark.parametrize(("gamma", "alpha"), [(0.05, 0.0), (0.05, 1e-3), (0.0, 1e-2)])
def test_penalized_matches_cvxpy(gamma: float, alpha: float) -> None:
    pytest.importorskip("cvxpy")
    library, _, X, y, tensor, _ = ortho_problem(3, 2, 12, seed=1)
    noisy = y + 0.01 * np.random.default_rng(0).normal(size=y.shape)
    phi = library.transform(X)
    ours = promote_penalized(phi, noisy, tensor, gamma=gamma, alpha_l1=alpha, tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = promote_penalized(phi, noisy, tensor, gamma=gamma, alpha_l1=alpha,
                                      solver="cvxpy", cvxpy_solver="CLARABEL")
    assert ours.converged
    assert ours.objective == pytest.approx(reference.objective, rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(ours.coef, reference.coef, atol=1e-4)


def test_compressed_operator_keeps_singular_values() -> None:
    library, _, _, _, tensor, _ = ortho_problem(4, 2, 1, seed=0)
    operator = compress_lie_tensor(tensor)
    assert isinstance(operator, CompressedLieOperator)
    assert operator.rank <= tensor.n_points * tensor.n_outputs
    coef = np.random.default_rng(1).normal(size=(1, library.n_terms))
    full = np.linalg.svd(tensor.generator_matrix(coef), compute_uv=False)
    small = np.linalg.svd(operator.generator_matrix(coef), compute_uv=False)
    np.testing.assert_allclose(small, full[: small.size], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(full[small.size:], 0.0, atol=1e-12)


# ------------------------------------------------------------------------------ recovery
def test_promotion_recovers_symmetric_polynomial_from_few_samples() -> None:
    # m = 5, degree 2: 21 coefficients, 15 samples. The least-norm interpolant is wrong; the most
    # T(5)-symmetric interpolant is the target, and Newton's polish certifies it exactly.
    library, coef, X, y, tensor, _ = ortho_problem(5, 2, 15, seed=0)
    assert X.shape[0] < library.n_terms
    phi = library.transform(X)
    least_norm = np.linalg.pinv(phi) @ y
    assert relative_error(least_norm, coef) > 0.1
    result = promote_interpolation(phi, y, tensor)
    assert result.converged and result.polished
    assert relative_error(result.coef[0], coef) < 1e-9
    assert result.duality_gap < 1e-9
    values = result.singular_values / result.singular_values[0]
    assert int(np.sum(values < 1e-10)) == 4  # translations orthogonal to u


def test_without_polish_admm_is_accurate_to_its_tolerance() -> None:
    library, coef, X, y, tensor, _ = ortho_problem(5, 2, 15, seed=0)
    result = promote_interpolation(library.transform(X), y, tensor, polish=False, tol=1e-8)
    assert result.converged and not result.polished
    assert result.duality_gap <= 1e-8
    assert relative_error(result.coef[0], coef) < 1e-5


def test_equivariant_vector_field_with_two_samples() -> None:
    # ẋ = (1 − r²) x + J x on R²: with so(2) as the only candidate, promotion equals enforcement
    # (4 symmetric cubic fields), so 2 samples (4 equations) determine the 20 coefficients.
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, size=(2, 2))
    j = np.array([[0.0, -1.0], [1.0, 0.0]])

    def field(x: np.ndarray) -> np.ndarray:
        return (1.0 - np.sum(x**2, axis=1, keepdims=True)) * x + x @ j.T

    model = PromotedRegressor(degree=3, algebra=sk.lie.so(2), output_algebra="tangent",
                              gamma=None, random_state=0).fit(X, field(X))
    assert model.coef_.shape == (2, 10)
    test = rng.uniform(-1.0, 1.0, size=(50, 2))
    np.testing.assert_allclose(model.predict(test), field(test), atol=1e-6)


# ------------------------------------------------------------------------------ estimator
def test_promote_then_discover_finds_the_symmetry_dimension() -> None:
    _, coef, X, y, _, u = ortho_problem(5, 2, 15, seed=0)
    model = PromotedRegressor(degree=2, algebra=sk.lie.translations(5), gamma=None,
                              random_state=0).fit(X, y)
    assert model.result_.polished
    assert model.lie_points_.shape == (7, 5)  # #monomials(1, 5) + 1 for pure translations
    assert relative_error(model.coef_[0], coef) < 1e-9
    found = discover(model, X, sk.lie.translations(5))
    assert found.nullity == 4
    offsets = found.algebra.offsets  # translation directions of the discovered symmetries
    np.testing.assert_allclose(offsets @ u, 0.0, atol=1e-8)
    assert found.method == "exact"


def test_penalized_regressor_on_noisy_data_reveals_symmetry() -> None:
    library, coef, X, y, _, u = ortho_problem(4, 2, 40, seed=2)
    noisy = y + 1e-3 * np.random.default_rng(5).normal(size=y.shape)
    algebra = sk.lie.translations(4)
    model = PromotedRegressor(degree=2, algebra=algebra, gamma=1e-3, random_state=0)
    model.fit(X, noisy)
    assert model.result_.converged
    assert relative_error(model.coef_[0], coef) < 0.02
    found = discover(model, X, algebra, gap_ratio=1e4)
    assert found.nullity == 3
    assert found.singular_values[2] < 1e-5
    np.testing.assert_allclose(found.algebra.offsets @ u, 0.0, atol=2e-3)
    # Plain least squares (gamma = 0) leaves the symmetry-breaking part at the noise level.
    plain = PromotedRegressor(degree=2, algebra=algebra, gamma=0.0, random_state=0).fit(X, noisy)
    assert discover(plain, X, algebra).singular_values[2] > 1e-4
    assert discover(plain, X, algebra, gap_ratio=1e4).nullity == 0


def test_penalized_stops_at_an_exactly_symmetric_fit() -> None:
    # ‖x‖² is so(3)-invariant and in the dictionary: the fit and the penalty are both zero at the
    # least-squares solution, and the solver must recognise it (absolute stopping floors).
    X = np.random.default_rng(0).uniform(-1, 1, size=(40, 3))
    y = np.sum(X**2, axis=1)
    for gamma in (0.0, 1e-2, 1.0):
        model = PromotedRegressor(degree=2, algebra=sk.lie.so(3), gamma=gamma,
                                  random_state=0).fit(X, y)
        assert model.result_.converged and model.result_.iterations < 10
        np.testing.assert_allclose(model.predict(X), y, atol=1e-10)


def test_lie_derivative_is_exact_and_shaped() -> None:
    _, _, X, y, _, _ = ortho_problem(3, 2, 10, seed=4)
    model = PromotedRegressor(degree=2, algebra=sk.lie.se(3), gamma=None,
                              random_state=1).fit(X, y)
    # se(3) acts affinely: the Lie derivatives keep the degree, so #monomials(2, 3) + 1 points.
    assert model.lie_points_.shape == (11, 3)
    points = np.random.default_rng(2).uniform(-1, 1, size=(6, 3))
    exact = model.lie_derivative(points, sk.lie.gl(3))
    assert exact.shape == (9, 6, 1)
    numeric = lie_derivative(lambda x: model.predict(x), points, sk.lie.gl(3),
                             method="finite-difference")
    np.testing.assert_allclose(exact, numeric, atol=1e-7)
    assert model.predict(points).shape == (6,)


def test_multi_output_interpolation() -> None:
    library, _, X, y, _, _ = ortho_problem(3, 2, 8, seed=6)
    targets = np.stack([y, 2.0 * y - 1.0], axis=1)
    points = np.random.default_rng(0).uniform(-1, 1, size=(5, 3))
    tensor = lie_tensor(library, points, sk.lie.translations(3), n_outputs=2)
    result = promote_interpolation(library.transform(X), targets, tensor)
    assert result.coef.shape == (2, library.n_terms)
    assert result.constraint_residual < 1e-10
    operator = compress_lie_tensor(tensor)
    again = promote_interpolation(library.transform(X), targets, operator)
    np.testing.assert_allclose(again.coef, result.coef, atol=1e-12)


# ------------------------------------------------------------------------------ bad input
def test_bad_input_is_rejected() -> None:
    library, _, X, y, tensor, _ = ortho_problem(3, 2, 6, seed=0)
    phi = library.transform(X)
    with pytest.raises(ValueError, match="rows"):
        promote_interpolation(phi, y[:-1], tensor)
    with pytest.raises(ValueError, match="columns"):
        promote_interpolation(phi[:, :-1], y, tensor)
    with pytest.raises(ValueError, match="outputs"):
        promote_interpolation(phi, np.stack([y, y], axis=1), tensor)
    with pytest.raises(ValueError, match="LieTensor"):
        promote_interpolation(phi, y, tensor.array)
    with pytest.raises(ValueError, match="solver"):
        promote_interpolation(phi, y, tensor, solver="mosek")
    with pytest.raises(ValueError, match="tol"):
        promote_interpolation(phi, y, tensor, tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        promote_interpolation(phi, y, tensor, max_iter=2.5)
    with pytest.raises(ValueError, match="over_relaxation"):
        promote_interpolation(phi, y, tensor, over_relaxation=2.0)
    with pytest.raises(ValueError, match="NaN"):
        promote_interpolation(phi, np.full_like(y, np.nan), tensor)
    with pytest.raises(ValueError, match="gamma"):
        promote_penalized(phi, y, tensor, gamma=-1.0)
    with pytest.raises(ValueError, match="alpha_l1"):
        promote_penalized(phi, y, tensor, gamma=0.1, alpha_l1=-1.0)


def test_estimator_rejects_bad_configuration() -> None:
    X = np.random.default_rng(0).uniform(-1, 1, size=(8, 3))
    y = X[:, 0]
    with pytest.raises(ValueError, match="LieAlgebra"):
        PromotedRegressor().fit(X, y)
    with pytest.raises(ValueError, match="acts on"):
        PromotedRegressor(algebra=sk.lie.translations(2)).fit(X, y)
    with pytest.raises(ValueError, match="alpha_l1"):
        PromotedRegressor(algebra=sk.lie.translations(3), gamma=None, alpha_l1=0.1).fit(X, y)
    with pytest.raises(ValueError, match="tangent"):
        PromotedRegressor(algebra=sk.lie.so(3), output_algebra="tangent").fit(X, y)
    with pytest.raises(ValueError, match="paired"):
        PromotedRegressor(algebra=sk.lie.so(3), output_algebra=sk.lie.so(2)).fit(X, y)
    with pytest.raises(ValueError, match="n_points"):
        PromotedRegressor(algebra=sk.lie.translations(3), n_points=0).fit(X, y)
    with pytest.raises(ValueError, match="y must have shape"):
        PromotedRegressor(algebra=sk.lie.translations(3)).fit(X, y[:-1])
    with pytest.raises(ValueError, match="not fitted"):
        PromotedRegressor(algebra=sk.lie.translations(3)).predict(X)


@pytest.mark.slow
def test_recovery_benchmark_quick_smoke(tmp_path) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "otto_recovery.py"
    out = tmp_path / "quick.json"
    done = subprocess.run(
        [sys.executable, str(script), "--quick", "--no-compare", "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(out.read_text())["summary"]
    assert [(s["d"], s["m"], s["r"]) for s in summary] == [(2, 5, 1), (2, 5, 2)]
    assert all(1 <= s["median"] <= s["n_lib"] + 1 for s in summary)
