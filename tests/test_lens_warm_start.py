"""The closed-form SymmetryLens warm start: sparse rotation, seriation, padded generator."""

import numpy as np
import pytest
from scipy.linalg import expm

import symmetrykit as sk
from symmetrykit.lens import SymmetryLens, warm_start
from symmetrykit.lens._warm_start import seriate, skew_logarithm, sparse_rotation
from symmetrykit.lie import random_orthogonal

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
    with pytest.raises(ValueError, match="−1"):
        skew_logarithm(np.diag([1.0, -1.0, -1.0]))


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


def test_an_unconverged_warm_start_is_not_used():
    ds = sk.datasets.local_signals(n_samples=20_000, dim=7, signal="legendre", random_state=0)
    lens = SymmetryLens(n_steps=5, warmup_steps=1, batch_size=140, progress="none",
                        random_state=0).fit(ds.X)
    assert not lens.warm_start_.converged  # smooth data: no sparse basis
    assert lens.history_["tau"][0] < 1.0  # the run started at random, with the curriculum


def test_random_init_has_no_warm_start_and_warm_restarts_compete():
    ds = sk.datasets.local_signals(n_samples=2_000, dim=5, random_state=0)
    params = {"n_steps": 10, "warmup_steps": 2, "batch_size": 100, "progress": "none"}
    lens = SymmetryLens(init="random", random_state=0, **params).fit(ds.X)
    assert lens.warm_start_ is None
    lens = SymmetryLens(n_restarts=2, random_state=0, **params).fit(ds.X)
    assert len(lens.restart_losses_) == 2
    assert lens.best_restart_ == int(np.argmin(lens.restart_losses_))
    assert (lens.history_["tau"][0] == 1.0) == (lens.best_restart_ == 0)


@pytest.mark.parametrize(("params", "match"), [({"init": "pca"}, "init"),
                                               ({"warm_model_lr": 0.0}, "warm_model_lr")])
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
    random = SymmetryLens(init="random", n_steps=5, warmup_steps=1, batch_size=100,
                          progress="none", random_state=0).fit(ds.X)
    assert SymmetryLens.load(random.save(tmp_path / "random")).warm_start_ is None
