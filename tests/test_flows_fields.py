"""Generator fields, RK4 flows, regularisers and similarity metric (symmetrykit.flows)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.linalg import expm

from symmetrykit.flows import (
    GeneratorField,
    field_inner_products,
    field_norms,
    field_similarity,
    flow,
    lipschitz_penalty,
    orthogonality_penalty,
    sobolev_penalty,
)

pytestmark = pytest.mark.usefixtures("single_thread")

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _model(dtype=torch.float64, seed=0, device="cpu", **kwargs):
    options = dict(hidden=(8, 8), head_hidden=4)
    options.update(kwargs)
    return GeneratorField(
        3, 2, rng=torch.Generator().manual_seed(seed), dtype=dtype, device=device, **options
    )


def _points(n=40, dim=2, seed=1, dtype=torch.float64):
    return torch.rand(n, dim, generator=torch.Generator().manual_seed(seed), dtype=dtype) * 2 - 1


# ----------------------------------------------------------------------------- GeneratorField


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fields_are_unit_rms_and_typed(dtype, device):
    model = _model(dtype=dtype, device=device)
    points = _points(dtype=dtype).to(device)
    values = model(points)
    assert values.shape == (3, 40, 2) and values.dtype == dtype and values.device.type == device
    torch.testing.assert_close(field_norms(values), torch.ones(3, dtype=dtype, device=device))


@pytest.mark.parametrize("linear_skip", [False, True])
def test_all_heads_on_every_point_set_agree_with_raw(linear_skip):
    model = _model(linear_skip=linear_skip)
    if linear_skip:
        with torch.no_grad():
            model.skip_weights.normal_(generator=torch.Generator().manual_seed(3))
    stacked = torch.stack([_points(seed=s) for s in range(3)])  # (S=3, N, D)
    every = model.raw_all(stacked)
    assert every.shape == (3, 3, 40, 2)
    for slot in range(3):
        torch.testing.assert_close(every[slot], model.raw(stacked[slot]))
    torch.testing.assert_close(torch.stack([every[k, k] for k in range(3)]), model.raw(stacked))
    earlier = model.heads_earlier(model.trunk(stacked))
    lower = torch.tril(torch.ones(3, 3, dtype=torch.bool), diagonal=-1)
    torch.testing.assert_close(earlier[lower], every[lower])
    assert bool((earlier[~lower] == 0).all())


def test_linear_skip_starts_at_zero_and_adds_a_linear_map():
    plain, skip = _model(), _model(linear_skip=True)
    points = _points()
    torch.testing.assert_close(skip.raw(points), plain.raw(points))
    matrix = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64)
    with torch.no_grad():
        skip.skip_weights[1] = matrix
    expected = plain.raw(points)
    expected[1] = expected[1] + points @ matrix.T
    torch.testing.assert_close(skip.raw(points), expected)
    torch.testing.assert_close(skip.field(1, scale=1.0)(points), expected[1])


def test_centred_skip_adds_a_zero_mean_linear_map_and_survives_a_config_round_trip():
    # A centred skip term has zero mean over the data, so growing it leaves the field's
    # constant part (its overlap with translations) unchanged.
    points = _points() * 0.5 + torch.tensor([0.7, 0.3], dtype=torch.float64)
    center = points.mean(dim=0)
    plain = _model(linear_skip=True)
    centred = _model(linear_skip=True, skip_center=center.tolist())
    torch.testing.assert_close(centred.raw(points), plain.raw(points))
    matrix = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64)
    with torch.no_grad():
        centred.skip_weights[2] = matrix
    added = centred.raw(points)[2] - plain.raw(points)[2]
    torch.testing.assert_close(added, (points - center) @ matrix.T)
    torch.testing.assert_close(added.mean(dim=0), torch.zeros(2, dtype=torch.float64))
    config = centred.config()
    assert config["skip_center"] == pytest.approx(center.tolist())
    rebuilt = GeneratorField(**{**config, "dtype": torch.float64})
    rebuilt.load_state_dict(centred.state_dict())
    torch.testing.assert_close(rebuilt.raw(points), centred.raw(points))
    # Periodic coordinates enter as (cos, sin), already centred: their entry is not used.
    periodic = GeneratorField(1, 2, hidden=(4,), periodic=(0,), linear_skip=True,
                              skip_center=[123.0, 0.3], dtype=torch.float64)
    with torch.no_grad():
        periodic.skip_weights[0] = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    base = GeneratorField(1, 2, hidden=(4,), periodic=(0,), linear_skip=True, dtype=torch.float64)
    base.load_state_dict(periodic.state_dict())
    torch.testing.assert_close(periodic.raw(points)[0, :, 0] - base.raw(points)[0, :, 0],
                               -0.3 * torch.ones(40, dtype=torch.float64))
    for bad in ([0.0], [0.0, math.nan]):
        with pytest.raises(ValueError, match="skip_center"):
            GeneratorField(1, 2, linear_skip=True, skip_center=bad)


def test_skip_gain_scales_the_linear_term_only():
    points = _points()
    plain = _model(linear_skip=True)
    gained = _model(linear_skip=True, skip_gain=4.0)
    torch.testing.assert_close(gained.raw(points), plain.raw(points))
    matrix = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64)
    with torch.no_grad():
        plain.skip_weights[0] = matrix
        gained.skip_weights[0] = matrix
    base = _model().raw(points)[0]
    torch.testing.assert_close(gained.raw(points)[0] - base, 4.0 * (plain.raw(points)[0] - base))
    assert gained.config()["skip_gain"] == 4.0
    for bad in (0.0, -1.0, math.inf, True):
        with pytest.raises(ValueError, match="skip_gain"):
            GeneratorField(1, 2, linear_skip=True, skip_gain=bad)


def test_periodic_coordinates_give_exactly_periodic_fields():
    model = GeneratorField(2, 3, hidden=(8,), periodic=(0,), dtype=torch.float64,
                           rng=torch.Generator().manual_seed(0))
    points = torch.rand(30, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    shifted = points + torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(model.raw(shifted), model.raw(points))
    assert not torch.allclose(model.raw(points + torch.tensor([0.0, 1.0, 0.0],
                                                              dtype=torch.float64)),
                              model.raw(points))
    config = model.config()
    assert config["periodic"] == [0] and config["dtype"] == "float64"
    rebuilt = GeneratorField(**{**config, "dtype": torch.float64})
    rebuilt.load_state_dict(model.state_dict())
    torch.testing.assert_close(rebuilt.raw(points), model.raw(points))
    with pytest.raises(ValueError, match="periodic"):
        GeneratorField(2, 3, periodic=(3,))


def test_weighted_normalisation_and_fixed_scales():
    model = _model()
    points = _points()
    weights = torch.linspace(0.0, 1.0, 40, dtype=torch.float64)
    values = model(points, weights=weights)
    torch.testing.assert_close(field_norms(values, weights), torch.ones(3, dtype=torch.float64))
    scales = model.norms(points)
    torch.testing.assert_close(model(points, scales=scales), model(points))
    raw = GeneratorField(3, 2, hidden=(8,), normalize=False, rng=torch.Generator())
    assert not torch.allclose(field_norms(raw(_points(dtype=torch.float32))), torch.ones(3))


def test_field_slot_and_stacked_points_match_forward():
    model = _model()
    points = _points()
    values = model(points)
    for k in range(3):
        torch.testing.assert_close(model.field(k)(points), values[k])
    stacked = torch.stack([points, points + 0.1, points * 0.5])
    values_stacked = model(stacked)
    for k in range(3):
        torch.testing.assert_close(values_stacked[k], model.field(k)(stacked[k]))


def test_initialisation_is_reproducible_from_generator():
    points = _points()
    first, again, other = _model(seed=3), _model(seed=3), _model(seed=4)
    torch.testing.assert_close(first(points), again(points))
    assert not torch.allclose(first(points), other(points))
    linear_head = GeneratorField(2, 3, hidden=(5,), head_hidden=None, rng=None)
    assert linear_head(torch.zeros(7, 3) + 0.3).shape == (2, 7, 3)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_generators=0, dim=2),
        dict(n_generators=2, dim=0),
        dict(n_generators=2, dim=2, hidden=()),
        dict(n_generators=2, dim=2, activation="relu6"),
        dict(n_generators=2, dim=2, dtype=torch.float16),
        dict(n_generators=2, dim=2, head_hidden=0),
    ],
)
def test_generator_field_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        GeneratorField(**kwargs)


def test_generator_field_rejects_bad_points():
    model = _model()
    with pytest.raises(ValueError, match="points"):
        model(torch.zeros(5, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="slices"):
        model(torch.zeros(2, 5, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="k must"):
        model.field(3)
    with pytest.raises(ValueError, match="scales"):
        model(_points(), scales=torch.ones(2, dtype=torch.float64))


# ----------------------------------------------------------------------------- flow


@pytest.mark.parametrize("s", [0.7, -0.4])
def test_flow_of_linear_field_is_matrix_exponential(s):
    matrix = np.array([[0.3, -1.1, 0.2], [0.9, -0.2, 0.4], [0.1, 0.5, 0.05]])
    A = torch.tensor(matrix)
    points = _points(n=10, dim=3)
    moved = flow(lambda p: p @ A.T, points, s, n_steps=40)
    expected = points.numpy() @ expm(s * matrix).T
    np.testing.assert_allclose(moved.numpy(), expected, atol=1e-9)


def test_flow_translation_is_exact_and_rotation_preserves_radius():
    points = _points()
    shift = torch.tensor([0.3, -0.2], dtype=torch.float64)
    moved = flow(lambda p: shift.expand_as(p), points, 1.5, n_steps=1)
    torch.testing.assert_close(moved, points + 1.5 * shift, rtol=0, atol=1e-15)

    def rotation(p):
        return torch.stack([-p[:, 1], p[:, 0]], dim=1)

    angle = 0.9
    moved = flow(rotation, points, angle, n_steps=40)
    c, s = math.cos(angle), math.sin(angle)
    expected = points @ torch.tensor([[c, -s], [s, c]], dtype=torch.float64).T
    torch.testing.assert_close(moved, expected, rtol=0, atol=1e-8)
    torch.testing.assert_close(moved.norm(dim=1), points.norm(dim=1), rtol=0, atol=1e-8)
    back = flow(rotation, moved, -angle, n_steps=40)
    torch.testing.assert_close(back, points, rtol=0, atol=1e-9)


def test_flow_per_sample_times_and_path():
    def field(p):
        return torch.stack([torch.sin(p[:, 1]), p[:, 0] ** 2], dim=1)

    points = _points(n=5)
    times = torch.tensor([0.5, -0.3, 0.0, 1.0, 0.2], dtype=torch.float64)
    moved = flow(field, points, times, n_steps=8)
    for i in range(5):
        torch.testing.assert_close(moved[i], flow(field, points[i : i + 1], times[i], 8)[0])
    path = flow(field, points, times, n_steps=8, return_path=True)
    assert path.shape == (9, 5, 2)
    torch.testing.assert_close(path[0], points)
    torch.testing.assert_close(path[-1], moved)
    torch.testing.assert_close(moved[2], points[2])


def test_flow_is_fourth_order():
    # dp/dt = p^2 has the closed form p0 / (1 - p0 t).
    points = torch.tensor([[0.5], [-0.8], [0.9]], dtype=torch.float64)
    exact = points / (1 - points * 0.8)
    errors = [
        (flow(lambda p: p * p, points, 0.8, n_steps=n) - exact).abs().max().item()
        for n in (8, 16, 32)
    ]
    orders = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
    assert all(3.8 < order < 4.3 for order in orders), orders


def test_flow_of_all_generators_with_signed_times():
    model = _model()
    points = _points()
    times = torch.tensor([[0.2], [-0.3], [0.1]], dtype=torch.float64)
    stacked = flow(model, points.expand(3, -1, -1), times, n_steps=4)
    for k in range(3):
        torch.testing.assert_close(stacked[k], flow(model.field(k), points, times[k, 0], 4))


@pytest.mark.slow
def test_flow_gradients_reach_parameters_gradcheck():
    model = GeneratorField(
        2,
        2,
        hidden=(3,),
        head_hidden=2,
        rng=torch.Generator().manual_seed(5),
        dtype=torch.float64,
    )
    names = [name for name, _ in model.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in model.parameters())
    points = _points(n=6)

    def moved(*values):
        state = dict(zip(names, values, strict=True))

        def field(p):
            return torch.func.functional_call(model, state, (p,))[1]

        return flow(field, points, 0.3, n_steps=3)

    assert torch.autograd.gradcheck(moved, params)
    time = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    start = points.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p, t: flow(model.field(0), p, t, 3), (start, time))


def test_flow_rejects_bad_input():
    points = _points()
    with pytest.raises(ValueError, match="n_steps"):
        flow(lambda p: p, points, 0.1, n_steps=0)
    with pytest.raises(ValueError, match="broadcast"):
        flow(lambda p: p, points, torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="returned shape"):
        flow(lambda p: p[:, :1], points, 0.1)


# ----------------------------------------------------------------------------- regularisers


def _grid(n=8):
    axis = torch.linspace(-1, 1, n, dtype=torch.float64)
    return torch.stack(torch.meshgrid(axis, axis, indexing="ij"), dim=-1)  # (n, n, 2)


def test_orthogonality_penalty_on_known_fields():
    points = _grid().reshape(-1, 2)
    ones, zeros = torch.ones(len(points), dtype=torch.float64), torch.zeros(len(points))
    x_shift = torch.stack([ones, zeros.double()], dim=1)
    y_shift = torch.stack([zeros.double(), ones], dim=1)
    rotation = torch.stack([-points[:, 1], points[:, 0]], dim=1)
    orthogonal = torch.stack([x_shift, y_shift, rotation])
    penalty = orthogonality_penalty(orthogonal)
    torch.testing.assert_close(penalty, torch.zeros(3, dtype=torch.float64), atol=1e-12, rtol=0)
    # duplicates and anti-parallel copies cost about pi/2 each; scale does not matter
    copies = torch.stack([x_shift, -3 * x_shift, 0.5 * x_shift])
    np.testing.assert_allclose(
        orthogonality_penalty(copies).numpy(), [0, math.pi / 2, math.pi], atol=1e-6
    )
    # cosine 1/2 between the two fields -> pi/2 - arccos(1/2) = pi/6
    tilted = torch.stack([x_shift, x_shift + math.sqrt(3) * y_shift])
    np.testing.assert_allclose(orthogonality_penalty(tilted).numpy(), [0, math.pi / 6])


def test_orthogonality_penalty_stops_gradient_on_earlier_slots():
    fields = torch.randn(3, 20, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    fields.requires_grad_(True)
    (grad,) = torch.autograd.grad(orthogonality_penalty(fields)[2], fields)
    assert grad[:2].abs().max() == 0 and grad[2].abs().max() > 0
    (grad,) = torch.autograd.grad(orthogonality_penalty(fields, stop_gradient=False)[2], fields)
    assert grad[0].abs().max() > 0
    weights = torch.linspace(0.1, 1.0, 20, dtype=torch.float64)
    # stop-gradient makes the gradient deliberately non-exact, so check the plain variant ...
    assert torch.autograd.gradcheck(
        lambda f: orthogonality_penalty(f, weights, stop_gradient=False), (fields,)
    )
    # ... and that with stop-gradient the later slot sees exactly that gradient.
    plain = torch.autograd.grad(orthogonality_penalty(fields, stop_gradient=False)[2], fields)[0]
    (stopped,) = torch.autograd.grad(orthogonality_penalty(fields)[2], fields)
    torch.testing.assert_close(stopped[2], plain[2])


def test_field_inner_products_weighted():
    a = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    weights = torch.tensor([0.0, 1.0, 2.0, 0.0, 1.0], dtype=torch.float64)
    expected = torch.einsum("knd,jnd,n->kj", a, a, weights) / 4
    torch.testing.assert_close(field_inner_products(a, a, weights), expected)
    with pytest.raises(ValueError, match="weights"):
        field_inner_products(a, a, -weights)
    with pytest.raises(ValueError, match="share"):
        field_inner_products(a, a[:, :4])


def test_lipschitz_penalty_of_linear_field():
    grid = _grid()  # spacing h = 2/7 along both axes
    A = torch.tensor([[2.0, 1.0], [0.0, 5.0]], dtype=torch.float64)
    fields = torch.stack([grid @ A.T, 0.1 * grid @ A.T])  # (2, 8, 8, 2)
    slope_0, slope_1 = A[:, 0].norm().item(), A[:, 1].norm().item()  # |A e_axis|
    tau = 2.5
    penalty = lipschitz_penalty(fields, grid, tau=tau, axes=(0, 1))
    expected = max(slope_0 - tau, 0) + max(slope_1 - tau, 0)
    np.testing.assert_allclose(penalty.numpy(), [expected, 0.0], atol=1e-12)
    # image variant: raw differences summed over the 8 * 7 pairs per axis
    h = 2 / 7
    penalty = lipschitz_penalty(fields, None, tau=0.5, axes=(0, 1), reduction="sum")
    expected = 56 * (max(h * slope_0 - 0.5, 0) + max(h * slope_1 - 0.5, 0))
    np.testing.assert_allclose(penalty[0].item(), expected, rtol=1e-12)


def test_lipschitz_penalty_unwraps_periodic_coordinate():
    n = 16
    x = torch.arange(n, dtype=torch.float64) / n  # periodic in [0, 1)
    t = torch.linspace(0, 1, 5, dtype=torch.float64)
    tt, xx = torch.meshgrid(t, x, indexing="ij")
    points = torch.stack([xx, tt, torch.zeros_like(xx)], dim=-1)  # (5, 16, 3)
    wave = torch.sin(2 * math.pi * xx)
    fields = torch.stack([wave, torch.zeros_like(wave), torch.zeros_like(wave)], dim=-1)[None]
    penalty = lipschitz_penalty(
        fields, points, tau=0.0, axes=(1,), periodic_axes=(1,), coordinate_periods=(1.0, None, None)
    )
    diff = torch.sin(2 * math.pi * x) - torch.sin(2 * math.pi * torch.roll(x, 1))
    expected = (diff.abs() * n).mean()
    torch.testing.assert_close(penalty[0], expected)
    with pytest.raises(ValueError, match="subset"):
        lipschitz_penalty(fields, points, axes=(0,), periodic_axes=(1,))
    with pytest.raises(ValueError, match="coincide"):
        lipschitz_penalty(fields, torch.zeros_like(points), axes=(1,))


def test_lipschitz_penalty_gradcheck():
    grid = _grid(4)
    fields = torch.randn(
        2, 4, 4, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    fields.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda f: lipschitz_penalty(f, grid, tau=0.1, axes=(0, 1)), (fields,)
    )


def test_sobolev_penalty_of_single_mode():
    n, dx, mode, amplitude = 32, 0.5, 3, 0.7
    x = torch.arange(n, dtype=torch.float64) * dx
    wave = amplitude * torch.cos(2 * math.pi * mode * x / (n * dx))
    fields = torch.stack([wave, 2 * wave], dim=-1)[None, None].expand(2, 4, n, 2).clone()
    fields[1] *= 3.0
    f = mode / (n * dx)
    energy = 2 * (amplitude * n / 2) ** 2 * ((1 + f**2) ** 2 - 1) / n
    expected = (math.log(energy) + math.log(4 * energy)) / 2
    penalty = sobolev_penalty(fields, spacing=dx, axis=-1)
    np.testing.assert_allclose(penalty.numpy(), [expected, expected + 2 * math.log(3)])
    constant = torch.ones(1, 3, n, 2, dtype=torch.float64)
    assert sobolev_penalty(constant, spacing=dx).item() == -math.inf
    np.testing.assert_allclose(sobolev_penalty(constant, spacing=dx, floor=1e-8), math.log(1e-8))
    with pytest.raises(ValueError, match="spacing"):
        sobolev_penalty(fields, spacing=0.0)
    with pytest.raises(ValueError, match="axis"):
        sobolev_penalty(fields, spacing=1.0, axis=2)


# ----------------------------------------------------------------------------- similarity


def test_field_similarity_of_rotated_translations():
    points = _grid().reshape(-1, 2)
    ones, zeros = torch.ones(len(points), dtype=torch.float64), torch.zeros(len(points))
    zeros = zeros.double()
    true = torch.stack([torch.stack([ones, zeros], 1), torch.stack([zeros, ones], 1)])
    angle = 0.4
    learned_in_span = 5 * (math.cos(angle) * true[0] + math.sin(angle) * true[1])
    outside = torch.stack([-points[:, 1], points[:, 0]], dim=1)  # rotation: orthogonal to both
    learned = torch.stack([learned_in_span, outside])
    result = field_similarity(learned, true.numpy())
    np.testing.assert_allclose(
        result.inner_products, [[math.cos(angle), math.sin(angle)], [0, 0]], atol=1e-12
    )
    np.testing.assert_allclose(result.projection_norms, [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(result.principal_angles, [0.0, math.pi / 2], atol=1e-7)


def test_field_similarity_orthonormalises_true_fields_in_order():
    points = _points(n=60)
    ones = torch.ones(60, dtype=torch.float64)
    x_shift = torch.stack([ones, 0 * ones], 1)
    slanted = torch.stack([ones, ones], 1)
    true = torch.stack([x_shift, slanted])
    learned = torch.stack([slanted, torch.stack([points[:, 0] ** 2, points[:, 1]], 1)])
    table = field_similarity(learned, true).inner_products
    np.testing.assert_allclose(table[0], [1 / math.sqrt(2), 1 / math.sqrt(2)], atol=1e-12)
    raw = field_similarity(learned, true, orthonormalize_true=False).inner_products
    np.testing.assert_allclose(raw[0], [1 / math.sqrt(2), 1.0], atol=1e-12)
    result = field_similarity(learned, true)
    assert 0 < result.projection_norms[1] < 1
    np.testing.assert_allclose(result.projection_norms[0], 1.0)
    with pytest.raises(ValueError, match="dependent"):
        field_similarity(learned, torch.stack([x_shift, 2 * x_shift]))
    with pytest.raises(ValueError, match="share"):
        field_similarity(learned, true[:, :10])
