"""pysindy interop: exported symmetry constraints and symmetries of identified SINDy models."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import PolynomialFeatures

import symmetrykit as sk
from symmetrykit.liederiv import PolynomialDictionary, lie_tensor
from symmetrykit.liederiv._enforce import symmetric_basis
from symmetrykit.liederiv._sindy import (
    sindy_constraints,
    sindy_dictionary_model,
    sindy_symmetries,
)

ps = pytest.importorskip("pysindy", minversion="2")

J = np.array([[0.0, -1.0], [1.0, 0.0]])
REFLECTION = np.diag([1.0, -1.0])


def spiral(X: np.ndarray) -> np.ndarray:
    r2 = (X**2).sum(axis=1, keepdims=True)
    return (1 - r2) * X + 0.5 * X @ J.T


def spiral_data(seed: int, n_samples: int = 200, sigma: float = 0.0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    return X, spiral(X) + sigma * rng.normal(size=X.shape)


def fitted_library(**kwargs):
    library = ps.PolynomialLibrary(degree=3, **kwargs)
    library.fit([np.zeros((4, 2))])
    return library


def test_exported_constraints_match_the_symmetric_basis():
    lhs, rhs = sindy_constraints(fitted_library(), sk.lie.so(2), order="target", random_state=0)
    assert lhs.shape == (16, 20) and rhs.shape == (16,)
    assert np.allclose(lhs @ lhs.T, np.eye(16), atol=1e-12)
    # pysindy's PolynomialLibrary uses our monomial order, so the nullspaces coincide.
    points = np.random.default_rng(1).uniform(-1, 1, size=(20, 2))
    Q = symmetric_basis(lie_tensor(PolynomialDictionary(2, 3), points, sk.lie.so(2), "tangent"))
    assert np.max(np.abs(lhs @ Q)) < 1e-10
    model = ps.SINDy(optimizer=ps.STLSQ(threshold=0.05), feature_library=ps.PolynomialLibrary(3))
    X, Y = spiral_data(0)
    model.fit(X, t=0.01, x_dot=Y)
    assert np.max(np.abs(lhs @ model.coefficients().reshape(-1))) < 1e-10
    by_feature, _ = sindy_constraints(fitted_library(), sk.lie.so(2), random_state=0)
    assert np.max(np.abs(by_feature @ model.coefficients().T.reshape(-1))) < 1e-10
    assert (
        np.max(np.abs(by_feature @ Q.reshape(2, 10, 4).transpose(1, 0, 2).reshape(20, 4))) < 1e-10
    )


def test_library_layouts_and_discrete_elements():
    unfitted = ps.PolynomialLibrary(degree=3, include_bias=False)
    lhs, _ = sindy_constraints(unfitted, sk.lie.so(2), n_features=2, random_state=0)
    assert lhs.shape == (14, 18)  # the 4 symmetric fields use no constant
    o2, _ = sindy_constraints(
        fitted_library(), sk.lie.so(2), discrete=[(REFLECTION, "tangent")], random_state=0
    )
    assert o2.shape == (18, 20)
    invariant, _ = sindy_constraints(fitted_library(), sk.lie.so(2), None, n_targets=1)
    assert invariant.shape == (10 - 2, 10)  # 1 and |x|²
    sklearn_lhs, _ = sindy_constraints(
        PolynomialFeatures(3), sk.lie.so(2), n_features=2, random_state=0
    )
    assert sklearn_lhs.shape == (16, 20)


def test_constrained_sr3_gives_a_symmetric_model():
    X, Y = spiral_data(2, n_samples=100, sigma=0.01)
    lhs, rhs = sindy_constraints(fitted_library(), sk.lie.so(2), random_state=0)
    optimizer = ps.ConstrainedSR3(
        constraint_lhs=lhs,
        constraint_rhs=rhs,
        constraint_order="feature",
        equality_constraints=True,
        reg_weight_lam=1e-4,
        regularizer="l1",
        max_iter=200,
        tol=1e-10,
    )
    model = ps.SINDy(optimizer=optimizer, feature_library=ps.PolynomialLibrary(degree=3))
    model.fit(X, t=0.01, x_dot=Y)
    assert np.max(np.abs(lhs @ optimizer.coef_full_.T.reshape(-1))) < 1e-12
    full = sindy_dictionary_model(model, coefficients="full")
    test_points = np.random.default_rng(3).uniform(-1, 1, size=(300, 2))
    lie = full.lie_derivative(test_points, sk.lie.so(2), "tangent")
    assert np.max(np.abs(lie)) / np.max(np.abs(full.predict(test_points))) < 1e-8
    assert np.sqrt(np.mean((full.predict(test_points) - spiral(test_points)) ** 2)) < 0.01
    found = sindy_symmetries(model, test_points, sk.lie.gl(2), coefficients="full", n_symmetries=1)
    assert found.singular_values[0] < 1e-10
    assert np.max(sk.algebra_distance(found.algebra, sk.lie.so(2))) < 1e-6


def test_symmetries_of_an_identified_model():
    X, Y = spiral_data(4)
    model = ps.SINDy(optimizer=ps.STLSQ(threshold=0.05), feature_library=ps.PolynomialLibrary(3))
    model.fit(X, t=0.01, x_dot=Y)
    found = sindy_symmetries(model, X, sk.lie.gl(2))
    assert found.nullity == 1
    assert np.max(sk.algebra_distance(found.algebra, sk.lie.so(2))) < 1e-6
    noisy_X, noisy_Y = spiral_data(5, sigma=0.01)
    noisy = ps.SINDy(optimizer=ps.STLSQ(threshold=0.05), feature_library=ps.PolynomialLibrary(3))
    noisy.fit(noisy_X, t=0.01, x_dot=noisy_Y)
    found = sindy_symmetries(noisy, noisy_X, sk.lie.gl(2), rtol=None, gap_ratio=10)
    assert found.nullity == 1
    assert np.max(sk.algebra_distance(found.algebra, sk.lie.so(2))) < 0.05


def test_bad_inputs():
    with pytest.raises(ValueError, match="powers_"):
        sindy_constraints(ps.FourierLibrary(), sk.lie.so(2), n_features=2)
    with pytest.raises(ValueError, match="not fitted"):
        sindy_constraints(ps.PolynomialLibrary(3), sk.lie.so(2))
    with pytest.raises(ValueError, match="n_features"):
        sindy_constraints(fitted_library(), sk.lie.so(2), n_features=3)
    with pytest.raises(ValueError, match="algebra"):
        sindy_constraints(fitted_library(), None)
    with pytest.raises(ValueError, match="n_targets"):
        sindy_constraints(fitted_library(), sk.lie.so(2), sk.lie.so(2), n_targets=3)
    with pytest.raises(ValueError, match="rtol"):
        sindy_constraints(fitted_library(), sk.lie.so(2), rtol=0)
    with pytest.raises(ValueError, match="SINDy"):
        sindy_dictionary_model(object())
    with pytest.raises(ValueError, match="coefficients"):
        sindy_dictionary_model(object(), coefficients="dense")
    with pytest.raises(ValueError, match="order"):
        sindy_constraints(fitted_library(), sk.lie.so(2), order="C")
    model = ps.SINDy(feature_library=ps.PolynomialLibrary(3))
    X, Y = spiral_data(6)
    model.fit(X, t=0.01, x_dot=Y)
    with pytest.raises(ValueError, match="coef_full_"):
        sindy_dictionary_model(model, coefficients="full")
