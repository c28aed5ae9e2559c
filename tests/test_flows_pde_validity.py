"""PDE validity score and the flow action on PDE solutions (symmetrykit.flows._pde_validity)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from symmetrykit.datasets import pde
from symmetrykit.flows._pde_validity import (
    PDEResidual,
    _ChainRule,
    deform_solution,
    pde_residual,
)


@pytest.fixture(scope="module", params=[
    pytest.param(("kdv", "weno"), marks=pytest.mark.slow),
    pytest.param(("ks", "weno"), marks=pytest.mark.slow),
    pytest.param(("kdv", "chain"), marks=pytest.mark.slow),
    ("ks", "chain"),  # the fast representative (-m "not slow")
], ids="-".join)
def case(request):
    name, method = request.param
    data = pde(name, n_trajectories=2, nt=16, random_state=0)
    residual = PDEResidual.for_dataset(data, method=method)
    u, x, t = (torch.from_numpy(a) for a in (data.u, data.x, data.t))
    floor = residual(deform_solution(lambda p: torch.zeros_like(p), u, x, t, 0.0))
    return data, residual, (u, x, t), floor


def _scales(data):
    p = data.params
    return p["length"], p["nt"] * p["dt"], p["u_scale"]


def _symmetry_field(symmetry, data):
    """Physical-unit field of a PointSymmetry, unit RMS in the learning coordinates.

    The learning coordinates are the authors' ``(x/L, (t − t0)/(nt·dt), c·u)``; see
    ``docs/data.md``.
    """
    length, duration, c = _scales(data)
    grid_x, grid_t = np.meshgrid(data.x, data.t)
    xi, tau, phi = symmetry(grid_x[None], grid_t[None], data.u)
    norm = math.sqrt(np.mean((xi / length) ** 2 + (tau / duration) ** 2 + (phi * c) ** 2))

    def field(points):
        values = symmetry(*points.detach().numpy().T)
        return torch.from_numpy(np.stack(values, axis=-1)) / norm

    return field


def _random_field(data, seed):
    """Smooth random field, periodic in x, unit RMS in the learning coordinates."""
    length, duration, c = _scales(data)
    t0 = data.params["t0"]
    gen = torch.Generator().manual_seed(seed)
    kx = torch.randint(1, 3, (3,), generator=gen).double()
    w = torch.randn(2, 3, generator=gen, dtype=torch.float64)
    mix = torch.randn(3, 3, generator=gen, dtype=torch.float64)
    phase = 2 * math.pi * torch.rand(3, generator=gen, dtype=torch.float64)
    to_physical = torch.tensor([length, duration, 1.0 / c], dtype=torch.float64)

    def normalised(points):
        xn, tn, un = points[:, 0] / length, (points[:, 1] - t0) / duration, points[:, 2] * c
        angle = 2 * math.pi * kx * xn[:, None] + w[0] * tn[:, None] + w[1] * un[:, None] + phase
        return torch.sin(angle) @ mix.T

    grid_x, grid_t = np.meshgrid(data.x, data.t)
    shape = data.u.shape
    start = np.stack([np.broadcast_to(grid_x, shape), np.broadcast_to(grid_t, shape), data.u], -1)
    norm = normalised(torch.from_numpy(start.reshape(-1, 3))).pow(2).sum(-1).mean().sqrt()
    return lambda points: normalised(points) / norm * to_physical


def _rise(case, field, s):
    data, residual, (u, x, t), floor = case
    return (residual(deform_solution(field, u, x, t, s)) - floor).numpy()


def test_untransformed_floor_is_low(case):
    *_, floor = case
    assert floor.shape == (2,)
    assert bool((floor < -3.5).all()) and bool((floor > math.log(1e-4)).all())


@pytest.mark.parametrize("s", [-0.4, 0.4])
def test_true_symmetries_stay_near_floor(case, s):
    data = case[0]
    for symmetry in data.reference_symmetries:
        rise = _rise(case, _symmetry_field(symmetry, data), s)
        assert np.all(np.abs(rise) < 0.5), (symmetry.name, rise)


@pytest.mark.parametrize("s", [-0.4, pytest.param(0.4, marks=pytest.mark.slow)])
def test_non_symmetries_raise_the_score(case, s):
    data = case[0]
    c = data.params["u_scale"]
    u_translation = lambda p: torch.tensor([0.0, 0.0, 1.0 / c], dtype=p.dtype).expand_as(p)  # noqa: E731
    assert np.all(_rise(case, u_translation, s) > 2.5)
    for seed in (0, 1):
        assert np.all(_rise(case, _random_field(data, seed), s) > 3.0)


def test_u_scaling_raises_the_score(case):
    data = case[0]
    rms = math.sqrt(np.mean((data.params["u_scale"] * data.u) ** 2))
    scaling = lambda p: torch.stack([0 * p[:, 0], 0 * p[:, 0], p[:, 2] / rms], -1)  # noqa: E731
    # Amplifying u breaks the equation; shrinking it (s < 0) also shrinks the absolute residual.
    assert np.all(_rise(case, scaling, 0.4) > 3.0)


def test_score_is_periodic_in_x(case):
    _, residual, (u, x, t), floor = case
    points = deform_solution(lambda p: torch.zeros_like(p), u, x, t, 0.0)
    shifted = points + torch.tensor([residual.length, 0.0, 0.0], dtype=points.dtype)
    rolled = torch.roll(points, shifts=5, dims=2)
    torch.testing.assert_close(residual(shifted), floor)
    torch.testing.assert_close(residual(rolled), floor)


def _tiny_points(seed=0, nt=4, nx=9, length=8.0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.arange(nx, dtype=torch.float64) * (length / nx)
    t = 1.0 + 0.3 * torch.arange(nt, dtype=torch.float64)
    u = torch.sin(2 * math.pi * x / length)[None, None] * torch.cos(t)[None, :, None]
    u = u + 0.3 * torch.randn(2, nt, nx, generator=gen, dtype=torch.float64)
    jitter = 0.05 * torch.randn(2, nt, nx, 3, generator=gen, dtype=torch.float64)
    return deform_solution(lambda p: torch.zeros_like(p), u, x, t, 0.0) + jitter, length


@pytest.mark.slow
@pytest.mark.parametrize("name", ["kdv", "ks", "burgers", "nkdv", "ckdv", "heat"])
def test_gradcheck_residual_wrt_points(name):
    points, length = _tiny_points(nx=9 if name != "ks" else 11)
    points.requires_grad_(True)
    residual = pde_residual(name, length, floor=0.0, detach_weights=False)
    assert torch.autograd.gradcheck(residual, (points,), atol=1e-6, rtol=1e-4)
    detached = pde_residual(name, length)(points).sum()
    (grad,) = torch.autograd.grad(detached, points)
    assert bool(torch.isfinite(grad).all()) and float(grad.abs().sum()) > 0


def test_gradcheck_deform_solution_wrt_s():
    points, _ = _tiny_points(nt=3, nx=4)
    u, x, t = points[..., 2].detach(), points[0, 0, :, 0].detach(), points[0, :, 0, 1].detach()

    def field(p):
        return torch.stack([torch.sin(p[:, 1]) + p[:, 2], 0.5 * p[:, 0], -p[:, 2] * p[:, 1]], -1)

    s = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda s: deform_solution(field, u, x, t, s), (s,))


def test_deform_solution_matches_exact_flows():
    u = torch.rand(2, 3, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    x, t = torch.arange(5.0, dtype=torch.float64), torch.arange(3.0, dtype=torch.float64) + 10
    galilean = lambda p: torch.stack([p[:, 1], 0 * p[:, 1], torch.ones_like(p[:, 1])], -1)  # noqa: E731
    s = torch.tensor([0.4, -0.4], dtype=torch.float64)
    moved = deform_solution(galilean, u, x, t, s, n_steps=2)
    shift = s[:, None, None]
    torch.testing.assert_close(moved[..., 0], x + shift * t[:, None])
    torch.testing.assert_close(moved[..., 1], t[:, None].expand(3, 5).expand(2, 3, 5))
    torch.testing.assert_close(moved[..., 2], u + shift)


def test_for_dataset_reads_params():
    data = pde("burgers", n_trajectories=1, nx=32, nt=4, random_state=0)
    residual = PDEResidual.for_dataset(data, floor=1e-3)
    assert (residual.name, residual.length, residual.nu, residual.floor) == (
        "burgers",
        data.params["length"],
        0.01,
        1e-3,
    )


@pytest.mark.parametrize("method", [pytest.param("weno", marks=pytest.mark.slow), "chain"])
def test_heat_residual_is_u_t_minus_nu_u_xx(method):
    data = pde("heat", n_trajectories=2, nx=64, nt=16, random_state=0)
    heat = PDEResidual.for_dataset(data, method=method, floor=0.0)
    assert (heat.name, heat.nu) == ("heat", 0.01)
    u, x, t = (torch.from_numpy(a) for a in (data.u, data.x, data.t))
    points = deform_solution(lambda p: torch.zeros_like(p), u, x, t, 0.0)
    # The generated solution satisfies the heat equation to discretisation accuracy; the same
    # points miss Burgers' equation by the advection term u u_x.
    burgers = pde_residual("burgers", data.params["length"], method=method, floor=0.0)
    assert bool((heat(points) < math.log(1e-4)).all())
    assert bool((burgers(points) > heat(points) + 3.0).all())
    # The reference symmetries keep the solution a solution: the translations leave the score
    # as it is, u-scaling (unit RMS: u ∂u / rms(u)) multiplies u and the linear residual by
    # e^{0.4 / rms(u)}.
    base = heat(points)
    rms = math.sqrt(np.mean(data.u**2))
    for symmetry in data.reference_symmetries:
        moved = heat(deform_solution(_symmetry_field(symmetry, data), u, x, t, 0.4))
        rise = 0.4 / rms if symmetry.name == "u-scaling" else 0.0
        torch.testing.assert_close(moved, base + rise, atol=1e-2, rtol=0, msg=symmetry.name)


def test_invalid_inputs():
    with pytest.raises(ValueError, match="unknown PDE"):
        pde_residual("wave", 1.0)
    with pytest.raises(ValueError, match="length"):
        pde_residual("kdv", -1.0)
    with pytest.raises(ValueError, match="floor"):
        pde_residual("kdv", 1.0, floor=-1.0)
    with pytest.raises(ValueError, match="reduction"):
        pde_residual("kdv", 1.0, reduction="sum")
    with pytest.raises(ValueError, match="points"):
        pde_residual("kdv", 1.0)(torch.zeros(3, 4, 3))
    with pytest.raises(ValueError, match="nx >= 7"):
        pde_residual("kdv", 1.0)(torch.zeros(1, 4, 5, 3))
    with pytest.raises(ValueError, match="PDEDataset"):
        PDEResidual.for_dataset(object())
    u = torch.zeros(2, 3, 4, dtype=torch.float64)
    x, t = torch.arange(4.0), torch.arange(3.0)
    with pytest.raises(ValueError, match="s must"):
        deform_solution(lambda p: p, u, x, t, torch.zeros(3))
    with pytest.raises(ValueError, match="x must"):
        deform_solution(lambda p: p, u, torch.arange(5.0), t, 0.1)


@pytest.mark.slow
def test_log_mean_square_reduction_bounds_mean_log(case):
    data, residual, (u, x, t), floor = case
    points = deform_solution(lambda p: torch.zeros_like(p), u, x, t, 0.0)
    rms = PDEResidual.for_dataset(data, reduction="log_mean_square")(points)
    assert bool((rms >= floor - 1e-12).all())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["kdv", "ks", "burgers", "ckdv", "heat"])
def test_gradcheck_chain_residual_wrt_points(name):
    points, length = _tiny_points(nt=9, nx=12)
    points.requires_grad_(True)
    residual = pde_residual(name, length, floor=0.0, method="chain")
    assert torch.autograd.gradcheck(residual, (points,), atol=1e-6, rtol=1e-4)


def test_chain_rule_is_exact_for_polynomials_on_a_sheared_grid():
    # x' = x + 0.3 t (a Galilean shear), t' = t; u' a quartic in x' and t': the fourth-order
    # index differences and the chain rule reproduce every derivative exactly.
    nt, nx, length = 15, 40, 1e6
    i, j = torch.meshgrid(torch.arange(nt, dtype=torch.float64),
                          torch.arange(nx, dtype=torch.float64), indexing="ij")
    t = 2.0 + 0.25 * i
    x = 0.5 * j + 0.3 * t

    def u_of(x, t):
        return x**4 / 24 - x**2 * t / 2 + t**2 + 3 * x * t

    points = torch.stack([x, t, u_of(x, t)], dim=-1)[None]
    chain = _ChainRule(length)
    r, reach = chain.rows_dropped(4), chain.columns_reached(4)
    u, u_x, u_t, u_xx, u_xxxx = chain.derivatives(points, 4, want_second=True)
    xc, tc = x[r : nt - r, reach : nx - reach], t[r : nt - r, reach : nx - reach]
    inner = (slice(None), slice(None), slice(reach, nx - reach))
    expected = {
        "u": u_of(xc, tc),
        "u_x": xc**3 / 6 - xc * tc + 3 * tc,
        "u_t": -(xc**2) / 2 + 2 * tc + 3 * xc,
        "u_xx": xc**2 / 2 - tc,
        "u_xxxx": torch.ones_like(xc),
    }
    for key, value in zip(expected, (u, u_x, u_t, u_xx, u_xxxx), strict=True):
        torch.testing.assert_close(value[inner][0], expected[key], rtol=1e-9, atol=1e-8,
                                   msg=key)


def test_chain_rows_and_columns_are_reported():
    residual = pde_residual("ks", 64.0, method="chain")
    assert (residual.rows_dropped, residual.columns_reached) == (4, 8)
    points, length = _tiny_points(nt=9, nx=20)
    assert pde_residual("ks", length, method="chain").pointwise(points).shape == (2, 1, 20)
    with pytest.raises(ValueError, match="nt >= 9"):
        residual.pointwise(points[:, :8])
    with pytest.raises(ValueError, match="method"):
        pde_residual("kdv", 1.0, method="spline")
