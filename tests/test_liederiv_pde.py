"""Closed-form PDE symmetry discovery: prolongation, equation fit, gap, sparse basis, errors."""

from __future__ import annotations

import numpy as np
import pytest

from symmetrykit.datasets import pde
from symmetrykit.liederiv import (
    EvolutionEquation,
    GeneratorLibrary,
    PDEDiscovery,
    discover_pde,
    pde_symmetries,
)
from symmetrykit.liederiv._prolongation import determining_columns
from symmetrykit.liederiv._sparse_basis import sparse_rotation


@pytest.fixture(scope="module")
def kdv():
    return pde("kdv", n_trajectories=4, random_state=0)


@pytest.fixture(scope="module")
def kdv_result(kdv):
    return discover_pde(kdv, random_state=0)


def _kdv_equation() -> EvolutionEquation:
    # u_t = −u_xxx − (u²/2)_x, written as g ∂_x^α(u^p) terms.
    return EvolutionEquation(
        coefficient_functions=("1",), terms=((0, 3, (1,)), (0, 1, (2,))),
        coefficients=np.array([-1.0, -0.5]), order=3, relative_residual=0.0,
        full_relative_residual=0.0, n_candidates=2)


def _vector(library: GeneratorLibrary, **components: dict[str, float]) -> np.ndarray:
    """Coefficient vector (3r,) from {"xi": {"t": 1}, "phi": {"1": 1}} style input."""
    r = len(library)
    w = np.zeros(3 * r)
    for c, key in enumerate(("xi", "tau", "phi")):
        for name, value in components.get(key, {}).items():
            w[c * r + library.names.index(name)] = value
    return w


@pytest.mark.slow
def test_the_prolonged_condition_vanishes_identically_for_kdv_symmetries():
    # The condition is a polynomial identity in the jet: true symmetries vanish at ANY jet values.
    library = GeneratorLibrary(2)
    evaluate, max_order = determining_columns(_kdv_equation(), library)
    rng = np.random.default_rng(0)
    t, x = rng.normal(size=50), rng.normal(size=50)
    jets = rng.normal(size=(max_order + 1, 50))
    matrix = evaluate(t, x, jets)
    symmetric = {
        "x-translation": _vector(library, xi={"1": 1}),
        "t-translation": _vector(library, tau={"1": 1}),
        "galilean": _vector(library, xi={"t": 1}, phi={"1": 1}),
        "scaling": _vector(library, xi={"x": 1}, tau={"t": 3}, phi={"u": -2}),
    }
    for name, w in symmetric.items():
        np.testing.assert_allclose(matrix @ w, 0, atol=1e-10, err_msg=name)
    wrong = {
        "u-shift": _vector(library, phi={"1": 1}),
        "bad scaling": _vector(library, xi={"x": 1}, tau={"t": 2}, phi={"u": -2}),
        "heat galilean": _vector(library, xi={"t": 2}, phi={"x u": -1}),
    }
    for name, w in wrong.items():
        assert np.linalg.norm(matrix @ w) > 1e-1, name  # the symmetries give < 1e-10
    # Rank: exactly the 4 symmetries form the null space of the 30 candidates.
    s = np.linalg.svd(matrix, compute_uv=False)
    assert np.sum(s < 1e-9 * s[0]) == 4


@pytest.mark.slow
def test_kdv_algebra_is_found_counted_and_printed(kdv, kdv_result):
    result = kdv_result
    assert isinstance(result, PDEDiscovery)
    assert result.nullity == 4
    assert set(result.formulas) == {"∂x", "∂t", "t ∂x + ∂u", "x ∂x + 3 t ∂t − 2 u ∂u"}
    assert result.gap > 100
    assert result.equation.formula() == "u_t = −1 u_xxx − 0.5 (u^2)_x"
    assert result.distance(kdv.symmetries) < 1e-3
    assert [s.name for s in result.periodic_symmetries()] == ["∂x", "∂t", "t ∂x + ∂u"]
    assert result.details["cpu_seconds"] < 60
    record = result.to_dict()
    assert record["nullity"] == 4 and "_points" not in record


@pytest.mark.slow
def test_discovered_symmetries_are_point_symmetries_like_the_data_sets(kdv, kdv_result):
    x, t = np.meshgrid(kdv.x[:5], kdv.t[:3])
    u = kdv.u[0, :3, :5]
    by_name = {s.name: s for s in kdv_result.symmetries}
    xi, tau, phi = by_name["t ∂x + ∂u"](x, t, u)
    assert xi.shape == x.shape
    np.testing.assert_allclose(xi, t, rtol=1e-4)
    np.testing.assert_allclose(tau, 0, atol=1e-4)
    np.testing.assert_allclose(phi, 1, rtol=1e-4)
    rebuilt = pde_symmetries(kdv_result.coefficients, kdv_result.library.to_dict())
    for a, b in zip(rebuilt, kdv_result.symmetries, strict=True):
        np.testing.assert_allclose(np.stack(a(x, t, u)), np.stack(b(x, t, u)))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "count", "expected"), [
    ("burgers", 5, {"t x ∂x + t² ∂t + (x − t u) ∂u", "x ∂x + 2 t ∂t − u ∂u"}),
    ("heat", 8, {"u ∂u", "x ∂u", "t ∂x − 50 x u ∂u", "(t + 50 x²) ∂u"}),
    ("ks", 3, {"∂x", "∂t", "t ∂x + ∂u"}),
])
def test_whole_algebras_of_burgers_heat_and_ks(name, count, expected):
    data = pde(name, n_trajectories=4, random_state=1)
    result = discover_pde(data, random_state=1)
    assert result.nullity == count
    assert expected <= set(result.formulas)
    truth = result.in_library([s for s in data.symmetries if s.exact])
    assert len(truth) == count
    assert result.distance(truth) < 1e-3


@pytest.mark.slow
def test_heat_projective_symmetry_is_outside_the_degree_2_library():
    data = pde("heat", n_trajectories=2, random_state=0)
    result = discover_pde(data, random_state=0)
    names = {s.name for s in result.in_library(data.symmetries)}
    assert "projective-heat" not in names and "galilean-heat" in names


@pytest.mark.slow
def test_one_percent_noise_keeps_the_kdv_algebra(kdv):
    rng = np.random.default_rng(5)
    noisy = kdv.u + 0.01 * kdv.u.std() * rng.standard_normal(kdv.u.shape)
    result = discover_pde(noisy, kdv.x, kdv.t, random_state=0)
    assert result.nullity == 4
    assert result.distance(kdv.symmetries) < 0.05
    assert 0.005 < result.noise_level < 0.02


@pytest.mark.slow
def test_time_translation_is_discovered_not_assumed():
    # nKdV's coefficient e^{t/50} breaks ∂t; with the default library it must not be found,
    # and with e^{±t/50} in the libraries the non-affine algebra is recovered.
    data = pde("nkdv", n_trajectories=4, random_state=0)
    plain = discover_pde(data, random_state=0)
    assert "∂t" not in plain.formulas and "∂x" in plain.formulas
    rich = discover_pde(data, library=["exp(t/50)", "exp(-t/50)"],
                        coefficient_functions=["1", "exp(t/50)"], random_state=0)
    assert rich.nullity == 4
    assert "exp(-t/50) ∂t" in rich.formulas
    assert rich.distance(data.symmetries) < 1e-3


@pytest.mark.slow
def test_strong_form_fits_clean_data_exactly(kdv):
    result = discover_pde(kdv, equation_form="strong", random_state=0)
    np.testing.assert_allclose(np.sort(result.equation.coefficients), [-1, -1], atol=1e-3)
    assert result.nullity == 4


@pytest.mark.slow
def test_n_symmetries_overrides_the_gap_rule(kdv):
    result = discover_pde(kdv, n_symmetries=2, random_state=0)
    assert result.nullity == 2 and result.coefficients.shape == (2, 3, 10)


def test_sparse_rotation_recovers_a_sparse_basis():
    rng = np.random.default_rng(0)
    sparse = np.zeros((12, 3))
    sparse[[0, 4, 9], [0, 1, 2]] = 1.0
    sparse[5, 1] = 0.5
    mixed = np.linalg.qr(sparse)[0] @ np.linalg.qr(rng.normal(size=(3, 3)))[0]
    found = sparse_rotation(mixed, rng)
    assert np.sum(np.abs(found) > 1e-6) == 4


def _grid(kdv):
    return kdv.u[:2].copy(), kdv.x.copy(), kdv.t.copy()


@pytest.mark.parametrize(("change", "message"), [
    (lambda u, x, t: (np.where(u > 0.3, np.nan, u), x, t), "NaN"),
    (lambda u, x, t: (u + 0j, x, t), "complex"),
    (lambda u, x, t: (u, x * (1 + 0.01 * np.sin(x)), t), "uniformly spaced"),
    (lambda u, x, t: (u[:, :2], x, t[:2]), "at least 3"),
    (lambda u, x, t: (u[:, :12], x, t[:12]), "at least 13 time rows"),
    (lambda u, x, t: (u[:, :, :12], x[:12], t), "at least 16"),
    (lambda u, x, t: (u, x, t[::-1]), "increasing"),
    (lambda u, x, t: (u, x[:-1], t), "shape"),
    (lambda u, x, t: (np.ones_like(u), x, t), "constant"),
    (lambda u, x, t: (u + x / 10, x, t), "not periodic"),
])
def test_bad_data_get_one_line_naming_the_problem(kdv, change, message):
    u, x, t = change(*_grid(kdv))
    with pytest.raises(ValueError, match=message) as info:
        discover_pde(u, x, t, order=5)
    assert "\n" not in str(info.value)


def test_too_few_points_for_the_derivatives_is_refused(kdv):
    u, x, t = _grid(kdv)
    with pytest.raises(ValueError, match="derivatives up to order 5"):
        discover_pde(u[:, :, ::16], x[::16], t, order=5)


def test_clean_data_of_an_equation_outside_the_library_are_refused(kdv):
    # KdV needs u_xxx: with order 2 no candidate explains the clean data.
    with pytest.raises(ValueError, match="unexplained|fits the data"):
        discover_pde(kdv, order=2)


def test_noise_without_an_equation_is_refused():
    rng = np.random.default_rng(0)
    x, t = np.linspace(0, 1, 64, endpoint=False), np.linspace(0, 1, 40)
    with pytest.raises(ValueError, match="fits the data|no sparse equation"):
        discover_pde(rng.standard_normal((3, 40, 64)), x, t)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"library": ["exp(s)"]}, "unknown symbols"),
    ({"library": ["exp(("]}, "cannot be read"),
    ({"equation_form": "integral"}, "equation_form"),
    ({"min_gap": 1.0}, "min_gap"),
    ({"degree": 9}, "degree"),
    ({"coefficient_functions": ["x**2"]}, "linear in x"),
    ({"n_points": 10**12}, "needs about"),
])
def test_bad_options_get_one_line_before_any_work(kdv, kwargs, message):
    with pytest.raises(ValueError, match=message):
        discover_pde(kdv, **kwargs)


@pytest.mark.slow
def test_discovered_symmetries_flow_into_comparisons_and_augmentation(kdv, kdv_result):
    from symmetrykit.flows import augment_solutions
    from symmetrykit.flows._pde_data import pde_reference_fields
    from symmetrykit.metrics import principal_angles

    points = np.random.default_rng(0).uniform(0, 1, size=(500, 3)) * [1, 1, 0.3]
    found = pde_reference_fields(kdv, points, kdv_result.periodic_symmetries())
    truth = pde_reference_fields(kdv, points)
    angles = principal_angles(found.reshape(3, -1), truth.reshape(3, -1))
    assert angles.size == 3 and angles.max() < 1e-3
    moved = augment_solutions(kdv.u[:2, :40], kdv.x, kdv.t[:40], kdv_result.periodic_symmetries(),
                              s_range=0.5, random_state=0)
    assert moved.u.shape == (2, 40, kdv.x.size) and np.all(np.isfinite(moved.u[moved.valid]))


@pytest.mark.slow
def test_degree_3_finds_the_heat_projective_symmetry():
    from symmetrykit.liederiv._pde_discover import _sampled
    from symmetrykit.metrics import principal_angles

    data = pde("heat", n_trajectories=2, random_state=0)
    result = discover_pde(data, degree=3, random_state=0)
    # degree 2's eight, the projective symmetry and the cubic superposition (x³ + 6νt x) ∂u
    assert result.nullity == 10
    projective = [s for s in data.symmetries if s.name == "projective-heat"]
    assert result.in_library(projective)
    points = result.details["_points"]
    found = _sampled(result.symmetries, points, result.scales)
    angle = principal_angles(_sampled(projective, points, result.scales), found)
    assert angle.max() < 1e-4
