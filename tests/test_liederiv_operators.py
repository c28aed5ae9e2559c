"""Polynomial dictionaries, the Lie tensor and model Lie derivatives agree with each other."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from symmetrykit.lie import LieAlgebra, gl, se, so, translations
from symmetrykit.liederiv import (
    PolynomialDictionary,
    lie_derivative,
    lie_tensor,
    n_monomials,
    output_matrices,
)
from symmetrykit.liederiv._operators import directional_derivatives

pytestmark = pytest.mark.usefixtures("single_thread")


def _points(seed: int, n_points: int, n: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n_points, n))
    x[0] = 0.0  # the Jacobian must not divide by a zero coordinate
    x[1, 0] = 0.0
    return x


# ---------------------------------------------------------------------------- dictionary
@pytest.mark.parametrize(("n", "degree", "bias"), [(1, 3, True), (2, 2, False), (3, 4, True)])
def test_dictionary_features_are_the_monomials_of_its_exponents(n, degree, bias):
    lib = PolynomialDictionary(n, degree, include_bias=bias)
    assert lib.n_terms == n_monomials(n, degree) - (0 if bias else 1)
    assert len({tuple(e) for e in lib.exponents}) == lib.n_terms
    assert lib.exponents.sum(axis=1).max() == degree
    x = _points(0, 6, n)
    expected = np.prod(x[:, None, :] ** lib.exponents[None], axis=2)
    np.testing.assert_allclose(lib.transform(x), expected, rtol=1e-14, atol=0)
    assert lib.feature_names()[0] == ("1" if bias else "x0")
    again = PolynomialDictionary.from_dict(lib.to_dict())
    np.testing.assert_array_equal(again.exponents, lib.exponents)


@pytest.mark.parametrize(("n", "degree"), [(1, 4), (2, 3), (3, 3), (4, 2)])
def test_dictionary_jacobian_matches_torch_autograd_exactly(n, degree):
    lib = PolynomialDictionary(n, degree)
    x = _points(1, 5, n)
    exact = lib.jacobian(x)  # (N, p, n)
    inputs = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    exponents = torch.tensor(lib.exponents, dtype=torch.float64)

    def features(points):
        return torch.prod(points[:, None, :] ** exponents[None], dim=2)

    autograd = torch.autograd.functional.jacobian(features, inputs)  # (N, p, N, n)
    diagonal = torch.stack([autograd[s, :, s, :] for s in range(len(x))]).numpy()
    np.testing.assert_allclose(exact, diagonal, rtol=1e-13, atol=1e-13)


def test_dictionary_jacobian_matches_central_differences():
    lib = PolynomialDictionary(3, 3, include_bias=False)
    x = _points(2, 4, 3)
    step = 1e-5
    numeric = np.stack(
        [
            (lib.transform(x + step * e) - lib.transform(x - step * e)) / (2 * step)
            for e in np.eye(3)
        ],
        axis=2,
    )
    np.testing.assert_allclose(lib.jacobian(x), numeric, rtol=1e-8, atol=1e-8)


def test_dictionary_rejects_bad_input():
    with pytest.raises(ValueError, match="degree"):
        PolynomialDictionary(2, 0)
    with pytest.raises(ValueError, match="n_features"):
        PolynomialDictionary(0, 2)
    with pytest.raises(ValueError, match="columns"):
        PolynomialDictionary(2, 2).transform(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="input names"):
        PolynomialDictionary(2, 2).feature_names(["a"])


# ---------------------------------------------------------------------------- Lie tensor
def _model(lib: PolynomialDictionary, coef: np.ndarray):
    """``F_W(x) = W φ(x)`` in NumPy ops that also carry complex numbers (complex step)."""

    def model(x):
        features = np.prod(x[:, None, :] ** lib.exponents[None], axis=2)
        return features @ coef.T

    return model


@pytest.mark.parametrize(
    ("algebra", "output", "m"),
    [
        (gl(3), None, 2),
        (so(3), "tangent", 3),
        (se(3), "tangent", 3),
        (se(3), None, 1),
        (so(3), so(3), 3),
        (translations(3), None, 2),
    ],
    ids=["gl-invariant", "so-tangent", "se-tangent", "se-invariant", "so-equivariant", "t"],
)
def test_lie_tensor_contracts_to_the_models_lie_derivative(algebra, output, m):
    lib = PolynomialDictionary(3, 3)
    rng = np.random.default_rng(3)
    coef = rng.normal(size=(m, lib.n_terms))
    x = _points(4, 9, 3)
    tensor = lie_tensor(lib, x, algebra, output, n_outputs=m)
    assert tensor.array.shape == (len(algebra), 9, m, m, lib.n_terms)
    from_tensor = np.einsum("ksilj,lj->ksi", tensor.array, coef)
    direct = lie_derivative(_model(lib, coef), x, algebra, output, method="complex-step")
    np.testing.assert_allclose(from_tensor, direct, rtol=1e-10, atol=1e-10)
    # The three contractions are the same numbers in different layouts.
    q, n_points = len(algebra), len(x)
    vec = coef.reshape(-1)
    by_generator = tensor.constraint_matrix() @ vec
    np.testing.assert_allclose(by_generator, from_tensor.reshape(-1) / np.sqrt(n_points))
    m_f = tensor.generator_matrix(coef)
    assert m_f.shape == (n_points * m, q)
    np.testing.assert_allclose(
        m_f, from_tensor.transpose(1, 2, 0).reshape(n_points * m, q) / np.sqrt(n_points)
    )
    np.testing.assert_allclose(tensor.operator() @ vec, m_f.reshape(-1), atol=1e-12)


def test_sign_convention_is_jacobian_times_field_minus_output_generator():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(2, 3, 3))
    x = rng.normal(size=(4, 3))
    matrix = rng.normal(size=(3, 3))
    out = lie_derivative(lambda p: p @ matrix.T, x, LieAlgebra(a), LieAlgebra(b))
    np.testing.assert_allclose(out[0], x @ a.T @ matrix.T - x @ matrix.T @ b.T, atol=1e-12)


def test_the_three_differentiation_paths_agree():
    def model(x):
        lib = torch if isinstance(x, torch.Tensor) else np
        return lib.stack(
            [lib.exp(-0.5 * (x**2).sum(1)) * x[:, 0], x[:, 0] * x[:, 1] ** 2 - x[:, 2] ** 3], 1
        )

    x = _points(6, 12, 3)
    algebra = se(3)
    results = {
        method: lie_derivative(model, x, algebra, method=method)
        for method in ("torch", "complex-step", "finite-difference")
    }
    np.testing.assert_allclose(results["complex-step"], results["torch"], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(results["finite-difference"], results["torch"], rtol=1e-7, atol=1e-9)


def test_auto_method_falls_back_from_torch_to_complex_step_to_finite_differences():
    x = _points(7, 5, 2)
    fields = gl(2).vector_fields(x)
    analytic = np.sin  # NumPy-only but analytic: complex step

    def numpy_only(p):
        return analytic(p[:, 0]) * np.asarray(p)[:, 1]

    def not_analytic(p):
        return np.abs(np.asarray(p, dtype=np.float64)).sum(1)

    *_, used = directional_derivatives(numpy_only, x, fields)
    assert used == "complex-step"
    *_, used = directional_derivatives(not_analytic, x, fields)
    assert used == "finite-difference"
    *_, used = directional_derivatives(lambda p: (p**2).sum(1), x, fields)
    assert used == "torch"
    with pytest.raises(ValueError, match="unknown method"):
        directional_derivatives(numpy_only, x, fields, method="symbolic")
    with pytest.raises(ValueError, match="'torch' failed"):
        directional_derivatives(numpy_only, x, fields, method="torch")


def test_torch_modules_are_differentiated_in_their_own_dtype():
    generator = torch.Generator().manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    net = net.double()
    x = _points(8, 6, 3)
    out = lie_derivative(net, x, gl(3))
    inputs = torch.tensor(x)
    jacobian = torch.func.vmap(torch.func.jacrev(net))(inputs).detach().numpy()  # (N, 2, 3)
    expected = np.einsum("sij,ksj->ksi", jacobian, gl(3).vector_fields(x))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- output actions
def test_output_actions():
    algebra = se(3)
    np.testing.assert_array_equal(output_matrices(algebra, None, 2), np.zeros((6, 2, 2)))
    np.testing.assert_array_equal(output_matrices(algebra, "invariant", 1), np.zeros((6, 1, 1)))
    np.testing.assert_array_equal(output_matrices(algebra, "tangent", 3), algebra.linear_parts)
    paired = output_matrices(so(3), so(3), 3)
    np.testing.assert_array_equal(paired, so(3).generators)


def test_equivariant_and_vector_field_models_have_zero_lie_derivative():
    x = _points(9, 7, 3)
    identity = lambda p: p  # noqa: E731 - the identity map is equivariant under any pairing
    np.testing.assert_allclose(lie_derivative(identity, x, so(3), so(3)), 0.0, atol=1e-14)
    np.testing.assert_allclose(lie_derivative(identity, x, gl(3), "tangent"), 0.0, atol=1e-14)

    def radial_field(p):
        return p * (1.0 + (p**2).sum(1, keepdims=True))

    np.testing.assert_allclose(lie_derivative(radial_field, x, so(3), "tangent"), 0.0, atol=1e-12)
    assert np.abs(lie_derivative(radial_field, x, gl(3), "tangent")).max() > 0.1
    # Translations commute with constant fields only: L_t f = Df e_k (B = 0 for translations).
    np.testing.assert_allclose(
        lie_derivative(radial_field, x, translations(3), "tangent"),
        lie_derivative(radial_field, x, translations(3)),
    )


def test_output_action_validation():
    with pytest.raises(ValueError, match="unknown output action"):
        output_matrices(so(3), "rotation", 3)
    with pytest.raises(ValueError, match="as many outputs as inputs"):
        output_matrices(so(3), "tangent", 2)
    with pytest.raises(ValueError, match="paired one to one"):
        output_matrices(so(3), gl(3), 3)
    with pytest.raises(ValueError, match="must be linear"):
        output_matrices(se(2), se(2), 3)
    with pytest.raises(ValueError, match="acts on dimension"):
        output_matrices(so(3), so(3), 2)
    with pytest.raises(ValueError, match="LieAlgebra"):
        output_matrices(so(3), np.eye(3), 3)
    with pytest.raises(ValueError, match="features"):
        lie_derivative(lambda p: p, np.zeros((2, 4)), so(3))
    with pytest.raises(ValueError, match="dictionary has"):
        lie_tensor(PolynomialDictionary(2, 2), np.zeros((2, 3)), so(3))
    with pytest.raises(ValueError, match="output shape"):
        lie_derivative(lambda p: np.zeros((1, 1)), np.ones((3, 3)), so(3), method="complex-step")
