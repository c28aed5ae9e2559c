"""Similarity between learned and true generators, and distances between algebras."""

import numpy as np
import pytest
import scipy.linalg

from symmetrykit import lie, metrics
from symmetrykit.metrics import algebra_distance, generator_similarity


@pytest.mark.parametrize("circulant", [False, True])
def test_generator_similarity_reference_values(circulant):
    s = lie.shift(9, circulant=circulant)
    assert generator_similarity(s, s) == pytest.approx(1.0)
    assert generator_similarity(s.T, s) == pytest.approx(1.0)  # the inverse direction counts too
    assert generator_similarity(3.0 * s, s) == pytest.approx(1.0)  # scale-free
    assert generator_similarity(np.eye(9), s) == pytest.approx(0.0, abs=1e-15)
    assert generator_similarity(s @ s, s) == pytest.approx(0.0, abs=1e-15)


def test_generator_similarity_of_a_conjugated_orthogonal_generator():
    q = lie.random_orthogonal(7, random_state=0)
    g = q @ lie.shift(7, circulant=True) @ q.T
    assert generator_similarity(g.T, g) == pytest.approx(1.0)
    # a perfect padded shift, cropped to the centre, scores exactly 1 against the truncated shift
    padded = lie.shift(21, circulant=True)
    assert generator_similarity(padded[7:14, 7:14], lie.shift(7)) == pytest.approx(1.0)


def test_generator_similarity_accepts_torch_and_rejects_bad_shapes():
    torch = pytest.importorskip("torch")
    s = lie.shift(5)
    assert generator_similarity(torch.tensor(s), s) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shape"):
        generator_similarity(np.eye(4), s)
    with pytest.raises(ValueError, match="square"):
        generator_similarity(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-finite"):
        generator_similarity(np.full((5, 5), np.inf), s)


def test_algebra_distance_is_zero_for_the_same_span_in_another_basis():
    so4 = lie.so(4)
    mix = np.random.default_rng(0).standard_normal((6, 6))
    rebased = np.tensordot(mix, so4.generators, axes=1)
    angles = algebra_distance(so4, rebased)
    assert angles.shape == (6,) and np.max(angles) < 1e-7


def test_algebra_distance_resolves_tiny_angles_and_orthogonal_spans():
    so3 = lie.so(3).generators
    eps = 1e-9
    tilted = so3.copy()
    tilted[0] = tilted[0] + eps * np.diag([1.0, 0, 0])  # leaves so(3) by an angle ≈ eps / sqrt(2)
    angles = algebra_distance(so3, tilted)
    assert np.max(angles) == pytest.approx(eps / np.sqrt(2), rel=1e-3)
    symmetric = lie.LieAlgebra(np.eye(3)[None])
    assert algebra_distance(so3, symmetric) == pytest.approx([np.pi / 2])


def test_algebra_distance_of_so_n_and_its_conjugate():
    q = lie.random_orthogonal(5, random_state=1)
    assert np.max(algebra_distance(lie.so(5), lie.so(5).conjugate(q))) < 1e-7
    generic = lie.LieAlgebra(q @ np.diag([1.0, 2, 3, 4, 5]) @ q.T)
    assert np.min(algebra_distance(lie.so(5), generic)) == pytest.approx(np.pi / 2)


def test_projection_norms():
    so3 = lie.so(3)
    inside = scipy.linalg.logm(so3.exp([0.1, 0.2, 0.3])).real
    outside = np.eye(3)
    norms = metrics.projection_norms(np.stack([inside, outside]), so3)
    np.testing.assert_allclose(norms, [1.0, 0.0], atol=1e-10)
    with pytest.raises(ValueError, match="zero"):
        metrics.projection_norms(np.zeros((3, 3)), so3)


def test_representation_similarity_is_one_for_the_expected_group_convolutions():
    q = lie.dst1(7)
    j = np.eye(7)[::-1]
    for phi in (q.T, -q.T, j @ q.T, -(j @ q.T)):
        assert metrics.representation_similarity(phi, q) == pytest.approx(1.0)
    assert metrics.representation_similarity(np.eye(7), q) < 0.5
    rolled = np.roll(np.eye(7), 3, axis=0)
    assert metrics.representation_similarity(rolled, np.eye(7)) < 0.2  # J shares one entry
    assert metrics.representation_similarity(rolled, np.eye(7), cyclic=True) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shape"):
        metrics.representation_similarity(np.eye(5), q)
