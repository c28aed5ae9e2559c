"""Symmetry augmentation of PDE solutions and the small FNO (symmetrykit.flows._augment)."""

import numpy as np
import pytest
import torch

from symmetrykit.datasets import PointSymmetry
from symmetrykit.flows._augment import (
    FNO1d,
    augment_solutions,
    transform_solutions,
)

LENGTH, NX = 128.0, 256
X = np.arange(NX) * (LENGTH / NX)
T = 44.0 + 0.4 * np.arange(12)

X_SHIFT = PointSymmetry("x-translation", lambda x, t, u: (np.ones_like(x), 0 * x, 0 * x))
T_SHIFT = PointSymmetry("t-translation", lambda x, t, u: (0 * x, np.ones_like(x), 0 * x))
GALILEAN = PointSymmetry("galilean", lambda x, t, u: (t, 0 * x, np.ones_like(x)))


def _smooth_field(rng, n_traj=3):
    """Random band-limited periodic solutions-like arrays, shape (n_traj, nt, nx)."""
    k = 2 * np.pi * np.arange(1, 6) / LENGTH
    amp = rng.normal(size=(n_traj, 1, 5, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n_traj, 1, 5, 1))
    speed = rng.normal(size=(n_traj, 1, 5, 1))
    arg = k[None, None, :, None] * (X[None, None, None, :] - speed * T[None, :, None, None])
    return (amp * np.sin(arg + phase)).sum(axis=2)


def _wrap(offset):
    return (offset + LENGTH / 2) % LENGTH - LENGTH / 2


def _soliton(c, x0, x, t):
    """Exact KdV soliton of u_t + u u_x + u_xxx = 0 with speed c, wrapped on the period."""
    return 3 * c / np.cosh(0.5 * np.sqrt(c) * _wrap(x[None, :] - x0 - c * t[:, None])) ** 2


def test_integer_x_translation_is_a_periodic_roll():
    u = _smooth_field(np.random.default_rng(0))
    dx = X[1] - X[0]
    out, valid = transform_solutions(u, X, T, X_SHIFT, np.array([3, -7, 40]) * dx)
    assert valid.all()
    for b, steps in enumerate((3, -7, 40)):
        np.testing.assert_allclose(out[b], np.roll(u[b], steps, axis=-1), atol=1e-11)


def test_fractional_x_translation_is_the_spectral_shift():
    rng = np.random.default_rng(1)
    u = rng.normal(size=(1, T.size, NX))  # not band-limited: the shift is still the spectral one
    shift = 0.37 * (X[1] - X[0]) + 5.0
    out, valid = transform_solutions(u, X, T, X_SHIFT, shift)
    k = 2 * np.pi * np.fft.rfftfreq(NX, d=X[1] - X[0])
    expected = np.fft.irfft(np.fft.rfft(u, axis=-1) * np.exp(-1j * k * shift), n=NX, axis=-1)
    assert valid.all()
    np.testing.assert_allclose(out, expected, atol=1e-10)


def test_zero_parameter_is_the_identity():
    u = _smooth_field(np.random.default_rng(2))
    for sym in (X_SHIFT, T_SHIFT, GALILEAN):
        out, valid = transform_solutions(u, X, T, sym, 0.0)
        assert valid.all()
        np.testing.assert_array_equal(out, u)
    aug = augment_solutions(u, X, T, [GALILEAN, T_SHIFT], s_range=0.0, random_state=0)
    np.testing.assert_array_equal(aug.u, u)
    assert aug.valid.all()


def test_tiny_flow_is_close_to_identity_without_the_shortcut():
    u = _smooth_field(np.random.default_rng(3))
    out, valid = transform_solutions(u, X, T, GALILEAN, 1e-12)
    assert valid.all()
    np.testing.assert_allclose(out, u, atol=1e-9)


def test_time_translation_crops_the_uncovered_rows():
    u = _smooth_field(np.random.default_rng(4))
    dt = T[1] - T[0]
    out, valid = transform_solutions(u, X, T, T_SHIFT, 2 * dt)
    # The moved trajectory covers t[2:] only; there it is the original, shifted by two rows.
    np.testing.assert_array_equal(valid[0], np.arange(T.size) >= 2)
    assert np.isnan(out[:, :2]).all()
    np.testing.assert_allclose(out[:, 2:], u[:, :-2], atol=1e-11)
    # Half a step: linear interpolation in time, and one cropped row.
    out, valid = transform_solutions(u, X, T, T_SHIFT, -0.5 * dt)
    np.testing.assert_array_equal(valid[0], np.arange(T.size) < T.size - 1)
    np.testing.assert_allclose(out[:, :-1], 0.5 * (u[:, :-1] + u[:, 1:]), atol=1e-11)


def test_galilean_boost_of_a_soliton_is_a_faster_soliton():
    # u -> u(x - s t, t) + s maps solutions of u_t + u u_x + u_xxx = 0 to solutions; a soliton of
    # speed c becomes a soliton of speed c + s on the background s (t is the data set's absolute
    # time, as in PDEDataset.symmetries).
    c, x0, s = 1.2, 20.0, 0.15
    t = 44.0 + 0.4016 * np.arange(30)
    u = _soliton(c, x0, X, t)
    out, valid = transform_solutions(u, X, t, GALILEAN, s)
    assert valid.all()
    # Same amplitude 3c (not 3(c + s)): the boost adds the background, it does not grow the peak.
    expected = 3 * c / np.cosh(0.5 * np.sqrt(c) * _wrap(X[None] - x0 - (c + s) * t[:, None])) ** 2
    # The only error is the band-limited (spectral) shift of a sampled sech^2 of width ~2 dx.
    np.testing.assert_allclose(out[0], expected + s, atol=1e-5)
    # The peak moves at speed c + s.
    peaks = X[np.argmax(out[0], axis=-1)]
    speed = np.polyfit(t, np.unwrap(peaks * 2 * np.pi / LENGTH) * LENGTH / (2 * np.pi), 1)[0]
    assert abs(speed - (c + s)) < 0.02


def test_learned_callable_matches_point_symmetry():
    u = _smooth_field(np.random.default_rng(5))

    def learned(points):
        return torch.stack([points[:, 1], torch.zeros_like(points[:, 0]),
                            torch.ones_like(points[:, 0])], dim=-1)

    a = augment_solutions(u, X, T, [GALILEAN], s_range=0.2, random_state=7)
    b = augment_solutions(u, X, T, [learned], s_range=0.2, random_state=7)
    np.testing.assert_allclose(a.u, b.u, atol=1e-12)
    np.testing.assert_array_equal(a.s, b.s)
    assert np.all(np.abs(a.s) <= 0.2)


def test_augment_rejects_trajectories_with_too_few_rows():
    u = _smooth_field(np.random.default_rng(6), n_traj=6)
    aug = augment_solutions(u, X, T, [T_SHIFT], s_range=[3.0], random_state=1,
                            min_valid_rows=T.size)
    rejected = aug.symmetry == -1
    # A shift of more than 0.2 dt leaves an edge row below the 0.8 support threshold.
    assert 0 < rejected.sum() < rejected.size
    np.testing.assert_array_equal(aug.s[rejected], 0.0)
    np.testing.assert_array_equal(aug.u[rejected], u[rejected])
    assert aug.valid.all()
    dt = T[1] - T[0]
    kept_s = aug.s[~rejected]
    assert np.all(np.abs(kept_s) < dt)
    assert np.all(np.minimum(np.abs(kept_s) % dt, dt - np.abs(kept_s) % dt) <= 0.2 * dt)


def test_augment_is_reproducible():
    u = _smooth_field(np.random.default_rng(7))
    syms = [X_SHIFT, T_SHIFT, GALILEAN]
    a = augment_solutions(u, X, T, syms, s_range=[5.0, 0.5, 0.1], random_state=3)
    b = augment_solutions(u, X, T, syms, s_range=[5.0, 0.5, 0.1],
                          random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(a.u, b.u)
    np.testing.assert_array_equal(a.symmetry, b.symmetry)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(u=np.zeros((2, 5, NX))), "u must have shape"),
        (dict(x=X[:-1]), "even number"),
        (dict(x=X ** 1.5), "uniformly spaced"),
        (dict(t=T[::-1]), "uniformly spaced"),
        (dict(s_range=-1.0), "s_range"),
        (dict(s_range=[1.0, 2.0]), "s_range"),
        (dict(symmetries=[]), "symmetries must not be empty"),
        (dict(symmetries=[3]), "callable"),
        (dict(random_state="seed"), "random_state"),
        (dict(min_valid_rows=0), "min_valid_rows"),
    ],
)
def test_bad_inputs_raise(kwargs, match):
    args = dict(u=np.zeros((2, T.size, NX)), x=X, t=T, symmetries=[X_SHIFT], s_range=1.0,
                random_state=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        augment_solutions(args.pop("u"), args.pop("x"), args.pop("t"), args.pop("symmetries"),
                          **args)


def test_transform_bad_inputs_raise():
    u = np.zeros((2, T.size, NX))
    with pytest.raises(ValueError, match="s must be"):
        transform_solutions(u, X, T, X_SHIFT, np.ones(3))
    with pytest.raises(ValueError, match="returned shape"):
        transform_solutions(u, X, T, lambda p: p[:, :2], 1.0)
    with pytest.raises(ValueError, match="finite"):
        transform_solutions(np.full_like(u, np.nan), X, T, X_SHIFT, 1.0)


def test_fno_shape_and_one_step_reduces_loss(single_thread):
    gen = torch.Generator().manual_seed(0)
    model = FNO1d(4, 3, width=8, modes=5, n_layers=2, rng=gen)
    inputs = torch.randn(6, 4, 32, generator=gen)
    targets = torch.randn(6, 3, 32, generator=gen)
    assert model(inputs).shape == (6, 3, 32)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss0 = torch.mean((model(inputs) - targets) ** 2)
    optimizer.zero_grad()
    loss0.backward()
    optimizer.step()
    loss1 = torch.mean((model(inputs) - targets) ** 2)
    assert loss1.item() < loss0.item()
    with pytest.raises(ValueError, match="input must have shape"):
        model(torch.zeros(2, 5, 32))
    with pytest.raises(ValueError, match="modes"):
        FNO1d(4, 3, modes=0)


def test_fno_same_seed_same_weights():
    a = FNO1d(2, 2, width=4, modes=3, rng=torch.Generator().manual_seed(1))
    b = FNO1d(2, 2, width=4, modes=3, rng=torch.Generator().manual_seed(1))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
