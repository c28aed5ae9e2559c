"""Enforce: symmetric bases (Lie + discrete), the equivariant regressor and equivariant layer."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import symmetrykit as sk
from symmetrykit.liederiv import PolynomialDictionary, discover, lie_tensor
from symmetrykit.liederiv._enforce import (
    EquivariantLinear,
    EquivariantRegressor,
    discrete_constraints,
    symmetric_basis,
)

J = np.array([[0.0, -1.0], [1.0, 0.0]])
REFLECTION = np.diag([1.0, -1.0])
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "enforce_so2_vector_field.py"


def spiral(X: np.ndarray) -> np.ndarray:
    """``ẋ = (1 − |x|²) x + ½ J x``: SO(2)-equivariant, not O(2)-equivariant."""
    r2 = (X**2).sum(axis=1, keepdims=True)
    return (1 - r2) * X + 0.5 * X @ J.T


def cube_points(n_points: int, dim: int, seed: int, half_width: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-half_width, half_width, size=(n_points, dim))


def coefficient_vectors(dictionary: PolynomialDictionary, fields: list, dim: int) -> np.ndarray:
    """Row-major ``vec(W)`` of models ``W φ`` that reproduce each field exactly."""
    X = cube_points(200, dim, seed=99)
    features = dictionary.transform(X)
    columns = []
    for field in fields:
        coef, *_ = np.linalg.lstsq(features, field(X), rcond=None)
        assert np.allclose(features @ coef, field(X), atol=1e-12)
        columns.append(coef.T.reshape(-1))
    return np.stack(columns, axis=1)


def so3_pairs_gl3() -> tuple[sk.LieAlgebra, sk.LieAlgebra]:
    """gl(3) acting on both 3-vectors of R³⊕R³, paired with gl(3) on R³."""
    units = sk.lie.gl(3).generators
    return (
        sk.LieAlgebra(np.stack([np.kron(np.eye(2), e) for e in units]), name="gl(3)^2"),
        sk.lie.gl(3),
    )


def vector_products(X: np.ndarray) -> np.ndarray:
    """``x + 2y + x × y`` for ``(x, y) ∈ R³⊕R³``: exactly SO(3)-equivariant inside GL(3)."""
    x, y = X[:, :3], X[:, 3:]
    return x + 2 * y + np.cross(x, y)


# ---------------------------------------------------------------------------- bases
class TestSymmetricBasis:
    def test_so2_equivariant_cubic_vector_fields_are_four_dimensional(self):
        lib = PolynomialDictionary(2, 3)
        T = lie_tensor(lib, cube_points(20, 2, seed=0), sk.lie.so(2), "tangent")
        Q = symmetric_basis(T)
        assert Q.shape == (20, 4)
        assert np.allclose(Q.T @ Q, np.eye(4), atol=1e-12)
        r2 = lambda X: (X**2).sum(axis=1, keepdims=True)  # noqa: E731
        expected = coefficient_vectors(
            lib,
            [lambda X: X, lambda X: X @ J.T, lambda X: r2(X) * X, lambda X: r2(X) * X @ J.T],
            2,
        )
        assert np.max(scipy.linalg.subspace_angles(Q, expected)) < 1e-10

    def test_so3_equivariant_linear_maps_of_two_vectors_are_two_dimensional(self):
        so3 = sk.lie.so(3)
        lib = PolynomialDictionary(6, 1)
        T = lie_tensor(lib, cube_points(12, 6, seed=1), so3.repeated(2), so3)
        assert symmetric_basis(T).shape[1] == 2  # x ↦ α x + β y; no constant vector survives

    def test_reflection_halves_the_so2_fields(self):
        lib = PolynomialDictionary(2, 3)
        X = cube_points(20, 2, seed=2)
        T = lie_tensor(lib, X, sk.lie.so(2), "tangent")
        C = discrete_constraints(lib, X, [(REFLECTION, "tangent")], n_outputs=2)
        Q = symmetric_basis(T, discrete=C)
        assert symmetric_basis(T).shape[1] == 4
        assert Q.shape[1] == 2  # O(2): the J x terms are odd under the reflection
        expected = coefficient_vectors(
            lib, [lambda X: X, lambda X: (X**2).sum(axis=1, keepdims=True) * X], 2
        )
        assert np.max(scipy.linalg.subspace_angles(Q, expected)) < 1e-10

    def test_o3_excludes_the_cross_product(self):
        so3 = sk.lie.so(3)
        lib = PolynomialDictionary(6, 2)
        X = cube_points(40, 6, seed=3)
        T = lie_tensor(lib, X, so3.repeated(2), so3)
        inversion = [(-np.eye(6), -np.eye(3))]
        C = discrete_constraints(lib, X, inversion, n_outputs=3)
        assert symmetric_basis(T).shape[1] == 3  # x, y, x × y
        assert symmetric_basis(T, discrete=C).shape[1] == 2  # x × y is a pseudovector

    def test_finite_group_alone(self):
        lib = PolynomialDictionary(2, 4)
        X = cube_points(25, 2, seed=4)
        quarter_turn = [(J, None)]
        C4 = symmetric_basis(None, discrete=discrete_constraints(lib, X, quarter_turn))
        SO2 = symmetric_basis(lie_tensor(lib, X, sk.lie.so(2)))
        # C4 invariants: 1, r², x⁴ + y⁴, x²y², x³y − xy³; SO(2): 1, r², r⁴.
        assert C4.shape[1] == 5
        assert SO2.shape[1] == 3
        assert np.max(scipy.linalg.subspace_angles(C4, SO2)) < 1e-10  # SO(2) ⊂ C4-invariants

    def test_discrete_affine_translation(self):
        lib = PolynomialDictionary(1, 3)
        X = cube_points(6, 1, seed=5)
        unit_shift = np.array([[1.0, 1.0], [0.0, 1.0]])  # x ↦ x + 1, homogeneous coordinates
        Q = symmetric_basis(None, discrete=discrete_constraints(lib, X, [(unit_shift, None)]))
        assert Q.shape == (4, 1)
        assert np.allclose(np.abs(Q[:, 0]), [1, 0, 0, 0])

    def test_constraint_blocks_of_different_scales(self):
        lib = PolynomialDictionary(2, 3)
        X = cube_points(20, 2, seed=6)
        T = lie_tensor(lib, X, sk.lie.so(2), "tangent")
        C = discrete_constraints(lib, X, [(REFLECTION, "tangent")], n_outputs=2)
        for factor in (1e-6, 1.0, 1e6):
            assert symmetric_basis(T, discrete=[factor * C]).shape[1] == 2

    def test_backward_compatible_call_and_empty_nullspace(self):
        lib = PolynomialDictionary(2, 2)
        T = lie_tensor(lib, cube_points(10, 2, seed=7), sk.lie.gl(2), "tangent")
        assert symmetric_basis(T, rtol=1e-8).shape[0] == 12
        # gl(2)-equivariant quadratic fields: only multiples of x (Schur; scalings kill the rest).
        assert symmetric_basis(T).shape[1] == 1
        unit_shift = np.array([[1.0, 1.0], [0.0, 1.0]])
        lib1 = PolynomialDictionary(1, 2)
        X1 = cube_points(5, 1, seed=8)
        C = discrete_constraints(lib1, X1, [(unit_shift, None)])
        T1 = lie_tensor(lib1, X1, sk.lie.scaling(1))
        # Invariant under scalings and under x ↦ x + 1: the constants; odd as well: nothing.
        assert symmetric_basis(T1, discrete=C).shape[1] == 1
        odd = discrete_constraints(lib1, X1, [(-np.eye(1), -np.eye(1))])
        assert symmetric_basis(T1, discrete=[C, odd]).shape[1] == 0

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"rtol": 0.0}, "rtol"),
            ({"rtol": 1.5}, "rtol"),
            ({"discrete": np.zeros((3, 7))}, "columns"),
            ({"discrete": np.zeros(20)}, "2-D"),
            ({"discrete": "reflection"}, "discrete"),
        ],
    )
    def test_bad_arguments(self, kwargs, match):
        T = lie_tensor(PolynomialDictionary(2, 3), cube_points(20, 2, 0), sk.lie.so(2), "tangent")
        with pytest.raises(ValueError, match=match):
            symmetric_basis(T, **kwargs)

    def test_bad_tensor(self):
        with pytest.raises(ValueError, match="needs a Lie tensor"):
            symmetric_basis(None)
        with pytest.raises(ValueError, match="LieTensor"):
            symmetric_basis(np.zeros((3, 3)))
        with pytest.raises(ValueError, match="different widths"):
            symmetric_basis(None, discrete=[np.zeros((2, 3)), np.zeros((2, 4))])

    @pytest.mark.parametrize(
        "elements, n_outputs, match",
        [
            ([(np.eye(4), None)], 1, "elements\\[0\\]\\[0\\]"),
            ([(np.eye(2), np.eye(3))], 2, "shape \\(2, 2\\)"),
            ([(np.eye(2), "tangent")], 1, "tangent"),
            ([(np.eye(2), "mirror")], 2, "tangent"),
            ([np.eye(2)], 1, "pair"),
            ([], 1, "empty"),
            (np.eye(2), 1, "pairs"),
            ([(np.eye(2), None)], 0, "n_outputs"),
            ([(np.array([[1.0, 0, 1], [0, 1, 0], [1, 0, 1]]), None)], 1, "last row"),
        ],
    )
    def test_bad_elements(self, elements, n_outputs, match):
        lib = PolynomialDictionary(2, 2)
        with pytest.raises(ValueError, match=match):
            discrete_constraints(lib, cube_points(8, 2, 0), elements, n_outputs)

    def test_bad_dictionary_and_points(self):
        with pytest.raises(ValueError, match="PolynomialDictionary"):
            discrete_constraints("x", cube_points(8, 2, 0), [(np.eye(2), None)])
        with pytest.raises(ValueError, match="features"):
            discrete_constraints(PolynomialDictionary(2, 2), cube_points(8, 3, 0), [(J, None)])


# ---------------------------------------------------------------------------- regressor
def noisy_spiral(seed: int, n_train: int = 15, sigma: float = 0.01):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_train, 2))
    Y = spiral(X) + sigma * rng.normal(size=X.shape)
    X_test = rng.uniform(-1.0, 1.0, size=(2000, 2))
    return X, Y, X_test, spiral(X_test)


def rmse(model, X, Y) -> float:
    return float(np.sqrt(np.mean((model.predict(X) - Y) ** 2)))


def relative_lie_residual(model, X, algebra, output_algebra) -> float:
    L = model.lie_derivative(X, algebra, output_algebra)
    return float(np.max(np.abs(L)) / np.max(np.abs(model.predict(X))))


class TestEquivariantRegressor:
    def test_projected_least_squares_beats_plain_least_squares(self):
        for seed in range(5):
            X, Y, X_test, Y_test = noisy_spiral(seed)
            enforced = EquivariantRegressor(3, sk.lie.so(2), "tangent", random_state=0).fit(X, Y)
            plain = EquivariantRegressor(3).fit(X, Y)
            assert enforced.n_free_parameters_ == 4
            assert plain.n_free_parameters_ == 20
            assert rmse(enforced, X_test, Y_test) < 0.006  # spec: 0.0031
            assert rmse(enforced, X_test, Y_test) < 0.5 * rmse(plain, X_test, Y_test)

    def test_enforced_fit_is_symmetric_on_held_out_points(self):
        X, Y, X_test, _ = noisy_spiral(0)
        model = EquivariantRegressor(3, sk.lie.so(2), "tangent", random_state=0).fit(X, Y)
        far = cube_points(500, 2, seed=11, half_width=3.0)  # beyond the data box, too
        assert relative_lie_residual(model, X_test, sk.lie.so(2), "tangent") < 1e-8
        assert relative_lie_residual(model, far, sk.lie.so(2), "tangent") < 1e-8
        plain = EquivariantRegressor(3).fit(X, Y)
        assert relative_lie_residual(plain, X_test, sk.lie.so(2), "tangent") > 1e-3

    def test_o2_fit_drops_the_rotation_and_so3_fit_is_equivariant(self):
        X, Y, X_test, _ = noisy_spiral(1)
        o2 = EquivariantRegressor(
            3, sk.lie.so(2), "tangent", discrete=[(REFLECTION, "tangent")], random_state=0
        ).fit(X, Y)
        assert o2.n_free_parameters_ == 2
        mirrored = o2.predict(X_test @ REFLECTION.T)
        assert np.allclose(mirrored, o2.predict(X_test) @ REFLECTION.T, atol=1e-12)

        so3 = sk.lie.so(3)
        X6 = cube_points(60, 6, seed=12)
        noise = 1e-3 * np.random.default_rng(13).normal(size=(60, 3))
        model = EquivariantRegressor(2, so3.repeated(2), so3, random_state=0)
        model.fit(X6, vector_products(X6) + noise)
        assert model.n_free_parameters_ == 3
        held_out = cube_points(300, 6, seed=14)
        assert relative_lie_residual(model, held_out, so3.repeated(2), so3) < 1e-8
        rotation = scipy.linalg.expm(0.7 * so3[0] - 0.3 * so3[2])
        moved = held_out @ np.kron(np.eye(2), rotation).T
        assert np.allclose(model.predict(moved), model.predict(held_out) @ rotation.T, atol=1e-10)

    def test_affine_algebra_and_rescaled_data(self):
        # Invariance under translations along x0 on data far from the origin: only functions of
        # x1 remain, and the internal power-of-two rescaling must leave that exact.
        shift_x0 = sk.LieAlgebra(sk.lie.translations(2).generators[:1], affine=True)
        rng = np.random.default_rng(15)
        X = rng.uniform([20.0, -30.0], [60.0, 10.0], size=(40, 2))
        y = 0.01 * X[:, 1] ** 3 - X[:, 1] + 3.0
        model = EquivariantRegressor(3, shift_x0, random_state=0).fit(X, y)
        assert model.n_free_parameters_ == 4  # 1, x1, x1², x1³
        assert model.predict(X).shape == (40,)
        assert np.allclose(model.predict(X), y, rtol=1e-9, atol=1e-9)
        held_out = rng.uniform(-100, 100, size=(200, 2))
        assert relative_lie_residual(model, held_out, shift_x0, None) < 1e-8
        basis = model.basis_
        assert np.allclose(basis.T @ basis, np.eye(4), atol=1e-10)
        coef = model.coef_.reshape(-1)
        assert np.allclose(basis @ (basis.T @ coef), coef, rtol=1e-9, atol=1e-12)

    def test_attributes_ridge_and_determinism(self):
        X, Y, _, _ = noisy_spiral(2)
        model = EquivariantRegressor(3, sk.lie.so(2), "tangent", random_state=3).fit(X, Y)
        again = EquivariantRegressor(3, sk.lie.so(2), "tangent", random_state=3).fit(X, Y)
        assert np.array_equal(model.coef_, again.coef_)
        assert np.array_equal(model.constraint_points_, again.constraint_points_)
        assert model.coef_.shape == (2, 10)
        assert model.basis_.shape == (20, 4)
        assert model.n_features_in_ == 2 and model.n_outputs_ == 2
        assert model.dictionary_.n_terms == 10
        assert model.constraint_points_.shape == (20, 2)  # n_monomials(2, 3) + 10
        assert np.allclose(model.dictionary_.transform(X) @ model.coef_.T, model.predict(X))
        ridge = clone(model).set_params(alpha=10.0).fit(X, Y)
        assert np.linalg.norm(ridge.coef_) < np.linalg.norm(model.coef_)
        assert relative_lie_residual(ridge, X, sk.lie.so(2), "tangent") < 1e-8
        assert model.score(X, Y) > 0.99

    def test_discover_recovers_the_enforced_algebra(self):
        X, Y, X_test, _ = noisy_spiral(3)
        model = EquivariantRegressor(3, sk.lie.so(2), "tangent", random_state=0).fit(X, Y)
        found = discover(model, X_test, sk.lie.gl(2), output_algebra="tangent")
        assert found.method == "exact"
        assert found.nullity >= 1
        assert np.max(sk.algebra_distance(found.algebra, sk.lie.so(2))) < 1e-6

        so3 = sk.lie.so(3)
        X6 = cube_points(60, 6, seed=16)
        noise = 1e-3 * np.random.default_rng(17).normal(size=(60, 3))
        model = EquivariantRegressor(2, so3.repeated(2), so3, random_state=0)
        model.fit(X6, vector_products(X6) + noise)
        gl_in, gl_out = so3_pairs_gl3()
        found = discover(model, cube_points(100, 6, seed=18), gl_in, output_algebra=gl_out)
        assert found.nullity == 3  # the cross product pins gl(3) down to so(3)
        assert np.max(sk.algebra_distance(found.output_algebra, so3)) < 1e-6
        assert np.max(sk.algebra_distance(found.algebra, so3.repeated(2))) < 1e-6

    @pytest.mark.parametrize(
        "params, match",
        [
            ({"degree": 0}, "degree"),
            ({"degree": 2.5}, "degree"),
            ({"alpha": -1.0}, "alpha"),
            ({"rtol": 2.0}, "rtol"),
            ({"n_points": 5}, "n_points"),
            ({"algebra": sk.lie.so(3)}, "acts on R\\^3"),
            ({"output_algebra": "tangent"}, "needs an algebra"),
            ({"algebra": sk.lie.so(2), "output_algebra": sk.lie.so(3)}, "output"),
            ({"algebra": sk.lie.so(2), "output_algebra": "rotate"}, "unknown output"),
            ({"discrete": [(np.eye(4), None)]}, "discrete\\[0\\]\\[0\\]"),
            ({"discrete": [(np.eye(2), np.eye(3))]}, "discrete\\[0\\]\\[1\\]"),
        ],
    )
    def test_bad_parameters(self, params, match):
        X, Y, _, _ = noisy_spiral(0)
        with pytest.raises(ValueError, match=match):
            EquivariantRegressor(**params).fit(X, Y)

    def test_bad_data(self):
        X, Y, _, _ = noisy_spiral(0)
        with pytest.raises(ValueError, match="Y must have shape"):
            EquivariantRegressor().fit(X, Y[:10])
        with pytest.raises(ValueError, match="tangent"):
            EquivariantRegressor(3, sk.lie.so(2), "tangent").fit(X, Y[:, 0])
        with pytest.raises(ValueError, match="NaN"):
            EquivariantRegressor().fit(X, np.full_like(Y, np.nan))
        with pytest.raises(NotFittedError):  # a ValueError subclass
            EquivariantRegressor().predict(X)
        model = EquivariantRegressor().fit(X, Y)
        with pytest.raises(ValueError, match="columns"):
            model.predict(np.zeros((3, 3)))
        with pytest.raises(ValueError, match="outputs"):
            model.lie_derivative(X, sk.lie.so(2), sk.LieAlgebra(np.zeros((1, 3, 3))))


# ---------------------------------------------------------------------------- torch layer
def group_element(generator: np.ndarray, t: float) -> torch.Tensor:
    return torch.as_tensor(scipy.linalg.expm(t * generator))


def vector_and_scalar(copies: int) -> np.ndarray:
    """so(3) acting on ``copies`` 3-vectors followed by one invariant scalar."""
    so3 = sk.lie.so(3).generators
    out = np.zeros((3, 3 * copies + 1, 3 * copies + 1))
    out[:, : 3 * copies, : 3 * copies] = [np.kron(np.eye(copies), g) for g in so3]
    return out


class TestEquivariantLinear:
    def test_so3_layer_counts(self):
        so3 = sk.lie.so(3)
        layer = EquivariantLinear(so3.repeated(2), so3, random_state=0)
        assert layer.n_free_parameters == 2  # αx + βy, no bias (A b = 0 forces b = 0)
        assert layer.weight_basis.shape == (2, 3, 6)
        assert layer.bias_basis.shape == (0, 3)
        mixed = EquivariantLinear(vector_and_scalar(2), vector_and_scalar(1), random_state=0)
        assert mixed.weight_coefficients.numel() == 3  # 2 vector→vector, 1 scalar→scalar
        assert mixed.bias_coefficients.numel() == 1  # the scalar channel
        assert mixed.n_free_parameters == 4

    def test_equivariance_and_composition(self, single_thread):
        a_in, a_hidden, a_out = vector_and_scalar(2), vector_and_scalar(3), vector_and_scalar(1)
        first = EquivariantLinear(a_in, a_hidden, random_state=1)
        second = EquivariantLinear(a_hidden, a_out, random_state=2)
        net = torch.nn.Sequential(first, second)
        x = torch.as_tensor(np.random.default_rng(3).normal(size=(16, 7)))
        coefficients = np.array([0.4, -1.1, 0.6])
        with torch.no_grad():
            for t in (0.3, 1.7):
                for layer, before, after in ((first, a_in, a_hidden), (net, a_in, a_out)):
                    g_in = group_element(np.tensordot(coefficients, before, axes=1), t)
                    g_out = group_element(np.tensordot(coefficients, after, axes=1), t)
                    sk.testing.assert_equivariant(layer, x, g_in, g_out, atol=1e-12)
            assert torch.max(torch.abs(first.bias)) > 0  # the test exercises a bias

    def test_discrete_pair_removes_the_rotation_part(self):
        so2 = sk.lie.so(2)
        assert EquivariantLinear(so2, so2, random_state=0).weight_coefficients.numel() == 2
        o2 = EquivariantLinear(so2, so2, discrete=[(REFLECTION, REFLECTION)], random_state=0)
        assert o2.n_free_parameters == 1
        assert torch.allclose(o2.weight_basis[0].abs(), torch.eye(2, dtype=torch.float64) / 2**0.5)
        invariant = EquivariantLinear(so2, np.zeros((1, 1, 1)), discrete=[(J, None)])
        assert invariant.n_free_parameters == 1  # only the bias: no invariant linear form

    def test_random_state_has_the_library_meaning(self):
        so2 = sk.lie.so(2)
        layer = EquivariantLinear(so2, so2, random_state=5)
        # An integer seeds a private generator directly (symmetrykit's one meaning of a seed).
        expected = torch.randn(2, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
        assert torch.equal(layer.weight_coefficients.detach(), expected)
        before = torch.random.get_rng_state()
        first = EquivariantLinear(so2, so2)
        second = EquivariantLinear(so2, so2)
        assert torch.equal(torch.random.get_rng_state(), before)  # the global RNG is not used
        assert not torch.equal(first.weight_coefficients, second.weight_coefficients)

    def test_gradients_and_training_keep_equivariance(self):
        layer = EquivariantLinear(vector_and_scalar(2), vector_and_scalar(1), random_state=4)
        assert [name for name, _ in layer.named_parameters()] == [
            "weight_coefficients",
            "bias_coefficients",
        ]
        x = torch.randn(4, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(5))

        def forward(inputs, weights, biases):
            params = {"weight_coefficients": weights, "bias_coefficients": biases}
            return torch.func.functional_call(layer, params, (inputs,))

        inputs = (
            x.clone().requires_grad_(),
            layer.weight_coefficients.detach().clone().requires_grad_(),
            layer.bias_coefficients.detach().clone().requires_grad_(),
        )
        assert torch.autograd.gradcheck(forward, inputs)

        optimiser = torch.optim.SGD(layer.parameters(), lr=0.1)
        target = torch.randn(4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
        for _ in range(3):
            optimiser.zero_grad()
            torch.mean((layer(x) - target) ** 2).backward()
            optimiser.step()
        weight = layer.weight.detach().numpy()
        a_in, a_out = vector_and_scalar(2), vector_and_scalar(1)
        assert np.max(np.abs(weight @ a_in - a_out @ weight)) < 1e-12
        assert np.max(np.abs(a_out @ layer.bias.detach().numpy())) < 1e-12

    def test_float32_and_no_bias(self):
        so3 = sk.lie.so(3)
        layer = EquivariantLinear(so3.repeated(2), so3, bias=False, dtype=torch.float32)
        assert layer.bias is None
        assert layer.weight.dtype == torch.float32
        assert layer(torch.ones(2, 6)).dtype == torch.float32
        assert layer.n_free_parameters == 2

    def test_bad_arguments(self):
        so2, so3 = sk.lie.so(2), sk.lie.so(3)
        with pytest.raises(ValueError, match="paired"):
            EquivariantLinear(so2, so3)
        with pytest.raises(ValueError, match="affine"):
            EquivariantLinear(sk.lie.se(2), sk.lie.se(2))
        with pytest.raises(ValueError, match="dtype"):
            EquivariantLinear(so2, so2, dtype=torch.int64)
        with pytest.raises(ValueError, match="rtol"):
            EquivariantLinear(so2, so2, rtol=0)
        with pytest.raises(ValueError, match="generator stack"):
            EquivariantLinear(np.zeros((1, 2, 3)), so2)
        with pytest.raises(ValueError, match="discrete\\[0\\]\\[0\\]"):
            EquivariantLinear(so2, so2, discrete=[(np.eye(3), None)])
        with pytest.raises(ValueError, match="discrete\\[0\\]\\[1\\]"):
            EquivariantLinear(so2, so2, discrete=[(np.eye(2), np.eye(3))])
        with pytest.raises(ValueError, match="features"):
            EquivariantLinear(so2, so2)(torch.ones(3, 3, dtype=torch.float64))


# ---------------------------------------------------------------------------- example
def test_example_runs_quickly(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [str(EXAMPLE), "--quick"])
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "basis dimension" in out and "RMSE" in out
