"""The Lie derivative of operators on fields: exact operators, finite transformations, discovery,
promotion and the Galilean frame."""

import numpy as np
import pytest
import torch

import symmetrykit as sk
from symmetrykit.datasets import PointSymmetry
from symmetrykit.flows import FNO1d
from symmetrykit.liederiv import (
    FieldGrid,
    GalileanFrame,
    OperatorSymmetryPenalty,
    discover_operator,
    galilean_boost,
    operator_lie_derivative,
)
from symmetrykit.testing import assert_operator_symmetric

NU = 0.1
X_SHIFT = PointSymmetry("x-translation", lambda x, t, u: (1.0, 0.0, 0.0))
T_SHIFT = PointSymmetry("t-translation", lambda x, t, u: (0.0, 1.0, 0.0))
U_SCALE = PointSymmetry("u-scaling", lambda x, t, u: (0.0, 0.0, u))
U_SHIFT = PointSymmetry("u-shift", lambda x, t, u: (0.0, 0.0, 1.0))
GALILEAN = PointSymmetry("galilean", lambda x, t, u: (t, 0.0, 1.0))
SCALING = PointSymmetry("scaling", lambda x, t, u: (x, 2 * t, 0.0))


def _grid(n_in=5, n_out=3, nx=64, dt=0.05):
    return FieldGrid.uniform(nx=nx, length=2 * np.pi, n_in=n_in, n_out=n_out, dt=dt)


def _heat_solutions(grid, n=6, seed=0):
    """Exact solutions of u_t = ν u_xx on the grid's rows (random smooth initial fields)."""
    rng = np.random.default_rng(seed)
    k = np.fft.rfftfreq(grid.nx, d=grid.length / grid.nx) * 2 * np.pi
    coefficients = (rng.normal(size=(n, k.size)) + 1j * rng.normal(size=(n, k.size)))
    coefficients *= np.exp(-0.3 * k**2)
    coefficients[:, 0] = rng.normal(size=n) * grid.nx
    times = np.concatenate([grid.t_in, grid.t_out])
    decay = np.exp(-NU * k[None, :] ** 2 * times[:, None])
    fields = np.fft.irfft(coefficients[:, None, :] * decay[None], n=grid.nx, axis=-1)
    return torch.as_tensor(fields[:, : grid.t_in.size]), torch.as_tensor(fields)


def _heat_operator(grid):
    """The exact solution operator: the last input row propagated to each output time."""
    k = torch.as_tensor(np.fft.rfftfreq(grid.nx, d=grid.length / grid.nx) * 2 * np.pi)
    lags = torch.as_tensor(grid.t_out - grid.t_in[-1])

    def step(u):
        spectrum = torch.fft.rfft(u[:, -1], dim=-1)
        decay = torch.exp(-NU * k[None, :] ** 2 * lags[:, None])
        return torch.fft.irfft(spectrum[:, None, :] * decay[None], n=grid.nx, dim=-1)

    return step


def _relative(lie, operator, u):
    with torch.no_grad():
        size = operator(u).pow(2).mean().sqrt()
    return (lie.pow(2).mean(dim=(1, 2, 3)).sqrt() / size).detach().numpy()


def test_a_spectral_convolution_commutes_with_translation_to_rounding():
    grid = _grid(n_in=1, n_out=1)
    gen = torch.Generator().manual_seed(0)
    weights = torch.randn(grid.nx // 2 + 1, generator=gen, dtype=torch.complex128)

    def convolution(u):
        return torch.fft.irfft(torch.fft.rfft(u, dim=-1) * weights, n=grid.nx, dim=-1)

    u = torch.randn(8, 1, grid.nx, dtype=torch.float64, generator=gen)
    assert_operator_symmetric(convolution, u, [X_SHIFT], grid, rtol=1e-10)


def test_an_operator_with_position_dependent_weights_is_not_translation_equivariant():
    grid = _grid(n_in=1, n_out=1)
    weight = torch.as_tensor(1.0 + 0.5 * np.sin(grid.x))

    def modulate(u):
        return u * weight

    u, _ = _heat_solutions(_grid(n_in=1, n_out=1))
    lie = operator_lie_derivative(modulate, u, [X_SHIFT], grid)
    assert _relative(lie, modulate, u)[0] > 0.05
    with pytest.raises(AssertionError, match="x-translation: 0.[0-9]"):
        assert_operator_symmetric(modulate, u, [X_SHIFT], grid, rtol=1e-3)


def test_an_fno_is_translation_equivariant_up_to_the_aliasing_of_its_nonlinearities():
    grid = _grid(n_in=5, n_out=3)
    model = FNO1d(5, 3, width=8, modes=6, n_layers=2, rng=torch.Generator().manual_seed(0),
                  dtype=torch.float64)
    u, _ = _heat_solutions(grid)
    relative = _relative(operator_lie_derivative(model, u, [X_SHIFT, GALILEAN], grid), model, u)
    assert relative[0] < 1e-4  # spectral derivative vs pointwise GELU between grid points
    assert relative[1] > 1e-2


def test_the_exact_heat_operator_respects_its_symmetries_and_not_the_kdv_boost():
    grid = _grid()
    operator = _heat_operator(grid)
    u, _ = _heat_solutions(grid)
    relative = _relative(
        operator_lie_derivative(operator, u, [X_SHIFT, U_SCALE, U_SHIFT, T_SHIFT, GALILEAN],
                                grid), operator, u)
    assert np.all(relative[:3] < 1e-12)
    assert relative[3] < 1e-5  # u_t by fourth-order differences along time
    # a boost t ∂x + ∂u shifts the output by (t_out − t_in[-1]) · ∂x: small lags, small defect
    assert relative[4] > 1e-3


def test_discover_finds_the_heat_operators_four_symmetries():
    grid = _grid()
    u, _ = _heat_solutions(grid, n=12)
    found = discover_operator(_heat_operator(grid), u, [X_SHIFT, T_SHIFT, U_SCALE, U_SHIFT,
                                                       GALILEAN], grid)
    assert found.nullity == 4
    assert found.gap > 1e3
    assert found.singular_values[3] < 1e-5 < found.singular_values[4]
    assert found.angle("x-translation") < 1e-3
    assert found.angle("galilean") > 80
    assert "symmetries of 5 candidates" in found.summary()


def test_finite_boosts_agree_with_the_infinitesimal_one_to_first_order():
    grid = _grid()
    model = FNO1d(5, 3, width=8, modes=6, n_layers=2, rng=torch.Generator().manual_seed(1),
                  dtype=torch.float64)
    u, _ = _heat_solutions(grid)
    lie = operator_lie_derivative(model, u, [GALILEAN], grid)[0]
    errors = []
    with torch.no_grad():
        for s in (1e-2, 1e-3):
            moved = model(galilean_boost(u, s, grid.t_in, grid))
            difference = (moved - galilean_boost(model(u), s, grid.t_out, grid)) / s
            errors.append(float((difference - lie).norm() / lie.norm()))
    assert errors[1] < 1e-2
    assert errors[1] < 0.2 * errors[0]  # first order: the error falls with s


def test_the_galilean_frame_makes_any_operator_boost_equivariant():
    grid = _grid()
    inner = FNO1d(5, 3, width=8, modes=6, n_layers=2, rng=torch.Generator().manual_seed(2),
                  dtype=torch.float64)
    model = GalileanFrame(inner, grid, velocity=1.0)
    u, _ = _heat_solutions(grid)
    assert_operator_symmetric(model, u, [GALILEAN], grid, rtol=1e-10)
    assert_operator_symmetric(model, u, [X_SHIFT], grid, rtol=1e-4)
    with torch.no_grad():
        left = model(galilean_boost(u, 0.7, grid.t_in, grid))
        right = galilean_boost(model(u), 0.7, grid.t_out, grid)
    torch.testing.assert_close(left, right, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kind", ["nuclear", "group-lasso"])
def test_the_penalty_is_differentiable_and_training_on_it_lowers_it(kind):
    grid = _grid()
    torch.manual_seed(0)
    model = FNO1d(5, 3, width=8, modes=6, n_layers=2, rng=torch.Generator().manual_seed(3),
                  dtype=torch.float64)
    penalty = OperatorSymmetryPenalty([GALILEAN, U_SHIFT], grid, kind=kind, n_fields=4)
    u, _ = _heat_solutions(grid)
    u = u.float().double()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    values = []
    for _ in range(30):
        loss = penalty(model, u)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        values.append(float(loss.detach()))
    assert all(p.grad is not None for p in model.parameters())
    assert values[-1] < 0.5 * values[0]
    assert penalty.last_singular_values.shape == (2,)


def test_bad_grids_candidates_and_operators_get_one_clear_line():
    grid = _grid()
    u, _ = _heat_solutions(grid)
    with pytest.raises(ValueError, match="does not preserve the periodic grid"):
        operator_lie_derivative(_heat_operator(grid), u, [SCALING], grid)
    line = FieldGrid.uniform(nx=64, length=1.0, n_in=5, n_out=3, dt=0.05, periodic=False)
    with pytest.raises(ValueError, match="moves the boundary"):
        operator_lie_derivative(lambda v: v[:, :3], u, [X_SHIFT], line)
    with pytest.raises(ValueError, match="output grid has 32 points"):
        operator_lie_derivative(lambda v: v[:, :3, ::2], u, [X_SHIFT], grid)
    with pytest.raises(ValueError, match="NaN"):
        operator_lie_derivative(_heat_operator(grid), u * np.nan, [X_SHIFT], grid)
    with pytest.raises(ValueError, match=r"shape \(batch, 5, 64\)"):
        operator_lie_derivative(_heat_operator(grid), u[:, :2], [X_SHIFT], grid)
    with pytest.raises(ValueError, match="continue the input times"):
        gapped = FieldGrid(grid.x, grid.t_in, grid.t_out + 1.0)
        operator_lie_derivative(_heat_operator(gapped), u, [T_SHIFT], gapped)
    with pytest.raises(ValueError, match="φ is not affine"):
        square = PointSymmetry("square", lambda x, t, u: (0.0, 0.0, u * u))
        operator_lie_derivative(_heat_operator(grid), u, [square], grid)
    with pytest.raises(ValueError, match="periodic grid"):
        GalileanFrame(torch.nn.Identity(), line)
    with pytest.raises(ValueError, match="kind must be one of"):
        OperatorSymmetryPenalty([X_SHIFT], grid, kind="trace")


def test_a_datasets_grid_and_symmetries_plug_in():
    ds = sk.datasets.pde("heat", n_trajectories=2, nt=30, random_state=0)
    grid = FieldGrid.from_dataset(ds, n_in=5, n_out=3, start=10)
    assert grid.length == pytest.approx(2 * np.pi)
    periodic = [s for s in ds.symmetries if s.reference]
    u = torch.as_tensor(ds.u[:, 10:15])
    lie = operator_lie_derivative(lambda v: v[:, -3:], u, periodic, grid)
    assert lie.shape == (len(periodic), 2, 3, grid.nx)


@pytest.mark.slow
def test_symmetries_discovered_from_trajectories_are_candidates():
    ds = sk.datasets.pde("burgers", n_trajectories=4, random_state=0)
    found = sk.liederiv.discover_pde(ds, random_state=0).periodic_symmetries()
    grid = FieldGrid.from_dataset(ds, n_in=5, n_out=3, start=10)
    u = torch.as_tensor(ds.u[:, 10:15])
    lie = operator_lie_derivative(lambda v: v[:, -3:] + 1.0, u, found, grid)
    assert lie.shape == (len(found), 4, 3, grid.nx)
    assert len(found) >= 3
