"""SymmetryGAN and LieGAN: home-turf recoveries, scoring conversions, estimator conventions."""

import numpy as np
import pytest
from scipy.linalg import expm

import symmetrykit as sk
from symmetrykit.baselines import LieGAN, SymmetryGAN
from symmetrykit.lie import skew_logarithm
from symmetrykit.metrics import exponential_similarity, frobenius_cosine, shift_power_similarity

pytestmark = pytest.mark.usefixtures("single_thread")

ROTATION_GENERATOR = np.array([[0.0, -1.0], [1.0, 0.0]])


def _rotation(angle: float) -> np.ndarray:
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


@pytest.fixture(scope="module")
def annulus():
    """Rotation-invariant 2-D data: uniform angle, radius uniform on [0.5, 1.5]."""
    rng = np.random.default_rng(0)
    angle, radius = rng.uniform(0, 2 * np.pi, 4000), rng.uniform(0.5, 1.5, 4000)
    return np.c_[radius * np.cos(angle), radius * np.sin(angle)]


@pytest.fixture(scope="module")
def eight_gaussians():
    """A ring of 8 narrow Gaussians: invariant under the dihedral group D8 only."""
    rng = np.random.default_rng(1)
    angle = rng.integers(0, 8, 4000) * np.pi / 4
    return np.c_[np.cos(angle), np.sin(angle)] + 0.05 * rng.standard_normal((4000, 2))


# ------------------------------------------------------------------------------- home turf
@pytest.mark.slow
@pytest.mark.parametrize("regularizer", ["cosine", "norm"])
def test_liegan_recovers_so2_from_rotation_invariant_data(annulus, regularizer):
    model = LieGAN(regularizer=regularizer, n_steps=1500, progress="none",
                   random_state=0).fit(annulus)
    assert abs(frobenius_cosine(model.generators_[0], ROTATION_GENERATOR)) > 0.99
    assert model.algebra_.dim == 2 and len(model.algebra_) == 1
    np.testing.assert_allclose(model.generator_, expm(model.generators_[0]))


@pytest.mark.slow
def test_symmetrygan_lands_on_elements_of_the_dihedral_group(eight_gaussians):
    d8 = [_rotation(k * np.pi / 4) @ np.diag([1.0, s]) for k in range(8) for s in (1.0, -1.0)]
    found = []
    for seed in range(4):
        model = SymmetryGAN(n_steps=2000, progress="none", random_state=seed).fit(eight_gaussians)
        distances = [np.linalg.norm(model.generator_ - g) for g in d8]
        # The adversarial equilibrium jitters: 0.002–0.09 over seeds 0–7 (docs/decisions.md);
        # neighbouring elements of D8 are 1.08 apart.
        assert min(distances) < 0.1, seed
        found.append(int(np.argmin(distances)))
    assert any(k != 0 for k in found)  # not just the identity
    # the discriminator ends at chance: log 4 for the summed real + fake losses
    assert model.history_["d_loss"][-1] == pytest.approx(np.log(4), abs=0.05)


# ------------------------------------------------------------------------------- scoring
def test_shift_power_similarity_finds_the_power_and_excludes_the_identity():
    p = sk.lie.shift(7, circulant=True)
    assert shift_power_similarity(np.linalg.matrix_power(p, 3), p) == (pytest.approx(1.0), 3)
    assert shift_power_similarity(p.T, p)[0] == pytest.approx(1.0)  # the inverse counts
    score, power = shift_power_similarity(np.eye(7), p)
    assert power != 0 and score < 0.01
    assert shift_power_similarity(np.eye(7), p, include_identity=True) == (pytest.approx(1.0), 0)
    with pytest.raises(ValueError, match="shape"):
        shift_power_similarity(np.eye(3), p)


@pytest.mark.slow
def test_exponential_similarity_finds_the_step():
    p = sk.lie.shift(7, circulant=True)
    log_p = skew_logarithm(p)
    score, t = exponential_similarity(2.0 * log_p, p, times=np.linspace(-1, 1, 201))
    assert score == pytest.approx(1.0, abs=1e-9) and abs(t) == pytest.approx(0.5)
    assert exponential_similarity(np.zeros((7, 7)), p) == (pytest.approx(0.0, abs=1e-12), 0.0)


# ------------------------------------------------------------------------------- conventions
@pytest.mark.parametrize("make", [
    lambda: SymmetryGAN(parametrization="qr"),
    lambda: SymmetryGAN(parametrization="expm", anti_identity=1.0),
    lambda: SymmetryGAN(parametrization="linear"),
    pytest.param(lambda: LieGAN(coefficients="integer", coef_scale=3), marks=pytest.mark.slow),
    lambda: LieGAN(n_generators=2, coefficients="uniform", regularizer="none"),
])
def test_tiny_fits_on_seven_pixel_signals_are_reproducible(make):
    ds = sk.datasets.local_signals(n_samples=1000, dim=7, symmetry="circulant", random_state=0)
    params = {"n_steps": 30, "batch_size": 64, "log_every": 10, "progress": "none",
              "random_state": 0}
    state = np.random.get_state()  # noqa: NPY002 (checking that fit leaves it alone)
    first = make().set_params(**params).fit(ds.X, monitor=lambda m: {"trace": np.trace(m)})
    assert np.random.get_state()[1].tolist() == state[1].tolist()  # noqa: NPY002
    second = make().set_params(**params).fit(ds.X)
    np.testing.assert_array_equal(first.generator_, second.generator_)
    assert first.generator_.shape == (7, 7) and first.n_features_in_ == 7
    assert len(first.history_["d_loss"]) == 4 and len(first.history_["trace"]) == 4
    assert np.all(np.isfinite(first.generator_))
    if isinstance(first, SymmetryGAN) and first.parametrization != "linear":
        np.testing.assert_allclose(first.generator_ @ first.generator_.T, np.eye(7), atol=1e-5)


def test_integer_coefficients_are_nonzero_integers_in_range():
    import torch

    model = LieGAN(n_generators=3, coefficients="integer", coef_scale=2)
    gen = torch.Generator().manual_seed(0)
    z = model._coefficients(5000, gen).numpy()
    assert set(np.unique(z)) == {-2.0, -1.0, 1.0, 2.0}


@pytest.mark.parametrize(("model", "match"), [
    (SymmetryGAN(parametrization="cayley"), "parametrization"),
    (SymmetryGAN(anti_identity=-1.0), "anti_identity"),
    (SymmetryGAN(n_steps=0), "n_steps"),
    (LieGAN(coefficients="integer", coef_scale=1.5), "coef_scale"),
    (LieGAN(regularizer="fourier"), "regularizer"),
    (LieGAN(n_generators=0), "n_generators"),
])
def test_bad_parameters(model, match):
    with pytest.raises(ValueError, match=match):
        model.fit(np.random.default_rng(0).standard_normal((100, 3)))


@pytest.mark.parametrize("X", [np.ones((10, 3)), np.ones(30), np.full((100, 3), np.nan)])
def test_bad_data(X):
    with pytest.raises(ValueError):
        SymmetryGAN().fit(X)


def test_symmetrygan_transform(eight_gaussians):
    model = SymmetryGAN(n_steps=5, progress="none", random_state=0).fit(eight_gaussians)
    moved = model.transform(eight_gaussians[:3])
    expected = model.mean_ + (eight_gaussians[:3] - model.mean_) @ model.generator_.T
    np.testing.assert_allclose(moved, expected)
    with pytest.raises(ValueError, match="shape"):
        model.transform(np.ones((2, 3)))
    with pytest.raises(ValueError, match="not fitted"):
        SymmetryGAN().transform(eight_gaussians)


# ------------------------------------------------------------------------------- compare
@pytest.mark.slow
def test_compare_scores_every_method_with_its_conversion():
    ds = sk.datasets.local_signals(n_samples=1000, dim=7, symmetry="circulant", random_state=0)
    results = sk.baselines.compare(
        ds.X, ["lens", "liegan", "symgan"], truth=ds.generator, budget=0.5, random_state=0,
        settings={"lens": {"n_steps": 20, "warmup_steps": 2, "batch_size": 70}})
    assert [r.method for r in results] == ["lens", "liegan", "symgan"]
    for r in results:
        assert r.score == pytest.approx(sk.baselines.score(r.method, r.model, ds.generator))
        assert r.steps >= 1 and r.wall_s > 0 and "model" not in r.as_dict()
    assert results[0].score > 0.95  # the warm start alone is close, even from 1000 samples
    assert results[1].setting["coefficients"] == "integer"
    # the baselines stop at the budget (plus one step and the final scoring)
    assert results[2].wall_s < 5
    without_truth = sk.baselines.compare(ds.X, ["symgan"], budget=0.2)
    assert without_truth[0].score is None


@pytest.mark.parametrize(("methods", "budget", "match"), [(["gan"], 1.0, "unknown"),
                                                          ([], 1.0, "unknown"),
                                                          (["symgan"], 0.0, "budget")])
def test_compare_rejects_bad_requests(methods, budget, match):
    with pytest.raises(ValueError, match=match):
        sk.baselines.compare(np.ones((50, 3)), methods, budget=budget)


def test_max_time_stops_training():
    ds = sk.datasets.local_signals(n_samples=1000, dim=7, symmetry="circulant", random_state=0)
    model = SymmetryGAN(n_steps=10**9, max_time=0.3, progress="none", random_state=0).fit(ds.X)
    assert 1 <= model.n_steps_ < 10**9
    assert model.history_["step"][-1] == model.n_steps_ - 1
    with pytest.raises(ValueError, match="max_time"):
        SymmetryGAN(max_time=0).fit(ds.X)


@pytest.mark.parametrize("cls", [SymmetryGAN, LieGAN])
def test_a_non_finite_loss_stops_the_fit_with_its_step(cls, monkeypatch):
    import torch

    monkeypatch.setattr(cls, "_penalty", lambda self, x, gx: torch.tensor(float("nan")))
    X = sk.datasets.local_signals(n_samples=200, dim=5, random_state=0).X
    with pytest.raises(FloatingPointError, match="at step 0"):
        cls(n_steps=5, progress="none", random_state=0).fit(X)


def test_the_liegan_preset_is_the_setting_compare_runs():
    model = LieGAN.preset("discrete-shifts", random_state=1)
    assert model.get_params()["coefficients"] == "integer" and model.random_state == 1
    assert sk.baselines.DEFAULT_SETTINGS["liegan"] == LieGAN.presets()["discrete-shifts"]
