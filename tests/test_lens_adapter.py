"""SymmetryLens as the adapter between raw signals and a CNN: data, classifier, equivariance."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

import symmetrykit as sk
from symmetrykit.datasets import _ucr
from symmetrykit.testing import assert_lens_equivariant

needs_aeon = pytest.mark.skipif(importlib.util.find_spec("aeon") is None,
                                reason="the UCR sets ship with aeon (extra 'ucr')")


# ------------------------------------------------------------------------------ UCR data
@needs_aeon
def test_gunpoint_matches_the_archive_and_its_published_1nn_accuracy():
    data = sk.datasets.ucr("GunPoint")
    assert data.X_train.shape == (50, 149) and data.X_test.shape == (150, 149)
    assert set(data.classes) == {"1", "2"}
    np.testing.assert_allclose(data.X_train.mean(axis=1), 0.0, atol=1e-12)
    # The UCR archive's 1-NN Euclidean error on GunPoint is 0.087; cropping one sample and
    # centring each series leave it unchanged.
    knn = KNeighborsClassifier(1).fit(data.X_train, data.y_train)
    assert knn.score(data.X_test, data.y_test) == pytest.approx(1 - 0.087, abs=1e-3)


@needs_aeon
@pytest.mark.parametrize("view", ["permuted", "dst", "orthogonal"])
def test_a_view_is_an_orthogonal_scramble_of_the_raw_series_with_the_conjugated_shift(view):
    raw = sk.datasets.ucr("ItalyPowerDemand")
    seen = sk.datasets.ucr("ItalyPowerDemand", view=view, random_state=3)
    q = seen.transform
    np.testing.assert_allclose(q.T @ q, np.eye(raw.dim), atol=1e-12)
    np.testing.assert_allclose(seen.unscrambled(seen.X_test), raw.X_test, atol=1e-12)
    np.testing.assert_allclose(seen.generator, q @ sk.lie.shift(raw.dim) @ q.T, atol=1e-12)
    # The generator acts on the stored series as the time shift acts on the raw ones.
    np.testing.assert_allclose(seen.unscrambled(seen.X_train @ seen.generator.T),
                               raw.X_train @ sk.lie.shift(raw.dim).T, atol=1e-12)
    assert seen.as_dataset("train").generator is not None
    assert seen.as_dataset().n_samples == 67 + 1029


@needs_aeon
def test_downsampling_and_cropping_keep_the_centre():
    data = sk.datasets.ucr("OSULeaf", downsample=4, length=105)
    assert data.dim == 105 and data.params["start"] == 0
    assert data.params == {**data.params, "downsample": 4, "length": 105}


@needs_aeon
@pytest.mark.parametrize(("options", "message"), [
    ({"name": "NoSuchSet"}, "unknown UCR set 'NoSuchSet'"),
    ({"name": "GunPoint", "view": "fourier"}, "unknown view 'fourier'"),
    ({"name": "ItalyPowerDemand", "length": 24}, "length must be odd"),
    ({"name": "GunPoint", "length": 151}, "exceeds the 150 samples"),
    ({"name": "GunPoint", "length": 31}, "crop away more than half"),
    ({"name": "ItalyPowerDemand", "downsample": 12}, "leaves 2 samples"),
    ({"name": "GunPoint", "downsample": 0}, "downsample"),
])
def test_lengths_that_cannot_be_cropped_sensibly_are_refused(options, message):
    name = options.pop("name")
    with pytest.raises(ValueError, match=message):
        sk.datasets.ucr(name, **options)


def _write_set(folder, name, train_rows, test_rows):
    (folder / name).mkdir(parents=True)
    for split, rows in (("TRAIN", train_rows), ("TEST", test_rows)):
        text = "#made up\n@problemName x\n@data\n" + "\n".join(rows) + "\n"
        (folder / name / f"{name}_{split}.ts").write_text(text, encoding="utf-8")


@pytest.fixture
def fake_archive(tmp_path, monkeypatch):
    monkeypatch.setattr(_ucr, "_data_directory", lambda: tmp_path)
    monkeypatch.setitem(_ucr.UCR_NAMES, "ItalyPowerDemand", 5)
    _ucr._read_split.cache_clear()
    yield tmp_path
    _ucr._read_split.cache_clear()


def test_missing_values_in_a_series_are_refused(fake_archive):
    good = ["1,2,3,4,5:a", "2,3,4,5,1:b"]
    _write_set(fake_archive, "ItalyPowerDemand", good, ["1,?,3,4,5:a", "2,3,4,5,1:b"])
    with pytest.raises(ValueError, match="test split has 1 missing or non-finite values in 1"):
        sk.datasets.ucr("ItalyPowerDemand")


def test_a_split_with_one_class_is_refused(fake_archive):
    _write_set(fake_archive, "ItalyPowerDemand", ["1,2,3,4,5:a", "2,3,4,5,1:a"],
               ["1,2,3,4,5:a", "2,3,4,5,1:b"])
    with pytest.raises(ValueError, match="train split has a single class"):
        sk.datasets.ucr("ItalyPowerDemand")


def test_a_malformed_file_names_its_line(fake_archive):
    _write_set(fake_archive, "ItalyPowerDemand", ["1,2,3,4,5:a", "2,x,4,5,1:b"],
               ["1,2,3,4,5:a", "2,3,4,5,1:b"])
    with pytest.raises(ValueError, match="line 5: a value is not a number"):
        sk.datasets.ucr("ItalyPowerDemand")


def test_without_aeon_the_error_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "aeon" else real(name, *a))
    _ucr._read_split.cache_clear()
    with pytest.raises(ImportError, match=r"symmetrykit\[ucr\]"):
        sk.datasets.ucr("GunPoint")
    _ucr._read_split.cache_clear()


# ------------------------------------------------------------------------------ the CNN
def _bumps(n: int, dim: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class 0: one narrow bump, class 1: two, anywhere: a task for weight sharing."""
    grid = np.arange(dim)
    labels = rng.integers(0, 2, n)
    x = np.zeros((n, dim))
    for row, label in enumerate(labels):
        for centre in rng.choice(np.arange(4, dim - 4), size=label + 1, replace=False):
            x[row] += np.exp(-0.5 * ((grid - centre) / 1.2) ** 2)
    return x + 0.05 * rng.standard_normal(x.shape), labels


@pytest.mark.slow
def test_the_cnn_learns_a_shift_invariant_task():
    rng = np.random.default_rng(0)
    X, y = _bumps(128, 21, rng)
    X_test, y_test = _bumps(200, 21, rng)
    cnn = sk.lens.CNNClassifier(channels=(16, 16), kernel_sizes=(5, 3), n_epochs=30,
                                random_state=0, progress="none").fit(X, y)
    assert cnn.score(X_test, y_test) >= 0.9
    assert cnn.predict_proba(X_test).shape == (200, 2)
    np.testing.assert_allclose(cnn.predict_proba(X_test).sum(axis=1), 1.0, atol=1e-6)
    assert cnn.history_["loss"][-1] < cnn.history_["loss"][0]
    assert list(cnn.classes_) == [0, 1]


@pytest.mark.parametrize(("y", "message"), [
    (np.zeros(20, dtype=int), "single class"),
    (np.arange(19) % 2, r"y must have shape \(20,\)"),
    (np.where(np.arange(20) % 2, 1.0, np.nan), "NaN or inf labels"),
])
def test_bad_labels_are_refused(y, message):
    X = np.random.default_rng(0).standard_normal((20, 9))
    with pytest.raises(ValueError, match=message):
        sk.lens.CNNClassifier(n_epochs=1, progress="none").fit(X, y)


@pytest.mark.slow
def test_bad_series_are_refused_before_training():
    X = np.random.default_rng(0).standard_normal((20, 9))
    X[3, 4] = np.nan
    with pytest.raises(ValueError, match="1 NaN or inf"):
        sk.lens.CNNClassifier(n_epochs=1, progress="none").fit(X, np.arange(20) % 2)
    cnn = sk.lens.CNNClassifier(n_epochs=1, progress="none")
    with pytest.raises(ValueError, match="blocks"):
        cnn.set_params(channels=(4, 4)).fit(np.ones((4, 9)), [0, 1, 0, 1])
    fitted = sk.lens.CNNClassifier(n_epochs=1, progress="none", random_state=0).fit(
        np.random.default_rng(1).standard_normal((8, 9)), np.arange(8) % 2)
    with pytest.raises(ValueError, match="X has 7 features"):
        fitted.predict(np.zeros((2, 7)))


# ------------------------------------------------------------------------------ the adapter
@pytest.fixture(scope="module")
def permuted_lens():
    """A lens fitted on bumps seen through a fixed permutation, and held-out samples."""
    train = sk.datasets.local_signals(n_samples=2000, dim=15, symmetry="permuted",
                                      random_state=0)
    held_out = sk.datasets.local_signals(n_samples=500, dim=15, symmetry="permuted",
                                         random_state=1)
    lens = sk.SymmetryLens(init="warm", warm_bases=("coordinates",), n_steps=150,
                           random_state=0, progress="none")
    return lens.fit(train.X), held_out


@pytest.mark.slow
def test_the_lens_turns_the_hidden_action_into_a_shift_on_held_out_samples(permuted_lens):
    lens, held_out = permuted_lens
    check = assert_lens_equivariant(lens, held_out.X, held_out.generator, rtol=0.05)
    assert check.n_samples == 500 and check.edge == 2
    # A generator that is not the symmetry fails the same check.
    other = sk.lie.permutation_matrix(np.random.default_rng(5).permutation(15))
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_lens_equivariant(lens, held_out.X, other)


@pytest.mark.slow
def test_the_basis_representation_is_the_hidden_order_exactly(permuted_lens, tmp_path):
    lens, held_out = permuted_lens
    orbit = lens.transform(held_out.X)
    lens.set_params(representation="basis")  # no refit: only transform changes
    try:
        rows = lens.basis_
        np.testing.assert_allclose(rows @ rows.T, np.eye(15), atol=1e-12)
        # One ±1 per row and column: a signed permutation, so no component leaks.
        assert np.all(np.sort(np.abs(rows), axis=1)[:, -1] > 1 - 1e-12)
        check = assert_lens_equivariant(lens, held_out.X, held_out.generator, rtol=1e-10)
        assert check.relative_error < 1e-10
        np.testing.assert_allclose(lens.transform(held_out.X), held_out.X @ rows.T)
        loaded = sk.SymmetryLens.load(lens.save(tmp_path / "run"))
        np.testing.assert_array_equal(loaded.basis_, rows)
        assert loaded.representation == "basis"
    finally:
        lens.set_params(representation="orbit")
    np.testing.assert_array_equal(lens.transform(held_out.X), orbit)


def test_a_cyclic_order_is_cut_in_the_middle_of_its_calmest_stretch():
    from symmetrykit.lens import WarmStart
    from symmetrykit.lens._representation import ordered_basis

    dim = 21
    perm = np.random.default_rng(0).permutation(dim)
    basis = np.eye(dim)[:, perm]  # component n is coordinate perm[n]
    X = np.random.default_rng(1).standard_normal((400, dim))
    calm = perm[[(8 + k) % dim for k in range(-3, 3)]]  # six calm components around link 7|8
    X[:, calm] *= 0.01

    def start(cyclic):
        return WarmStart(basis=basis, filter=np.zeros(dim), padded_generator=np.eye(dim),
                         skew=np.zeros((dim, dim)), cyclic=cyclic, chain_similarity=1.0,
                         closure_similarity=1.0, iterations=0, converged=True,
                         source="coordinates")

    rows = ordered_basis(start(True), X, margin=3)
    first = [int(np.argmax(row)) for row in rows]
    assert first == [perm[(8 + n) % dim] for n in range(dim)]  # starts after link 7|8
    np.testing.assert_array_equal(ordered_basis(start(False), X), basis.T)  # a chain: kept


def test_the_basis_representation_is_refused_where_it_does_not_exist():
    X = np.random.default_rng(0).standard_normal((100, 5))
    with pytest.raises(ValueError, match="representation='basis'.*needs init='warm'"):
        sk.SymmetryLens(init="random", representation="basis", progress="none").fit(X)
    with pytest.raises(ValueError, match="representation"):
        sk.SymmetryLens(representation="pixels", progress="none").fit(X)
    lens = sk.SymmetryLens(n_steps=2, warmup_steps=0, batch_size=20, random_state=0,
                           progress="none").fit(X)
    lens.basis_ = None  # as after a kept random restart
    lens.set_params(representation="basis")
    with pytest.raises(ValueError, match="random restart"):
        lens.transform(X)


def test_equivariance_arguments_are_checked():
    class Identity:
        def transform(self, X):
            return X

    X = np.random.default_rng(0).standard_normal((10, 9))
    with pytest.raises(ValueError, match=r"action must have shape \(9, 9\)"):
        sk.lens.representation_equivariance(Identity(), X, np.eye(8))
    with pytest.raises(ValueError, match="edge must be in"):
        sk.lens.representation_equivariance(Identity(), X, np.eye(9), edge=5)
    # The identity representation is exactly equivariant under the cyclic shift.
    shift = sk.lie.shift(9, circulant=True)
    check = sk.lens.representation_equivariance(Identity(), X, shift, edge=1)
    assert check.relative_error < 1e-12 and check.direction == 1


@pytest.mark.slow
def test_a_pipeline_of_lens_and_cnn_classifies_scrambled_signals(permuted_lens):
    lens, _ = permuted_lens
    rng = np.random.default_rng(2)
    X, y = _bumps(200, 15, rng)
    X_test, y_test = _bumps(200, 15, rng)
    perm = sk.datasets.paper_permutation(15)
    scrambled, scrambled_test = np.empty_like(X), np.empty_like(X_test)
    scrambled[:, perm], scrambled_test[:, perm] = X, X_test  # as local_signals permutes
    from sklearn.frozen import FrozenEstimator

    pipeline = make_pipeline(FrozenEstimator(lens), sk.lens.CNNClassifier(
        channels=(16, 16), kernel_sizes=(5, 3), n_epochs=30, random_state=0, progress="none"))
    assert pipeline.fit(scrambled, y).score(scrambled_test, y_test) >= 0.9
    assert clone(make_pipeline(sk.SymmetryLens(), sk.lens.CNNClassifier())).steps


@pytest.mark.slow
@needs_aeon
def test_the_adapter_figure_titles_and_labels_every_panel():
    class Unscramble:  # a perfect lens for the view: the raw series
        def __init__(self, data):
            self.data = data

        def transform(self, X):
            return self.data.unscrambled(X)

    data = sk.datasets.ucr("ItalyPowerDemand", view="permuted", random_state=0)
    fig = sk.plot.lens_adapter(data, Unscramble(data), per_class=3)
    axes = fig.axes
    assert len(axes) == 3 and fig._suptitle.get_text().startswith("ItalyPowerDemand-permuted")
    assert all(ax.get_title() and ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    assert len(axes[0].lines) == 6 + 2  # 3 series per class, and the 2 legend handles
    np.testing.assert_allclose(axes[2].lines[0].get_ydata(), axes[0].lines[0].get_ydata())
    with pytest.raises(ValueError, match="per_class"):
        sk.plot.lens_adapter(data, Unscramble(data), per_class=0)
