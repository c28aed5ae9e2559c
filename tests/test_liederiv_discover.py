"""Discovery: symmetry algebras of models, of sampled manifolds and of sample distributions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import symmetrykit as sk
from symmetrykit.lie import LieAlgebra, gl, se, skew_logarithm, so, so_pq
from symmetrykit.liederiv import (
    DictionaryModel,
    PolynomialDictionary,
    discover,
    discover_density,
    discover_tangent,
    lie_tensor,
    symmetric_basis,
)
from symmetrykit.metrics import algebra_distance

pytestmark = pytest.mark.usefixtures("single_thread")

MINKOWSKI = np.diag([-1.0, 1.0, 1.0, 1.0])


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return abs(float(np.sum(a * b))) / (np.linalg.norm(a) * np.linalg.norm(b))


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def se_stabiliser(u: np.ndarray) -> np.ndarray:
    """Translations orthogonal to ``u`` and rotations fixing ``u``, homogeneous ``(n+1)²``."""
    n = u.size
    complement = scipy.linalg.null_space(u[None])  # (n, n−1)
    stack = []
    for rotation in so(n - 1).generators:
        g = np.zeros((n + 1, n + 1))
        g[:n, :n] = complement @ rotation @ complement.T
        stack.append(g)
    for direction in complement.T:
        g = np.zeros((n + 1, n + 1))
        g[:n, n] = direction
        stack.append(g)
    return np.stack(stack)


def _catalogue(name: str, rng: np.random.Generator):
    """(model, points, candidates, expected generators) of the spec's discovery table."""
    if name == "so(3)":
        return (lambda x: (x**2).sum(1), rng.uniform(-1, 1, (200, 3)), gl(3), so(3).generators)
    if name == "so(1,3)":
        return (
            lambda x: np.einsum("si,ij,sj->s", x, MINKOWSKI, x),
            rng.uniform(-1, 1, (200, 4)),
            gl(4),
            so_pq(1, 3).generators,
        )
    u = _unit(rng.normal(size=5))
    return (
        lambda x: 1 + x @ u + (x @ u) ** 2,
        rng.uniform(-1, 1, (200, 5)),
        se(5),
        se_stabiliser(u),
    )


# ---------------------------------------------------------------------------- exact models
@pytest.mark.parametrize(("name", "nullity"), [("so(3)", 3), ("so(1,3)", 6), ("se(5)", 10)])
def test_exact_discovery_of_the_catalogue(name, nullity):
    model, points, candidates, expected = _catalogue(name, np.random.default_rng(0))
    result = discover(model, points, candidates)
    assert result.nullity == nullity == len(expected)
    assert algebra_distance(result.algebra, expected).max() < 1e-6
    assert result.closure_residual < 1e-12
    assert result.gap > 1e10  # exact zeros against values of order one
    assert result.singular_values[:nullity].max() < 1e-13
    assert result.singular_values[nullity:].min() > 0.1
    assert result.algebra.affine == candidates.affine
    # The candidates are a full orthonormal basis ordered as the spectrum.
    flat = result.candidates.generators.reshape(len(candidates), -1)
    np.testing.assert_allclose(flat @ flat.T, np.eye(len(candidates)), atol=1e-12)
    assert f"{nullity} symmetries" in result.summary()


def test_recovered_rotations_are_antisymmetric_to_rounding():
    model, points, candidates, _ = _catalogue("so(3)", np.random.default_rng(1))
    generators = discover(model, points, candidates).algebra.generators
    np.testing.assert_allclose(generators, -generators.transpose(0, 2, 1), atol=1e-14)


def test_a_model_without_symmetry_yields_no_generator():
    rng = np.random.default_rng(2)
    lib = PolynomialDictionary(3, 3)
    coef = rng.normal(size=lib.n_terms)
    x = rng.normal(size=(100, 3))
    result = discover(DictionaryModel(lib, coef), x, gl(3))
    assert result.method == "exact"
    assert result.nullity == 0 and result.algebra is None
    assert result.singular_values[0] > 1e-3
    assert np.isnan(result.gap) and np.isnan(result.closure_residual)
    assert discover(DictionaryModel(lib, coef), x, gl(3), gap_ratio=100).nullity == 0
    # The summary shows no "nan": nothing found has no gap and no closure to speak of.
    assert "no gap (nothing found)" in result.summary() and "nan" not in result.summary()
    one = discover(DictionaryModel(lib, coef), x, gl(3), n_symmetries=1)
    assert "closure" not in one.summary() and "nan" not in one.summary()
    two = discover(DictionaryModel(lib, coef), x, gl(3), n_symmetries=2)
    assert "closure residual" in two.summary()


def test_every_candidate_symmetric_is_recognised_despite_rounding():
    # All Lie derivatives are rounding noise here; relative to the largest of them they would
    # look like order one. The natural scale ‖DF‖‖v‖ tells them apart.
    rotation = sk.lie.random_orthogonal(3, 1)
    x = np.random.default_rng(3).normal(size=(60, 3))
    for method in ("complex-step", "finite-difference"):
        result = discover(lambda p: np.exp(-((p @ rotation) ** 2).sum(1)), x, so(3), method=method)
        assert result.nullity == 3, method
        assert result.singular_values.max() < 1e-9
        assert result.gap > 1e8


def test_torch_mlp_of_the_squared_norm_is_rotation_invariant():
    generator = torch.Generator().manual_seed(0)

    class RadialMLP(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(1, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2)
            )

        def forward(self, x):
            return self.net((x**2).sum(-1, keepdim=True))

    model = RadialMLP()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    model = model.double()
    x = np.random.default_rng(4).normal(size=(80, 3))
    result = discover(model, x, gl(3))
    assert result.method == "torch"
    assert result.nullity == 3
    assert algebra_distance(result.algebra, so(3)).max() < 1e-6


def _random_lorentz(rng: np.random.Generator) -> np.ndarray:
    return scipy.linalg.expm(so_pq(1, 3).element(rng.normal(scale=0.5, size=6)))


@pytest.mark.slow
@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    name=st.sampled_from(["so(3)", "so(1,3)", "se(5)"]),
    lorentz=st.booleans(),
)
def test_discovered_algebra_conjugates_with_the_coordinates(seed, name, lorentz):
    # If F has symmetry algebra g, F ∘ M⁻¹ has M g M⁻¹ (homogeneous M for affine candidates).
    rng = np.random.default_rng(seed)
    model, points, candidates, expected = _catalogue(name, rng)
    n = points.shape[1]
    if lorentz and n == 4:
        change = _random_lorentz(rng)
    else:
        change = sk.lie.random_orthogonal(n, rng)
    inverse = np.linalg.inv(change)
    homogeneous = scipy.linalg.block_diag(change, 1.0) if candidates.affine else change
    h_inverse = np.linalg.inv(homogeneous)
    moved = points @ change.T
    result = discover(lambda y: model(y @ inverse.T), moved, candidates)
    assert result.nullity == len(expected)
    assert algebra_distance(result.algebra, homogeneous @ expected @ h_inverse).max() < 1e-6
    assert result.closure_residual < 1e-10


def test_lorentz_invariant_form_keeps_its_algebra_under_boosts():
    rng = np.random.default_rng(5)
    boost = _random_lorentz(rng)
    np.testing.assert_allclose(boost.T @ MINKOWSKI @ boost, MINKOWSKI, atol=1e-12)
    x = rng.uniform(-1, 1, (150, 4))
    inverse = np.linalg.inv(boost)
    result = discover(
        lambda y: np.einsum("si,ij,sj->s", y @ inverse.T, MINKOWSKI, y @ inverse.T), x, gl(4)
    )
    assert result.nullity == 6
    assert algebra_distance(result.algebra, so_pq(1, 3)).max() < 1e-6


def test_enforce_discover_duality_models_from_the_symmetric_basis_are_discovered_symmetric():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(60, 3))
    # Invariant scalars: span{1, r², r⁴}; a random member has exactly so(3) inside gl(3).
    lib = PolynomialDictionary(3, 4)
    basis = symmetric_basis(lie_tensor(lib, x, so(3)))
    assert basis.shape[1] == 3
    coef = basis @ rng.normal(size=basis.shape[1])
    result = discover(DictionaryModel(lib, coef), rng.normal(size=(80, 3)), gl(3))
    assert result.nullity == 3
    assert algebra_distance(result.algebra, so(3)).max() < 1e-6
    # Equivariant vector fields: span{x, r² x}; with the tangent action again exactly so(3).
    lib3 = PolynomialDictionary(3, 3)
    basis = symmetric_basis(lie_tensor(lib3, x, so(3), "tangent"))
    assert basis.shape[1] == 2
    coef = (basis @ rng.normal(size=2)).reshape(3, lib3.n_terms)
    field = DictionaryModel(lib3, coef)
    result = discover(field, rng.normal(size=(80, 3)), gl(3), output_algebra="tangent")
    assert result.nullity == 3
    assert algebra_distance(result.algebra, so(3)).max() < 1e-6
    assert algebra_distance(result.output_algebra, so(3)).max() < 1e-6
    # A paired output algebra equal to the inputs is the tangent action.
    paired = discover(field, rng.normal(size=(80, 3)), gl(3), output_algebra=gl(3))
    assert paired.nullity == 3
    assert algebra_distance(paired.algebra, result.algebra).max() < 1e-6


def test_equivariant_discovery_pairs_input_and_output_generators():
    # F(x) = (x0, x1, x2, x0² + x1² + x2²): R³ → R⁴ with so(3) acting on the first three
    # outputs and trivially on the last; a scaling acts on neither consistently.
    def model(x):
        return np.c_[x, (x**2).sum(1)]

    inputs = np.concatenate([so(3).generators, np.eye(3)[None]])
    outputs = np.zeros((4, 4, 4))
    outputs[:3, :3, :3] = so(3).generators
    outputs[3, :3, :3] = np.eye(3)
    result = discover(
        model,
        np.random.default_rng(7).normal(size=(40, 3)),
        LieAlgebra(inputs),
        output_algebra=LieAlgebra(outputs, name="out"),
    )
    assert result.nullity == 3
    assert algebra_distance(result.algebra, so(3)).max() < 1e-6
    assert result.output_algebra.dim == 4


def test_level_set_of_a_fitted_implicit_function():
    # Fit the ellipsoid x² + y² + 4z² = 1 as the zero set of a quadric, then discover on it.
    rng = np.random.default_rng(8)
    axes = np.array([1.0, 1.0, 0.5])
    directions = rng.normal(size=(300, 3))
    points = directions / np.linalg.norm(directions, axis=1, keepdims=True) * axes
    points += 1e-5 * rng.normal(size=points.shape)
    lib = PolynomialDictionary(3, 2)
    _, _, vt = np.linalg.svd(lib.transform(points))
    surface = DictionaryModel(lib, vt[-1])
    # The fitted quadric keeps exactly one linear symmetry (the noise gives it a tiny off-centre
    # linear term); the other two are broken at the noise level, far below the rest.
    result = discover(surface, points, gl(3), rtol=1e-4)
    expected = np.diag(axes) @ so(3).generators @ np.diag(1 / axes)
    assert result.nullity == 3
    assert result.singular_values[1:3].max() < 1e-5
    assert result.gap > 1e4
    assert algebra_distance(result.algebra, expected).max() < 1e-4
    # With so(3) candidates only the rotation about the axis of symmetry is left.
    about_axis = discover(surface, points, so(3), gap_ratio=100)
    assert about_axis.nullity == 1
    assert _cosine(about_axis.algebra.generators[0], so(3).generators[0]) > 0.9999


def test_discover_validation():
    x = np.zeros((5, 3))
    with pytest.raises(ValueError, match="LieAlgebra"):
        discover(lambda p: p, x, np.eye(3))
    with pytest.raises(ValueError, match="rtol"):
        discover(lambda p: p.sum(1), x, so(3), rtol=2.0)
    with pytest.raises(ValueError, match="gap_ratio"):
        discover(lambda p: p.sum(1), x, so(3), gap_ratio=0.5)
    with pytest.raises(ValueError, match="n_symmetries"):
        discover(lambda p: p.sum(1), x, so(3), n_symmetries=4)
    with pytest.raises(ValueError, match="linearly dependent"):
        discover(lambda p: p.sum(1), x, LieAlgebra(np.stack([np.eye(3), 2 * np.eye(3)])))
    taken = discover(lambda p: (p**2).sum(1), np.ones((5, 3)) + np.arange(3), gl(3), n_symmetries=4)
    assert taken.nullity == 4 and len(taken.algebra) == 4


# ---------------------------------------------------------------------------- manifolds
def _ellipsoid(n_points: int, axes, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n_points, len(axes)))
    return x / np.linalg.norm(x, axis=1, keepdims=True) * np.asarray(axes, float)


@pytest.mark.parametrize(
    ("axes", "candidates", "nullity", "expected"),
    [
        ((1, 1, 1), gl(3), 3, so(3).generators),
        ((1, 1, 1), so(3), 3, so(3).generators),  # every candidate tangent
        ((1, 1, 2), so(3), 1, so(3).generators[:1]),  # the rotation about the long axis
        ((1, 1, 2), gl(3), 3, np.diag([1, 1, 2.0]) @ so(3).generators @ np.diag([1, 1, 0.5])),
        ((1, 2), gl(2), 1, np.diag([1, 2.0]) @ so(2).generators @ np.diag([1, 0.5])),
    ],
    ids=["sphere-gl3", "sphere-so3", "spheroid-so3", "spheroid-gl3", "ellipse-gl2"],
)
def test_tangent_space_discovery(axes, candidates, nullity, expected):
    points = _ellipsoid(600, axes, seed=len(axes) + int(sum(axes)))
    result = discover_tangent(points, candidates, manifold_dim=len(axes) - 1, n_neighbors=12)
    assert result.method == "tangent-space" and result.details["tangent_fit"] == "quadratic"
    assert result.nullity == nullity
    assert result.gap > 30
    assert algebra_distance(result.algebra, expected).max() < 0.02


def test_quadratic_tangent_fit_beats_the_pca_plane():
    points = _ellipsoid(600, (1, 1, 2), seed=9)
    spectra = {
        fit: discover_tangent(points, gl(3), manifold_dim=2, n_neighbors=12, tangent_fit=fit)
        for fit in ("linear", "quadratic")
    }
    assert spectra["quadratic"].singular_values[2] < 0.3 * spectra["linear"].singular_values[2]


def test_tangent_validation():
    points = _ellipsoid(50, (1, 1, 1), seed=0)
    with pytest.raises(ValueError, match="manifold_dim"):
        discover_tangent(points, so(3), manifold_dim=3)
    with pytest.raises(ValueError, match="n_neighbors"):
        discover_tangent(points, so(3), manifold_dim=2, n_neighbors=2)
    with pytest.raises(ValueError, match="more than n_neighbors"):
        discover_tangent(points[:10], so(3), manifold_dim=2, n_neighbors=10)
    with pytest.raises(ValueError, match="tangent_fit"):
        discover_tangent(points, so(3), manifold_dim=2, tangent_fit="cubic")
    with pytest.raises(ValueError, match="quadratic fit"):
        discover_tangent(points, so(3), manifold_dim=2, n_neighbors=4, tangent_fit="quadratic")
    with pytest.raises(ValueError, match="features"):
        discover_tangent(points, so(4), manifold_dim=2)


# ---------------------------------------------------------------------------- densities
def _brute_force_weak_form(X, algebra, degree, weighting):
    """``E[∇φ_a · v_k]`` straight from the dictionary Jacobian (the definition)."""
    n = X.shape[1]
    mean, scale = X.mean(0), X.std(0)
    onb = algebra.orthonormalized()
    gradients = PolynomialDictionary(n, degree, include_bias=False).jacobian((X - mean) / scale)
    gradients = gradients / scale
    values = np.einsum("spi,ksi->spk", gradients, onb.vector_fields(X))
    matrix = values.mean(0)
    if weighting == "noise":
        noise = np.sqrt(values.var(0).mean(1) / len(X))
        matrix = matrix / noise[:, None]
    return np.linalg.svd(matrix, compute_uv=False)


@pytest.mark.parametrize("weighting", ["none", "noise"])
@pytest.mark.parametrize(("algebra", "degree"), [(se(3), 3), (gl(3), 2), (so(3), 1)])
def test_weak_form_from_moments_equals_the_definition(algebra, degree, weighting):
    rng = np.random.default_rng(10)
    X = rng.gamma(2.0, size=(3000, 3)) + [0.0, 1.0, -2.0]
    result = discover_density(X, algebra, degree=degree, weighting=weighting, chunk_size=700)
    expected = np.sort(_brute_force_weak_form(X, algebra, degree, weighting))
    expected = np.pad(expected, (len(algebra) - expected.size, 0))
    np.testing.assert_allclose(
        result.singular_values * result.scale, expected, rtol=1e-8, atol=1e-9 * expected.max()
    )
    assert result.details["n_tests"] == PolynomialDictionary(3, degree, include_bias=False).n_terms


def test_axisymmetric_cloud_gives_the_rotation_about_its_axis():
    rng = np.random.default_rng(11)
    n = 40000
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = rng.gamma(3.0, size=n)
    X = np.c_[radius * np.cos(angle), radius * np.sin(angle), rng.exponential(size=n)]
    result = discover_density(X, gl(3))
    assert result.nullity == 1 and result.gap > 5
    assert _cosine(result.algebra.generators[0], so(3).generators[0]) > 0.999


@pytest.mark.slow
def test_circulant_signals_isolate_the_logarithm_of_the_cyclic_shift():
    data = sk.datasets.local_signals(
        n_samples=100_000, dim=7, signal="gaussian", symmetry="circulant", random_state=0
    )
    result = discover_density(data.X, so(7))
    assert result.method == "weak-form" and result.nullity == 1
    assert _cosine(result.algebra.generators[0], skew_logarithm(data.generator)) >= 0.99
    assert result.gap > 1.0


def test_density_validation():
    X = np.random.default_rng(12).normal(size=(500, 3))
    with pytest.raises(ValueError, match="weighting"):
        discover_density(X, so(3), weighting="whiten")
    with pytest.raises(ValueError, match="features"):
        discover_density(X, so(4))
    with pytest.raises(ValueError, match="samples"):
        discover_density(X[:20], so(3))
    with pytest.raises(ValueError, match="constant"):
        discover_density(np.c_[X[:, :2], np.ones(500)], so(3))
    with pytest.raises(ValueError, match="chunk_size"):
        discover_density(X, so(3), chunk_size=0)
    with pytest.raises(ValueError, match="degree"):
        discover_density(X, so(3), degree=0)
