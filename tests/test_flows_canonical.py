"""The canonical (smoothest-first) basis of learned symmetry fields: exact cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from symmetrykit.flows import field_jacobians, smoothest_basis


def kdv_like_fields(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit-RMS ∂x, ∂t and boost (t - mean t) ∂x + 0.3 ∂u at (x, t, u) points.

    Returns the values (3, N, 3) and the (constant) Jacobians (3, N, 3, 3).
    """
    x, t, u = points.T
    zero, one = np.zeros_like(x), np.ones_like(x)
    boost = np.stack([t - t.mean(), zero, 0.3 * one], axis=-1)
    fields = np.stack([np.stack([one, zero, zero], -1), np.stack([zero, one, zero], -1), boost])
    norms = np.sqrt((fields**2).sum(-1).mean(-1))
    jacobians = np.zeros((3, len(x), 3, 3))
    jacobians[2, :, 0, 1] = 1.0 / norms[2]  # d(boost_x)/dt of the unit-RMS boost
    return fields / norms[:, None, None], jacobians


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (500, 3))


def test_a_split_boost_is_recovered_in_one_slot(points):
    pure, pure_jac = kdv_like_fields(points)
    # An orthogonal mixture: slot 2 = (∂t + boost)/√2, slot 3 = (∂t - boost)/√2, slot 1 = ∂x,
    # plus a fourth, rough non-symmetry that must stay where it is.
    mix = np.array([[1, 0, 0], [0, 1, 1], [0, 1, -1]]) / np.sqrt([[1], [2], [2]])
    values = np.einsum("kj,jnd->knd", mix, pure)
    jacobians = np.einsum("kj,jnab->knab", mix, pure_jac)
    wiggle = np.stack([np.sin(9 * points[:, 1]), np.cos(7 * points[:, 0]), points[:, 2] ** 2], -1)
    wiggle_jac = np.zeros((len(points), 3, 3))
    wiggle_jac[:, 0, 1] = 9 * np.cos(9 * points[:, 1])
    wiggle_jac[:, 1, 0] = -7 * np.sin(7 * points[:, 0])
    wiggle_jac[:, 2, 2] = 2 * points[:, 2]
    values = np.concatenate([values, wiggle[None]])
    jacobians = np.concatenate([jacobians, wiggle_jac[None]])

    rotation, roughness = smoothest_basis(values, jacobians, np.array([True, True, True, False]))
    canonical = np.einsum("kj,jnd->knd", rotation, values)
    # The non-symmetry is untouched; the three symmetries are rotated among themselves.
    np.testing.assert_array_equal(rotation[3], [0, 0, 0, 1])
    np.testing.assert_array_equal(rotation[:3, 3], 0)
    # Smoothest first: two translations (zero roughness) and then exactly the boost.
    np.testing.assert_allclose(roughness[:2], 0, atol=1e-12)
    assert roughness[2] > 0.5
    np.testing.assert_allclose(canonical[2], pure[2], atol=1e-10)  # sign: mean ∂u part > 0
    # The translations span {∂x, ∂t} and every field keeps unit RMS norm and orthogonality.
    gram = np.einsum("knd,jnd->kj", canonical[:3], canonical[:3]) / len(points)
    np.testing.assert_allclose(gram, np.eye(3), atol=1e-10)
    assert np.abs(canonical[:2, :, 2]).max() < 1e-10


def test_nothing_selected_is_the_identity(points):
    values, jacobians = kdv_like_fields(points)
    for selected in ([False] * 3, [True, False, False]):
        rotation, _ = smoothest_basis(values, jacobians, np.array(selected))
        np.testing.assert_array_equal(rotation, np.eye(3))


def test_translations_are_signed_along_their_mean(points):
    values = -kdv_like_fields(points)[0][:2]
    rotation, _ = smoothest_basis(values, np.zeros((*values.shape, 3)), np.array([True, True]))
    canonical = np.einsum("kj,jnd->knd", rotation, values)
    means = canonical.mean(axis=1)
    assert np.all(means[np.arange(2), np.abs(means).argmax(axis=1)] > 0)


def test_shapes_are_checked(points):
    values = kdv_like_fields(points)[0]
    with pytest.raises(ValueError, match="shapes"):
        smoothest_basis(values, np.zeros((3, 500, 3)), np.array([True] * 3))
    with pytest.raises(ValueError, match="shapes"):
        smoothest_basis(values, np.zeros((*values.shape, 3)), np.array([True] * 2))


def test_field_jacobians_of_an_affine_and_a_nonlinear_field():
    matrix = torch.tensor([[0.0, 1.0, 0.0], [2.0, 0.0, -1.0], [0.5, 0.0, 3.0]],
                          dtype=torch.float64)

    def fields(p):
        return torch.stack([p @ matrix.T + 1.0, torch.sin(p)])

    points = torch.randn(7, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    values, jacobians = field_jacobians(fields, points)
    assert values.shape == (2, 7, 3) and jacobians.shape == (2, 7, 3, 3)
    torch.testing.assert_close(jacobians[0], matrix.expand(7, 3, 3))
    torch.testing.assert_close(jacobians[1], torch.diag_embed(torch.cos(points)))
    assert not points.requires_grad
