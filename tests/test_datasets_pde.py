"""Tests of the PDE data sets: ETDRK4 accuracy, exact solutions, and the true point symmetries."""

import json

import numpy as np
import pytest

from symmetrykit.datasets._pde import (
    PDE_NAMES,
    PDEDataset,
    PointSymmetry,
    _advection,
    _cole_hopf_burgers,
    _solve,
    _symmetries,
    etdrk4_solve,
    pde,
    wavenumbers,
)

KDV_LENGTH = 128.0
NX = 256
HEAT_NU = 0.01


def _dx(u, k, order):
    return np.fft.irfft((1j * k) ** order * np.fft.rfft(u, axis=-1), n=u.shape[-1], axis=-1)


def _kdv_soliton(x, t, speed, x0, length=KDV_LENGTH):
    # u_t + u u_x + u_xxx = 0 has the travelling wave u = 3c sech²(√c/2 (x − ct − x0)).
    xi = (x - speed * t - x0 + length / 2) % length - length / 2
    return 3 * speed / np.cosh(np.sqrt(speed) / 2 * xi) ** 2


def _kdv_soliton_error(step, t_end=2.0):
    x = np.arange(NX) * KDV_LENGTH / NX
    k = wavenumbers(NX, KDV_LENGTH)
    u0 = _kdv_soliton(x, 0.0, 0.5, 40.0)[None]
    u_hat = etdrk4_solve(1j * k**3, _advection(k, NX), np.fft.rfft(u0), [t_end], step)
    u = np.fft.irfft(u_hat[0, -1], n=NX)
    return np.max(np.abs(u - _kdv_soliton(x, t_end, 0.5, 40.0)))


def test_kdv_soliton_fourth_order_convergence():
    errors = [_kdv_soliton_error(h) for h in (0.2, 0.1, 0.05)]
    assert errors[-1] < 1e-7
    factors = [errors[i] / errors[i + 1] for i in range(2)]
    assert min(factors) >= 8.0, (errors, factors)


def test_linear_part_is_exact_for_any_step():
    k = wavenumbers(64, 2 * np.pi)
    rng = np.random.default_rng(0)
    v0 = np.fft.rfft(rng.standard_normal((2, 64)), axis=-1)
    v0[:, -1] = 0

    def no_forcing(v, t):
        return np.zeros_like(v)

    for linear in (-0.01 * k**2, 1j * k**3, k**2 - k**4):
        out = etdrk4_solve(linear, no_forcing, v0, [0.7, 3.0], max_step=1.5)
        exact = v0[:, None, :] * np.exp(linear[None, None, :] * np.array([0.7, 3.0])[:, None])
        # Phases k³t reach ~1e5 rad, so rounding of the phase alone is ~1e-11 relative.
        assert np.max(np.abs(out - exact)) < 1e-9 * np.max(np.abs(v0))


def test_burgers_etdrk4_matches_cole_hopf_closed_form():
    # ψ = 1 + a e^{−ν t} cos x solves ψ_t = ν ψ_xx, so u = −2ν ψ_x/ψ solves Burgers.
    nu, a, nx, times = 0.1, 0.5, 64, np.array([0.5, 2.0])
    x = np.arange(nx) * 2 * np.pi / nx
    k = wavenumbers(nx, 2 * np.pi)

    def exact(t):
        decay = a * np.exp(-nu * t)
        return 2 * nu * decay * np.sin(x) / (1 + decay * np.cos(x))

    u_hat = etdrk4_solve(-nu * k**2, _advection(k, nx), np.fft.rfft(exact(0.0))[None], times, 0.05)
    u = np.fft.irfft(u_hat[0], n=nx, axis=-1)
    assert np.max(np.abs(u - np.stack([exact(t) for t in times]))) < 1e-10
    # The Cole–Hopf route of the data generator is exact.
    cole_hopf = _cole_hopf_burgers((1 + a * np.cos(x))[None], times, k, nu)[0]
    assert np.max(np.abs(cole_hopf - np.stack([exact(t) for t in times]))) < 1e-13


def test_generated_burgers_satisfies_burgers_equation():
    nu, nx, t_mid, delta = 0.01, 256, 3.0, 1e-3
    x = np.arange(nx) * 2 * np.pi / nx
    k = wavenumbers(nx, 2 * np.pi)
    psi0 = np.exp(np.cos(x) + 0.5 * np.sin(2 * x))[None]
    u_prev, u, u_next = _cole_hopf_burgers(psi0, t_mid + delta * np.arange(-1, 2), k, nu)[0]
    u_t = (u_next - u_prev) / (2 * delta)
    residual = u_t + u * _dx(u, k, 1) - nu * _dx(u, k, 2)
    assert np.max(np.abs(residual)) < 1e-6 * np.max(np.abs(u_t))


def test_ks_bounded_and_mean_conserved():
    data = pde("ks", n_trajectories=2, nx=128, nt=20, random_state=3)
    assert np.all(np.isfinite(data.u))
    assert np.max(np.abs(data.u)) < 10
    means = data.u.mean(axis=-1)
    assert np.max(np.abs(means - means[:, :1])) < 1e-12
    assert data.u.std() > 0.5  # chaotic, not decayed


@pytest.mark.parametrize("name", [
    name if name == "ks" else pytest.param(name, marks=pytest.mark.slow) for name in PDE_NAMES])
def test_every_dataset_finite_and_shaped(name):
    data = pde(name, n_trajectories=2, nx=256, nt=5, random_state=0)
    assert isinstance(data, PDEDataset)
    assert data.u.shape == (2, 5, 256) and data.u.dtype == np.float64
    assert data.x.shape == (256,) and data.t.shape == (5,)
    assert np.all(np.isfinite(data.u)) and data.u.std() > 0
    assert data.t[-1] == pytest.approx(data.params["t_end"])
    assert np.allclose(np.diff(data.t), data.params["dt"])
    json.dumps(data.params)
    assert len(data.reference_symmetries) == 3
    for symmetry in data.symmetries:
        components = symmetry(data.x[None, :], data.t[:, None], data.u[0])
        assert all(c.shape == (5, 256) and np.all(np.isfinite(c)) for c in components)


@pytest.mark.slow
def test_reproducible_under_random_state():
    first = pde("kdv", n_trajectories=2, nx=256, nt=3, random_state=7)
    again = pde("kdv", n_trajectories=2, nx=256, nt=3, random_state=7)
    other = pde("kdv", n_trajectories=2, nx=256, nt=3, random_state=8)
    np.testing.assert_array_equal(first.u, again.u)
    assert not np.allclose(first.u, other.u)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "wave"}, "unknown PDE"),
        ({"name": "kdv", "nx": 63}, "nx must be even"),
        ({"name": "kdv", "nx": 8}, "nx must be >= 16"),
        ({"name": "kdv", "nt": 251}, "nt must be <= 250"),
        ({"name": "kdv", "n_trajectories": 0}, "n_trajectories"),
        ({"name": "kdv", "max_step": -1.0}, "max_step"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pde(**kwargs)


def test_galilean_boost_and_translations_of_a_soliton_are_solutions():
    x = np.arange(NX) * KDV_LENGTH / NX
    k = wavenumbers(NX, KDV_LENGTH)
    t, delta = 3.0, 1e-4

    def residual(solution):
        u = solution(t)
        u_t = (solution(t + delta) - solution(t - delta)) / (2 * delta)
        return np.max(np.abs(u_t + u * _dx(u, k, 1) + _dx(u, k, 3)))

    def soliton(time):
        return _kdv_soliton(x, time, 0.5, 40.0)

    boost = 0.3
    candidates = {
        "original": soliton,
        "x-translation": lambda time: _kdv_soliton(x - 7.0, time, 0.5, 40.0),
        "t-translation": lambda time: soliton(time + 2.5),
        # KdV scaling x → λx, t → λ³t, u → u/λ², here with λ = 1.2.
        "scaling": lambda time: _kdv_soliton(x / 1.2, time / 1.2**3, 0.5, 40.0) / 1.2**2,
        "galilean": lambda time: _kdv_soliton(x - boost * time, time, 0.5, 40.0) + boost,
    }
    for name, solution in candidates.items():
        assert residual(solution) < 1e-6, name
    # A non-symmetry for contrast: scaling u alone.
    assert residual(lambda time: 1.3 * soliton(time)) > 1e-2


# Linearisations of the equations: an evolutionary field with characteristic Q is a symmetry
# iff Q_t + linearised operator(Q) = 0 on solutions.
def _linearised(name, q, u, t, k):
    if name == "kdv":
        return _dx(u * q, k, 1) + _dx(q, k, 3)
    if name == "nkdv":
        return np.exp(t / 50) * (_dx(u * q, k, 1) + _dx(q, k, 3))
    if name == "ckdv":
        return _dx(u * q, k, 1) + _dx(q, k, 3) + q / (2 * t + 2)
    if name == "ks":
        return _dx(q, k, 2) + _dx(q, k, 4) + _dx(u * q, k, 1)
    return _dx(u * q, k, 1) - 0.01 * _dx(q, k, 2)


def _second_difference(q, h):
    """Fourth-order central ``q_xx`` at the interior points ``2 .. n − 3`` (no wrap-around)."""
    return (-q[:-4] + 16 * q[1:-3] - 30 * q[2:-2] + 16 * q[3:-1] - q[4:]) / (12 * h * h)


@pytest.mark.parametrize("name", PDE_NAMES)
def test_listed_symmetries_satisfy_the_linearised_equation(name):
    # Burgers fronts sharpen quickly at nu = 0.01; look early so that spectral Q_x is accurate.
    # Heat: late enough that the t and t² coefficients (projective field) matter.
    heat = name == "heat"
    t_mid = {"burgers": 0.2, "heat": 5.0}.get(name, 4.0)
    nx, delta = 128, 1e-3
    length = {"burgers": 2 * np.pi, "heat": 2 * np.pi, "ks": 64.0}.get(name, KDV_LENGTH)
    x = np.arange(nx) * length / nx
    k = wavenumbers(nx, length)
    if name in ("burgers", "heat"):
        u0 = (0.3 * np.sin(x) + 0.2 * np.cos(2 * x))[None]
    else:
        u0 = (0.5 * np.sin(2 * np.pi * x / length) + 0.3 * np.cos(4 * np.pi * x / length))[None]
    times = t_mid + delta * np.arange(-1, 2)
    u_all = _solve(name, u0, times, length, 0.01)[0]
    # u_t from the equation itself (spectrally), at each of the three times.
    u_t_all = np.stack(
        [-_right_hand_side(name, u, tt, k) for u, tt in zip(u_all, times, strict=True)]
    )

    def characteristic(symmetry, j):
        xi, tau, phi = symmetry(x, times[j], u_all[j])
        return phi - xi * _dx(u_all[j], k, 1) - tau * u_t_all[j]

    if heat:
        # ∂u is a heat symmetry; u² ∂u is not (Q_t − ν Q_xx = −2ν u_x²).
        probe = PointSymmetry("u-squared", lambda x, t, u: (0 * x, 0 * x, u * u), False)
    else:
        probe = PointSymmetry("u-translation", lambda x, t, u: (0 * x, 0 * x, 1 + 0 * x), False)
    for symmetry in (*_symmetries(name), probe):
        if not heat and np.ptp(symmetry(x, times[1], u_all[1])[0]) > 0:
            # ξ depends on x (scalings, projective): Q is not periodic, so spectral derivatives
            # do not apply; the KdV scaling is checked on the soliton instead.
            continue
        q = [characteristic(symmetry, j) for j in range(3)]
        q_t = (q[2] - q[0]) / (2 * delta)
        if heat:
            # Polynomial coefficients (x, x², x²/ν) make Q non-periodic: finite differences in x
            # on the interior of [0, L), so every listed heat symmetry is checked.
            spatial = -HEAT_NU * _second_difference(q[1], x[1] - x[0])
            q_t = q_t[2:-2]
        else:
            spatial = _linearised(name, q[1], u_all[1], times[1], k)
        scale = np.max(np.abs(q_t)) + np.max(np.abs(spatial))
        if heat:
            # Q = 1 (∂u) and Q = x have Q_t = Q_xx = 0: measure against rounding of |Q| instead.
            scale += 1e-9 * np.max(np.abs(q[1]))
        relative = np.max(np.abs(q_t + spatial)) / scale
        if symmetry.exact:
            assert relative < 1e-3, (name, symmetry.name, relative)
        else:
            assert relative > 1e-1, (name, symmetry.name, relative)


def _right_hand_side(name, u, t, k):
    # The equations as u_t + (this) = 0.
    if name == "kdv":
        return u * _dx(u, k, 1) + _dx(u, k, 3)
    if name == "nkdv":
        return np.exp(t / 50) * (u * _dx(u, k, 1) + _dx(u, k, 3))
    if name == "ckdv":
        return u * _dx(u, k, 1) + _dx(u, k, 3) + u / (2 * t + 2)
    if name == "ks":
        return _dx(u, k, 2) + _dx(u, k, 4) + u * _dx(u, k, 1)
    if name == "heat":
        return -HEAT_NU * _dx(u, k, 2)
    return u * _dx(u, k, 1) - 0.01 * _dx(u, k, 2)


def test_heat_single_mode_decays_exactly():
    nx, length = 64, 2 * np.pi
    x = np.arange(nx) * length / nx
    times = np.array([0.0, 1.0, 7.5, 18.0])
    u = _solve("heat", np.sin(x)[None], times, length, np.inf)[0]
    expected = np.sin(x)[None, :] * np.exp(-HEAT_NU * times)[:, None]
    assert np.max(np.abs(u - expected)) < 1e-14


def test_heat_dataset_is_the_exact_fourier_flow():
    data = pde("heat", n_trajectories=2, nx=64, nt=4, random_state=0)
    assert data.params["nu"] == HEAT_NU and data.params["solver"] == "fourier (exact)"
    assert data.params["max_step"] is None and data.params["u_scale"] == 1.0
    assert data.params["length"] == pytest.approx(2 * np.pi)
    assert [s.name for s in data.reference_symmetries] == [
        "x-translation", "t-translation", "u-scaling"]
    assert all(s.exact for s in data.symmetries)
    # Each saved step multiplies mode m by e^{−ν m² dt}; the Nyquist mode is absent.
    k = wavenumbers(64, data.params["length"])
    u_hat = np.fft.rfft(data.u, axis=-1)
    decay = np.exp(-HEAT_NU * k**2 * data.params["dt"])
    np.testing.assert_allclose(u_hat[:, 1:], u_hat[:, :-1] * decay, rtol=0, atol=1e-12)
    assert np.max(np.abs(u_hat[..., -1])) < 1e-12
