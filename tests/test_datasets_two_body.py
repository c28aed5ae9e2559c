"""Tests of the two-body pairs (LieGAN's two-body task): conservation laws and the rotation."""

import json

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from symmetrykit.datasets import TwoBodyPairs, two_body


@pytest.fixture(scope="module")
def data():
    return two_body(n_orbits=60, pairs_per_orbit=5, random_state=3)


def _energy(s):
    q1, q2, p1, p2 = s[:, 0:2], s[:, 2:4], s[:, 4:6], s[:, 6:8]
    kinetic = 0.5 * np.sum(p1**2, axis=1) + 0.5 * np.sum(p2**2, axis=1)
    return kinetic - 1.0 / np.linalg.norm(q1 - q2, axis=1)


def _newton(_t, s):
    q1, q2, p1, p2 = s[0:2], s[2:4], s[4:6], s[6:8]
    d = q2 - q1
    force = d / np.linalg.norm(d) ** 3  # on body 1; G = m1 = m2 = 1
    return np.concatenate([p1, p2, force, -force])


def _integrate(state, duration):
    sol = solve_ivp(_newton, (0.0, duration), state, method="DOP853", rtol=1e-12, atol=1e-12)
    return sol.y[:, -1]


def test_shapes_dtype_and_metadata(data):
    assert isinstance(data, TwoBodyPairs)
    assert data.X.shape == data.Y.shape == (300, 8)
    assert data.X.dtype == data.Y.dtype == data.generator.dtype == np.float64
    assert data.n_samples == 300 and data.dim == 8
    assert data.name == "two-body"
    j = np.array([[0.0, -1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(data.generator, np.kron(np.eye(4), j))
    assert json.loads(json.dumps(data.params)) == data.params
    assert data.params["random_state"] == 3 and data.params["step"] == 0.1


def test_default_size():
    # Cheap check of the default sizes without generating 15,000 pairs twice in the suite.
    small = two_body(random_state=0, n_orbits=2)
    assert small.params["pairs_per_orbit"] == 15
    assert small.n_samples == 30


def test_centre_of_mass_frame(data):
    for s in (data.X, data.Y):
        np.testing.assert_allclose(s[:, 0:2] + s[:, 2:4], 0.0, atol=1e-9)
        np.testing.assert_allclose(s[:, 4:6] + s[:, 6:8], 0.0, atol=1e-9)


def test_energy_conserved_and_orbits_bound(data):
    np.testing.assert_allclose(_energy(data.Y), _energy(data.X), rtol=0, atol=1e-7)
    assert np.all(_energy(data.X) < 0)
    separation = np.linalg.norm(data.X[:, 0:2] - data.X[:, 2:4], axis=1)
    assert separation.min() > 0.3 and separation.max() < 2.5


def test_pairs_follow_the_dynamics(data):
    for i in range(0, data.n_samples, 60):
        np.testing.assert_allclose(_integrate(data.X[i], 0.1), data.Y[i], rtol=0, atol=1e-7)


@pytest.mark.parametrize("theta", [0.3, 1.7, -2.4])
def test_rotation_is_a_symmetry(data, theta):
    rot = expm(theta * data.generator)
    np.testing.assert_allclose(rot.T @ rot, np.eye(8), atol=1e-12)
    for i in (0, 77, 151, 299):
        x_rot, y_rot = rot @ data.X[i], rot @ data.Y[i]
        np.testing.assert_allclose(_integrate(x_rot, 0.1), y_rot, rtol=0, atol=1e-7)


def test_a_non_symmetry_is_detected(data):
    # Control for the test above: stretching one axis does not commute with the dynamics.
    stretch = np.diag([1.3, 1.0] * 4)
    x, y = stretch @ data.X[0], stretch @ data.Y[0]
    assert np.max(np.abs(_integrate(x, 0.1) - y)) > 1e-4


def test_reproducible_and_seed_dependent():
    a = two_body(n_orbits=5, pairs_per_orbit=3, random_state=11)
    b = two_body(n_orbits=5, pairs_per_orbit=3, random_state=11)
    c = two_body(n_orbits=5, pairs_per_orbit=3, random_state=12)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.Y, b.Y)
    assert not np.allclose(a.X, c.X)
    unseeded = two_body(n_orbits=5, pairs_per_orbit=3)
    again = two_body(n_orbits=5, pairs_per_orbit=3, random_state=unseeded.params["random_state"])
    np.testing.assert_array_equal(unseeded.X, again.X)


def test_noise_is_added():
    clean = two_body(n_orbits=5, pairs_per_orbit=3, random_state=4)
    noisy = two_body(n_orbits=5, pairs_per_orbit=3, noise=0.01, random_state=4)
    delta = noisy.X - clean.X
    assert 0 < np.std(delta) < 0.05
    assert noisy.params["noise"] == 0.01


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_orbits": 0}, "n_orbits"),
        ({"n_orbits": 2.5}, "n_orbits"),
        ({"pairs_per_orbit": 0}, "pairs_per_orbit"),
        ({"step": 0.0}, "step"),
        ({"step": float("nan")}, "step"),
        ({"step": "0.1"}, "step"),
        ({"noise": -0.1}, "noise"),
        ({"radius_range": (1.5, 0.5)}, "radius_range"),
        ({"radius_range": (0.0, 1.0)}, "radius_range"),
        ({"speed_range": (0.9, 1.5)}, "speed_range"),
        ({"random_state": -1}, "random_state"),
    ],
)
def test_bad_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        two_body(**kwargs)
