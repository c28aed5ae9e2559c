"""Affine algebras (translations, se(n)), scaling, vector fields, repeated and normalised stacks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import symmetrykit as sk
from symmetrykit.lie import LieAlgebra, gl, scaling, se, so, translations
from symmetrykit.metrics import algebra_distance


def _random_affine(rng: np.random.Generator, k: int, n: int) -> LieAlgebra:
    stack = np.zeros((k, n + 1, n + 1))
    stack[:, :n, :] = rng.normal(size=(k, n, n + 1))
    return LieAlgebra(stack, name="random affine", affine=True)


def test_affine_algebra_dimensions_and_parts():
    rng = np.random.default_rng(0)
    algebra = _random_affine(rng, 4, 3)
    assert algebra.affine
    assert algebra.dim == 4 and algebra.space_dim == 3
    np.testing.assert_array_equal(algebra.linear_parts, algebra.generators[:, :3, :3])
    np.testing.assert_array_equal(algebra.offsets, algebra.generators[:, :3, 3])
    linear = LieAlgebra(rng.normal(size=(2, 3, 3)))
    assert linear.space_dim == linear.dim == 3
    np.testing.assert_array_equal(linear.offsets, np.zeros((2, 3)))


def test_vector_fields_are_linear_part_times_x_plus_offset():
    rng = np.random.default_rng(1)
    algebra = _random_affine(rng, 3, 2)
    points = rng.normal(size=(7, 2))
    fields = algebra.vector_fields(points)
    assert fields.shape == (3, 7, 2)
    for k, generator in enumerate(algebra.generators):
        expected = points @ generator[:2, :2].T + generator[:2, 2]
        np.testing.assert_allclose(fields[k], expected, rtol=0, atol=1e-14)
    # Homogeneous coordinates: v(x) is the top of A (x, 1).
    homogeneous = np.c_[points, np.ones(7)]
    np.testing.assert_allclose(
        fields, np.einsum("kij,sj->ksi", algebra.generators, homogeneous)[:, :, :2], atol=1e-14
    )


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_translations_are_constant_unit_fields_and_commute(n):
    algebra = translations(n)
    assert algebra.affine and len(algebra) == n and algebra.space_dim == n
    points = np.random.default_rng(n).normal(size=(4, n))
    fields = algebra.vector_fields(points)
    np.testing.assert_array_equal(fields, np.broadcast_to(np.eye(n)[:, None, :], (n, 4, n)))
    np.testing.assert_array_equal(algebra.commutators(), 0.0)
    assert algebra.closure_residual() == 0.0


@pytest.mark.parametrize("n", [2, 3, 4])
def test_se_n_is_rotations_then_translations_and_closed(n):
    algebra = se(n)
    k_rot = n * (n - 1) // 2
    assert len(algebra) == k_rot + n == n * (n + 1) // 2
    assert algebra.affine and algebra.space_dim == n
    np.testing.assert_array_equal(algebra.linear_parts[:k_rot], so(n).generators)
    np.testing.assert_array_equal(algebra.offsets[:k_rot], 0.0)
    np.testing.assert_array_equal(algebra.linear_parts[k_rot:], 0.0)
    np.testing.assert_array_equal(algebra.offsets[k_rot:], np.eye(n))
    assert algebra.closure_residual() < 1e-14
    # [rotation, translation] is a translation: S e_j (structure of the semidirect product).
    constants = algebra.structure_constants()
    for a in range(k_rot):
        for j in range(n):
            bracket_coefficients = constants[a, k_rot + j]
            np.testing.assert_allclose(bracket_coefficients[:k_rot], 0.0, atol=1e-14)
            np.testing.assert_allclose(
                bracket_coefficients[k_rot:], so(n).generators[a][:, j], atol=1e-14
            )


def test_se_exponential_is_a_rigid_motion_whose_velocity_is_the_field():
    rng = np.random.default_rng(2)
    algebra = se(3)
    coefficients = rng.normal(size=len(algebra))
    motion = algebra.exp(coefficients)
    rotation, shift = motion[:3, :3], motion[:3, 3]
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(rotation), 1.0, atol=1e-12)
    np.testing.assert_allclose(motion[3], [0, 0, 0, 1], atol=1e-15)
    # d/dt exp(tA) x̃ at t = 0 is the field v(x) = S x + c.
    points = rng.normal(size=(5, 3))
    element = algebra.element(coefficients)
    step = 1e-6
    moved = (scipy.linalg.expm(step * element) @ np.c_[points, np.ones(5)].T).T[:, :3]
    minus = (scipy.linalg.expm(-step * element) @ np.c_[points, np.ones(5)].T).T[:, :3]
    field = np.einsum("k,ksi->si", coefficients, algebra.vector_fields(points))
    np.testing.assert_allclose((moved - minus) / (2 * step), field, atol=1e-8)
    assert np.isfinite(shift).all()


@pytest.mark.parametrize("n", [1, 3])
def test_scaling_is_the_identity_field(n):
    algebra = scaling(n)
    assert not algebra.affine and len(algebra) == 1
    points = np.random.default_rng(3).normal(size=(6, n))
    np.testing.assert_array_equal(algebra.vector_fields(points)[0], points)
    # Scaling commutes with every linear map: the centre of gl(n).
    assert np.all(sk.lie.commutator(algebra.generators[0], gl(n).generators) == 0)


def test_repeated_acts_block_diagonally_on_copies():
    base = so(3)
    algebra = base.repeated(4)
    assert algebra.dim == 12 and len(algebra) == 3
    points = np.random.default_rng(4).normal(size=(5, 12))
    fields = algebra.vector_fields(points)
    for copy in range(4):
        block = slice(3 * copy, 3 * copy + 3)
        np.testing.assert_allclose(fields[:, :, block], base.vector_fields(points[:, block]))
    np.testing.assert_allclose(
        algebra.structure_constants(), base.structure_constants(), atol=1e-14
    )
    assert algebra.closure_residual() < 1e-14
    with pytest.raises(ValueError, match="linear algebras only"):
        se(2).repeated(2)
    with pytest.raises(ValueError, match="dimension"):
        base.repeated(0)


def test_normalized_and_orthonormalized_keep_span_order_and_affine_flag():
    rng = np.random.default_rng(5)
    algebra = _random_affine(rng, 4, 3)
    unit = algebra.normalized()
    assert unit.affine and unit.name == algebra.name
    np.testing.assert_allclose(np.linalg.norm(unit.generators.reshape(4, -1), axis=1), 1.0)
    cosines = np.sum(unit.generators * algebra.generators, axis=(1, 2)) / np.linalg.norm(
        algebra.generators.reshape(4, -1), axis=1
    )
    np.testing.assert_allclose(cosines, 1.0)  # same directions, same order
    onb = algebra.orthonormalized()
    assert onb.affine
    flat = onb.generators.reshape(len(onb), -1)
    np.testing.assert_allclose(flat @ flat.T, np.eye(4), atol=1e-12)
    assert algebra_distance(onb, algebra).max() < 1e-7
    np.testing.assert_array_equal(onb.generators[:, -1, :], 0.0)
    # se(n): rotations have norm √2, translations 1 until normalised.
    norms = np.linalg.norm(se(3).generators.reshape(6, -1), axis=1)
    np.testing.assert_allclose(norms, [np.sqrt(2)] * 3 + [1.0] * 3)
    np.testing.assert_allclose(
        np.linalg.norm(se(3).normalized().generators.reshape(6, -1), axis=1), 1.0
    )
    with pytest.raises(ValueError, match="zero generator"):
        LieAlgebra(np.zeros((1, 2, 2))).normalized()


def test_affine_validation_and_unsupported_operations():
    with pytest.raises(ValueError, match="zero last row"):
        LieAlgebra(np.ones((1, 3, 3)), affine=True)
    with pytest.raises(ValueError, match="n >= 1"):
        LieAlgebra(np.zeros((1, 1, 1)), affine=True)
    with pytest.raises(ValueError, match="linear algebras only"):
        se(2).conjugate(np.eye(3))
    with pytest.raises(ValueError, match="points must have shape"):
        se(2).vector_fields(np.zeros((4, 3)))  # homogeneous size is not the space size
    for factory in (translations, se, scaling):
        with pytest.raises(ValueError, match="dimension"):
            factory(0)
