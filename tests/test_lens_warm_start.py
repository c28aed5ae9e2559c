"""The closed-form SymmetryLens warm start: sparse rotation, seriation, padded generator."""

import numpy as np
import pytest
from scipy.linalg import expm

import symmetrykit as sk
from symmetrykit.lens import SymmetryLens, warm_start
from symmetrykit.lens._warm_start import seriate, sparse_rotation
from symmetrykit.lie import random_orthogonal, skew_logarithm

pytestmark = pytest.mark.usefixtures("single_thread")


def _signed_permutation_match(rotation: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """For each true column, the largest |cos| with any recovered column."""
    return np.abs(rotation.T @ truth).max(axis=0)


def test_sparse_rotation_recovers_the_basis_of_sparse_sources():
    rng = np.random.default_rng(0)
    dim = 8
    sources = rng.standard_normal((20_000, dim)) * (rng.random((20_000, dim)) < 0.1)
    q = random_orthogonal(dim, random_state=1)
    rotation, iterations, converged = sparse_rotation(sources @ q.T, np.random.default_rng(2))
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(dim), atol=1e-10)
    assert converged and iterations < 200
    assert _signed_permutation_match(rotation, q).min() > 0.99


@pytest.mark.parametrize("dim", [5, 12])
def test_seriate_recovers_a_shuffled_chain(dim):
    rng = np.random.default_rng(dim)
    position = np.arange(dim)
    similarity = np.exp(-np.abs(position[:, None] - position[None, :]).astype(float))
    np.fill_diagonal(similarity, 0.0)
    perm = rng.permutation(dim)
    shuffled = similarity[np.ix_(perm, perm)]
    order = seriate(shuffled)
    recovered = perm[order]
    assert list(recovered) in (list(position), list(position[::-1]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_skew_logarithm_inverts_expm(seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((9, 9))
    skew = 0.5 * (a - a.T)
    skew *= 3.0 / np.abs(np.linalg.eigvals(skew)).max()  # principal branch: |angles| < π
    log = skew_logarithm(expm(skew))
    np.testing.assert_allclose(log, skew, atol=1e-10)
    cycle = np.roll(np.eye(9), 1, axis=1)  # degenerate and exactly periodic cases
    np.testing.assert_allclose(expm(skew_logarithm(cycle)), cycle, atol=1e-12)
    padded = np.eye(15)
    padded[3:12, 3:12] = cycle
    np.testing.assert_allclose(expm(skew_logarithm(padded)), padded, atol=1e-12)
    with pytest.raises(ValueError, match="determinant"):
        skew_logarithm(np.diag([1.0, 1.0, -1.0]))


def test_seriate_small_inputs():
    assert seriate(np.zeros((1, 1))) == [0]
    assert seriate(np.zeros((2, 2))) == [0, 1]


@pytest.mark.parametrize("symmetry", ["translation", "permuted", "frequency"])
def test_warm_start_finds_the_shift_of_sparse_local_signals(symmetry):
    ds = sk.datasets.local_signals(n_samples=20_000, dim=9, symmetry=symmetry, random_state=0)
    padding = 9
    warm = warm_start(ds.X, padding, np.random.default_rng(0))
    size = 9 + 2 * padding
    g = warm.padded_generator
    np.testing.assert_allclose(g @ g.T, np.eye(size), atol=1e-12)
    np.testing.assert_allclose(expm(warm.skew), g, atol=1e-10)
    np.testing.assert_allclose(warm.skew, -warm.skew.T, atol=1e-14)
    crop = g[padding:padding + 9, padding:padding + 9]
    # The crop is the truncated shift in the learned basis.
    np.testing.assert_allclose(crop, warm.basis @ sk.lie.shift(9) @ warm.basis.T, atol=1e-12)
    assert not warm.cyclic and warm.converged
    assert sk.generator_similarity(crop, ds.generator) > 0.99
    np.testing.assert_array_equal(warm.filter, warm.basis[:, 4])


def test_warm_start_detects_a_cyclic_symmetry():
    ds = sk.datasets.local_signals(n_samples=20_000, dim=7, symmetry="circulant", random_state=0)
    warm = warm_start(ds.X, 7, np.random.default_rng(0))
    assert warm.cyclic
    assert warm.closure_similarity > 0.5 * warm.chain_similarity
    crop = warm.padded_generator[7:14, 7:14]
    np.testing.assert_allclose(crop @ crop.T, np.eye(7), atol=1e-12)  # a whole cyclic group
    assert sk.generator_similarity(crop, ds.generator) > 0.99


@pytest.mark.slow
def test_warm_started_fit_keeps_the_shift_and_a_delta_filter():
    ds = sk.datasets.local_signals(n_samples=5_000, dim=7, symmetry="permuted", random_state=1)
    lens = SymmetryLens(n_steps=60, warmup_steps=20, batch_size=700, progress="none",
                        random_state=0).fit(ds.X)
    assert lens.init == "warm" and lens.warm_start_ is not None
    assert sk.generator_similarity(lens.generator_, ds.generator) > 0.99
    assert sk.metrics.representation_similarity(lens.group_convolution_, ds.transform) > 0.95
    # A warm-started run is a refinement: the full rank from the first step, its own lr.
    assert set(lens.history_["tau"]) == {1.0}
    assert lens.history_["model_lr"][0] == pytest.approx(lens.warm_model_lr)


@pytest.mark.slow
def test_smooth_signals_are_warm_started_from_their_coordinates():
    ds = sk.datasets.local_signals(n_samples=20_000, dim=7, signal="legendre", random_state=0)
    params = {"n_steps": 5, "warmup_steps": 1, "batch_size": 140, "progress": "none",
              "random_state": 0}
    lens = SymmetryLens(warm_bases=("rotation", "coordinates"), **params).fit(ds.X)
    # The fourth-moment rotation does not converge on smooth data and is not used ...
    assert [w.source for w in lens.warm_starts_] == ["coordinates"]
    assert lens.warm_start_ is lens.warm_starts_[0] and lens.warm_start_.converged
    assert sk.generator_similarity(lens.generator_, ds.generator) > 0.99
    # ... and without the coordinates candidate the run starts at random, with the curriculum.
    lens = SymmetryLens(warm_bases=("rotation",), **params).fit(ds.X)
    assert lens.warm_starts_ == [] and lens.warm_start_ is None
    assert lens.history_["tau"][0] < 1.0


@pytest.mark.slow
@pytest.mark.parametrize("symmetry", ["translation", "permuted"])
def test_coordinates_candidate_orders_smooth_scrambled_pixels(symmetry):
    ds = sk.datasets.local_signals(n_samples=20_000, dim=9, signal="legendre",
                                   symmetry=symmetry, random_state=0)
    warm = warm_start(ds.X, 9, np.random.default_rng(0), basis="coordinates")
    assert warm.source == "coordinates" and warm.converged and warm.iterations == 0
    assert sorted(np.abs(warm.basis).argmax(axis=0)) == list(range(9))  # a signed permutation
    assert sk.generator_similarity(warm.padded_generator[9:18, 9:18], ds.generator) > 0.999
    # The fourth-moment rotation misses smooth pixels: its neighbours barely correlate.
    rotated = warm_start(ds.X, 9, np.random.default_rng(0))
    assert rotated.source == "rotation" and rotated.chain_similarity < 0.5 * warm.chain_similarity


@pytest.mark.slow
def test_frequency_candidate_recovers_smooth_signals_given_as_sine_coefficients():
    # Smooth (Legendre) bumps in the DST basis: neither the rotation nor the coordinates
    # candidate applies; reading the coordinates as sine coefficients, ordered by the
    # correlations of their magnitudes and signed to make the covariance Toeplitz, does.
    ds = sk.datasets.local_signals(n_samples=20_000, dim=33, signal="legendre",
                                   symmetry="frequency", random_state=1)
    warm = warm_start(ds.X, 16, np.random.default_rng(0), basis="frequency")
    assert warm.source == "frequency" and warm.converged
    assert sk.generator_similarity(warm.padded_generator[16:49, 16:49], ds.generator) > 0.95
    coordinates = warm_start(ds.X, 16, np.random.default_rng(0), basis="coordinates")
    assert abs(sk.generator_similarity(coordinates.padded_generator[16:49, 16:49],
                                       ds.generator)) < 0.2


@pytest.mark.slow
def test_frequency_order_and_signs_are_exact_for_stationary_sine_coefficients():
    from symmetrykit.lens._warm_start import frequency_rotation
    from symmetrykit.lie import dst1

    ds = sk.datasets.local_signals(n_samples=20_000, dim=33, signal="legendre",
                                   symmetry="translation", random_state=1)
    rng = np.random.default_rng(3)
    order, signs = rng.permutation(33), rng.choice([-1.0, 1.0], 33)
    coefficients = (ds.X @ dst1(33))[:, order] * signs  # hidden order and signs
    rotation, _, usable = frequency_rotation(coefficients, np.random.default_rng(0))
    assert usable
    pixels = coefficients @ rotation  # the signals back, up to reflection and overall sign
    match = np.abs(np.corrcoef(pixels.T, ds.X.T)[:33, 33:])
    assert np.all(match.max(axis=1) > 0.999)


def test_frequency_candidate_is_not_used_for_pixel_data():
    ds = sk.datasets.local_signals(n_samples=20_000, dim=33, signal="legendre",
                                   random_state=0)
    assert not warm_start(ds.X, 16, np.random.default_rng(0), basis="frequency").converged


def test_coordinates_candidate_handles_a_constant_coordinate():
    ds = sk.datasets.local_signals(n_samples=5_000, dim=7, signal="legendre", random_state=0)
    X = np.hstack([ds.X, np.zeros((5_000, 1))])
    warm = warm_start(X, 8, np.random.default_rng(0), basis="coordinates")
    assert np.all(np.isfinite(warm.skew)) and warm.basis.shape == (8, 8)
    with pytest.raises(ValueError, match="basis"):
        warm_start(X, 8, np.random.default_rng(0), basis="pixels")


def test_identical_warm_starts_are_refined_once():
    ds = sk.datasets.local_signals(n_samples=5_000, dim=7, symmetry="translation",
                                   random_state=0)
    lens = SymmetryLens(n_steps=5, warmup_steps=1, batch_size=700, progress="none",
                        random_state=0).fit(ds.X)
    # Sparse pixels: the rotation and the coordinates give the same shift.
    assert [w.source for w in lens.warm_starts_] == ["rotation"]
    assert len(lens.restart_losses_) == 1


def test_random_init_has_no_warm_start_and_warm_restarts_compete():
    ds = sk.datasets.local_signals(n_samples=2_000, dim=5, random_state=0)
    params = {"n_steps": 10, "warmup_steps": 2, "batch_size": 100, "progress": "none"}
    lens = SymmetryLens(init="random", random_state=0, **params).fit(ds.X)
    assert lens.warm_start_ is None and lens.restart_starts_ == ["random"]
    lens = SymmetryLens(n_restarts=2, random_state=0, **params).fit(ds.X)
    assert len(lens.restart_losses_) == 2
    assert lens.restart_starts_[0] == lens.warm_starts_[0].source
    assert len(lens.restart_starts_) == 2
    assert lens.best_restart_ == int(np.argmin(lens.restart_losses_))
    assert (lens.history_["tau"][0] == 1.0) == (lens.best_restart_ == 0)


@pytest.mark.parametrize(("params", "match"), [({"init": "pca"}, "init"),
                                               ({"warm_model_lr": 0.0}, "warm_model_lr"),
                                               ({"warm_bases": "rotation"}, "warm_bases"),
                                               ({"warm_bases": ()}, "warm_bases"),
                                               ({"warm_bases": ("pixels",)}, "warm_bases"),
                                               ({"warm_bases": ("rotation",) * 2},
                                                "warm_bases")])
def test_bad_init_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        SymmetryLens(**params).fit(np.ones((100, 5)) + np.arange(5))


def test_warm_start_survives_save_and_load(tmp_path):
    ds = sk.datasets.local_signals(n_samples=2_000, dim=5, random_state=0)
    lens = SymmetryLens(n_steps=5, warmup_steps=1, batch_size=100, progress="none",
                        random_state=0).fit(ds.X)
    loaded = SymmetryLens.load(lens.save(tmp_path / "run"))
    for key in ("basis", "filter", "padded_generator", "skew"):
        np.testing.assert_array_equal(getattr(loaded.warm_start_, key),
                                      getattr(lens.warm_start_, key))
    assert loaded.warm_start_.cyclic == lens.warm_start_.cyclic
    assert loaded.warm_start_.converged == lens.warm_start_.converged
    assert loaded.warm_start_.source == lens.warm_start_.source
    assert loaded.warm_starts_ == [loaded.warm_start_]
    random = SymmetryLens(init="random", n_steps=5, warmup_steps=1, batch_size=100,
                          progress="none", random_state=0).fit(ds.X)
    assert SymmetryLens.load(random.save(tmp_path / "random")).warm_start_ is None


def _even_data(dim: int, symmetry: str) -> tuple[np.ndarray, np.ndarray]:
    """Sparse bumps in an even dimension (the built-in sets are odd): samples, true generator."""
    rng = np.random.default_rng(0)
    if symmetry == "translation":
        X = sk.datasets.local_signals(n_samples=10_000, dim=dim + 1, random_state=0).X[:, :dim]
        return X, sk.lie.shift(dim)
    # Up to five narrow bumps per sample at uniform positions on the circle.
    centres = rng.uniform(0, dim, (10_000, 5, 1))
    distance = np.abs(np.arange(dim) - centres)
    distance = np.minimum(distance, dim - distance)
    amplitude = rng.uniform(0.5, 1.5, (10_000, 5, 1)) * (rng.random((10_000, 5, 1)) < 0.5)
    X = (amplitude * np.exp(-0.5 * distance**2 / 0.5**2)).sum(axis=1)
    return X + 0.05 * rng.standard_normal(X.shape), np.roll(np.eye(dim), 1, axis=1)


@pytest.mark.parametrize(("dim", "padding", "symmetry"),
                         [(8, 8, "translation"), (8, 3, "translation"), (6, 6, "circulant"),
                          (6, 0, "circulant")])
def test_warm_start_in_even_dimensions(dim, padding, symmetry):
    # Even cycles are odd permutations; the warm start must still be exp of a skew matrix.
    X, generator = _even_data(dim, symmetry)
    warm = warm_start(X, padding, np.random.default_rng(0))
    assert warm.cyclic == (symmetry == "circulant")
    np.testing.assert_allclose(expm(warm.skew), warm.padded_generator, atol=1e-10)
    crop = warm.padded_generator[padding:padding + dim, padding:padding + dim]
    if padding:
        assert sk.generator_similarity(crop, generator) > 0.97
    else:  # no room outside the window: the cycle's wrap-around entry carries the sign flip
        assert sk.generator_similarity(crop, generator) > (dim - 2) / dim - 0.03


def test_skew_logarithm_pairs_half_turns_and_refuses_reflections():
    half_turns = np.diag([-1.0, -1.0, 1.0])
    np.testing.assert_allclose(expm(skew_logarithm(half_turns)), half_turns, atol=1e-12)
    with pytest.raises(ValueError, match="determinant"):
        skew_logarithm(np.diag([-1.0, 1.0, 1.0]))
